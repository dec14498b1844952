"""Batched evaluation of a classifier: accuracy, top-k, per-class scores, confusion matrix."""

from __future__ import annotations

import functools

import jax
import jax.numpy as jnp
import numpy as np
from flax import nnx

from companion.train.inputs import batch_to_float, prepare
from companion.train.metrics import precision_recall_f1
from companion.train.model_state import output_classes, split_model
from companion.train.steps import make_evaluator

DEFAULT_BATCH_SIZE = 500
DEFAULT_TOP_K = 5


def evaluate(
    model: nnx.Module, data, *, batch_size: int = DEFAULT_BATCH_SIZE, top_k: int = DEFAULT_TOP_K,
) -> dict:
    """Evaluate a classifier on a data set, batch by batch, in evaluation mode.

    Dropout is off and BatchNorm uses its running statistics (the model itself is not
    changed). The whole pass is one compiled loop over on-device data; only one batch of logits
    exists at a time.

    Args:
        model: an NNX classifier mapping float32 ``(N, H, W, C)`` images in [0, 1] to logits
            ``(N, K)``.
        data: a ``companion.data.Dataset`` or an ``(images, labels)`` pair of float32 images
            and integer labels.
        batch_size: examples per batch.
        top_k: the ``k`` of the top-k accuracy (capped at ``K``).

    Returns:
        A dict: ``accuracy``, ``top_k_accuracy``, ``top_k``, ``loss`` (mean cross-entropy),
        ``num_examples`` (floats and ints); ``precision``, ``recall``, ``f1``, ``support``
        (NumPy arrays of shape ``(K,)``); ``macro_precision``, ``macro_recall``,
        ``macro_f1``, ``weighted_precision``, ``weighted_recall``, ``weighted_f1`` (floats);
        ``confusion_matrix`` (``(K, K)`` int NumPy array, true classes in rows).

    Example:
        >>> from companion.nn import SeedCNN
        >>> x, y = np.zeros((8, 28, 28, 1), np.float32), np.zeros(8, np.int32)
        >>> evaluate(SeedCNN(rngs=nnx.Rngs(0)), (x, y))["num_examples"]
        8
    """
    if batch_size < 1:
        raise ValueError(f"batch_size must be >= 1; got {batch_size}")
    num_classes = _classes(model, data)
    arrays = prepare(
        data, name="data", in_channels=getattr(model, "in_channels", None), num_classes=num_classes
    )
    k = min(top_k, num_classes)
    graphdef, params, rest = split_model(model, training=False)
    evaluator = _compiled_evaluator(graphdef, min(batch_size, len(arrays)), num_classes, k)
    sums = evaluator(params, rest, arrays.images, arrays.labels)
    return summarize(sums, num_examples=len(arrays), top_k=k)


COMPILED_CACHE_SIZE = 32  # jitted programs kept per process, so repeated calls do not recompile


@functools.lru_cache(maxsize=COMPILED_CACHE_SIZE)
def _compiled_evaluator(graphdef, batch_size: int, num_classes: int, top_k: int):
    return jax.jit(make_evaluator(graphdef, batch_size=batch_size, num_classes=num_classes, top_k=top_k))


@functools.lru_cache(maxsize=COMPILED_CACHE_SIZE)
def _compiled_predictor(graphdef):
    @jax.jit
    def run(params, rest, batch):
        return jnp.argmax(nnx.merge(graphdef, params, rest)(batch_to_float(batch)), axis=-1)

    return run


def _classes(model: nnx.Module, data) -> int:
    images = data.images if hasattr(data, "images") else data[0]
    shape = tuple(np.shape(images))
    if len(shape) != 4:
        raise ValueError(f"data images must have shape (N, H, W, C); got shape {shape}")
    in_channels = getattr(model, "in_channels", None)
    if in_channels is not None and shape[-1] != in_channels:
        raise ValueError(
            f"data images have {shape[-1]} channels but the model expects {in_channels}: "
            f"expected shape (N, H, W, {in_channels}), got {shape}"
        )
    return output_classes(model, shape[1:])


def summarize(sums: dict, *, num_examples: int, top_k: int) -> dict:
    """Turn the evaluator's sums (confusion, top-k count, loss sum) into the metrics dict.

    Args:
        sums: ``confusion`` ``(K, K)``, ``top_k_correct`` and ``loss_sum``.
        num_examples: the number of evaluated examples.
        top_k: the ``k`` used.

    Returns:
        The dict :func:`evaluate` returns.

    Example:
        >>> sums = {"confusion": jnp.eye(2, dtype=jnp.int32), "top_k_correct": 2, "loss_sum": 0.0}
        >>> summarize(sums, num_examples=2, top_k=1)["accuracy"]
        1.0
    """
    confusion = np.asarray(sums["confusion"])
    scores = {name: np.asarray(value) for name, value in precision_recall_f1(jnp.asarray(confusion)).items()}
    result = {
        "accuracy": float(np.trace(confusion) / num_examples),
        "top_k_accuracy": float(sums["top_k_correct"]) / num_examples,
        "top_k": top_k,
        "loss": float(sums["loss_sum"]) / num_examples,
        "num_examples": num_examples,
        "confusion_matrix": confusion,
    }
    for name, value in scores.items():
        result[name] = value if value.ndim else float(value)
    return result


def predict(model: nnx.Module, images, *, batch_size: int = DEFAULT_BATCH_SIZE) -> np.ndarray:
    """Predicted class ids of ``images``, computed batch by batch in evaluation mode.

    Args:
        model: an NNX classifier.
        images: ``(N, H, W, C)``, ``uint8`` pixels (divided by 255) or float32 in [0, 1].
        batch_size: examples per batch.

    Returns:
        ``int`` NumPy array of shape ``(N,)``.

    Example:
        >>> from companion.nn import SeedCNN
        >>> predict(SeedCNN(rngs=nnx.Rngs(0)), np.zeros((3, 28, 28, 1), np.float32)).shape
        (3,)
    """
    images = jnp.asarray(images)
    if images.ndim != 4:
        raise ValueError(f"images must have shape (N, H, W, C); got shape {tuple(images.shape)}")
    graphdef, params, rest = split_model(model, training=False)
    run = _compiled_predictor(graphdef)
    count = images.shape[0]
    batch_size = min(batch_size, count)
    out = []
    for start in range(0, count, batch_size):
        batch = images[start : start + batch_size]
        pad = batch_size - batch.shape[0]
        if pad:  # keep one compiled shape
            batch = jnp.concatenate([batch, jnp.repeat(batch[-1:], pad, axis=0)])
        out.append(np.asarray(run(params, rest, batch))[: batch_size - pad])
    return np.concatenate(out)
