import jax.numpy as jnp
import numpy as np
import pytest
from flax import nnx

from companion.nn import BatchNormCNN, ResNet9, set_batchnorm_momentum


class TwoNorms(nnx.Module):
    def __init__(self, rngs):
        self.first = nnx.BatchNorm(3, rngs=rngs)
        self.inner = nnx.List([nnx.BatchNorm(3, rngs=rngs)])

    def __call__(self, x):
        return self.inner[0](self.first(x))


def test_new_momentum_drives_the_running_mean_update():
    model = TwoNorms(nnx.Rngs(0))
    assert set_batchnorm_momentum(model, 0.25) == 2
    x = jnp.asarray(np.random.default_rng(0).normal(2.0, 1.0, (16, 3)), jnp.float32)
    model(x)  # training mode: running = 0.25 * 0 + 0.75 * batch mean
    np.testing.assert_allclose(model.first.mean[...], 0.75 * x.mean(axis=0), rtol=1e-6)
    assert model.inner[0].momentum == 0.25


def test_counts_every_layer_of_the_book_models():
    assert set_batchnorm_momentum(BatchNormCNN(stages=((4,), (8, 8)), rngs=nnx.Rngs(0)), 0.9) == 3
    assert set_batchnorm_momentum(ResNet9(width=0.125, rngs=nnx.Rngs(0)), 0.9) == 8


@pytest.mark.parametrize("bad", [1.0, -0.1, "0.9", True])
def test_rejects_momentum_outside_unit_interval(bad):
    with pytest.raises(ValueError, match="momentum must be a float in \\[0, 1\\)"):
        set_batchnorm_momentum(TwoNorms(nnx.Rngs(0)), bad)
