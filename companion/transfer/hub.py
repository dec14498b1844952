"""Real ImageNet weights: torchvision's ResNets, as timm republishes them on the Hugging Face Hub.

The files follow the rules the datasets follow (see :mod:`companion.data`): a file is looked for
in ``weights_dir``, then ``$COMPANION_WEIGHTS_DIR``, then the user cache
(``$XDG_CACHE_HOME/companion/weights`` or ``~/.cache/companion/weights``), and only then
downloaded, with :func:`companion.data.download.download` (mirrors, retries, a temporary file,
an atomic rename), into a staging name that is renamed into place only once its SHA-256 matches
the pinned value. Every local copy is checked against the same SHA-256 before it is used.
Offline, with no local copy, :class:`WeightsNotFoundError` says which file to download, from
where, and where to put it.

Provenance and licence: the weights are torchvision's ``IMAGENET1K_V1`` weights for ResNet-18
and ResNet-50 (BSD-3-Clause, the torchvision licence), converted to ``.safetensors`` by timm
(``timm/resnet18.tv_in1k`` and ``timm/resnet50.tv_in1k``), pinned here to one revision of each
repository. They were trained on ImageNet-1k, whose terms of access bind whoever uses them.
"""

from __future__ import annotations

import dataclasses
import hashlib
import os
import pathlib

from flax import nnx

from companion.data.cache import cache_root, file_lock
from companion.data.download import CHUNK_BYTES
from companion.data.download import download as fetch
from companion.data.errors import ChecksumError, DownloadError
from companion.transfer.resnet import ResNet, resnet18, resnet50
from companion.transfer.weights import load_pretrained

__all__ = [
    "WEIGHTS",
    "WEIGHTS_DIR_VARIABLE",
    "PretrainedWeights",
    "WeightsNotFoundError",
    "pretrained_resnet",
    "sha256sum",
    "weights_file",
]

WEIGHTS_DIR_VARIABLE = "COMPANION_WEIGHTS_DIR"
WEIGHTS_SUBDIR = "weights"
IMAGENET_CLASSES = 1000
_HUB = "https://huggingface.co"
_LICENCE = ("BSD-3-Clause (torchvision's licence); trained on ImageNet-1k, whose terms of access "
            "bind the user")
_MEGABYTE = 1 << 20


@dataclasses.dataclass(frozen=True)
class PretrainedWeights:
    """One pinned weights file: where it comes from, its checksum, licence and provenance.

    Args:
        name: the short name, e.g. ``"resnet18"``.
        architecture: the constructor it fits, ``"resnet18"`` or ``"resnet50"``.
        filename: the file's name in a weights folder.
        urls: download addresses, tried in order.
        sha256: the file's SHA-256, 64 hex digits.
        size: the file's length in bytes.
        licence: the weights' licence.
        source: where the weights come from.
        imagenet_top1: the published ImageNet-1k top-1 accuracy (percent, 224 x 224 centre crop).

    Example:
        >>> WEIGHTS["resnet18"].filename
        'resnet18.tv_in1k.safetensors'
    """

    name: str
    architecture: str
    filename: str
    urls: tuple[str, ...]
    sha256: str
    size: int
    licence: str
    source: str
    imagenet_top1: float


def _hub_weights(name: str, repo: str, revision: str, sha256: str, size: int, top1: float,
                 tv_name: str) -> PretrainedWeights:
    return PretrainedWeights(
        name=name, architecture=name, filename=f"{repo.split('/')[1]}.safetensors",
        urls=(f"{_HUB}/{repo}/resolve/{revision}/model.safetensors",),
        sha256=sha256, size=size, licence=_LICENCE,
        source=(f"torchvision.models.{tv_name}.IMAGENET1K_V1, as safetensors in the Hugging Face Hub "
                f"repository {repo} (revision {revision})"),
        imagenet_top1=top1,
    )


WEIGHTS: dict[str, PretrainedWeights] = {
    "resnet18": _hub_weights(
        "resnet18", "timm/resnet18.tv_in1k", "bbd144b3e5565108aad885f145491d11bc6ce807",
        "694f673df6520a3158624e8a89af086f59923ee4cd7436fe5bc3bc71d295ad81", 46_807_446, 69.758,
        "ResNet18_Weights"),
    "resnet50": _hub_weights(
        "resnet50", "timm/resnet50.tv_in1k", "78f3ecfdb38e06d9b8397f662e7ab8fee96026fa",
        "5d061a3c593d795bfe682d9b152bafbcf550579873492def3515b46db1189888", 102_469_840, 76.130,
        "ResNet50_Weights"),
}
_CONSTRUCTORS = {"resnet18": resnet18, "resnet50": resnet50}


class WeightsNotFoundError(FileNotFoundError):
    """No verified local copy of a weights file, and it could not (or may not) be downloaded.

    The message names the file, its URL, size and SHA-256, and the folders searched.

    Example:
        >>> isinstance(WeightsNotFoundError("no resnet18"), FileNotFoundError)
        True
    """


