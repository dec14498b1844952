"""``load``: find a dataset's files, download them if allowed, parse them once, cache the arrays.

The lookup order, the mirrors and the checksums are in :mod:`companion.data.sources`; the
parsed-array cache is in :mod:`companion.data.cache`.
"""

from __future__ import annotations

import dataclasses
import os
import pathlib
import warnings
import zipfile
from collections.abc import Callable

import numpy as np

from companion.data import sources
from companion.data.cache import cache_root, cached_dataset
from companion.data.cifar import BATCH_FOLDER, SPLIT_BATCHES, load_cifar10_batches, load_cifar10_tar
from companion.data.dataset import Dataset
from companion.data.download import download as download_file
from companion.data.download import md5sum
from companion.data.errors import ChecksumError, DatasetNotFoundError, DownloadError
from companion.data.folder import load_image_folder
from companion.data.idx import load_idx_pair

__all__ = ["load"]

_GZ = ".gz"


@dataclasses.dataclass(frozen=True)
class _Source:
    """Local files of one split, and how to parse them."""

    description: str
    paths: tuple[pathlib.Path, ...]
    build: Callable[[], Dataset]


def _idx_source(info: sources.DatasetInfo, split: str, folder: pathlib.Path) -> _Source | None:
    paths = []
    for remote in info.files[split]:
        gz, plain = folder / remote.filename, folder / remote.filename.removesuffix(_GZ)
        path = gz if gz.is_file() else plain if plain.is_file() else None
        if path is None:
            return None
        paths.append(path)
    images_file, labels_file = info.files[split]

    def build() -> Dataset:
        return load_idx_pair(
            paths[0], paths[1], classes=info.classes, name=f"{info.name}/{split}",
            images_sha256=images_file.content_sha256, labels_sha256=labels_file.content_sha256,
        )

    return _Source(f"IDX files in {folder}", tuple(paths), build)


def _canonical(info: sources.DatasetInfo, split: str, found: Dataset, where: str) -> Dataset:
    """Map an image folder's classes onto the dataset's canonical label order and check it."""
    if set(found.classes) != set(info.classes):
        raise ValueError(
            f"{where}: class folders {list(found.classes)} are not {info.title}'s classes "
            f"{list(info.classes)}"
        )
    if found.image_shape != info.image_shape:
        raise ValueError(f"{where}: images are {found.image_shape}, expected {info.image_shape}")
    expected = info.split_sizes[split]
    if len(found) != expected:
        warnings.warn(f"{where}: {len(found)} images, but {info.title}'s {split} split has "
                      f"{expected}", stacklevel=4)
    remap = np.array([info.classes.index(c) for c in found.classes], np.int32)
    return Dataset(found.images, remap[found.labels], info.classes, f"{info.name}/{split}")


def _cifar_sources(info: sources.DatasetInfo, split: str, folder: pathlib.Path) -> _Source | None:
    name = f"{info.name}/{split}"
    (tar_file,) = info.files[split]
    tar = folder / tar_file.filename
    if tar.is_file():
        def build_tar() -> Dataset:
            if tar_file.md5 is not None and (actual := md5sum(tar)) != tar_file.md5:
                raise ChecksumError(f"{tar}: MD5 {actual}, expected {tar_file.md5}; the file is "
                                    "not the published one. Delete it and load again.")
            return load_cifar10_tar(tar, split, classes=info.classes, name=name)

        return _Source(f"{tar}", (tar,), build_tar)
    batches = folder / BATCH_FOLDER
    if all((batches / b).is_file() for b in SPLIT_BATCHES[split]):
        return _Source(f"{batches}", tuple(batches / b for b in SPLIT_BATCHES[split]),
                       lambda: load_cifar10_batches(batches, split, classes=info.classes, name=name))
    for archive in info.image_archives:
        path = folder / archive
        if path.is_file() and zipfile.is_zipfile(path):
            where = f"{archive}/{split}"
            return _Source(f"{path} ({split}/<class>/<image>)", (path,), lambda p=path, w=where:
                           _canonical(info, split, load_image_folder(p / split, name=w), w))
    tree = folder / split
    if tree.is_dir() and {p.name for p in tree.iterdir() if p.is_dir()} >= set(info.classes):
        where = f"{folder.name}/{split}"
        return _Source(f"{tree} (<class>/<image>)", (tree,), lambda:
                       _canonical(info, split, load_image_folder(tree, name=where), where))
    return None


def _find_local(info: sources.DatasetInfo, split: str, data_dir) -> tuple[_Source | None, list[str]]:
    searched = []
    finder = _cifar_sources if info.name == "cifar10" else _idx_source
    for label, root in sources.search_roots(data_dir):
        state = "" if root.is_dir() else " (does not exist)"
        searched.append(f"{label}: {root}{state}")
        for folder in sources.candidate_folders(info, root):
            found = finder(info, split, folder)
            if found is not None:
                return found, searched
    return None, searched


