"""prepare and batch_to_float: the checks that run before any tracing."""

import jax.numpy as jnp
import numpy as np
import pytest

from companion.data import Dataset
from companion.train.inputs import batch_to_float, prepare


def test_dataset_stays_uint8_on_the_device_and_pairs_become_float32():
    pixels = np.full((3, 4, 4, 1), 255, np.uint8)
    labels = np.array([0, 1, 1], np.int32)
    from_dataset = prepare(Dataset(pixels, labels, ("a", "b"), "toy"), name="train", num_classes=2)
    assert from_dataset.images.dtype == jnp.uint8 and len(from_dataset) == 3
    from_pair = prepare((pixels / np.float64(255), labels.astype(np.int64)), name="train")
    assert from_pair.images.dtype == jnp.float32 and from_pair.labels.dtype == jnp.int32


def test_batch_to_float_scales_uint8_only():
    assert float(batch_to_float(jnp.full((1, 1, 1, 1), 255, jnp.uint8)).max()) == 1.0
    halves = jnp.full((1, 1, 1, 1), 0.5, jnp.float32)
    np.testing.assert_array_equal(batch_to_float(halves), halves)


@pytest.mark.parametrize(
    ("data", "options", "error", "match"),
    [
        ("images", {}, TypeError, r"Dataset or an \(images, labels\) pair"),
        ((np.zeros((2, 4, 4), np.float32), np.zeros(2, np.int32)), {}, ValueError, r"\(N, H, W, C\)"),
        ((np.zeros((2, 4, 4, 1), np.float32), np.zeros(2, np.float32)), {}, TypeError, "integer"),
        ((np.zeros((2, 4, 4, 1), np.int32), np.zeros(2, np.int32)), {}, TypeError, "float32"),
        ((np.zeros((2, 4, 4, 1), np.float32), np.array([0, -1])), {}, ValueError, r"\[-1, 0\]"),
        ((np.zeros((0, 4, 4, 1), np.float32), np.zeros(0, np.int32)), {}, ValueError, "no examples"),
        ((np.zeros((2, 4, 4, 1), np.float32), np.zeros(2, np.int32)), {"image_shape": (5, 5, 1)},
         ValueError, r"\(N, 5, 5, 1\)"),
    ],
)
def test_prepare_names_the_problem(data, options, error, match):
    with pytest.raises(error, match=match):
        prepare(data, name="train", **options)
