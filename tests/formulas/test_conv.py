"""formulas.conv against jax.lax.conv_general_dilated, jax.vjp and scipy, over many geometries."""

import functools

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from companion.formulas import conv as F
from companion.formulas import sizes

SETTINGS = settings(
    max_examples=4,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)


# Every stride 1-3, padding 0-2, dilation 1-2, kernel size 1-5, channel count 1-4, and odd and
# even image sizes appear in this table. Eager JAX compiles each primitive once per shape, so a
# short table (shapes shared between tests) keeps the suite fast; hypothesis adds random cases.
GEOMETRIES = [
    dict(h=5, w=6, kh=1, kw=2, c_in=1, c_out=2, stride=1, padding=0, dilation=1, seed=1),
    dict(h=7, w=8, kh=3, kw=3, c_in=3, c_out=4, stride=2, padding=1, dilation=1, seed=2),
    dict(h=8, w=7, kh=5, kw=4, c_in=2, c_out=1, stride=3, padding=2, dilation=1, seed=3),
    dict(h=9, w=9, kh=3, kw=2, c_in=4, c_out=3, stride=1, padding=2, dilation=2, seed=4),
    dict(h=6, w=5, kh=4, kw=5, c_in=2, c_out=2, stride=2, padding=0, dilation=1, seed=5),
    dict(h=7, w=6, kh=2, kw=3, c_in=1, c_out=1, stride=3, padding=1, dilation=2, seed=6),
]
table_driven = pytest.mark.parametrize(
    "g", GEOMETRIES, ids=lambda g: "k{kh}x{kw}-s{stride}-p{padding}-d{dilation}".format(**g)
)


@st.composite
def geometries(draw):
    """A conv geometry: sizes 1-9 (odd and even), kernel 1-5, stride 1-3, padding 0-2, dilation 1-2."""
    g = {
        "h": draw(st.integers(1, 9)),
        "w": draw(st.integers(1, 9)),
        "kh": draw(st.integers(1, 5)),
        "kw": draw(st.integers(1, 5)),
        "c_in": draw(st.integers(1, 4)),
        "c_out": draw(st.integers(1, 4)),
        "stride": draw(st.integers(1, 3)),
        "padding": draw(st.integers(0, 2)),
        "dilation": draw(st.integers(1, 2)),
        "seed": draw(st.integers(0, 2**16)),
    }
    assume(g["dilation"] * (g["kh"] - 1) + 1 <= g["h"] + 2 * g["padding"])
    assume(g["dilation"] * (g["kw"] - 1) + 1 <= g["w"] + 2 * g["padding"])
    return g


def _arrays(g):
    kx, kw, kb = jax.random.split(jax.random.key(g["seed"]), 3)
    x = jax.random.normal(kx, (g["h"], g["w"], g["c_in"]))
    w = jax.random.normal(kw, (g["kh"], g["kw"], g["c_in"], g["c_out"]))
    b = jax.random.normal(kb, (g["c_out"],))
    return x, w, b


@functools.partial(jax.jit, static_argnames=("stride", "pads", "dilation"))
def lax_conv(x, w, *, stride, pads, dilation):
    return jax.lax.conv_general_dilated(
        x[None],
        w,
        (stride, stride),
        pads,
        rhs_dilation=(dilation, dilation),
        dimension_numbers=("NHWC", "HWIO", "NHWC"),
        precision="highest",
    )[0]


@table_driven
def test_conv2d_matches_lax(g):
    _compare_with_lax(g)


@SETTINGS
@given(geometries())
def test_conv2d_matches_lax_random_geometries(g):
    _compare_with_lax(g)


def _compare_with_lax(g):
    x, w, b = _arrays(g)
    p = g["padding"]
    ours = F.conv2d(x, w, b, stride=g["stride"], padding=p, dilation=g["dilation"])
    ref = lax_conv(x, w, stride=g["stride"], pads=((p, p), (p, p)), dilation=g["dilation"]) + b
    np.testing.assert_allclose(ours, ref, rtol=1e-5, atol=1e-5)
    expected_h = sizes.conv_output_size(g["h"], g["kh"], stride=g["stride"], padding=p, dilation=g["dilation"])
    assert ours.shape[0] == expected_h


