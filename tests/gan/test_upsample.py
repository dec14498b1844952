"""The fast transposed convolutions equal nnx.ConvTranspose / lax.conv_transpose; pixel_shuffle; ResizeConv."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from flax import nnx
from jax.test_util import check_grads

from companion.gan.upsample import (
    PhaseConvTranspose,
    ResizeConv,
    conv_transpose_overlap_add,
    conv_transpose_phase,
    default_batch_chunks,
    pixel_shuffle,
    tap_matrix,
)
from companion.perf import available_cores

TOLERANCE = 1e-5
FAST_VERSIONS = [conv_transpose_phase, conv_transpose_overlap_add]


@pytest.mark.parametrize(("height", "width", "c_in", "c_out"), [(7, 7, 8, 3), (4, 5, 3, 2), (1, 1, 2, 1)])
def test_phase_layer_equals_nnx_conv_transpose(key, height, width, c_in, c_out):
    reference = nnx.ConvTranspose(c_in, c_out, (4, 4), strides=(2, 2), padding="SAME", rngs=nnx.Rngs(0))
    reference.bias[...] = jax.random.normal(jax.random.fold_in(key, 1), (c_out,))
    layer = PhaseConvTranspose(c_in, c_out, rngs=nnx.Rngs(1))
    layer.kernel[...], layer.bias[...] = reference.kernel[...], reference.bias[...]
    x = jax.random.normal(key, (2, height, width, c_in))
    expected = reference(x)
    assert layer(x).shape == expected.shape == (2, 2 * height, 2 * width, c_out)
    np.testing.assert_allclose(layer(x), expected, atol=TOLERANCE, rtol=TOLERANCE)


def lax_version(x, w):
    return jax.lax.conv_transpose(x, w, (2, 2), "SAME", dimension_numbers=("NHWC", "HWIO", "NHWC"))


@pytest.mark.parametrize("fast", FAST_VERSIONS)
@pytest.mark.parametrize(("shape", "c_out"), [((2, 5, 5, 4), 3), ((3, 4, 6, 2), 1), ((1, 1, 1, 3), 2)])
def test_fast_functions_equal_lax_conv_transpose_and_its_gradients(key, fast, shape, c_out):
    x_key, w_key = jax.random.split(key)
    x, w = jax.random.normal(x_key, shape), jax.random.normal(w_key, (4, 4, shape[-1], c_out))
    np.testing.assert_allclose(fast(x, w), lax_version(x, w), atol=TOLERANCE, rtol=TOLERANCE)
    loss = lambda f: lambda x, w: jnp.sum(jnp.sin(f(x, w)))
    ours = jax.grad(loss(fast), argnums=(0, 1))(x, w)
    theirs = jax.grad(loss(lax_version), argnums=(0, 1))(x, w)
    for a, b in zip(ours, theirs, strict=True):
        np.testing.assert_allclose(a, b, atol=1e-4, rtol=1e-4)


def test_overlap_add_gradients_match_finite_differences(key):
    x_key, w_key = jax.random.split(key)
    x, w = jax.random.normal(x_key, (1, 3, 3, 2)), jax.random.normal(w_key, (4, 4, 2, 2))
    check_grads(conv_transpose_overlap_add, (x, w), order=1, modes=["rev"], atol=1e-2, rtol=1e-2)


@pytest.mark.parametrize("chunks", [1, 2, 3, 6])
def test_overlap_add_in_batch_chunks_equals_lax_conv_transpose_and_its_gradients(key, chunks):
    x_key, w_key, dy_key = jax.random.split(key, 3)
    x, w = jax.random.normal(x_key, (6, 3, 4, 5)), jax.random.normal(w_key, (4, 4, 5, 2))
    dy = jax.random.normal(dy_key, (6, 6, 8, 2))
    ours, ours_vjp = jax.vjp(lambda x, w: conv_transpose_overlap_add(x, w, batch_chunks=chunks), x, w)
    theirs, theirs_vjp = jax.vjp(lax_version, x, w)
    np.testing.assert_allclose(ours, theirs, atol=TOLERANCE, rtol=TOLERANCE)
    for a, b in zip(ours_vjp(dy), theirs_vjp(dy), strict=True):
        np.testing.assert_allclose(a, b, atol=1e-4, rtol=1e-4)


@pytest.mark.parametrize("batch", [1, 2, 7, 64, 128])
def test_default_batch_chunks_divides_the_batch_within_the_cores(batch):
    chunks = default_batch_chunks(batch)
    assert 1 <= chunks <= available_cores()
    assert batch % chunks == 0


@pytest.mark.parametrize("bad", [0, 4, 2.0, True])
def test_bad_batch_chunks_names_the_batch(bad):
    with pytest.raises(ValueError, match=r"batch_chunks must be an int >= 1 that divides the batch of 6"):
        conv_transpose_overlap_add(jnp.ones((6, 2, 2, 3)), jnp.ones((4, 4, 3, 1)), batch_chunks=bad)


def test_tap_matrix_column_sends_an_input_pixel_to_its_output_pixel():
    # a single input pixel at (i, j) = (1, 2) meets tap (u, v, r, s) at output (2 (i+u) + r - 1, 2 (j+v) + s - 1)
    kernel = jax.random.normal(jax.random.key(0), (4, 4, 1, 1))
    x = jnp.zeros((1, 3, 4, 1)).at[0, 1, 2, 0].set(1.0)
    y = lax_version(x, kernel)[0, :, :, 0]
    taps = tap_matrix(kernel).reshape(2, 2, 2, 2)
    for u, v, r, s in np.ndindex(2, 2, 2, 2):
        assert y[2 * (1 + u) + r - 1, 2 * (2 + v) + s - 1] == pytest.approx(float(taps[u, v, r, s]), abs=1e-6)


@pytest.mark.parametrize("fast", FAST_VERSIONS)
def test_fast_functions_equal_pytorch_with_flipped_kernel(key, fast):
    torch = pytest.importorskip("torch", reason="PyTorch is an optional reference (pip install torch)")
    x_key, w_key = jax.random.split(key)
    x, w = jax.random.normal(x_key, (2, 6, 6, 4)), jax.random.normal(w_key, (4, 4, 4, 3))
    torch_x = torch.tensor(np.asarray(x)).permute(0, 3, 1, 2)
    torch_w = torch.tensor(np.asarray(w)[::-1, ::-1].copy()).permute(2, 3, 0, 1)  # (C_in, C_out, kh, kw)
    expected = torch.nn.functional.conv_transpose2d(torch_x, torch_w, stride=2, padding=1).permute(0, 2, 3, 1)
    np.testing.assert_allclose(fast(x, w), expected.numpy(), atol=TOLERANCE, rtol=TOLERANCE)


def test_pixel_shuffle_places_channel_groups():
    x = jnp.arange(2 * 2 * 4, dtype=jnp.float32).reshape(1, 2, 2, 4)  # one output channel
    y = pixel_shuffle(x, 2)[0, :, :, 0]
    assert y.shape == (4, 4)
    assert y[0, :2].tolist() == [0.0, 1.0] and y[1, :2].tolist() == [2.0, 3.0] and y[0, 2] == 4.0


def test_resize_conv_shape_and_no_checkerboard_on_constant_input():
    layer = ResizeConv(3, 2, use_bias=False, rngs=nnx.Rngs(0))
    y = layer(jnp.ones((1, 6, 6, 3)))
    assert y.shape == (1, 12, 12, 2)
    interior = y[0, 1:-1, 1:-1]
    np.testing.assert_allclose(interior, jnp.broadcast_to(interior[:1, :1], interior.shape), rtol=1e-5)


def test_bad_input_names_the_shape():
    layer = PhaseConvTranspose(3, 2, rngs=nnx.Rngs(0))
    with pytest.raises(ValueError, match=r"3 channels.*\(2, 4, 4, 5\)"):
        layer(jnp.ones((2, 4, 4, 5)))
    with pytest.raises(ValueError, match="factor"):
        pixel_shuffle(jnp.ones((1, 2, 2, 3)), 2)


@pytest.mark.parametrize("bad", [jnp.ones((3, 3, 2, 2)), jnp.ones((4, 4, 2))])
def test_tap_matrix_names_the_expected_kernel_shape(bad):
    with pytest.raises(ValueError, match=r"kernel must have shape \(4, 4, C_in, C_out\)"):
        tap_matrix(bad)
