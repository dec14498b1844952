"""Detection quality: matching detections to ground truth, average precision and mAP@0.5.

These run on the host with NumPy: evaluation walks variable-length lists of detections, which
is bookkeeping rather than array arithmetic.

For one class, the detections of every image are sorted by score. A detection is a true
positive when its IoU with a not yet matched ground-truth box of its image and class reaches
``iou_threshold`` (it takes the best such box); otherwise it is a false positive. Walking down
the list gives precision :math:`P_k` and recall :math:`R_k` after each detection, and the
all-point interpolated average precision is

.. math::

    \\mathrm{AP} = \\sum_k (R_k - R_{k-1})\\, \\max_{j \\ge k} P_j, \\qquad R_0 = 0,

the area under the precision-recall curve after each precision is raised to the best precision
at any higher recall (the PASCAL VOC rule since 2010). mAP is the mean of AP over the classes
that have ground truth.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from companion.detect.boxes import BOX_COORDS

DEFAULT_IOU_THRESHOLD = 0.5


def _as_boxes(value, name: str) -> np.ndarray:
    boxes = np.asarray(value, dtype=np.float64)
    if boxes.size == 0:
        boxes = boxes.reshape(0, BOX_COORDS)
    if boxes.ndim != 2 or boxes.shape[1] != BOX_COORDS:
        raise ValueError(f"{name} must have shape (K, 4) holding (y0, x0, y1, x1); got shape {boxes.shape}")
    return boxes


def _iou_matrix(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    top_left = np.maximum(a[:, None, :2], b[None, :, :2])
    bottom_right = np.minimum(a[:, None, 2:], b[None, :, 2:])
    sides = np.clip(bottom_right - top_left, 0, None)
    inter = sides[..., 0] * sides[..., 1]
    area = lambda x: np.clip(x[:, 2] - x[:, 0], 0, None) * np.clip(x[:, 3] - x[:, 1], 0, None)
    union = area(a)[:, None] + area(b)[None, :] - inter
    return np.where(union > 0, inter / np.where(union > 0, union, 1), 0.0)


def match_detections(
    boxes, scores, truth_boxes, *, iou_threshold: float = DEFAULT_IOU_THRESHOLD,
) -> np.ndarray:
    """Mark each detection of one image and one class as a true (``True``) or false positive.

    Detections are visited by decreasing score; each takes the not yet matched ground-truth
    box with the highest IoU, if that IoU is at least ``iou_threshold``.

    Args:
        boxes: ``(P, 4)`` detected boxes.
        scores: ``(P,)`` their scores.
        truth_boxes: ``(G, 4)`` ground-truth boxes.
        iou_threshold: the IoU a match needs.

    Returns:
        ``(P,)`` bool array in the order of the input detections.

    Example:
        >>> match_detections([[0, 0, 2, 2], [0, 0, 2, 2]], [0.9, 0.8], [[0, 0, 2, 2]]).tolist()
        [True, False]
    """
    boxes, truth_boxes = _as_boxes(boxes, "boxes"), _as_boxes(truth_boxes, "truth_boxes")
    scores = np.asarray(scores, dtype=np.float64).reshape(-1)
    if scores.shape[0] != boxes.shape[0]:
        raise ValueError(f"scores must have shape ({boxes.shape[0]},) to match boxes; got shape {scores.shape}")
    hits = np.zeros(boxes.shape[0], bool)
    if boxes.shape[0] == 0 or truth_boxes.shape[0] == 0:
        return hits
    iou = _iou_matrix(boxes, truth_boxes)
    taken = np.zeros(truth_boxes.shape[0], bool)
    for index in np.argsort(-scores, kind="stable"):
        candidates = np.where(taken, -1.0, iou[index])
        best = int(np.argmax(candidates))
        if candidates[best] >= iou_threshold:
            hits[index], taken[best] = True, True
    return hits


def average_precision(scores, hits, num_truth: int) -> float:
    """All-point interpolated average precision of one class.

    Args:
        scores: ``(P,)`` scores of all detections of the class, over all images.
        hits: ``(P,)`` bool, whether each detection is a true positive.
        num_truth: the number of ground-truth objects of the class.

    Returns:
        AP in [0, 1]; ``nan`` when ``num_truth`` is 0.

    Example:
        >>> average_precision([0.9, 0.8], [True, False], 2)
        0.5
    """
    scores = np.asarray(scores, dtype=np.float64).reshape(-1)
    hits = np.asarray(hits, dtype=bool).reshape(-1)
    if scores.shape != hits.shape:
        raise ValueError(f"scores and hits must have the same shape; got {scores.shape} and {hits.shape}")
    if num_truth < 0:
        raise ValueError(f"num_truth must be >= 0; got {num_truth}")
    if num_truth == 0:
        return float("nan")
    if hits.sum() > num_truth:
        raise ValueError(f"hits holds {int(hits.sum())} true positives but num_truth is only {num_truth}")
    order = np.argsort(-scores, kind="stable")
    true_positives = np.cumsum(hits[order])
    recall = true_positives / num_truth
    precision = true_positives / np.arange(1, len(order) + 1)
    recall = np.concatenate([[0.0], recall])
    envelope = np.concatenate([np.maximum.accumulate(precision[::-1])[::-1], [0.0]])
    return float(np.sum(np.diff(recall) * envelope[:-1]))


def mean_average_precision(
    detections: Sequence, truths: Sequence, *, num_classes: int,
    iou_threshold: float = DEFAULT_IOU_THRESHOLD,
) -> dict:
    """mAP over a data set: AP per class at one IoU threshold, then the mean.

    Args:
        detections: one ``(boxes (P, 4), scores (P,), classes (P,))`` triple per image.
        truths: one ``(boxes (G, 4), classes (G,))`` pair per image, in the same order.
        num_classes: the number of classes; class ids lie in ``[0, num_classes)``.
        iou_threshold: the IoU a match needs (0.5 gives mAP@0.5).

    Returns:
        A dict with ``map`` (float, the mean over classes with ground truth), ``ap``
        (``(num_classes,)`` float array, ``nan`` for classes without ground truth) and
        ``num_truth`` (``(num_classes,)`` int array).

    Example:
        >>> detections = [([[0, 0, 2, 2]], [0.9], [1])]
        >>> truths = [([[0, 0, 2, 2]], [1])]
        >>> mean_average_precision(detections, truths, num_classes=2)["map"]
        1.0
    """
    if len(detections) != len(truths):
        raise ValueError(f"detections and truths must list the same images; got {len(detections)} and {len(truths)}")
    if not 0.0 < iou_threshold <= 1.0:
        raise ValueError(f"iou_threshold must lie in (0, 1]; got {iou_threshold}")
    all_scores = [[] for _ in range(num_classes)]
    all_hits = [[] for _ in range(num_classes)]
    num_truth = np.zeros(num_classes, np.int64)
    for image, ((boxes, scores, classes), (truth_boxes, truth_classes)) in enumerate(
            zip(detections, truths, strict=True)):
        boxes, truth_boxes = _as_boxes(boxes, f"detections[{image}] boxes"), _as_boxes(
            truth_boxes, f"truths[{image}] boxes")
        scores = np.asarray(scores, dtype=np.float64).reshape(-1)
        classes = np.asarray(classes).reshape(-1).astype(np.int64)
        truth_classes = np.asarray(truth_classes).reshape(-1).astype(np.int64)
        for name, ids in (("detections", classes), ("truths", truth_classes)):
            if ids.size and (ids.min() < 0 or ids.max() >= num_classes):
                raise ValueError(f"{name}[{image}] class ids must lie in [0, {num_classes}); got {ids.tolist()}")
        if not boxes.shape[0] == scores.shape[0] == classes.shape[0]:
            raise ValueError(f"detections[{image}]: boxes, scores and classes must have the same length")
        if truth_boxes.shape[0] != truth_classes.shape[0]:
            raise ValueError(f"truths[{image}]: boxes and classes must have the same length")
        for c in range(num_classes):
            mine, theirs = classes == c, truth_classes == c
            num_truth[c] += int(theirs.sum())
            if mine.any():
                all_scores[c].append(scores[mine])
                all_hits[c].append(match_detections(boxes[mine], scores[mine], truth_boxes[theirs],
                                                    iou_threshold=iou_threshold))
    ap = np.array([
        average_precision(np.concatenate(all_scores[c]) if all_scores[c] else np.zeros(0),
                          np.concatenate(all_hits[c]) if all_hits[c] else np.zeros(0, bool), int(num_truth[c]))
        for c in range(num_classes)
    ])
    present = num_truth > 0
    return {"map": float(ap[present].mean()) if present.any() else float("nan"), "ap": ap, "num_truth": num_truth}
