"""Object detection: IoU, non-maximum suppression, mAP, a synthetic data set and a small detector.

Boxes are ``(y0, x0, y1, x1)`` in pixels (rows ``y0 <= y < y1``, columns ``x0 <= x < x1``).
:func:`box_iou` and :func:`non_max_suppression` are jittable; :func:`mean_average_precision`
runs on the host. :func:`make_scenes` scatters MNIST digits on a larger canvas with boxes and
masks; :class:`GridDetector` is a one-stage, one-anchor-per-cell detector trained with
:func:`fit_with_loss` and :func:`detection_loss`.

Example:
    >>> import jax.numpy as jnp
    >>> from companion import detect
    >>> float(detect.box_iou(jnp.array([0.0, 0.0, 2.0, 2.0]), jnp.array([0.0, 0.0, 2.0, 4.0])))
    0.5
"""

from companion.detect.boxes import box_area, box_iou, pairwise_iou
from companion.detect.detector import (
    DEFAULT_ANCHOR,
    STRIDE,
    GridDetector,
    decode_predictions,
    detect,
    detection_loss,
    detection_targets,
    detections_to_lists,
)
from companion.detect.metrics import average_precision, match_detections, mean_average_precision
from companion.detect.nms import non_max_suppression
from companion.detect.synthetic import Scenes, make_scenes
from companion.detect.training import fit_with_loss

__all__ = [
    "DEFAULT_ANCHOR",
    "STRIDE",
    "GridDetector",
    "Scenes",
    "average_precision",
    "box_area",
    "box_iou",
    "decode_predictions",
    "detect",
    "detection_loss",
    "detection_targets",
    "detections_to_lists",
    "fit_with_loss",
    "make_scenes",
    "match_detections",
    "mean_average_precision",
    "non_max_suppression",
    "pairwise_iou",
]
