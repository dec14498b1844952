"""Semantic segmentation: a small U-Net, its per-pixel loss, pixel accuracy and IoU.

Example:
    >>> import jax.numpy as jnp
    >>> from companion import segment
    >>> float(segment.pixel_accuracy(jnp.array([1, 2]), jnp.array([1, 1])))
    0.5
"""

from companion.segment.loss import pixel_cross_entropy
from companion.segment.metrics import class_iou, mean_iou, pixel_accuracy
from companion.segment.unet import UNet, upsample

__all__ = ["UNet", "class_iou", "mean_iou", "pixel_accuracy", "pixel_cross_entropy", "upsample"]
