"""fit: learns, is deterministic, resumes bit-identically, stops early, rejects bad input."""

import jax
import numpy as np
import optax
import pytest
from conftest import CLASSES, SIDE, tiny_data
from flax import nnx

from companion.data import Dataset
from companion.train import evaluate, fit

BATCH = 16


def _weights(model):
    return [np.asarray(x) for x in jax.tree.leaves(nnx.state(model))
            if not jax.dtypes.issubdtype(x.dtype, jax.dtypes.prng_key)]


def _same(a, b):
    return all(np.array_equal(x, y) for x, y in zip(_weights(a), _weights(b), strict=True))


def _fit(model, train, **options):
    defaults = dict(epochs=2, batch_size=BATCH, optimizer=optax.adam(1e-2),
                    key=jax.random.key(0), progress=False)
    return fit(model, train, **{**defaults, **options})


def test_fit_learns_and_records_history(data, make_model):
    model = make_model()
    history = _fit(model, data, epochs=4, eval=data)
    assert history.epochs == 4
    for name in ("train_loss", "train_accuracy", "eval_accuracy", "eval_loss", "images_per_second"):
        assert len(getattr(history, name)) == 4
    assert history.train_loss[-1] < history.train_loss[0]
    assert history.eval_accuracy[-1] > 1 / CLASSES
    assert history.compile_seconds > 0 and min(history.images_per_second) > 0
    assert evaluate(model, data)["accuracy"] == pytest.approx(history.eval_accuracy[-1])


def test_fit_is_deterministic_given_the_key(data, make_model):
    first, second, third = make_model(), make_model(), make_model()
    _fit(first, data)
    _fit(second, data, progress=True)
    _fit(third, data, key=jax.random.key(1))
    assert _same(first, second)
    assert not _same(first, third)


def test_dataset_of_uint8_equals_the_float_pair(make_model):
    rng = np.random.default_rng(0)
    pixels = rng.integers(0, 256, (64, SIDE, SIDE, 1), dtype=np.uint8)
    labels = rng.integers(0, CLASSES, 64).astype(np.int32)
    dataset = Dataset(pixels, labels, ("a", "b", "c"), "toy")
    from_dataset, from_pair = make_model(), make_model()
    sgd = optax.sgd(0.1)  # Adam's normalisation would amplify the rounding differences below
    _fit(from_dataset, dataset, epochs=1, optimizer=sgd)
    _fit(from_pair, (pixels.astype(np.float32) / np.float32(255), labels), epochs=1, optimizer=sgd)
    # XLA may divide by 255 as a multiplication by 1/255: equal up to float rounding
    for a, b in zip(_weights(from_dataset), _weights(from_pair), strict=True):
        np.testing.assert_allclose(a, b, atol=1e-4)


def test_interrupted_and_resumed_run_ends_bit_identical(data, make_model, tmp_path):
    schedule = optax.adam(optax.cosine_decay_schedule(1e-2, 4 * (len(data[1]) // BATCH)))
    uninterrupted = make_model()
    _fit(uninterrupted, data, epochs=4, optimizer=schedule, eval=data)
    interrupted = make_model()
    _fit(interrupted, data, epochs=2, optimizer=schedule, eval=data, checkpoint_dir=tmp_path)
    assert (tmp_path / "last").is_dir() and (tmp_path / "best").is_dir()
    resumed = make_model(seed=5)  # a fresh process would start from other weights: all restored
    history = _fit(resumed, data, epochs=4, optimizer=schedule, eval=data, checkpoint_dir=tmp_path)
    assert history.epochs == 4
    assert _same(uninterrupted, resumed)


def test_early_stopping_and_restore_best(data, make_model):
    model = make_model()
    history = _fit(model, data, epochs=6, optimizer=optax.sgd(0.0), eval=data, patience=2)
    assert history.stopped_early and history.epochs == 3 and history.best_epoch == 0
    best = make_model()
    history = _fit(best, data, epochs=3, optimizer=optax.sgd(0.5), eval=data, restore_best=True)
    accuracy = evaluate(best, data)["accuracy"]
    assert accuracy == pytest.approx(max(history.eval_accuracy))


@pytest.mark.parametrize(
    ("train", "options", "error", "match"),
    [
        ((tiny_data()[0], tiny_data()[1][:50]), {}, ValueError, r"96 images.*\(50,\)"),
        ((tiny_data()[0], tiny_data()[1] + 5), {}, ValueError, r"\[0, 3\).*got values up to 7"),
        (((tiny_data()[0] * 255).astype(np.uint8), tiny_data()[1]), {}, TypeError, "uint8"),
        ((np.repeat(tiny_data()[0], 3, axis=-1), tiny_data()[1]), {}, ValueError,
         r"3 channels.*expects 1"),
        ((tiny_data()[0] * 255, tiny_data()[1]), {}, ValueError, r"\[0, 1\]"),
        (tiny_data(), {"mesh": "devices"}, TypeError, "mesh must be a jax.sharding.Mesh"),
        (tiny_data(), {"optimizer": "adam"}, TypeError, "optax"),
        (tiny_data(), {"batch_size": 1000}, ValueError, "exceeds"),
        (tiny_data(), {"eval": (tiny_data()[0], tiny_data()[1][:3])}, ValueError, "eval"),
    ],
)
def test_bad_input_fails_before_training(make_model, train, options, error, match):
    with pytest.raises(error, match=match):
        _fit(make_model(), train, **options)


def test_augment_runs_inside_the_loop_with_its_own_keys(data, make_model):
    seen = []

    def augment(key, batch):
        seen.append(batch.shape)  # traced once: the function is compiled, not called per step
        noise = jax.random.uniform(key, batch.shape, maxval=0.01)
        return batch + noise

    plain, augmented, again = make_model(), make_model(), make_model()
    _fit(plain, data)
    _fit(augmented, data, augment=augment)
    _fit(again, data, augment=augment)
    assert seen and seen[0] == (BATCH, SIDE, SIDE, 1)
    assert not _same(plain, augmented)
    assert _same(augmented, again)
    with pytest.raises(TypeError, match="augment"):
        _fit(make_model(), data, augment="flip")


def test_custom_loss_replaces_the_cross_entropy(data, make_model):
    from companion.formulas.losses import weighted_softmax_cross_entropy
    from companion.train import cross_entropy

    default, explicit, weighted = make_model(), make_model(), make_model()
    _fit(default, data)
    _fit(explicit, data, loss=cross_entropy)
    weights = np.asarray([1.0, 1.0, 10.0], np.float32)
    _fit(weighted, data, loss=lambda logits, labels: weighted_softmax_cross_entropy(logits, labels, weights))
    assert _same(default, explicit)
    assert not _same(default, weighted)


@pytest.mark.parametrize(("options", "error", "message"), [
    (dict(loss=lambda logits, labels: logits.sum(axis=-1)), ValueError, r"must return a float32 scalar"),
    (dict(loss="focal"), TypeError, r"loss must be a function"),
    (dict(loss=lambda logits, labels: logits.mean(), label_smoothing=0.1), ValueError,
     r"label_smoothing applies to the default cross-entropy only"),
])
def test_bad_losses_are_clear_errors(data, make_model, options, error, message):
    with pytest.raises(error, match=message):
        _fit(make_model(), data, **options)
