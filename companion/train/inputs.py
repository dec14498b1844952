"""Checking and preparing the data ``fit`` and ``evaluate`` receive, before any JAX tracing."""

from __future__ import annotations

import dataclasses

import jax
import jax.numpy as jnp
import numpy as np

PIXEL_MAX = 255.0
FLOAT_RANGE_SLACK = 1e-3  # float images may exceed [0, 1] by rounding only
IMAGE_RANK = 4


@dataclasses.dataclass(frozen=True)
class DeviceData:
    """Images and labels placed on the device once, with what the steps need to know about them.

    Attributes:
        images: ``(N, H, W, C)``, ``uint8`` (converted to float32 inside the jitted steps) or
            ``float32`` in [0, 1].
        labels: ``int32`` class ids, shape ``(N,)``.

    Example:
        >>> data = prepare((np.zeros((4, 8, 8, 1), np.float32), np.zeros(4, np.int32)), name="train")
        >>> len(data)
        4
    """

    images: jax.Array
    labels: jax.Array

    def __len__(self) -> int:
        return int(self.images.shape[0])


def batch_to_float(images: jax.Array) -> jax.Array:
    """Convert a batch to float32 in [0, 1]: ``uint8`` pixels are divided by 255, floats kept.

    Args:
        images: ``(B, H, W, C)``, ``uint8`` or ``float32``.

    Returns:
        ``float32`` images of the same shape.

    Example:
        >>> batch_to_float(jnp.full((1, 2, 2, 1), 255, jnp.uint8)).max()
        Array(1., dtype=float32)
    """
    if images.dtype == jnp.uint8:
        return images.astype(jnp.float32) / jnp.float32(PIXEL_MAX)
    return images.astype(jnp.float32)


def _split(data, name: str) -> tuple[np.ndarray, np.ndarray, bool]:
    if hasattr(data, "images") and hasattr(data, "labels"):  # a companion.data.Dataset
        return np.asarray(data.images), np.asarray(data.labels), True
    if isinstance(data, tuple | list) and len(data) == 2:
        images, labels = data
        return images, np.asarray(labels), False
    raise TypeError(
        f"{name} must be a companion.data.Dataset or an (images, labels) pair; "
        f"got {type(data).__name__}"
    )


def prepare(
    data, *, name: str, in_channels: int | None = None, num_classes: int | None = None,
    image_shape: tuple[int, ...] | None = None,
) -> DeviceData:
    """Validate training or evaluation data and move it to the device.

    Args:
        data: a ``companion.data.Dataset`` (``uint8`` images) or an ``(images, labels)`` pair
            with float32 images ``(N, H, W, C)`` in [0, 1] and integer labels ``(N,)``.
        name: the argument's name for error messages (``"train"`` or ``"eval"``).
        in_channels: the channel count the model expects, if known.
        num_classes: the number of classes the model predicts, if known; labels must lie in
            ``[0, num_classes)``.
        image_shape: an ``(H, W, C)`` the images must have (e.g. the training images' shape).

    Returns:
        The images and ``int32`` labels on the default device.

    Raises:
        TypeError: the data is neither a Dataset nor a pair; a pair holds ``uint8`` (or other
            non-float) images, or non-integer labels.
        ValueError: wrong image rank or channel count, image and label counts differ, labels out
            of range, float pixels outside [0, 1], or no examples.

    Example:
        >>> x, y = np.zeros((4, 8, 8, 1), np.float32), np.array([0, 1, 2, 3], np.int32)
        >>> prepare((x, y), name="train", in_channels=1, num_classes=10).images.shape
        (4, 8, 8, 1)
    """
    images, labels, from_dataset = _split(data, name)
    dtype = np.dtype(getattr(images, "dtype", np.asarray(images).dtype))
    if not from_dataset:
        if dtype == np.uint8:
            raise TypeError(
                f"{name} images are uint8 but an (images, labels) pair must hold float32 images "
                f"in [0, 1]; convert with companion.data.to_float(images) or pass a Dataset"
            )
        if not np.issubdtype(dtype, np.floating):
            raise TypeError(f"{name} images must be float32 in [0, 1]; got dtype {dtype}")
    shape = tuple(images.shape)
    if len(shape) != IMAGE_RANK:
        raise ValueError(f"{name} images must have shape (N, H, W, C); got shape {shape}")
    if in_channels is not None and shape[-1] != in_channels:
        raise ValueError(
            f"{name} images have {shape[-1]} channels but the model expects {in_channels}: "
            f"expected shape (N, H, W, {in_channels}), got {shape}"
        )
    if image_shape is not None and shape[1:] != tuple(image_shape):
        raise ValueError(
            f"{name} images must have shape (N, {', '.join(map(str, image_shape))}) like the "
            f"training images; got {shape}"
        )
    if labels.ndim != 1 or labels.shape[0] != shape[0]:
        raise ValueError(
            f"{name} has {shape[0]} images but labels of shape {labels.shape}; "
            f"expected labels of shape ({shape[0]},)"
        )
    if shape[0] == 0:
        raise ValueError(f"{name} holds no examples")
    if not np.issubdtype(labels.dtype, np.integer):
        raise TypeError(f"{name} labels must be integer class ids; got dtype {labels.dtype}")
    low, high = int(labels.min()), int(labels.max())
    if low < 0 or (num_classes is not None and high >= num_classes):
        bound = num_classes if num_classes is not None else "num_classes"
        raise ValueError(
            f"{name} labels must lie in [0, {bound}) for a model with {bound} outputs; "
            f"got values in [{low}, {high}]"
        )
    if not from_dataset:
        images = jnp.asarray(images, dtype=jnp.float32)
        low_px, high_px = float(images.min()), float(images.max())
        if low_px < -FLOAT_RANGE_SLACK or high_px > 1 + FLOAT_RANGE_SLACK:
            raise ValueError(
                f"{name} float images must lie in [0, 1]; got values in [{low_px:g}, {high_px:g}] "
                f"(divide 0-255 pixels by 255, or use companion.data.to_float)"
            )
    return DeviceData(jnp.asarray(images), jnp.asarray(labels, dtype=jnp.int32))
