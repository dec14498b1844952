"""The book's models: shapes, parameter counts, derived sizes, and SeedCNN against plain nnx layers."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from flax import nnx

from companion.nn import VGG, BatchNormCNN, LeNet5, ResNet9, SeedCNN
from companion.train import parameter_count

# conv1 3*3*1*32+32, conv2 3*3*32*64+64, dense 5*5*64*64+64, dense 64*10+10
SEED_PARAMS = (3 * 3 * 1 * 32 + 32) + (3 * 3 * 32 * 64 + 64) + (5 * 5 * 64 * 64 + 64) + (64 * 10 + 10)


@pytest.mark.parametrize(
    ("model_class", "classes", "channels", "side"),
    [(SeedCNN, 10, 1, 28), (LeNet5, 10, 1, 28), (BatchNormCNN, 10, 1, 28), (SeedCNN, 3, 3, 32)],
)
def test_models_map_images_to_logits(model_class, classes, channels, side):
    model = model_class(classes, in_channels=channels, image_size=side, rngs=nnx.Rngs(0))
    logits = nnx.jit(lambda m, x: m(x))(model, jnp.zeros((2, side, side, channels)))
    assert logits.shape == (2, classes)
    assert logits.dtype == jnp.float32
    assert model.num_classes == classes and model.in_channels == channels


def test_seed_cnn_sizes_follow_the_contract():
    model = SeedCNN(rngs=nnx.Rngs(0))
    assert model.flat_features == 5 * 5 * 64
    assert parameter_count(model) == SEED_PARAMS
    assert model.conv1.kernel.shape == (3, 3, 1, 32)
    assert model.conv2.kernel.shape == (3, 3, 32, 64)
    assert model.conv1.padding == model.conv2.padding == "VALID"


def test_lenet5_flattens_five_by_five_by_sixteen():
    assert LeNet5(rngs=nnx.Rngs(0)).flat_features == 5 * 5 * 16


def test_seed_cnn_equals_the_same_network_built_from_nnx_layers(key):
    model = SeedCNN(rngs=nnx.Rngs(0))
    conv1 = nnx.Conv(1, 32, (3, 3), padding="VALID", rngs=nnx.Rngs(0))
    conv2 = nnx.Conv(32, 64, (3, 3), padding="VALID", rngs=nnx.Rngs(0))
    for fast, ref in ((model.conv1, conv1), (model.conv2, conv2)):
        ref.kernel[...] = fast.kernel[...]
        ref.bias[...] = fast.bias[...]

    def reference(x):
        x = nnx.max_pool(jax.nn.relu(conv1(x)), (2, 2), strides=(2, 2))
        x = nnx.max_pool(jax.nn.relu(conv2(x)), (2, 2), strides=(2, 2))
        return model.dense2(jax.nn.relu(model.dense1(x.reshape(x.shape[0], -1))))

    x = jax.random.uniform(key, (4, 28, 28, 1))
    np.testing.assert_allclose(jax.jit(model.__call__)(x), jax.jit(reference)(x), atol=1e-5)


def test_batchnorm_cnn_dropout_only_in_training_mode(key):
    model = BatchNormCNN(rngs=nnx.Rngs(0))
    x = jax.random.uniform(key, (4, 28, 28, 1))
    evaluation = nnx.view(model, deterministic=True, use_running_average=True)
    forward = nnx.jit(lambda m, x: m(x))
    np.testing.assert_array_equal(forward(evaluation, x), forward(evaluation, x))
    assert not np.array_equal(forward(model, x), forward(model, x))  # dropout draws new masks
    with pytest.raises(ValueError, match="dropout"):
        BatchNormCNN(dropout=0.7, rngs=nnx.Rngs(0))


def test_models_reject_images_too_small():
    with pytest.raises(ValueError, match="does not fit"):
        SeedCNN(image_size=8, rngs=nnx.Rngs(0))


@pytest.mark.parametrize(
    "build",
    [lambda: VGG(rngs=nnx.Rngs(0), stages=(4, 8)), lambda: ResNet9(width=1 / 16, rngs=nnx.Rngs(0))],
)
def test_cifar_models_train_and_eval_modes(build, key):
    model = build()
    x = jax.random.uniform(key, (2, 32, 32, 3))
    forward = nnx.jit(lambda m, x: m(x))
    assert forward(model, x).shape == (2, 10)
    evaluation = nnx.view(model, deterministic=True, use_running_average=True, raise_if_not_found=False)
    assert forward(evaluation, x).shape == (2, 10)


def test_cifar_models_derive_sizes():
    assert VGG(stages=(4, 8, 16), rngs=nnx.Rngs(0)).flat_features == 4 * 4 * 16
    assert ResNet9(width=1 / 16, rngs=nnx.Rngs(0)).final_side == 32 // 2 // 2 // 2
    with pytest.raises(ValueError, match="width"):
        ResNet9(width=0, rngs=nnx.Rngs(0))
