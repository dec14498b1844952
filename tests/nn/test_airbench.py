"""The airbench-style network: shapes, the whitening initialisation, frozen weights, dirac init."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from flax import nnx

from companion.nn import AirbenchCNN, ConvGroup, Frozen, extract_patches, whitening_weights
from companion.train import parameter_count

SMALL = (8, 16, 16)
WHITEN_WIDTH = 2 * 2 * 2 * 3  # two signs of 2 x 2 x 3 patch directions


def test_logits_shape_and_sizes():
    model = AirbenchCNN(widths=SMALL, rngs=nnx.Rngs(0))
    assert model(jnp.zeros((2, 32, 32, 3))).shape == (2, 10)
    assert model.final_side == 3  # 32 -> 31 -> 15 -> 7 -> 3
    assert model.whiten_kernel.shape == (2, 2, 3, WHITEN_WIDTH)
    # 3x3 convs without bias, BatchNorm shifts only, the whitening bias and the bias-free head
    expected = WHITEN_WIDTH
    c_in = WHITEN_WIDTH
    for width in SMALL:
        expected += 9 * c_in * width + 9 * width * width + 2 * width
        c_in = width
    expected += SMALL[-1] * 10
    assert parameter_count(model) == expected


def test_whitening_kernel_is_frozen():
    model = AirbenchCNN(widths=SMALL, rngs=nnx.Rngs(0))
    assert isinstance(model.whiten_kernel, Frozen)
    params = nnx.state(model, nnx.Param)
    assert "whiten_kernel" not in params and "whiten_bias" in params


def test_whitening_decorrelates_patches(key):
    mixing = jnp.array([[1.0, 0.8, 0.2], [0.0, 0.6, 0.5], [0.0, 0.0, 0.3]])
    images = jax.random.uniform(key, (64, 12, 12, 3)) @ mixing
    kernel, bias = whitening_weights(images, epsilon=0.0)
    patches = extract_patches(images, (2, 2))
    out = patches.reshape(-1, 12) @ kernel.reshape(12, -1) + bias
    positive = out[:, :12]
    np.testing.assert_allclose(positive.mean(axis=0), 0.0, atol=1e-4)
    np.testing.assert_allclose(jnp.cov(positive.T, bias=True), jnp.eye(12), atol=2e-3)
    np.testing.assert_allclose(out[:, 12:], -positive, atol=1e-6)


def test_init_whitening_accepts_uint8_and_float():
    images = np.random.default_rng(0).integers(0, 256, (16, 16, 16, 3), dtype=np.uint8)
    a = AirbenchCNN(image_size=16, widths=SMALL, rngs=nnx.Rngs(0))
    b = AirbenchCNN(image_size=16, widths=SMALL, rngs=nnx.Rngs(0))
    a.init_whitening(images)
    b.init_whitening(images.astype(np.float32) / np.float32(255))
    np.testing.assert_allclose(a.whiten_kernel[...], b.whiten_kernel[...], rtol=1e-4, atol=1e-3)
    assert bool(jnp.any(a.whiten_kernel[...] != 0))


def test_conv_group_starts_with_identity_filters(key):
    group = ConvGroup(4, 8, rngs=nnx.Rngs(0))
    x = jax.random.normal(key, (2, 6, 6, 4))
    np.testing.assert_allclose(group.conv1(x)[..., :4], x, atol=1e-6)
    assert group(x).shape == (2, 3, 3, 8)


def test_train_and_eval_modes_differ(key):
    model = AirbenchCNN(image_size=16, widths=SMALL, rngs=nnx.Rngs(0))
    x = jax.random.uniform(key, (4, 16, 16, 3))
    model.init_whitening(x)
    train_logits = model(x)
    evaluation = nnx.view(model, use_running_average=True)
    assert not np.allclose(train_logits, evaluation(x))


@pytest.mark.parametrize(
    ("build", "match"),
    [
        (lambda: AirbenchCNN(widths=(8, 16), rngs=nnx.Rngs(0)), "widths"),
        (lambda: AirbenchCNN(image_size=8, rngs=nnx.Rngs(0)), "image_size"),
    ],
)
def test_bad_options_raise(build, match):
    with pytest.raises(ValueError, match=match):
        build()


def test_bad_inputs_raise():
    model = AirbenchCNN(image_size=16, widths=SMALL, rngs=nnx.Rngs(0))
    with pytest.raises(ValueError, match=r"\(N, H, W, 3\)"):
        model(jnp.zeros((2, 16, 16, 1)))
    with pytest.raises(ValueError, match="images"):
        model.init_whitening(np.zeros((4, 32, 32), np.uint8))
    with pytest.raises(ValueError, match="float"):
        whitening_weights(jnp.zeros((2, 8, 8, 3), jnp.int32))


def test_conv_group_equals_conv_pool_norm_gelu_composition(key):
    from companion.nn import max_pool

    group = ConvGroup(6, 8, rngs=nnx.Rngs(1))
    x = jax.random.normal(key, (4, 11, 11, 6))
    for training in (True, False):
        view = nnx.view(group, use_running_average=not training)
        expected = jax.nn.gelu(view.norm1(max_pool(view.conv1(x), 2)))
        expected = jax.nn.gelu(view.norm2(view.conv2(expected)))
        np.testing.assert_allclose(view(x), expected, rtol=1e-5, atol=1e-5)
