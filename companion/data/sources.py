"""Where the datasets come from: their files, mirrors, checksums, licences, and the lookup order.

:func:`companion.data.load` looks for a dataset's files in this order (the book's data policy):

1. the ``data_dir`` argument;
2. ``$COMPANION_DATA_DIR``;
   (a relative path is also tried against the parents of the current directory, so that
   ``../shared/datasets``, meant relative to the repository root, works in ``book/<part>/``);
3. the user cache, ``$XDG_CACHE_HOME/companion`` or ``~/.cache/companion``;
4. ``/usr/share/datasets``, where Debian's dataset packages install their files;
5. only then the canonical mirrors, unless ``download=False`` or ``$COMPANION_OFFLINE`` is set.

In each of the first four places a dataset is looked for in a sub-folder named after it (any of
:attr:`DatasetInfo.folder_names`, e.g. ``fashion-mnist`` as Debian names it) and then in the
place itself.
"""

from __future__ import annotations

import dataclasses
import os
import pathlib

__all__ = [
    "DATASETS",
    "DATA_DIR_VARIABLE",
    "OFFLINE_VARIABLE",
    "SYSTEM_DATA_ROOT",
    "DatasetInfo",
    "RemoteFile",
    "candidate_folders",
    "info",
    "offline",
    "resolve_relative",
    "search_roots",
]

DATA_DIR_VARIABLE = "COMPANION_DATA_DIR"
OFFLINE_VARIABLE = "COMPANION_OFFLINE"
SYSTEM_DATA_ROOT = pathlib.Path("/usr/share/datasets")
SPLITS = ("train", "test")


@dataclasses.dataclass(frozen=True)
class RemoteFile:
    """One file of a dataset as its publishers distribute it.

    Attributes:
        filename: the file name on every mirror, e.g. ``"train-images-idx3-ubyte.gz"``.
        md5: the published MD5 of the file as downloaded (a download is verified against it).
        content_sha256: SHA-256 of the decompressed content, or ``None``. Local copies are
            verified against it, since re-compressed copies differ in their ``.gz`` bytes only.

    Example:
        >>> RemoteFile("t10k-labels-idx1-ubyte.gz", md5="ec29112dd5afa0611ce80d1b7f02629c").filename
        't10k-labels-idx1-ubyte.gz'
    """

    filename: str
    md5: str
    content_sha256: str | None = None


@dataclasses.dataclass(frozen=True)
class DatasetInfo:
    """What the loaders know about one dataset.

    Attributes:
        name: the name :func:`companion.data.load` takes, e.g. ``"fashion_mnist"``.
        title: the name people write, e.g. ``"Fashion-MNIST"``.
        classes: the class names; ``classes[k]`` names label ``k``.
        image_shape: ``(H, W, C)`` of one image.
        split_sizes: the number of images in each split.
        files: for each split, the remote files it is read from.
        mirrors: base URLs, tried in order; a file's URL is the base URL plus its file name.
        folder_names: sub-folder names a local copy may live in.
        image_archives: names of image-folder zips (``<split>/<class>/<image>``) to look for.
        licence: the licence under which the dataset is distributed.
        citation: the BibTeX key of the paper to cite (in the book's ``references.bib``).
        homepage: where the dataset is described.

    Example:
        >>> info("mnist").image_shape
        (28, 28, 1)
    """

    name: str
    title: str
    classes: tuple[str, ...]
    image_shape: tuple[int, int, int]
    split_sizes: dict[str, int]
    files: dict[str, tuple[RemoteFile, ...]]
    mirrors: tuple[str, ...]
    folder_names: tuple[str, ...]
    image_archives: tuple[str, ...] = ()
    licence: str = ""
    citation: str = ""
    homepage: str = ""

    def expected_files(self) -> list[str]:
        """File names a local copy may provide, for error messages.

        Returns:
            Human-readable descriptions of the accepted files and layouts.

        Example:
            >>> info("mnist").expected_files()[0]
            'train-images-idx3-ubyte.gz'
        """
        names = list(dict.fromkeys(f.filename for files in self.files.values() for f in files))
        names += [f"{archive} (image zip: <split>/<class>/<image>)" for archive in self.image_archives]
        if self.image_archives:
            names.append("a folder <split>/<class>/<image> (png/jpg) with the class names above")
        return names


