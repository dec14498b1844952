"""The fast layers compute exactly what nnx.Conv, nnx.max_pool and the reference formulas do."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from flax import nnx

from companion.nn.layers import Conv2D, extract_patches, max_pool

ATOL = 1e-5  # float32 sums in a different order; nothing else differs


def _pair(in_features, out_features, kernel, *, strides=1, padding="VALID", use_bias=True):
    fast = Conv2D(in_features, out_features, kernel, strides=strides, padding=padding,
                  use_bias=use_bias, rngs=nnx.Rngs(0))
    ref = nnx.Conv(in_features, out_features, (kernel, kernel), strides=strides, padding=padding,
                   use_bias=use_bias, rngs=nnx.Rngs(0))
    return fast, ref


CASES = [
    (1, 4, 3, 1, "VALID"),
    (3, 5, 3, 1, "SAME"),
    (2, 3, 5, 1, "SAME"),
    (2, 3, 3, 2, "VALID"),
    (2, 3, 3, 2, "SAME"),
    (4, 6, 1, 1, "VALID"),
]


@pytest.mark.parametrize(("c_in", "c_out", "kernel", "stride", "padding"), CASES)
def test_conv2d_matches_nnx_conv_forward_and_gradients(key, c_in, c_out, kernel, stride, padding):
    fast, ref = _pair(c_in, c_out, kernel, strides=stride, padding=padding)
    k_x, k_b = jax.random.split(key)
    ref.bias[...] = jax.random.normal(k_b, (c_out,))
    fast.bias[...] = ref.bias[...]
    assert fast.kernel.shape == ref.kernel.shape
    np.testing.assert_array_equal(fast.kernel[...], ref.kernel[...])
    x = jax.random.normal(k_x, (2, 9, 8, c_in))

    def loss(model, x):
        return jnp.sum(jnp.sin(model(x)))

    @nnx.jit
    def outputs_and_grads(model, x):
        return model(x), nnx.grad(loss, argnums=(0, 1))(model, x)

    out, (model_grad, x_grad) = outputs_and_grads(fast, x)
    ref_out, (ref_model_grad, ref_x_grad) = outputs_and_grads(ref, x)
    np.testing.assert_allclose(out, ref_out, atol=ATOL)
    np.testing.assert_allclose(x_grad, ref_x_grad, atol=ATOL)
    for name in ("kernel", "bias"):
        np.testing.assert_allclose(model_grad[name][...], ref_model_grad[name][...], atol=1e-4)


def test_conv2d_matches_the_reference_formula(key):
    formulas = pytest.importorskip("companion.formulas")
    if not hasattr(formulas, "conv2d"):
        pytest.skip("companion.formulas.conv2d is not available yet")
    fast = Conv2D(3, 4, 3, padding="SAME", rngs=nnx.Rngs(1))
    x = jax.random.uniform(key, (2, 7, 7, 3))
    for image, out in zip(x, fast(x), strict=True):
        expected = formulas.conv2d(image, fast.kernel[...], fast.bias[...], padding=1)
        np.testing.assert_allclose(out, expected, atol=ATOL)


def test_conv2d_jit_equals_eager(key):
    fast = Conv2D(2, 3, 3, rngs=nnx.Rngs(0))
    x = jax.random.normal(key, (1, 6, 6, 2))
    np.testing.assert_array_equal(nnx.jit(lambda m, x: m(x))(fast, x), fast(x))


def test_conv2d_without_bias_has_no_bias_parameter():
    fast = Conv2D(2, 3, 3, use_bias=False, rngs=nnx.Rngs(0))
    assert fast.bias is None
    assert fast(jnp.zeros((1, 5, 5, 2))).shape == (1, 3, 3, 3)


def test_conv2d_rejects_wrong_channels_and_rank():
    fast = Conv2D(3, 4, 3, rngs=nnx.Rngs(0))
    with pytest.raises(ValueError, match=r"3 channels.*\(1, 8, 8, 1\)"):
        fast(jnp.zeros((1, 8, 8, 1)))
    with pytest.raises(ValueError, match=r"\(N, H, W, C\)"):
        fast(jnp.zeros((8, 8, 3)))
    with pytest.raises(ValueError, match="padding"):
        Conv2D(3, 4, 3, padding="FULL", rngs=nnx.Rngs(0))


def test_extract_patches_orders_taps_like_a_reshaped_kernel():
    x = jnp.arange(2 * 4 * 4 * 2, dtype=jnp.float32).reshape(2, 4, 4, 2)
    patches = extract_patches(x, (3, 3))
    assert patches.shape == (2, 2, 2, 18)
    np.testing.assert_array_equal(patches[0, 1, 0, :2], x[0, 1, 0])  # tap (0, 0)
    np.testing.assert_array_equal(patches[0, 1, 0, 2:4], x[0, 1, 1])  # tap (0, 1)
    np.testing.assert_array_equal(patches[0, 1, 0, 6:8], x[0, 2, 0])  # tap (1, 0)
    with pytest.raises(ValueError, match="does not fit"):
        extract_patches(x, (5, 5))


@pytest.mark.parametrize("shape", [(2, 8, 8, 3), (2, 9, 7, 2), (1, 26, 26, 4), (1, 11, 11, 1)])
def test_max_pool_forward_equals_nnx_max_pool_exactly(key, shape):
    x = jax.random.normal(key, shape)
    np.testing.assert_array_equal(max_pool(x, 2), nnx.max_pool(x, (2, 2), strides=(2, 2)))
    np.testing.assert_array_equal(max_pool(x, 3), nnx.max_pool(x, (3, 3), strides=(3, 3)))


def test_max_pool_gradient_equals_reduce_window_without_ties(key):
    x = jax.random.normal(key, (2, 9, 8, 3))  # continuous values: no ties
    cotangent = jax.random.normal(jax.random.fold_in(key, 1), (2, 4, 4, 3))
    fast = jax.grad(lambda x: jnp.sum(max_pool(x, 2) * cotangent))(x)
    ref = jax.grad(lambda x: jnp.sum(nnx.max_pool(x, (2, 2), strides=(2, 2)) * cotangent))(x)
    np.testing.assert_array_equal(fast, ref)


def test_max_pool_matches_the_reference_formula(key):
    formulas = pytest.importorskip("companion.formulas")
    if not hasattr(formulas, "max_pool2d"):
        pytest.skip("companion.formulas.max_pool2d is not available yet")
    x = jax.random.normal(key, (2, 8, 8, 3))
    for image, out in zip(x, max_pool(x, 2), strict=True):
        np.testing.assert_array_equal(out, formulas.max_pool2d(image, 2))


def test_max_pool_overlapping_windows_fall_back_to_nnx(key):
    x = jax.random.normal(key, (1, 7, 7, 2))
    np.testing.assert_array_equal(max_pool(x, 3, stride=2), nnx.max_pool(x, (3, 3), strides=(2, 2)))
    with pytest.raises(ValueError, match=r"\(N, H, W, C\)"):
        max_pool(jnp.zeros((7, 7, 2)))
