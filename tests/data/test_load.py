import dataclasses
import gzip
import importlib
import os
import pathlib
import subprocess
import sys
import textwrap

import numpy as np
import pytest
from data_fixtures import idx_bytes, image_bytes, md5, sha256, tiny_mnist, write_cifar_tar, write_zip

from companion.data import DatasetNotFoundError, DownloadError, load, sources
from companion.data.cache import cache_root
from companion.data.errors import ChecksumError
from companion.data.sources import RemoteFile

load_module = importlib.import_module("companion.data.load")  # the package re-exports the function

IDX_NAMES = {
    "train": ("train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz"),
    "test": ("t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"),
}


@pytest.fixture
def fixture_mnist(monkeypatch, server):
    """Tiny MNIST files, registered with their checksums, served at server.url('/mirror/')."""
    files, registry = {}, {}
    for seed, (split, names) in enumerate(IDX_NAMES.items()):
        images, labels = tiny_mnist(4 + seed, seed)
        remote = []
        for name, array in zip(names, (images, labels), strict=True):
            raw = idx_bytes(array)
            files[name] = gzip.compress(raw, mtime=0)
            remote.append(RemoteFile(name, md5(files[name]), sha256(raw)))
            server.routes[f"/mirror/{name}"] = files[name]
        registry[split] = (tuple(remote), images, labels)
    info = dataclasses.replace(sources.DATASETS["mnist"], mirrors=(server.url("/mirror/"),),
                               files={split: entry[0] for split, entry in registry.items()})
    monkeypatch.setitem(sources.DATASETS, "mnist", info)
    return files, registry


def _write(folder: pathlib.Path, files: dict[str, bytes]) -> pathlib.Path:
    folder.mkdir(parents=True, exist_ok=True)
    for name, data in files.items():
        (folder / name).write_bytes(data)
    return folder


def test_load_reads_a_data_dir_and_writes_nothing_there(fixture_mnist, tmp_path):
    files, registry = fixture_mnist
    data_dir = _write(tmp_path / "data" / "mnist", files).parent
    before = sorted(p.relative_to(data_dir) for p in data_dir.rglob("*"))
    ds = load("mnist", "test", data_dir=data_dir, download=False)
    assert ds.name == "mnist/test" and ds.images.shape == (5, 28, 28, 1) and ds.images.dtype == np.uint8
    assert ds.labels.dtype == np.int32 and ds.classes == tuple(str(d) for d in range(10))
    np.testing.assert_array_equal(ds.images[..., 0], registry["test"][1])
    assert sorted(p.relative_to(data_dir) for p in data_dir.rglob("*")) == before
    assert list((cache_root() / "parsed").glob("mnist-test-*.npz"))


def test_lookup_order_data_dir_then_env_then_cache_then_debian(fixture_mnist, tmp_path, monkeypatch):
    files, _ = fixture_mnist
    places = {label: _write(tmp_path / label, files) for label in ("arg", "env", "debian")}
    _write(cache_root() / "mnist", files)
    monkeypatch.setenv("COMPANION_DATA_DIR", str(places["env"]))
    monkeypatch.setattr(sources, "SYSTEM_DATA_ROOT", places["debian"])
    found = [load_module._find_local(sources.info("mnist"), "train", places["arg"])[0]]
    found.append(load_module._find_local(sources.info("mnist"), "train", None)[0])
    monkeypatch.delenv("COMPANION_DATA_DIR")
    found.append(load_module._find_local(sources.info("mnist"), "train", None)[0])
    for name in files:
        (cache_root() / "mnist" / name).unlink()
    found.append(load_module._find_local(sources.info("mnist"), "train", None)[0])
    parents = [source.paths[0].parent for source in found]
    assert parents == [places["arg"], places["env"], cache_root() / "mnist", places["debian"]]


