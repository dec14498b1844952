"""Activations and their hand-written derivatives against jax.nn and jax.grad."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from companion.formulas import activations as act

Z = jnp.linspace(-6.0, 6.0, 49)

PAIRS = [
    (act.relu, jax.nn.relu),
    (act.sigmoid, jax.nn.sigmoid),
    (act.tanh, jnp.tanh),
    (act.gelu, lambda z: jax.nn.gelu(z, approximate=False)),
    (act.gelu_tanh, lambda z: jax.nn.gelu(z, approximate=True)),
    (lambda z: act.leaky_relu(z, negative_slope=0.1), lambda z: jax.nn.leaky_relu(z, 0.1)),
]


@pytest.mark.parametrize(("ours", "theirs"), PAIRS)
def test_activation_matches_jax(ours, theirs):
    np.testing.assert_allclose(ours(Z), theirs(Z), rtol=1e-6, atol=1e-6)


GRADS = [
    (act.relu, act.relu_grad),
    (act.sigmoid, act.sigmoid_grad),
    (act.tanh, act.tanh_grad),
    (act.gelu, act.gelu_grad),
    (act.gelu_tanh, act.gelu_tanh_grad),
]


@pytest.mark.parametrize(("f", "df"), GRADS)
def test_derivative_matches_jax_grad(f, df):
    auto = jax.vmap(jax.grad(f))(Z)
    np.testing.assert_allclose(df(Z), auto, rtol=1e-5, atol=1e-6)


def test_relu_grad_is_zero_at_the_kink_like_jax():
    assert float(act.relu_grad(jnp.float32(0.0))) == float(jax.grad(jax.nn.relu)(0.0)) == 0.0


@pytest.mark.parametrize("axis", [0, 1, -1])
def test_softmax_and_log_softmax_match_jax(key, axis):
    z = 10 * jax.random.normal(key, (3, 5, 4))
    np.testing.assert_allclose(
        act.softmax(z, axis), jax.nn.softmax(z, axis=axis), rtol=1e-5, atol=1e-7
    )
    np.testing.assert_allclose(
        act.log_softmax(z, axis), jax.nn.log_softmax(z, axis=axis), rtol=1e-5, atol=1e-5
    )


def test_softmax_is_stable_for_huge_logits():
    z = jnp.array([[1000.0, 0.0, -1000.0], [-1e30, -1e30, 0.0]])
    assert bool(jnp.all(jnp.isfinite(act.softmax(z))))
    assert bool(jnp.all(jnp.isfinite(act.log_softmax(z))))


def test_softmax_jacobian_matches_jacfwd(key):
    z = jax.random.normal(key, (5,))
    np.testing.assert_allclose(act.softmax_jacobian(z), jax.jacfwd(act.softmax)(z), atol=1e-6)


def test_sigmoid_saturates_without_nan():
    assert float(act.sigmoid(jnp.float32(-1000.0))) == 0.0
    assert float(act.sigmoid(jnp.float32(1000.0))) == 1.0


def test_integer_input_becomes_float32():
    assert act.relu(jnp.arange(3)).dtype == jnp.float32


def test_bad_input_names_the_argument():
    with pytest.raises(TypeError, match="z"):
        act.relu("abc")
    with pytest.raises(ValueError, match="axis"):
        act.softmax(jnp.zeros((2, 3)), axis=2)
    with pytest.raises(ValueError, match="shape"):
        act.softmax_jacobian(jnp.zeros((2, 3)))
