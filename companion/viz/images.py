"""Grids of images with their labels (and predictions)."""

from __future__ import annotations

import math
from collections.abc import Sequence

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.figure import Figure

DPI = 100
CELL_INCHES = 1.2
DEFAULT_COLUMNS = 8
PIXEL_MAX = 255


def image_grid(
    images, labels=None, *, predictions=None, classes: Sequence[str] | None = None,
    columns: int = DEFAULT_COLUMNS, title: str | None = None,
) -> Figure:
    """Show images in a grid, each titled with its label (and prediction, red when wrong).

    Args:
        images: ``(N, H, W, C)`` or ``(N, H, W)``, ``uint8`` pixels or floats in [0, 1];
            ``C`` is 1 (shown grey) or 3.
        labels: optional ``(N,)`` true class ids.
        predictions: optional ``(N,)`` predicted class ids.
        classes: optional class names indexed by id.
        columns: images per row.
        title: an optional figure title.

    Returns:
        A matplotlib Figure with one axis per image.

    Example:
        >>> fig = image_grid(np.zeros((5, 28, 28, 1), np.uint8), [0, 1, 2, 3, 4], columns=3)
        >>> len(fig.axes)
        5
    """
    pixels = np.asarray(images)
    if pixels.ndim == 3:
        pixels = pixels[..., None]
    if pixels.ndim != 4 or pixels.shape[-1] not in (1, 3):
        raise ValueError(f"images must have shape (N, H, W), (N, H, W, 1) or (N, H, W, 3); got {pixels.shape}")
    count = pixels.shape[0]
    if count == 0:
        raise ValueError("images holds no image")
    for name, values in (("labels", labels), ("predictions", predictions)):
        if values is not None and len(values) != count:
            raise ValueError(f"{name} must have shape ({count},); got {len(values)} entries")
    if columns < 1:
        raise ValueError(f"columns must be >= 1; got {columns}")
    if pixels.dtype != np.uint8:
        pixels = np.clip(pixels, 0, 1)
    name = (lambda i: classes[int(i)]) if classes is not None else (lambda i: str(int(i)))
    columns = min(columns, count)
    rows = math.ceil(count / columns)
    fig = plt.figure(figsize=(CELL_INCHES * columns, CELL_INCHES * rows + (0.4 if title else 0)), dpi=DPI)
    for index in range(count):
        ax = fig.add_subplot(rows, columns, index + 1)
        image = pixels[index]
        if image.shape[-1] == 1:
            ax.imshow(image[..., 0], cmap="gray", vmin=0, vmax=PIXEL_MAX if image.dtype == np.uint8 else 1)
        else:
            ax.imshow(image)
        ax.set_xticks([])
        ax.set_yticks([])
        caption, colour = "", "black"
        if labels is not None:
            caption = name(labels[index])
        if predictions is not None:
            guess = name(predictions[index])
            caption = f"{caption} → {guess}" if caption else guess
            if labels is not None and int(predictions[index]) != int(labels[index]):
                colour = "red"
        if caption:
            ax.set_title(caption, fontsize=8, color=colour)
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    return fig