def test_debian_folder_name_is_found(tmp_path, monkeypatch):
    images, labels = tiny_mnist(3)
    root = tmp_path / "usr-share"
    folder = _write(root / "fashion-mnist", {"t10k-images-idx3-ubyte.gz": gzip.compress(idx_bytes(images)),
                                             "t10k-labels-idx1-ubyte.gz": gzip.compress(idx_bytes(labels))})
    monkeypatch.setattr(sources, "SYSTEM_DATA_ROOT", root)
    source, _ = load_module._find_local(sources.info("fashion_mnist"), "test", None)
    assert source.paths[0].parent == folder
    with pytest.raises(ChecksumError, match="not the published one"):  # not the real content
        load("fashion_mnist", "test", download=False)


def test_offline_error_lists_places_files_and_how_to_provide_them(tmp_path, monkeypatch, isolated_data_env):
    monkeypatch.setenv("COMPANION_DATA_DIR", str(tmp_path / "shared"))
    with pytest.raises(DatasetNotFoundError) as error:
        load("mnist", data_dir=tmp_path / "mine", download=False)
    message = str(error.value)
    for expected in ("No local copy of MNIST", "download=False", "data_dir argument:",
                     str(tmp_path / "mine"), "$COMPANION_DATA_DIR:", "user cache:", str(cache_root()),
                     "Debian datasets:", "train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz",
                     "set $COMPANION_DATA_DIR", "(does not exist)"):
        assert expected in message, expected
    assert isolated_data_env == []  # no URL was opened


def test_companion_offline_never_touches_the_network(fixture_mnist, monkeypatch, isolated_data_env):
    monkeypatch.setenv("COMPANION_OFFLINE", "1")
    with pytest.raises(DatasetNotFoundError, match=r"\$COMPANION_OFFLINE=1"):
        load("mnist", "test")  # download=True, but offline wins
    assert isolated_data_env == []


def test_download_when_no_copy_is_found_then_cache(fixture_mnist, server, monkeypatch):
    _, registry = fixture_mnist
    ds = load("mnist", "train")
    np.testing.assert_array_equal(ds.labels, registry["train"][2])
    assert sorted(server.requests) == sorted(f"/mirror/{n}" for n in IDX_NAMES["train"])
    assert (cache_root() / "mnist" / "train-images-idx3-ubyte.gz").is_file()
    calls = []
    monkeypatch.setattr(load_module, "load_idx_pair", lambda *a, **k: calls.append(a))
    again = load("mnist", "train")  # from the parsed cache: neither downloaded nor parsed
    assert calls == [] and len(server.requests) == 2
    np.testing.assert_array_equal(again.images, ds.images)


def test_failed_download_names_mirrors_and_places(fixture_mnist, server):
    server.routes.clear()
    with pytest.raises(DownloadError) as error:
        load("mnist", "test")
    assert "HTTP 404" in str(error.value) and "No local copy was found either" in str(error.value)


def test_changed_source_is_not_served_from_a_stale_cache(fixture_mnist, tmp_path, monkeypatch):
    files, registry = fixture_mnist
    folder = _write(tmp_path / "d", files)
    first = load("mnist", "test", data_dir=folder, download=False)
    images = registry["test"][1].copy()
    images[0] = 255 - images[0]
    raw = idx_bytes(images)
    (folder / "t10k-images-idx3-ubyte.gz").write_bytes(gzip.compress(raw))
    os.utime(folder / "t10k-images-idx3-ubyte.gz", ns=(1, 1))
    info = sources.DATASETS["mnist"]
    test_files = (dataclasses.replace(info.files["test"][0], content_sha256=sha256(raw)), info.files["test"][1])
    monkeypatch.setitem(sources.DATASETS, "mnist", dataclasses.replace(info, files={**info.files, "test": test_files}))
    second = load("mnist", "test", data_dir=folder, download=False)
    np.testing.assert_array_equal(second.images[0, ..., 0], 255 - first.images[0, ..., 0])
    assert len(list((cache_root() / "parsed").glob("mnist-test-*.npz"))) == 1  # the stale entry is gone


