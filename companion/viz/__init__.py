"""Matplotlib figures for the book: learning curves, confusion matrices, image grids.

Every function returns a ``matplotlib.figure.Figure`` (close it with ``plt.close(fig)`` when done).
"""

from companion.viz.confusion import confusion_matrix
from companion.viz.curves import learning_curves
from companion.viz.images import image_grid
from companion.viz.reliability import reliability_diagram

__all__ = ["confusion_matrix", "image_grid", "learning_curves", "reliability_diagram"]
