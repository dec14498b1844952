"""ResNet-18/50 in NNX: torchvision's sizes and names, shapes, the stem, frozen BatchNorm."""

import math

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from flax import nnx

from companion.transfer import BasicBlock, BatchNorm, ResNet, resnet18, resnet50, torch_name
from companion.transfer.resnet import _stem_pool
from companion.transfer.weights import _to_torch_shape

TORCHVISION_RESNET18_PARAMS = 11_689_512
TORCHVISION_RESNET50_PARAMS = 25_557_032


def abstract(constructor, **options):
    return nnx.eval_shape(lambda: constructor(1000, rngs=nnx.Rngs(0), **options))


def torch_keys(model) -> dict[str, tuple[int, ...]]:
    """PyTorch key -> shape in PyTorch layout."""
    state = nnx.state(model, nnx.Any(nnx.Param, nnx.BatchStat))
    return {torch_name(path): _to_torch_shape(v.get_value().shape) for path, v in nnx.to_flat_state(state)}


@pytest.mark.parametrize(("constructor", "expected"), [
    (resnet18, TORCHVISION_RESNET18_PARAMS), (resnet50, TORCHVISION_RESNET50_PARAMS),
])
def test_parameter_counts_match_torchvision(constructor, expected):
    params = jax.tree.leaves(nnx.state(abstract(constructor), nnx.Param))
    assert sum(math.prod(p.shape) for p in params) == expected


def test_resnet18_names_are_torchvision_names():
    keys = torch_keys(abstract(resnet18))
    # 20 convolutions, 20 BatchNorms with 4 tensors each, fc weight and bias
    assert len(keys) == 20 + 20 * 4 + 2
    assert keys["conv1.weight"] == (64, 3, 7, 7)
    assert keys["layer2.0.downsample.0.weight"] == (128, 64, 1, 1)
    assert keys["layer2.0.downsample.1.running_var"] == (128,)
    assert keys["layer4.1.bn2.weight"] == (512,)
    assert keys["fc.weight"] == (1000, 512)
    assert "layer1.0.downsample.0.weight" not in keys


def test_resnet50_names_are_torchvision_names():
    keys = torch_keys(abstract(resnet50))
    assert keys["layer1.0.conv3.weight"] == (256, 64, 1, 1)
    assert keys["layer1.0.downsample.0.weight"] == (256, 64, 1, 1)
    assert keys["layer3.5.conv2.weight"] == (256, 256, 3, 3)
    assert keys["fc.weight"] == (1000, 2048)


@pytest.fixture(scope="module")
def tiny():
    return ResNet(BasicBlock, (1, 1, 1, 1), 5, in_channels=1, width=4, rngs=nnx.Rngs(0))


def test_forward_shapes_and_stages(tiny):
    x = jnp.zeros((2, 32, 32, 1))
    stages = tiny.stages(x)
    assert [stages[k].shape for k in ("stem", "layer1", "layer2", "layer3", "layer4")] == [
        (2, 8, 8, 4), (2, 8, 8, 4), (2, 4, 4, 8), (2, 2, 2, 16), (2, 1, 1, 32)]
    assert tiny.features(x).shape == (2, 32)
    assert tiny(x).shape == (2, 5) and tiny(x).dtype == jnp.float32


def test_small_stem_keeps_the_resolution():
    model = ResNet(BasicBlock, (1, 1, 1, 1), 3, in_channels=1, width=4, stem="small", rngs=nnx.Rngs(0))
    assert model.stages(jnp.zeros((1, 16, 16, 1)))["layer4"].shape == (1, 2, 2, 32)
    assert model.conv1.kernel.shape == (3, 3, 1, 4)


@pytest.mark.parametrize(("options", "message"), [
    ({"stem": "tiny"}, "stem"), ({"width": 0}, "width"), ({"in_channels": 1, "normalize": True}, "normalize"),
])
def test_bad_options_raise(options, message):
    with pytest.raises(ValueError, match=message):
        resnet18(10, rngs=nnx.Rngs(0), **options)


def test_wrong_channels_name_the_expected_shape(tiny):
    with pytest.raises(ValueError, match=r"\(N, H, W, 1\).*\(2, 8, 8, 3\)"):
        tiny(jnp.zeros((2, 8, 8, 3)))


def test_stem_pool_equals_torch_style_max_pool_on_nonnegative_inputs(key):
    x = jax.random.uniform(key, (2, 15, 16, 3))
    expected = nnx.max_pool(x, (3, 3), strides=(2, 2), padding=((1, 1), (1, 1)))
    np.testing.assert_array_equal(_stem_pool(x), expected)


def test_frozen_batchnorm_uses_running_statistics_in_training_mode(key):
    bn = BatchNorm(3, rngs=nnx.Rngs(0))
    bn.mean[...] = jnp.array([0.5, -1.0, 2.0])
    bn.var[...] = jnp.array([2.0, 0.5, 1.0])
    x = jax.random.normal(key, (8, 4, 4, 3))
    evaluated = nnx.view(bn, use_running_average=True)(x)
    bn.frozen = True
    trained = nnx.view(bn, use_running_average=False)(x)
    np.testing.assert_array_equal(trained, evaluated)
    np.testing.assert_array_equal(bn.mean[...], jnp.array([0.5, -1.0, 2.0]))
    bn.frozen = False
    nnx.view(bn, use_running_average=False)(x)
    assert not np.array_equal(bn.mean[...], jnp.array([0.5, -1.0, 2.0]))


def test_batchnorm_has_pytorch_constants():
    bn = BatchNorm(3, rngs=nnx.Rngs(0))
    assert bn.epsilon == 1e-5
    assert bn.momentum == pytest.approx(0.9)  # PyTorch's momentum 0.1
