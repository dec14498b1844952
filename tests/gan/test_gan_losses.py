"""GAN losses against their definitions with probabilities, and their gradients' behaviour."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from companion.gan.losses import (
    discriminator_loss,
    generator_loss,
    minimax_generator_loss,
    non_saturating_generator_loss,
)


def test_losses_match_their_probability_form(key):
    real, fake = jax.random.normal(key, (2, 16))
    d_real, d_fake = jax.nn.sigmoid(real), jax.nn.sigmoid(fake)
    np.testing.assert_allclose(
        discriminator_loss(real, fake), -jnp.mean(jnp.log(d_real)) - jnp.mean(jnp.log(1 - d_fake)), rtol=1e-5
    )
    np.testing.assert_allclose(non_saturating_generator_loss(fake), -jnp.mean(jnp.log(d_fake)), rtol=1e-5)
    np.testing.assert_allclose(minimax_generator_loss(fake), jnp.mean(jnp.log(1 - d_fake)), rtol=1e-5)


def test_minimax_gradient_vanishes_where_non_saturating_does_not():
    confident_rejection = jnp.array([-10.0])  # D(G(z)) ~ 4.5e-5
    minimax = jax.grad(minimax_generator_loss)(confident_rejection)
    non_saturating = jax.grad(non_saturating_generator_loss)(confident_rejection)
    assert abs(float(minimax[0])) < 1e-4 < abs(float(non_saturating[0]))


def test_losses_stay_finite_for_extreme_logits():
    logits = jnp.array([-1e4, 1e4])
    for value in (discriminator_loss(logits, logits), generator_loss(logits), generator_loss(logits, kind="minimax")):
        assert jnp.isfinite(value)


def test_bad_input():
    with pytest.raises(ValueError, match="kind"):
        generator_loss(jnp.zeros(2), kind="wasserstein")
    with pytest.raises(ValueError, match=r"shape \(N,\)"):
        discriminator_loss(jnp.zeros((2, 1)), jnp.zeros(2))