def sha256sum(path: str | os.PathLike) -> str:
    """The SHA-256 hex digest of a file, read in chunks.

    Args:
        path: the file.

    Returns:
        64 lowercase hex digits.

    Example:
        >>> import tempfile
        >>> with tempfile.NamedTemporaryFile() as f:
        ...     sha256sum(f.name)[:16]
        'e3b0c44298fc1c14'
    """
    digest = hashlib.sha256()
    with open(path, "rb") as file:
        for chunk in iter(lambda: file.read(CHUNK_BYTES), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _resolve(weights: str | PretrainedWeights) -> PretrainedWeights:
    if isinstance(weights, PretrainedWeights):
        return weights
    if weights not in WEIGHTS:
        raise ValueError(f"weights must be one of {sorted(WEIGHTS)} or a PretrainedWeights; got {weights!r}")
    return WEIGHTS[weights]


def _folders(weights_dir) -> list[tuple[pathlib.Path, bool]]:
    """Folders to search, each with whether it is ours (the cache) to repair."""
    folders = []
    if weights_dir is not None:
        folders.append((pathlib.Path(weights_dir).expanduser(), False))
    if value := os.environ.get(WEIGHTS_DIR_VARIABLE, "").strip():
        folders.append((pathlib.Path(value).expanduser(), False))
    folders.append((cache_root() / WEIGHTS_SUBDIR, True))
    return folders


def _instructions(info: PretrainedWeights, folders: list[pathlib.Path]) -> str:
    where = "\n  ".join(str(f) for f in folders)
    return (
        f"Download {info.urls[0]}\n({info.size / _MEGABYTE:.1f} MB, SHA-256 {info.sha256}) and save it as "
        f"{info.filename} in one of these folders (searched in this order):\n  {where}\n"
        f"or set {WEIGHTS_DIR_VARIABLE} to the folder that holds it. Source: {info.source}. "
        f"Licence: {info.licence}."
    )


def weights_file(weights: str | PretrainedWeights = "resnet18", *, weights_dir: str | os.PathLike | None = None,
                 download: bool = True, progress: bool = True) -> pathlib.Path:
    """The path of a verified local copy of a pretrained weights file, downloading it if needed.

    Args:
        weights: ``"resnet18"``, ``"resnet50"`` (see :data:`WEIGHTS`) or a :class:`PretrainedWeights`.
        weights_dir: a folder to look in first; never written to.
        download: download into the user cache when no local copy exists.
        progress: show a progress bar while downloading.

    Returns:
        The path of a file whose SHA-256 matches ``weights.sha256``.

    Raises:
        WeightsNotFoundError: no local copy and ``download=False``, or every download failed;
            the message says what to download and where to put it.
        ChecksumError: a copy in ``weights_dir`` or ``$COMPANION_WEIGHTS_DIR`` is corrupt (a
            corrupt copy in the cache is replaced instead), or a download is.

    Example:
        >>> path = weights_file("resnet18")  # doctest: +SKIP
    """
    info = _resolve(weights)
    folders = _folders(weights_dir)
    for folder, ours in folders:
        candidate = folder / info.filename
        if not candidate.is_file():
            continue
        if (actual := sha256sum(candidate)) == info.sha256:
            return candidate
        if not ours:
            raise ChecksumError(f"{candidate} has SHA-256 {actual}, expected {info.sha256}; "
                                f"replace it with a fresh copy.\n{_instructions(info, [f for f, _ in folders])}")
    searched = [f for f, _ in folders]
    if not download:
        raise WeightsNotFoundError(f"no local copy of the {info.name} weights, and download=False.\n"
                                   + _instructions(info, searched))
    target = cache_root() / WEIGHTS_SUBDIR / info.filename
    target.parent.mkdir(parents=True, exist_ok=True)
    with file_lock(target.with_name(target.name + ".lock")):
        if target.is_file() and sha256sum(target) == info.sha256:
            return target  # another process fetched it while we waited
        staging = target.with_name(target.name + ".unverified")
        staging.unlink(missing_ok=True)  # never trust a leftover from an interrupted run
        try:
            fetch(list(info.urls), staging, md5=None, progress=progress)
        except DownloadError as error:
            raise WeightsNotFoundError(f"could not download the {info.name} weights ({error}).\n"
                                       + _instructions(info, searched)) from error
        try:
            if (actual := sha256sum(staging)) != info.sha256:
                raise ChecksumError(f"the downloaded {info.filename} has SHA-256 {actual}, expected "
                                    f"{info.sha256}; it was discarded")
            os.replace(staging, target)
        finally:
            staging.unlink(missing_ok=True)
    return target


def pretrained_resnet(weights: str | PretrainedWeights = "resnet18", *, num_classes: int = IMAGENET_CLASSES,
                      weights_dir: str | os.PathLike | None = None, download: bool = True,
                      progress: bool = True, rngs: nnx.Rngs) -> ResNet:
    """A ResNet with ImageNet weights, taking float32 RGB images in [0, 1] (it normalises itself).

    With ``num_classes != 1000`` the ImageNet classifier is dropped and ``fc`` is freshly
    initialised, ready for fine-tuning.

    Args:
        weights: ``"resnet18"`` or ``"resnet50"``, or a :class:`PretrainedWeights` for one of them.
        num_classes: outputs of the classifier.
        weights_dir: a folder to look in first (see :func:`weights_file`).
        download: allow downloading into the user cache.
        progress: show a progress bar while downloading.
        rngs: the random streams (for the new head).

    Returns:
        The model, built with ``normalize=True``.

    Example:
        >>> model = pretrained_resnet("resnet18", num_classes=10, rngs=nnx.Rngs(0))  # doctest: +SKIP
    """
    info = _resolve(weights)
    if info.architecture not in _CONSTRUCTORS:
        raise ValueError(f"weights.architecture must be one of {sorted(_CONSTRUCTORS)}; got {info.architecture!r}")
    path = weights_file(info, weights_dir=weights_dir, download=download, progress=progress)
    model = _CONSTRUCTORS[info.architecture](num_classes, normalize=True, rngs=rngs)
    return load_pretrained(model, path)
