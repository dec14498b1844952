r"""Calibration of a classifier: reliability bins, expected calibration error, temperature scaling.

A classifier is *calibrated* when, among the examples it predicts with confidence :math:`c` (its
largest softmax probability), a fraction :math:`c` is correct. The confidences are sorted into
:math:`B` equal-width bins; bin :math:`b` (counting from 0) holds the confidences in
:math:`[b/B, (b+1)/B)`, and the last bin also holds :math:`c = 1`. The expected calibration
error (Naeini et al., 2015; Guo et al., 2017) is the gap between accuracy and confidence per
bin, weighted by the share of examples in the bin:

.. math::

    \mathrm{ECE} = \sum_{b} \frac{|\mathcal{B}_b|}{n}
    \bigl|\operatorname{acc}(\mathcal{B}_b) - \operatorname{conf}(\mathcal{B}_b)\bigr| .

Temperature scaling (Guo et al., 2017) divides the logits by one scalar :math:`T > 0` fitted
by minimising the negative log-likelihood on a validation set (never on the test set). It
changes no prediction, only the confidences. Chapter "Evaluating a classifier".
"""

from __future__ import annotations

import functools
from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

DEFAULT_NUM_BINS = 15
MIN_TEMPERATURE = 1e-2  # the search interval of fit_temperature
MAX_TEMPERATURE = 1e2
BISECTION_STEPS = 60  # halvings of the log-temperature interval: far below float32 resolution


class ReliabilityBins(NamedTuple):
    """Per-bin statistics of a reliability diagram (a pytree of arrays).

    The fields are ``counts`` (examples per bin, ``int32`` of shape ``(B,)``), ``accuracy``
    (fraction correct per bin, 0 for an empty bin, float32 ``(B,)``), ``confidence`` (mean
    confidence per bin, 0 for an empty bin, float32 ``(B,)``) and ``edges`` (the bin edges
    ``0, 1/B, ..., 1``, float32 ``(B + 1,)``).

    Example:
        >>> bins = reliability_bins(jnp.array([[0.9, 0.1], [0.3, 0.7]]), jnp.array([0, 0]), num_bins=2)
        >>> bins.counts
        Array([0, 2], dtype=int32)
    """

    counts: jax.Array
    accuracy: jax.Array
    confidence: jax.Array
    edges: jax.Array


ReliabilityBins.counts.__doc__ = "Examples per bin, ``int32`` of shape ``(B,)``."
ReliabilityBins.accuracy.__doc__ = "Fraction correct per bin (0 for an empty bin), float32 ``(B,)``."
ReliabilityBins.confidence.__doc__ = "Mean confidence per bin (0 for an empty bin), float32 ``(B,)``."
ReliabilityBins.edges.__doc__ = "The bin edges ``0, 1/B, ..., 1``, float32 ``(B + 1,)``."


def _shape(value) -> tuple[int, ...]:
    return tuple(value.shape) if hasattr(value, "shape") else np.shape(value)


def _dtype(value) -> np.dtype:
    return value.dtype if hasattr(value, "dtype") else np.asarray(value).dtype


def _check_probabilities(probabilities, labels) -> tuple[jax.Array, jax.Array]:
    shape = _shape(probabilities)
    if len(shape) != 2 or shape[1] < 2:
        raise ValueError(f"probabilities must have shape (N, K) with K >= 2; got shape {shape}")
    dtype = _dtype(probabilities)
    if not jnp.issubdtype(dtype, jnp.floating):
        raise TypeError(f"probabilities must be floating point; got dtype {dtype}")
    label_shape = _shape(labels)
    if label_shape != shape[:1]:
        raise ValueError(f"labels must have shape ({shape[0]},) to match probabilities {shape}; "
                         f"got shape {label_shape}")
    label_dtype = _dtype(labels)
    if not jnp.issubdtype(label_dtype, jnp.integer):
        raise TypeError(f"labels must be integer class ids; got dtype {label_dtype}")
    return jnp.asarray(probabilities), jnp.asarray(labels)


