"""Segmentation scores: pixel accuracy and intersection over union per class."""

from __future__ import annotations

import jax
import jax.numpy as jnp


def _check_pair(predicted: jax.Array, target: jax.Array) -> tuple[jax.Array, jax.Array]:
    predicted, target = jnp.asarray(predicted), jnp.asarray(target)
    if predicted.shape != target.shape:
        raise ValueError(
            f"predicted and target must have the same shape; got {tuple(predicted.shape)} and {tuple(target.shape)}"
        )
    for name, value in (("predicted", predicted), ("target", target)):
        if not jnp.issubdtype(value.dtype, jnp.integer):
            raise TypeError(f"{name} must hold integer class ids; got dtype {value.dtype}")
    return predicted, target


def pixel_accuracy(predicted: jax.Array, target: jax.Array) -> jax.Array:
    """The fraction of pixels whose predicted class equals the target class.

    Args:
        predicted: ``(...)`` integer class per pixel, e.g. ``(N, H, W)``.
        target: the true classes, same shape.

    Returns:
        A float32 scalar in [0, 1].

    Example:
        >>> pixel_accuracy(jnp.array([[0, 1], [1, 1]]), jnp.array([[0, 1], [0, 1]]))
        Array(0.75, dtype=float32)
    """
    predicted, target = _check_pair(predicted, target)
    return jnp.mean((predicted == target).astype(jnp.float32))


def class_iou(predicted: jax.Array, target: jax.Array, *, num_classes: int) -> jax.Array:
    """IoU of each class's predicted and true pixel sets: ``|P ∩ T| / |P ∪ T|``.

    Args:
        predicted: ``(...)`` integer class per pixel.
        target: the true classes, same shape.
        num_classes: ``K``.

    Returns:
        ``(K,)`` float32; ``nan`` for a class absent from both prediction and target.

    Example:
        >>> class_iou(jnp.array([0, 1, 1]), jnp.array([0, 0, 1]), num_classes=2)
        Array([0.5, 0.5], dtype=float32)
    """
    predicted, target = _check_pair(predicted, target)
    classes = jnp.arange(num_classes)
    p = predicted.reshape(-1)[:, None] == classes
    t = target.reshape(-1)[:, None] == classes
    intersection = jnp.sum(p & t, axis=0).astype(jnp.float32)
    union = jnp.sum(p | t, axis=0).astype(jnp.float32)
    return jnp.where(union > 0, intersection / jnp.maximum(union, 1.0), jnp.nan)


def mean_iou(predicted: jax.Array, target: jax.Array, *, num_classes: int) -> jax.Array:
    """Mean of :func:`class_iou` over the classes present in prediction or target.

    Args:
        predicted: ``(...)`` integer class per pixel.
        target: the true classes, same shape.
        num_classes: ``K``.

    Returns:
        A float32 scalar.

    Example:
        >>> mean_iou(jnp.array([0, 1, 1]), jnp.array([0, 0, 1]), num_classes=3)
        Array(0.5, dtype=float32)
    """
    return jnp.nanmean(class_iou(predicted, target, num_classes=num_classes))
