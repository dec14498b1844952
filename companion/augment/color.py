"""Lighting and colour: brightness, contrast, gamma (any image) and saturation, hue (RGB only).

With ``x`` in ``[0, 1]`` and ``mu_c`` the mean of channel ``c`` over the image:

* brightness: ``clip(x + delta, 0, 1)``;
* contrast: ``clip(mu_c + f (x - mu_c), 0, 1)``;
* gamma: ``clip(gain x^gamma, 0, 1)`` (``gamma < 1`` brightens dark regions);
* saturation and hue work in HSV: saturation multiplies ``S`` by ``f``, hue adds ``delta`` turns
  to ``H`` (modulo one). These follow TensorFlow's and dm-pix's definitions.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp

from companion.augment.checks import RGB, as_param, check_image, check_non_negative, check_range

HUE_SECTORS = 6.0
_HSV_OFFSETS = (5.0, 3.0, 1.0)  # k offsets of the R, G, B channels in the HSV-to-RGB formula
_SPATIAL_AXES = (0, 1)


def adjust_brightness(image: jax.Array, delta) -> jax.Array:
    """Add ``delta`` to every pixel: ``clip(x + delta, 0, 1)``.

    Args:
        image: shape ``(H, W, C)``, floating point in ``[0, 1]``.
        delta: the shift (``0`` is the identity; ``0.2`` brightens, ``-0.2`` darkens).

    Returns:
        Shape ``(H, W, C)``.

    Example:
        >>> adjust_brightness(jnp.full((2, 2, 1), 0.5), 0.25).max()
        Array(0.75, dtype=float32)
    """
    image = check_image(image)
    return jnp.clip(image + as_param(delta, image.dtype), 0, 1)


def adjust_contrast(image: jax.Array, factor) -> jax.Array:
    """Scale each channel's deviation from its mean: ``clip(mu + factor (x - mu), 0, 1)``.

    Args:
        image: shape ``(H, W, C)``, floating point in ``[0, 1]``.
        factor: ``1`` is the identity, ``0`` gives a flat grey image, ``> 1`` more contrast.

    Returns:
        Shape ``(H, W, C)``.

    Example:
        >>> adjust_contrast(jnp.array([[[0.0], [1.0]]]), 0.5)[0, :, 0]
        Array([0.25, 0.75], dtype=float32)
    """
    image = check_image(image)
    mean = image.mean(axis=_SPATIAL_AXES, keepdims=True)
    return jnp.clip(mean + as_param(factor, image.dtype) * (image - mean), 0, 1)


def adjust_gamma(image: jax.Array, gamma, *, gain=1.0) -> jax.Array:
    """Apply a power law: ``clip(gain x^gamma, 0, 1)``.

    Args:
        image: shape ``(H, W, C)``, floating point in ``[0, 1]``.
        gamma: exponent ``> 0`` (``1`` is the identity).
        gain: multiplier.

    Returns:
        Shape ``(H, W, C)``.

    Example:
        >>> adjust_gamma(jnp.full((1, 1, 1), 0.25), 0.5)[0, 0, 0]
        Array(0.5, dtype=float32)
    """
    image = check_image(image)
    check_non_negative(gamma, name="gamma")
    powered = jnp.clip(image, 0, 1) ** as_param(gamma, image.dtype)
    return jnp.clip(as_param(gain, image.dtype) * powered, 0, 1)


def rgb_to_hsv(image: jax.Array) -> jax.Array:
    """Convert RGB to HSV, all components in ``[0, 1]`` (hue in turns).

    Args:
        image: shape ``(..., 3)``.

    Returns:
        ``(hue, saturation, value)`` stacked on the last axis, shape ``(..., 3)``.

    Example:
        >>> rgb_to_hsv(jnp.array([1.0, 0.0, 0.0])).tolist()
        [0.0, 1.0, 1.0]
    """
    red, green, blue = image[..., 0], image[..., 1], image[..., 2]
    value = image.max(axis=-1)
    spread = value - image.min(axis=-1)
    coloured = spread > 0
    safe_spread = jnp.where(coloured, spread, 1)
    safe_value = jnp.where(value > 0, value, 1)
    saturation = jnp.where(value > 0, spread / safe_value, 0)
    hue_r = (green - blue) / safe_spread
    hue_g = 2 + (blue - red) / safe_spread
    hue_b = 4 + (red - green) / safe_spread
    hue = jnp.where(red == value, hue_r, jnp.where(green == value, hue_g, hue_b))
    hue = jnp.where(coloured, (hue / HUE_SECTORS) % 1.0, 0)
    return jnp.stack([hue, saturation, value], axis=-1)


def hsv_to_rgb(image: jax.Array) -> jax.Array:
    """Convert HSV (hue in turns) to RGB with ``c = v - v s max(0, min(k, 4 - k, 1))``.

    Here ``k = (n + 6 h) mod 6`` with ``n = 5, 3, 1`` for red, green and blue.

    Args:
        image: shape ``(..., 3)``: hue, saturation, value in ``[0, 1]``.

    Returns:
        RGB, shape ``(..., 3)``.

    Example:
        >>> hsv_to_rgb(jnp.array([0.0, 1.0, 1.0])).tolist()
        [1.0, 0.0, 0.0]
    """
    hue, saturation, value = image[..., 0:1], image[..., 1:2], image[..., 2:3]
    offsets = jnp.asarray(_HSV_OFFSETS, image.dtype)
    k = (offsets + HUE_SECTORS * hue) % HUE_SECTORS
    ramp = jnp.clip(jnp.minimum(k, 4 - k), 0, 1)
    return value - value * saturation * ramp


def adjust_saturation(image: jax.Array, factor) -> jax.Array:
    """Multiply the HSV saturation of an RGB image by ``factor`` (clipped to ``[0, 1]``).

    Args:
        image: shape ``(H, W, 3)``, floating point in ``[0, 1]``.
        factor: ``1`` is the identity, ``0`` gives grey, ``> 1`` more vivid colours.

    Returns:
        Shape ``(H, W, 3)``.

    Raises:
        ValueError: ``image`` is not RGB.

    Example:
        >>> adjust_saturation(jnp.array([[[1.0, 0.5, 0.5]]]), 0.0)[0, 0].tolist()
        [1.0, 1.0, 1.0]
    """
    image = check_image(image, channels=RGB)
    hsv = rgb_to_hsv(image)
    saturation = jnp.clip(hsv[..., 1] * as_param(factor, image.dtype), 0, 1)
    return hsv_to_rgb(hsv.at[..., 1].set(saturation))


def adjust_hue(image: jax.Array, delta) -> jax.Array:
    """Rotate the hue of an RGB image by ``delta`` turns (``0.5`` swaps colours for complements).

    Args:
        image: shape ``(H, W, 3)``, floating point in ``[0, 1]``.
        delta: hue shift in turns, usually in ``[-0.5, 0.5]`` (``0`` is the identity).

    Returns:
        Shape ``(H, W, 3)``.

    Raises:
        ValueError: ``image`` is not RGB.

    Example:
        >>> adjust_hue(jnp.array([[[1.0, 0.0, 0.0]]]), 1 / 3)[0, 0].round(4).tolist()
        [0.0, 1.0, 0.0]
    """
    image = check_image(image, channels=RGB)
    hsv = rgb_to_hsv(image)
    hue = (hsv[..., 0] + as_param(delta, image.dtype)) % 1.0
    return hsv_to_rgb(hsv.at[..., 0].set(hue))


def _uniform(key, low, high):
    return jax.random.uniform(key, (), minval=low, maxval=high)


def random_brightness(key: jax.Array, image: jax.Array, *, max_delta: float) -> jax.Array:
    """Brightness shift drawn uniformly from ``[-max_delta, max_delta]``.

    Args:
        key: a PRNG key.
        image: shape ``(H, W, C)``, floating point in ``[0, 1]``.
        max_delta: the largest shift.

    Returns:
        Shape ``(H, W, C)``.

    Example:
        >>> random_brightness(jax.random.key(0), jnp.ones((4, 4, 1)), max_delta=0.2).shape
        (4, 4, 1)
    """
    check_non_negative(max_delta, name="max_delta")
    return adjust_brightness(image, _uniform(key, -max_delta, max_delta))


def random_contrast(key: jax.Array, image: jax.Array, *, factors: tuple[float, float]) -> jax.Array:
    """Contrast factor drawn uniformly from ``factors``.

    Args:
        key: a PRNG key.
        image: shape ``(H, W, C)``, floating point in ``[0, 1]``.
        factors: the interval ``(low, high)``, e.g. ``(0.6, 1.4)``.

    Returns:
        Shape ``(H, W, C)``.

    Example:
        >>> random_contrast(jax.random.key(0), jnp.ones((4, 4, 1)), factors=(0.8, 1.2)).shape
        (4, 4, 1)
    """
    return adjust_contrast(image, _uniform(key, *check_range(*factors, name="factors")))


def random_gamma(key: jax.Array, image: jax.Array, *, gammas: tuple[float, float]) -> jax.Array:
    """Gamma drawn log-uniformly from ``gammas`` (so that ``(1/2, 2)`` is symmetric about 1).

    Args:
        key: a PRNG key.
        image: shape ``(H, W, C)``, floating point in ``[0, 1]``.
        gammas: the interval ``(low, high)`` of exponents, ``low > 0``.

    Returns:
        Shape ``(H, W, C)``.

    Example:
        >>> random_gamma(jax.random.key(0), jnp.ones((4, 4, 1)), gammas=(0.5, 2.0)).shape
        (4, 4, 1)
    """
    low, high = check_range(*gammas, name="gammas")
    if low <= 0:
        raise ValueError(f"gammas must be positive; got {gammas}")
    return adjust_gamma(image, jnp.exp(_uniform(key, jnp.log(low), jnp.log(high))))


def random_saturation(key: jax.Array, image: jax.Array, *, factors: tuple[float, float]) -> jax.Array:
    """Saturation factor drawn uniformly from ``factors`` (RGB only).

    Args:
        key: a PRNG key.
        image: shape ``(H, W, 3)``, floating point in ``[0, 1]``.
        factors: the interval ``(low, high)``.

    Returns:
        Shape ``(H, W, 3)``.

    Example:
        >>> random_saturation(jax.random.key(0), jnp.ones((4, 4, 3)), factors=(0.5, 1.5)).shape
        (4, 4, 3)
    """
    return adjust_saturation(image, _uniform(key, *check_range(*factors, name="factors")))


def random_hue(key: jax.Array, image: jax.Array, *, max_delta: float) -> jax.Array:
    """Hue shift drawn uniformly from ``[-max_delta, max_delta]`` turns (RGB only).

    Args:
        key: a PRNG key.
        image: shape ``(H, W, 3)``, floating point in ``[0, 1]``.
        max_delta: the largest shift, in turns (at most ``0.5``).

    Returns:
        Shape ``(H, W, 3)``.

    Example:
        >>> random_hue(jax.random.key(0), jnp.ones((4, 4, 3)), max_delta=0.1).shape
        (4, 4, 3)
    """
    check_non_negative(max_delta, name="max_delta")
    return adjust_hue(image, _uniform(key, -max_delta, max_delta))