_MNIST_MIRRORS = (
    "https://ossci-datasets.s3.amazonaws.com/mnist/",
    "https://storage.googleapis.com/cvdf-datasets/mnist/",
    "http://yann.lecun.com/exdb/mnist/",
)
_FASHION_MIRRORS = (
    "http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/",
    "https://raw.githubusercontent.com/zalandoresearch/fashion-mnist/master/data/fashion/",
)
_CIFAR10_MIRRORS = ("https://www.cs.toronto.edu/~kriz/",)

_IDX_TRAIN_IMAGES = "train-images-idx3-ubyte.gz"
_IDX_TRAIN_LABELS = "train-labels-idx1-ubyte.gz"
_IDX_TEST_IMAGES = "t10k-images-idx3-ubyte.gz"
_IDX_TEST_LABELS = "t10k-labels-idx1-ubyte.gz"
_MNIST_SIZES = {"train": 60_000, "test": 10_000}
_CIFAR10_TAR = RemoteFile("cifar-10-python.tar.gz", md5="c58f30108f718f92721af3b95e74349a")

DATASETS: dict[str, DatasetInfo] = {
    "mnist": DatasetInfo(
        name="mnist",
        title="MNIST",
        classes=tuple(str(digit) for digit in range(10)),
        image_shape=(28, 28, 1),
        split_sizes=_MNIST_SIZES,
        files={
            "train": (
                RemoteFile(_IDX_TRAIN_IMAGES, "f68b3c2dcbeaaa9fbdd348bbdeb94873",
                           "ba891046e6505d7aadcbbe25680a0738ad16aec93bde7f9b65e87a2fc25776db"),
                RemoteFile(_IDX_TRAIN_LABELS, "d53e105ee54ea40749a09fcbcd1e9432",
                           "65a50cbbf4e906d70832878ad85ccda5333a97f0f4c3dd2ef09a8a9eef7101c5"),
            ),
            "test": (
                RemoteFile(_IDX_TEST_IMAGES, "9fb629c4189551a2d022fa330f9573f3",
                           "0fa7898d509279e482958e8ce81c8e77db3f2f8254e26661ceb7762c4d494ce7"),
                RemoteFile(_IDX_TEST_LABELS, "ec29112dd5afa0611ce80d1b7f02629c",
                           "ff7bcfd416de33731a308c3f266cc351222c34898ecbeaf847f06e48f7ec33f2"),
            ),
        },
        mirrors=_MNIST_MIRRORS,
        folder_names=("mnist", "MNIST"),
        licence="CC BY-SA 3.0",
        citation="lecun1998gradient",
        homepage="http://yann.lecun.com/exdb/mnist/",
    ),
    "fashion_mnist": DatasetInfo(
        name="fashion_mnist",
        title="Fashion-MNIST",
        classes=("T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
                 "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"),
        image_shape=(28, 28, 1),
        split_sizes=_MNIST_SIZES,
        files={
            "train": (
                RemoteFile(_IDX_TRAIN_IMAGES, "8d4fb7e6c68d591d4c3dfef9ec88bf0d",
                           "c59f468a2f672dc815687fe0f83887768d799fd8a3f3276145d20f83aa44d888"),
                RemoteFile(_IDX_TRAIN_LABELS, "25c81989df183df01b3e8a0aad5dffbe",
                           "bad3541b69d912435c50bb6ba87bec294ff4f6a2e1246121d8633921760443d9"),
            ),
            "test": (
                RemoteFile(_IDX_TEST_IMAGES, "bef4ecab320f06d8554ea6380940ec79",
                           "5b4141f0afbad91edebe8549f8fcffe087ea10ca49f1dbef5c9a5cd8815ce37b"),
                RemoteFile(_IDX_TEST_LABELS, "bb300cfdad3c16e7a12a480ee83cd310",
                           "0402a96d92fd2663957122ceb108a494c5af83dab82d92729df917d7dec38c34"),
            ),
        },
        mirrors=_FASHION_MIRRORS,
        folder_names=("fashion_mnist", "fashion-mnist", "FashionMNIST"),
        licence="MIT",
        citation="xiao2017fashion",
        homepage="https://github.com/zalandoresearch/fashion-mnist",
    ),
    "cifar10": DatasetInfo(
        name="cifar10",
        title="CIFAR-10",
        classes=("airplane", "automobile", "bird", "cat", "deer",
                 "dog", "frog", "horse", "ship", "truck"),
        image_shape=(32, 32, 3),
        split_sizes={"train": 50_000, "test": 10_000},
        files={"train": (_CIFAR10_TAR,), "test": (_CIFAR10_TAR,)},
        mirrors=_CIFAR10_MIRRORS,
        folder_names=("cifar10", "cifar-10", "CIFAR10", "cifar10-jpeg"),
        image_archives=("cifar10-jpeg.zip", "cifar10.zip", "cifar-10.zip"),
        licence="no formal licence; free for research and teaching when the technical report is cited",
        citation="krizhevsky2009learning",
        homepage="https://www.cs.toronto.edu/~kriz/cifar.html",
    ),
}


