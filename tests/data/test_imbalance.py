"""Imbalance helpers: subsets with given shares, class weights by hand, balanced resampling."""

import jax
import numpy as np
import pytest

from companion.data import (
    balanced_resample,
    class_counts,
    effective_number_weights,
    imbalanced_indices,
    inverse_frequency_weights,
    long_tail_fractions,
)

LABELS = np.repeat(np.arange(4, dtype=np.int32), [50, 40, 30, 20])


def test_class_counts():
    np.testing.assert_array_equal(class_counts(LABELS, num_classes=5), [50, 40, 30, 20, 0])
    with pytest.raises(ValueError, match=r"labels must lie in \[0, 3\)"):
        class_counts(LABELS, num_classes=3)


def test_long_tail_fractions():
    np.testing.assert_allclose(long_tail_fractions(3, ratio=100.0), [1.0, 0.1, 0.01])
    np.testing.assert_allclose(long_tail_fractions(4, ratio=1.0), np.ones(4))
    with pytest.raises(ValueError, match="ratio"):
        long_tail_fractions(3, ratio=0.5)
    with pytest.raises(ValueError, match="num_classes"):
        long_tail_fractions(1, ratio=10.0)


def test_imbalanced_indices_counts_and_determinism(key):
    fractions = [1.0, 0.5, 0.1, 0.01]
    kept = imbalanced_indices(key, LABELS, fractions)
    # round(f * n), at least one: 50, 20, 3, max(1, 0) = 1
    np.testing.assert_array_equal(np.bincount(LABELS[kept], minlength=4), [50, 20, 3, 1])
    assert np.all(np.diff(kept) > 0)
    np.testing.assert_array_equal(kept, imbalanced_indices(key, LABELS, fractions))
    assert not np.array_equal(kept, imbalanced_indices(jax.random.key(7), LABELS, fractions))


@pytest.mark.parametrize("fractions", [[1.0, 0.5], [1.0, 0.5, 0.0, 0.2], [1.0, 1.2, 0.5, 0.5]])
def test_imbalanced_indices_bad_fractions(key, fractions):
    with pytest.raises(ValueError, match="fractions"):
        imbalanced_indices(key, LABELS, fractions)


def test_inverse_frequency_weights_by_hand():
    weights = inverse_frequency_weights(np.array([30, 10]))
    np.testing.assert_allclose(weights, [40 / (2 * 30), 40 / (2 * 10)], rtol=1e-6)
    counts = np.array([50, 40, 30, 20])
    w = inverse_frequency_weights(counts)
    # every class carries the same total weight, and the mean weight per example is 1
    np.testing.assert_allclose(w * counts, np.full(4, counts.sum() / 4), rtol=1e-6)
    assert float(np.sum(w * counts) / counts.sum()) == pytest.approx(1.0)


def test_effective_number_weights_by_hand():
    counts = np.array([100, 10])
    beta = 0.9
    effective = (1 - beta ** counts) / (1 - beta)
    expected = (1 / effective) * 2 / np.sum(1 / effective)
    np.testing.assert_allclose(effective_number_weights(counts, beta=beta), expected, rtol=1e-6)
    np.testing.assert_allclose(effective_number_weights(counts, beta=0.0), [1.0, 1.0])
    # beta close to 1: the inverse frequencies, normalised to sum K
    inverse = 1 / counts
    np.testing.assert_allclose(effective_number_weights(counts, beta=1 - 1e-9),
                               inverse * 2 / inverse.sum(), rtol=1e-5)


@pytest.mark.parametrize("counts", [[10, 0], [[1, 2]], []])
def test_weights_bad_counts(counts):
    with pytest.raises(ValueError, match="counts"):
        inverse_frequency_weights(np.array(counts))


def test_effective_number_bad_beta():
    with pytest.raises(ValueError, match="beta"):
        effective_number_weights(np.array([3, 4]), beta=1.0)


def test_balanced_resample_oversamples_evenly(key):
    order = balanced_resample(key, LABELS)
    assert order.shape == (4 * 50,)
    np.testing.assert_array_equal(np.bincount(LABELS[order]), [50, 50, 50, 50])
    # class 3 has 20 examples and needs 50 draws: each appears 2 or 3 times
    copies = np.bincount(order[LABELS[order] == 3])
    assert set(copies[copies > 0].tolist()) <= {2, 3}
    np.testing.assert_array_equal(order, balanced_resample(key, LABELS))
    assert not np.array_equal(order, np.sort(order))  # shuffled


def test_balanced_resample_per_class(key):
    order = balanced_resample(key, LABELS, per_class=25)
    np.testing.assert_array_equal(np.bincount(LABELS[order]), [25, 25, 25, 25])
    big = order[LABELS[order] == 0]
    assert len(np.unique(big)) == 25  # undersampled without replacement
    with pytest.raises(ValueError, match="per_class"):
        balanced_resample(key, LABELS, per_class=0)
