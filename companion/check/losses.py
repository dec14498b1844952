"""Checkers for the exercises of the chapter "Loss functions": softmax, cross-entropy and MSE."""

from __future__ import annotations

import functools
from collections.abc import Callable

import jax
import jax.numpy as jnp
import numpy as np

from companion import formulas
from companion.check.harness import Case, CheckResult, Diagnosis, run_check

_SEED = 4242


def _normal(shape, index: int, scale: float = 2.0) -> jax.Array:
    rng = np.random.default_rng((_SEED, index))  # NumPy: no compilation for each new shape
    return jnp.asarray(scale * rng.standard_normal(shape), dtype=jnp.float32)


def _labels(n: int, k: int, index: int) -> jax.Array:
    return jnp.asarray(np.random.default_rng((_SEED, index)).integers(0, k, size=n), dtype=jnp.int32)


# ----------------------------------------------------------------------------------------------
# softmax
# ----------------------------------------------------------------------------------------------


@functools.cache
def _softmax_cases() -> tuple[Case, ...]:
    return (
        Case((jnp.array([1.0, 2.0, 3.0]),), {"axis": -1}, note="one vector"),
        Case((_normal((2, 4), 1),), {"axis": -1}, note="a batch of 2 rows"),
        Case((_normal((3, 3), 2),), {"axis": -1}, note="square batch"),
        Case((_normal((4, 3), 3),), {"axis": 0}, note="axis=0"),
        Case((jnp.array([1000.0, 0.0, -1000.0]),), {"axis": -1}, note="large logits"),
        Case((jnp.array([[0.0, 1.0, 2.0], [-1000.0, -999.0, -998.0]]),), {"axis": -1},
             note="rows on very different scales"),
        Case((_normal((2, 3, 4), 4),), {"axis": 1}, note="3-D input, axis=1"),
    )


def _naive_softmax(z, axis=-1):
    e = jnp.exp(z)
    return e / e.sum(axis=axis, keepdims=True)


def _global_max_softmax(z, axis=-1):
    e = jnp.exp(z - z.max())
    return e / e.sum(axis=axis, keepdims=True)


def _no_keepdims_softmax(z, axis=-1):
    e = jnp.exp(z - z.max(axis=axis))
    return e / e.sum(axis=axis)


def _other_axis(z, axis=-1):
    if z.ndim < 2:
        return None
    other = 0 if axis % z.ndim != 0 else z.ndim - 1
    return formulas.softmax(z, axis=other)


_SOFTMAX_DIAGNOSES = (
    Diagnosis(
        "you subtracted the maximum of the whole array; subtract each row's own maximum "
        "(z.max(axis=axis, keepdims=True)), or rows of small logits underflow to 0/0.",
        variant=_global_max_softmax,
    ),
    Diagnosis(
        "overflows for large logits: subtract the max before exp (softmax(z) = softmax(z - max z)).",
        variant=_naive_softmax,
    ),
    Diagnosis(
        "you ignored the axis argument and always used the last axis.",
        variant=lambda z, axis=-1: formulas.softmax(z, axis=-1) if axis % z.ndim != z.ndim - 1 else None,
    ),
    Diagnosis("softmax over the wrong axis: normalise along `axis`.", variant=_other_axis),
    Diagnosis(
        "you normalised over the whole array; each slice along `axis` must sum to one.",
        variant=lambda z, axis=-1: jnp.exp(z - z.max()) / jnp.exp(z - z.max()).sum() if z.ndim > 1 else None,
    ),
    Diagnosis(
        "broadcasting went wrong: reduce with keepdims=True so the max and the sum line up with "
        "the rows they came from.",
        variant=_no_keepdims_softmax,
    ),
    Diagnosis(
        "you returned log-probabilities (log-softmax); softmax returns probabilities.",
        variant=lambda z, axis=-1: formulas.log_softmax(z, axis=axis),
    ),
)


