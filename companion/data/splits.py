"""Stratified k-fold cross-validation folds, deterministic given a key.

Stratified means every class is spread over the folds in proportion to its size, so that a
small validation fold holds every class and the per-fold scores are comparable. The folds are
index arrays into the labels; use them with ``Dataset.subset``. For one held-out validation
split, see ``companion.data.split_indices``.
"""

from __future__ import annotations

import jax
import numpy as np

__all__ = ["stratified_kfold"]


def _check_labels(labels) -> np.ndarray:
    labels = np.asarray(labels)
    if labels.ndim != 1 or not np.issubdtype(labels.dtype, np.integer):
        raise ValueError(f"labels must be 1-D integer class ids (N,); got {labels.dtype} of shape {labels.shape}")
    return labels


def _stratified_order(key: jax.Array, labels: np.ndarray) -> np.ndarray:
    """All indices, class by class (each class shuffled), the classes in increasing order."""
    parts = []
    for c in np.unique(labels):
        members = np.flatnonzero(labels == c)
        shuffle = np.asarray(jax.random.permutation(jax.random.fold_in(key, int(c)), len(members)))
        parts.append(members[shuffle])
    return np.concatenate(parts) if parts else np.zeros(0, np.int64)


def stratified_kfold(key: jax.Array, labels, *, num_folds: int) -> list[tuple[np.ndarray, np.ndarray]]:
    """Split the indices of ``labels`` into ``num_folds`` stratified cross-validation folds.

    Each class is shuffled with its own key (``jax.random.fold_in(key, class)``) and dealt out
    over the folds in turn, continuing where the previous class stopped. So every fold holds
    the same number of examples of each class up to one, the fold sizes differ by at most one,
    and every example is validated exactly once.

    Args:
        key: a ``jax.random.key``; the same key gives the same folds.
        labels: integer class ids, shape ``(N,)``.
        num_folds: the number of folds ``k``, from 2 to ``N``.

    Returns:
        A list of ``k`` pairs ``(train_indices, validation_indices)`` of sorted int64 arrays that
        together cover ``range(N)``.

    Raises:
        ValueError: ``labels`` is not 1-D integers, or ``num_folds`` is not an int in [2, N].

    Example:
        >>> folds = stratified_kfold(jax.random.key(0), np.array([0, 0, 1, 1, 1, 1]), num_folds=2)
        >>> [len(val) for _, val in folds]
        [3, 3]
    """
    labels = _check_labels(labels)
    if isinstance(num_folds, bool) or not isinstance(num_folds, (int, np.integer)) or not 2 <= num_folds <= len(labels):
        raise ValueError(f"num_folds must be an int in [2, {len(labels)}] for {len(labels)} labels; got {num_folds!r}")
    order = _stratified_order(key, labels)
    fold_of = np.empty(len(labels), np.int64)
    fold_of[order] = np.arange(len(labels)) % num_folds
    folds = []
    for fold in range(num_folds):
        folds.append((np.flatnonzero(fold_of != fold), np.flatnonzero(fold_of == fold)))
    return folds
