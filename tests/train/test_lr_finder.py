"""Tests for companion.train.lr_finder: the learning-rate range test on a small problem."""

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest
from flax import nnx

from companion.train import LRRangeTest, lr_range_test

SIDE, CLASSES, EXAMPLES = 6, 3, 96


class TinyNet(nnx.Module):
    """Flatten and one dense layer: a linear classifier of tiny images."""

    def __init__(self, *, rngs: nnx.Rngs) -> None:
        self.num_classes, self.in_channels = CLASSES, 1
        self.dense = nnx.Linear(SIDE * SIDE, CLASSES, rngs=rngs)

    def __call__(self, x: jax.Array) -> jax.Array:
        return self.dense(x.reshape(x.shape[0], -1))


def toy_data(key):
    images = jax.random.uniform(key, (EXAMPLES, SIDE, SIDE, 1), jnp.float32)
    labels = jnp.argmax(images.reshape(EXAMPLES, -1)[:, :CLASSES], axis=-1).astype(jnp.int32)
    return np.asarray(images), np.asarray(labels)


def run(key, **options):
    defaults = dict(batch_size=16, min_lr=1e-4, max_lr=1e3, steps=60, chunk_steps=10,
                    optimizer=optax.sgd)
    defaults.update(options)
    return lr_range_test(key, TinyNet(rngs=nnx.Rngs(0)), toy_data(jax.random.key(1)), **defaults)


@pytest.fixture(scope="module")
def result():
    return run(jax.random.key(0))


def test_records_the_curve(result):
    assert isinstance(result, LRRangeTest)
    assert result.steps >= 2
    assert result.learning_rates.shape == result.losses.shape == result.smoothed.shape == (result.steps,)
    assert np.all(np.diff(result.learning_rates) > 0)
    assert np.all(np.isfinite(result.losses))
    assert result.learning_rates[0] == pytest.approx(1e-4)


def test_sgd_diverges_and_stops_early(result):
    assert result.diverged_lr is not None
    assert result.steps < 60
    assert result.learning_rates[-1] < result.diverged_lr


def test_suggestion_lies_in_range_and_below_divergence(result):
    assert 1e-4 <= result.suggestion <= 1e3
    assert result.suggestion < result.min_loss_lr < result.diverged_lr
    assert result.smoothed.min() < result.smoothed[0]


def test_deterministic_and_model_unchanged(key, result):
    model = TinyNet(rngs=nnx.Rngs(0))
    before = np.asarray(model.dense.kernel[...])
    again = lr_range_test(jax.random.key(0), model, toy_data(jax.random.key(1)), batch_size=16,
                          min_lr=1e-4, max_lr=1e3, steps=60, chunk_steps=10, optimizer=optax.sgd)
    assert np.array_equal(again.losses, result.losses)
    assert np.array_equal(np.asarray(model.dense.kernel[...]), before)


def test_full_sweep_without_divergence(key):
    small = run(key, min_lr=1e-5, max_lr=1e-3, steps=25)
    assert small.diverged_lr is None and small.steps == 25
    assert small.learning_rates[-1] == pytest.approx(1e-3)


@pytest.mark.parametrize(
    ("options", "error", "match"),
    [
        ({"min_lr": 1.0, "max_lr": 0.1}, ValueError, "min_lr"),
        ({"steps": 1}, ValueError, "steps"),
        ({"batch_size": 0}, ValueError, "batch_size"),
        ({"batch_size": 1000}, ValueError, "batch_size"),
        ({"smoothing": 1.0}, ValueError, "smoothing"),
        ({"divergence": 1.0}, ValueError, "divergence"),
        ({"optimizer": optax.sgd(0.1)}, TypeError, "optimizer"),
    ],
)
def test_bad_options(key, options, error, match):
    with pytest.raises(error, match=match):
        run(key, **options)
