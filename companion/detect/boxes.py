"""Boxes in ``(y0, x0, y1, x1)`` form: areas and intersection over union (IoU).

A box covers the rows ``y0 <= y < y1`` and the columns ``x0 <= x < x1`` of an image, in pixels,
so its height is ``y1 - y0`` and its width ``x1 - x0``. Every function is vectorised over any
leading axes and can be jitted.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp

BOX_COORDS = 4  # (y0, x0, y1, x1)
TINY = 1e-9  # guards the division of two zero areas


def _check_boxes(boxes: jax.Array, name: str) -> jax.Array:
    boxes = jnp.asarray(boxes)
    if boxes.ndim < 1 or boxes.shape[-1] != BOX_COORDS:
        raise ValueError(f"{name} must have shape (..., 4) holding (y0, x0, y1, x1); got shape {tuple(boxes.shape)}")
    if not jnp.issubdtype(boxes.dtype, jnp.floating):
        raise TypeError(f"{name} must be a floating-point array; got dtype {boxes.dtype}")
    return boxes


def box_area(boxes: jax.Array) -> jax.Array:
    """Area of each box, zero for empty or inverted boxes.

    Args:
        boxes: ``(..., 4)`` floating-point boxes ``(y0, x0, y1, x1)``.

    Returns:
        Areas of shape ``(...)``.

    Example:
        >>> box_area(jnp.array([[0.0, 0.0, 2.0, 3.0]]))
        Array([6.], dtype=float32)
    """
    boxes = _check_boxes(boxes, "boxes")
    height = jnp.maximum(boxes[..., 2] - boxes[..., 0], 0)
    width = jnp.maximum(boxes[..., 3] - boxes[..., 1], 0)
    return height * width


def box_iou(boxes_a: jax.Array, boxes_b: jax.Array) -> jax.Array:
    """Intersection over union of boxes paired element by element (with broadcasting).

    .. math::

        \\operatorname{IoU}(A, B) = \\frac{|A \\cap B|}{|A| + |B| - |A \\cap B|}

    where the intersection is the box ``(max y0, max x0, min y1, min x1)``, empty when the
    maxima exceed the minima. Two empty boxes have IoU 0.

    Args:
        boxes_a: ``(..., 4)`` boxes.
        boxes_b: ``(..., 4)`` boxes, broadcastable against ``boxes_a``.

    Returns:
        IoU values in [0, 1], of the broadcast shape without the last axis.

    Example:
        >>> box_iou(jnp.array([0.0, 0.0, 2.0, 2.0]), jnp.array([1.0, 0.0, 3.0, 2.0]))
        Array(0.33333334, dtype=float32)
    """
    boxes_a = _check_boxes(boxes_a, "boxes_a")
    boxes_b = _check_boxes(boxes_b, "boxes_b")
    top_left = jnp.maximum(boxes_a[..., :2], boxes_b[..., :2])
    bottom_right = jnp.minimum(boxes_a[..., 2:], boxes_b[..., 2:])
    sides = jnp.maximum(bottom_right - top_left, 0)
    intersection = sides[..., 0] * sides[..., 1]
    union = box_area(boxes_a) + box_area(boxes_b) - intersection
    return jnp.where(union > 0, intersection / jnp.maximum(union, TINY), 0).astype(intersection.dtype)


def pairwise_iou(boxes_a: jax.Array, boxes_b: jax.Array) -> jax.Array:
    """IoU of every box of ``boxes_a`` with every box of ``boxes_b``.

    Args:
        boxes_a: ``(N, 4)`` boxes.
        boxes_b: ``(M, 4)`` boxes.

    Returns:
        ``(N, M)`` matrix whose entry ``(i, j)`` is ``box_iou(boxes_a[i], boxes_b[j])``.

    Example:
        >>> pairwise_iou(jnp.zeros((3, 4)), jnp.ones((5, 4))).shape
        (3, 5)
    """
    boxes_a = _check_boxes(boxes_a, "boxes_a")
    boxes_b = _check_boxes(boxes_b, "boxes_b")
    if boxes_a.ndim != 2 or boxes_b.ndim != 2:
        raise ValueError(
            f"pairwise_iou expects boxes_a (N, 4) and boxes_b (M, 4); got shapes "
            f"{tuple(boxes_a.shape)} and {tuple(boxes_b.shape)}"
        )
    return box_iou(boxes_a[:, None, :], boxes_b[None, :, :])
