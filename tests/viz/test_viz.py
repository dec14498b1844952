"""The figures draw without error, with the expected axes and images."""

import math

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
import pytest

from companion.train import History
from companion.viz import confusion_matrix, image_grid, learning_curves


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


def test_learning_curves_with_and_without_eval():
    history = History(train_loss=[1.0, 0.5, 0.3], train_accuracy=[0.5, 0.7, 0.8],
                      eval_loss=[1.1, 0.6, 0.5], eval_accuracy=[0.5, 0.65, 0.7])
    fig = learning_curves(history, title="toy")
    fig.canvas.draw()
    assert len(fig.axes) == 2
    assert [len(ax.lines) for ax in fig.axes] == [2, 2]
    no_eval = History(train_loss=[1.0], train_accuracy=[0.5], eval_loss=[math.nan],
                      eval_accuracy=[math.nan])
    assert [len(ax.lines) for ax in learning_curves(no_eval).axes] == [1, 1]


@pytest.mark.parametrize("normalize", [False, True])
def test_confusion_matrix_draws_every_cell(normalize):
    counts = np.array([[5, 1, 0], [0, 4, 2], [1, 0, 6]])
    fig = confusion_matrix(counts, classes=["a", "b", "c"], normalize=normalize)
    fig.canvas.draw()
    image_ax = fig.axes[0]
    assert len(fig.axes) == 2 and len(image_ax.images) == 1
    assert len(image_ax.texts) == counts.size
    assert [t.get_text() for t in image_ax.get_yticklabels()] == ["a", "b", "c"]
    with pytest.raises(ValueError, match=r"\(K, K\)"):
        confusion_matrix(np.zeros((2, 3)))


@pytest.mark.parametrize(("shape", "dtype"), [((7, 28, 28, 1), np.uint8), ((4, 8, 8, 3), np.float32),
                                              ((3, 5, 5), np.float32)])
def test_image_grid_has_one_axis_per_image(shape, dtype):
    images = np.zeros(shape, dtype)
    labels = np.arange(shape[0]) % 3
    predictions = np.zeros(shape[0], int)
    fig = image_grid(images, labels, predictions=predictions, classes=["x", "y", "z"], columns=3)
    fig.canvas.draw()
    assert len(fig.axes) == shape[0]
    assert all(len(ax.images) == 1 for ax in fig.axes)
    titles = [ax.get_title() for ax in fig.axes]
    assert titles[1] == "y → x" and fig.axes[1].title.get_color() == "red"


def test_image_grid_rejects_bad_shapes():
    with pytest.raises(ValueError, match=r"\(N, H, W"):
        image_grid(np.zeros((2, 4, 4, 2)))
    with pytest.raises(ValueError, match="labels"):
        image_grid(np.zeros((2, 4, 4, 1)), [0])