def _check_bins(num_bins) -> int:
    if isinstance(num_bins, bool) or not isinstance(num_bins, (int, np.integer)) or num_bins < 1:
        raise ValueError(f"num_bins must be an int >= 1; got {num_bins!r}")
    return int(num_bins)


def reliability_bins(
    probabilities: jax.Array, labels: jax.Array, *, num_bins: int = DEFAULT_NUM_BINS
) -> ReliabilityBins:
    """Sort predictions into equal-width confidence bins; count, accuracy and confidence per bin.

    Args:
        probabilities: predicted class probabilities (softmax outputs), shape ``(N, K)``.
        labels: true class ids, integer shape ``(N,)``.
        num_bins: the number of bins ``B`` on [0, 1].

    Returns:
        A :class:`ReliabilityBins` with arrays of shape ``(B,)`` (edges ``(B + 1,)``).

    Raises:
        ValueError: wrong shapes or ``num_bins`` below 1.
        TypeError: non-float probabilities or non-integer labels.

    Example:
        >>> p = jnp.array([[0.9, 0.1], [0.8, 0.2], [0.4, 0.6]])
        >>> reliability_bins(p, jnp.array([0, 1, 1]), num_bins=5).accuracy
        Array([0. , 0. , 0. , 1. , 0.5], dtype=float32)
    """
    num_bins = _check_bins(num_bins)
    probabilities, labels = _check_probabilities(probabilities, labels)
    return _bins(probabilities, labels, num_bins)


@functools.partial(jax.jit, static_argnums=2)
def _bins(probabilities: jax.Array, labels: jax.Array, num_bins: int) -> ReliabilityBins:
    probabilities = probabilities.astype(jnp.float32)
    confidence = jnp.max(probabilities, axis=-1)
    correct = (jnp.argmax(probabilities, axis=-1) == labels).astype(jnp.float32)
    index = jnp.clip(jnp.floor(confidence * num_bins).astype(jnp.int32), 0, num_bins - 1)
    counts = jnp.zeros(num_bins, jnp.int32).at[index].add(1)
    hits = jnp.zeros(num_bins, jnp.float32).at[index].add(correct)
    confidence_sum = jnp.zeros(num_bins, jnp.float32).at[index].add(confidence)
    safe = jnp.maximum(counts, 1).astype(jnp.float32)
    edges = jnp.linspace(0.0, 1.0, num_bins + 1, dtype=jnp.float32)
    return ReliabilityBins(counts, hits / safe, confidence_sum / safe, edges)


def expected_calibration_error(
    probabilities: jax.Array, labels: jax.Array, *, num_bins: int = DEFAULT_NUM_BINS
) -> jax.Array:
    """Expected calibration error with ``num_bins`` equal-width confidence bins.

    Args:
        probabilities: predicted class probabilities, shape ``(N, K)``.
        labels: true class ids, integer shape ``(N,)``.
        num_bins: the number of bins ``B``.

    Returns:
        A float32 scalar in [0, 1].

    Raises:
        ValueError: wrong shapes or ``num_bins`` below 1.
        TypeError: non-float probabilities or non-integer labels.

    Example:
        >>> p = jnp.array([[0.9, 0.1]] * 4 + [[0.6, 0.4]] * 4)
        >>> round(float(expected_calibration_error(p, jnp.array([0, 0, 1, 1, 0, 0, 0, 1]), num_bins=10)), 4)
        0.275
    """
    num_bins = _check_bins(num_bins)
    probabilities, labels = _check_probabilities(probabilities, labels)
    bins = _bins(probabilities, labels, num_bins)
    share = bins.counts.astype(jnp.float32) / labels.shape[0]
    return jnp.sum(share * jnp.abs(bins.accuracy - bins.confidence))


