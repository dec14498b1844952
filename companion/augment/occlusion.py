"""Occlusion: erase a rectangle (cutout, DeVries and Taylor 2017; random erasing, Zhong et al. 2020).

The rectangle is a mask built by comparing pixel coordinates with its edges, so positions and sizes
may be traced values and every sample of a batch gets its own rectangle under ``vmap``:
``out = where(top <= y < top + h and left <= x < left + w, fill, x)``.
"""

from __future__ import annotations

import math

import jax
import jax.numpy as jnp

from companion.augment.checks import check_image, check_non_negative, check_range
from companion.augment.sampling import pixel_grid

DEFAULT_ERASE_SCALE = (0.02, 0.33)
DEFAULT_ERASE_RATIO = (0.3, 3.3)
HALF = 0.5


def box_mask(height: int, width: int, top, left, box_height, box_width, dtype=jnp.float32) -> jax.Array:
    """Return a boolean mask that is ``True`` inside the box (pixel centres inside the edges).

    Args:
        height: image rows ``H``.
        width: image columns ``W``.
        top: first row of the box (may be fractional or traced).
        left: first column of the box.
        box_height: box height in pixels.
        box_width: box width in pixels.
        dtype: dtype used for the comparisons.

    Returns:
        Shape ``(H, W, 1)``, boolean.

    Example:
        >>> int(box_mask(4, 4, 1, 1, 2, 2).sum())
        4
    """
    rows, cols = pixel_grid(height, width, dtype)
    top, left = jnp.asarray(top, dtype), jnp.asarray(left, dtype)
    bottom = top + jnp.asarray(box_height, dtype)
    right = left + jnp.asarray(box_width, dtype)
    inside = (rows >= top) & (rows < bottom) & (cols >= left) & (cols < right)
    return inside[..., None]


def erase(image: jax.Array, top, left, height, width, *, fill: float = 0.0) -> jax.Array:
    """Replace the box ``[top, top + height) x [left, left + width)`` with ``fill``.

    Args:
        image: shape ``(H, W, C)``, floating point in ``[0, 1]``.
        top: first row of the box.
        left: first column of the box.
        height: box height (``0`` is the identity).
        width: box width.
        fill: the value written into the box.

    Returns:
        Shape ``(H, W, C)``.

    Example:
        >>> erase(jnp.ones((3, 3, 1)), 1, 1, 1, 1)[..., 0].sum()
        Array(8., dtype=float32)
    """
    image = check_image(image)
    mask = box_mask(image.shape[0], image.shape[1], top, left, height, width, image.dtype)
    return jnp.where(mask, jnp.asarray(fill, image.dtype), image)


def cutout(key: jax.Array, image: jax.Array, size, *, fill: float = 0.0) -> jax.Array:
    """Erase a ``size x size`` square centred on a uniformly drawn pixel (clipped at the borders).

    Args:
        key: a PRNG key.
        image: shape ``(H, W, C)``, floating point in ``[0, 1]``.
        size: side of the square in pixels (``0`` is the identity).
        fill: the value written into the square.

    Returns:
        Shape ``(H, W, C)``.

    Example:
        >>> cutout(jax.random.key(0), jnp.ones((8, 8, 1)), 4).shape
        (8, 8, 1)
    """
    image = check_image(image)
    check_non_negative(size, name="size")
    key_y, key_x = jax.random.split(key)
    centre_y = jax.random.randint(key_y, (), 0, image.shape[0]).astype(image.dtype)
    centre_x = jax.random.randint(key_x, (), 0, image.shape[1]).astype(image.dtype)
    half = jnp.floor(jnp.asarray(size, image.dtype) * HALF)
    return erase(image, centre_y - half, centre_x - half, size, size, fill=fill)


def random_erasing(
    key: jax.Array,
    image: jax.Array,
    *,
    scale: tuple[float, float] = DEFAULT_ERASE_SCALE,
    ratio: tuple[float, float] = DEFAULT_ERASE_RATIO,
    fill: float = 0.0,
) -> jax.Array:
    """Erase a rectangle whose area fraction is uniform in ``scale`` and aspect ``w / h`` log-uniform in ``ratio``.

    The rectangle lies inside the image (its sides are clipped to the image size).

    Args:
        key: a PRNG key.
        image: shape ``(H, W, C)``, floating point in ``[0, 1]``.
        scale: interval of the erased fraction of the image area.
        ratio: interval of the aspect ratio ``w / h``.
        fill: the value written into the rectangle.

    Returns:
        Shape ``(H, W, C)``.

    Example:
        >>> random_erasing(jax.random.key(0), jnp.ones((8, 8, 1))).shape
        (8, 8, 1)
    """
    image = check_image(image)
    s_low, s_high = check_range(*scale, name="scale")
    r_low, r_high = check_range(*ratio, name="ratio")
    if r_low <= 0:
        raise ValueError(f"ratio must be positive; got {ratio}")
    height, width = image.shape[0], image.shape[1]
    k_area, k_ratio, k_top, k_left = jax.random.split(key, 4)
    area = jax.random.uniform(k_area, (), minval=s_low, maxval=s_high) * (height * width)
    aspect = jnp.exp(jax.random.uniform(k_ratio, (), minval=math.log(r_low), maxval=math.log(r_high)))
    box_h = jnp.minimum(jnp.round(jnp.sqrt(area / aspect)), height)
    box_w = jnp.minimum(jnp.round(jnp.sqrt(area * aspect)), width)
    top = jnp.floor(jax.random.uniform(k_top, ()) * (height - box_h + 1))
    left = jnp.floor(jax.random.uniform(k_left, ()) * (width - box_w + 1))
    return erase(image, top, left, box_h, box_w, fill=fill)
