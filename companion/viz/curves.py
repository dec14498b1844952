"""Learning curves from a training History."""

from __future__ import annotations

import math

import matplotlib.pyplot as plt
from matplotlib.figure import Figure

DPI = 100
PANEL_SIZE = (4.5, 3.2)


def learning_curves(history, *, title: str | None = None) -> Figure:
    """Plot loss and accuracy per epoch: training curves, and evaluation curves when recorded.

    Args:
        history: a ``companion.train.History`` (or anything with ``train_loss``,
            ``train_accuracy``, ``eval_loss`` and ``eval_accuracy`` lists).
        title: an optional figure title.

    Returns:
        A matplotlib Figure with two axes: loss (left) and accuracy (right).

    Example:
        >>> from companion.train import History
        >>> fig = learning_curves(History(train_loss=[1.0, 0.5], train_accuracy=[0.6, 0.8]))
        >>> len(fig.axes)
        2
    """
    epochs = range(1, len(history.train_loss) + 1)
    fig, (loss_ax, acc_ax) = plt.subplots(
        1, 2, figsize=(2 * PANEL_SIZE[0], PANEL_SIZE[1]), dpi=DPI
    )
    loss_ax.plot(epochs, history.train_loss, marker="o", label="training")
    acc_ax.plot(epochs, history.train_accuracy, marker="o", label="training")
    eval_loss = list(getattr(history, "eval_loss", []))
    eval_accuracy = list(getattr(history, "eval_accuracy", []))
    if eval_loss and not all(math.isnan(v) for v in eval_loss):
        loss_ax.plot(epochs, eval_loss, marker="s", label="evaluation")
    if eval_accuracy and not all(math.isnan(v) for v in eval_accuracy):
        acc_ax.plot(epochs, eval_accuracy, marker="s", label="evaluation")
    for ax, label in ((loss_ax, "cross-entropy loss"), (acc_ax, "accuracy")):
        ax.set_xlabel("epoch")
        ax.set_ylabel(label)
        ax.grid(alpha=0.3)
        ax.legend()
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    return fig
