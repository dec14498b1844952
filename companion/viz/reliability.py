"""Reliability diagrams: accuracy against confidence per bin, one panel per model."""

from __future__ import annotations

from collections.abc import Mapping

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.figure import Figure

from companion.train.calibration import DEFAULT_NUM_BINS, expected_calibration_error, reliability_bins

DPI = 100
PANEL_INCHES = (3.4, 3.9)
HISTOGRAM_SHARE = 0.3  # height of the confidence histogram under each diagram, relative to it
GAP_ALPHA = 0.35


def reliability_diagram(
    probabilities, labels, *, num_bins: int = DEFAULT_NUM_BINS, title: str | None = None
) -> Figure:
    """Draw reliability diagrams: per-bin accuracy against confidence, with the ECE in the title.

    Each panel shows, per equal-width confidence bin, the accuracy as a bar and the gap to the
    bin's mean confidence as a shaded bar (above the accuracy: over-confident; below:
    under-confident), the diagonal of perfect calibration, and under it a histogram of how many
    predictions fall into each bin (log scale).

    Args:
        probabilities: predicted class probabilities ``(N, K)``, or a mapping from a model name to
            such an array (one panel per model, e.g. before and after temperature scaling).
        labels: true class ids, integer shape ``(N,)``, shared by all panels.
        num_bins: the number of confidence bins.
        title: an optional figure title.

    Returns:
        A matplotlib Figure with two axes per model: the diagram on top, the histogram below.

    Raises:
        ValueError: wrong shapes or an empty mapping.
        TypeError: non-float probabilities or non-integer labels.

    Example:
        >>> p = np.array([[0.9, 0.1], [0.6, 0.4], [0.2, 0.8]], np.float32)
        >>> fig = reliability_diagram({"model": p}, np.array([0, 1, 1]), num_bins=5)
        >>> len(fig.axes)
        2
    """
    panels = dict(probabilities) if isinstance(probabilities, Mapping) else {"": probabilities}
    if not panels:
        raise ValueError("probabilities must hold at least one (N, K) array; got an empty mapping")
    stats = {}
    for name, p in panels.items():
        bins = reliability_bins(p, labels, num_bins=num_bins)
        ece = float(expected_calibration_error(p, labels, num_bins=num_bins))
        stats[name] = ({field: np.asarray(value) for field, value in bins._asdict().items()}, ece)

    fig, axes = plt.subplots(
        2, len(panels), figsize=(PANEL_INCHES[0] * len(panels), PANEL_INCHES[1]), dpi=DPI,
        gridspec_kw={"height_ratios": (1, HISTOGRAM_SHARE)}, sharex=True, squeeze=False,
    )
    width = 1 / num_bins
    for column, (name, (bins, ece)) in enumerate(stats.items()):
        top, bottom = axes[0, column], axes[1, column]
        centres = bins["edges"][:-1] + width / 2
        filled = bins["counts"] > 0
        top.bar(centres[filled], bins["accuracy"][filled], width=width, edgecolor="k",
                linewidth=0.5, label="accuracy")
        gap = bins["confidence"] - bins["accuracy"]
        top.bar(centres[filled], gap[filled], bottom=bins["accuracy"][filled], width=width,
                color="C3", alpha=GAP_ALPHA, label="gap to confidence")
        top.plot([0, 1], [0, 1], "k--", linewidth=0.8, label="calibrated")
        top.set(xlim=(0, 1), ylim=(0, 1), title=f"{name}\nECE {100 * ece:.2f} %".lstrip())
        top.title.set_fontsize(9)
        bottom.bar(centres[filled], bins["counts"][filled], width=width, color="0.5", edgecolor="k",
                   linewidth=0.5)
        bottom.set_yscale("log")
        bottom.set_xlabel("confidence")
        if column == 0:
            top.set_ylabel("accuracy")
            top.legend(fontsize=7, loc="upper left")
            bottom.set_ylabel("count")
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    return fig
