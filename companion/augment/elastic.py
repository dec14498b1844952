"""Elastic deformation (Simard et al., 2003): a smooth random displacement field, then resampling.

Each pixel draws a displacement ``(dy, dx)`` uniform in ``[-1, 1]^2``; the two fields are smoothed
with a Gaussian of standard deviation ``sigma`` (zero padding) and scaled by ``alpha``:

.. math::

    \\Delta = \\alpha\\, (G_\\sigma * U), \\qquad I_{out}(y, x) = I(y + \\Delta_y, x + \\Delta_x).

Small ``sigma`` gives a jittery, almost random field; large ``sigma`` a gentle, rubber-sheet warp.
The noise is drawn exactly as in dm-pix's ``elastic_deformation``, so the two agree for the same key.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp

from companion.augment.checks import as_param, check_image
from companion.augment.filters import gaussian_blur, kernel_radius
from companion.augment.sampling import map_coordinates, pixel_grid

DISPLACEMENT_AXES = 2  # (dy, dx)


def warp(image: jax.Array, flow: jax.Array, *, fill: float = 0.0, mode: str = "constant") -> jax.Array:
    """Move pixels by a dense displacement field: output ``(y, x)`` reads input ``(y + dy, x + dx)``.

    Args:
        image: shape ``(H, W, C)``, floating point in ``[0, 1]``.
        flow: displacements in pixels, shape ``(H, W, 2)``, last axis ``(dy, dx)``.
        fill: value for pixels read from outside the image when ``mode="constant"``.
        mode: ``"constant"`` or ``"nearest"`` (repeat the edge).

    Returns:
        The warped image, shape ``(H, W, C)``.

    Raises:
        ValueError: ``flow`` does not have shape ``(H, W, 2)``.

    Example:
        >>> warp(jnp.ones((4, 4, 1)), jnp.zeros((4, 4, 2))).shape
        (4, 4, 1)
    """
    image = check_image(image)
    expected = (*image.shape[:2], DISPLACEMENT_AXES)
    if tuple(flow.shape) != expected:
        raise ValueError(f"flow must have shape {expected} (dy, dx per pixel); got shape {tuple(flow.shape)}")
    rows, cols = pixel_grid(image.shape[0], image.shape[1], image.dtype)
    flow = flow.astype(image.dtype)
    return map_coordinates(image, rows + flow[..., 0], cols + flow[..., 1], fill=fill, mode=mode)


def elastic_field(key: jax.Array, height: int, width: int, alpha, sigma: float, *, dtype=jnp.float32):
    """Draw the smoothed displacement field of :func:`elastic_deform`.

    Args:
        key: a PRNG key.
        height: image rows ``H``.
        width: image columns ``W``.
        alpha: scale of the displacements, in pixels (may be traced).
        sigma: smoothness, the Gaussian's standard deviation in pixels (concrete).

    Returns:
        Shape ``(H, W, 2)``: ``(dy, dx)`` per pixel.

    Example:
        >>> elastic_field(jax.random.key(0), 8, 8, 2.0, 1.5).shape
        (8, 8, 2)
    """
    key_y, key_x = jax.random.split(key)
    shape = (height, width, 1)
    noise_y = jax.random.uniform(key_y, shape, dtype) * 2 - 1
    noise_x = jax.random.uniform(key_x, shape, dtype) * 2 - 1
    radius = kernel_radius(sigma)
    smooth_y = gaussian_blur(noise_y, sigma, radius=radius, mode="constant")
    smooth_x = gaussian_blur(noise_x, sigma, radius=radius, mode="constant")
    return as_param(alpha, dtype) * jnp.concatenate([smooth_y, smooth_x], axis=-1)


def elastic_deform(
    key: jax.Array, image: jax.Array, alpha, sigma: float, *, fill: float = 0.0, mode: str = "constant"
) -> jax.Array:
    """Warp an image with a random smooth displacement field (elastic distortion).

    Args:
        key: a PRNG key.
        image: shape ``(H, W, C)``, floating point in ``[0, 1]``.
        alpha: displacement scale in pixels (``0`` is the identity); Simard et al. used about
            ``34`` with ``sigma = 4`` on 28x28 digits.
        sigma: smoothness of the field, in pixels (a concrete number).
        fill: value for pixels read from outside the image when ``mode="constant"``.
        mode: ``"constant"`` or ``"nearest"``.

    Returns:
        The deformed image, shape ``(H, W, C)``.

    Example:
        >>> elastic_deform(jax.random.key(0), jnp.ones((8, 8, 1)), 2.0, 1.5).shape
        (8, 8, 1)
    """
    image = check_image(image)
    flow = elastic_field(key, image.shape[0], image.shape[1], alpha, sigma, dtype=image.dtype)
    return warp(image, flow, fill=fill, mode=mode)


def random_elastic_deform(
    key: jax.Array, image: jax.Array, *, max_alpha: float, sigma: float, fill: float = 0.0
) -> jax.Array:
    """Elastic deformation with ``alpha`` drawn uniformly from ``[0, max_alpha]``.

    Args:
        key: a PRNG key.
        image: shape ``(H, W, C)``, floating point in ``[0, 1]``.
        max_alpha: the largest displacement scale, in pixels.
        sigma: smoothness of the field, in pixels.
        fill: value for pixels read from outside the image.

    Returns:
        Shape ``(H, W, C)``.

    Example:
        >>> random_elastic_deform(jax.random.key(0), jnp.ones((8, 8, 1)), max_alpha=3.0, sigma=2.0).shape
        (8, 8, 1)
    """
    key_alpha, key_field = jax.random.split(key)
    alpha = jax.random.uniform(key_alpha, (), minval=0.0, maxval=max_alpha)
    return elastic_deform(key_field, image, alpha, sigma, fill=fill)
