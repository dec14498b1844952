"""The GAN step and loop: determinism, EMA, sample grids, and that D and G both learn something."""

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest
from flax import nnx

from companion.gan import Discriminator, Generator, generate, image_grid, to_signed, to_unit, train_gan
from companion.gan.training import make_gan_step
from companion.train.model_state import split_model

WIDTH, LATENT = 8, 8


def tiny_models(num_classes=None):
    g = Generator(LATENT, num_classes=num_classes, width=WIDTH, rngs=nnx.Rngs(0))
    d = Discriminator(num_classes=num_classes, width=WIDTH, rngs=nnx.Rngs(1))
    return g, d


def data(count=64):
    rng = np.random.default_rng(0)
    return rng.integers(0, 256, (count, 28, 28, 1), dtype=np.uint8), rng.integers(0, 10, count).astype(np.int32)


def test_train_gan_records_history_and_is_deterministic(key):
    images, _ = data()
    runs = []
    for _ in range(2):
        g, d = tiny_models()
        history, ema = train_gan(key, g, d, images, steps=4, batch_size=8, log_every=2, sample_every=2,
                                 num_samples=4, progress=False)
        runs.append((history, g))
    history = runs[0][0]
    assert history.steps == [2, 4] and history.sample_steps == [0, 2, 4]
    assert history.samples[-1].shape == (4, 28, 28, 1)
    assert 0.0 <= history.samples[-1].min() and history.samples[-1].max() <= 1.0
    assert all(np.isfinite(v) for v in history.d_loss + history.g_loss)
    assert runs[0][0].d_loss == runs[1][0].d_loss
    np.testing.assert_array_equal(runs[0][1].up2.kernel[...], runs[1][1].up2.kernel[...])
    assert isinstance(ema, Generator) and not np.array_equal(ema.up2.kernel[...], runs[0][1].up2.kernel[...])


def test_step_updates_both_players_and_the_ema(key):
    g, d = tiny_models(num_classes=10)
    g_graph, g_params, g_rest = split_model(g, training=True)
    d_graph, d_params, d_rest = split_model(d, training=True)
    tx = optax.adam(1e-3)
    step = jax.jit(make_gan_step(g_graph, d_graph, tx, tx, latent_dim=LATENT, num_classes=10, ema_decay=0.5))
    state = (g_params, g_rest, d_params, d_rest, tx.init(g_params), tx.init(d_params), g_params)
    images, labels = data(8)
    new, metrics = step(state, key, to_signed(jnp.asarray(images)), jnp.asarray(labels))
    def changed(a, b):
        pairs = zip(jax.tree.leaves(a), jax.tree.leaves(b), strict=True)
        return any(not np.array_equal(x, y) for x, y in pairs)

    assert changed(new[0], g_params) and changed(new[2], d_params)
    halfway = jax.tree.map(lambda e, p: 0.5 * e + 0.5 * p, g_params, new[0])
    for a, b in zip(jax.tree.leaves(new[6]), jax.tree.leaves(halfway), strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-6)
    assert set(metrics) == {"d_loss", "g_loss", "d_real", "d_fake"}
    # warm-up: at step 0 the decay is min(0.5, 1 / 10) = 0.1, so the EMA is mostly the new weights
    warm, _ = step(state, key, to_signed(jnp.asarray(images)), jnp.asarray(labels), 0)
    mostly_new = jax.tree.map(lambda e, p: 0.1 * e + 0.9 * p, g_params, warm[0])
    for a, b in zip(jax.tree.leaves(warm[6]), jax.tree.leaves(mostly_new), strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-7)


def test_generate_and_grid(key):
    g, _ = tiny_models(num_classes=10)
    images = generate(key, g, 5, labels=np.arange(5), batch_size=2)
    assert images.shape == (5, 28, 28, 1)
    assert image_grid(images, columns=5).shape == (30, 146, 1)
    np.testing.assert_allclose(to_unit(to_signed(jnp.array([0, 128, 255], jnp.uint8))) * 255, [0, 128, 255],
                               atol=1e-4)


def test_bad_input(key):
    g, d = tiny_models()
    images, labels = data()
    with pytest.raises(ValueError, match="labels must be given exactly"):
        train_gan(key, g, d, images, labels, steps=1, progress=False)
    with pytest.raises(ValueError, match=r"images must have shape \(N, 28, 28, 1\)"):
        train_gan(key, g, d, images[..., 0], steps=1, progress=False)
    with pytest.raises(ValueError, match="steps"):
        train_gan(key, g, d, images, steps=0, progress=False)


def test_auxiliary_classifier_terms(key):
    g, _ = tiny_models(num_classes=10)
    d = Discriminator(num_classes=10, width=4, auxiliary=True, rngs=nnx.Rngs(1))
    images, labels = data(16)
    logits, classes = d.scores(to_signed(jnp.asarray(images)), jnp.asarray(labels))
    assert logits.shape == (16,) and classes.shape == (16, 10)
    np.testing.assert_array_equal(d(to_signed(jnp.asarray(images)), jnp.asarray(labels)), logits)
    runs = {}
    for weight in (0.0, 1.0):
        gen, disc = nnx.clone(g), nnx.clone(d)
        history, _ = train_gan(key, gen, disc, images, labels, steps=2, batch_size=8, log_every=1,
                               progress=False, aux_weight=weight)
        runs[weight] = history.d_loss
    assert runs[1.0][0] > runs[0.0][0]  # the class term adds a positive cross-entropy to D's loss
    with pytest.raises(ValueError, match="auxiliary=True"):
        train_gan(key, g, tiny_models(num_classes=10)[1], images, labels, steps=1, progress=False, aux_weight=1.0)
    with pytest.raises(ValueError, match="needs a conditional discriminator"):
        Discriminator(auxiliary=True, rngs=nnx.Rngs(0))
