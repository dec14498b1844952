"""Pretrained weights downloads, tested against a local HTTP server on 127.0.0.1 (never the network)."""

import functools
import http.server
import re
import threading
import typing

import numpy as np
import pytest
from flax import nnx
from safetensors.numpy import save_file

from companion.data import ChecksumError
from companion.transfer import (
    WEIGHTS,
    WEIGHTS_DIR_VARIABLE,
    PretrainedWeights,
    WeightsNotFoundError,
    pretrained_resnet,
    sha256sum,
    weights_file,
)


class CountingHandler(http.server.SimpleHTTPRequestHandler):
    requests: typing.ClassVar[list[str]] = []

    def do_GET(self):
        CountingHandler.requests.append(self.path)
        super().do_GET()

    def log_message(self, *args):
        pass


@pytest.fixture
def server(tmp_path):
    root = tmp_path / "served"
    root.mkdir()
    CountingHandler.requests = []
    handler = functools.partial(CountingHandler, directory=str(root))
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield root, f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()


@pytest.fixture(autouse=True)
def private_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.delenv(WEIGHTS_DIR_VARIABLE, raising=False)
    return tmp_path / "cache" / "companion" / "weights"


def served_weights(server, *, sha256=None) -> PretrainedWeights:
    root, url = server
    save_file({"fc.weight": np.arange(6, dtype=np.float32).reshape(2, 3)}, str(root / "tiny.safetensors"))
    return PretrainedWeights(
        name="tiny", architecture="resnet18", filename="tiny.safetensors", urls=(f"{url}/tiny.safetensors",),
        sha256=sha256 or sha256sum(root / "tiny.safetensors"), size=(root / "tiny.safetensors").stat().st_size,
        licence="test", source="made by the test", imagenet_top1=0.0,
    )


def test_download_verifies_and_caches(server, private_cache):
    info = served_weights(server)
    path = weights_file(info, progress=False)
    assert path == private_cache / "tiny.safetensors"
    assert sha256sum(path) == info.sha256
    assert CountingHandler.requests == ["/tiny.safetensors"]
    assert weights_file(info, progress=False) == path
    assert len(CountingHandler.requests) == 1, "a verified cached copy must not be downloaded again"
    leftovers = sorted(p.name for p in private_cache.iterdir() if p.suffix != ".lock")
    assert leftovers == ["tiny.safetensors"], "no temporary or unverified file may stay behind"


def test_a_corrupt_download_is_discarded(server, private_cache):
    info = served_weights(server, sha256="0" * 64)
    with pytest.raises(ChecksumError, match="discarded"):
        weights_file(info, progress=False)
    assert not (private_cache / "tiny.safetensors").exists()
    assert not (private_cache / "tiny.safetensors.unverified").exists()


def test_a_corrupt_cached_copy_is_replaced(server, private_cache):
    info = served_weights(server)
    private_cache.mkdir(parents=True)
    (private_cache / "tiny.safetensors").write_bytes(b"truncated")
    assert sha256sum(weights_file(info, progress=False)) == info.sha256


def test_a_local_folder_is_used_first_and_never_repaired(server, tmp_path, monkeypatch):
    info = served_weights(server)
    folder = tmp_path / "mine"
    folder.mkdir()
    (folder / "tiny.safetensors").write_bytes((server[0] / "tiny.safetensors").read_bytes())
    assert weights_file(info, weights_dir=folder) == folder / "tiny.safetensors"
    monkeypatch.setenv(WEIGHTS_DIR_VARIABLE, str(folder))
    assert weights_file(info) == folder / "tiny.safetensors"
    assert CountingHandler.requests == []
    (folder / "tiny.safetensors").write_bytes(b"corrupt")
    with pytest.raises(ChecksumError, match="replace it with a fresh copy"):
        weights_file(info)


def test_offline_error_says_what_to_download_and_where(server, private_cache):
    info = served_weights(server)
    with pytest.raises(WeightsNotFoundError) as error:
        weights_file(info, download=False)
    message = str(error.value)
    assert info.urls[0] in message and info.sha256 in message
    assert "tiny.safetensors" in message and str(private_cache) in message and WEIGHTS_DIR_VARIABLE in message


def test_unreachable_file_gives_the_same_instructions(server):
    info = served_weights(server)
    missing = PretrainedWeights(**{**info.__dict__, "urls": (info.urls[0].replace("tiny", "absent"),)})
    with pytest.raises(WeightsNotFoundError, match=r"HTTP 404(.|\n)*Download"):
        weights_file(missing, progress=False)


def test_pretrained_resnet_offline_fails_before_building_anything():
    with pytest.raises(WeightsNotFoundError, match=r"resnet18\.tv_in1k\.safetensors"):
        pretrained_resnet("resnet18", download=False, rngs=nnx.Rngs(0))
    with pytest.raises(ValueError, match="weights must be one of"):
        weights_file("resnet34")


@pytest.mark.parametrize("name", sorted(WEIGHTS))
def test_registry_entries_are_pinned(name):
    info = WEIGHTS[name]
    assert re.fullmatch(r"[0-9a-f]{64}", info.sha256)
    assert re.fullmatch(r"https://huggingface\.co/timm/\w+\.tv_in1k/resolve/[0-9a-f]{40}/model\.safetensors",
                        info.urls[0])
    assert info.architecture == name and "BSD-3-Clause" in info.licence
