import numpy as np
import pytest

from companion.data.cache import cache_root, cached_dataset, file_lock
from companion.data.dataset import Dataset


def _toy(value=1):
    return Dataset(np.full((3, 2, 2, 1), value, np.uint8), np.array([0, 1, 0], np.int32), ("a", "b"), "toy")


def test_cache_root_follows_xdg_cache_home(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "x"))
    assert cache_root() == tmp_path / "x" / "companion"
    monkeypatch.delenv("XDG_CACHE_HOME")
    assert cache_root().parts[-2:] == (".cache", "companion")


def test_a_hit_returns_the_same_arrays_without_building(tmp_path):
    source = tmp_path / "s"
    source.write_bytes(b"1")
    built = cached_dataset("toy", [source], _toy)
    again = cached_dataset("toy", [source], lambda: pytest.fail("built twice"))
    np.testing.assert_array_equal(again.images, built.images)
    assert again.classes == ("a", "b") and again.name == "toy" and again.labels.dtype == np.int32


def test_a_folder_source_is_keyed_to_the_files_in_it(tmp_path):
    folder = tmp_path / "tree"
    (folder / "a").mkdir(parents=True)
    (folder / "a" / "1.png").write_bytes(b"1")
    cached_dataset("tree", [folder], _toy)
    (folder / "a" / "2.png").write_bytes(b"2")
    assert cached_dataset("tree", [folder], lambda: _toy(9)).images[0, 0, 0, 0] == 9


def test_a_corrupt_entry_is_rebuilt(tmp_path):
    source = tmp_path / "s"
    source.write_bytes(b"1")
    cached_dataset("toy", [source], _toy)
    (entry,) = (cache_root() / "parsed").glob("toy-*.npz")
    entry.write_bytes(b"garbage")
    with pytest.warns(UserWarning, match="ignoring unreadable cache entry"):
        rebuilt = cached_dataset("toy", [source], lambda: _toy(5))
    assert rebuilt.images[0, 0, 0, 0] == 5


def test_bad_keys_are_refused(tmp_path):
    with pytest.raises(ValueError, match="key must be letters"):
        cached_dataset("../x", [tmp_path], _toy)


def test_file_lock_creates_its_folder(tmp_path):
    with file_lock(tmp_path / "deep" / "x.lock"):
        assert (tmp_path / "deep").is_dir()
