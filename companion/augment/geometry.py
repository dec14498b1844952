"""Geometric augmentations: flips, rotation, translation, shear, zoom and general affine maps.

Each map is written *forward* (where an input pixel goes) about the image centre
``(c_x, c_y) = ((W-1)/2, (H-1)/2)``, then inverted and resampled by pulling every output pixel
from the input (:func:`companion.augment.sampling.warp_affine`). Positive angles rotate
counter-clockwise on screen; positive ``dx`` moves content right and positive ``dy`` moves it down.
Pixels that come from outside the image get ``fill``.

Every random form takes ``key`` first, draws its parameters, then calls the deterministic form.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp

from companion.augment.checks import check_image, check_probability, check_range
from companion.augment.sampling import invert_affine, warp_affine

DEFAULT_FLIP_PROBABILITY = 0.5


def flip_left_right(image: jax.Array) -> jax.Array:
    """Mirror an image horizontally (the column order is reversed).

    Args:
        image: shape ``(H, W, C)``, floating point in ``[0, 1]``.

    Returns:
        The mirrored image, shape ``(H, W, C)``.

    Example:
        >>> flip_left_right(jnp.arange(3.0).reshape(1, 3, 1))[0, :, 0]
        Array([2., 1., 0.], dtype=float32)
    """
    return check_image(image)[:, ::-1, :]


def flip_up_down(image: jax.Array) -> jax.Array:
    """Mirror an image vertically (the row order is reversed).

    Args:
        image: shape ``(H, W, C)``, floating point in ``[0, 1]``.

    Returns:
        The mirrored image, shape ``(H, W, C)``.

    Example:
        >>> flip_up_down(jnp.arange(3.0).reshape(3, 1, 1))[:, 0, 0]
        Array([2., 1., 0.], dtype=float32)
    """
    return check_image(image)[::-1, :, :]


def affine_matrix(
    height: int,
    width: int,
    *,
    degrees=0.0,
    dx=0.0,
    dy=0.0,
    scale=1.0,
    shear_x=0.0,
    shear_y=0.0,
    dtype=jnp.float32,
) -> jax.Array:
    """Build the forward affine map: shear, then scale, then rotate about the centre, then shift.

    With centred coordinates ``u = x - c_x`` and ``v = y - c_y`` and ``theta`` in radians, the
    forward map is

    .. math::

        \\begin{pmatrix} x' \\\\ y' \\end{pmatrix} =
        \\begin{pmatrix} \\cos\\theta & \\sin\\theta \\\\ -\\sin\\theta & \\cos\\theta \\end{pmatrix}
        s \\begin{pmatrix} 1 & h_x \\\\ h_y & 1 \\end{pmatrix}
        \\begin{pmatrix} u \\\\ v \\end{pmatrix} +
        \\begin{pmatrix} c_x + d_x \\\\ c_y + d_y \\end{pmatrix}.

    Args:
        height: image rows ``H``.
        width: image columns ``W``.
        degrees: counter-clockwise rotation on screen.
        dx: shift to the right, in pixels.
        dy: shift down, in pixels.
        scale: zoom factor ``s`` (``> 1`` enlarges).
        shear_x: horizontal shear ``h_x`` (x moves by ``h_x`` times the row offset).
        shear_y: vertical shear ``h_y``.
        dtype: the matrix dtype.

    Returns:
        The forward map, shape ``(3, 3)``, acting on ``(x, y, 1)``.

    Example:
        >>> affine_matrix(3, 3, dx=1.0)[0, 2]
        Array(1., dtype=float32)
    """
    theta = jnp.deg2rad(jnp.asarray(degrees, dtype))
    cos, sin = jnp.cos(theta), jnp.sin(theta)
    s = jnp.asarray(scale, dtype)
    hx, hy = jnp.asarray(shear_x, dtype), jnp.asarray(shear_y, dtype)
    a, b = s * (cos + sin * hy), s * (cos * hx + sin)
    c, d = s * (-sin + cos * hy), s * (-sin * hx + cos)
    cx, cy = jnp.asarray((width - 1) / 2, dtype), jnp.asarray((height - 1) / 2, dtype)
    tx = cx + jnp.asarray(dx, dtype) - (a * cx + b * cy)
    ty = cy + jnp.asarray(dy, dtype) - (c * cx + d * cy)
    zero, one = jnp.zeros((), dtype), jnp.ones((), dtype)
    return jnp.stack([jnp.stack([a, b, tx]), jnp.stack([c, d, ty]), jnp.stack([zero, zero, one])])


def flip_matrix(height: int, width: int, *, horizontal: bool, dtype=jnp.float32) -> jax.Array:
    """Return the forward map of a flip (its own inverse).

    Args:
        height: image rows ``H``.
        width: image columns ``W``.
        horizontal: ``True`` for a left-right flip ``x' = W-1-x``, else up-down ``y' = H-1-y``.
        dtype: the matrix dtype.

    Returns:
        Shape ``(3, 3)``.

    Example:
        >>> flip_matrix(2, 4, horizontal=True)[0].tolist()
        [-1.0, 0.0, 3.0]
    """
    if horizontal:
        rows = [[-1.0, 0.0, width - 1.0], [0.0, 1.0, 0.0], [0.0, 0.0, 1.0]]
    else:
        rows = [[1.0, 0.0, 0.0], [0.0, -1.0, height - 1.0], [0.0, 0.0, 1.0]]
    return jnp.asarray(rows, dtype)


def apply_forward(image: jax.Array, forward: jax.Array, *, fill: float = 0.0) -> jax.Array:
    """Move the pixels of ``image`` by a forward affine map, resampling bilinearly.

    Args:
        image: shape ``(H, W, C)``.
        forward: forward map, shape ``(3, 3)``, e.g. from :func:`affine_matrix`.
        fill: value for pixels that come from outside the image.

    Returns:
        The transformed image, shape ``(H, W, C)``.

    Example:
        >>> img = jnp.eye(3)[..., None]
        >>> apply_forward(img, affine_matrix(3, 3)).shape
        (3, 3, 1)
    """
    return warp_affine(image, invert_affine(forward), fill=fill)


def affine(
    image: jax.Array,
    *,
    degrees=0.0,
    dx=0.0,
    dy=0.0,
    scale=1.0,
    shear_x=0.0,
    shear_y=0.0,
    fill: float = 0.0,
) -> jax.Array:
    """Apply a rotation, shift, zoom and shear in one bilinear resampling (see :func:`affine_matrix`).

    Args:
        image: shape ``(H, W, C)``, floating point in ``[0, 1]``.
        degrees: counter-clockwise rotation.
        dx: shift right, in pixels.
        dy: shift down, in pixels.
        scale: zoom factor (``> 1`` enlarges).
        shear_x: horizontal shear factor.
        shear_y: vertical shear factor.
        fill: value for pixels that come from outside the image.

    Returns:
        The transformed image, shape ``(H, W, C)``.

    Example:
        >>> affine(jnp.ones((8, 8, 1)), degrees=10.0, scale=1.1).shape
        (8, 8, 1)
    """
    image = check_image(image)
    forward = affine_matrix(
        image.shape[0], image.shape[1], degrees=degrees, dx=dx, dy=dy, scale=scale,
        shear_x=shear_x, shear_y=shear_y, dtype=image.dtype,
    )
    return apply_forward(image, forward, fill=fill)


def rotate(image: jax.Array, degrees, *, fill: float = 0.0) -> jax.Array:
    """Rotate an image counter-clockwise about its centre, with bilinear interpolation.

    Args:
        image: shape ``(H, W, C)``, floating point in ``[0, 1]``.
        degrees: the angle; negative values rotate clockwise.
        fill: value for the corners that come from outside the image.

    Returns:
        The rotated image, shape ``(H, W, C)``.

    Example:
        >>> img = jnp.zeros((3, 3, 1)).at[1, 2, 0].set(1.0)   # a dot right of the centre
        >>> jnp.argmax(rotate(img, 90.0)[..., 0])               # moves above it: row 0, col 1
        Array(1, dtype=int32)
    """
    return affine(image, degrees=degrees, fill=fill)


def translate(image: jax.Array, dx, dy, *, fill: float = 0.0) -> jax.Array:
    """Shift an image by ``dx`` pixels right and ``dy`` pixels down (fractional shifts interpolate).

    Args:
        image: shape ``(H, W, C)``, floating point in ``[0, 1]``.
        dx: shift to the right, in pixels.
        dy: shift down, in pixels.
        fill: value for the pixels uncovered by the shift.

    Returns:
        The shifted image, shape ``(H, W, C)``.

    Example:
        >>> translate(jnp.arange(3.0).reshape(1, 3, 1), 1.0, 0.0)[0, :, 0]
        Array([0., 0., 1.], dtype=float32)
    """
    return affine(image, dx=dx, dy=dy, fill=fill)


def shear(image: jax.Array, shear_x, shear_y=0.0, *, fill: float = 0.0) -> jax.Array:
    """Shear an image about its centre: ``x' = x + h_x v`` and ``y' = y + h_y u``.

    Args:
        image: shape ``(H, W, C)``, floating point in ``[0, 1]``.
        shear_x: horizontal shear factor ``h_x`` (``0.2`` leans the image by about 11 degrees).
        shear_y: vertical shear factor ``h_y``.
        fill: value for pixels that come from outside the image.

    Returns:
        The sheared image, shape ``(H, W, C)``.

    Example:
        >>> shear(jnp.ones((8, 8, 1)), 0.2).shape
        (8, 8, 1)
    """
    return affine(image, shear_x=shear_x, shear_y=shear_y, fill=fill)


def zoom(image: jax.Array, factor, *, fill: float = 0.0) -> jax.Array:
    """Scale an image about its centre, keeping its size (``factor > 1`` zooms in).

    Args:
        image: shape ``(H, W, C)``, floating point in ``[0, 1]``.
        factor: the scale factor, ``> 0``.
        fill: value for pixels that come from outside the image when zooming out.

    Returns:
        The zoomed image, shape ``(H, W, C)``.

    Example:
        >>> zoom(jnp.ones((8, 8, 1)), 1.5).shape
        (8, 8, 1)
    """
    return affine(image, scale=factor, fill=fill)


# --- random forms: each samples a forward matrix, so that a Pipeline can fuse consecutive ones ---


def _uniform(key: jax.Array, low, high, dtype=jnp.float32) -> jax.Array:
    return jax.random.uniform(key, (), dtype, minval=low, maxval=high)


def sample_flip_left_right(key: jax.Array, height: int, width: int, *, p: float = DEFAULT_FLIP_PROBABILITY):
    """Draw the forward map of :func:`random_flip_left_right`: a flip with probability ``p``.

    Args:
        key: a PRNG key.
        height: image rows.
        width: image columns.
        p: probability of flipping.

    Returns:
        Shape ``(3, 3)``: the flip or the identity.

    Example:
        >>> sample_flip_left_right(jax.random.key(0), 4, 4).shape
        (3, 3)
    """
    flip = jax.random.bernoulli(key, check_probability(p))
    return jnp.where(flip, flip_matrix(height, width, horizontal=True), jnp.eye(3))


def sample_flip_up_down(key: jax.Array, height: int, width: int, *, p: float = DEFAULT_FLIP_PROBABILITY):
    """Draw the forward map of :func:`random_flip_up_down`: a flip with probability ``p``.

    Args:
        key: a PRNG key.
        height: image rows.
        width: image columns.
        p: probability of flipping.

    Returns:
        Shape ``(3, 3)``: the flip or the identity.

    Example:
        >>> sample_flip_up_down(jax.random.key(0), 4, 4).shape
        (3, 3)
    """
    flip = jax.random.bernoulli(key, check_probability(p))
    return jnp.where(flip, flip_matrix(height, width, horizontal=False), jnp.eye(3))


def sample_affine(
    key: jax.Array,
    height: int,
    width: int,
    *,
    max_degrees: float = 0.0,
    max_dx: float = 0.0,
    max_dy: float | None = None,
    scale: tuple[float, float] = (1.0, 1.0),
    max_shear: float = 0.0,
) -> jax.Array:
    """Draw the forward map of :func:`random_affine` (all parameters uniform and independent).

    Args:
        key: a PRNG key.
        height: image rows.
        width: image columns.
        max_degrees: rotation drawn from ``[-max_degrees, max_degrees]``.
        max_dx: horizontal shift drawn from ``[-max_dx, max_dx]`` pixels.
        max_dy: vertical shift bound; ``None`` means ``max_dx``.
        scale: the interval of zoom factors.
        max_shear: both shear factors drawn from ``[-max_shear, max_shear]``.

    Returns:
        Shape ``(3, 3)``.

    Example:
        >>> sample_affine(jax.random.key(0), 8, 8, max_degrees=15.0).shape
        (3, 3)
    """
    max_dy = max_dx if max_dy is None else max_dy
    low, high = check_range(*scale, name="scale")
    keys = jax.random.split(key, 6)
    return affine_matrix(
        height, width,
        degrees=_uniform(keys[0], -max_degrees, max_degrees),
        dx=_uniform(keys[1], -max_dx, max_dx),
        dy=_uniform(keys[2], -max_dy, max_dy),
        scale=_uniform(keys[3], low, high),
        shear_x=_uniform(keys[4], -max_shear, max_shear),
        shear_y=_uniform(keys[5], -max_shear, max_shear),
    )


def sample_rotate(key: jax.Array, height: int, width: int, *, max_degrees: float) -> jax.Array:
    """Draw the forward map of :func:`random_rotate`.

    Args:
        key: a PRNG key.
        height: image rows.
        width: image columns.
        max_degrees: the angle is uniform in ``[-max_degrees, max_degrees]``.

    Returns:
        Shape ``(3, 3)``.

    Example:
        >>> sample_rotate(jax.random.key(0), 8, 8, max_degrees=30.0).shape
        (3, 3)
    """
    return affine_matrix(height, width, degrees=_uniform(key, -max_degrees, max_degrees))


def sample_translate(
    key: jax.Array, height: int, width: int, *, max_dx: float, max_dy: float | None = None
) -> jax.Array:
    """Draw the forward map of :func:`random_translate`.

    Args:
        key: a PRNG key.
        height: image rows.
        width: image columns.
        max_dx: ``dx`` is uniform in ``[-max_dx, max_dx]`` pixels.
        max_dy: bound for ``dy``; ``None`` means ``max_dx``.

    Returns:
        Shape ``(3, 3)``.

    Example:
        >>> sample_translate(jax.random.key(0), 8, 8, max_dx=2.0).shape
        (3, 3)
    """
    return sample_affine(key, height, width, max_dx=max_dx, max_dy=max_dy)


def sample_shear(key: jax.Array, height: int, width: int, *, max_shear: float) -> jax.Array:
    """Draw the forward map of :func:`random_shear`.

    Args:
        key: a PRNG key.
        height: image rows.
        width: image columns.
        max_shear: both shear factors are uniform in ``[-max_shear, max_shear]``.

    Returns:
        Shape ``(3, 3)``.

    Example:
        >>> sample_shear(jax.random.key(0), 8, 8, max_shear=0.2).shape
        (3, 3)
    """
    return sample_affine(key, height, width, max_shear=max_shear)


def sample_zoom(key: jax.Array, height: int, width: int, *, scale: tuple[float, float]) -> jax.Array:
    """Draw the forward map of :func:`random_zoom`.

    Args:
        key: a PRNG key.
        height: image rows.
        width: image columns.
        scale: the zoom factor is uniform in this interval.

    Returns:
        Shape ``(3, 3)``.

    Example:
        >>> sample_zoom(jax.random.key(0), 8, 8, scale=(0.9, 1.1)).shape
        (3, 3)
    """
    return sample_affine(key, height, width, scale=scale)


def _random_geometric(sampler, key, image, fill, **options):
    image = check_image(image)
    forward = sampler(key, image.shape[0], image.shape[1], **options).astype(image.dtype)
    return apply_forward(image, forward, fill=fill)


def random_flip_left_right(key: jax.Array, image: jax.Array, *, p: float = DEFAULT_FLIP_PROBABILITY):
    """Flip an image left-right with probability ``p``.

    Args:
        key: a PRNG key.
        image: shape ``(H, W, C)``, floating point in ``[0, 1]``.
        p: probability of flipping.

    Returns:
        Shape ``(H, W, C)``.

    Example:
        >>> random_flip_left_right(jax.random.key(0), jnp.ones((4, 4, 1))).shape
        (4, 4, 1)
    """
    image = check_image(image)
    return jnp.where(jax.random.bernoulli(key, check_probability(p)), image[:, ::-1, :], image)


def random_flip_up_down(key: jax.Array, image: jax.Array, *, p: float = DEFAULT_FLIP_PROBABILITY):
    """Flip an image up-down with probability ``p``.

    Args:
        key: a PRNG key.
        image: shape ``(H, W, C)``, floating point in ``[0, 1]``.
        p: probability of flipping.

    Returns:
        Shape ``(H, W, C)``.

    Example:
        >>> random_flip_up_down(jax.random.key(0), jnp.ones((4, 4, 1))).shape
        (4, 4, 1)
    """
    image = check_image(image)
    return jnp.where(jax.random.bernoulli(key, check_probability(p)), image[::-1, :, :], image)


def random_rotate(key: jax.Array, image: jax.Array, *, max_degrees: float, fill: float = 0.0):
    """Rotate by an angle drawn uniformly from ``[-max_degrees, max_degrees]``.

    Args:
        key: a PRNG key.
        image: shape ``(H, W, C)``, floating point in ``[0, 1]``.
        max_degrees: the largest rotation.
        fill: value for pixels that come from outside the image.

    Returns:
        Shape ``(H, W, C)``.

    Example:
        >>> random_rotate(jax.random.key(0), jnp.ones((8, 8, 1)), max_degrees=15.0).shape
        (8, 8, 1)
    """
    return _random_geometric(sample_rotate, key, image, fill, max_degrees=max_degrees)


def random_translate(
    key: jax.Array, image: jax.Array, *, max_dx: float, max_dy: float | None = None, fill: float = 0.0
):
    """Shift by ``(dx, dy)`` drawn uniformly from ``[-max_dx, max_dx] x [-max_dy, max_dy]`` pixels.

    Args:
        key: a PRNG key.
        image: shape ``(H, W, C)``, floating point in ``[0, 1]``.
        max_dx: the largest horizontal shift, in pixels.
        max_dy: the largest vertical shift; ``None`` means ``max_dx``.
        fill: value for the uncovered pixels.

    Returns:
        Shape ``(H, W, C)``.

    Example:
        >>> random_translate(jax.random.key(0), jnp.ones((8, 8, 1)), max_dx=2.0).shape
        (8, 8, 1)
    """
    return _random_geometric(sample_translate, key, image, fill, max_dx=max_dx, max_dy=max_dy)


def random_shear(key: jax.Array, image: jax.Array, *, max_shear: float, fill: float = 0.0):
    """Shear by factors drawn uniformly from ``[-max_shear, max_shear]``.

    Args:
        key: a PRNG key.
        image: shape ``(H, W, C)``, floating point in ``[0, 1]``.
        max_shear: the largest shear factor.
        fill: value for pixels that come from outside the image.

    Returns:
        Shape ``(H, W, C)``.

    Example:
        >>> random_shear(jax.random.key(0), jnp.ones((8, 8, 1)), max_shear=0.2).shape
        (8, 8, 1)
    """
    return _random_geometric(sample_shear, key, image, fill, max_shear=max_shear)


def random_zoom(
    key: jax.Array, image: jax.Array, *, scale: tuple[float, float], fill: float = 0.0
):
    """Zoom by a factor drawn uniformly from ``scale``.

    Args:
        key: a PRNG key.
        image: shape ``(H, W, C)``, floating point in ``[0, 1]``.
        scale: the interval ``(low, high)`` of zoom factors.
        fill: value for pixels that come from outside the image.

    Returns:
        Shape ``(H, W, C)``.

    Example:
        >>> random_zoom(jax.random.key(0), jnp.ones((8, 8, 1)), scale=(0.9, 1.1)).shape
        (8, 8, 1)
    """
    return _random_geometric(sample_zoom, key, image, fill, scale=scale)


def random_affine(
    key: jax.Array,
    image: jax.Array,
    *,
    max_degrees: float = 0.0,
    max_dx: float = 0.0,
    max_dy: float | None = None,
    scale: tuple[float, float] = (1.0, 1.0),
    max_shear: float = 0.0,
    fill: float = 0.0,
):
    """Apply a random rotation, shift, zoom and shear in a single resampling.

    Args:
        key: a PRNG key.
        image: shape ``(H, W, C)``, floating point in ``[0, 1]``.
        max_degrees: rotation bound.
        max_dx: horizontal shift bound, in pixels.
        max_dy: vertical shift bound; ``None`` means ``max_dx``.
        scale: the interval of zoom factors.
        max_shear: shear bound.
        fill: value for pixels that come from outside the image.

    Returns:
        Shape ``(H, W, C)``.

    Example:
        >>> random_affine(jax.random.key(0), jnp.ones((8, 8, 1)), max_degrees=10.0).shape
        (8, 8, 1)
    """
    return _random_geometric(
        sample_affine, key, image, fill, max_degrees=max_degrees, max_dx=max_dx, max_dy=max_dy,
        scale=scale, max_shear=max_shear,
    )

