import gzip

import numpy as np
import pytest
from data_fixtures import idx_bytes, sha256, tiny_mnist, write_idx_pair

from companion.data.errors import ChecksumError
from companion.data.idx import IMAGES_MAGIC, LABELS_MAGIC, load_idx_pair, parse_idx, read_idx


def test_parse_idx_reads_shape_and_values():
    array = np.arange(24, dtype=np.uint8).reshape(2, 3, 4)
    parsed = parse_idx(idx_bytes(array), magic=IMAGES_MAGIC)
    np.testing.assert_array_equal(parsed, array)
    assert parsed.dtype == np.uint8 and parsed.flags.writeable


def test_big_endian_int_types_are_converted_to_native():
    data = bytes([0, 0, 0x0C, 1, 0, 0, 0, 2]) + np.array([1, -2], ">i4").tobytes()
    parsed = parse_idx(data)
    np.testing.assert_array_equal(parsed, [1, -2])
    assert parsed.dtype == np.dtype("int32")


@pytest.mark.parametrize("compress", [True, False])
def test_load_idx_pair_gives_nhwc_uint8_and_int32(tmp_path, compress):
    images, labels = tiny_mnist(5)
    paths = write_idx_pair(tmp_path, images, labels, compress=compress)
    ds = load_idx_pair(*paths, classes=tuple("0123456789"), name="toy")
    assert ds.images.shape == (5, 28, 28, 1) and ds.images.dtype == np.uint8
    assert ds.labels.dtype == np.int32
    np.testing.assert_array_equal(ds.images[..., 0], images)
    np.testing.assert_array_equal(ds.labels, labels)


def test_truncated_gz_is_a_clear_error(tmp_path):
    images, labels = tiny_mnist(5)
    image_path, _ = write_idx_pair(tmp_path, images, labels)
    data = image_path.read_bytes()
    image_path.write_bytes(data[: len(data) // 2])
    with pytest.raises(ValueError, match=r"train-images-idx3-ubyte\.gz: truncated or corrupt gzip"):
        read_idx(image_path, magic=IMAGES_MAGIC)


def test_wrong_magic_number_is_refused(tmp_path):
    images, labels = tiny_mnist(2)
    _, label_path = write_idx_pair(tmp_path, images, labels)
    # a label file where an image file belongs: magic 0x00000801 instead of 0x00000803
    with pytest.raises(ValueError, match="wrong IDX magic number 0x00000801; expected 0x00000803"):
        read_idx(label_path, magic=IMAGES_MAGIC)
    garbage = tmp_path / "garbage"
    garbage.write_bytes(b"\x12\x34\x08\x01" + bytes(8))
    with pytest.raises(ValueError, match="wrong IDX magic number 0x12340801"):
        read_idx(garbage, magic=LABELS_MAGIC)


def test_image_and_label_counts_that_disagree_are_refused(tmp_path):
    images, _ = tiny_mnist(5)
    write_idx_pair(tmp_path, images, np.zeros(4, np.uint8))
    with pytest.raises(ValueError, match=r"holds 5 images but train-labels-idx1-ubyte\.gz holds 4 labels"):
        load_idx_pair(tmp_path / "train-images-idx3-ubyte.gz", tmp_path / "train-labels-idx1-ubyte.gz",
                      classes=tuple("0123456789"), name="toy")


def test_data_shorter_than_the_header_declares_is_refused():
    data = idx_bytes(np.zeros((3, 4), np.uint8))
    with pytest.raises(ValueError, match=r"declares shape \(3, 4\).*truncated or corrupt"):
        parse_idx(data[:-1])


def test_checksum_of_the_decompressed_content_is_verified(tmp_path):
    labels = np.arange(7, dtype=np.uint8)
    path = tmp_path / "labels.gz"
    path.write_bytes(gzip.compress(idx_bytes(labels)))
    np.testing.assert_array_equal(read_idx(path, sha256=sha256(idx_bytes(labels))), labels)
    with pytest.raises(ChecksumError, match="not the published one"):
        read_idx(path, sha256="0" * 64)
