"""The :class:`Dataset` container that every loader returns."""

from __future__ import annotations

import dataclasses

import numpy as np


@dataclasses.dataclass(frozen=True)
class Dataset:
    """Images with integer labels and class names.

    Attributes:
        images: ``uint8`` pixels, shape ``(N, H, W, C)`` (NHWC; ``C`` is 1 for grey, 3 for RGB).
        labels: ``int32`` class ids in ``[0, len(classes))``, shape ``(N,)``.
        classes: the class names; ``classes[k]`` names label ``k``.
        name: a short name for reports and plots, e.g. ``"mnist/train"``.

    Example:
        >>> ds = Dataset(np.zeros((2, 28, 28, 1), np.uint8), np.array([0, 1], np.int32), ("a", "b"), "toy")
        >>> len(ds), ds.image_shape
        (2, (28, 28, 1))
    """

    images: np.ndarray
    labels: np.ndarray
    classes: tuple[str, ...]
    name: str

    def __post_init__(self) -> None:
        images, labels = np.asarray(self.images), np.asarray(self.labels)
        if images.ndim != 4:
            raise ValueError(f"images must have shape (N, H, W, C); got shape {images.shape}")
        if images.dtype != np.uint8:
            raise TypeError(f"images must be uint8; got {images.dtype}")
        if labels.shape != (images.shape[0],):
            raise ValueError(
                f"labels must have shape ({images.shape[0]},) to match {images.shape[0]} images; "
                f"got shape {labels.shape}"
            )
        if labels.dtype != np.int32:
            raise TypeError(f"labels must be int32; got {labels.dtype}")
        classes = tuple(self.classes)
        if labels.size and (labels.min() < 0 or labels.max() >= len(classes)):
            raise ValueError(
                f"labels must lie in [0, {len(classes)}) for {len(classes)} classes; "
                f"got values in [{labels.min()}, {labels.max()}]"
            )
        object.__setattr__(self, "images", images)
        object.__setattr__(self, "labels", labels)
        object.__setattr__(self, "classes", classes)

    def __repr__(self) -> str:
        return (
            f"Dataset(name={self.name!r}, images={self.images.dtype}{list(self.images.shape)}, "
            f"labels={self.labels.dtype}{list(self.labels.shape)}, classes={self.classes!r})"
        )

    def __len__(self) -> int:
        return int(self.images.shape[0])

    @property
    def image_shape(self) -> tuple[int, int, int]:
        """The shape ``(H, W, C)`` of one image."""
        return tuple(self.images.shape[1:])

    @property
    def num_classes(self) -> int:
        """The number of classes, ``len(classes)``."""
        return len(self.classes)

    def subset(self, indices) -> Dataset:
        """Return the examples at ``indices`` (an integer array or a slice) as a new Dataset."""
        return Dataset(self.images[indices], self.labels[indices], self.classes, self.name)
