"""Greedy NMS against a plain-Python reference, hand-made cases, padding and jit."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from companion.detect import non_max_suppression


def reference_nms(boxes, scores, iou_threshold, max_outputs, score_threshold=-np.inf):
    def iou(a, b):
        h = max(0.0, min(a[2], b[2]) - max(a[0], b[0]))
        w = max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
        inter = h * w
        union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter
        return inter / union if union > 0 else 0.0

    kept = []
    for i in sorted(range(len(scores)), key=lambda k: (-scores[k], k)):
        if scores[i] <= score_threshold:
            continue
        if all(iou(boxes[i], boxes[j]) <= iou_threshold for j in kept):
            kept.append(i)
    return kept[:max_outputs]


def random_boxes(rng, count):
    corner = rng.uniform(0, 40, size=(count, 2))
    size = rng.uniform(4, 20, size=(count, 2))
    return np.concatenate([corner, corner + size], axis=1).astype(np.float32)


@pytest.mark.parametrize("seed", range(5))
@pytest.mark.parametrize("threshold", [0.3, 0.5, 0.7])
def test_matches_reference(seed, threshold):
    rng = np.random.default_rng(seed)
    boxes = random_boxes(rng, 30)
    scores = rng.permutation(30).astype(np.float32) / 30  # distinct scores
    max_outputs = 12
    indices, valid = non_max_suppression(jnp.asarray(boxes), jnp.asarray(scores), max_outputs=max_outputs,
                                         iou_threshold=threshold)
    expected = reference_nms(boxes, scores, threshold, max_outputs)
    got = [int(i) for i, v in zip(indices, valid, strict=True) if v]
    assert got == expected
    assert indices.shape == valid.shape == (max_outputs,)
    assert all(int(i) == -1 for i, v in zip(indices, valid, strict=True) if not v)


def test_hand_made_cluster_and_score_threshold():
    boxes = jnp.array([[0, 0, 10, 10], [1, 1, 11, 11], [0, 0, 9, 10], [20, 20, 30, 30], [21, 20, 31, 30]],
                      jnp.float32)
    scores = jnp.array([0.6, 0.9, 0.5, 0.3, 0.01])
    indices, valid = non_max_suppression(boxes, scores, max_outputs=4, iou_threshold=0.5, score_threshold=0.05)
    assert indices.tolist() == [1, 3, -1, -1]
    assert valid.tolist() == [True, True, False, False]


def test_fewer_boxes_than_outputs_are_padded():
    indices, valid = non_max_suppression(jnp.array([[0, 0, 1, 1]], jnp.float32), jnp.array([0.5]), max_outputs=3)
    assert indices.tolist() == [0, -1, -1] and valid.tolist() == [True, False, False]


def test_jit_and_vmap_agree_with_eager():
    rng = np.random.default_rng(7)
    boxes = jnp.asarray(np.stack([random_boxes(rng, 16) for _ in range(3)]))
    scores = jnp.asarray(rng.uniform(size=(3, 16)).astype(np.float32))
    run = lambda b, s: non_max_suppression(b, s, max_outputs=5, iou_threshold=0.4)
    batched = jax.jit(jax.vmap(run))(boxes, scores)
    for i in range(3):
        eager = run(boxes[i], scores[i])
        assert batched[0][i].tolist() == eager[0].tolist()


def test_bad_input_is_named():
    with pytest.raises(ValueError, match=r"scores must have shape \(2,\)"):
        non_max_suppression(jnp.zeros((2, 4)), jnp.zeros(3), max_outputs=1)
    with pytest.raises(ValueError, match="max_outputs"):
        non_max_suppression(jnp.zeros((2, 4)), jnp.zeros(2), max_outputs=0)
    with pytest.raises(ValueError, match="iou_threshold"):
        non_max_suppression(jnp.zeros((2, 4)), jnp.zeros(2), max_outputs=1, iou_threshold=1.5)
