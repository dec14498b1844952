"""The neuron, dense-layer and backprop checkers pass the references and diagnose mistakes."""

import jax
import jax.numpy as jnp
import pytest

from companion import check, formulas
from companion.check import dense as dense_checks
from companion.formulas import dense


def stub(*args, **kwargs):
    raise NotImplementedError


def sigmoid(z):
    return 1 / (1 + jnp.exp(-z))


def backward(*, fprime_at_output=False, mean=True):
    """A reader's hand-written backward pass, with one mistake switched on."""

    def grads(params, x, y):
        z1 = x @ params["w1"] + params["b1"]
        h = sigmoid(z1)
        y_hat = h @ params["w2"] + params["b2"]
        d2 = 2 * (y_hat - y) / (y_hat.size if mean else 1)
        s = sigmoid(h) if fprime_at_output else h
        d1 = (d2 @ params["w2"].T) * s * (1 - s)
        return {"w1": x.T @ d1, "b1": d1.sum(0), "w2": h.T @ d2, "b2": d2.sum(0)}

    return grads


CHECKERS = {
    "dense_params": (check.dense_params, formulas.dense_params),
    "neuron": (check.neuron, lambda x, w, b: jnp.maximum(x @ w + b, 0.0)),
    "dense_layer": (check.dense_layer, formulas.dense_layer),
    "sigmoid_grad": (check.sigmoid_grad, formulas.sigmoid_grad),
    "two_layer_backward": (check.two_layer_backward, formulas.two_layer_backward),
}

WRONG = [
    ("dense_params", lambda n_in, n_out, *, bias=True: n_in * n_out, "biases are missing"),
    ("dense_params", lambda n_in, n_out, *, bias=True: n_in * n_out + n_in,
     "one bias per input"),
    ("dense_params", lambda n_in, n_out, *, bias=True: n_in + n_out + n_out,
     "added the sizes"),
    ("neuron", lambda x, w, b: jnp.maximum(x @ w, 0.0), "bias is missing"),
    ("neuron", lambda x, w, b: x @ w + b, "activation is missing"),
    ("neuron", lambda x, w, b: x * w + b, "did not sum"),
    ("dense_layer", lambda x, w, b: x @ w, "bias is missing"),
    ("dense_layer", lambda x, w, b: x @ w.T + b, "transposed weights"),
    ("dense_layer", lambda x, w, b: (x @ w + b).sum(0), "summed over the batch"),
    ("sigmoid_grad", lambda z: sigmoid(z) * (1 - z), "sigma(z) * (1 - z)"),
    ("sigmoid_grad", lambda z: jnp.exp(-z) / (1 + jnp.exp(-z)) ** 2, "overflows"),
    ("sigmoid_grad", sigmoid, "the sigmoid itself"),
    ("two_layer_backward", backward(fprime_at_output=True), "pre-activation z1"),
    ("two_layer_backward", backward(mean=False), "mean over all N*M"),
]


@pytest.mark.parametrize("name", CHECKERS)
def test_reference_passes(name, capsys):
    checker, reference = CHECKERS[name]
    result = checker(reference)
    assert result.passed, result.message
    assert capsys.readouterr().out.startswith(f"PASS: {name}")


@pytest.mark.parametrize("name", CHECKERS)
def test_stub_fails_with_a_friendly_message(name):
    result = CHECKERS[name][0](stub)
    assert not result.passed
    assert "not implemented yet" in result.message


@pytest.mark.parametrize(("name", "wrong", "cause"), WRONG, ids=[f"{w[0]}-{w[2]}" for w in WRONG])
def test_wrong_implementations_are_diagnosed(name, wrong, cause):
    result = CHECKERS[name][0](wrong)
    assert not result.passed
    assert cause in result.message.split("likely cause:")[-1], result.message


def test_backward_by_jax_grad_passes():
    assert check.two_layer_backward(jax.grad(dense.two_layer_loss)).passed


@pytest.mark.parametrize(
    ("checker", "bad", "words"),
    [
        (check.two_layer_backward, lambda p, x, y: [p["w1"]], "dict with the keys"),
        (check.dense_params, lambda n_in, n_out, *, bias=True: n_in * n_out / 1, "integer"),
        (check.sigmoid_grad, lambda z: None, "None"),
        (check.dense_layer, lambda x, w: x @ w, "signature"),
    ],
)
def test_reader_errors_are_reported_not_raised(checker, bad, words):
    result = checker(bad)
    assert not result.passed
    assert words in result.message


def test_checkers_are_exported():
    assert set(dense_checks.__all__) <= set(check.__all__)
