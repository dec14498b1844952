import builtins
import io
import pickle
import tarfile

import numpy as np
import pytest
from data_fixtures import add_tar_member, cifar_batch, write_cifar_tar

from companion.data.cifar import RestrictedUnpickler, load_cifar10_batches, load_cifar10_tar, parse_batch
from companion.data.errors import UnsafeArchiveError

CLASSES = tuple(f"c{k}" for k in range(10))


class _RunsCode:
    """Unpickling this calls ``exec`` with a payload that writes ``marker``."""

    def __init__(self, marker):
        self.marker = str(marker)

    def __reduce__(self):
        return builtins.exec, (f"open({self.marker!r}, 'w').write('pwned')",)


def test_tar_train_and_test_splits(tmp_path):
    expected = write_cifar_tar(tmp_path / "cifar-10-python.tar.gz", n=3)
    train = load_cifar10_tar(tmp_path / "cifar-10-python.tar.gz", "train", classes=CLASSES, name="c/train")
    test = load_cifar10_tar(tmp_path / "cifar-10-python.tar.gz", "test", classes=CLASSES, name="c/test")
    assert train.images.shape == (15, 32, 32, 3) and train.images.dtype == np.uint8
    assert test.labels.dtype == np.int32 and len(test) == 3
    np.testing.assert_array_equal(train.images[3:6], expected["data_batch_2"][0])
    np.testing.assert_array_equal(test.labels, expected["test_batch"][1])


def test_extracted_batches_folder(tmp_path):
    folder = tmp_path / "cifar-10-batches-py"
    folder.mkdir()
    data, images, labels = cifar_batch(4)
    (folder / "test_batch").write_bytes(data)
    ds = load_cifar10_batches(folder, "test", classes=CLASSES, name="c/test")
    np.testing.assert_array_equal(ds.images, images)
    np.testing.assert_array_equal(ds.labels, labels)


@pytest.mark.parametrize("member", ["../escaped", "cifar-10-batches-py/../../escaped", "/tmp/absolute"])
def test_tar_member_that_escapes_is_refused(tmp_path, member):
    path = tmp_path / "cifar-10-python.tar.gz"
    write_cifar_tar(path, extra=[(member, b"x")])
    with pytest.raises(UnsafeArchiveError, match="escapes the archive's folder"):
        load_cifar10_tar(path, "test", classes=CLASSES, name="c")
    assert not (tmp_path.parent / "escaped").exists()


def test_tar_symlink_member_is_refused(tmp_path):
    path = tmp_path / "cifar-10-python.tar.gz"
    with tarfile.open(path, "w:gz") as archive:
        link = tarfile.TarInfo("cifar-10-batches-py/test_batch")
        link.type, link.linkname = tarfile.SYMTYPE, "/etc/passwd"
        archive.addfile(link)
    with pytest.raises(UnsafeArchiveError, match="is a link or device"):
        load_cifar10_tar(path, "test", classes=CLASSES, name="c")


def test_truncated_tar_is_a_clear_error(tmp_path):
    path = tmp_path / "cifar-10-python.tar.gz"
    write_cifar_tar(path)
    path.write_bytes(path.read_bytes()[:200])
    with pytest.raises(ValueError, match=r"cifar-10-python\.tar\.gz: truncated or corrupt archive"):
        load_cifar10_tar(path, "train", classes=CLASSES, name="c")


def test_pickle_that_would_run_code_is_refused_and_does_not_run(tmp_path):
    marker = tmp_path / "marker"
    payload = pickle.dumps({b"data": _RunsCode(marker), b"labels": [0]}, protocol=3)
    # the payload is live: a plain pickle.loads runs it
    pickle.loads(payload)
    assert marker.read_text() == "pwned"
    marker.unlink()
    path = tmp_path / "cifar-10-python.tar.gz"
    with tarfile.open(path, "w:gz") as archive:
        add_tar_member(archive, "cifar-10-batches-py/test_batch", payload)
    with pytest.raises(UnsafeArchiveError, match=r"names the global builtins\.exec"):
        load_cifar10_tar(path, "test", classes=CLASSES, name="c")
    assert not marker.exists()


@pytest.mark.parametrize("module, name", [
    ("os", "system"), ("builtins", "eval"), ("subprocess", "Popen"), ("numpy", "load"),
    ("_codecs", "encode"), ("numpy.lib.npyio", "NpzFile"),
])
def test_any_global_beyond_the_format_is_refused(module, name):
    crafted = f"c{module}\n{name}\n.".encode()  # protocol 0: GLOBAL then STOP
    with pytest.raises(UnsafeArchiveError, match=f"names the global {module}.{name}"):
        RestrictedUnpickler(io.BytesIO(crafted), source="crafted").load()


def test_the_globals_the_format_needs_are_admitted():
    data, images, labels = cifar_batch(2)
    parsed_images, parsed_labels = parse_batch(data)
    np.testing.assert_array_equal(parsed_images, images)
    np.testing.assert_array_equal(parsed_labels, labels)


def test_batch_with_wrong_shapes_is_refused():
    batch = {b"data": np.zeros((2, 100), np.uint8), b"labels": [0, 1]}
    with pytest.raises(ValueError, match=r"data must be uint8 of shape \(N, 3072\); got uint8\[2, 100\]"):
        parse_batch(pickle.dumps(batch, protocol=3))
    batch = {b"data": np.zeros((2, 3072), np.uint8), b"labels": [0]}
    with pytest.raises(ValueError, match="2 images but labels of shape"):
        parse_batch(pickle.dumps(batch, protocol=3))
