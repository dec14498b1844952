"""Calibration: reliability bins and ECE against plain NumPy, temperature scaling by hand."""

import math

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from companion.train import (
    expected_calibration_error,
    fit_temperature,
    negative_log_likelihood,
    reliability_bins,
)


def numpy_bins(probabilities: np.ndarray, labels: np.ndarray, num_bins: int):
    """The textbook loop: one bin at a time, [b/B, (b+1)/B), the last one closed."""
    confidence = probabilities.max(axis=1)
    correct = probabilities.argmax(axis=1) == labels
    counts, accuracy, mean_conf = [], [], []
    for b in range(num_bins):
        low, high = b / num_bins, (b + 1) / num_bins
        inside = (confidence >= low) & ((confidence < high) if b < num_bins - 1 else (confidence <= high))
        counts.append(int(inside.sum()))
        accuracy.append(correct[inside].mean() if inside.any() else 0.0)
        mean_conf.append(confidence[inside].mean() if inside.any() else 0.0)
    counts = np.array(counts)
    ece = float(np.sum(counts / len(labels) * np.abs(np.array(accuracy) - np.array(mean_conf))))
    return counts, np.array(accuracy), np.array(mean_conf), ece


def random_probabilities(key, n: int, k: int, scale: float = 3.0):
    key_z, key_y = jax.random.split(key)
    logits = scale * jax.random.normal(key_z, (n, k))
    labels = jax.random.randint(key_y, (n,), 0, k)
    return jax.nn.softmax(logits, axis=-1), labels


@pytest.mark.parametrize("num_bins", [1, 5, 15])
def test_bins_and_ece_match_numpy(key, num_bins):
    probabilities, labels = random_probabilities(key, 300, 4)
    bins = reliability_bins(probabilities, labels, num_bins=num_bins)
    counts, accuracy, confidence, ece = numpy_bins(np.asarray(probabilities, np.float64),
                                                   np.asarray(labels), num_bins)
    np.testing.assert_array_equal(np.asarray(bins.counts), counts)
    np.testing.assert_allclose(np.asarray(bins.accuracy), accuracy, atol=1e-6)
    np.testing.assert_allclose(np.asarray(bins.confidence), confidence, atol=1e-6)
    np.testing.assert_allclose(np.asarray(bins.edges), np.linspace(0, 1, num_bins + 1), atol=1e-7)
    got = float(expected_calibration_error(probabilities, labels, num_bins=num_bins))
    assert got == pytest.approx(ece, abs=1e-6)
    assert int(bins.counts.sum()) == len(labels)


def test_hand_computed_ece():
    # four predictions at 0.9, two right; four at 0.6, three right:
    # 1/2 |0.5 - 0.9| + 1/2 |0.75 - 0.6| = 0.275
    probabilities = jnp.array([[0.9, 0.1]] * 4 + [[0.6, 0.4]] * 4)
    labels = jnp.array([0, 0, 1, 1, 0, 0, 0, 1])
    assert float(expected_calibration_error(probabilities, labels, num_bins=10)) == pytest.approx(0.275, abs=1e-6)
    bins = reliability_bins(probabilities, labels, num_bins=10)
    np.testing.assert_array_equal(np.asarray(bins.counts), [0, 0, 0, 0, 0, 0, 4, 0, 0, 4])
    np.testing.assert_allclose(np.asarray(bins.accuracy)[[6, 9]], [0.75, 0.5])


def test_confidence_one_falls_in_last_bin():
    bins = reliability_bins(jnp.array([[1.0, 0.0]]), jnp.array([0]), num_bins=4)
    np.testing.assert_array_equal(np.asarray(bins.counts), [0, 0, 0, 1])


def test_perfectly_calibrated_ece_is_zero():
    # ten predictions at 0.7 of which seven are right
    probabilities = jnp.array([[0.7, 0.3]] * 10)
    labels = jnp.array([0] * 7 + [1] * 3)
    assert float(expected_calibration_error(probabilities, labels)) == pytest.approx(0.0, abs=1e-6)