def _download(info: sources.DatasetInfo, split: str, searched: list[str]) -> _Source:
    target = cache_root() / info.name
    try:
        for remote in info.files[split]:
            download_file([mirror + remote.filename for mirror in info.mirrors],
                          target / remote.filename, md5=remote.md5)
    except DownloadError as error:
        raise DownloadError(f"{error}\nNo local copy was found either; searched:\n  "
                            + "\n  ".join(searched)) from error
    found = (_cifar_sources if info.name == "cifar10" else _idx_source)(info, split, target)
    if found is None:
        raise DownloadError(f"downloaded {info.name} into {target}, but cannot find it there")
    return found


def _not_found(info: sources.DatasetInfo, split: str, searched: list[str], reason: str) -> str:
    sub = ", ".join(f"{f}/" for f in info.folder_names)
    files = "\n  ".join(info.expected_files())
    return (
        f"No local copy of {info.title} ({info.name!r}, split {split!r}) was found, and "
        f"{reason}, so nothing was downloaded.\n"
        f"Searched, in order (in each place also its sub-folders {sub}):\n  "
        + "\n  ".join(searched)
        + f"\nExpected files (IDX files may also be uncompressed, without .gz):\n  {files}\n"
        f"To provide them: on a machine with network access download them from "
        f"{info.mirrors[0]} (or see {info.homepage}), put them in a folder and set "
        f"${sources.DATA_DIR_VARIABLE} to it or pass data_dir=...; or allow downloading "
        f"(download=True, ${sources.OFFLINE_VARIABLE} unset)."
    )


def load(
    name: str,
    split: str = "train",
    *,
    data_dir: str | os.PathLike | None = None,
    download: bool = True,
) -> Dataset:
    """Load MNIST, Fashion-MNIST or CIFAR-10 as ``uint8`` images, ``int32`` labels and class names.

    The files are looked for in ``data_dir``, ``$COMPANION_DATA_DIR``, the user cache and
    Debian's ``/usr/share/datasets`` (in each place in a sub-folder named after the dataset,
    e.g. ``mnist/`` or ``fashion-mnist/``, then in the place itself), and downloaded from the
    canonical mirrors only when none is found, ``download`` is true and ``$COMPANION_OFFLINE``
    is unset. Downloads are checked against their published MD5; local MNIST and Fashion-MNIST
    files against the SHA-256 of their decompressed content, local ``cifar-10-python.tar.gz``
    against its MD5. The parsed arrays are cached in the user cache, keyed to the source files,
    so the second load of a split reads them back in a fraction of the time.

    MNIST and Fashion-MNIST are read from the four gzipped IDX files
    (``train-images-idx3-ubyte.gz``, ...). CIFAR-10 is read, in this order of preference, from
    the canonical ``cifar-10-python.tar.gz``, an extracted ``cifar-10-batches-py`` folder, an
    image zip ``cifar10-jpeg.zip`` (``<split>/<class>/<image>``, as in the offline copy the
    book's CI uses through ``COMPANION_DATA_DIR=../shared/datasets``; it is a lossy JPEG
    re-encoding, so pixels differ slightly from the canonical ones), or a folder
    ``<split>/<class>/<image>``. Image-folder labels are mapped onto the canonical class order.

    Args:
        name: ``"mnist"``, ``"fashion_mnist"`` or ``"cifar10"``.
        split: ``"train"`` or ``"test"``.
        data_dir: a folder to search first; it is only read, never written.
        download: allow downloading when no local copy is found.

    Returns:
        A Dataset named ``"<name>/<split>"``: images ``uint8`` ``(N, 28, 28, 1)`` (MNIST,
        Fashion-MNIST) or ``(N, 32, 32, 3)`` (CIFAR-10), labels ``int32`` ``(N,)``, and the
        ten class names.

    Raises:
        ValueError: unknown ``name`` or ``split``, or a corrupt or unsafe file.
        ChecksumError: a local file is not the published one.
        DatasetNotFoundError: no local copy, and downloading was not allowed; the message
            lists the places searched, the files expected and how to provide them.
        DownloadError: no local copy, and every mirror failed.

    Example:
        >>> train = load("mnist")  # doctest: +SKIP
        >>> train.images.shape, train.images.dtype, train.labels.dtype  # doctest: +SKIP
        ((60000, 28, 28, 1), dtype('uint8'), dtype('int32'))
    """
    info = sources.info(name)
    if split not in sources.SPLITS:
        raise ValueError(f"split must be one of {', '.join(map(repr, sources.SPLITS))}; got {split!r}")
    source, searched = _find_local(info, split, data_dir)
    if source is None:
        if not download or sources.offline():
            reason = ("download=False" if not download
                      else f"${sources.OFFLINE_VARIABLE}={os.environ[sources.OFFLINE_VARIABLE]}")
            raise DatasetNotFoundError(_not_found(info, split, searched, reason))
        source = _download(info, split, searched)
    return cached_dataset(f"{info.name}-{split}", source.paths, source.build)
