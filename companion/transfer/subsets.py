"""Few-label subsets: the same number of labelled examples from every class."""

from __future__ import annotations

import jax
import numpy as np

__all__ = ["per_class_indices"]


def per_class_indices(key: jax.Array, labels, per_class: int) -> np.ndarray:
    """Draw ``per_class`` random examples of every class, without replacement.

    Args:
        key: a ``jax.random.key``; the same key gives the same subset.
        labels: integer class ids, shape ``(N,)``.
        per_class: examples to draw from each class.

    Returns:
        Sorted int64 indices into ``labels``, shape ``(K * per_class,)`` for ``K`` classes.

    Raises:
        ValueError: ``labels`` is not 1-D integers, or a class has fewer than ``per_class`` examples.

    Example:
        >>> per_class_indices(jax.random.key(0), np.array([0, 1, 0, 1, 1]), 2).shape
        (4,)
    """
    labels = np.asarray(labels)
    if labels.ndim != 1 or not np.issubdtype(labels.dtype, np.integer):
        raise ValueError(f"labels must be 1-D integers (N,); got {labels.dtype} of shape {labels.shape}")
    if not isinstance(per_class, int) or per_class < 1:
        raise ValueError(f"per_class must be an int >= 1; got {per_class!r}")
    chosen = []
    classes = np.unique(labels)
    for key_c, c in zip(jax.random.split(key, len(classes)), classes, strict=True):
        members = np.flatnonzero(labels == c)
        if len(members) < per_class:
            raise ValueError(f"class {c} has {len(members)} examples, fewer than per_class={per_class}")
        pick = np.asarray(jax.random.choice(key_c, len(members), (per_class,), replace=False))
        chosen.append(members[pick])
    return np.sort(np.concatenate(chosen)).astype(np.int64)
