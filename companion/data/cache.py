"""The user cache: downloaded files, and parsed arrays keyed to their source files.

Parsing 60,000 JPEGs or decompressing IDX files takes seconds; reading the parsed arrays back
from an uncompressed ``.npz`` takes a fraction of that. Each cache entry is keyed to its source
files (resolved path, size and modification time), so a changed or replaced source is never
served from a stale entry. Entries live only in the user cache
(``$XDG_CACHE_HOME/companion`` or ``~/.cache/companion``), never in a folder the user pointed at,
which may be read-only or shared.

Concurrent loads (two notebooks, ``pytest-xdist`` workers) are safe: the entry is built under a
lock and written to a temporary file that is renamed into place, so a reader sees either no entry
or a complete one.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import pathlib
import tempfile
import warnings
from collections.abc import Callable, Iterator, Sequence

import numpy as np

from companion.data.dataset import Dataset

__all__ = ["CACHE_FORMAT_VERSION", "cache_root", "cached_dataset", "file_lock"]

CACHE_FORMAT_VERSION = 1
LOCK_TIMEOUT_SECONDS = 3600.0
_PARSED = "parsed"


def cache_root() -> pathlib.Path:
    """The user cache folder of the package.

    Returns:
        ``$XDG_CACHE_HOME/companion`` when ``XDG_CACHE_HOME`` is set, else ``~/.cache/companion``.
        The folder is not created.

    Example:
        >>> cache_root().name
        'companion'
    """
    base = os.environ.get("XDG_CACHE_HOME", "").strip()
    root = pathlib.Path(base).expanduser() if base else pathlib.Path.home() / ".cache"
    return root / "companion"


@contextlib.contextmanager
def file_lock(path: str | os.PathLike, *, timeout: float = LOCK_TIMEOUT_SECONDS) -> Iterator[None]:
    """Hold an inter-process lock on ``path`` (a ``.lock`` file beside the thing it protects).

    The lock comes from the ``filelock`` package rather than ``fcntl``: it works the same on
    Linux, macOS and Windows (readers open the notebooks on all three), the operating system
    releases it when a process dies, so a crashed download never leaves a stale lock behind,
    and it is safe between threads as well as processes.

    Args:
        path: the lock file; its folder is created if needed.
        timeout: seconds to wait for another process before giving up.

    Yields:
        Nothing; the lock is held inside the ``with`` block.

    Raises:
        TimeoutError: another process held the lock for longer than ``timeout`` seconds.

    Example:
        >>> import tempfile
        >>> with file_lock(pathlib.Path(tempfile.mkdtemp()) / "x.lock"):
        ...     pass
    """
    import filelock

    path = pathlib.Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    lock = filelock.FileLock(str(path), timeout=timeout)
    try:
        lock.acquire()
    except filelock.Timeout as error:
        raise TimeoutError(
            f"waited {timeout:.0f} s for the lock {path}; another process is still loading. "
            "If none is, delete the lock file."
        ) from error
    try:
        yield
    finally:
        lock.release()


def _stamp(sources: Sequence[pathlib.Path]) -> str:
    parts = []
    for source in sources:
        source = pathlib.Path(source)
        files = sorted(p for p in source.rglob("*") if p.is_file()) if source.is_dir() else [source]
        for path in files:  # a folder is keyed to every file in it
            stat = path.stat()
            parts.append([str(path.resolve()), stat.st_size, stat.st_mtime_ns])
    text = json.dumps({"version": CACHE_FORMAT_VERSION, "sources": parts})
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def _read_entry(path: pathlib.Path) -> Dataset | None:
    try:
        with np.load(path, allow_pickle=False) as entry:
            return Dataset(
                entry["images"], entry["labels"], tuple(str(c) for c in entry["classes"]),
                str(entry["name"]),
            )
    except FileNotFoundError:
        return None
    except (OSError, ValueError, KeyError, TypeError) as error:
        warnings.warn(f"ignoring unreadable cache entry {path.name}: {error}", stacklevel=3)
        return None


def _write_entry(path: pathlib.Path, dataset: Dataset) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.stem}.", suffix=".tmp")
    try:
        with os.fdopen(handle, "wb") as file:
            np.savez(
                file, images=dataset.images, labels=dataset.labels,
                classes=np.array(dataset.classes, dtype=str), name=np.array(dataset.name),
            )
        os.replace(temporary, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temporary)
        raise


def cached_dataset(
    key: str, sources: Sequence[str | os.PathLike], build: Callable[[], Dataset]
) -> Dataset:
    """Return the parsed dataset from the user cache, building and caching it on a miss.

    Args:
        key: a readable name for the entry, e.g. ``"mnist-train"`` (letters, digits, ``-_.``).
        sources: the files (or folders) the dataset is parsed from; their resolved paths, sizes
            and modification times key the entry.
        build: parses the sources; called at most once, and only on a cache miss.

    Returns:
        The dataset, with the same arrays ``build`` returned.

    Example:
        >>> ds = cached_dataset("toy", [__file__], lambda: Dataset(
        ...     np.zeros((1, 2, 2, 1), np.uint8), np.zeros(1, np.int32), ("a",), "toy"))
        >>> ds.images.shape
        (1, 2, 2, 1)
    """
    if not key or any(not (c.isalnum() or c in "-_.") for c in key):
        raise ValueError(f"key must be letters, digits, '-', '_' or '.'; got {key!r}")
    folder = cache_root() / _PARSED
    entry = folder / f"{key}-{_stamp([pathlib.Path(s) for s in sources])}.npz"
    cached = _read_entry(entry)
    if cached is not None:
        return cached
    try:
        lock = file_lock(folder / f"{key}.lock")
        lock.__enter__()
    except OSError as error:  # a read-only home: parse without caching
        warnings.warn(f"cannot write the cache in {folder} ({error}); parsing without it", stacklevel=2)
        return build()
    try:
        cached = _read_entry(entry)  # another process may have built it while we waited
        if cached is not None:
            return cached
        dataset = build()
        try:
            _write_entry(entry, dataset)
        except OSError as error:
            warnings.warn(f"cannot write the cache entry {entry} ({error})", stacklevel=2)
        else:
            for stale in folder.glob(f"{key}-*.npz"):  # older entries of the same key
                if stale != entry:
                    with contextlib.suppress(OSError):
                        stale.unlink()
        return dataset
    finally:
        lock.__exit__(None, None, None)
