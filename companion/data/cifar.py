"""CIFAR-10 in its canonical form: pickled batches inside ``cifar-10-python.tar.gz``.

The archive holds ``cifar-10-batches-py/data_batch_1`` ... ``data_batch_5`` (10,000 training
images each) and ``test_batch``. Each batch is a pickled dictionary with ``b"data"``, a ``uint8``
array of shape ``(10000, 3072)`` (the red, green and blue planes of a 32x32 image, one row per
image), and ``b"labels"``, a list of class ids.

Both the archive and the pickles are untrusted input. Members are read in memory, never
extracted, and an archive with a member whose path is absolute, contains ``..``, or is a link or
device is refused as a whole. The pickles go through :class:`RestrictedUnpickler`, which admits
only the three NumPy globals an array needs; ``pickle.load`` would run any code a crafted
file names.
"""

from __future__ import annotations

import io
import os
import pathlib
import pickle
import tarfile
import zlib
from collections.abc import Iterable

import numpy as np

from companion.data.dataset import Dataset
from companion.data.errors import UnsafeArchiveError

__all__ = [
    "BATCH_FOLDER",
    "RestrictedUnpickler",
    "check_member_name",
    "load_cifar10_batches",
    "load_cifar10_tar",
    "parse_batch",
]

BATCH_FOLDER = "cifar-10-batches-py"
SPLIT_BATCHES = {"train": tuple(f"data_batch_{i}" for i in range(1, 6)), "test": ("test_batch",)}
SIDE = 32
CHANNELS = 3
_PIXELS = SIDE * SIDE * CHANNELS


def _reconstruct():
    try:
        from numpy._core.multiarray import _reconstruct
    except ImportError:  # NumPy 1.x
        from numpy.core.multiarray import _reconstruct
    return _reconstruct


class RestrictedUnpickler(pickle.Unpickler):
    """An unpickler that admits only the globals a pickled NumPy array needs.

    A pickle is a small program: its ``GLOBAL`` opcodes import any callable (``os.system``,
    ``builtins.eval``) and its ``REDUCE`` opcodes call them. CIFAR-10's batches need exactly
    three globals, ``numpy.core.multiarray._reconstruct`` (spelled ``numpy._core`` by NumPy 2),
    ``numpy.ndarray`` and ``numpy.dtype``; everything else, including ``persistent_load``, raises
    :class:`UnsafeArchiveError` before anything is called.

    Args:
        file: a binary file object holding the pickle.
        source: a name for error messages.

    Example:
        >>> import pickle
        >>> data = pickle.dumps({b"labels": [1, 2]}, protocol=3)
        >>> RestrictedUnpickler(io.BytesIO(data), source="x").load()
        {b'labels': [1, 2]}
    """

    ALLOWED = frozenset({
        ("numpy.core.multiarray", "_reconstruct"),
        ("numpy._core.multiarray", "_reconstruct"),
        ("numpy", "ndarray"),
        ("numpy", "dtype"),
    })

    def __init__(self, file, *, source: str = "<pickle>") -> None:
        super().__init__(file, encoding="bytes")
        self.source = source

    def find_class(self, module: str, name: str):
        """Return an allowed global, or refuse.

        Args:
            module: the module the pickle names.
            name: the attribute of that module.

        Returns:
            The NumPy object, for the three allowed names.

        Raises:
            UnsafeArchiveError: for any other global.

        Example:
            >>> RestrictedUnpickler(io.BytesIO(b""), source="x").find_class("numpy", "dtype")
            <class 'numpy.dtype'>
        """
        if (module, name) not in self.ALLOWED:
            allowed = ", ".join(sorted(f"{m}.{n}" for m, n in self.ALLOWED))
            raise UnsafeArchiveError(
                f"{self.source}: the pickle names the global {module}.{name}, which CIFAR-10's "
                f"format does not need; refused (allowed: {allowed})"
            )
        if name == "_reconstruct":
            return _reconstruct()
        return np.ndarray if name == "ndarray" else np.dtype

    def persistent_load(self, pid):
        """Refuse persistent ids, which the format never uses.

        Args:
            pid: the persistent id in the pickle.

        Raises:
            UnsafeArchiveError: always.

        Example:
            >>> RestrictedUnpickler(io.BytesIO(b""), source="x").persistent_load("id")
            Traceback (most recent call last):
            ...
            companion.data.errors.UnsafeArchiveError: x: the pickle uses a persistent id; refused
        """
        raise UnsafeArchiveError(f"{self.source}: the pickle uses a persistent id; refused")


