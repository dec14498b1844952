r"""Class imbalance: imbalanced subsets, class weights and class-balanced resampling.

Helpers for the chapter "Imbalanced data". They work on label arrays and return index arrays
(use them with ``Dataset.subset``) or per-class weights (for
``companion.formulas.weighted_softmax_cross_entropy``). Every random choice takes a
``jax.random`` key, so the same key gives the same subset or order.
"""

from __future__ import annotations

from collections.abc import Sequence

import jax
import numpy as np

__all__ = [
    "balanced_resample",
    "class_counts",
    "effective_number_weights",
    "imbalanced_indices",
    "inverse_frequency_weights",
    "long_tail_fractions",
]

DEFAULT_BETA = 0.999  # Cui et al. (2019) use 0.9 to 0.9999; 0.999 suits thousands per class


def _check_labels(labels) -> np.ndarray:
    labels = np.asarray(labels)
    if labels.ndim != 1 or not np.issubdtype(labels.dtype, np.integer):
        raise ValueError(f"labels must be 1-D integer class ids (N,); got {labels.dtype} of shape {labels.shape}")
    return labels


def _check_counts(counts) -> np.ndarray:
    counts = np.asarray(counts)
    if counts.ndim != 1 or counts.size == 0 or not np.issubdtype(counts.dtype, np.number):
        raise ValueError(f"counts must be a non-empty 1-D array of per-class counts (K,); "
                         f"got {counts.dtype} of shape {counts.shape}")
    if np.any(counts <= 0):
        raise ValueError(f"counts must all be positive (a class without examples gets no weight); got {counts}")
    return counts.astype(np.float64)


def class_counts(labels, *, num_classes: int) -> np.ndarray:
    """Number of examples of each class.

    Args:
        labels: integer class ids in ``[0, num_classes)``, shape ``(N,)``.
        num_classes: the number of classes ``K``.

    Returns:
        int64 counts, shape ``(K,)``.

    Raises:
        ValueError: ``labels`` is not 1-D integers or holds ids outside ``[0, num_classes)``.

    Example:
        >>> class_counts(np.array([0, 2, 2]), num_classes=4)
        array([1, 0, 2, 0])
    """
    labels = _check_labels(labels)
    if labels.size and (labels.min() < 0 or labels.max() >= num_classes):
        raise ValueError(f"labels must lie in [0, {num_classes}); got values in [{labels.min()}, {labels.max()}]")
    return np.bincount(labels, minlength=num_classes).astype(np.int64)


def long_tail_fractions(num_classes: int, *, ratio: float) -> np.ndarray:
    r"""Exponentially decaying shares per class, from 1 down to ``1 / ratio`` (a long tail).

    Class :math:`k` keeps the share :math:`\rho^{-k/(K-1)}` of its examples, where
    :math:`\rho` is the imbalance ratio between the largest and the smallest class (the
    long-tailed CIFAR profile of Cui et al., 2019, and Cao et al., 2019).

    Args:
        num_classes: the number of classes ``K``, at least 2.
        ratio: the imbalance ratio :math:`\rho \ge 1`.

    Returns:
        float64 shares in (0, 1], shape ``(K,)``, decreasing from 1 to ``1 / ratio``.

    Raises:
        ValueError: ``num_classes`` below 2 or ``ratio`` below 1.

    Example:
        >>> long_tail_fractions(3, ratio=100.0)
        array([1.  , 0.1 , 0.01])
    """
    if isinstance(num_classes, bool) or not isinstance(num_classes, (int, np.integer)) or num_classes < 2:
        raise ValueError(f"num_classes must be an int >= 2; got {num_classes!r}")
    if not ratio >= 1:
        raise ValueError(f"ratio must be at least 1; got {ratio!r}")
    return float(ratio) ** (-np.arange(num_classes) / (num_classes - 1))


def imbalanced_indices(key: jax.Array, labels, fractions: Sequence[float]) -> np.ndarray:
    """Keep a random share ``fractions[k]`` of the examples of each class ``k``.

    Each class keeps ``max(1, round(fractions[k] * n_k))`` of its ``n_k`` examples (at least one,
    so no class disappears), drawn without replacement with the key
    ``jax.random.fold_in(key, k)``.

    Args:
        key: a ``jax.random.key``; the same key gives the same subset.
        labels: integer class ids in ``[0, K)``, shape ``(N,)``.
        fractions: the share of each class to keep, ``K`` numbers in (0, 1].

    Returns:
        Sorted int64 indices into ``labels``.

    Raises:
        ValueError: ``labels`` is not 1-D integers, ``fractions`` does not have one entry per class
            id, or a fraction lies outside (0, 1].

    Example:
        >>> labels = np.array([0] * 10 + [1] * 10)
        >>> np.bincount(labels[imbalanced_indices(jax.random.key(0), labels, [1.0, 0.2])])
        array([10,  2])
    """
    labels = _check_labels(labels)
    fractions = np.asarray(fractions, np.float64)
    num_classes = int(labels.max()) + 1 if labels.size else 0
    if fractions.ndim != 1 or len(fractions) < num_classes:
        raise ValueError(f"fractions must have one entry per class, shape ({num_classes},) or longer; "
                         f"got shape {fractions.shape}")
    if np.any(fractions <= 0) or np.any(fractions > 1):
        raise ValueError(f"fractions must lie in (0, 1]; got {fractions}")
    kept = []
    for c in range(len(fractions)):
        members = np.flatnonzero(labels == c)
        if members.size == 0:
            continue
        count = max(1, round(fractions[c] * len(members)))
        pick = np.asarray(jax.random.permutation(jax.random.fold_in(key, c), len(members)))[:count]
        kept.append(members[pick])
    return np.sort(np.concatenate(kept)) if kept else np.zeros(0, np.int64)


