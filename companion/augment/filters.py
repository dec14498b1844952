"""Blur and sharpening: a separable Gaussian filter and the unsharp mask.

The Gaussian kernel of standard deviation ``sigma`` has taps
``g_k = exp(-k^2 / (2 sigma^2)) / sum_j exp(-j^2 / (2 sigma^2))`` for ``k = -r, ..., r``; blurring
filters the rows, then the columns (the 2-D Gaussian is separable). Borders are reflected by
default so that edges keep their brightness. Sharpening adds back the detail the blur removes:
``clip(x + amount (x - blur(x)), 0, 1)``.
"""

from __future__ import annotations

import math

import jax
import jax.numpy as jnp

from companion.augment.checks import as_param, check_image, check_non_negative

TRUNCATE = 3.0  # kernel radius in standard deviations
MIN_SIGMA = 1e-3  # below this the kernel is a single tap: the identity
DEFAULT_SHARPEN_SIGMA = 1.0
PAD_MODES = {"reflect": "reflect", "constant": "constant", "nearest": "edge"}


def kernel_radius(sigma: float) -> int:
    """Return the kernel radius ``ceil(3 sigma)`` used for a concrete ``sigma``.

    Args:
        sigma: standard deviation in pixels, ``>= 0``.

    Returns:
        The radius ``r``; the kernel has ``2r + 1`` taps.

    Example:
        >>> kernel_radius(1.0)
        3
    """
    return math.ceil(TRUNCATE * float(sigma))


def gaussian_kernel(sigma, radius: int, dtype=jnp.float32) -> jax.Array:
    """Return the normalised 1-D Gaussian kernel with ``2 radius + 1`` taps.

    Args:
        sigma: standard deviation (may be traced); ``0`` gives the identity kernel.
        radius: static half-width.
        dtype: kernel dtype.

    Returns:
        Shape ``(2 radius + 1,)``, summing to one.

    Example:
        >>> gaussian_kernel(1.0, 1).shape
        (3,)
    """
    taps = jnp.arange(-radius, radius + 1, dtype=dtype)
    sigma = jnp.maximum(jnp.asarray(sigma, dtype), MIN_SIGMA)
    weights = jnp.exp(-(taps**2) / (2 * sigma**2))
    return weights / weights.sum()


def _filter_axis(image: jax.Array, kernel: jax.Array, axis: int, mode: str) -> jax.Array:
    radius = (kernel.shape[0] - 1) // 2
    pad = [(0, 0)] * image.ndim
    pad[axis] = (radius, radius)
    padded = jnp.pad(image, pad, mode=PAD_MODES[mode])
    length = image.shape[axis]
    out = jnp.zeros_like(image)
    for tap in range(kernel.shape[0]):
        out = out + kernel[tap] * jax.lax.slice_in_dim(padded, tap, tap + length, axis=axis)
    return out


def gaussian_blur(
    image: jax.Array, sigma, *, radius: int | None = None, mode: str = "reflect"
) -> jax.Array:
    """Blur an image with a Gaussian of standard deviation ``sigma`` pixels.

    Args:
        image: shape ``(H, W, C)``, floating point in ``[0, 1]``.
        sigma: standard deviation in pixels, ``>= 0`` (``0`` is the identity). May be traced
            when ``radius`` is given.
        radius: kernel half-width; ``None`` means ``ceil(3 sigma)`` for a concrete ``sigma``.
        mode: border handling: ``"reflect"``, ``"nearest"`` or ``"constant"`` (zeros).

    Returns:
        The blurred image, shape ``(H, W, C)``.

    Raises:
        TypeError: ``sigma`` is traced and ``radius`` is not given.
        ValueError: ``sigma`` is negative or ``mode`` unknown.

    Example:
        >>> gaussian_blur(jnp.ones((8, 8, 1)), 1.0).shape
        (8, 8, 1)
    """
    image = check_image(image)
    if mode not in PAD_MODES:
        raise ValueError(f"mode must be one of {tuple(PAD_MODES)}; got {mode!r}")
    if radius is None:
        if isinstance(sigma, jax.core.Tracer):
            raise TypeError("sigma is traced, so give the kernel size explicitly: radius=<int>")
        check_non_negative(sigma, name="sigma")
        radius = kernel_radius(sigma)
    kernel = gaussian_kernel(sigma, radius, image.dtype)
    blurred = _filter_axis(image, kernel, 0, mode)
    return _filter_axis(blurred, kernel, 1, mode)


def sharpen(image: jax.Array, amount, *, sigma: float = DEFAULT_SHARPEN_SIGMA) -> jax.Array:
    """Sharpen with an unsharp mask: ``clip(x + amount (x - gaussian_blur(x, sigma)), 0, 1)``.

    Args:
        image: shape ``(H, W, C)``, floating point in ``[0, 1]``.
        amount: strength, ``>= 0`` (``0`` is the identity; ``1`` doubles fine detail).
        sigma: the blur that defines "detail", in pixels.

    Returns:
        The sharpened image, shape ``(H, W, C)``.

    Example:
        >>> sharpen(jnp.zeros((8, 8, 1)).at[4, 4].set(0.5), 1.0)[4, 4, 0] > 0.5
        Array(True, dtype=bool)
    """
    image = check_image(image)
    check_non_negative(amount, name="amount")
    detail = image - gaussian_blur(image, sigma)
    return jnp.clip(image + as_param(amount, image.dtype) * detail, 0, 1)


def random_gaussian_blur(key: jax.Array, image: jax.Array, *, max_sigma: float) -> jax.Array:
    """Blur with ``sigma`` drawn uniformly from ``[0, max_sigma]``.

    Args:
        key: a PRNG key.
        image: shape ``(H, W, C)``, floating point in ``[0, 1]``.
        max_sigma: the largest standard deviation, in pixels.

    Returns:
        Shape ``(H, W, C)``.

    Example:
        >>> random_gaussian_blur(jax.random.key(0), jnp.ones((8, 8, 1)), max_sigma=1.0).shape
        (8, 8, 1)
    """
    check_non_negative(max_sigma, name="max_sigma")
    sigma = jax.random.uniform(key, (), minval=0.0, maxval=max_sigma)
    return gaussian_blur(image, sigma, radius=kernel_radius(max_sigma))


def random_sharpen(key: jax.Array, image: jax.Array, *, max_amount: float) -> jax.Array:
    """Sharpen with ``amount`` drawn uniformly from ``[0, max_amount]``.

    Args:
        key: a PRNG key.
        image: shape ``(H, W, C)``, floating point in ``[0, 1]``.
        max_amount: the largest strength.

    Returns:
        Shape ``(H, W, C)``.

    Example:
        >>> random_sharpen(jax.random.key(0), jnp.ones((8, 8, 1)), max_amount=1.0).shape
        (8, 8, 1)
    """
    check_non_negative(max_amount, name="max_amount")
    return sharpen(image, jax.random.uniform(key, (), minval=0.0, maxval=max_amount))
