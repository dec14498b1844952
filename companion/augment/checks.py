"""Input rules shared by every augmentation: shapes, dtypes, and the uint8 conversion helper.

Augmentations take floating-point images in ``[0, 1]``: one image ``(H, W, C)`` or a batch
``(N, H, W, C)``, with ``C`` equal to 1 (grey) or 3 (RGB). Loaders return ``uint8`` pixels, so a
``uint8`` image is refused with a :class:`TypeError` that says how to convert it. The checks read
only shapes and dtypes, so they also run on traced arrays inside :func:`jax.jit` and
:func:`jax.vmap`, before JAX would raise a less readable error.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np

GREY_AND_RGB = (1, 3)
RGB = (3,)
UINT8_MAX = 255

_CONVERT_HINT = (
    "convert it first with companion.data.to_float(images) or "
    "companion.augment.to_float32(images), which divide uint8 pixels by 255"
)


def to_float32(images) -> jax.Array:
    """Convert pixels to ``float32`` in ``[0, 1]``: ``uint8`` is divided by 255, floats are cast.

    Args:
        images: an image ``(H, W, C)`` or a batch ``(N, H, W, C)``, ``uint8`` or floating point.

    Returns:
        A ``float32`` array of the same shape.

    Raises:
        TypeError: ``images`` is neither ``uint8`` nor floating point.

    Example:
        >>> to_float32(np.full((2, 2, 1), 255, np.uint8)).max()
        Array(1., dtype=float32)
    """
    dtype = np.dtype(getattr(images, "dtype", np.asarray(images).dtype))
    if dtype == np.uint8:
        return jnp.asarray(images, jnp.float32) / jnp.float32(UINT8_MAX)
    if not np.issubdtype(dtype, np.floating):
        raise TypeError(f"images must be uint8 or floating point; got dtype {dtype}")
    return jnp.asarray(images, jnp.float32)


def _as_array(value, name: str) -> jax.Array:
    if isinstance(value, jax.Array):
        return value
    if isinstance(value, np.ndarray):
        return jnp.asarray(value)
    raise TypeError(f"{name} must be a jax.Array or numpy array; got {type(value).__name__}")


def _check_dtype(array: jax.Array, name: str) -> None:
    dtype = np.dtype(array.dtype)
    if dtype == np.uint8:
        raise TypeError(f"{name} must be floating point in [0, 1]; got dtype uint8: {_CONVERT_HINT}")
    if not np.issubdtype(dtype, np.floating):
        raise TypeError(f"{name} must be floating point in [0, 1]; got dtype {dtype}")


def _check_channels(array: jax.Array, name: str, channels: tuple[int, ...]) -> None:
    if array.shape[-1] not in channels:
        expected = " or ".join(str(c) for c in channels)
        raise ValueError(
            f"{name} must have {expected} channels in its last axis (HWC layout); "
            f"got shape {tuple(array.shape)}"
        )


def check_image(image, *, name: str = "image", channels: tuple[int, ...] = GREY_AND_RGB) -> jax.Array:
    """Check that ``image`` is one floating-point HWC image and return it as a JAX array.

    Args:
        image: the candidate image, shape ``(H, W, C)``.
        name: the argument name used in error messages.
        channels: the accepted channel counts.

    Returns:
        ``image`` as a ``jax.Array`` of shape ``(H, W, C)``, dtype unchanged.

    Raises:
        TypeError: ``image`` is not an array, is ``uint8`` or is not floating point.
        ValueError: ``image`` is not 3-D or has an unsupported channel count.

    Example:
        >>> check_image(jnp.zeros((8, 8, 3))).shape
        (8, 8, 3)
    """
    array = _as_array(image, name)
    if array.ndim != 3:
        raise ValueError(
            f"{name} must be one image of shape (H, W, C); got shape {tuple(array.shape)} "
            "(for a batch, map the op over the images with jax.vmap)"
        )
    _check_dtype(array, name)
    _check_channels(array, name, channels)
    return array


def check_batch(images, *, name: str = "images", channels: tuple[int, ...] = GREY_AND_RGB) -> jax.Array:
    """Check that ``images`` is a floating-point NHWC batch and return it as a JAX array.

    Args:
        images: the candidate batch, shape ``(N, H, W, C)``.
        name: the argument name used in error messages.
        channels: the accepted channel counts.

    Returns:
        ``images`` as a ``jax.Array`` of shape ``(N, H, W, C)``, dtype unchanged.

    Raises:
        TypeError: ``images`` is not an array, is ``uint8`` or is not floating point.
        ValueError: ``images`` is not 4-D or has an unsupported channel count.

    Example:
        >>> check_batch(jnp.zeros((2, 8, 8, 1))).shape
        (2, 8, 8, 1)
    """
    array = _as_array(images, name)
    if array.ndim != 4:
        raise ValueError(f"{name} must be a batch of shape (N, H, W, C); got shape {tuple(array.shape)}")
    _check_dtype(array, name)
    _check_channels(array, name, channels)
    return array


def check_range(low: float, high: float, *, name: str) -> tuple[float, float]:
    """Check that ``(low, high)`` is an ordered pair of numbers.

    Args:
        low: the lower end.
        high: the upper end.
        name: the argument name used in error messages.

    Returns:
        ``(low, high)`` as floats.

    Raises:
        ValueError: ``low > high``.

    Example:
        >>> check_range(0.5, 1.0, name="scale")
        (0.5, 1.0)
    """
    low, high = float(low), float(high)
    if low > high:
        raise ValueError(f"{name} must be an interval (low, high) with low <= high; got ({low}, {high})")
    return low, high


def check_non_negative(value, *, name: str) -> None:
    """Raise ``ValueError`` when a concrete (non-traced) ``value`` is negative.

    Args:
        value: a Python number or an array; traced values are not checked.
        name: the argument name used in error messages.

    Raises:
        ValueError: ``value`` is negative.

    Example:
        >>> check_non_negative(0.5, name="sigma")
    """
    if isinstance(value, jax.core.Tracer):
        return
    if np.any(np.asarray(value) < 0):
        raise ValueError(f"{name} must be >= 0; got {value}")


def check_probability(p, *, name: str = "p") -> float:
    """Check that ``p`` is a probability in ``[0, 1]``.

    Args:
        p: the probability.
        name: the argument name used in error messages.

    Returns:
        ``p`` as a float.

    Raises:
        ValueError: ``p`` is outside ``[0, 1]``.

    Example:
        >>> check_probability(0.5)
        0.5
    """
    p = float(p)
    if not 0.0 <= p <= 1.0:
        raise ValueError(f"{name} must be a probability in [0, 1]; got {p}")
    return p


def as_param(value, dtype) -> jax.Array:
    """Return a scalar or array parameter as an array of ``dtype`` (strict promotion safe).

    Args:
        value: a Python number or an array.
        dtype: the image dtype.

    Returns:
        ``value`` as a ``jax.Array`` of ``dtype``.

    Example:
        >>> as_param(0.5, jnp.float32).dtype
        dtype('float32')
    """
    return jnp.asarray(value, dtype=dtype)
