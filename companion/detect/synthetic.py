"""A synthetic detection and segmentation data set: MNIST digits scattered on a larger canvas.

The canvas is cut into a grid of cells a little larger than a digit; each scene fills a random
number of cells (1 to ``max_objects``) with random digits at random offsets inside their cells,
so digits never overlap and every object is fully visible. Each object gets a tight box around
its ink and each pixel a class (0 for background, ``1 + digit`` for a digit's ink). Everything is
drawn from one ``key``, so a scene set is reproducible.
"""

from __future__ import annotations

import dataclasses

import jax
import jax.numpy as jnp
import numpy as np

from companion.data.batching import to_float

DEFAULT_CANVAS = 64
DEFAULT_MAX_OBJECTS = 3
INK_THRESHOLD = 0.5  # a pixel of a digit belongs to its mask (and box) above this intensity
BACKGROUND = 0
NO_OBJECT = -1


@dataclasses.dataclass(frozen=True)
class Scenes:
    """A batch of synthetic scenes with their annotations.

    Attributes:
        images: ``(N, S, S, 1)`` float32 in [0, 1].
        boxes: ``(N, M, 4)`` float32 tight boxes ``(y0, x0, y1, x1)`` in pixels; rows of absent
            objects are zero.
        classes: ``(N, M)`` int32 digit classes, ``-1`` for absent objects.
        masks: ``(N, S, S)`` int32 pixel classes: 0 background, ``1 + digit`` on a digit's ink.

    Example:
        >>> scenes = Scenes(jnp.zeros((1, 8, 8, 1)), jnp.zeros((1, 2, 4)), -jnp.ones((1, 2), jnp.int32),
        ...                 jnp.zeros((1, 8, 8), jnp.int32))
        >>> len(scenes)
        1
    """

    images: jax.Array
    boxes: jax.Array
    classes: jax.Array
    masks: jax.Array

    def __len__(self) -> int:
        return int(self.images.shape[0])

    @property
    def present(self) -> jax.Array:
        """``(N, M)`` bool: which object slots hold an object.

        Returns:
            ``classes >= 0``.

        Example:
            >>> Scenes(jnp.zeros((1, 8, 8, 1)), jnp.zeros((1, 1, 4)), jnp.zeros((1, 1), jnp.int32),
            ...        jnp.zeros((1, 8, 8), jnp.int32)).present.tolist()
            [[True]]
        """
        return self.classes >= 0

    def truths(self) -> list[tuple[np.ndarray, np.ndarray]]:
        """The ground truth per scene in the form ``mean_average_precision`` takes.

        Returns:
            One ``(boxes (G, 4), classes (G,))`` NumPy pair per scene, absent objects dropped.

        Example:
            >>> Scenes(jnp.zeros((1, 8, 8, 1)), jnp.zeros((1, 1, 4)), -jnp.ones((1, 1), jnp.int32),
            ...        jnp.zeros((1, 8, 8), jnp.int32)).truths()[0][0].shape
            (0, 4)
        """
        boxes, classes = np.asarray(self.boxes), np.asarray(self.classes)
        return [(b[c >= 0], c[c >= 0]) for b, c in zip(boxes, classes, strict=True)]


def _ink_extent(ink: jax.Array) -> tuple[jax.Array, jax.Array]:
    """First and one-past-last index where a 1-D bool array is True (0, 0 when it never is)."""
    size = ink.shape[0]
    first = jnp.argmax(ink)
    last = size - jnp.argmax(ink[::-1])
    any_ink = jnp.any(ink)
    return jnp.where(any_ink, first, 0), jnp.where(any_ink, last, 0)


