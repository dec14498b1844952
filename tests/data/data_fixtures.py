"""Builders of tiny fixture files and a local HTTP server for the companion.data tests."""

from __future__ import annotations

import gzip
import hashlib
import http.server
import io
import os
import pathlib
import pickle
import tarfile
import threading
import zipfile

import numpy as np
from PIL import Image

LOCALHOST = "127.0.0.1"
REAL_DATA_DIR = os.environ.get("COMPANION_DATA_DIR", "")  # read before any fixture clears it



def idx_bytes(array: np.ndarray) -> bytes:
    """The IDX encoding of a uint8 array."""
    array = np.asarray(array, np.uint8)
    header = bytes([0, 0, 0x08, array.ndim]) + b"".join(d.to_bytes(4, "big") for d in array.shape)
    return header + array.tobytes()


def write_idx_pair(folder: pathlib.Path, images: np.ndarray, labels: np.ndarray, *, prefix="train",
                   compress=True) -> tuple[pathlib.Path, pathlib.Path]:
    """Write ``<prefix>-images-idx3-ubyte.gz`` and ``<prefix>-labels-idx1-ubyte.gz``."""
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for kind, array, dims in (("images", images, 3), ("labels", labels, 1)):
        name = f"{prefix}-{kind}-idx{dims}-ubyte" + (".gz" if compress else "")
        data = idx_bytes(array)
        (folder / name).write_bytes(gzip.compress(data, mtime=0) if compress else data)
        paths.append(folder / name)
    return paths[0], paths[1]


def tiny_mnist(n: int = 6, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    return rng.integers(0, 256, (n, 28, 28), dtype=np.uint8), rng.integers(0, 10, n).astype(np.uint8)


def cifar_batch(n: int = 3, seed: int = 0) -> tuple[bytes, np.ndarray, np.ndarray]:
    """A pickled CIFAR-10 batch like the canonical ones; returns (bytes, images NHWC, labels)."""
    rng = np.random.default_rng(seed)
    data = rng.integers(0, 256, (n, 3072), dtype=np.uint8)
    labels = rng.integers(0, 10, n).tolist()
    batch = {b"batch_label": b"fixture", b"labels": labels, b"data": data,
             b"filenames": [f"{i}.png".encode() for i in range(n)]}
    images = data.reshape(n, 3, 32, 32).transpose(0, 2, 3, 1)
    return pickle.dumps(batch, protocol=3), images, np.array(labels, np.int32)


def add_tar_member(archive: tarfile.TarFile, name: str, data: bytes) -> None:
    member = tarfile.TarInfo(name)
    member.size = len(data)
    archive.addfile(member, io.BytesIO(data))


def write_cifar_tar(path: pathlib.Path, *, n: int = 3, extra=()) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """A tiny ``cifar-10-python.tar.gz``; ``extra`` adds (name, bytes) members."""
    path.parent.mkdir(parents=True, exist_ok=True)
    expected = {}
    with tarfile.open(path, "w:gz") as archive:
        for seed, batch in enumerate([*(f"data_batch_{i}" for i in range(1, 6)), "test_batch"]):
            data, images, labels = cifar_batch(n, seed)
            add_tar_member(archive, f"cifar-10-batches-py/{batch}", data)
            expected[batch] = (images, labels)
        for name, data in extra:
            add_tar_member(archive, name, data)
    return expected


def image_bytes(shape=(8, 8, 3), *, fmt="PNG", seed=0) -> bytes:
    rng = np.random.default_rng(seed)
    pixels = rng.integers(0, 256, shape, dtype=np.uint8)
    image = Image.fromarray(pixels[..., 0] if shape[-1] == 1 else pixels)
    buffer = io.BytesIO()
    image.save(buffer, format=fmt)
    return buffer.getvalue()


def write_tree(root: pathlib.Path, files: dict[str, bytes]) -> pathlib.Path:
    for rel, data in files.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_bytes(data)
    return root


def write_zip(path: pathlib.Path, files: dict[str, bytes]) -> pathlib.Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(path, "w") as archive:
        for rel, data in files.items():
            archive.writestr(rel, data)
    return path


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def md5(data: bytes) -> str:
    return hashlib.md5(data).hexdigest()





class _Handler(http.server.BaseHTTPRequestHandler):
    routes: dict  # path -> bytes, or ("truncate", bytes), or ("status", code)
    requests: list

    def do_GET(self):
        self.requests.append(self.path)
        route = self.routes.get(self.path, ("status", 404))
        if isinstance(route, tuple) and route[0] == "status":
            self.send_error(route[1])
            return
        truncate = isinstance(route, tuple) and route[0] == "truncate"
        body = route[1] if truncate else route
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body[: len(body) // 2] if truncate else body)
        if truncate:
            self.close_connection = True

    def log_message(self, *args):  # keep test output quiet
        pass


class LocalServer:
    """An HTTP server on 127.0.0.1 serving ``routes`` (path -> body or behaviour)."""

    def __init__(self):
        handler = type("Handler", (_Handler,), {"routes": {}, "requests": []})
        self.handler = handler
        self.server = http.server.ThreadingHTTPServer((LOCALHOST, 0), handler)
        self.thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.02},
                                       daemon=True)

    @property
    def routes(self) -> dict:
        return self.handler.routes

    @property
    def requests(self) -> list:
        return self.handler.requests

    def url(self, path: str) -> str:
        return f"http://{LOCALHOST}:{self.server.server_address[1]}{path}"
