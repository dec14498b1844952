"""Magnitude pruning, the distillation loss (against its definition) and the latency timer."""

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest
from flax import nnx

from companion import compress
from companion.nn import SeedCNN


@pytest.mark.parametrize("sparsity", [0.0, 0.3, 0.9])
def test_pruning_reaches_the_sparsity_and_removes_the_smallest(sparsity):
    model = SeedCNN(rngs=nnx.Rngs(0))
    pruned = compress.magnitude_prune(model, sparsity=sparsity)
    assert compress.kernel_sparsity(pruned) == pytest.approx(sparsity, abs=1e-3)
    kept = jnp.abs(pruned.dense1.kernel[...])
    removed = jnp.abs(model.dense1.kernel[...])[kept == 0]
    if sparsity > 0:
        assert float(removed.max()) <= float(kept[kept > 0].min())
    np.testing.assert_array_equal(pruned.dense1.bias[...], model.dense1.bias[...])
    assert compress.kernel_sparsity(model) == 0.0  # the original is untouched


def test_pruning_rejects_bad_sparsity():
    with pytest.raises(ValueError, match="sparsity"):
        compress.magnitude_prune(SeedCNN(rngs=nnx.Rngs(0)), sparsity=1.5)


def test_distillation_loss_matches_its_definition(key):
    k1, k2 = jax.random.split(key)
    s, t = jax.random.normal(k1, (4, 5)), jax.random.normal(k2, (4, 5))
    labels = jnp.array([0, 1, 2, 3])
    temperature, alpha = 3.0, 0.6
    p = jax.nn.softmax(t / temperature)
    kl = jnp.sum(p * (jnp.log(p) - jax.nn.log_softmax(s / temperature)), axis=-1).mean()
    hard = optax.softmax_cross_entropy_with_integer_labels(s, labels).mean()
    expected = alpha * temperature**2 * kl + (1 - alpha) * hard
    got = compress.distillation_loss(s, t, labels, temperature=temperature, alpha=alpha)
    assert float(got) == pytest.approx(float(expected), rel=1e-5)
    # alpha = 0 is plain cross-entropy; no gradient reaches the teacher
    assert float(compress.distillation_loss(s, t, labels, alpha=0.0)) == pytest.approx(float(hard), rel=1e-6)
    grad_t = jax.grad(lambda t: compress.distillation_loss(s, t, labels))(t)
    assert float(jnp.abs(grad_t).max()) == 0.0
    with pytest.raises(ValueError, match="temperature"):
        compress.distillation_loss(s, t, labels, temperature=0.0)


def test_latency_report():
    report = compress.measure_latency(jax.jit(jnp.cos), jnp.ones(16), repeats=5)
    assert report["repeats"] == 5 and 0 < report["min_seconds"] <= report["median_seconds"]
    with pytest.raises(ValueError, match="repeats"):
        compress.measure_latency(jnp.cos, jnp.ones(2), repeats=1)
