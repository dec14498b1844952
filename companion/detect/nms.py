"""Greedy non-maximum suppression (NMS) with a fixed output size, so it can be jitted.

The greedy rule: sort the boxes by score; walk down the list and keep a box unless it overlaps
an already kept box by more than ``iou_threshold``. Overlapping detections of one object thus
collapse to the best-scoring one.
"""

from __future__ import annotations

import functools

import jax
import jax.numpy as jnp

from companion.detect.boxes import _check_boxes, pairwise_iou

MISSING = -1  # index used to pad the output


def non_max_suppression(
    boxes: jax.Array, scores: jax.Array, *, max_outputs: int, iou_threshold: float = 0.5,
    score_threshold: float = float("-inf"),
) -> tuple[jax.Array, jax.Array]:
    """Greedy NMS: the indices of the boxes kept, best score first, padded to ``max_outputs``.

    A box is kept when its score exceeds ``score_threshold`` and its IoU with every kept box of
    higher score is at most ``iou_threshold``. Ties in score keep the lower index first. The loop
    runs over a precomputed ``(N, N)`` IoU matrix inside ``jax.lax.fori_loop``, so the function
    compiles once per ``N``.

    Args:
        boxes: ``(N, 4)`` boxes ``(y0, x0, y1, x1)``.
        scores: ``(N,)`` scores; higher is better.
        max_outputs: the fixed length of the result.
        iou_threshold: suppress boxes overlapping a kept box by more than this IoU.
        score_threshold: drop boxes whose score is not above this value.

    Returns:
        ``(indices, valid)``: ``indices`` ``(max_outputs,)`` int32 into ``boxes``, best first,
        padded with ``-1``; ``valid`` ``(max_outputs,)`` bool marks the real entries.

    Example:
        >>> boxes = jnp.array([[0.0, 0.0, 10.0, 10.0], [1.0, 1.0, 10.0, 10.0], [20.0, 20.0, 30.0, 30.0]])
        >>> indices, valid = non_max_suppression(boxes, jnp.array([0.9, 0.8, 0.7]), max_outputs=3)
        >>> indices.tolist(), valid.tolist()
        ([0, 2, -1], [True, True, False])
    """
    boxes = _check_boxes(boxes, "boxes")
    scores = jnp.asarray(scores)
    if boxes.ndim != 2:
        raise ValueError(f"boxes must have shape (N, 4); got shape {tuple(boxes.shape)}")
    if scores.shape != boxes.shape[:1]:
        raise ValueError(f"scores must have shape ({boxes.shape[0]},) to match boxes; got shape {tuple(scores.shape)}")
    if not isinstance(max_outputs, int) or max_outputs < 1:
        raise ValueError(f"max_outputs must be an int >= 1; got {max_outputs!r}")
    if not 0.0 <= iou_threshold <= 1.0:
        raise ValueError(f"iou_threshold must lie in [0, 1]; got {iou_threshold}")
    return _nms(boxes, scores, max_outputs=max_outputs, iou_threshold=float(iou_threshold),
                score_threshold=float(score_threshold))


@functools.partial(jax.jit, static_argnames=("max_outputs", "iou_threshold", "score_threshold"))
def _nms(boxes, scores, *, max_outputs, iou_threshold, score_threshold):
    # Jitted as a whole, so eager calls compile once per shape instead of once per call.
    count = boxes.shape[0]
    order = jnp.argsort(-scores, stable=True)
    sorted_boxes = boxes[order]
    above = scores[order] > score_threshold
    overlaps = pairwise_iou(sorted_boxes, sorted_boxes) > iou_threshold
    positions = jnp.arange(count)

    def visit(i, keep):
        suppressed = jnp.any(keep & overlaps[:, i] & (positions < i))
        return keep.at[i].set(above[i] & ~suppressed)

    keep = jax.lax.fori_loop(0, count, visit, jnp.zeros(count, bool))
    # Kept boxes first (in score order), then the rest; take the first max_outputs.
    rank = jnp.where(keep, positions, count + positions)
    chosen = jnp.argsort(rank)[:max_outputs]
    valid = keep[chosen]
    if chosen.shape[0] < max_outputs:
        pad = max_outputs - chosen.shape[0]
        chosen = jnp.concatenate([chosen, jnp.zeros(pad, chosen.dtype)])
        valid = jnp.concatenate([valid, jnp.zeros(pad, bool)])
    indices = jnp.where(valid, order[chosen], MISSING).astype(jnp.int32)
    return indices, valid
