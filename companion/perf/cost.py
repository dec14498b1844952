"""The cost model: FLOPs of a model (by hand and as XLA counts them) and model FLOP utilisation."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import jax

from companion.formulas import conv_flops
from companion.nn._shapes import pool_size, valid_conv_size
from companion.nn.seed import CONV_FEATURES, HIDDEN, KERNEL, MNIST_SIDE, POOL

TRAIN_TO_FORWARD_FLOPS = 3  # backward ~ 2 x forward: gradients w.r.t. the inputs and the weights
FLOPS_PER_MULTIPLY_ADD = 2


def seed_cnn_forward_flops(*, image_size: int = MNIST_SIDE, in_channels: int = 1, num_classes: int = 10) -> int:
    r"""FLOPs of one forward pass of :class:`companion.nn.SeedCNN` on one image.

    Counts the multiply-adds of the two convolutions (:func:`companion.formulas.conv_flops`) and
    the two dense layers, two FLOPs each; biases, ReLUs and pooling (one operation per value) are
    left out. A training step costs about :data:`TRAIN_TO_FORWARD_FLOPS` times this per image.

    Args:
        image_size: side of the square input images.
        in_channels: channels of the input images.
        num_classes: number of logits.

    Returns:
        The FLOP count for one image.

    Example:
        >>> seed_cnn_forward_flops()
        5056000
    """
    for name, value in (("image_size", image_size), ("in_channels", in_channels), ("num_classes", num_classes)):
        if not isinstance(value, int) or isinstance(value, bool) or value < 1:
            raise ValueError(f"{name} must be an int >= 1; got {value!r}")
    first, second = CONV_FEATURES
    side1 = valid_conv_size(image_size, KERNEL)
    side2 = valid_conv_size(pool_size(side1, POOL), KERNEL)
    flat = pool_size(side2, POOL) ** 2 * second
    convs = conv_flops(side1, side1, KERNEL, KERNEL, in_channels, first)
    convs += conv_flops(side2, side2, KERNEL, KERNEL, first, second)
    dense = FLOPS_PER_MULTIPLY_ADD * (flat * HIDDEN + HIDDEN * num_classes)
    return convs + dense


def xla_cost(fn: Callable[..., Any], *args: Any, **kwargs: Any) -> dict[str, float]:
    """What XLA's cost model says one call of ``fn(*args, **kwargs)`` costs, without running it.

    Lowers and compiles ``fn`` for the given arguments (arrays or ``jax.ShapeDtypeStruct``) and
    reads ``compiled.cost_analysis()``.

    Args:
        fn: a function of arrays, or an already jitted one.
        *args: its positional arguments.
        **kwargs: its keyword arguments.

    Returns:
        A dict with ``flops`` (floating-point operations) and ``bytes_accessed`` (memory traffic),
        ``nan`` where the backend does not report them.

    Example:
        >>> import jax.numpy as jnp
        >>> xla_cost(jnp.dot, jnp.ones((4, 8)), jnp.ones((8, 2)))["flops"]
        128.0
    """
    if not callable(fn):
        raise TypeError(f"fn must be callable; got {type(fn).__name__}")
    jitted = fn if hasattr(fn, "lower") else jax.jit(fn)
    cost = jitted.lower(*args, **kwargs).compile().cost_analysis()
    if isinstance(cost, list | tuple):
        cost = cost[0] if cost else {}
    cost = cost or {}
    return {"flops": float(cost.get("flops", math.nan)),
            "bytes_accessed": float(cost.get("bytes accessed", math.nan))}


def mfu(flops_per_second: float, peak_flops_per_second: float) -> float:
    """Model FLOP utilisation: the achieved FLOP rate as a fraction of a peak rate.

    .. math::

        \\text{MFU} = \\frac{\\text{model FLOPs per step} / \\text{seconds per step}}{\\text{peak FLOP/s}}

    Args:
        flops_per_second: the model's FLOPs per step over the measured seconds per step.
        peak_flops_per_second: a peak, e.g. :func:`companion.perf.matmul_peak_flops`.

    Returns:
        A fraction (1.0 means the model runs at the matmul peak).

    Example:
        >>> mfu(5e9, 20e9)
        0.25
    """
    if not peak_flops_per_second > 0:
        raise ValueError(f"peak_flops_per_second must be > 0; got {peak_flops_per_second!r}")
    if flops_per_second < 0:
        raise ValueError(f"flops_per_second must be >= 0; got {flops_per_second!r}")
    return float(flops_per_second) / float(peak_flops_per_second)