def softmax(fn: Callable[..., jax.Array], *, verbose: bool = True) -> CheckResult:
    """Check ``fn(z, axis=-1)``, a numerically stable softmax along ``axis``.

    Diagnoses: overflow for large logits (no max subtracted), an ignored ``axis``, the wrong
    axis, normalising over the whole array, subtracting the global instead of the per-row
    maximum, broadcasting without ``keepdims``, and returning log-probabilities.

    Args:
        fn: the reader's function.
        verbose: print the report.

    Returns:
        The :class:`~companion.check.CheckResult`.

    Example:
        >>> from companion import formulas
        >>> softmax(formulas.softmax).passed
        PASS: softmax (7 cases)
        True
    """
    return run_check(
        "softmax", fn, formulas.softmax, _softmax_cases(), diagnoses=_SOFTMAX_DIAGNOSES,
        arg_names=("z",), rtol=1e-4, atol=1e-6, verbose=verbose,
    )


# ----------------------------------------------------------------------------------------------
# softmax_cross_entropy
# ----------------------------------------------------------------------------------------------


@functools.cache
def _cross_entropy_cases() -> tuple[Case, ...]:
    return (
        Case((jnp.array([[2.0, 1.0, 0.1]]), jnp.array([0])), note="one example"),
        Case((_normal((4, 3), 11), _labels(4, 3, 12)), note="a batch of 4"),
        Case((_normal((8, 10), 13), _labels(8, 10, 14)), note="10 classes"),
        Case((jnp.array([[1000.0, 0.0, -1000.0], [0.0, 0.0, 0.0]]), jnp.array([0, 2])),
             note="large logits, true class the largest"),
        Case((jnp.array([[1000.0, 0.0, -1000.0], [5.0, 200.0, 0.0]]), jnp.array([1, 0])),
             note="large logits, true class not the largest"),
    )


def _per_example(logits, labels):
    return formulas.softmax_cross_entropy_per_example(logits, labels)


def _naive_cross_entropy(logits, labels):
    p = jnp.exp(logits) / jnp.exp(logits).sum(axis=-1, keepdims=True)
    return -jnp.mean(jnp.log(p[jnp.arange(labels.shape[0]), labels]))


def _log_of_softmax(logits, labels):
    p = formulas.softmax(logits)
    return -jnp.mean(jnp.log(p[jnp.arange(labels.shape[0]), labels]))


_CROSS_ENTROPY_DIAGNOSES = (
    Diagnosis(
        "you took the log of a probability that underflowed to 0: compute the log-softmax "
        "directly as z - logsumexp(z), not log(softmax(z)).",
        variant=_log_of_softmax,
    ),
    Diagnosis(
        "overflows for large logits: use the log-sum-exp trick, "
        "log sum_k exp(z_k) = m + log sum_k exp(z_k - m) with m = max z.",
        variant=_naive_cross_entropy,
    ),
    Diagnosis(
        "you summed over the batch; the loss is the mean over the batch.",
        variant=lambda logits, labels: jnp.sum(_per_example(logits, labels)),
    ),
    Diagnosis(
        "you returned one loss per example; return their mean over the batch (a scalar).",
        variant=_per_example,
    ),
    Diagnosis(
        "you averaged over the classes too; sum over classes, then average over the batch only.",
        variant=lambda logits, labels: jnp.mean(_per_example(logits, labels)) / logits.shape[-1],
    ),
    Diagnosis(
        "wrong sign: cross-entropy is minus the log-probability of the true class.",
        variant=lambda logits, labels: -jnp.mean(_per_example(logits, labels)),
    ),
    Diagnosis(
        "softmax over the wrong axis: the classes are the last axis, not the batch.",
        variant=lambda logits, labels: -jnp.mean(
            formulas.log_softmax(logits, axis=0)[jnp.arange(labels.shape[0]), labels]
        ),
    ),
)


