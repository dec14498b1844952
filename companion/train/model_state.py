"""Splitting an NNX model into a pure graph and arrays, in training or evaluation mode."""

from __future__ import annotations

from typing import Any

import jax
import numpy as np
from flax import nnx

TRAIN_MODE = {"deterministic": False, "use_running_average": False}
EVAL_MODE = {"deterministic": True, "use_running_average": True}


def split_model(model: nnx.Module, *, training: bool) -> tuple[Any, nnx.State, nnx.State]:
    """Split ``model`` into its graph (in the chosen mode), its parameters and its other state.

    Dropout and BatchNorm layers are switched with ``nnx.view``, so ``model`` itself is not
    changed. The graph is static and hashable; the two states are pytrees of arrays that jitted
    functions take and return.

    Args:
        model: an NNX module.
        training: ``True`` for training mode (dropout on, BatchNorm batch statistics),
            ``False`` for evaluation mode.

    Returns:
        ``(graphdef, params, rest)``: ``params`` holds the ``nnx.Param`` variables, ``rest``
        everything else (BatchNorm statistics, dropout random-number state).

    Example:
        >>> from companion.nn import SeedCNN
        >>> graphdef, params, rest = split_model(SeedCNN(rngs=nnx.Rngs(0)), training=False)
    """
    mode = TRAIN_MODE if training else EVAL_MODE
    view = nnx.view(model, raise_if_not_found=False, **mode)
    return nnx.split(view, nnx.Param, ...)


def output_classes(model: nnx.Module, image_shape: tuple[int, int, int]) -> int:
    """The number of logits ``model`` returns for images of shape ``image_shape``.

    Reads ``model.num_classes`` when the model has it; otherwise traces the model abstractly
    (no computation) on one image.

    Args:
        model: an NNX classifier mapping ``(N, H, W, C)`` to ``(N, K)``.
        image_shape: ``(H, W, C)``.

    Returns:
        ``K``.

    Example:
        >>> from companion.nn import SeedCNN
        >>> output_classes(SeedCNN(rngs=nnx.Rngs(0)), (28, 28, 1))
        10
    """
    known = getattr(model, "num_classes", None)
    if isinstance(known, int):
        return known
    graphdef, params, rest = split_model(model, training=False)
    probe = jax.ShapeDtypeStruct((1, *image_shape), np.float32)
    out = jax.eval_shape(lambda p, r, x: nnx.merge(graphdef, p, r)(x), params, rest, probe)
    if len(out.shape) != 2:
        raise ValueError(f"the model must return logits of shape (N, K); got shape {out.shape}")
    return int(out.shape[-1])


def parameter_count(model: nnx.Module) -> int:
    """The number of scalar parameters (``nnx.Param`` entries) in ``model``.

    Args:
        model: an NNX module.

    Returns:
        The total size of all parameters.

    Example:
        >>> from companion.nn import SeedCNN
        >>> parameter_count(SeedCNN(rngs=nnx.Rngs(0)))
        121930
    """
    return int(sum(np.size(x) for x in jax.tree.leaves(nnx.state(model, nnx.Param))))
