"""Crops resized back to a fixed size: :func:`resized_crop` and :func:`random_resized_crop`.

A box of ``h x w`` pixels with top-left corner ``(top, left)`` is stretched to ``H_out x W_out``:
output pixel ``(i, j)`` reads the input, bilinearly, at

.. math::

    y = \\text{top} + (i + \\tfrac12)\\,\\frac{h}{H_{out}} - \\tfrac12, \\qquad
    x = \\text{left} + (j + \\tfrac12)\\,\\frac{w}{W_{out}} - \\tfrac12 ,

so a box covering the whole image reproduces it exactly. Edge pixels are repeated where a
coordinate falls half a pixel outside.
"""

from __future__ import annotations

import math

import jax
import jax.numpy as jnp

from companion.augment.checks import check_image, check_range
from companion.augment.sampling import map_coordinates, pixel_grid

DEFAULT_SCALE = (0.08, 1.0)
DEFAULT_RATIO = (3 / 4, 4 / 3)
HALF = 0.5


def resized_crop(
    image: jax.Array, top, left, height, width, *, size: tuple[int, int] | None = None
) -> jax.Array:
    """Cut the box ``[top, top + height) x [left, left + width)`` and resize it bilinearly.

    Box coordinates may be fractional and traced, so the op works under ``jit`` and ``vmap``.

    Args:
        image: shape ``(H, W, C)``, floating point in ``[0, 1]``.
        top: first row of the box.
        left: first column of the box.
        height: box height in pixels.
        width: box width in pixels.
        size: output ``(H_out, W_out)``; ``None`` keeps ``(H, W)``.

    Returns:
        Shape ``(H_out, W_out, C)``.

    Example:
        >>> img = jnp.ones((8, 8, 1))
        >>> resized_crop(img, 2, 2, 4, 4).shape
        (8, 8, 1)
    """
    image = check_image(image)
    out_h, out_w = size if size is not None else image.shape[:2]
    dtype = image.dtype
    rows, cols = pixel_grid(out_h, out_w, dtype)
    top, left = jnp.asarray(top, dtype), jnp.asarray(left, dtype)
    step_y = jnp.asarray(height, dtype) / out_h
    step_x = jnp.asarray(width, dtype) / out_w
    y = top + (rows + HALF) * step_y - HALF
    x = left + (cols + HALF) * step_x - HALF
    return map_coordinates(image, y, x, mode="nearest")


def sample_crop_box(
    key: jax.Array,
    height: int,
    width: int,
    *,
    scale: tuple[float, float] = DEFAULT_SCALE,
    ratio: tuple[float, float] = DEFAULT_RATIO,
) -> tuple[jax.Array, jax.Array, jax.Array, jax.Array]:
    """Draw the box of :func:`random_resized_crop`.

    The area fraction ``s`` is uniform in ``scale``; the log of the aspect change ``r`` is uniform
    in ``log(ratio)``; the box has ``h = H sqrt(s / r)`` and ``w = W sqrt(s r)`` (clipped to the
    image), so ``ratio`` is relative to the image's own aspect, and its position is uniform.

    Args:
        key: a PRNG key.
        height: image rows ``H``.
        width: image columns ``W``.
        scale: interval of the area fraction.
        ratio: interval of the aspect change ``(w / h) / (W / H)``.

    Returns:
        ``(top, left, box_height, box_width)``, float32 scalars.

    Example:
        >>> box = sample_crop_box(jax.random.key(0), 32, 32)
        >>> len(box)
        4
    """
    s_low, s_high = check_range(*scale, name="scale")
    r_low, r_high = check_range(*ratio, name="ratio")
    if s_low <= 0 or s_high > 1:
        raise ValueError(f"scale must lie in (0, 1]; got {scale}")
    if r_low <= 0:
        raise ValueError(f"ratio must be positive; got {ratio}")
    k_scale, k_ratio, k_top, k_left = jax.random.split(key, 4)
    area = jax.random.uniform(k_scale, (), minval=s_low, maxval=s_high)
    log_r = jax.random.uniform(k_ratio, (), minval=math.log(r_low), maxval=math.log(r_high))
    aspect = jnp.exp(log_r)
    box_h = jnp.minimum(height * jnp.sqrt(area / aspect), height)
    box_w = jnp.minimum(width * jnp.sqrt(area * aspect), width)
    top = jax.random.uniform(k_top, ()) * (height - box_h)
    left = jax.random.uniform(k_left, ()) * (width - box_w)
    return top, left, box_h, box_w


def random_resized_crop(
    key: jax.Array,
    image: jax.Array,
    *,
    scale: tuple[float, float] = DEFAULT_SCALE,
    ratio: tuple[float, float] = DEFAULT_RATIO,
    size: tuple[int, int] | None = None,
) -> jax.Array:
    """Crop a random box (area fraction in ``scale``, aspect change in ``ratio``) and resize it.

    This is the "Inception" crop of Szegedy et al., without the rejection loop: out-of-range boxes
    are clipped to the image instead, which keeps the op jittable.

    Args:
        key: a PRNG key.
        image: shape ``(H, W, C)``, floating point in ``[0, 1]``.
        scale: interval of the fraction of the image area the box covers.
        ratio: interval of the aspect change relative to the image's aspect.
        size: output ``(H_out, W_out)``; ``None`` keeps ``(H, W)``.

    Returns:
        Shape ``(H_out, W_out, C)``.

    Example:
        >>> random_resized_crop(jax.random.key(0), jnp.ones((32, 32, 3)), scale=(0.5, 1.0)).shape
        (32, 32, 3)
    """
    image = check_image(image)
    top, left, box_h, box_w = sample_crop_box(key, image.shape[0], image.shape[1], scale=scale, ratio=ratio)
    return resized_crop(image, top, left, box_h, box_w, size=size)
