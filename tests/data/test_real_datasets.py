"""The loaders on the real offline copies (``COMPANION_DATA_DIR``, e.g. ``../shared/datasets``).

Each test parses a full split from scratch (the cache is in tmp_path), so they are few.
"""

import numpy as np
import pytest
from data_fixtures import REAL_DATA_DIR

from companion.data import load, sources

DATA = sources.resolve_relative(REAL_DATA_DIR) if REAL_DATA_DIR else None
needs = {
    "mnist": "mnist/t10k-images-idx3-ubyte.gz",
    "fashion_mnist": "fashion-mnist/t10k-images-idx3-ubyte.gz",
    "cifar10": "cifar10-jpeg.zip",
}


def _skip_unless_present(name):
    if DATA is None:
        pytest.skip("COMPANION_DATA_DIR is not set; point it at the offline copies (../shared/datasets)")
    if not (DATA / needs[name]).is_file():
        pytest.skip(f"{DATA / needs[name]} is absent; the offline copy of {name} is needed")


@pytest.mark.parametrize("name, split, shape", [
    ("mnist", "train", (60_000, 28, 28, 1)),
    ("mnist", "test", (10_000, 28, 28, 1)),
    ("fashion_mnist", "test", (10_000, 28, 28, 1)),
    ("cifar10", "test", (10_000, 32, 32, 3)),
])
def test_offline_copies_load_with_the_right_shapes_and_dtypes(monkeypatch, name, split, shape):
    _skip_unless_present(name)
    monkeypatch.setenv("COMPANION_DATA_DIR", str(DATA))
    monkeypatch.setenv("COMPANION_OFFLINE", "1")
    ds = load(name, split)
    assert ds.images.shape == shape and ds.images.dtype == np.uint8
    assert ds.labels.shape == shape[:1] and ds.labels.dtype == np.int32
    assert len(ds.classes) == 10 and ds.name == f"{name}/{split}"
    counts = np.bincount(ds.labels, minlength=10)
    assert counts.min() > 0.08 * len(ds)  # all ten classes are well represented