def _check_logits(logits, labels) -> tuple[jax.Array, jax.Array]:
    logits, labels = _check_probabilities(logits, labels)  # the same shape and dtype rules
    return logits.astype(jnp.float32), labels


def negative_log_likelihood(logits: jax.Array, labels: jax.Array, *, temperature=1.0) -> jax.Array:
    """Mean negative log-likelihood of the labels under ``softmax(logits / temperature)``.

    Args:
        logits: shape ``(N, K)``.
        labels: true class ids, integer shape ``(N,)``.
        temperature: a positive scalar ``T``.

    Returns:
        A float32 scalar.

    Example:
        >>> round(float(negative_log_likelihood(jnp.zeros((2, 4)), jnp.array([0, 3]))), 4)  # log 4
        1.3863
    """
    logits, labels = _check_logits(logits, labels)
    return _nll(logits, labels, jnp.asarray(temperature, jnp.float32))


@jax.jit
def _nll(logits: jax.Array, labels: jax.Array, temperature: jax.Array) -> jax.Array:
    log_p = jax.nn.log_softmax(logits / temperature, axis=-1)
    return -jnp.mean(jnp.take_along_axis(log_p, labels[:, None], axis=-1))


def _nll_slope(logits: jax.Array, labels: jax.Array, beta: jax.Array) -> jax.Array:
    """d NLL / d beta at inverse temperature beta: E_p[z] - z_y, averaged (increasing in beta)."""
    p = jax.nn.softmax(beta * logits, axis=-1)
    true = jnp.take_along_axis(logits, labels[:, None], axis=-1)[:, 0]
    return jnp.mean(jnp.sum(p * logits, axis=-1) - true)


@jax.jit
def _fit(logits: jax.Array, labels: jax.Array) -> jax.Array:
    low = jnp.log(jnp.float32(1 / MAX_TEMPERATURE))  # bounds on log beta = -log T
    high = jnp.log(jnp.float32(1 / MIN_TEMPERATURE))

    def step(_, bounds):
        low, high = bounds
        middle = (low + high) / 2
        rising = _nll_slope(logits, labels, jnp.exp(middle)) > 0
        return jnp.where(rising, low, middle), jnp.where(rising, middle, high)

    low, high = jax.lax.fori_loop(0, BISECTION_STEPS, step, (low, high))
    return jnp.exp(-(low + high) / 2)


def fit_temperature(logits: jax.Array, labels: jax.Array) -> jax.Array:
    r"""Fit the temperature :math:`T` that minimises the NLL of ``softmax(logits / T)``.

    With the inverse temperature :math:`\beta = 1/T`, the NLL
    :math:`\frac1n \sum_i \bigl(\log \sum_k e^{\beta z_{ik}} - \beta z_{i y_i}\bigr)` is convex in
    :math:`\beta`; its derivative :math:`\frac1n \sum_i (\mathbb{E}_{p_i}[z_i] - z_{i y_i})`
    increases with :math:`\beta`. The root is found by bisection on :math:`\log \beta`, so the
    fit is deterministic and needs no learning rate. The result is clipped to
    [``MIN_TEMPERATURE``, ``MAX_TEMPERATURE``]. Fit it on a validation split, never on the
    test set.

    Args:
        logits: validation logits, shape ``(N, K)``.
        labels: validation class ids, integer shape ``(N,)``.

    Returns:
        The temperature, a float32 scalar (above 1: the model was over-confident).

    Raises:
        ValueError: wrong shapes.
        TypeError: non-float logits or non-integer labels.

    Example:
        >>> z = jnp.array([[4.0, 0.0], [4.0, 0.0], [4.0, 0.0], [0.0, 4.0]])
        >>> y = jnp.array([0, 0, 1, 1])  # 75 % right at 98 % confidence: over-confident
        >>> round(float(fit_temperature(z, y)), 3)  # 4 / log 3: the confidence drops to 75 %
        3.641
    """
    logits, labels = _check_logits(logits, labels)
    return _fit(logits, labels)