@pytest.mark.parametrize("pads", [((0, 1), (0, 1)), ((2, 0), (1, 2)), ((1, 1), (0, 0))])
def test_conv2d_asymmetric_padding_matches_lax(key, pads):
    x = jax.random.normal(key, (6, 5, 2))
    w = jax.random.normal(jax.random.fold_in(key, 1), (2, 3, 2, 3))
    np.testing.assert_allclose(
        F.conv2d(x, w, padding=pads), lax_conv(x, w, stride=1, pads=pads, dilation=1), rtol=1e-5, atol=1e-5
    )


def test_conv2d_same_padding_matches_lax_same(key):
    x = jax.random.normal(key, (8, 7, 1))
    w = jax.random.normal(jax.random.fold_in(key, 1), (4, 2, 1, 2))
    pads = (sizes.same_padding(8, 4, stride=2), sizes.same_padding(7, 2, stride=2))
    ref = jax.lax.conv_general_dilated(x[None], w, (2, 2), "SAME", dimension_numbers=("NHWC", "HWIO", "NHWC"))[0]
    np.testing.assert_allclose(F.conv2d(x, w, stride=2, padding=pads), ref, rtol=1e-5, atol=1e-5)


def test_conv2d_batch_equals_loop(key):
    x = jax.random.normal(key, (2, 5, 5, 2))
    w = jax.random.normal(jax.random.fold_in(key, 1), (2, 2, 2, 3))
    batched = F.conv2d(x, w, stride=2, padding=1)
    looped = jnp.stack([F.conv2d(one, w, stride=2, padding=1) for one in x])
    np.testing.assert_allclose(batched, looped, rtol=1e-5, atol=1e-6)


def test_conv2d_jit_equals_eager(key):
    x = jax.random.normal(key, (6, 6, 2))
    w = jax.random.normal(jax.random.fold_in(key, 1), (3, 3, 2, 2))
    jitted = jax.jit(functools.partial(F.conv2d, stride=2, padding=1, dilation=2))
    np.testing.assert_allclose(jitted(x, w), F.conv2d(x, w, stride=2, padding=1, dilation=2), rtol=1e-6)


@table_driven
def test_im2col_matmul_equals_conv2d(g):
    x, w, _ = _arrays(g)
    kwargs = {"stride": g["stride"], "padding": g["padding"], "dilation": g["dilation"]}
    out = F.conv2d(x, w, **kwargs)
    cols = F.im2col(x, g["kh"], g["kw"], **kwargs)
    assert cols.shape == (out.shape[0] * out.shape[1], g["kh"] * g["kw"] * g["c_in"])
    product = (cols @ w.reshape(-1, g["c_out"])).reshape(out.shape)
    np.testing.assert_allclose(product, out, rtol=1e-5, atol=1e-5)


@table_driven
def test_input_grad_matches_vjp(g):
    x, w, _ = _arrays(g)
    kwargs = {"stride": g["stride"], "padding": g["padding"], "dilation": g["dilation"]}
    out, vjp = jax.vjp(lambda x: F.conv2d(x, w, **kwargs), x)
    upstream = jax.random.normal(jax.random.key(g["seed"] + 1), out.shape)
    (expected,) = vjp(upstream)
    ours = F.conv2d_input_grad(upstream, w, (g["h"], g["w"]), **kwargs)
    np.testing.assert_allclose(ours, expected, rtol=1e-5, atol=1e-5)


@table_driven
def test_conv_transpose_is_the_input_gradient(g):
    x, w, _ = _arrays(g)
    s, p, d = g["stride"], g["padding"], g["dilation"]
    out, vjp = jax.vjp(lambda x: F.conv2d(x, w, stride=s, padding=p, dilation=d), x)
    upstream = jax.random.normal(jax.random.key(g["seed"] + 1), out.shape)
    (expected,) = vjp(upstream)
    extra = [(n + 2 * p - d * (k - 1) - 1) % s for n, k in ((g["h"], g["kh"]), (g["w"], g["kw"]))]
    if not all(e < max(s, d) for e in extra):
        pytest.skip("output_padding would have to reach the stride")
    ours = F.conv_transpose2d(
        upstream, jnp.swapaxes(w, 2, 3), stride=s, padding=p, output_padding=tuple(extra), dilation=d
    )
    np.testing.assert_allclose(ours, expected, rtol=1e-5, atol=1e-5)
    size = sizes.conv_transpose_output_size(
        out.shape[0], g["kh"], stride=s, padding=p, output_padding=extra[0], dilation=d
    )
    assert ours.shape[0] == size == g["h"]