def inverse_frequency_weights(counts) -> np.ndarray:
    r"""Class weights inversely proportional to the class frequencies: :math:`w_k = N / (K n_k)`.

    With these weights every class contributes the same total weight to the loss, and a
    balanced data set gets all weights 1 (scikit-learn's ``class_weight="balanced"``).

    Args:
        counts: examples per class :math:`n_k`, all positive, shape ``(K,)``.

    Returns:
        float32 weights, shape ``(K,)``, whose count-weighted mean is 1.

    Raises:
        ValueError: ``counts`` is not 1-D or holds a count that is not positive.

    Example:
        >>> inverse_frequency_weights(np.array([30, 10]))
        array([0.6666667, 2.       ], dtype=float32)
    """
    counts = _check_counts(counts)
    return (counts.sum() / (len(counts) * counts)).astype(np.float32)


def effective_number_weights(counts, *, beta: float = DEFAULT_BETA) -> np.ndarray:
    r"""Class-balanced weights from the effective number of samples (Cui et al., 2019).

    The effective number of :math:`n` samples is :math:`E_n = (1 - \beta^n) / (1 - \beta)`:
    new samples of a class overlap with the ones already seen, so the class's information grows
    more slowly than :math:`n`. The weight of class :math:`k` is :math:`1 / E_{n_k}`, normalised
    so that the weights sum to :math:`K`. :math:`\beta = 0` gives equal weights and
    :math:`\beta \to 1` the inverse frequencies.

    Args:
        counts: examples per class :math:`n_k`, all positive, shape ``(K,)``.
        beta: :math:`\beta` in [0, 1).

    Returns:
        float32 weights, shape ``(K,)``, summing to ``K``.

    Raises:
        ValueError: bad ``counts`` or ``beta`` outside [0, 1).

    Example:
        >>> effective_number_weights(np.array([100, 100]), beta=0.99)
        array([1., 1.], dtype=float32)
    """
    counts = _check_counts(counts)
    if not 0 <= beta < 1:
        raise ValueError(f"beta must lie in [0, 1); got {beta!r}")
    effective = -np.expm1(counts * np.log(beta)) / (1 - beta) if beta > 0 else np.ones_like(counts)
    weights = 1 / effective
    return (weights * len(counts) / weights.sum()).astype(np.float32)


def balanced_resample(key: jax.Array, labels, *, per_class: int | None = None) -> np.ndarray:
    """Indices of a class-balanced training set: every class drawn ``per_class`` times, shuffled.

    Classes with fewer than ``per_class`` examples are oversampled: each example appears
    ``per_class // n_k`` times and ``per_class % n_k`` of them, chosen at random, once more, so
    the copies are spread as evenly as possible. Larger classes are undersampled without
    replacement. The result is shuffled, so a prefix of it is balanced too.

    Args:
        key: a ``jax.random.key``; the same key gives the same order.
        labels: integer class ids, shape ``(N,)``.
        per_class: examples per class in the result; the size of the largest class by default
            (pure oversampling).

    Returns:
        int64 indices into ``labels``, shape ``(C * per_class,)`` for the ``C`` classes present.

    Raises:
        ValueError: ``labels`` is not 1-D integers or empty, or ``per_class`` is below 1.

    Example:
        >>> labels = np.array([0, 0, 0, 0, 1])
        >>> np.bincount(labels[balanced_resample(jax.random.key(0), labels)])
        array([4, 4])
    """
    labels = _check_labels(labels)
    if labels.size == 0:
        raise ValueError("labels must not be empty")
    classes, sizes = np.unique(labels, return_counts=True)
    per_class = int(sizes.max()) if per_class is None else per_class
    if isinstance(per_class, bool) or not isinstance(per_class, (int, np.integer)) or per_class < 1:
        raise ValueError(f"per_class must be None or an int >= 1; got {per_class!r}")
    chosen = []
    for c in classes:
        members = np.flatnonzero(labels == c)
        shuffle = np.asarray(jax.random.permutation(jax.random.fold_in(key, int(c)), len(members)))
        repeats, extra = divmod(per_class, len(members))
        chosen.append(np.concatenate([np.tile(members, repeats), members[shuffle[:extra]]]))
    order = np.concatenate(chosen)
    last = int(classes.max()) + 1  # a stream no class uses
    return order[np.asarray(jax.random.permutation(jax.random.fold_in(key, last), len(order)))]
