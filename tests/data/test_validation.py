"""Tests for companion.data.validation: stratified, deterministic validation splits."""

import jax
import numpy as np
import pytest

from companion.data import Dataset, split_indices, stratified_subset, train_validation_split

CLASS_SIZES = (40, 25, 10, 5)


def make_labels() -> np.ndarray:
    return np.repeat(np.arange(len(CLASS_SIZES), dtype=np.int32), CLASS_SIZES)


def make_dataset() -> Dataset:
    labels = make_labels()
    images = (np.arange(labels.size) % 256).astype(np.uint8).reshape(-1, 1, 1, 1) * np.ones((1, 3, 3, 1), np.uint8)
    return Dataset(images, labels, tuple("abcd"), "toy")


def test_split_partitions_the_indices(key):
    labels = make_labels()
    train, held_out = split_indices(key, labels, validation_size=16)
    assert held_out.size == 16
    assert np.array_equal(np.sort(np.concatenate([train, held_out])), np.arange(labels.size))
    assert np.all(np.diff(train) > 0) and np.all(np.diff(held_out) > 0)


def test_split_is_stratified(key):
    labels = make_labels()
    _, held_out = split_indices(key, labels, validation_size=0.2)
    assert np.bincount(labels[held_out]).tolist() == [8, 5, 2, 1]


def test_largest_remainder_keeps_the_total_exact(key):
    labels = make_labels()
    for size in range(1, labels.size):
        _, held_out = split_indices(key, labels, validation_size=size)
        counts = np.bincount(labels[held_out], minlength=len(CLASS_SIZES))
        assert held_out.size == size
        assert np.all(np.abs(counts - np.array(CLASS_SIZES) * size / labels.size) < 1)


def test_same_key_same_split_other_key_other_split(key):
    labels = make_labels()
    first = split_indices(key, labels, validation_size=20)[1]
    again = split_indices(key, labels, validation_size=20)[1]
    other = split_indices(jax.random.key(1), labels, validation_size=20)[1]
    assert np.array_equal(first, again)
    assert not np.array_equal(first, other)


def test_unstratified_split_has_the_size(key):
    _, held_out = split_indices(key, make_labels(), validation_size=7, stratify=False)
    assert held_out.size == 7


def test_train_validation_split_datasets(key):
    data = make_dataset()
    train, validation = train_validation_split(key, data, validation_size=0.25)
    assert (len(train), len(validation)) == (60, 20)
    assert train.classes == data.classes and validation.name == "toy[validation]"
    seen = np.concatenate([train.images[:, 0, 0, 0], validation.images[:, 0, 0, 0]])
    assert np.array_equal(np.sort(seen), np.sort(data.images[:, 0, 0, 0]))


def test_stratified_subset(key):
    subset = stratified_subset(key, make_dataset(), size=40)
    assert np.bincount(subset.labels).tolist() == [20, 13, 5, 2]  # ties of the remainders go to the lower class id
    assert stratified_subset(key, make_dataset(), size=80).name == "toy"


@pytest.mark.parametrize(
    ("labels", "size", "error", "match"),
    [
        (np.zeros((4, 2), np.int32), 1, ValueError, "shape"),
        (np.zeros(4, np.float32), 1, TypeError, "integer"),
        (np.zeros(4, np.int32), 4, ValueError, "validation_size"),
        (np.zeros(4, np.int32), 0, ValueError, "validation_size"),
        (np.zeros(4, np.int32), 1.5, ValueError, r"\(0, 1\)"),
        (np.zeros(4, np.int32), "1", TypeError, "validation_size"),
    ],
)
def test_bad_input(key, labels, size, error, match):
    with pytest.raises(error, match=match):
        split_indices(key, labels, validation_size=size)


def test_bad_dataset_and_size(key):
    with pytest.raises(TypeError, match="Dataset"):
        train_validation_split(key, (np.zeros(3), np.zeros(3)), validation_size=1)
    with pytest.raises(ValueError, match="size"):
        stratified_subset(key, make_dataset(), size=0)
