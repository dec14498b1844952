"""Input checks shared by the attribution methods."""

from __future__ import annotations

import jax
import jax.numpy as jnp

IMAGE_RANK = 4


def check_images(images: jax.Array, name: str = "images") -> jax.Array:
    images = jnp.asarray(images)
    if images.ndim != IMAGE_RANK:
        raise ValueError(f"{name} must have shape (N, H, W, C); got shape {tuple(images.shape)}")
    if images.dtype != jnp.float32:
        raise TypeError(f"{name} must be float32 in [0, 1]; got dtype {images.dtype}")
    return images


def check_labels(labels: jax.Array, count: int) -> jax.Array:
    labels = jnp.asarray(labels)
    if labels.shape != (count,) or not jnp.issubdtype(labels.dtype, jnp.integer):
        raise ValueError(
            f"labels must be integer class ids of shape ({count},); got {labels.dtype}{list(labels.shape)}"
        )
    return labels.astype(jnp.int32)


def normalise(maps: jax.Array) -> jax.Array:
    """Scale each map of ``(N, H, W)`` to [0, 1] (all-zero maps stay zero)."""
    low = maps.min(axis=(1, 2), keepdims=True)
    span = maps.max(axis=(1, 2), keepdims=True) - low
    return jnp.where(span > 0, (maps - low) / jnp.where(span > 0, span, 1), 0)
