"""load_pretrained / save_pretrained: round trips, the head rule, one clear error for bad files."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from flax import nnx
from safetensors.numpy import load_file, save_file

from companion.transfer import (
    BasicBlock,
    ResNet,
    WeightsMismatchError,
    load_pretrained,
    save_pretrained,
    torch_name,
    torch_state_dict,
)


def tiny(num_classes=5, *, width=4, seed=0):
    return ResNet(BasicBlock, (1, 1, 1, 1), num_classes, in_channels=1, width=width, rngs=nnx.Rngs(seed))


def leaves(model):
    return jax.tree.leaves(nnx.state(model, nnx.Any(nnx.Param, nnx.BatchStat)))


@pytest.fixture(scope="module")
def saved(tmp_path_factory):
    model = tiny(seed=1)
    for _, variable in nnx.to_flat_state(nnx.state(model, nnx.BatchStat)):  # non-trivial statistics
        variable[...] = variable[...] + 0.25
    path = save_pretrained(model, tmp_path_factory.mktemp("w") / "tiny.safetensors")
    return model, path


def test_round_trip_is_exact(saved, key):
    source, path = saved
    model = load_pretrained(tiny(seed=2), path)
    for a, b in zip(leaves(source), leaves(model), strict=True):
        np.testing.assert_array_equal(a, b)
    x = jax.random.uniform(key, (2, 16, 16, 1))
    source.eval()
    model.eval()
    np.testing.assert_array_equal(source(x), model(x))


def test_layouts_are_pytorchs(saved):
    source, path = saved
    tensors = load_file(str(path))
    np.testing.assert_array_equal(tensors["conv1.weight"], np.transpose(source.conv1.kernel[...], (3, 2, 0, 1)))
    np.testing.assert_array_equal(tensors["fc.weight"], np.asarray(source.fc.kernel[...]).T)
    np.testing.assert_array_equal(tensors["bn1.running_var"], source.bn1.var[...])
    assert torch_name(("layer1", 0, "bn2", "scale")) == "layer1.0.bn2.weight"


def test_head_is_dropped_when_the_class_count_differs(saved):
    _, path = saved
    model = tiny(num_classes=3, seed=3)
    head = np.asarray(model.fc.kernel[...]).copy()
    load_pretrained(model, path)
    np.testing.assert_array_equal(model.fc.kernel[...], head)
    with pytest.raises(WeightsMismatchError, match=r"fc\.weight"):
        load_pretrained(tiny(num_classes=3), path, head=True)


def test_head_false_keeps_a_matching_head(saved):
    source, path = saved
    model = tiny(seed=4)
    head = np.asarray(model.fc.kernel[...]).copy()
    load_pretrained(model, path, head=False)
    np.testing.assert_array_equal(model.fc.kernel[...], head)
    np.testing.assert_array_equal(model.conv1.kernel[...], source.conv1.kernel[...])


def test_one_error_lists_unknown_missing_and_mis_shaped_keys(saved, tmp_path):
    _, path = saved
    tensors = load_file(str(path))
    tensors["extra.weight"] = np.zeros(3, np.float32)
    del tensors["layer1.0.bn1.running_mean"]
    tensors["layer2.0.conv1.weight"] = np.zeros((1, 1, 3, 3), np.float32)
    tensors["layer2.0.bn1.num_batches_tracked"] = np.zeros((), np.int64)  # ignored
    bad = tmp_path / "bad.safetensors"
    save_file(tensors, str(bad))
    model = tiny(seed=5)
    before = [np.asarray(x).copy() for x in leaves(model)]
    with pytest.raises(WeightsMismatchError) as info:
        load_pretrained(model, bad)
    message = str(info.value)
    assert "1 unknown keys" in message and "extra.weight" in message
    assert "1 missing keys" in message and "layer1.0.bn1.running_mean" in message
    assert "1 mis-shaped keys" in message and "layer2.0.conv1.weight: (1, 1, 3, 3) vs (8, 4, 3, 3)" in message
    assert info.value.unknown == ["extra.weight"]
    for a, b in zip(before, leaves(model), strict=True):  # nothing was changed
        np.testing.assert_array_equal(a, b)


def test_pickles_are_refused(tmp_path):
    with pytest.raises(ValueError, match="safetensors"):
        load_pretrained(tiny(), tmp_path / "resnet18.pth")


def test_dtypes_are_cast_unless_strict(saved, tmp_path):
    _, path = saved
    half = tmp_path / "half.safetensors"
    save_file({k: v.astype(np.float16) for k, v in load_file(str(path)).items()}, str(half))
    model = load_pretrained(tiny(), half)
    assert model.conv1.kernel[...].dtype == jnp.float32
    with pytest.raises(TypeError, match="float16"):
        load_pretrained(tiny(), half, strict_dtype=True)


def test_state_dict_has_no_batch_counters():
    assert not any(k.endswith("num_batches_tracked") for k in torch_state_dict(tiny()))
