"""Hold out a validation split: stratified, deterministic given a key.

Model selection (early stopping, hyperparameters, architectures) must never look at the test
set. :func:`train_validation_split` carves a validation set out of the training data instead,
keeping every class's share (stratification), and :func:`stratified_subset` draws a small,
class-balanced training subset. Both are deterministic given their ``key``.
"""

from __future__ import annotations

import jax
import numpy as np

from companion.data.dataset import Dataset

__all__ = ["split_indices", "stratified_subset", "train_validation_split"]


def _check_labels(labels) -> np.ndarray:
    labels = np.asarray(labels)
    if labels.ndim != 1:
        raise ValueError(f"labels must have shape (N,); got shape {labels.shape}")
    if not np.issubdtype(labels.dtype, np.integer):
        raise TypeError(f"labels must be integer class ids; got dtype {labels.dtype}")
    return labels


def _holdout_count(validation_size, total: int) -> int:
    if isinstance(validation_size, bool) or not isinstance(validation_size, int | float):
        raise TypeError(
            f"validation_size must be an int (a count) or a float in (0, 1) (a fraction); "
            f"got {type(validation_size).__name__}"
        )
    if isinstance(validation_size, float):
        if not 0.0 < validation_size < 1.0:
            raise ValueError(f"validation_size as a fraction must lie in (0, 1); got {validation_size}")
        count = round(validation_size * total)
    else:
        count = validation_size
    if not 1 <= count < total:
        raise ValueError(
            f"validation_size must leave at least one example on each side of the split of "
            f"{total} examples; got {validation_size} ({count} examples)"
        )
    return count


def _per_class_counts(class_sizes: np.ndarray, count: int) -> np.ndarray:
    """Split ``count`` over the classes in proportion to their sizes (largest remainders)."""
    exact = class_sizes * count / class_sizes.sum()
    counts = np.floor(exact).astype(np.int64)
    remainders = exact - counts
    order = np.lexsort((np.arange(len(exact)), -remainders))  # ties go to the lower class id
    counts[order[: count - counts.sum()]] += 1
    return counts


def split_indices(
    key: jax.Array, labels, *, validation_size: int | float, stratify: bool = True,
) -> tuple[np.ndarray, np.ndarray]:
    """Indices of a training part and a held-out part of a labelled set.

    With ``stratify=True`` each class contributes to the held-out part in proportion to its
    size (the largest-remainder rule makes the total exact), so both parts keep the class
    shares of the whole set. Which examples of a class are held out is drawn with
    ``jax.random.permutation(jax.random.fold_in(key, class_id), n_class)``, so the split is
    deterministic given ``key``.

    Args:
        key: a ``jax.random.key``.
        labels: integer class ids, shape ``(N,)``.
        validation_size: how many examples to hold out (an int), or a fraction in (0, 1).
        stratify: keep the class shares; ``False`` draws the held-out examples uniformly.

    Returns:
        ``(train_indices, validation_indices)``: sorted ``int64`` arrays that partition
        ``range(N)``; the second has ``validation_size`` entries (or the rounded fraction).

    Raises:
        TypeError: non-integer labels or a ``validation_size`` that is neither int nor float.
        ValueError: labels that are not one-dimensional, or a size that leaves a part empty.

    Example:
        >>> labels = np.array([0, 0, 0, 0, 1, 1, 1, 1])
        >>> train, held_out = split_indices(jax.random.key(0), labels, validation_size=0.5)
        >>> np.bincount(labels[held_out]).tolist()
        [2, 2]
    """
    labels = _check_labels(labels)
    count = _holdout_count(validation_size, labels.shape[0])
    if not stratify:
        order = np.asarray(jax.random.permutation(key, labels.shape[0]))
        held_out = np.sort(order[:count])
    else:
        classes, class_sizes = np.unique(labels, return_counts=True)
        chosen = []
        for cls, take in zip(classes, _per_class_counts(class_sizes, count), strict=True):
            members = np.flatnonzero(labels == cls)
            order = np.asarray(jax.random.permutation(jax.random.fold_in(key, int(cls)), members.size))
            chosen.append(members[order[:take]])
        held_out = np.sort(np.concatenate(chosen))
    keep = np.ones(labels.shape[0], bool)
    keep[held_out] = False
    return np.flatnonzero(keep), held_out.astype(np.int64)


def train_validation_split(
    key: jax.Array, data: Dataset, *, validation_size: int | float, stratify: bool = True,
) -> tuple[Dataset, Dataset]:
    """Split a Dataset into a training part and a validation part.

    Args:
        key: a ``jax.random.key``; the same key gives the same split.
        data: the labelled ``Dataset`` (usually the official training split).
        validation_size: how many examples to hold out (an int), or a fraction in (0, 1).
        stratify: keep each class's share in both parts.

    Returns:
        ``(train, validation)``: two Datasets of ``N - V`` and ``V`` examples, images
        ``(N - V, H, W, C)`` and ``(V, H, W, C)``, named ``"<name>[train]"`` and
        ``"<name>[validation]"``.

    Raises:
        TypeError: ``data`` is not a Dataset; see :func:`split_indices` for the rest.
        ValueError: see :func:`split_indices`.

    Example:
        >>> ds = Dataset(np.zeros((10, 4, 4, 1), np.uint8), np.arange(10, dtype=np.int32) % 2, ("a", "b"), "toy")
        >>> train, validation = train_validation_split(jax.random.key(0), ds, validation_size=4)
        >>> len(train), len(validation)
        (6, 4)
    """
    if not isinstance(data, Dataset):
        raise TypeError(f"data must be a companion.data.Dataset; got {type(data).__name__}")
    train_rows, validation_rows = split_indices(
        key, data.labels, validation_size=validation_size, stratify=stratify
    )
    train, validation = data.subset(train_rows), data.subset(validation_rows)
    return (
        Dataset(train.images, train.labels, data.classes, f"{data.name}[train]"),
        Dataset(validation.images, validation.labels, data.classes, f"{data.name}[validation]"),
    )


def stratified_subset(key: jax.Array, data: Dataset, *, size: int) -> Dataset:
    """A random subset of ``size`` examples with the class shares of ``data``.

    Args:
        key: a ``jax.random.key``; the same key gives the same subset.
        data: the labelled ``Dataset``.
        size: the number of examples to keep, ``1 <= size <= len(data)``.

    Returns:
        A Dataset of ``size`` examples, images ``(size, H, W, C)``, in the original order.

    Raises:
        TypeError: ``data`` is not a Dataset or ``size`` is not an int.
        ValueError: ``size`` outside ``[1, len(data)]``.

    Example:
        >>> ds = Dataset(np.zeros((10, 4, 4, 1), np.uint8), np.arange(10, dtype=np.int32) % 2, ("a", "b"), "toy")
        >>> np.bincount(stratified_subset(jax.random.key(0), ds, size=4).labels).tolist()
        [2, 2]
    """
    if not isinstance(data, Dataset):
        raise TypeError(f"data must be a companion.data.Dataset; got {type(data).__name__}")
    if isinstance(size, bool) or not isinstance(size, int):
        raise TypeError(f"size must be an int; got {type(size).__name__}")
    if not 1 <= size <= len(data):
        raise ValueError(f"size must lie in [1, {len(data)}] for a Dataset of {len(data)}; got {size}")
    if size == len(data):
        return data
    _, rows = split_indices(key, data.labels, validation_size=size)
    return Dataset(data.images[rows], data.labels[rows], data.classes, f"{data.name}[{size}]")