def _get(batch: dict, key: str):
    for candidate in (key.encode(), key):
        if candidate in batch:
            return batch[candidate]
    raise ValueError(f"has no {key!r} entry")


def parse_batch(data: bytes, *, source: str = "<batch>") -> tuple[np.ndarray, np.ndarray]:
    """Unpickle one CIFAR-10 batch safely and return its images and labels.

    Args:
        data: the bytes of ``data_batch_k`` or ``test_batch``.
        source: a name for error messages.

    Returns:
        ``(images, labels)``: ``uint8`` of shape ``(N, 32, 32, 3)`` and ``int32`` of shape ``(N,)``.

    Raises:
        UnsafeArchiveError: the pickle names a global beyond what the format needs.
        ValueError: the batch is corrupt or its arrays have the wrong shape or dtype.

    Example:
        >>> import pickle
        >>> batch = {b"data": np.zeros((2, 3072), np.uint8), b"labels": [3, 5]}
        >>> images, labels = parse_batch(pickle.dumps(batch, protocol=3))
        >>> images.shape, labels.tolist()
        ((2, 32, 32, 3), [3, 5])
    """
    try:
        batch = RestrictedUnpickler(io.BytesIO(data), source=source).load()
    except UnsafeArchiveError:
        raise
    except Exception as error:  # any unpickling failure of a corrupt file
        raise ValueError(f"{source}: not a valid CIFAR-10 batch ({type(error).__name__}: {error})") from error
    if not isinstance(batch, dict):
        raise ValueError(f"{source}: expected a pickled dict, got {type(batch).__name__}")
    try:
        pixels, labels = _get(batch, "data"), _get(batch, "labels")
    except ValueError as error:
        raise ValueError(f"{source}: {error}") from None
    if not isinstance(pixels, np.ndarray) or pixels.dtype != np.uint8 or pixels.ndim != 2 or (
        pixels.shape[1] != _PIXELS
    ):
        described = (f"{pixels.dtype}{list(pixels.shape)}" if isinstance(pixels, np.ndarray)
                     else type(pixels).__name__)
        raise ValueError(f"{source}: data must be uint8 of shape (N, {_PIXELS}); got {described}")
    labels = np.asarray(labels)
    if labels.shape != (pixels.shape[0],) or not np.issubdtype(labels.dtype, np.integer):
        raise ValueError(
            f"{source}: {pixels.shape[0]} images but labels of shape {labels.shape} "
            f"and dtype {labels.dtype}; they must agree"
        )
    images = pixels.reshape(-1, CHANNELS, SIDE, SIDE).transpose(0, 2, 3, 1)
    return np.ascontiguousarray(images), labels.astype(np.int32)


def check_member_name(name: str, *, archive: str) -> None:
    """Refuse an archive member path that is absolute or climbs out with ``..``.

    Args:
        name: the member's path as stored in the archive.
        archive: the archive's name, for the message.

    Raises:
        UnsafeArchiveError: the path is absolute (``/x``, ``C:x``, ``\\\\x``) or has a ``..`` part.

    Example:
        >>> check_member_name("cifar-10-batches-py/test_batch", archive="a.tar.gz")
        >>> check_member_name("../evil", archive="a.tar.gz")
        Traceback (most recent call last):
        ...
        companion.data.errors.UnsafeArchiveError: a.tar.gz: member '../evil' escapes the archive's folder; refused
    """
    normalised = name.replace("\\", "/")
    parts = normalised.split("/")
    drive = len(normalised) > 1 and normalised[1] == ":"
    if normalised.startswith("/") or drive or ".." in parts:
        raise UnsafeArchiveError(f"{archive}: member {name!r} escapes the archive's folder; refused")


