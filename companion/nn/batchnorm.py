"""Adjusting the running-statistics average of every BatchNorm layer of a model."""

from __future__ import annotations

from flax import nnx


def set_batchnorm_momentum(model: nnx.Module, momentum: float) -> int:
    """Set the ``momentum`` of every ``nnx.BatchNorm`` in ``model``, in place.

    Flax updates the running mean as ``momentum * running + (1 - momentum) * batch``, with a
    default of 0.99: after ``t`` training steps a fraction ``momentum ** t`` of the initial
    statistics (mean 0, variance 1) is left, about 67% after 40 steps. Short runs evaluate well
    only with a faster average, e.g. 0.9 (1.5% left after 40 steps).

    Args:
        model: any NNX module; its BatchNorm layers are found at every depth.
        momentum: the new decay of the running averages, in ``[0, 1)``.

    Returns:
        The number of BatchNorm layers changed.

    Example:
        >>> from companion.nn import BatchNormCNN
        >>> set_batchnorm_momentum(BatchNormCNN(rngs=nnx.Rngs(0)), 0.9)
        4
    """
    if isinstance(momentum, bool) or not isinstance(momentum, (int, float)) or not 0.0 <= momentum < 1.0:
        raise ValueError(f"momentum must be a float in [0, 1); got {momentum!r}")
    changed = 0
    for _, module in nnx.iter_modules(model):
        if isinstance(module, nnx.BatchNorm):
            module.momentum = float(momentum)
            changed += 1
    return changed
