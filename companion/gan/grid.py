"""Tiling a batch of images into one grid image, for sample grids and figures."""

from __future__ import annotations

import math

import numpy as np

IMAGE_RANK = 4


def image_grid(images, *, columns: int | None = None, padding: int = 1, fill: float = 1.0) -> np.ndarray:
    """Tile ``(N, H, W, C)`` images row by row into one image, separated by ``padding`` pixels.

    Args:
        images: shape ``(N, H, W, C)``, values in [0, 1].
        columns: images per row; defaults to ``ceil(sqrt(N))``.
        padding: pixels between images (and around the grid).
        fill: value of the padding pixels and of empty cells.

    Returns:
        float32 NumPy array ``(rows (H + p) + p, columns (W + p) + p, C)``.

    Example:
        >>> image_grid(np.zeros((6, 28, 28, 1)), columns=3).shape
        (59, 88, 1)
    """
    images = np.asarray(images, dtype=np.float32)
    if images.ndim != IMAGE_RANK or images.shape[0] < 1:
        raise ValueError(f"images must have shape (N, H, W, C) with N >= 1; got shape {images.shape}")
    count, height, width, channels = images.shape
    columns = columns or math.ceil(math.sqrt(count))
    if not isinstance(columns, int) or columns < 1:
        raise ValueError(f"columns must be an int >= 1; got {columns!r}")
    rows = math.ceil(count / columns)
    grid = np.full((rows * (height + padding) + padding, columns * (width + padding) + padding, channels), fill,
                   np.float32)
    for i in range(count):
        r, c = divmod(i, columns)
        top, left = padding + r * (height + padding), padding + c * (width + padding)
        grid[top : top + height, left : left + width] = images[i]
    return grid
