import warnings

import numpy as np
import pytest
from data_fixtures import image_bytes, write_tree, write_zip

from companion.data import load_image_folder
from companion.data.errors import UnsafeArchiveError


def _files(shape=(8, 8, 3), fmt="PNG", suffix="png"):
    return {
        f"dog/{i}.{suffix}": image_bytes(shape, fmt=fmt, seed=i) for i in range(2)
    } | {f"cat/{i}.{suffix}": image_bytes(shape, fmt=fmt, seed=10 + i) for i in range(3)}


def test_folder_classes_are_sorted_and_labels_follow_them(tmp_path):
    ds = load_image_folder(write_tree(tmp_path / "pets", _files()))
    assert ds.classes == ("cat", "dog")
    np.testing.assert_array_equal(ds.labels, [0, 0, 0, 1, 1])
    assert ds.images.shape == (5, 8, 8, 3) and ds.images.dtype == np.uint8
    assert ds.labels.dtype == np.int32
    import io

    from PIL import Image
    first = np.asarray(Image.open(io.BytesIO(image_bytes((8, 8, 3), seed=10))))
    np.testing.assert_array_equal(ds.images[0], first)


def test_zip_and_folder_give_the_same_dataset(tmp_path):
    files = _files()
    from_folder = load_image_folder(write_tree(tmp_path / "tree", files))
    from_zip = load_image_folder(write_zip(tmp_path / "tree.zip", files))
    np.testing.assert_array_equal(from_folder.images, from_zip.images)
    np.testing.assert_array_equal(from_folder.labels, from_zip.labels)


def test_split_folder_inside_a_zip(tmp_path):
    files = {f"train/{k}": v for k, v in _files().items()}
    files |= {"test/cat/0.png": image_bytes(seed=1), "test/dog/0.png": image_bytes(seed=2)}
    archive = write_zip(tmp_path / "x.zip", files)
    train, test = load_image_folder(archive / "train"), load_image_folder(f"{archive}/test")
    assert (len(train), len(test)) == (5, 2)
    assert train.name == "x.zip/train"
    with pytest.raises(FileNotFoundError, match="holds no folder 'valid'"):
        load_image_folder(archive / "valid")


def test_grey_stays_one_channel_and_jpeg_is_read(tmp_path):
    ds = load_image_folder(write_tree(tmp_path / "g", _files((8, 8, 1), fmt="JPEG", suffix="JPG")))
    assert ds.images.shape == (5, 8, 8, 1)


def test_mixed_grey_and_rgb_are_promoted_to_rgb(tmp_path):
    files = {"a/grey.png": image_bytes((8, 8, 1), seed=1), "b/rgb.png": image_bytes((8, 8, 3), seed=2)}
    ds = load_image_folder(write_tree(tmp_path / "m", files))
    assert ds.images.shape == (2, 8, 8, 3)
    assert (ds.images[0, ..., 0] == ds.images[0, ..., 2]).all()


def test_mixed_sizes_are_an_error_unless_resize_is_asked_for(tmp_path):
    files = {"a/small.png": image_bytes((8, 8, 3)), "b/large.png": image_bytes((8, 12, 3))}
    root = write_tree(tmp_path / "sizes", files)
    with pytest.raises(ValueError, match=r"images differ in size: .*a/small.png is 8x8 but .*b/large.png "
                                         r"is 8x12.*resize=\(height, width\)"):
        load_image_folder(root)
    ds = load_image_folder(root, resize=(6, 10))
    assert ds.images.shape == (2, 6, 10, 3)
    with pytest.raises(ValueError, match="resize must be None or"):
        load_image_folder(root, resize=(6,))


def test_non_images_are_skipped_with_one_warning_that_counts_them(tmp_path):
    files = _files() | {"README.txt": b"hi", "cat/notes.txt": b"x", "dog/.DS_Store": b"x",
                        "cat/deeper/x.png": image_bytes()}
    with pytest.warns(UserWarning, match=r"skipped 4 file\(s\) that are not png/jpg/jpeg") as record:
        ds = load_image_folder(write_tree(tmp_path / "mixed", files))
    assert len(record) == 1 and len(ds) == 5


def test_no_warning_when_every_file_is_an_image(tmp_path):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        load_image_folder(write_tree(tmp_path / "clean", _files()))


@pytest.mark.parametrize("member", ["cat/../../escaped.png", "/abs/escaped.png", "..\\escaped.png",
                                    "C:/escaped.png"])
def test_zip_member_that_escapes_its_folder_is_refused(tmp_path, member):
    archive = write_zip(tmp_path / "evil.zip", _files() | {member: image_bytes()})
    with pytest.raises(UnsafeArchiveError, match="escapes the archive's folder"):
        load_image_folder(archive)


def test_symlink_leaving_the_folder_is_refused(tmp_path):
    root = write_tree(tmp_path / "links", _files())
    outside = tmp_path / "outside.png"
    outside.write_bytes(image_bytes())
    (root / "cat" / "link.png").symlink_to(outside)
    with pytest.raises(UnsafeArchiveError, match="is a link that leaves"):
        load_image_folder(root)


def test_corrupt_jpeg_error_names_the_file(tmp_path):
    good = image_bytes(fmt="JPEG")
    files = _files(fmt="JPEG", suffix="jpg") | {"dog/broken.jpg": good[: len(good) // 2]}
    with pytest.raises(ValueError, match=r"cannot decode image .*dog/broken\.jpg"):
        load_image_folder(write_zip(tmp_path / "c.zip", files))
    files["dog/broken.jpg"] = b"not a jpeg at all"
    with pytest.raises(ValueError, match=r"cannot decode image .*dog/broken\.jpg"):
        load_image_folder(write_tree(tmp_path / "c", files))


def test_empty_or_missing_paths_are_clear_errors(tmp_path):
    (tmp_path / "empty").mkdir()
    with pytest.raises(ValueError, match="no png/jpg/jpeg images"):
        load_image_folder(tmp_path / "empty")
    with pytest.raises(FileNotFoundError, match=r"must be an existing folder or \.zip"):
        load_image_folder(tmp_path / "missing")
