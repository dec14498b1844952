import pytest

from companion.data import sources


def test_search_roots_follow_the_data_policy(tmp_path, monkeypatch):
    monkeypatch.setenv("COMPANION_DATA_DIR", str(tmp_path / "env"))
    roots = sources.search_roots(tmp_path / "arg")
    assert [label for label, _ in roots] == ["data_dir argument", "$COMPANION_DATA_DIR", "user cache",
                                             "Debian datasets"]
    assert roots[0][1] == tmp_path / "arg" and roots[1][1] == tmp_path / "env"
    monkeypatch.delenv("COMPANION_DATA_DIR")
    assert [label for label, _ in sources.search_roots()] == ["user cache", "Debian datasets"]


@pytest.mark.parametrize("value, expected", [("1", True), ("yes", True), ("", False), ("0", False),
                                             ("false", False)])
def test_offline_variable(monkeypatch, value, expected):
    monkeypatch.setenv("COMPANION_OFFLINE", value)
    assert sources.offline() is expected


def test_every_dataset_is_described():
    for name, info in sources.DATASETS.items():
        assert info.name == name and len(info.classes) == 10 and info.licence and info.citation
        assert set(info.files) == {"train", "test"} and info.mirrors
        assert all(len(f.md5) == 32 for files in info.files.values() for f in files)
    assert len(sources.info("mnist").mirrors) > 1 and len(sources.info("fashion_mnist").mirrors) > 1


def test_unknown_dataset_is_a_clear_error():
    with pytest.raises(ValueError, match="name must be one of 'mnist', 'fashion_mnist', 'cifar10'; got 'x'"):
        sources.info("x")


def test_relative_data_dir_is_also_resolved_against_parent_folders(tmp_path, monkeypatch):
    (tmp_path / "shared" / "datasets").mkdir(parents=True)
    nested = tmp_path / "repo" / "book" / "part"
    nested.mkdir(parents=True)
    monkeypatch.chdir(nested)  # as a notebook in book/<part>/ runs
    monkeypatch.setenv("COMPANION_DATA_DIR", "../shared/datasets")
    assert sources.search_roots()[0][1] == tmp_path / "repo" / ".." / "shared" / "datasets"
    assert sources.resolve_relative("no/such/folder") == sources.pathlib.Path("no/such/folder")
