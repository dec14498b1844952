"""Stratified k-fold: partitions, balance per class, determinism."""

import jax
import numpy as np
import pytest

from companion.data import stratified_kfold

LABELS = np.array([0] * 23 + [1] * 11 + [2] * 6, np.int32)


@pytest.mark.parametrize("num_folds", [2, 3, 5])
def test_kfold_partitions_and_stratifies(key, num_folds):
    folds = stratified_kfold(key, LABELS, num_folds=num_folds)
    assert len(folds) == num_folds
    validated = np.concatenate([val for _, val in folds])
    np.testing.assert_array_equal(np.sort(validated), np.arange(len(LABELS)))  # each once
    sizes = [len(val) for _, val in folds]
    assert max(sizes) - min(sizes) <= 1
    for train, val in folds:
        assert len(np.intersect1d(train, val)) == 0
        np.testing.assert_array_equal(np.sort(np.concatenate([train, val])), np.arange(len(LABELS)))
        assert np.all(np.diff(train) > 0) and np.all(np.diff(val) > 0)
    for c, n in enumerate(np.bincount(LABELS)):
        per_fold = [int(np.sum(LABELS[val] == c)) for _, val in folds]
        assert max(per_fold) - min(per_fold) <= 1 and sum(per_fold) == n


def test_kfold_is_deterministic_and_key_dependent(key):
    first = stratified_kfold(key, LABELS, num_folds=4)
    again = stratified_kfold(key, LABELS, num_folds=4)
    other = stratified_kfold(jax.random.key(1), LABELS, num_folds=4)
    for (_, a), (_, b) in zip(first, again, strict=True):
        np.testing.assert_array_equal(a, b)
    assert any(not np.array_equal(a, b) for (_, a), (_, b) in zip(first, other, strict=True))


def test_kfold_small_hand_case(key):
    folds = stratified_kfold(key, np.array([0, 0, 1, 1, 1, 1]), num_folds=2)
    for _, val in folds:
        assert sorted(np.array([0, 0, 1, 1, 1, 1])[val].tolist()) == [0, 1, 1]


@pytest.mark.parametrize("num_folds", [1, 41, 2.0, True])
def test_kfold_bad_num_folds(key, num_folds):
    with pytest.raises(ValueError, match="num_folds"):
        stratified_kfold(key, LABELS, num_folds=num_folds)


def test_bad_labels(key):
    with pytest.raises(ValueError, match=r"labels must be 1-D integer"):
        stratified_kfold(key, np.zeros((4, 2), np.int32), num_folds=2)
    with pytest.raises(ValueError, match=r"labels must be 1-D integer"):
        stratified_kfold(key, np.zeros(4, np.float32), num_folds=2)
