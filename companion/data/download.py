"""Verified downloads: mirrors, retries with backoff, a temporary file, a checksum, a rename.

A download never leaves a partial or corrupt file where a loader would trust it: bytes go to a
temporary file in the target's folder, the file is checked against its published MD5 (and its
length against ``Content-Length``), and only then renamed into place with :func:`os.replace`,
which is atomic on one file system. A lock file beside the target makes concurrent downloads of
the same file wait for each other instead of racing.
"""

from __future__ import annotations

import contextlib
import hashlib
import http.client
import os
import pathlib
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Sequence

from companion.data.cache import file_lock
from companion.data.errors import ChecksumError, DownloadError

__all__ = ["download", "md5sum"]

CHUNK_BYTES = 1 << 20
DEFAULT_RETRIES = 3
DEFAULT_BACKOFF_SECONDS = 1.0
DEFAULT_TIMEOUT_SECONDS = 60.0
_PERMANENT_HTTP_ERRORS = range(400, 500)
_USER_AGENT = "cnn-companion (https://github.com/cnn-course/cnn-companion)"


def md5sum(path: str | os.PathLike) -> str:
    """The MD5 hex digest of a file, read in chunks.

    Args:
        path: the file.

    Returns:
        32 lowercase hex digits.

    Example:
        >>> import tempfile
        >>> with tempfile.NamedTemporaryFile() as f:
        ...     md5sum(f.name)
        'd41d8cd98f00b204e9800998ecf8427e'
    """
    digest = hashlib.md5(usedforsecurity=False)
    with open(path, "rb") as file:
        for chunk in iter(lambda: file.read(CHUNK_BYTES), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _urlopen(url: str, timeout: float):
    """Open ``url``; a seam that tests replace to keep every test off the network."""
    request = urllib.request.Request(url, headers={"User-Agent": _USER_AGENT})
    return urllib.request.urlopen(request, timeout=timeout)


def _fetch(url: str, temporary: pathlib.Path, *, timeout: float, progress: bool, label: str) -> None:
    from tqdm.auto import tqdm

    with _urlopen(url, timeout) as response:
        length = response.headers.get("Content-Length")
        total = int(length) if length is not None and length.isdigit() else None
        received = 0
        with open(temporary, "wb") as file, tqdm(
            total=total, unit="B", unit_scale=True, unit_divisor=1024, desc=label,
            disable=not progress, leave=False,
        ) as bar:
            while chunk := response.read(CHUNK_BYTES):
                file.write(chunk)
                received += len(chunk)
                bar.update(len(chunk))
    if total is not None and received != total:
        raise OSError(f"transfer interrupted: received {received} of {total} bytes")


def download(
    urls: Sequence[str],
    target: str | os.PathLike,
    *,
    md5: str | None,
    retries: int = DEFAULT_RETRIES,
    backoff: float = DEFAULT_BACKOFF_SECONDS,
    timeout: float = DEFAULT_TIMEOUT_SECONDS,
    progress: bool = True,
) -> pathlib.Path:
    """Download a file from the first mirror that delivers it intact.

    Each mirror is tried in turn. Network errors (timeouts, refused or reset connections, a
    transfer cut short, HTTP 5xx) are retried up to ``retries`` times with exponential backoff
    (``backoff``, ``2 * backoff``, ...); a checksum mismatch or an HTTP 4xx moves straight on to the
    next mirror, since retrying would fetch the same bytes. A file that already exists at
    ``target`` with the right checksum is not downloaded again.

    Args:
        urls: the file's URLs, one per mirror, in the order to try them.
        target: where the verified file ends up; its folder is created if needed.
        md5: the published MD5 of the file, or ``None`` to skip the check.
        retries: attempts per mirror for transient network errors (at least 1).
        backoff: seconds to wait after the first failed attempt; doubled after each further one.
        timeout: seconds to wait for the server before an attempt fails.
        progress: show a tqdm progress bar.

    Returns:
        ``target`` as a path.

    Raises:
        DownloadError: every mirror failed; the message lists each URL and its last error.

    Example:
        >>> download(["https://example.org/f.gz"], "f.gz", md5=None)  # doctest: +SKIP
        PosixPath('f.gz')
    """
    if not urls:
        raise ValueError("urls must name at least one mirror; got none")
    if retries < 1:
        raise ValueError(f"retries must be at least 1; got {retries}")
    target = pathlib.Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    with file_lock(target.with_name(target.name + ".lock")):
        if target.exists() and (md5 is None or md5sum(target) == md5):
            return target  # another process finished it while we waited, or it was there
        failures: list[str] = []
        for url in urls:
            for attempt in range(retries):
                handle, name = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.",
                                                suffix=".part")
                os.close(handle)
                temporary = pathlib.Path(name)
                try:
                    _fetch(url, temporary, timeout=timeout, progress=progress, label=target.name)
                    if md5 is not None and (actual := md5sum(temporary)) != md5:
                        raise ChecksumError(f"checksum mismatch: MD5 {actual}, expected {md5}")
                    os.replace(temporary, target)
                    return target
                except ChecksumError as error:
                    failures.append(f"{url}: {error}; file discarded")
                    break
                except urllib.error.HTTPError as error:
                    failures.append(f"{url}: HTTP {error.code} {error.reason}")
                    if error.code in _PERMANENT_HTTP_ERRORS:
                        break
                except (OSError, ValueError, http.client.HTTPException) as error:  # timeouts, cut transfers
                    failures.append(f"{url}: {type(error).__name__}: {error}")
                finally:
                    with contextlib.suppress(FileNotFoundError):
                        temporary.unlink()
                if attempt + 1 < retries:
                    time.sleep(backoff * 2**attempt)
        tried = "\n  ".join(failures)
        raise DownloadError(
            f"could not download {target.name} from any of {len(urls)} mirror(s); tried:\n  {tried}"
        )
