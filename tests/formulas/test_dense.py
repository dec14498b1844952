"""The dense layer and the hand-written backward pass agree with JAX."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from flax import nnx

from companion.formulas import dense as d


def network(key, n=6, inputs=4, hidden=5, outputs=3):
    k1, k2, k3, k4, kx, ky = jax.random.split(key, 6)
    params = {
        "w1": jax.random.normal(k1, (inputs, hidden)),
        "b1": jax.random.normal(k2, (hidden,)),
        "w2": jax.random.normal(k3, (hidden, outputs)),
        "b2": jax.random.normal(k4, (outputs,)),
    }
    return params, jax.random.normal(kx, (n, inputs)), jax.random.normal(ky, (n, outputs))


@pytest.mark.parametrize(("n_in", "n_out", "bias"), [(1, 1, True), (784, 10, True), (3, 5, False)])
def test_dense_params_matches_flax(n_in, n_out, bias):
    layer = nnx.Linear(n_in, n_out, use_bias=bias, rngs=nnx.Rngs(0))
    count = sum(p.size for p in jax.tree.leaves(nnx.state(layer, nnx.Param)))
    assert d.dense_params(n_in, n_out, bias=bias) == count


@pytest.mark.parametrize("shape", [(4,), (1, 4), (7, 4)])
def test_dense_matches_flax_linear(key, shape):
    layer = nnx.Linear(4, 3, rngs=nnx.Rngs(0))
    x = jax.random.normal(key, shape)
    got = d.dense_layer(x, layer.kernel[...], layer.bias[...])
    np.testing.assert_allclose(got, layer(x), rtol=1e-6, atol=1e-6)
    np.testing.assert_allclose(d.dense_layer(x, layer.kernel[...]), x @ layer.kernel[...], rtol=1e-6)


@pytest.mark.parametrize("activation", sorted(d.ACTIVATIONS))
@pytest.mark.parametrize("seed", [0, 1])
def test_backward_matches_jax_grad(activation, seed):
    params, x, y = network(jax.random.key(seed))
    ours = d.two_layer_backward(params, x, y, activation=activation)
    theirs = jax.grad(d.two_layer_loss)(params, x, y, activation=activation)
    assert set(ours) == set(theirs)
    for name in ours:
        assert ours[name].shape == params[name].shape
        np.testing.assert_allclose(ours[name], theirs[name], rtol=1e-5, atol=1e-6, err_msg=name)


def test_forward_matches_flax_modules(key):
    params, x, _ = network(key)
    hidden = nnx.Linear(4, 5, rngs=nnx.Rngs(0))
    out = nnx.Linear(5, 3, rngs=nnx.Rngs(1))
    params = {"w1": hidden.kernel[...], "b1": hidden.bias[...], "w2": out.kernel[...],
              "b2": out.bias[...]}
    expected = out(jnp.tanh(hidden(x)))
    got = d.two_layer_forward(params, x, activation="tanh")
    np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-6)


def test_backward_is_jittable(key):
    params, x, y = network(key)
    eager = d.two_layer_backward(params, x, y)
    compiled = jax.jit(d.two_layer_backward)(params, x, y)
    for name in eager:
        np.testing.assert_allclose(eager[name], compiled[name], rtol=1e-6, atol=1e-7)


@pytest.mark.parametrize(
    ("call", "error", "words"),
    [
        (lambda p, x, y: d.dense_layer(x, jnp.ones((5, 2))), ValueError, ["w", "(5, 2)", "4"]),
        (lambda p, x, y: d.dense_layer(x, p["w1"], jnp.ones(2)), ValueError, ["b", "(5,)", "(2,)"]),
        (lambda p, x, y: d.dense_layer(x[None], p["w1"]), ValueError, ["x", "(1, 6, 4)"]),
        (lambda p, x, y: d.dense_layer(x, np.array([["a"]])), TypeError, ["w"]),
        (lambda p, x, y: d.two_layer_loss({"w1": p["w1"]}, x, y), TypeError, ["params", "b1"]),
        (lambda p, x, y: d.two_layer_loss({**p, "b1": jnp.ones(2)}, x, y), ValueError,
         ["params['b1']", "(5,)", "(2,)"]),
        (lambda p, x, y: d.two_layer_loss(p, x, y[:, :1]), ValueError, ["y", "(6, 3)", "(6, 1)"]),
        (lambda p, x, y: d.two_layer_loss(p, x, y, activation="swish"), ValueError,
         ["activation", "swish"]),
        (lambda p, x, y: d.dense_params(0, 3), ValueError, ["n_in"]),
        (lambda p, x, y: d.dense_params(3.0, 3), TypeError, ["n_in"]),
    ],
)
def test_bad_input_is_named(key, call, error, words):
    params, x, y = network(key)
    with pytest.raises(error) as info:
        call(params, x, y)
    for word in words:
        assert word in str(info.value)
