"""Image folders: ``<class>/<image>`` trees in a folder or a zip, read into a :class:`Dataset`.

The layout is the one ``torchvision.datasets.ImageFolder`` reads::

    root/cat/0001.png
    root/cat/0002.jpg
    root/dog/0001.jpeg

``root`` may be a folder, a ``.zip`` file, or a folder inside a zip written as a path through
it (``cifar10-jpeg.zip/train``). Class names are the sorted sub-folder names, so ``classes[k]``
names label ``k`` on every machine.

Decoding is serial on purpose: on 32x32 JPEGs Pillow spends about as long in Python as in C,
so a thread pool was slower on the 2-core machines this was measured on, and Pillow's draft
mode cannot shrink an image that small any further.
"""

from __future__ import annotations

import io
import logging
import os
import pathlib
import warnings
import zipfile
from collections.abc import Callable

import numpy as np
from PIL import Image, UnidentifiedImageError

from companion.data.cifar import check_member_name
from companion.data.dataset import Dataset
from companion.data.errors import UnsafeArchiveError

__all__ = ["IMAGE_SUFFIXES", "load_image_folder"]

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg")
_LAYOUT_DEPTH = 2  # <class>/<image>
_GREY, _RGB = 1, 3
_GREY_MODES = ("1", "L", "LA")
_HIGH_DEPTH_MODES = ("I", "I;16", "I;16B", "I;16L", "F")
_EXAMPLES_SHOWN = 3
_log = logging.getLogger(__name__)


def _split_zip_path(path: pathlib.Path) -> tuple[pathlib.Path, str] | None:
    """``x.zip/train`` -> (``x.zip``, ``"train/"``); ``None`` when no part is a zip file."""
    parts = path.parts
    for i in range(len(parts), 0, -1):
        candidate = pathlib.Path(*parts[:i])
        if candidate.suffix.lower() == ".zip" and candidate.is_file():
            inner = "/".join(parts[i:])
            return candidate, f"{inner}/" if inner else ""
    return None


def _zip_entries(archive: pathlib.Path, prefix: str) -> tuple[list[str], Callable[[str], bytes], Callable[[], None]]:
    handle = zipfile.ZipFile(archive)
    names = []
    for info in handle.infolist():
        check_member_name(info.filename, archive=archive.name)
        if info.is_dir() or not info.filename.startswith(prefix):
            continue
        names.append(info.filename[len(prefix):])
    if prefix and not names:
        handle.close()
        raise FileNotFoundError(f"{archive.name} holds no folder {prefix.rstrip('/')!r}")
    return names, lambda rel: handle.read(prefix + rel), handle.close


def _folder_entries(root: pathlib.Path) -> tuple[list[str], Callable[[str], bytes], Callable[[], None]]:
    resolved_root = root.resolve()
    names = []
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames.sort()
        for filename in sorted(filenames):
            path = pathlib.Path(dirpath) / filename
            if path.is_symlink() and not path.resolve().is_relative_to(resolved_root):
                raise UnsafeArchiveError(f"{path} is a link that leaves {root}; refused")
            names.append(path.relative_to(root).as_posix())
    return names, lambda rel: (root / rel).read_bytes(), lambda: None


def _decode(data: bytes, *, source: str, resize: tuple[int, int] | None) -> np.ndarray:
    try:
        image = Image.open(io.BytesIO(data))
        image.load()
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as error:
        raise ValueError(f"cannot decode image {source}: {error}") from error
    if image.mode in _HIGH_DEPTH_MODES:
        raise ValueError(f"{source}: mode {image.mode!r} has more than 8 bits per channel; "
                         "convert it to 8-bit grey or RGB first")
    image = image.convert("L" if image.mode in _GREY_MODES else "RGB")
    if resize is not None and image.size != (resize[1], resize[0]):
        image = image.resize((resize[1], resize[0]), Image.Resampling.BILINEAR)
    array = np.asarray(image, dtype=np.uint8)
    return array[..., np.newaxis] if array.ndim == _LAYOUT_DEPTH else array


def _check_resize(resize) -> tuple[int, int] | None:
    if resize is None:
        return None
    if (not isinstance(resize, (tuple, list)) or len(resize) != _LAYOUT_DEPTH
            or not all(isinstance(s, int) and s > 0 for s in resize)):
        raise ValueError(f"resize must be None or (height, width) with positive ints; got {resize!r}")
    return int(resize[0]), int(resize[1])