def softmax_cross_entropy(fn: Callable[..., jax.Array], *, verbose: bool = True) -> CheckResult:
    """Check ``fn(logits, labels)``, softmax cross-entropy with integer labels, mean over the batch.

    ``logits`` is ``(N, K)``, ``labels`` is ``(N,)`` int; the result is a scalar.

    Diagnoses: overflow (no log-sum-exp), log of an underflowed softmax, sum instead of mean,
    per-example losses instead of their mean, averaging over classes, the wrong sign, and
    softmax over the batch axis.

    Args:
        fn: the reader's function.
        verbose: print the report.

    Returns:
        The :class:`~companion.check.CheckResult`.

    Example:
        >>> from companion import formulas
        >>> softmax_cross_entropy(formulas.softmax_cross_entropy).passed
        PASS: softmax_cross_entropy (5 cases)
        True
    """
    return run_check(
        "softmax_cross_entropy", fn, formulas.softmax_cross_entropy, _cross_entropy_cases(),
        diagnoses=_CROSS_ENTROPY_DIAGNOSES, arg_names=("logits", "labels"), verbose=verbose,
    )


# ----------------------------------------------------------------------------------------------
# mse and half_mse
# ----------------------------------------------------------------------------------------------


@functools.cache
def _mse_cases() -> tuple[Case, ...]:
    return (
        Case((jnp.array([1.0, 2.0, 3.0]), jnp.array([1.0, 0.0, 6.0])), note="a vector"),
        Case((_normal((4, 3), 21), _normal((4, 3), 22)), note="a batch of 4 vectors"),
        Case((_normal((2, 3, 3), 23), _normal((2, 3, 3), 24)), note="3-D arrays"),
        Case((jnp.array([[0.5, -1.0]]), jnp.array([[0.5, -1.0]])), note="perfect prediction"),
    )


def _mse_diagnoses(factor: float) -> tuple[Diagnosis, ...]:
    """Diagnoses shared by MSE with ``factor`` 1 and half MSE with ``factor`` 1/2."""
    def scaled(value):
        return factor * value

    missing_half = (
        Diagnosis(
            "you forgot the 1/2: this loss is (1/M) sum (1/2)(pred - target)^2.",
            variant=lambda p, t: jnp.mean((p - t) ** 2),
        ),
    ) if factor != 1 else (
        Diagnosis(
            "you included a factor 1/2; this exercise's MSE is the plain mean of squared errors.",
            variant=lambda p, t: 0.5 * jnp.mean((p - t) ** 2),
        ),
    )
    return (
        *missing_half,
        Diagnosis(
            "you summed; the loss is the mean over all elements.",
            variant=lambda p, t: scaled(jnp.sum((p - t) ** 2)),
        ),
        Diagnosis(
            "you averaged over the last axis only; MSE is the mean over all elements (a scalar).",
            variant=lambda p, t: scaled(jnp.mean((p - t) ** 2, axis=-1)),
        ),
        Diagnosis(
            "you summed over the last axis and averaged over the batch; MSE averages over all elements.",
            variant=lambda p, t: scaled(jnp.mean(jnp.sum((p - t) ** 2, axis=-1))),
        ),
        Diagnosis(
            "you computed the mean absolute error: square the differences.",
            variant=lambda p, t: scaled(jnp.mean(jnp.abs(p - t))),
        ),
        Diagnosis(
            "you returned the root of the mean squared error (RMSE): drop the square root.",
            variant=lambda p, t: scaled(jnp.sqrt(jnp.mean((p - t) ** 2))),
        ),
        Diagnosis(
            "you squared the mean difference; square each difference first, then average.",
            variant=lambda p, t: scaled(jnp.mean(p - t) ** 2),
        ),
    )


def mse(fn: Callable[..., jax.Array], *, verbose: bool = True) -> CheckResult:
    """Check ``fn(pred, target)``, the mean squared error over all elements (no factor 1/2).

    Diagnoses: a factor 1/2, a sum instead of a mean, a mean over the last axis only, a sum over
    the last axis, the mean absolute error, the RMSE, and the square of the mean difference.

    Args:
        fn: the reader's function.
        verbose: print the report.

    Returns:
        The :class:`~companion.check.CheckResult`.

    Example:
        >>> mse(lambda p, t: ((p - t) ** 2).mean()).passed
        PASS: mse (4 cases)
        True
    """
    return run_check(
        "mse", fn, formulas.mse, _mse_cases(), diagnoses=_mse_diagnoses(1.0),
        arg_names=("pred", "target"), verbose=verbose,
    )


