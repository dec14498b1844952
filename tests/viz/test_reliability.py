"""Reliability diagrams: one diagram and one histogram per model, bars that match the bins."""

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
import pytest

from companion.viz import reliability_diagram

PROBABILITIES = np.array([[0.9, 0.1]] * 4 + [[0.6, 0.4]] * 4, np.float32)
LABELS = np.array([0, 0, 1, 1, 0, 0, 0, 1], np.int32)


def test_one_model():
    fig = reliability_diagram(PROBABILITIES, LABELS, num_bins=10)
    assert len(fig.axes) == 2
    top = fig.axes[0]
    assert "ECE 27.50 %" in top.get_title()
    heights = sorted(round(p.get_height(), 4) for p in top.containers[0])  # accuracy bars
    assert heights == [0.5, 0.75]
    plt.close(fig)


def test_several_models_get_one_column_each():
    fig = reliability_diagram({"before": PROBABILITIES, "after": np.full((8, 2), 0.5, np.float32)},
                              LABELS, num_bins=5, title="calibration")
    assert len(fig.axes) == 4
    assert fig.axes[0].get_title().startswith("before")
    assert fig.axes[1].get_title().startswith("after")
    assert fig._suptitle.get_text() == "calibration"
    plt.close(fig)


def test_bad_input():
    with pytest.raises(ValueError, match="empty mapping"):
        reliability_diagram({}, LABELS)
    with pytest.raises(ValueError, match=r"labels must have shape \(8,\)"):
        reliability_diagram(PROBABILITIES, LABELS[:3])
