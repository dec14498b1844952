"""Fine-tuning helpers: groups, frozen parameters bit-identical after fit, per-group learning
rates, gradual unfreezing and frozen BatchNorm."""

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest
from flax import nnx

from companion.train import fit
from companion.transfer import (
    BasicBlock,
    ResNet,
    discriminative,
    freeze_backbone,
    freeze_batchnorm,
    gradual_unfreezing,
    group_labels,
    layer_decay_rates,
    parameter_groups,
)

GROUPS = ("stem", "layer1", "layer2", "layer3", "layer4", "fc")


def tiny(seed=0):
    return ResNet(BasicBlock, (1, 1, 1, 1), 3, in_channels=1, width=4, rngs=nnx.Rngs(seed))


def params_of(model):
    return nnx.state(model, nnx.Param)


def per_group(tree):
    """{group: list of leaves} of a params-shaped tree."""
    labels = jax.tree.leaves(group_labels(tree))
    out = {}
    for label, leaf in zip(labels, jax.tree.leaves(tree), strict=True):
        out.setdefault(label, []).append(np.asarray(leaf))
    return out


def test_groups_run_from_stem_to_head():
    model = tiny()
    assert parameter_groups(model) == GROUPS
    assert set(per_group(params_of(model))) == set(GROUPS)


def test_frozen_backbone_is_bit_identical_after_training(key):
    model = tiny()
    freeze_batchnorm(model)
    before = per_group(jax.tree.map(jnp.copy, params_of(model)))
    stats = [np.asarray(x).copy() for x in jax.tree.leaves(nnx.state(model, nnx.BatchStat))]
    images = jax.random.uniform(key, (48, 16, 16, 1))
    labels = jnp.arange(48, dtype=jnp.int32) % 3
    fit(model, (images, labels), epochs=2, batch_size=16, optimizer=freeze_backbone(optax.adamw(1e-2)),
        key=key, progress=False)
    after = per_group(params_of(model))
    for group in GROUPS[:-1]:
        for a, b in zip(before[group], after[group], strict=True):
            assert a.tobytes() == b.tobytes(), f"{group} changed"
    assert any(not np.array_equal(a, b) for a, b in zip(before["fc"], after["fc"], strict=True))
    for a, b in zip(stats, jax.tree.leaves(nnx.state(model, nnx.BatchStat)), strict=True):
        np.testing.assert_array_equal(a, b)


def sgd_updates(tx, params, steps=1):
    grads = jax.tree.map(jnp.ones_like, params)
    state = tx.init(params)
    history = []
    for _ in range(steps):
        updates, state = tx.update(grads, state, params)
        history.append(per_group(updates))
    return history


def test_discriminative_learning_rates_scale_each_group():
    params = params_of(tiny())
    rates = layer_decay_rates(GROUPS, learning_rate=1.0, decay=0.5)
    assert rates["fc"] == 1.0 and rates["layer4"] == 0.5 and rates["stem"] == 0.5**5
    (updates,) = sgd_updates(discriminative(rates, optimizer=optax.sgd), params)
    for group, rate in rates.items():
        for leaf in updates[group]:
            np.testing.assert_allclose(leaf, -rate)


def test_discriminative_needs_a_rate_for_every_group():
    tx = discriminative({"fc": 1e-3})
    with pytest.raises(ValueError, match="no learning rate for the parameter group 'stem'"):
        tx.init(params_of(tiny()))
    (updates,) = sgd_updates(discriminative({"fc": 1.0}, optimizer=optax.sgd, default=0.0), params_of(tiny()))
    assert all(not leaf.any() for leaf in updates["stem"])


def test_gradual_unfreezing_opens_one_group_per_stage():
    params = params_of(tiny())
    history = sgd_updates(gradual_unfreezing(optax.sgd(1.0), GROUPS, steps_per_stage=2), params, steps=6)
    for step, updates in enumerate(history):
        open_groups = {g for g in GROUPS if all(np.all(leaf == -1.0) for leaf in updates[g])}
        closed = {g for g in GROUPS if all(not leaf.any() for leaf in updates[g])}
        assert open_groups | closed == set(GROUPS)
        assert open_groups == set(GROUPS[len(GROUPS) - 1 - step // 2:])


def test_gradual_unfreezing_keeps_momentum_empty_while_frozen():
    params = params_of(tiny())
    tx = gradual_unfreezing(optax.sgd(1.0, momentum=0.9), GROUPS, steps_per_stage=10)
    history = sgd_updates(tx, params, steps=3)
    assert all(not leaf.any() for updates in history for leaf in updates["stem"])
    assert all(np.all(leaf == -(1 + 0.9 + 0.81)) for leaf in history[-1]["fc"])


def test_bad_arguments_raise():
    with pytest.raises(ValueError, match="steps_per_stage"):
        gradual_unfreezing(optax.sgd(1.0), GROUPS, steps_per_stage=0)
    with pytest.raises(ValueError, match="decay"):
        layer_decay_rates(GROUPS, learning_rate=1.0, decay=1.5)
    with pytest.raises(ValueError, match="trainable"):
        freeze_backbone(optax.sgd(1.0), trainable="fc")


def test_freeze_batchnorm_counts_and_rejects_foreign_layers():
    model = tiny()
    assert freeze_batchnorm(model) == 1 + 4 * 2 + 3  # stem, two per block, three downsamples
    assert freeze_batchnorm(model, frozen=False, groups=("layer4",)) == 3
    assert not model.layer4[0].bn1.frozen and model.layer3[0].bn1.frozen

    class Foreign(nnx.Module):
        def __init__(self):
            self.bn = nnx.BatchNorm(3, rngs=nnx.Rngs(0))

    with pytest.raises(TypeError, match=r"companion\.transfer\.BatchNorm"):
        freeze_batchnorm(Foreign())