def _assemble(batches: Iterable[tuple[np.ndarray, np.ndarray]], *, classes, name, source) -> Dataset:
    parts = list(batches)
    if not parts:
        raise ValueError(f"{source}: no batches found")
    images = np.concatenate([p[0] for p in parts])
    labels = np.concatenate([p[1] for p in parts])
    if labels.size and (labels.min() < 0 or labels.max() >= len(classes)):
        raise ValueError(f"{source}: labels outside [0, {len(classes)}): [{labels.min()}, {labels.max()}]")
    return Dataset(images, labels, tuple(classes), name)


def load_cifar10_tar(
    path: str | os.PathLike, split: str, *, classes: tuple[str, ...], name: str
) -> Dataset:
    """Read a split of CIFAR-10 from ``cifar-10-python.tar.gz`` without extracting anything.

    Args:
        path: the archive.
        split: ``"train"`` (five batches) or ``"test"``.
        classes: the class names.
        name: the dataset's name, e.g. ``"cifar10/train"``.

    Returns:
        A Dataset with ``uint8`` images ``(N, 32, 32, 3)`` and ``int32`` labels ``(N,)``.

    Raises:
        UnsafeArchiveError: a member escapes the archive's folder or is a link or device, or a
            batch names a forbidden pickle global.
        ValueError: the archive is truncated or corrupt, or a batch is missing.

    Example:
        >>> ds = load_cifar10_tar("cifar-10-python.tar.gz", "test", classes=tuple("abcdefghij"),
        ...                       name="cifar10/test")  # doctest: +SKIP
    """
    path = pathlib.Path(path)
    wanted = {f"{BATCH_FOLDER}/{batch}": batch for batch in SPLIT_BATCHES[split]}
    found: dict[str, tuple[np.ndarray, np.ndarray]] = {}
    try:
        with tarfile.open(path, "r:*") as archive:
            for member in archive:
                check_member_name(member.name, archive=path.name)
                if not (member.isfile() or member.isdir()):
                    raise UnsafeArchiveError(
                        f"{path.name}: member {member.name!r} is a link or device; refused"
                    )
                if member.name in wanted:
                    data = archive.extractfile(member).read()
                    found[wanted[member.name]] = parse_batch(data, source=f"{path.name}:{member.name}")
    except (tarfile.TarError, EOFError, zlib.error, OSError) as error:
        raise ValueError(f"{path.name}: truncated or corrupt archive ({error})") from error
    missing = [batch for batch in SPLIT_BATCHES[split] if batch not in found]
    if missing:
        raise ValueError(f"{path.name}: missing {', '.join(f'{BATCH_FOLDER}/{m}' for m in missing)}")
    return _assemble((found[b] for b in SPLIT_BATCHES[split]), classes=classes, name=name,
                     source=path.name)


def load_cifar10_batches(
    folder: str | os.PathLike, split: str, *, classes: tuple[str, ...], name: str
) -> Dataset:
    """Read a split of CIFAR-10 from an extracted ``cifar-10-batches-py`` folder.

    Args:
        folder: the folder holding ``data_batch_1`` ... ``data_batch_5`` and ``test_batch``.
        split: ``"train"`` or ``"test"``.
        classes: the class names.
        name: the dataset's name.

    Returns:
        A Dataset with ``uint8`` images ``(N, 32, 32, 3)`` and ``int32`` labels ``(N,)``.

    Raises:
        UnsafeArchiveError: a batch names a forbidden pickle global.
        ValueError: a batch is missing or corrupt.

    Example:
        >>> ds = load_cifar10_batches("cifar-10-batches-py", "test", classes=tuple("abcdefghij"),
        ...                           name="cifar10/test")  # doctest: +SKIP
    """
    folder = pathlib.Path(folder)
    missing = [b for b in SPLIT_BATCHES[split] if not (folder / b).is_file()]
    if missing:
        raise ValueError(f"{folder}: missing {', '.join(missing)}")
    batches = (parse_batch((folder / b).read_bytes(), source=f"{folder.name}/{b}")
               for b in SPLIT_BATCHES[split])
    return _assemble(batches, classes=classes, name=name, source=str(folder))