def info(name: str) -> DatasetInfo:
    """Return what the loaders know about dataset ``name``.

    Args:
        name: ``"mnist"``, ``"fashion_mnist"`` or ``"cifar10"``.

    Returns:
        The dataset's :class:`DatasetInfo` (classes, shapes, files, mirrors, licence, citation).

    Raises:
        ValueError: ``name`` is not a known dataset.

    Example:
        >>> info("cifar10").classes[:3]
        ('airplane', 'automobile', 'bird')
    """
    if name not in DATASETS:
        raise ValueError(f"name must be one of {', '.join(map(repr, DATASETS))}; got {name!r}")
    return DATASETS[name]


def offline() -> bool:
    """Whether ``$COMPANION_OFFLINE`` forbids every network access.

    Returns:
        ``True`` when the variable is set to anything but ``""``, ``0``, ``false`` or ``no``.

    Example:
        >>> import os
        >>> os.environ["COMPANION_OFFLINE"] = "1"
        >>> offline()
        True
    """
    return os.environ.get(OFFLINE_VARIABLE, "").strip().lower() not in ("", "0", "false", "no")


def search_roots(data_dir: str | os.PathLike | None = None) -> list[tuple[str, pathlib.Path]]:
    """The folders searched for local copies, in lookup order, each with a label for messages.

    Args:
        data_dir: the folder a caller passed to :func:`companion.data.load`, or ``None``.

    Returns:
        ``(label, folder)`` pairs: ``data_dir``, ``$COMPANION_DATA_DIR``, the user cache and
        Debian's ``/usr/share/datasets``; unset places are left out.

    Example:
        >>> [label for label, _ in search_roots("data")][0]
        'data_dir argument'
    """
    from companion.data.cache import cache_root

    roots: list[tuple[str, pathlib.Path]] = []
    if data_dir is not None:
        roots.append(("data_dir argument", pathlib.Path(data_dir).expanduser()))
    env = os.environ.get(DATA_DIR_VARIABLE, "").strip()
    if env:
        roots.append((f"${DATA_DIR_VARIABLE}", resolve_relative(env)))
    roots.append(("user cache", cache_root()))
    roots.append(("Debian datasets", SYSTEM_DATA_ROOT))
    return roots


def resolve_relative(path: str | os.PathLike) -> pathlib.Path:
    """Resolve a relative folder against the current directory, then against its parents.

    ``COMPANION_DATA_DIR=../shared/datasets`` is written relative to the repository root, but
    notebooks run in ``book/<part>/``; looking upwards finds the folder from there too.

    Args:
        path: a folder, absolute or relative.

    Returns:
        ``path`` itself when it is absolute or exists relative to the current directory; else
        the first existing ``parent / path`` for the parents of the current directory; else
        ``path`` unchanged.

    Example:
        >>> resolve_relative("/data")
        PosixPath('/data')
    """
    path = pathlib.Path(path).expanduser()
    if path.is_absolute() or path.is_dir():
        return path
    for parent in pathlib.Path.cwd().parents:
        if (parent / path).is_dir():
            return parent / path
    return path


def candidate_folders(dataset: DatasetInfo, root: pathlib.Path) -> list[pathlib.Path]:
    """The folders under ``root`` that may hold ``dataset``: its named sub-folders, then ``root``.

    Args:
        dataset: the dataset looked for.
        root: one of the :func:`search_roots`.

    Returns:
        Existing folders, in the order they are searched.

    Example:
        >>> candidate_folders(info("mnist"), pathlib.Path("/nonexistent"))
        []
    """
    folders = [root / folder for folder in dataset.folder_names] + [root]
    return [folder for folder in dict.fromkeys(folders) if folder.is_dir()]