def test_conv_transpose_matches_lax_conv_transpose(key):
    x = jax.random.normal(key, (4, 5, 2))
    w = jax.random.normal(jax.random.fold_in(key, 1), (3, 3, 2, 3))
    # lax.conv_transpose with transpose_kernel=True expects the kernel of the forward conv: (kh, kw, C_out_t, C_in_t)
    ref = jax.lax.conv_transpose(
        x[None],
        jnp.swapaxes(w, 2, 3),
        (2, 2),
        "VALID",
        transpose_kernel=True,
        dimension_numbers=("NHWC", "HWIO", "NHWC"),
    )[0]
    np.testing.assert_allclose(F.conv_transpose2d(x, w, stride=2), ref, rtol=1e-5, atol=1e-5)


def test_checkerboard_of_transposed_convolution():
    out = F.conv_transpose2d(jnp.ones((4, 4, 1)), jnp.ones((3, 3, 1, 1)), stride=2)[..., 0]
    interior = np.asarray(out[2:-2, 2:-2])
    assert set(np.unique(interior)) == {1.0, 2.0, 4.0}  # uneven overlap: a checkerboard
    even = F.conv_transpose2d(jnp.ones((4, 4, 1)), jnp.ones((4, 4, 1, 1)), stride=2)[..., 0]
    assert set(np.unique(np.asarray(even[2:-2, 2:-2]))) == {4.0}  # kernel divisible by stride: flat


def test_convolve2d_flips_the_kernel_and_matches_scipy(key):
    signal = pytest.importorskip("scipy.signal")
    x = jax.random.normal(key, (7, 6))
    k = jax.random.normal(jax.random.fold_in(key, 1), (3, 2))
    np.testing.assert_allclose(F.convolve2d(x, k), signal.convolve2d(x, k, mode="valid"), rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(F.correlate2d(x, k), signal.correlate2d(x, k, mode="valid"), rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(F.convolve2d(x, k), F.correlate2d(x, k[::-1, ::-1]), rtol=1e-6)


def test_symmetric_kernel_convolution_equals_correlation(key):
    x = jax.random.normal(key, (6, 6))
    blur = jnp.array([[1.0, 2.0, 1.0], [2.0, 4.0, 2.0], [1.0, 2.0, 1.0]]) / 16
    np.testing.assert_allclose(F.convolve2d(x, blur), F.correlate2d(x, blur), rtol=1e-6)


def test_small_example_by_hand():
    x = jnp.arange(9.0).reshape(3, 3, 1)
    w = jnp.array([[1.0, 0.0], [0.0, -1.0]]).reshape(2, 2, 1, 1)
    np.testing.assert_array_equal(F.conv2d(x, w)[..., 0], [[-4.0, -4.0], [-4.0, -4.0]])


def test_bad_input_raises_before_tracing():
    x, w = jnp.zeros((5, 5, 2)), jnp.zeros((3, 3, 3, 1))
    with pytest.raises(ValueError, match="C_in=3"):
        F.conv2d(x, w)
    with pytest.raises(ValueError, match=r"shape \(H, W, C_in\)"):
        F.conv2d(jnp.zeros((5, 5)), w)
    with pytest.raises(ValueError, match="kernel spans"):
        F.conv2d(jnp.zeros((2, 2, 3)), w)
    with pytest.raises(ValueError, match="b must have shape"):
        F.conv2d(jnp.zeros((5, 5, 3)), w, jnp.zeros(2))
    with pytest.raises(TypeError, match="stride"):
        F.conv2d(jnp.zeros((5, 5, 3)), w, stride=1.0)
    with pytest.raises(ValueError, match="padding"):
        F.conv2d(jnp.zeros((5, 5, 3)), w, padding=(1, 2, 3))
    with pytest.raises(ValueError, match="grad_out must have shape"):
        F.conv2d_input_grad(jnp.zeros((2, 2, 1)), jnp.zeros((3, 3, 1, 1)), (5, 5))
