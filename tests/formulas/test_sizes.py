"""Shape and cost arithmetic against the shapes jax.lax actually produces."""

import itertools

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from flax import nnx

from companion.formulas import sizes

GRID = list(itertools.product([5, 6, 7, 8], [1, 2, 3, 4, 5], [1, 2, 3], [0, 1, 2], [1, 2]))


def _lax_conv_shape(n, k, stride, padding, dilation):
    x = jax.ShapeDtypeStruct((1, 1, n, n), jnp.float32)
    w = jax.ShapeDtypeStruct((1, 1, k, k), jnp.float32)
    out = jax.eval_shape(
        lambda x, w: jax.lax.conv_general_dilated(
            x, w, (stride, stride), [(padding, padding)] * 2, rhs_dilation=(dilation, dilation)
        ),
        x,
        w,
    )
    return out.shape[-1]


@pytest.mark.parametrize(("n", "k", "stride", "padding", "dilation"), GRID)
def test_conv_output_size_matches_lax(n, k, stride, padding, dilation):
    if dilation * (k - 1) + 1 > n + 2 * padding:
        with pytest.raises(ValueError, match="kernel spans"):
            sizes.conv_output_size(n, k, stride=stride, padding=padding, dilation=dilation)
        return
    ours = sizes.conv_output_size(n, k, stride=stride, padding=padding, dilation=dilation)
    assert ours == _lax_conv_shape(n, k, stride, padding, dilation)


@pytest.mark.parametrize(("n", "k", "stride", "padding", "dilation"), GRID[::3])
def test_conv_transpose_output_size_matches_lax(n, k, stride, padding, dilation):
    # A transposed convolution is a convolution of the input dilated by the stride, padded with
    # d(k-1) - p zeros on each side (plus output_padding at the end).
    for output_padding in range(max(stride, dilation)):
        edge = dilation * (k - 1) - padding
        if edge < 0:
            continue
        x = jax.ShapeDtypeStruct((1, 1, n, n), jnp.float32)
        w = jax.ShapeDtypeStruct((1, 1, k, k), jnp.float32)
        pads = [(edge, edge + output_padding)] * 2
        out = jax.eval_shape(
            lambda x, w, pads=pads: jax.lax.conv_general_dilated(
                x, w, (1, 1), pads, lhs_dilation=(stride, stride), rhs_dilation=(dilation, dilation)
            ),
            x,
            w,
        )
        expected = out.shape[-1]
        ours = sizes.conv_transpose_output_size(
            n, k, stride=stride, padding=padding, output_padding=output_padding, dilation=dilation
        )
        assert ours == expected


@pytest.mark.parametrize(
    ("n", "k", "stride", "dilation"),
    list(itertools.product([1, 4, 5, 6, 7, 28], [1, 2, 3, 4, 5], [1, 2, 3], [1, 2])),
)
def test_same_padding_matches_lax(n, k, stride, dilation):
    span = dilation * (k - 1) + 1
    (expected,) = jax.lax.padtype_to_pads((n,), (span,), (stride,), "SAME")
    assert sizes.same_padding(n, k, stride=stride, dilation=dilation) == tuple(expected)
    before, after = expected
    out = sizes.conv_output_size(n + before + after, k, stride=stride, dilation=dilation)
    assert out == -(-n // stride)


def test_same_padding_asymmetric_cases():
    assert sizes.same_padding(4, 2) == (0, 1)
    assert sizes.same_padding(6, 3, stride=2) == (0, 1)
    assert sizes.same_padding(5, 3) == (1, 1)


@pytest.mark.parametrize(
    ("n", "size", "stride"), list(itertools.product([4, 5, 7, 8], [1, 2, 3], [None, 1, 2, 3]))
)
def test_pool_output_size_matches_reduce_window(n, size, stride):
    if size > n:
        return
    step = size if stride is None else stride
    out = jax.eval_shape(
        lambda x: jax.lax.reduce_window(
            x, -jnp.inf, jax.lax.max, (size, size), (step, step), "VALID"
        ),
        jax.ShapeDtypeStruct((n, n), jnp.float32),
    )
    assert sizes.pool_output_size(n, size, stride=stride) == out.shape[0]


def _receptive_field_by_gradient(layers, n=64):
    """Count the input pixels that the middle output pixel of a 1-D conv stack depends on."""

    def net(x):
        for k, s, d in layers:
            w = jnp.ones((1, 1, k), jnp.float32)
            x = jax.lax.conv_general_dilated(x, w, (s,), "VALID", rhs_dilation=(d,))
        return x

    x = jnp.ones((1, 1, n), jnp.float32)
    out = net(x)
    middle = out.shape[-1] // 2
    grad = jax.grad(lambda x: net(x)[0, 0, middle])(x)
    nonzero = np.flatnonzero(np.asarray(grad[0, 0]))
    return int(nonzero.max() - nonzero.min() + 1)


@pytest.mark.parametrize(
    "layers",
    [
        [(3, 1, 1)],
        [(3, 1, 1), (3, 1, 1)],
        [(3, 1, 1), (2, 2, 1), (3, 1, 1), (2, 2, 1)],
        [(5, 2, 1), (3, 1, 2), (3, 3, 1)],
        [(3, 1, 1), (3, 1, 2), (3, 1, 4)],
        [(4, 2, 1), (1, 1, 1), (2, 1, 2)],
    ],
)
def test_receptive_field_matches_gradient_support(layers):
    assert sizes.receptive_field(layers) == _receptive_field_by_gradient(layers)


def test_receptive_field_accepts_pairs():
    assert sizes.receptive_field([(3, 1), (2, 2)]) == sizes.receptive_field([(3, 1, 1), (2, 2, 1)])


@pytest.mark.parametrize(
    ("kh", "kw", "c_in", "c_out", "bias"),
    [
        (3, 3, 1, 32, True),
        (5, 3, 4, 2, False),
        (1, 1, 3, 8, True),
    ],
)
def test_conv_params_matches_nnx(kh, kw, c_in, c_out, bias):
    layer = nnx.Conv(c_in, c_out, (kh, kw), use_bias=bias, rngs=nnx.Rngs(0))
    count = sum(p.size for p in jax.tree.leaves(nnx.state(layer, nnx.Param)))
    assert sizes.conv_params(kh, kw, c_in, c_out, bias=bias) == count


def test_flops_are_twice_the_macs():
    assert sizes.conv_macs(26, 26, 3, 3, 1, 32) == 26 * 26 * 32 * 3 * 3 * 1
    assert sizes.conv_flops(26, 26, 3, 3, 1, 32) == 2 * sizes.conv_macs(26, 26, 3, 3, 1, 32)


def test_bad_sizes_raise_clear_errors():
    with pytest.raises(TypeError, match="stride"):
        sizes.conv_output_size(5, 3, stride=1.5)
    with pytest.raises(ValueError, match="padding"):
        sizes.conv_output_size(5, 3, padding=-1)
    with pytest.raises(ValueError, match="output_padding"):
        sizes.conv_transpose_output_size(5, 3, stride=2, output_padding=2)
    with pytest.raises(ValueError, match=r"layers\[0\]"):
        sizes.receptive_field([(3,)])
