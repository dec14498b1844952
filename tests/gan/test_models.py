"""DCGAN models: shapes, ranges, conditioning, parameter names, input validation."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from flax import nnx

from companion.gan.models import Discriminator, Generator


@pytest.mark.parametrize("shape", [(28, 28, 1), (32, 32, 3)])
@pytest.mark.parametrize("upsample", ["overlap_add", "phase", "resize"])
def test_generator_shapes_and_range(key, shape, upsample):
    g = Generator(16, out_shape=shape, width=8, upsample=upsample, rngs=nnx.Rngs(0))
    images = g(jax.random.normal(key, (3, 16)))
    assert images.shape == (3, *shape) and images.dtype == jnp.float32
    assert float(jnp.max(jnp.abs(images))) <= 1.0


@pytest.mark.parametrize("shape", [(28, 28, 1), (32, 32, 3)])
def test_discriminator_returns_one_logit_per_image(shape):
    d = Discriminator(in_shape=shape, width=8, rngs=nnx.Rngs(0))
    assert d(jnp.zeros((4, *shape))).shape == (4,)


def test_conditional_models_depend_on_the_label(key):
    g = Generator(8, num_classes=10, width=8, rngs=nnx.Rngs(0))
    d = Discriminator(num_classes=10, width=8, rngs=nnx.Rngs(1))
    nnx.update(g, nnx.state(nnx.view(g, use_running_average=True)))
    z = jax.random.normal(key, (2, 8))
    a, b = g(z, jnp.array([0, 0])), g(z, jnp.array([1, 1]))
    assert not np.allclose(a, b)
    x = jax.random.uniform(key, (2, 28, 28, 1)) * 2 - 1
    assert not np.allclose(d(x, jnp.array([0, 0])), d(x, jnp.array([3, 3])))


def test_conditioning_errors():
    g = Generator(8, num_classes=10, width=8, rngs=nnx.Rngs(0))
    with pytest.raises(ValueError, match=r"labels of shape \(2,\)"):
        g(jnp.zeros((2, 8)))
    with pytest.raises(ValueError, match="unconditional"):
        Discriminator(width=8, rngs=nnx.Rngs(0))(jnp.zeros((2, 28, 28, 1)), jnp.array([0, 1]))


def test_bad_shapes_are_named():
    with pytest.raises(ValueError, match="out_shape"):
        Generator(out_shape=(64, 64, 3), rngs=nnx.Rngs(0))
    with pytest.raises(ValueError, match=r"z must have shape \(N, 100\)"):
        Generator(rngs=nnx.Rngs(0))(jnp.zeros((2, 10)))
    with pytest.raises(ValueError, match=r"x must have shape \(N, 28, 28, 1\)"):
        Discriminator(rngs=nnx.Rngs(0))(jnp.zeros((2, 32, 32, 3)))


def test_exact_upsamplers_hold_conv_transpose_parameters_and_agree(key):
    z = jax.random.normal(key, (3, 100))
    fast, phase = (Generator(upsample=u, rngs=nnx.Rngs(0)) for u in ("overlap_add", "phase"))
    assert fast.up1.kernel.shape == (4, 4, 128, 64) and fast.up2.kernel.shape == (4, 4, 64, 1)
    np.testing.assert_allclose(fast(z), phase(z), atol=1e-5)
