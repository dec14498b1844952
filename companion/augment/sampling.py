"""The shared resampler: bilinear interpolation at arbitrary coordinates, and affine coordinate maps.

Every geometric augmentation (rotation, translation, shear, zoom, crops, elastic deformation) is
*backward* (pull) resampling: for each output pixel we compute where it comes from in the input,
``(y_in, x_in)``, and interpolate the input there. With ``y0 = floor(y_in)``, ``x0 = floor(x_in)``,
``a = y_in - y0`` and ``b = x_in - x0``, bilinear interpolation is

.. math::

    I_{out} = (1-a)(1-b)\\,I[y_0, x_0] + (1-a)\\,b\\,I[y_0, x_0+1]
            + a\\,(1-b)\\,I[y_0+1, x_0] + a\\,b\\,I[y_0+1, x_0+1].

Pixel centres sit at integer coordinates, ``x`` counts columns to the right and ``y`` rows down.
Affine maps are 3x3 matrices acting on homogeneous column vectors ``(x, y, 1)``.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp

MODES = ("constant", "nearest")


def map_coordinates(
    image: jax.Array, rows: jax.Array, cols: jax.Array, *, fill: float = 0.0, mode: str = "constant"
) -> jax.Array:
    """Sample ``image`` bilinearly at fractional pixel coordinates.

    Args:
        image: the input, shape ``(H, W, C)``.
        rows: the row coordinate ``y`` to read for each output pixel, shape ``(H_out, W_out)``.
        cols: the column coordinate ``x``, same shape as ``rows``.
        fill: the value of pixels outside the image when ``mode="constant"``.
        mode: ``"constant"`` (outside pixels equal ``fill``) or ``"nearest"`` (the edge pixel
            is repeated).

    Returns:
        The sampled image, shape ``(H_out, W_out, C)``, dtype of ``image``.

    Raises:
        ValueError: ``mode`` is unknown or ``rows`` and ``cols`` differ in shape.

    Example:
        >>> img = jnp.arange(4.0).reshape(2, 2, 1)
        >>> map_coordinates(img, jnp.array([[0.5]]), jnp.array([[0.5]]))[..., 0]
        Array([[1.5]], dtype=float32)
    """
    if mode not in MODES:
        raise ValueError(f"mode must be one of {MODES}; got {mode!r}")
    if rows.shape != cols.shape:
        raise ValueError(f"rows and cols must have the same shape; got {rows.shape} and {cols.shape}")
    height, width, channels = image.shape
    dtype = image.dtype
    rows, cols = rows.astype(dtype), cols.astype(dtype)
    # A one-pixel border (the fill, or the repeated edge) makes every 2x2 neighbourhood valid:
    # coordinates are clipped to the border, where all four corners hold the border value.
    border = ((1, 1), (1, 1), (0, 0))
    if mode == "nearest":
        rows, cols = jnp.clip(rows, 0, height - 1), jnp.clip(cols, 0, width - 1)
        padded = jnp.pad(image, border, mode="edge")
    else:
        padded = jnp.pad(image, border, constant_values=jnp.asarray(fill, dtype))
    padded = padded.reshape(height + 2, (width + 2) * channels)
    y = jnp.clip(rows + 1, 0, height + 1)
    x = jnp.clip(cols + 1, 0, width + 1)
    row0 = jnp.minimum(jnp.floor(y), height)
    col0 = jnp.minimum(jnp.floor(x), width)
    frac_r, frac_c = (y - row0)[..., None], (x - col0)[..., None]
    starts_r = row0.astype(jnp.int32).ravel()
    starts_c = col0.astype(jnp.int32).ravel() * channels
    # One gather of a 2x2 neighbourhood (all channels) per output pixel.
    windows = jax.vmap(
        lambda r, c: jax.lax.dynamic_slice(padded, (r, c), (2, 2 * channels))
    )(starts_r, starts_c).reshape(*rows.shape, 2, 2, channels)
    top = windows[..., 0, 0, :] * (1 - frac_c) + windows[..., 0, 1, :] * frac_c
    bottom = windows[..., 1, 0, :] * (1 - frac_c) + windows[..., 1, 1, :] * frac_c
    return top * (1 - frac_r) + bottom * frac_r


def pixel_grid(height: int, width: int, dtype=jnp.float32) -> tuple[jax.Array, jax.Array]:
    """Return the row and column coordinates of every pixel centre.

    Args:
        height: number of rows ``H``.
        width: number of columns ``W``.
        dtype: the coordinate dtype.

    Returns:
        ``(rows, cols)``, each of shape ``(H, W)``.

    Example:
        >>> rows, cols = pixel_grid(2, 3)
        >>> cols[0]
        Array([0., 1., 2.], dtype=float32)
    """
    rows = jnp.arange(height, dtype=dtype)[:, None] * jnp.ones((1, width), dtype)
    cols = jnp.ones((height, 1), dtype) * jnp.arange(width, dtype=dtype)[None, :]
    return rows, cols


def invert_affine(matrix: jax.Array) -> jax.Array:
    """Invert a 3x3 affine matrix ``[[a, b, tx], [c, d, ty], [0, 0, 1]]`` in closed form.

    Args:
        matrix: the affine map, shape ``(3, 3)``, with last row ``(0, 0, 1)``.

    Returns:
        The inverse map, shape ``(3, 3)``.

    Example:
        >>> m = jnp.array([[2.0, 0, 1], [0, 2, 0], [0, 0, 1]])
        >>> invert_affine(m) @ m
        Array([[1., 0., 0.],
               [0., 1., 0.],
               [0., 0., 1.]], dtype=float32)
    """
    a, b, tx = matrix[0, 0], matrix[0, 1], matrix[0, 2]
    c, d, ty = matrix[1, 0], matrix[1, 1], matrix[1, 2]
    det = a * d - b * c
    ia, ib, ic, id_ = d / det, -b / det, -c / det, a / det
    zero, one = jnp.zeros_like(a), jnp.ones_like(a)
    return jnp.stack([
        jnp.stack([ia, ib, -(ia * tx + ib * ty)]),
        jnp.stack([ic, id_, -(ic * tx + id_ * ty)]),
        jnp.stack([zero, zero, one]),
    ])


def affine_coordinates(matrix: jax.Array, height: int, width: int) -> tuple[jax.Array, jax.Array]:
    """Apply a pull map to every output pixel centre.

    Args:
        matrix: the 3x3 map from output ``(x, y, 1)`` to input ``(x, y, 1)``.
        height: output rows ``H``.
        width: output columns ``W``.

    Returns:
        ``(rows, cols)`` in the input, each of shape ``(H, W)``.

    Example:
        >>> rows, cols = affine_coordinates(jnp.eye(3), 2, 2)
        >>> rows.tolist()
        [[0.0, 0.0], [1.0, 1.0]]
    """
    rows, cols = pixel_grid(height, width, matrix.dtype)
    x_in = matrix[0, 0] * cols + matrix[0, 1] * rows + matrix[0, 2]
    y_in = matrix[1, 0] * cols + matrix[1, 1] * rows + matrix[1, 2]
    return y_in, x_in


def warp_affine(
    image: jax.Array, matrix: jax.Array, *, fill: float = 0.0, mode: str = "constant"
) -> jax.Array:
    """Resample ``image`` through an affine pull map (output pixel to input pixel).

    Args:
        image: the input, shape ``(H, W, C)``.
        matrix: 3x3 map from output ``(x, y, 1)`` to input ``(x, y, 1)``.
        fill: the value of pixels that come from outside the image.
        mode: ``"constant"`` or ``"nearest"``, as in :func:`map_coordinates`.

    Returns:
        The warped image, shape ``(H, W, C)``.

    Example:
        >>> img = jnp.ones((4, 4, 1))
        >>> warp_affine(img, jnp.eye(3)).shape
        (4, 4, 1)
    """
    rows, cols = affine_coordinates(jnp.asarray(matrix, image.dtype), image.shape[0], image.shape[1])
    return map_coordinates(image, rows, cols, fill=fill, mode=mode)
