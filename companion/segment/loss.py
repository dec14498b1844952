"""The per-pixel loss of a segmenter."""

from __future__ import annotations

import jax
import optax


def pixel_cross_entropy(logits: jax.Array, target: jax.Array) -> jax.Array:
    """Mean softmax cross-entropy over every pixel.

    Args:
        logits: ``(N, H, W, K)``.
        target: ``(N, H, W)`` integer classes.

    Returns:
        A float32 scalar.

    Example:
        >>> import jax.numpy as jnp
        >>> pixel_cross_entropy(jnp.zeros((1, 2, 2, 4)), jnp.zeros((1, 2, 2), jnp.int32))
        Array(1.3862944, dtype=float32)
    """
    if logits.shape[:-1] != target.shape:
        raise ValueError(
            f"logits (N, H, W, K) and target (N, H, W) disagree; got {tuple(logits.shape)} and {tuple(target.shape)}"
        )
    return optax.softmax_cross_entropy_with_integer_labels(logits, target).mean()
