"""A small one-stage grid detector with one anchor per cell (a miniature YOLO).

The backbone halves the resolution three times, so each cell of the output grid sees a
``STRIDE x STRIDE`` patch of the image (8 x 8 pixels). Each cell predicts ``5 + K`` numbers: an
objectness logit, a box ``(t_y, t_x, t_h, t_w)`` relative to the cell and to the *anchor* (a
prior box of fixed size), and ``K`` class logits. The cell that holds an object's centre is
responsible for it:

.. math::

    c_y = (i + \\sigma(t_y))\\,s, \\quad c_x = (j + \\sigma(t_x))\\,s, \\quad
    h = a_h e^{t_h}, \\quad w = a_w e^{t_w},

with cell ``(i, j)``, stride ``s`` and anchor ``(a_h, a_w)``.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import optax
from flax import nnx

from companion.detect.boxes import BOX_COORDS
from companion.detect.nms import non_max_suppression
from companion.nn import Conv2D, max_pool

KERNEL = 3
POOL = 2
FEATURES = (16, 32, 64)
STRIDE = POOL ** len(FEATURES)
DEFAULT_ANCHOR = (20.0, 16.0)  # about the size of an MNIST digit's ink box, in pixels
OBJECTNESS, BOX = 0, slice(1, 1 + BOX_COORDS)
HEAD_EXTRA = 1 + BOX_COORDS  # objectness and box before the class logits
BOX_LOSS_WEIGHT = 5.0  # YOLO's lambda_coord: box errors count more than the many empty cells


class GridDetector(nnx.Module):
    """Three conv-pool blocks and a 1x1 head: ``(N, S, S, C)`` images to ``(N, S/8, S/8, 5 + K)``.

    Args:
        num_classes: ``K``, the number of object classes.
        in_channels: image channels.
        rngs: random streams for the initialisation.

    Example:
        >>> GridDetector(10, rngs=nnx.Rngs(0))(jnp.zeros((2, 64, 64, 1))).shape
        (2, 8, 8, 15)
    """

    def __init__(self, num_classes: int = 10, *, in_channels: int = 1, rngs: nnx.Rngs) -> None:
        self.num_classes, self.in_channels = num_classes, in_channels
        widths = (in_channels, *FEATURES)
        self.blocks = nnx.List([
            Conv2D(widths[i], widths[i + 1], KERNEL, padding="SAME", rngs=rngs) for i in range(len(FEATURES))
        ])
        self.mix = Conv2D(FEATURES[-1], FEATURES[-1], KERNEL, padding="SAME", rngs=rngs)
        self.head = Conv2D(FEATURES[-1], HEAD_EXTRA + num_classes, 1, rngs=rngs)

    def __call__(self, x: jax.Array) -> jax.Array:
        """Map images ``(N, S, S, C)`` to raw predictions ``(N, S/8, S/8, 5 + K)``."""
        if x.shape[1] % STRIDE or x.shape[2] % STRIDE:
            raise ValueError(f"GridDetector needs image sides divisible by {STRIDE}; got shape {tuple(x.shape)}")
        for conv in self.blocks:
            x = max_pool(jax.nn.relu(conv(x)), POOL)
        return self.head(jax.nn.relu(self.mix(x)))


def detection_targets(
    boxes: jax.Array, classes: jax.Array, *, grid_size: int, anchor: tuple[float, float] = DEFAULT_ANCHOR,
) -> dict[str, jax.Array]:
    """Encode ground-truth boxes into per-cell training targets for :class:`GridDetector`.

    Args:
        boxes: ``(N, M, 4)`` boxes ``(y0, x0, y1, x1)`` in pixels.
        classes: ``(N, M)`` int classes, negative for absent objects.
        grid_size: cells per side of the output grid (image side / ``STRIDE``).
        anchor: the prior box ``(a_h, a_w)`` in pixels.

    Returns:
        A dict of ``objectness`` ``(N, G, G)`` float32 (1 where a cell holds an object centre),
        ``box`` ``(N, G, G, 4)`` float32 targets ``(sigma(t_y), sigma(t_x), t_h, t_w)`` and
        ``label`` ``(N, G, G)`` int32 (0 where no object).

    Example:
        >>> t = detection_targets(jnp.array([[[0.0, 0.0, 16.0, 16.0]]]), jnp.array([[3]]), grid_size=8)
        >>> float(t["objectness"][0, 1, 1]), int(t["label"][0, 1, 1])
        (1.0, 3)
    """
    boxes, classes = jnp.asarray(boxes, jnp.float32), jnp.asarray(classes)
    if boxes.ndim != 3 or boxes.shape[-1] != BOX_COORDS or classes.shape != boxes.shape[:2]:
        raise ValueError(
            f"boxes must be (N, M, 4) and classes (N, M); got shapes {tuple(boxes.shape)} and {tuple(classes.shape)}"
        )
    stride = jnp.float32(STRIDE)
    centre = (boxes[..., :2] + boxes[..., 2:]) / 2 / stride
    cell = jnp.clip(jnp.floor(centre).astype(jnp.int32), 0, grid_size - 1)
    offset = centre - cell.astype(jnp.float32)
    size = jnp.maximum(boxes[..., 2:] - boxes[..., :2], 1.0)
    log_size = jnp.log(size / jnp.asarray(anchor, jnp.float32))
    present = classes >= 0
    n, m = classes.shape
    image = jnp.broadcast_to(jnp.arange(n)[:, None], (n, m))
    # Absent objects write to a dummy row that is cut off afterwards.
    row = jnp.where(present, cell[..., 0], grid_size)
    objectness = jnp.zeros((n, grid_size + 1, grid_size), jnp.float32).at[image, row, cell[..., 1]].set(1.0)
    box = jnp.zeros((n, grid_size + 1, grid_size, BOX_COORDS), jnp.float32).at[image, row, cell[..., 1]].set(
        jnp.concatenate([offset, log_size], axis=-1))
    label = jnp.zeros((n, grid_size + 1, grid_size), jnp.int32).at[image, row, cell[..., 1]].set(
        jnp.maximum(classes, 0).astype(jnp.int32))
    return {"objectness": objectness[:, :grid_size], "box": box[:, :grid_size], "label": label[:, :grid_size]}


def detection_loss(predictions: jax.Array, targets: dict[str, jax.Array]) -> jax.Array:
    """YOLO-style loss: objectness BCE on every cell, box and class losses on object cells.

    .. math::

        L = \\overline{\\mathrm{BCE}(o, \\hat o)}
            + \\frac{1}{N_+} \\sum_{\\text{object cells}} \\Big(\\lambda \\,\\lVert b - \\hat b \\rVert_1
            + \\mathrm{CE}(k, \\hat k)\\Big)

    Args:
        predictions: ``(N, G, G, 5 + K)`` raw outputs of :class:`GridDetector`.
        targets: the dict of :func:`detection_targets`.

    Returns:
        A float32 scalar.

    Example:
        >>> t = detection_targets(jnp.array([[[0.0, 0.0, 16.0, 16.0]]]), jnp.array([[3]]), grid_size=8)
        >>> detection_loss(jnp.zeros((1, 8, 8, 15)), t).shape
        ()
    """
    objectness = targets["objectness"]
    positive = objectness.sum()
    object_loss = optax.sigmoid_binary_cross_entropy(predictions[..., OBJECTNESS], objectness).mean()
    box_pred = jnp.concatenate(
        [jax.nn.sigmoid(predictions[..., 1:3]), predictions[..., 3:HEAD_EXTRA]], axis=-1)
    box_loss = jnp.abs(box_pred - targets["box"]).sum(axis=-1)
    class_loss = optax.softmax_cross_entropy_with_integer_labels(predictions[..., HEAD_EXTRA:], targets["label"])
    per_cell = BOX_LOSS_WEIGHT * box_loss + class_loss
    return object_loss + (per_cell * objectness).sum() / jnp.maximum(positive, 1.0)


def decode_predictions(
    predictions: jax.Array, *, anchor: tuple[float, float] = DEFAULT_ANCHOR,
) -> tuple[jax.Array, jax.Array, jax.Array]:
    """Turn raw grid outputs into boxes, scores and classes, one candidate per cell.

    Args:
        predictions: ``(N, G, G, 5 + K)`` raw outputs.
        anchor: the prior box ``(a_h, a_w)`` used in training.

    Returns:
        ``boxes`` ``(N, G * G, 4)`` in pixels, ``scores`` ``(N, G * G)`` (objectness times the
        best class probability) and ``classes`` ``(N, G * G)`` int32.

    Example:
        >>> boxes, scores, classes = decode_predictions(jnp.zeros((1, 8, 8, 15)))
        >>> boxes.shape, scores.shape
        ((1, 64, 4), (1, 64))
    """
    n, rows, cols, _ = predictions.shape
    stride = jnp.float32(STRIDE)
    grid = jnp.stack(jnp.meshgrid(jnp.arange(rows), jnp.arange(cols), indexing="ij"), axis=-1).astype(jnp.float32)
    centre = (grid + jax.nn.sigmoid(predictions[..., 1:3])) * stride
    size = jnp.asarray(anchor, jnp.float32) * jnp.exp(predictions[..., 3:HEAD_EXTRA])
    boxes = jnp.concatenate([centre - size / 2, centre + size / 2], axis=-1)
    probabilities = jax.nn.softmax(predictions[..., HEAD_EXTRA:], axis=-1)
    scores = jax.nn.sigmoid(predictions[..., OBJECTNESS]) * probabilities.max(axis=-1)
    classes = jnp.argmax(probabilities, axis=-1).astype(jnp.int32)
    return boxes.reshape(n, -1, BOX_COORDS), scores.reshape(n, -1), classes.reshape(n, -1)


def detect(
    model: GridDetector, images: jax.Array, *, max_outputs: int = 10, iou_threshold: float = 0.5,
    score_threshold: float = 0.05, anchor: tuple[float, float] = DEFAULT_ANCHOR,
) -> tuple[jax.Array, jax.Array, jax.Array, jax.Array]:
    """Run the detector and non-maximum suppression on a batch, returning fixed-size results.

    Args:
        model: a trained :class:`GridDetector`.
        images: ``(N, S, S, C)`` float32 in [0, 1].
        max_outputs: detections kept per image.
        iou_threshold: the NMS overlap threshold.
        score_threshold: candidates at or below this score are dropped.
        anchor: the prior box used in training.

    Returns:
        ``boxes`` ``(N, max_outputs, 4)``, ``scores`` ``(N, max_outputs)``, ``classes``
        ``(N, max_outputs)`` and ``valid`` ``(N, max_outputs)`` bool.

    Example:
        >>> model = GridDetector(10, rngs=nnx.Rngs(0))
        >>> detect(model, jnp.zeros((2, 64, 64, 1)), max_outputs=5)[0].shape
        (2, 5, 4)
    """
    boxes, scores, classes = decode_predictions(model(images), anchor=anchor)

    def one(b, s, c):
        keep, valid = non_max_suppression(
            b, s, max_outputs=max_outputs, iou_threshold=iou_threshold, score_threshold=score_threshold)
        safe = jnp.maximum(keep, 0)
        return b[safe], jnp.where(valid, s[safe], 0.0), c[safe], valid

    return jax.vmap(one)(boxes, scores, classes)


def detections_to_lists(boxes, scores, classes, valid) -> list[tuple]:
    """Convert :func:`detect`'s padded arrays into the per-image lists mAP takes.

    Args:
        boxes: ``(N, D, 4)``.
        scores: ``(N, D)``.
        classes: ``(N, D)``.
        valid: ``(N, D)`` bool.

    Returns:
        One ``(boxes, scores, classes)`` NumPy triple per image, invalid entries dropped.

    Example:
        >>> z = jnp.zeros((1, 2))
        >>> detections_to_lists(jnp.zeros((1, 2, 4)), z, z, z > 0)[0][0].shape
        (0, 4)
    """
    boxes, scores, classes, valid = map(np.asarray, (boxes, scores, classes, valid))
    return [(b[v], s[v], c[v]) for b, s, c, v in zip(boxes, scores, classes, valid, strict=True)]
