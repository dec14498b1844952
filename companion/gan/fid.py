r"""The Fréchet distance between Gaussian fits of two feature sets (Heusel et al., 2017).

For Gaussians :math:`\mathcal N(\mu_a, \Sigma_a)` and :math:`\mathcal N(\mu_b, \Sigma_b)`,

.. math::

    d^2 = \lVert \mu_a - \mu_b \rVert^2 + \operatorname{tr}\Big(\Sigma_a + \Sigma_b
          - 2 \big(\Sigma_a^{1/2} \Sigma_b \Sigma_a^{1/2}\big)^{1/2}\Big).

The trace term uses the symmetric positive semi-definite product
:math:`\Sigma_a^{1/2} \Sigma_b \Sigma_a^{1/2}`, which has the same eigenvalues as
:math:`\Sigma_a \Sigma_b`; both square roots come from symmetric eigendecompositions with the
tiny negative eigenvalues of round-off clipped to zero, so the result is real and stable even
for singular covariances (fewer samples than features). Computed in float64 with NumPy.

"FID" usually means features of an Inception-v3 network on ImageNet-like images. The book uses
features of a small LeNet-style classifier trained on the same data set: "FID with a LeNet-style
network", useful for comparing models on that data set, not comparable with Inception FID.
"""

from __future__ import annotations

import numpy as np

FEATURE_RANK = 2


def _as_features(features, name: str) -> np.ndarray:
    array = np.asarray(features)
    if array.ndim != FEATURE_RANK or array.shape[0] < FEATURE_RANK:
        raise ValueError(f"{name} must have shape (N, D) with N >= 2; got shape {array.shape}")
    if not np.issubdtype(array.dtype, np.number):
        raise TypeError(f"{name} must hold numbers; got dtype {array.dtype}")
    return array.astype(np.float64)


def gaussian_statistics(features) -> tuple[np.ndarray, np.ndarray]:
    """Mean and (unbiased) covariance of a feature set.

    Args:
        features: shape ``(N, D)``.

    Returns:
        ``(mean, covariance)`` of shapes ``(D,)`` and ``(D, D)``, float64.

    Example:
        >>> mean, cov = gaussian_statistics(np.eye(3))
        >>> mean.shape, cov.shape
        ((3,), (3, 3))
    """
    array = _as_features(features, "features")
    return array.mean(axis=0), np.cov(array, rowvar=False).reshape(array.shape[1], array.shape[1])


def psd_sqrt(matrix) -> np.ndarray:
    """Square root of a symmetric positive semi-definite matrix by eigendecomposition.

    Args:
        matrix: shape ``(D, D)``, symmetric (it is symmetrised first to remove round-off).

    Returns:
        The symmetric ``S`` with ``S @ S == matrix``, shape ``(D, D)``; negative eigenvalues from
        round-off are clipped to zero.

    Example:
        >>> psd_sqrt(np.diag([4.0, 9.0]))
        array([[2., 0.],
               [0., 3.]])
    """
    matrix = np.asarray(matrix, dtype=np.float64)
    if matrix.ndim != FEATURE_RANK or matrix.shape[0] != matrix.shape[1]:
        raise ValueError(f"matrix must be square (D, D); got shape {matrix.shape}")
    values, vectors = np.linalg.eigh((matrix + matrix.T) / 2)
    return (vectors * np.sqrt(np.clip(values, 0.0, None))) @ vectors.T


def frechet_distance(mean_a, cov_a, mean_b, cov_b) -> float:
    """Squared Fréchet (2-Wasserstein) distance between two Gaussians.

    Args:
        mean_a: shape ``(D,)``.
        cov_a: shape ``(D, D)``, symmetric PSD.
        mean_b: shape ``(D,)``.
        cov_b: shape ``(D, D)``, symmetric PSD.

    Returns:
        The distance as a Python float (>= 0).

    Example:
        >>> frechet_distance(np.zeros(2), np.eye(2), np.ones(2), 4 * np.eye(2))  # 2 + 2 (2 - 1)**2
        4.0
    """
    mean_a, mean_b = np.asarray(mean_a, np.float64), np.asarray(mean_b, np.float64)
    cov_a, cov_b = np.asarray(cov_a, np.float64), np.asarray(cov_b, np.float64)
    d = mean_a.shape[0]
    for name, value, shape in (("mean_b", mean_b, (d,)), ("cov_a", cov_a, (d, d)), ("cov_b", cov_b, (d, d))):
        if value.shape != shape:
            raise ValueError(f"{name} must have shape {shape}; got {value.shape}")
    root_a = psd_sqrt(cov_a)
    product = psd_sqrt(root_a @ cov_b @ root_a)
    distance = np.sum((mean_a - mean_b) ** 2) + np.trace(cov_a) + np.trace(cov_b) - 2 * np.trace(product)
    return float(max(distance, 0.0))


def fid(features_a, features_b) -> float:
    """Fréchet distance between Gaussian fits of two feature sets ("FID" with these features).

    Args:
        features_a: shape ``(N, D)``, e.g. classifier features of real images.
        features_b: shape ``(M, D)``, e.g. features of generated images.

    Returns:
        The distance as a Python float (>= 0); 0 for identical sets.

    Example:
        >>> rng = np.random.default_rng(0)
        >>> round(fid(rng.normal(size=(5000, 2)), rng.normal(size=(5000, 2)) + [3.0, 0.0]))
        9
    """
    a, b = _as_features(features_a, "features_a"), _as_features(features_b, "features_b")
    if a.shape[1] != b.shape[1]:
        raise ValueError(f"features_a and features_b must have the same D; got shapes {a.shape} and {b.shape}")
    return frechet_distance(*gaussian_statistics(a), *gaussian_statistics(b))