def load_image_folder(
    path: str | os.PathLike, *, resize: tuple[int, int] | None = None, name: str | None = None
) -> Dataset:
    """Read a ``<class>/<image>`` tree from a folder or a zip into a :class:`Dataset`.

    Only ``.png``, ``.jpg`` and ``.jpeg`` files (any case) two levels down count as images. Other
    files (``README.txt``, ``.DS_Store``, files outside a class folder) are skipped, and one
    warning counts them. Grey images keep 1 channel and colour images get 3 (alpha is dropped,
    palettes are expanded); when a tree mixes the two, grey images are promoted to RGB.

    Args:
        path: a folder, a ``.zip``, or a folder inside a zip such as ``"x.zip/train"``.
        resize: ``(height, width)`` to resize every image to (bilinear). By default all images
            must already share one size, and mixed sizes are an error.
        name: the dataset's name; defaults to the last parts of ``path``.

    Returns:
        A Dataset with ``uint8`` images ``(N, H, W, C)`` and ``int32`` labels ``(N,)``; its
        ``classes`` are the sorted class-folder names, and ``classes[k]`` names label ``k``.

    Raises:
        FileNotFoundError: ``path`` does not exist.
        ValueError: no images were found, an image cannot be decoded (the message names the
            file), or the images have different sizes and ``resize`` was not given.
        UnsafeArchiveError: a zip member's path escapes its folder, or a link leaves the folder.

    Example:
        >>> ds = load_image_folder("cifar10-jpeg.zip/test")  # doctest: +SKIP
        >>> ds.images.shape, ds.classes[:2]  # doctest: +SKIP
        ((10000, 32, 32, 3), ('airplane', 'automobile'))
    """
    size = _check_resize(resize)
    path = pathlib.Path(path).expanduser()
    if path.is_dir():
        names, read, close = _folder_entries(path)
    elif (split := _split_zip_path(path)) is not None:
        try:
            names, read, close = _zip_entries(*split)
        except zipfile.BadZipFile as error:
            raise ValueError(f"{split[0].name}: not a valid zip file ({error})") from error
    else:
        raise FileNotFoundError(f"path must be an existing folder or .zip; {path} is neither")
    label = name if name is not None else "/".join(path.parts[-2:])
    try:
        images, skipped = [], []
        for rel in sorted(names):
            parts = rel.split("/")
            hidden = any(p.startswith((".", "__MACOSX")) for p in parts)
            if len(parts) != _LAYOUT_DEPTH or hidden or not rel.lower().endswith(IMAGE_SUFFIXES):
                skipped.append(rel)
            else:
                images.append((parts[0], rel))
        if skipped:
            examples = ", ".join(skipped[:_EXAMPLES_SHOWN])
            warnings.warn(
                f"{label}: skipped {len(skipped)} file(s) that are not png/jpg/jpeg images in "
                f"<class>/<image> layout (e.g. {examples})", stacklevel=2,
            )
        if not images:
            raise ValueError(f"{path}: no png/jpg/jpeg images in <class>/<image> layout")
        classes = tuple(sorted({cls for cls, _ in images}))
        index = {cls: k for k, cls in enumerate(classes)}
        _log.info("%s: classes %s", label, ", ".join(f"{k}={c}" for c, k in index.items()))
        first = _decode(read(images[0][1]), source=f"{label}/{images[0][1]}", resize=size)
        out = np.empty((len(images), *first.shape), np.uint8)
        for i, (_, rel) in enumerate(images):
            pixels = first if i == 0 else _decode(read(rel), source=f"{label}/{rel}", resize=size)
            if pixels.shape[:2] != out.shape[1:3]:
                raise ValueError(
                    f"images differ in size: {label}/{images[0][1]} is {out.shape[1]}x{out.shape[2]} "
                    f"but {label}/{rel} is {pixels.shape[0]}x{pixels.shape[1]} (height x width); "
                    "pass resize=(height, width) to resize them all"
                )
            if pixels.shape[2] != out.shape[3]:
                if out.shape[3] == _GREY:  # promote what was read so far to RGB
                    out = np.repeat(out, _RGB, axis=3)
                else:
                    pixels = np.repeat(pixels, _RGB, axis=2)
            out[i] = pixels
    finally:
        close()
    labels = np.fromiter((index[cls] for cls, _ in images), np.int32, count=len(images))
    return Dataset(out, labels, classes, label)