def test_cifar10_from_the_canonical_tarball(tmp_path, monkeypatch):
    path = tmp_path / "cifar10" / "cifar-10-python.tar.gz"
    expected = write_cifar_tar(path, n=2)
    info = sources.DATASETS["cifar10"]
    tar = RemoteFile("cifar-10-python.tar.gz", md5(path.read_bytes()))
    monkeypatch.setitem(sources.DATASETS, "cifar10",
                        dataclasses.replace(info, files={"train": (tar,), "test": (tar,)}))
    ds = load("cifar10", "test", data_dir=tmp_path, download=False)
    assert ds.images.shape == (2, 32, 32, 3) and ds.classes[0] == "airplane"
    np.testing.assert_array_equal(ds.labels, expected["test_batch"][1])


def test_cifar10_tarball_with_a_wrong_md5_is_refused(tmp_path):
    write_cifar_tar(tmp_path / "cifar-10-python.tar.gz", n=2)
    with pytest.raises(ChecksumError, match="expected c58f30108f718f92721af3b95e74349a"):
        load("cifar10", "test", data_dir=tmp_path, download=False)


def test_cifar10_from_an_image_zip_maps_classes_canonically(tmp_path):
    classes = sources.info("cifar10").classes
    files = {f"test/{c}/0.jpg": image_bytes((32, 32, 3), fmt="JPEG", seed=k) for k, c in enumerate(classes)}
    write_zip(tmp_path / "cifar10-jpeg.zip", files)
    with pytest.warns(UserWarning, match="10 images, but CIFAR-10's test split has 10000"):
        ds = load("cifar10", "test", data_dir=tmp_path, download=False)
    assert ds.name == "cifar10/test" and ds.classes == classes and ds.images.shape == (10, 32, 32, 3)
    np.testing.assert_array_equal(ds.labels, np.arange(10))


def test_image_folder_with_other_classes_is_refused(tmp_path):
    files = {f"test/{c}/0.png": image_bytes((32, 32, 3)) for c in sources.info("cifar10").classes}
    files["test/unicorn/0.png"] = image_bytes((32, 32, 3))
    for rel, data in files.items():
        (tmp_path / "cifar10" / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / "cifar10" / rel).write_bytes(data)
    with pytest.raises(ValueError, match="are not CIFAR-10's classes"):
        load("cifar10", "test", data_dir=tmp_path, download=False)


@pytest.mark.parametrize("name, split, message", [
    ("imagenet", "train", "name must be one of 'mnist', 'fashion_mnist', 'cifar10'; got 'imagenet'"),
    ("mnist", "valid", "split must be one of 'train', 'test'; got 'valid'"),
])
def test_unknown_names_and_splits_are_clear_errors(name, split, message):
    with pytest.raises(ValueError, match=message):
        load(name, split, download=False)


_CONCURRENT = textwrap.dedent("""
    import sys, time, numpy as np
    from companion.data.cache import cached_dataset
    from companion.data.dataset import Dataset

    def build():
        with open(sys.argv[2], "a") as log:
            log.write("built\\n")
        time.sleep(0.5)
        return Dataset(np.full((64, 8, 8, 1), 7, np.uint8), np.zeros(64, np.int32), ("a",), "toy")

    print(int(cached_dataset("toy", [sys.argv[1]], build).images.sum()))
""")


def test_concurrent_loads_in_two_processes_build_the_cache_once(tmp_path):
    source, log = tmp_path / "source.bin", tmp_path / "log.txt"
    source.write_bytes(b"x")
    env = {**os.environ, "XDG_CACHE_HOME": os.environ["XDG_CACHE_HOME"], "JAX_PLATFORMS": "cpu"}
    command = [sys.executable, "-c", _CONCURRENT, str(source), str(log)]
    runs = [subprocess.Popen(command, env=env, stdout=subprocess.PIPE, text=True) for _ in range(2)]
    outputs = [run.communicate(timeout=120)[0].strip() for run in runs]
    assert [run.returncode for run in runs] == [0, 0]
    assert outputs == [str(64 * 8 * 8 * 7)] * 2
    assert log.read_text() == "built\n"
    assert len(list((cache_root() / "parsed").glob("toy-*.npz"))) == 1