def make_scenes(
    key: jax.Array, digits, labels, *, num_scenes: int, canvas_size: int = DEFAULT_CANVAS,
    max_objects: int = DEFAULT_MAX_OBJECTS,
) -> Scenes:
    """Draw ``num_scenes`` scenes of MNIST-like digits on a ``canvas_size`` square canvas.

    Args:
        key: a ``jax.random.key``.
        digits: ``(D, h, w)`` or ``(D, h, w, 1)`` digit images, ``uint8`` or float32 in [0, 1].
        labels: ``(D,)`` integer classes of the digits.
        num_scenes: how many scenes to draw.
        canvas_size: side of the square canvas in pixels.
        max_objects: the most digits per scene; each scene holds between 1 and this many.

    Returns:
        A :class:`Scenes` with ``M = max_objects`` object slots.

    Raises:
        ValueError: bad shapes, or more objects than the canvas has cells.

    Example:
        >>> digits, labels = jnp.ones((5, 28, 28), jnp.float32), jnp.arange(5)
        >>> make_scenes(jax.random.key(0), digits, labels, num_scenes=2).images.shape
        (2, 64, 64, 1)
    """
    digits = jnp.asarray(digits)
    if digits.ndim == 4 and digits.shape[-1] == 1:
        digits = digits[..., 0]
    if digits.ndim != 3:
        raise ValueError(f"digits must have shape (D, h, w) or (D, h, w, 1); got shape {tuple(digits.shape)}")
    digits = to_float(digits) if digits.dtype == jnp.uint8 else digits.astype(jnp.float32)
    labels = jnp.asarray(labels).astype(jnp.int32)
    if labels.shape != digits.shape[:1]:
        raise ValueError(f"labels must have shape ({digits.shape[0]},); got shape {tuple(labels.shape)}")
    if not isinstance(num_scenes, int) or num_scenes < 1:
        raise ValueError(f"num_scenes must be an int >= 1; got {num_scenes!r}")
    height, width = digits.shape[1:]
    cells_y, cells_x = canvas_size // height, canvas_size // width
    if max_objects < 1 or max_objects > cells_y * cells_x:
        raise ValueError(
            f"max_objects must lie in [1, {cells_y * cells_x}] for {height}x{width} digits on a "
            f"{canvas_size}x{canvas_size} canvas; got {max_objects}"
        )
    cell_h, cell_w = canvas_size // cells_y, canvas_size // cells_x
    slack_h, slack_w = cell_h - height, cell_w - width

    def one_scene(key):
        k_count, k_cells, k_digits, k_y, k_x = jax.random.split(key, 5)
        count = jax.random.randint(k_count, (), 1, max_objects + 1)
        cells = jax.random.permutation(k_cells, cells_y * cells_x)[:max_objects]
        chosen = jax.random.randint(k_digits, (max_objects,), 0, digits.shape[0])
        top = (cells // cells_x) * cell_h + jax.random.randint(k_y, (max_objects,), 0, slack_h + 1)
        left = (cells % cells_x) * cell_w + jax.random.randint(k_x, (max_objects,), 0, slack_w + 1)
        present = jnp.arange(max_objects) < count

        def place(index):
            digit = digits[chosen[index]] * present[index].astype(jnp.float32)
            canvas = jax.lax.dynamic_update_slice(
                jnp.zeros((canvas_size, canvas_size), jnp.float32), digit, (top[index], left[index]))
            ink = digit > INK_THRESHOLD
            y0, y1 = _ink_extent(jnp.any(ink, axis=1))
            x0, x1 = _ink_extent(jnp.any(ink, axis=0))
            box = jnp.stack([y0 + top[index], x0 + left[index], y1 + top[index], x1 + left[index]])
            box = jnp.where(present[index], box, 0).astype(jnp.float32)
            return canvas, box

        canvases, boxes = jax.vmap(place)(jnp.arange(max_objects))
        classes = jnp.where(present, labels[chosen], NO_OBJECT)
        image = canvases.max(axis=0)
        owner = jnp.argmax(canvases, axis=0)
        mask = jnp.where(image > INK_THRESHOLD, classes[owner] + 1, BACKGROUND).astype(jnp.int32)
        return image[..., None], boxes, classes, mask

    images, boxes, classes, masks = jax.jit(jax.vmap(one_scene))(jax.random.split(key, num_scenes))
    return Scenes(images=images, boxes=boxes, classes=classes, masks=masks)