def test_ece_is_jittable(key):
    probabilities, labels = random_probabilities(key, 50, 3)
    eager = expected_calibration_error(probabilities, labels, num_bins=7)
    jitted = jax.jit(lambda p, y: expected_calibration_error(p, y, num_bins=7))(probabilities, labels)
    assert float(eager) == pytest.approx(float(jitted), abs=1e-7)


def test_nll_matches_numpy(key):
    logits = 2.0 * jax.random.normal(key, (20, 5))
    labels = jnp.arange(20) % 5
    z = np.asarray(logits, np.float64) / 1.7
    log_p = z - np.log(np.exp(z).sum(axis=1, keepdims=True))
    expected = -np.mean(log_p[np.arange(20), np.asarray(labels)])
    assert float(negative_log_likelihood(logits, labels, temperature=1.7)) == pytest.approx(expected, rel=1e-5)


def test_fit_temperature_hand_case():
    # three right and one wrong at a logit gap of 4: the NLL is smallest where the
    # confidence is 3/4, i.e. 4 / T = log 3
    logits = jnp.array([[4.0, 0.0], [4.0, 0.0], [4.0, 0.0], [0.0, 4.0]])
    labels = jnp.array([0, 0, 1, 1])
    assert float(fit_temperature(logits, labels)) == pytest.approx(4 / math.log(3), rel=1e-4)


def test_fit_temperature_beats_a_grid(key):
    key_z, key_y = jax.random.split(key)
    z = jax.random.normal(key_z, (400, 6))
    labels = jax.random.categorical(key_y, z)
    logits = 2.5 * z
    best = float(fit_temperature(logits, labels))
    grid = np.linspace(0.5, 5.0, 91)
    nlls = [float(negative_log_likelihood(logits, labels, temperature=t)) for t in grid]
    assert float(negative_log_likelihood(logits, labels, temperature=best)) <= min(nlls) + 1e-5
    assert best == pytest.approx(grid[int(np.argmin(nlls))], abs=2 * (grid[1] - grid[0]))


def test_fit_temperature_recovers_a_known_temperature(key):
    # labels drawn from softmax(z): the calibrated temperature of z * 3 is 3
    key_z, key_y = jax.random.split(key)
    z = 2.0 * jax.random.normal(key_z, (4000, 5))
    labels = jax.random.categorical(key_y, z)
    assert float(fit_temperature(3.0 * z, labels)) == pytest.approx(3.0, rel=0.1)


def test_temperature_scaling_keeps_predictions_and_lowers_validation_nll(key):
    key_z, key_y = jax.random.split(key)
    z = jax.random.normal(key_z, (500, 4))
    labels = jax.random.categorical(key_y, z)
    overconfident = 5.0 * z
    t = fit_temperature(overconfident, labels)
    np.testing.assert_array_equal(np.argmax(overconfident / t, -1), np.argmax(overconfident, -1))
    assert float(negative_log_likelihood(overconfident, labels, temperature=t)) < float(
        negative_log_likelihood(overconfident, labels))


@pytest.mark.parametrize(
    ("probabilities", "labels", "error", "match"),
    [
        (np.zeros((3,), np.float32), np.zeros(3, np.int32), ValueError, r"probabilities must have shape \(N, K\)"),
        (np.zeros((3, 1), np.float32), np.zeros(3, np.int32), ValueError, "K >= 2"),
        (np.zeros((3, 2), np.int32), np.zeros(3, np.int32), TypeError, "floating point"),
        (np.zeros((3, 2), np.float32), np.zeros(4, np.int32), ValueError, r"labels must have shape \(3,\)"),
        (np.zeros((3, 2), np.float32), np.zeros(3, np.float32), TypeError, "labels must be integer"),
    ],
)
def test_bad_input(probabilities, labels, error, match):
    with pytest.raises(error, match=match):
        expected_calibration_error(probabilities, labels)
    with pytest.raises(error, match=match):
        fit_temperature(probabilities, labels)


@pytest.mark.parametrize("num_bins", [0, 2.5, True])
def test_bad_num_bins(num_bins):
    with pytest.raises(ValueError, match="num_bins"):
        reliability_bins(np.full((2, 2), 0.5, np.float32), np.zeros(2, np.int32), num_bins=num_bins)
