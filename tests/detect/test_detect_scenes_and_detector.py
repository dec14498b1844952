"""Synthetic scenes (boxes and masks agree with the pixels) and the grid detector's encoding."""

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest
from flax import nnx

from companion import detect
from companion.detect.synthetic import INK_THRESHOLD


@pytest.fixture(scope="module")
def digits():
    rng = np.random.default_rng(0)
    images = np.zeros((10, 12, 12), np.uint8)  # small "digits" keep the tests fast
    for i in range(10):  # a filled rectangle of random size per digit class
        h, w = rng.integers(3, 9, size=2)
        images[i, 2 : 2 + h, 3 : 3 + w] = 255
    return images, np.arange(10, dtype=np.int32)


def test_scenes_are_reproducible_and_consistent(key, digits):
    scenes = detect.make_scenes(key, *digits, num_scenes=8, canvas_size=32, max_objects=3)
    again = detect.make_scenes(key, *digits, num_scenes=8, canvas_size=32, max_objects=3)
    np.testing.assert_array_equal(scenes.images, again.images)
    assert scenes.images.shape == (8, 32, 32, 1) and scenes.images.dtype == jnp.float32
    assert scenes.boxes.shape == (8, 3, 4) and scenes.classes.shape == (8, 3) and scenes.masks.shape == (8, 32, 32)
    counts = np.asarray(scenes.present.sum(axis=1))
    assert counts.min() >= 1 and counts.max() <= 3
    for image, boxes, classes, mask in zip(scenes.images, scenes.boxes, scenes.classes, scenes.masks, strict=True):
        ink = np.asarray(image[..., 0]) > INK_THRESHOLD
        np.testing.assert_array_equal(np.asarray(mask) > 0, ink)
        covered = np.zeros_like(ink)
        for box, cls in zip(np.asarray(boxes).astype(int), np.asarray(classes), strict=True):
            if cls < 0:
                continue
            y0, x0, y1, x1 = box
            region = ink[y0:y1, x0:x1]
            assert region[0].any() and region[-1].any() and region[:, 0].any() and region[:, -1].any()  # tight
            assert set(np.unique(np.asarray(mask)[y0:y1, x0:x1])) <= {0, int(cls) + 1}
            covered[y0:y1, x0:x1] = True
        assert not (ink & ~covered).any()  # every ink pixel lies in a box


def test_scene_input_checks(key, digits):
    with pytest.raises(ValueError, match="max_objects"):
        detect.make_scenes(key, *digits, num_scenes=1, canvas_size=32, max_objects=5)
    with pytest.raises(ValueError, match="labels must have shape"):
        detect.make_scenes(key, digits[0], digits[1][:3], num_scenes=1)


def test_targets_decode_back_to_the_boxes():
    boxes = jnp.array([[[3.0, 5.0, 23.0, 21.0], [30.0, 40.0, 52.0, 60.0]]])
    classes = jnp.array([[4, 7]])
    targets = detect.detection_targets(boxes, classes, grid_size=8)
    assert float(targets["objectness"].sum()) == 2.0
    # Build the raw outputs that produce exactly the targets, then decode them.
    box = targets["box"]
    logit = lambda p: jnp.log(p) - jnp.log1p(-p)
    raw = jnp.concatenate([
        jnp.where(targets["objectness"][..., None] > 0, 10.0, -10.0),
        logit(jnp.clip(box[..., :2], 1e-6, 1 - 1e-6)), box[..., 2:],
        10.0 * jax.nn.one_hot(targets["label"], 10),
    ], axis=-1)
    decoded, scores, labels = detect.decode_predictions(raw)
    top = jnp.argsort(-scores[0])[:2]
    found = sorted(zip(np.asarray(labels[0][top]).tolist(), np.asarray(decoded[0][top]).round(3).tolist(), strict=True))
    assert found == [(4, [3.0, 5.0, 23.0, 21.0]), (7, [30.0, 40.0, 52.0, 60.0])]


def test_detector_learns_on_a_tiny_set(key, digits):
    scenes = detect.make_scenes(key, *digits, num_scenes=32, canvas_size=32, max_objects=2)
    targets = detect.detection_targets(scenes.boxes, scenes.classes, grid_size=32 // detect.STRIDE)
    model = detect.GridDetector(10, rngs=nnx.Rngs(0))
    losses = detect.fit_with_loss(
        model, (scenes.images, targets), loss_fn=lambda m, b: detect.detection_loss(m(b[0]), b[1]),
        epochs=4, batch_size=16, optimizer=optax.adam(3e-3), key=key)
    assert losses[-1] < 0.8 * losses[0]
    boxes, scores, classes, valid = detect.detect(model, scenes.images[:4], max_outputs=5)
    assert boxes.shape == (4, 5, 4) and valid.dtype == jnp.bool_
    result = detect.mean_average_precision(detect.detections_to_lists(boxes, scores, classes, valid),
                                           scenes.truths()[:4], num_classes=10)
    assert 0.0 <= result["map"] <= 1.0


def test_fit_with_loss_checks_its_inputs(key):
    model = nnx.Linear(2, 1, rngs=nnx.Rngs(0))
    loss = lambda m, b: jnp.mean(m(b[0]) ** 2)
    with pytest.raises(ValueError, match="same first axis"):
        detect.fit_with_loss(model, (jnp.ones((4, 2)), jnp.ones((3, 1))), loss_fn=loss, epochs=1, batch_size=2,
                             optimizer=optax.sgd(0.1), key=key)
    with pytest.raises(ValueError, match="batch_size"):
        detect.fit_with_loss(model, (jnp.ones((4, 2)),), loss_fn=loss, epochs=1, batch_size=8,
                             optimizer=optax.sgd(0.1), key=key)
