"""formulas.pooling against jax.lax.reduce_window and jax.grad, ties included."""

import functools

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from companion.formulas import pooling as P
from companion.formulas import sizes

SETTINGS = settings(max_examples=4, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow])


# Window sizes 1-3, strides default/1/2/3, odd and even sizes, 1-4 channels, with and without ties.
GEOMETRIES = [
    dict(h=4, w=5, c=1, size=2, stride=None, seed=1, ties=True),
    dict(h=7, w=6, c=3, size=3, stride=2, seed=2, ties=True),
    dict(h=6, w=7, c=2, size=2, stride=1, seed=3, ties=False),
    dict(h=9, w=8, c=4, size=3, stride=3, seed=4, ties=True),
    dict(h=5, w=5, c=2, size=1, stride=None, seed=5, ties=False),
]
table_driven = pytest.mark.parametrize(
    "g", GEOMETRIES, ids=lambda g: "n{h}x{w}-k{size}-s{stride}-ties{ties}".format(**g)
)


@st.composite
def geometries(draw):
    g = {
        "h": draw(st.integers(2, 9)),
        "w": draw(st.integers(2, 9)),
        "c": draw(st.integers(1, 4)),
        "size": draw(st.integers(1, 3)),
        "stride": draw(st.sampled_from([None, 1, 2, 3])),
        "seed": draw(st.integers(0, 2**16)),
        "ties": draw(st.booleans()),
    }
    assume(g["size"] <= min(g["h"], g["w"]))
    return g


def _image(g):
    x = jax.random.normal(jax.random.key(g["seed"]), (g["h"], g["w"], g["c"]))
    return jnp.round(2 * x) if g["ties"] else x  # few distinct values: many ties


@functools.partial(jax.jit, static_argnames=("size", "stride", "op"))
def lax_pool(x, *, size, stride, op):
    step = size if stride is None else stride
    if op == "max":
        return jax.lax.reduce_window(x, -jnp.inf, jax.lax.max, (size, size, 1), (step, step, 1), "VALID")
    total = jax.lax.reduce_window(x, 0.0, jax.lax.add, (size, size, 1), (step, step, 1), "VALID")
    return total / (size * size)


@table_driven
def test_pooling_matches_reduce_window(g):
    _compare_pooling(g)


@SETTINGS
@given(geometries())
def test_pooling_matches_reduce_window_random_geometries(g):
    _compare_pooling(g)


def _compare_pooling(g):
    x = _image(g)
    for ours, op in ((P.max_pool2d, "max"), (P.avg_pool2d, "avg")):
        out = ours(x, g["size"], stride=g["stride"])
        np.testing.assert_allclose(out, lax_pool(x, size=g["size"], stride=g["stride"], op=op), rtol=1e-6, atol=1e-6)
        assert out.shape[0] == sizes.pool_output_size(g["h"], g["size"], stride=g["stride"])


@table_driven
def test_max_pool_grad_routes_like_reduce_window(g):
    x = _image(g)
    out = lax_pool(x, size=g["size"], stride=g["stride"], op="max")
    upstream = jax.random.normal(jax.random.key(g["seed"] + 1), out.shape)
    expected = jax.vjp(lambda x: lax_pool(x, size=g["size"], stride=g["stride"], op="max"), x)[1](upstream)[0]
    np.testing.assert_allclose(P.max_pool2d_grad(x, upstream, g["size"], stride=g["stride"]), expected, atol=1e-6)
    ours_autodiff = jax.vjp(lambda x: P.max_pool2d(x, g["size"], stride=g["stride"]), x)[1](upstream)[0]
    np.testing.assert_allclose(ours_autodiff, expected, atol=1e-6)


@table_driven
def test_avg_pool_grad_matches_vjp(g):
    x = _image(g)
    out, vjp = jax.vjp(lambda x: P.avg_pool2d(x, g["size"], stride=g["stride"]), x)
    upstream = jax.random.normal(jax.random.key(g["seed"] + 1), out.shape)
    ours = P.avg_pool2d_grad(upstream, (g["h"], g["w"]), g["size"], stride=g["stride"])
    np.testing.assert_allclose(ours, vjp(upstream)[0], rtol=1e-6, atol=1e-6)


def test_ties_go_to_the_first_maximum_in_row_major_order():
    x = jnp.array([[1.0, 3.0], [3.0, 2.0]])[..., None]
    grad = P.max_pool2d_grad(x, jnp.ones((1, 1, 1)), 2)[..., 0]
    np.testing.assert_array_equal(grad, [[0.0, 1.0], [0.0, 0.0]])
    # jnp.max splits the gradient between the tied inputs instead
    split = jax.grad(lambda x: jnp.max(x))(x)[..., 0]
    np.testing.assert_array_equal(split, [[0.0, 0.5], [0.5, 0.0]])


def test_overlapping_windows_accumulate():
    x = jnp.array([[0.0, 0.0, 0.0], [0.0, 9.0, 0.0], [0.0, 0.0, 0.0]])[..., None]
    grad = P.max_pool2d_grad(x, jnp.ones((2, 2, 1)), 2, stride=1)[..., 0]
    assert float(grad[1, 1]) == 4.0 and float(grad.sum()) == 4.0


def test_rectangular_windows(key):
    x = jax.random.normal(key, (6, 7, 2))
    ref = jax.lax.reduce_window(x, -jnp.inf, jax.lax.max, (2, 3, 1), (2, 3, 1), "VALID")
    np.testing.assert_allclose(P.max_pool2d(x, (2, 3)), ref)


def test_global_avg_pool(key):
    x = jax.random.normal(key, (2, 5, 4, 3))
    np.testing.assert_allclose(P.global_avg_pool(x), x.mean(axis=(1, 2)), rtol=1e-6)
    assert P.global_avg_pool(x[0]).shape == (3,)


def test_bad_input():
    with pytest.raises(ValueError, match=r"\(H, W, C\)"):
        P.max_pool2d(jnp.zeros((4, 4)), 2)
    with pytest.raises(ValueError, match="larger than the image"):
        P.avg_pool2d(jnp.zeros((2, 2, 1)), 3)
    with pytest.raises(ValueError, match="grad_out must have shape"):
        P.max_pool2d_grad(jnp.zeros((4, 4, 1)), jnp.zeros((3, 3, 1)), 2)
