"""The fused conv-ReLU-pool layer equals nnx.Conv -> ReLU -> nnx.max_pool, values and gradients."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from flax import nnx

from companion.nn import conv_max_pool, conv_relu_pool


def reference(x, kernel, bias, activation=jax.nn.relu):
    conv = nnx.Conv(kernel.shape[2], kernel.shape[3], kernel.shape[:2], padding="VALID", rngs=nnx.Rngs(0))
    conv.kernel[...], conv.bias[...] = kernel, bias
    return nnx.max_pool(activation(conv(x)), (2, 2), strides=(2, 2), padding="VALID")


def reference_no_relu(x, kernel, bias):
    return reference(x, kernel, bias, activation=lambda z: z)


@pytest.mark.parametrize(("fused", "unfused"), [(conv_relu_pool, reference), (conv_max_pool, reference_no_relu)])
@pytest.mark.parametrize(("shape", "kernel_shape"), [
    ((3, 28, 28, 1), (3, 3, 1, 8)),   # SeedCNN's first layer (26 -> 13)
    ((2, 12, 11, 3), (3, 3, 3, 5)),   # RGB, odd map width (9 -> 4, a column dropped)
    ((2, 9, 9, 2), (2, 4, 2, 3)),     # non-square kernel
    ((2, 13, 13, 32), (3, 3, 32, 16)),  # SeedCNN's second layer: the matrix-product path (11 -> 5)
])
def test_values_and_gradients_match_the_unfused_layers(fused, unfused, shape, kernel_shape):
    keys = jax.random.split(jax.random.key(0), 4)
    x = jax.random.uniform(keys[0], shape)
    kernel = jax.random.normal(keys[1], kernel_shape)
    bias = 0.1 * jax.random.normal(keys[2], kernel_shape[-1:])
    out = fused(x, kernel, bias)
    expected = unfused(x, kernel, bias)
    assert out.shape == expected.shape
    np.testing.assert_allclose(out, expected, rtol=1e-5, atol=1e-5)
    assert 0 < float((out > 0).mean()) < 1  # both ReLU branches are exercised

    weights = jax.random.normal(keys[3], out.shape)  # a loss whose gradient differs per element

    def loss(fn):
        return lambda x, k, b: jnp.sum(fn(x, k, b) * weights)

    got = jax.grad(loss(fused), argnums=(0, 1, 2))(x, kernel, bias)
    want = jax.grad(loss(unfused), argnums=(0, 1, 2))(x, kernel, bias)
    for name, g, w in zip(("x", "kernel", "bias"), got, want, strict=True):
        np.testing.assert_allclose(g, w, rtol=1e-4, atol=1e-4, err_msg=name)


def test_ties_send_the_gradient_to_the_first_maximum_like_reduce_window():
    x = jnp.ones((1, 3, 3, 1))  # every window position sees the same patch
    kernel, bias = jnp.ones((2, 2, 1, 1)), jnp.zeros(1)
    got = jax.grad(lambda k: conv_relu_pool(x, k, bias).sum())(kernel)
    want = jax.grad(lambda k: reference(x, k, bias).sum())(kernel)
    np.testing.assert_allclose(got, want)


def test_conv_max_pool_without_bias_adds_none():
    x = jax.random.normal(jax.random.key(2), (2, 9, 9, 3))
    kernel = jax.random.normal(jax.random.key(3), (3, 3, 3, 4))
    np.testing.assert_allclose(conv_max_pool(x, kernel), reference_no_relu(x, kernel, jnp.zeros(4)),
                               rtol=1e-5, atol=1e-5)


def test_works_under_jit_and_vmap_free_batching():
    x = jax.random.uniform(jax.random.key(1), (4, 10, 10, 1))
    kernel, bias = jnp.ones((3, 3, 1, 2)), jnp.zeros(2)
    np.testing.assert_allclose(jax.jit(conv_relu_pool)(x, kernel, bias), conv_relu_pool(x, kernel, bias))


@pytest.mark.parametrize(("x_shape", "kernel_shape", "message"), [
    ((2, 8, 8), (3, 3, 1, 2), "expects x \\(N, H, W, C_in\\)"),
    ((2, 8, 8, 3), (3, 3, 1, 2), "x has 3 channels but the kernel expects 1"),
    ((2, 3, 3, 1), (3, 3, 1, 2), "smaller than the 2 x 2 pooling window"),
])
def test_bad_shapes_get_clear_errors(x_shape, kernel_shape, message):
    with pytest.raises(ValueError, match=message):
        conv_relu_pool(jnp.zeros(x_shape), jnp.zeros(kernel_shape), jnp.zeros(kernel_shape[-1:]))