def half_mse(fn: Callable[..., jax.Array], *, verbose: bool = True) -> CheckResult:
    """Check ``fn(pred, target)``, half the mean squared error, ``mean(0.5 * (pred - target)**2)``.

    Diagnoses: a forgotten 1/2, and the mistakes :func:`mse` diagnoses.

    Args:
        fn: the reader's function.
        verbose: print the report.

    Returns:
        The :class:`~companion.check.CheckResult`.

    Example:
        >>> half_mse(lambda p, t: 0.5 * ((p - t) ** 2).mean()).passed
        PASS: half_mse (4 cases)
        True
    """
    return run_check(
        "half_mse", fn, formulas.half_mse, _mse_cases(), diagnoses=_mse_diagnoses(0.5),
        arg_names=("pred", "target"), verbose=verbose,
    )


# ----------------------------------------------------------------------------------------------
# binary cross-entropy from logits
# ----------------------------------------------------------------------------------------------


@functools.cache
def _bce_cases() -> tuple[Case, ...]:
    return (
        Case((jnp.array([0.0, 2.0, -1.0]), jnp.array([1.0, 1.0, 0.0])), note="a few logits"),
        Case((_normal((4, 3), 31), _coin_flips((4, 3), 32)), note="a batch"),
        Case((jnp.array([-200.0, 200.0, 50.0]), jnp.array([1.0, 0.0, 1.0])), note="large logits"),
    )


def _coin_flips(shape, index: int) -> jax.Array:
    rng = np.random.default_rng((_SEED, index))
    return jnp.asarray(rng.integers(0, 2, size=shape), dtype=jnp.float32)


def _naive_bce(z, y):
    p = 1 / (1 + jnp.exp(-z))
    return -jnp.mean(y * jnp.log(p) + (1 - y) * jnp.log(1 - p))


_BCE_DIAGNOSES = (
    Diagnosis(
        "log(sigmoid(z)) underflows for large |z|: use max(z, 0) - z*y + log(1 + exp(-|z|)).",
        variant=_naive_bce,
    ),
    Diagnosis(
        "you clipped the probabilities; the logits form needs no clipping and is exact: "
        "max(z, 0) - z*y + log(1 + exp(-|z|)).",
        variant=lambda z, y: formulas.binary_cross_entropy(1 / (1 + jnp.exp(-z)), y),
    ),
    Diagnosis(
        "you summed; the loss is the mean over all elements.",
        variant=lambda z, y: formulas.binary_cross_entropy_with_logits(z, y) * z.size,
    ),
    Diagnosis(
        "wrong sign: binary cross-entropy is minus the log-likelihood.",
        variant=lambda z, y: -formulas.binary_cross_entropy_with_logits(z, y),
    ),
    Diagnosis(
        "you swapped the roles of y and 1 - y.",
        variant=lambda z, y: formulas.binary_cross_entropy_with_logits(z, 1 - y),
    ),
)


def binary_cross_entropy_with_logits(fn: Callable[..., jax.Array], *, verbose: bool = True) -> CheckResult:
    """Check ``fn(logits, targets)``, binary cross-entropy from logits, mean over all elements.

    Diagnoses: the naive ``log(sigmoid(z))`` (non-finite for large logits), clipped
    probabilities, a sum instead of the mean, the wrong sign, and swapped targets.

    Args:
        fn: the reader's function.
        verbose: print the report.

    Returns:
        The :class:`~companion.check.CheckResult`.

    Example:
        >>> from companion import formulas
        >>> binary_cross_entropy_with_logits(formulas.binary_cross_entropy_with_logits).passed
        PASS: binary_cross_entropy_with_logits (3 cases)
        True
    """
    return run_check(
        "binary_cross_entropy_with_logits", fn, formulas.binary_cross_entropy_with_logits,
        _bce_cases(), diagnoses=_BCE_DIAGNOSES, arg_names=("logits", "targets"), verbose=verbose,
    )
