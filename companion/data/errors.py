"""The exceptions that the data loaders raise.

Each one subclasses the built-in exception a caller would expect (``FileNotFoundError``,
``ValueError``, ``OSError``), so ``except ValueError`` keeps working, while the specific class
lets tests and callers tell the failures apart.
"""

from __future__ import annotations

__all__ = ["ChecksumError", "DatasetNotFoundError", "DownloadError", "UnsafeArchiveError"]


class DatasetNotFoundError(FileNotFoundError):
    """No local copy of a dataset was found, and downloading was not allowed.

    The message lists the places searched, the file names expected and how to provide them.

    Example:
        >>> try:
        ...     raise DatasetNotFoundError("no copy of mnist")
        ... except FileNotFoundError as error:
        ...     print(error)
        no copy of mnist
    """


class DownloadError(OSError):
    """Every mirror of a file failed; the message lists each URL tried and why it failed.

    Example:
        >>> str(DownloadError("tried 2 mirrors"))
        'tried 2 mirrors'
    """


class ChecksumError(ValueError):
    """A file's content does not match its published checksum.

    Example:
        >>> isinstance(ChecksumError("bad"), ValueError)
        True
    """


class UnsafeArchiveError(ValueError):
    """An archive member or a pickle tried to escape what the loader allows.

    Raised for a tar or zip member with ``..`` or an absolute path, a link in a tar archive, and
    a pickle that names a global beyond the few that CIFAR-10's format needs.

    Example:
        >>> isinstance(UnsafeArchiveError("../etc/passwd"), ValueError)
        True
    """
