"""MNIST and Fashion-MNIST: the IDX file format, gzipped or not.

An IDX file starts with a 4-byte magic number: two zero bytes, a type code (``0x08`` for
unsigned bytes) and the number of dimensions ``d``. Then come ``d`` big-endian 32-bit sizes, and
the data in C order. Image files are ``uint8`` of shape ``(N, 28, 28)`` (magic ``2051``), label
files ``uint8`` of shape ``(N,)`` (magic ``2049``).
"""

from __future__ import annotations

import gzip
import hashlib
import os
import pathlib
import zlib

import numpy as np

from companion.data.dataset import Dataset
from companion.data.errors import ChecksumError

__all__ = ["IMAGES_MAGIC", "LABELS_MAGIC", "load_idx_pair", "parse_idx", "read_idx"]

IMAGES_MAGIC = 0x0803  # uint8, 3 dimensions
LABELS_MAGIC = 0x0801  # uint8, 1 dimension
_GZIP_MAGIC = b"\x1f\x8b"
_HEADER_BYTES = 4
_SIZE_BYTES = 4
_IDX_TYPES = {
    0x08: np.dtype(np.uint8),
    0x09: np.dtype(np.int8),
    0x0B: np.dtype(">i2"),
    0x0C: np.dtype(">i4"),
    0x0D: np.dtype(">f4"),
    0x0E: np.dtype(">f8"),
}


def parse_idx(data: bytes, *, source: str = "<bytes>", magic: int | None = None) -> np.ndarray:
    """Parse the (decompressed) bytes of an IDX file.

    Args:
        data: the whole file content.
        source: a name for error messages, e.g. the file name.
        magic: the magic number the file must start with (e.g. :data:`IMAGES_MAGIC`), or
            ``None`` to accept any valid IDX type.

    Returns:
        The array, in native byte order, of the shape the header declares.

    Raises:
        ValueError: the magic number is wrong, or the data is shorter or longer than the
            header declares.

    Example:
        >>> parse_idx(bytes([0, 0, 8, 1, 0, 0, 0, 2, 7, 9]), magic=LABELS_MAGIC)
        array([7, 9], dtype=uint8)
    """
    if len(data) < _HEADER_BYTES:
        raise ValueError(f"{source}: {len(data)} bytes is too short for an IDX header")
    found = int.from_bytes(data[:_HEADER_BYTES], "big")
    type_code, ndim = data[2], data[3]
    if data[:2] != b"\x00\x00" or type_code not in _IDX_TYPES or (magic is not None and found != magic):
        wanted = f"0x{magic:08x}" if magic is not None else "0x0000TTDD with a known type TT"
        raise ValueError(f"{source}: wrong IDX magic number 0x{found:08x}; expected {wanted}")
    header = _HEADER_BYTES + _SIZE_BYTES * ndim
    if len(data) < header:
        raise ValueError(f"{source}: truncated IDX header ({len(data)} bytes, need {header})")
    shape = tuple(
        int.from_bytes(data[_HEADER_BYTES + _SIZE_BYTES * i: _HEADER_BYTES + _SIZE_BYTES * (i + 1)], "big")
        for i in range(ndim)
    )
    dtype = _IDX_TYPES[type_code]
    expected = header + int(np.prod(shape, dtype=np.int64)) * dtype.itemsize
    if len(data) != expected:
        raise ValueError(
            f"{source}: header declares shape {shape} ({expected} bytes in all), "
            f"but the file has {len(data)} bytes; it is truncated or corrupt"
        )
    array = np.frombuffer(data, dtype=dtype, offset=header).reshape(shape)
    return array.astype(dtype.newbyteorder("="))  # a writable copy in native byte order


def read_idx(
    path: str | os.PathLike, *, magic: int | None = None, sha256: str | None = None
) -> np.ndarray:
    """Read an IDX file, gzipped (detected from its first bytes) or not.

    Args:
        path: the file, e.g. ``train-images-idx3-ubyte.gz``.
        magic: the magic number the file must carry, or ``None``.
        sha256: the expected SHA-256 of the decompressed content, or ``None`` to skip the check.

    Returns:
        The array the file holds.

    Raises:
        ValueError: the gzip stream is truncated or corrupt, or the IDX content is invalid.
        ChecksumError: the decompressed content does not match ``sha256``.

    Example:
        >>> read_idx("t10k-labels-idx1-ubyte.gz", magic=LABELS_MAGIC).shape  # doctest: +SKIP
        (10000,)
    """
    path = pathlib.Path(path)
    data = path.read_bytes()
    if data[:2] == _GZIP_MAGIC:
        try:
            data = gzip.decompress(data)
        except (EOFError, OSError, zlib.error) as error:
            raise ValueError(f"{path.name}: truncated or corrupt gzip file ({error})") from error
    if sha256 is not None and (actual := hashlib.sha256(data).hexdigest()) != sha256:
        raise ChecksumError(
            f"{path}: decompressed content has SHA-256 {actual}, expected {sha256}; the file is "
            "not the published one. Delete it (or fix the copy) and load again."
        )
    return parse_idx(data, source=path.name, magic=magic)


def load_idx_pair(
    images_path: str | os.PathLike,
    labels_path: str | os.PathLike,
    *,
    classes: tuple[str, ...],
    name: str,
    images_sha256: str | None = None,
    labels_sha256: str | None = None,
) -> Dataset:
    """Read an IDX image file and its label file into a :class:`Dataset`.

    Args:
        images_path: the ``*-images-idx3-ubyte[.gz]`` file, ``uint8`` of shape ``(N, H, W)``.
        labels_path: the ``*-labels-idx1-ubyte[.gz]`` file, ``uint8`` of shape ``(N,)``.
        classes: the class names.
        name: the dataset's name, e.g. ``"mnist/train"``.
        images_sha256: expected SHA-256 of the decompressed image file, or ``None``.
        labels_sha256: expected SHA-256 of the decompressed label file, or ``None``.

    Returns:
        A Dataset with ``uint8`` images ``(N, H, W, 1)`` and ``int32`` labels ``(N,)``.

    Raises:
        ValueError: a file is invalid, or the image and label counts disagree.

    Example:
        >>> ds = load_idx_pair("train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz",
        ...                    classes=tuple("0123456789"), name="mnist/train")  # doctest: +SKIP
    """
    images = read_idx(images_path, magic=IMAGES_MAGIC, sha256=images_sha256)
    labels = read_idx(labels_path, magic=LABELS_MAGIC, sha256=labels_sha256)
    if images.shape[0] != labels.shape[0]:
        raise ValueError(
            f"{pathlib.Path(images_path).name} holds {images.shape[0]} images but "
            f"{pathlib.Path(labels_path).name} holds {labels.shape[0]} labels; they must agree"
        )
    return Dataset(images[..., np.newaxis], labels.astype(np.int32), classes, name)
