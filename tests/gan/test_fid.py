"""FID: closed forms on Gaussians, stability on singular covariances, agreement with scipy's sqrtm."""

import numpy as np
import pytest

from companion.gan.fid import fid, frechet_distance, gaussian_statistics, psd_sqrt


def random_psd(rng, dim, rank=None):
    a = rng.normal(size=(dim, rank or dim))
    return a @ a.T


def test_closed_form_for_diagonal_covariances():
    mean_a, mean_b = np.array([0.0, 1.0, 2.0]), np.array([1.0, 1.0, 0.0])
    std_a, std_b = np.array([1.0, 2.0, 0.5]), np.array([3.0, 1.0, 0.5])
    expected = np.sum((mean_a - mean_b) ** 2) + np.sum((std_a - std_b) ** 2)
    got = frechet_distance(mean_a, np.diag(std_a**2), mean_b, np.diag(std_b**2))
    assert got == pytest.approx(expected, rel=1e-12)


def test_closed_form_for_scaled_covariance():
    rng = np.random.default_rng(0)
    cov = random_psd(rng, 5)
    scale = 4.0  # cov_b = scale * cov_a: tr term = (1 + scale - 2 sqrt(scale)) tr(cov_a)
    expected = (1 + scale - 2 * np.sqrt(scale)) * np.trace(cov)
    assert frechet_distance(np.zeros(5), cov, np.zeros(5), scale * cov) == pytest.approx(expected, rel=1e-9)


def test_agrees_with_scipy_sqrtm_on_non_commuting_covariances():
    linalg = pytest.importorskip("scipy.linalg", reason="scipy is the independent reference")
    rng = np.random.default_rng(1)
    cov_a, cov_b = random_psd(rng, 6), random_psd(rng, 6)
    mean_a, mean_b = rng.normal(size=6), rng.normal(size=6)
    cross = np.real(linalg.sqrtm(cov_a @ cov_b))
    expected = np.sum((mean_a - mean_b) ** 2) + np.trace(cov_a + cov_b - 2 * cross)
    assert frechet_distance(mean_a, cov_a, mean_b, cov_b) == pytest.approx(expected, rel=1e-8)


def test_singular_covariances_give_a_finite_non_negative_value():
    rng = np.random.default_rng(2)
    cov = random_psd(rng, 8, rank=2)
    assert frechet_distance(np.zeros(8), cov, np.zeros(8), cov) == pytest.approx(0.0, abs=1e-9)
    features = rng.normal(size=(5, 20))  # fewer samples than features
    assert fid(features, features) == pytest.approx(0.0, abs=1e-9)


def test_fid_of_samples_converges_to_the_closed_form():
    rng = np.random.default_rng(3)
    n = 20_000
    a = rng.normal(size=(n, 3))
    b = rng.normal(size=(n, 3)) * np.array([2.0, 1.0, 1.0]) + np.array([1.0, 0.0, 0.0])
    assert fid(a, b) == pytest.approx(1.0 + 1.0, abs=0.1)  # |dmu|^2 = 1, (2 - 1)^2 = 1


def test_psd_sqrt_and_statistics():
    rng = np.random.default_rng(4)
    cov = random_psd(rng, 4)
    root = psd_sqrt(cov)
    np.testing.assert_allclose(root @ root, cov, rtol=1e-9, atol=1e-9)
    mean, covariance = gaussian_statistics(rng.normal(size=(10, 4)))
    assert mean.shape == (4,) and covariance.shape == (4, 4)


def test_bad_input():
    with pytest.raises(ValueError, match=r"features_a.*\(4,\)"):
        fid(np.zeros(4), np.zeros((4, 2)))
    with pytest.raises(ValueError, match="same D"):
        fid(np.zeros((4, 3)), np.zeros((4, 2)))
