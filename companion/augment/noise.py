"""Pixel noise: additive Gaussian noise and salt-and-pepper (impulse) noise.

Gaussian noise adds ``sigma z`` with ``z ~ N(0, 1)`` independently to every pixel and channel, then
clips to ``[0, 1]``. Salt-and-pepper noise replaces a fraction ``amount`` of the pixels (all their
channels together) by black or white with equal probability, as dead or hot sensor cells would.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp

from companion.augment.checks import as_param, check_image, check_non_negative

HALF = 0.5


def gaussian_noise(key: jax.Array, image: jax.Array, sigma) -> jax.Array:
    """Add Gaussian noise: ``clip(x + sigma z, 0, 1)`` with ``z ~ N(0, 1)`` per pixel and channel.

    Args:
        key: a PRNG key.
        image: shape ``(H, W, C)``, floating point in ``[0, 1]``.
        sigma: noise standard deviation, ``>= 0`` (``0`` is the identity).

    Returns:
        The noisy image, shape ``(H, W, C)``.

    Example:
        >>> gaussian_noise(jax.random.key(0), jnp.full((4, 4, 1), 0.5), 0.1).shape
        (4, 4, 1)
    """
    image = check_image(image)
    check_non_negative(sigma, name="sigma")
    noise = jax.random.normal(key, image.shape, image.dtype)
    return jnp.clip(image + as_param(sigma, image.dtype) * noise, 0, 1)


def salt_and_pepper(key: jax.Array, image: jax.Array, amount) -> jax.Array:
    """Set a fraction ``amount`` of the pixels to 0 (pepper) or 1 (salt), half each on average.

    Args:
        key: a PRNG key.
        image: shape ``(H, W, C)``, floating point in ``[0, 1]``.
        amount: expected fraction of corrupted pixels, in ``[0, 1]`` (``0`` is the identity).

    Returns:
        The corrupted image, shape ``(H, W, C)``.

    Example:
        >>> out = salt_and_pepper(jax.random.key(0), jnp.full((8, 8, 1), 0.5), 0.2)
        >>> out.shape
        (8, 8, 1)
    """
    image = check_image(image)
    check_non_negative(amount, name="amount")
    u = jax.random.uniform(key, (*image.shape[:2], 1), image.dtype)
    half = as_param(amount, image.dtype) * HALF
    out = jnp.where(u < half, jnp.zeros((), image.dtype), image)
    return jnp.where(u > 1 - half, jnp.ones((), image.dtype), out)


def random_gaussian_noise(key: jax.Array, image: jax.Array, *, max_sigma: float) -> jax.Array:
    """Gaussian noise with ``sigma`` drawn uniformly from ``[0, max_sigma]``.

    Args:
        key: a PRNG key.
        image: shape ``(H, W, C)``, floating point in ``[0, 1]``.
        max_sigma: the largest standard deviation.

    Returns:
        Shape ``(H, W, C)``.

    Example:
        >>> random_gaussian_noise(jax.random.key(0), jnp.ones((4, 4, 1)), max_sigma=0.1).shape
        (4, 4, 1)
    """
    key_sigma, key_noise = jax.random.split(key)
    sigma = jax.random.uniform(key_sigma, (), minval=0.0, maxval=max_sigma)
    return gaussian_noise(key_noise, image, sigma)


def random_salt_and_pepper(key: jax.Array, image: jax.Array, *, max_amount: float) -> jax.Array:
    """Salt-and-pepper noise with ``amount`` drawn uniformly from ``[0, max_amount]``.

    Args:
        key: a PRNG key.
        image: shape ``(H, W, C)``, floating point in ``[0, 1]``.
        max_amount: the largest fraction of corrupted pixels.

    Returns:
        Shape ``(H, W, C)``.

    Example:
        >>> random_salt_and_pepper(jax.random.key(0), jnp.ones((4, 4, 1)), max_amount=0.1).shape
        (4, 4, 1)
    """
    key_amount, key_noise = jax.random.split(key)
    amount = jax.random.uniform(key_amount, (), minval=0.0, maxval=max_amount)
    return salt_and_pepper(key_noise, image, amount)
