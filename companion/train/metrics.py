"""Classification metrics: accuracy, top-k accuracy, the confusion matrix, precision, recall, F1.

All functions are pure ``jax.numpy`` and jittable. The conventions follow scikit-learn's:
the confusion matrix has true classes in rows and predicted classes in columns, and a
precision or recall whose denominator is zero counts as 0.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp


def _check_labels(labels: jax.Array, other: jax.Array, name: str) -> None:
    if labels.ndim != 1 or other.shape[:1] != labels.shape:
        raise ValueError(
            f"labels must have shape (N,) and {name} a first axis of N; "
            f"got labels {tuple(labels.shape)} and {name} {tuple(other.shape)}"
        )


def accuracy(labels: jax.Array, predictions: jax.Array) -> jax.Array:
    """Fraction of predictions equal to the labels.

    Args:
        labels: true class ids, shape ``(N,)``.
        predictions: predicted class ids, shape ``(N,)``.

    Returns:
        A float32 scalar in [0, 1].

    Example:
        >>> accuracy(jnp.array([0, 1, 2, 2]), jnp.array([0, 1, 1, 2]))
        Array(0.75, dtype=float32)
    """
    _check_labels(labels, predictions, "predictions")
    return jnp.mean((labels == predictions).astype(jnp.float32))


def top_k_hits(labels: jax.Array, logits: jax.Array, *, k: int) -> jax.Array:
    """Whether each label is among the ``k`` highest-scoring classes.

    A label counts as a hit when fewer than ``k`` classes score strictly higher than it, which
    is scikit-learn's ``top_k_accuracy_score`` rule up to ties.

    Args:
        labels: true class ids, shape ``(N,)``.
        logits: scores, shape ``(N, K)``.
        k: how many top classes count.

    Returns:
        Booleans, shape ``(N,)``.

    Example:
        >>> top_k_hits(jnp.array([2]), jnp.array([[0.5, 0.3, 0.2]]), k=2)
        Array([False], dtype=bool)
    """
    _check_labels(labels, logits, "logits")
    if not 1 <= k <= logits.shape[-1]:
        raise ValueError(f"k must lie in [1, {logits.shape[-1]}]; got {k}")
    true_score = jnp.take_along_axis(logits, labels[:, None], axis=-1)
    return jnp.sum(logits > true_score, axis=-1) < k


def top_k_accuracy(labels: jax.Array, logits: jax.Array, *, k: int) -> jax.Array:
    """Fraction of examples whose label is among the ``k`` highest-scoring classes.

    Args:
        labels: true class ids, shape ``(N,)``.
        logits: scores, shape ``(N, K)``.
        k: how many top classes count.

    Returns:
        A float32 scalar in [0, 1].

    Example:
        >>> top_k_accuracy(jnp.array([2, 0]), jnp.array([[0.5, 0.3, 0.2], [0.9, 0.0, 0.1]]), k=2)
        Array(0.5, dtype=float32)
    """
    return jnp.mean(top_k_hits(labels, logits, k=k).astype(jnp.float32))


def confusion_matrix(labels: jax.Array, predictions: jax.Array, *, num_classes: int) -> jax.Array:
    """Count how often class ``i`` was predicted as class ``j``.

    Args:
        labels: true class ids, shape ``(N,)``.
        predictions: predicted class ids, shape ``(N,)``.
        num_classes: the number of classes ``K``.

    Returns:
        ``int32`` counts, shape ``(K, K)``: rows are true classes, columns predicted classes.

    Example:
        >>> confusion_matrix(jnp.array([0, 1, 1]), jnp.array([0, 0, 1]), num_classes=2)
        Array([[1, 0],
               [1, 1]], dtype=int32)
    """
    _check_labels(labels, predictions, "predictions")
    counts = jnp.zeros((num_classes, num_classes), jnp.int32)
    return counts.at[labels, predictions].add(1)


def _safe_divide(numerator: jax.Array, denominator: jax.Array) -> jax.Array:
    positive = denominator > 0
    return jnp.where(positive, numerator / jnp.where(positive, denominator, 1), 0.0)


def precision_recall_f1(confusion: jax.Array) -> dict[str, jax.Array]:
    """Per-class precision, recall and F1 from a confusion matrix, with their averages.

    For class :math:`k` with true positives :math:`TP_k`, false positives :math:`FP_k` (column
    sum minus diagonal) and false negatives :math:`FN_k` (row sum minus diagonal):
    precision :math:`TP_k / (TP_k + FP_k)`, recall :math:`TP_k / (TP_k + FN_k)`, and F1 their
    harmonic mean. The macro average weighs every class equally; the weighted average weighs
    each class by its support (its number of true examples).

    Args:
        confusion: counts, shape ``(K, K)``, true classes in rows.

    Returns:
        A dict with ``precision``, ``recall``, ``f1`` and ``support`` (each shape ``(K,)``) and the
        scalars ``macro_precision``, ``macro_recall``, ``macro_f1``, ``weighted_precision``,
        ``weighted_recall`` and ``weighted_f1``.

    Example:
        >>> scores = precision_recall_f1(jnp.array([[1, 0], [1, 1]]))
        >>> scores["precision"], scores["recall"]
        (Array([0.5, 1. ], dtype=float32), Array([1. , 0.5], dtype=float32))
    """
    if confusion.ndim != 2 or confusion.shape[0] != confusion.shape[1]:
        raise ValueError(f"confusion must have shape (K, K); got {tuple(confusion.shape)}")
    counts = confusion.astype(jnp.float32)
    true_positive = jnp.diagonal(counts)
    predicted = counts.sum(axis=0)
    support = counts.sum(axis=1)
    precision = _safe_divide(true_positive, predicted)
    recall = _safe_divide(true_positive, support)
    f1 = _safe_divide(2 * precision * recall, precision + recall)
    weights = _safe_divide(support, support.sum())
    scores = {"precision": precision, "recall": recall, "f1": f1, "support": support.astype(jnp.int32)}
    for name in ("precision", "recall", "f1"):
        scores[f"macro_{name}"] = jnp.mean(scores[name])
        scores[f"weighted_{name}"] = jnp.sum(scores[name] * weights)
    return scores
