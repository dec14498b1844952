"""Confusion-matrix heat maps."""

from __future__ import annotations

from collections.abc import Sequence

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.figure import Figure

DPI = 100
CELL_INCHES = 0.55
MIN_INCHES = 4.0
TEXT_CONTRAST = 0.5  # cells darker than this fraction of the maximum get white text


def confusion_matrix(
    confusion, *, classes: Sequence[str] | None = None, normalize: bool = False,
    title: str | None = None,
) -> Figure:
    """Draw a confusion matrix (true classes in rows, predicted in columns) with counts.

    Args:
        confusion: ``(K, K)`` counts, e.g. ``evaluate(...)["confusion_matrix"]``.
        classes: ``K`` class names for the tick labels; class ids when omitted.
        normalize: show each row as fractions of its true class (recall on the diagonal).
        title: an optional title.

    Returns:
        A matplotlib Figure with one image axis and a colour bar.

    Example:
        >>> fig = confusion_matrix(np.array([[5, 1], [0, 4]]), classes=["cat", "dog"])
        >>> len(fig.axes)
        2
    """
    counts = np.asarray(confusion)
    if counts.ndim != 2 or counts.shape[0] != counts.shape[1]:
        raise ValueError(f"confusion must have shape (K, K); got {counts.shape}")
    k = counts.shape[0]
    names = [str(c) for c in classes] if classes is not None else [str(i) for i in range(k)]
    if len(names) != k:
        raise ValueError(f"classes must name {k} classes; got {len(names)}")
    values = counts.astype(np.float64)
    if normalize:
        values = values / np.maximum(values.sum(axis=1, keepdims=True), 1)
    side = max(MIN_INCHES, CELL_INCHES * k + 2)
    fig, ax = plt.subplots(figsize=(side + 1, side), dpi=DPI)
    image = ax.imshow(values, cmap="Blues")
    fig.colorbar(image, ax=ax, fraction=0.046, pad=0.04)
    ax.set_xticks(range(k), names, rotation=45, ha="right")
    ax.set_yticks(range(k), names)
    ax.set_xlabel("predicted class")
    ax.set_ylabel("true class")
    top = values.max() if values.size and values.max() > 0 else 1
    for i in range(k):
        for j in range(k):
            text = f"{values[i, j]:.2f}" if normalize else f"{int(counts[i, j])}"
            colour = "white" if values[i, j] > TEXT_CONTRAST * top else "black"
            ax.text(j, i, text, ha="center", va="center", color=colour, fontsize=8)
    if title:
        ax.set_title(title)
    fig.tight_layout()
    return fig
