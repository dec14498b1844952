"""check.softmax, check.softmax_cross_entropy, check.mse, check.half_mse, check.binary_cross_entropy_with_logits."""

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest

from companion import check, formulas


def _stub(*args, **kwargs):
    raise NotImplementedError


def _assert_diagnosis(result, fragment):
    assert not result.passed
    assert fragment in result.message, result.message


CHECKERS_AND_REFERENCES = [
    (check.softmax, formulas.softmax),
    (check.softmax, lambda z, axis=-1: jax.nn.softmax(z, axis=axis)),
    (check.softmax_cross_entropy, formulas.softmax_cross_entropy),
    (check.softmax_cross_entropy, lambda z, y: optax.softmax_cross_entropy_with_integer_labels(z, y).mean()),
    (check.mse, formulas.mse),
    (check.half_mse, formulas.half_mse),
    (check.half_mse, lambda p, t: optax.l2_loss(p, t).mean()),
    (check.binary_cross_entropy_with_logits, formulas.binary_cross_entropy_with_logits),
    (check.binary_cross_entropy_with_logits, lambda z, y: optax.sigmoid_binary_cross_entropy(z, y).mean()),
]


@pytest.mark.parametrize(("checker", "reference"), CHECKERS_AND_REFERENCES)
def test_references_pass(checker, reference):
    assert checker(reference, verbose=False).passed


@pytest.mark.parametrize(
    "checker",
    [check.softmax, check.softmax_cross_entropy, check.mse, check.half_mse, check.binary_cross_entropy_with_logits],
)
def test_stubs_fail_friendly(checker):
    _assert_diagnosis(checker(_stub, verbose=False), "not implemented yet")


def numpy_softmax_rows(z, axis=-1):
    """A reader's NumPy softmax that works on the last axis only (float64)."""
    z = np.asarray(z, np.float64)
    e = np.exp(z - z.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


@pytest.mark.parametrize(
    ("wrong", "fragment"),
    [
        (lambda z, axis=-1: jnp.exp(z) / jnp.exp(z).sum(axis=axis, keepdims=True), "subtract the max"),
        (numpy_softmax_rows, "ignored the axis"),
        (lambda z, axis=-1: jax.nn.softmax(z, axis=0 if z.ndim > 1 else -1), "wrong axis"),
        (lambda z, axis=-1: jnp.exp(z - z.max()) / jnp.exp(z - z.max()).sum(axis=axis, keepdims=True), "whole array"),
        (lambda z, axis=-1: jnp.exp(z - z.max(axis)) / jnp.exp(z - z.max(axis)).sum(axis), "keepdims"),
        (lambda z, axis=-1: jax.nn.log_softmax(z, axis=axis), "log-probabilities"),
        (lambda z, axis=-1: jnp.exp(z - z.max()) / jnp.exp(z - z.max()).sum(), "whole array"),
    ],
)
def test_softmax_mistakes(wrong, fragment):
    _assert_diagnosis(check.softmax(wrong, verbose=False), fragment)


def _naive_ce(z, y):
    p = jnp.exp(z) / jnp.exp(z).sum(axis=-1, keepdims=True)
    return -jnp.mean(jnp.log(p[jnp.arange(len(y)), y]))


def _log_of_stable_softmax(z, y):
    return -jnp.mean(jnp.log(jax.nn.softmax(z)[jnp.arange(len(y)), y]))


@pytest.mark.parametrize(
    ("wrong", "fragment"),
    [
        (_naive_ce, "log-sum-exp"),
        (_log_of_stable_softmax, "underflowed"),
        (lambda z, y: optax.softmax_cross_entropy_with_integer_labels(z, y).sum(), "summed over the batch"),
        (lambda z, y: optax.softmax_cross_entropy_with_integer_labels(z, y), "one loss per example"),
        (lambda z, y: jnp.mean(-jax.nn.one_hot(y, z.shape[-1]) * jax.nn.log_softmax(z)), "averaged over the classes"),
        (lambda z, y: jnp.mean(jax.nn.log_softmax(z)[jnp.arange(len(y)), y]), "wrong sign"),
        (lambda z, y: -jnp.mean(jax.nn.log_softmax(z, axis=0)[jnp.arange(len(y)), y]), "wrong axis"),
    ],
)
def test_cross_entropy_mistakes(wrong, fragment):
    _assert_diagnosis(check.softmax_cross_entropy(wrong, verbose=False), fragment)


@pytest.mark.parametrize(
    ("wrong", "fragment"),
    [
        (lambda p, t: 0.5 * jnp.mean((p - t) ** 2), "factor 1/2"),
        (lambda p, t: jnp.sum((p - t) ** 2), "you summed"),
        (lambda p, t: jnp.mean((p - t) ** 2, axis=-1), "last axis only"),
        (lambda p, t: jnp.mean(jnp.abs(p - t)), "mean absolute error"),
        (lambda p, t: jnp.sqrt(jnp.mean((p - t) ** 2)), "RMSE"),
        (lambda p, t: jnp.mean(p - t) ** 2, "square each difference first"),
        (lambda p, t: float(np.mean((np.asarray(p) - np.asarray(t)) ** 2)) + 1, "values differ"),
    ],
)
def test_mse_mistakes(wrong, fragment):
    _assert_diagnosis(check.mse(wrong, verbose=False), fragment)


@pytest.mark.parametrize(
    ("wrong", "fragment"),
    [
        (lambda p, t: jnp.mean((p - t) ** 2), "forgot the 1/2"),
        (lambda p, t: 0.5 * jnp.sum((p - t) ** 2), "you summed"),
    ],
)
def test_half_mse_mistakes(wrong, fragment):
    _assert_diagnosis(check.half_mse(wrong, verbose=False), fragment)


@pytest.mark.parametrize(
    ("wrong", "fragment"),
    [
        (
            lambda z, y: -jnp.mean(y * jnp.log(jax.nn.sigmoid(z)) + (1 - y) * jnp.log(1 - jax.nn.sigmoid(z))),
            "underflows",
        ),
        (lambda z, y: formulas.binary_cross_entropy(jax.nn.sigmoid(z), y), "clipped"),
        (lambda z, y: optax.sigmoid_binary_cross_entropy(z, y).sum(), "you summed"),
        (lambda z, y: -optax.sigmoid_binary_cross_entropy(z, y).mean(), "wrong sign"),
        (lambda z, y: optax.sigmoid_binary_cross_entropy(z, 1 - y).mean(), "swapped"),
    ],
)
def test_bce_mistakes(wrong, fragment):
    _assert_diagnosis(check.binary_cross_entropy_with_logits(wrong, verbose=False), fragment)
