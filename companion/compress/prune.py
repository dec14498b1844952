"""Magnitude pruning: set the smallest-magnitude kernel weights to zero.

Global magnitude pruning ranks all kernel weights of the model together by :math:`|w|` and
zeros the smallest fraction ``sparsity`` of them, so layers with many redundant weights lose more.
Biases are kept.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
from flax import nnx

from companion.compress._params import is_kernel


def magnitude_prune(model: nnx.Module, *, sparsity: float) -> nnx.Module:
    """A copy of ``model`` with the fraction ``sparsity`` of its kernel weights set to zero.

    Args:
        model: an NNX model (not changed).
        sparsity: fraction of kernel weights to remove, in [0, 1].

    Returns:
        The pruned copy. Ties at the threshold may prune slightly more than asked.

    Example:
        >>> from companion.nn import SeedCNN
        >>> pruned = magnitude_prune(SeedCNN(rngs=nnx.Rngs(0)), sparsity=0.5)
        >>> round(kernel_sparsity(pruned), 2)
        0.5
    """
    if not 0.0 <= sparsity <= 1.0:
        raise ValueError(f"sparsity must lie in [0, 1]; got {sparsity}")
    graphdef, params, rest = nnx.split(model, nnx.Param, ...)
    kernels = [w for w in jax.tree.leaves(params) if is_kernel(w)]
    if not kernels:
        raise ValueError("model has no kernels (parameters with two or more axes) to prune")
    magnitudes = jnp.concatenate([jnp.abs(w).reshape(-1) for w in kernels])
    count = round(sparsity * magnitudes.size)
    if count == 0:
        threshold = jnp.float32(-1)
    else:
        threshold = jnp.sort(magnitudes)[count - 1]
    pruned = jax.tree.map(lambda w: jnp.where(jnp.abs(w) <= threshold, 0, w).astype(w.dtype) if is_kernel(w) else w,
                          params)
    return nnx.merge(graphdef, pruned, jax.tree.map(jnp.copy, rest))


def kernel_sparsity(model: nnx.Module) -> float:
    """The fraction of kernel weights (parameters with two or more axes) that are exactly zero.

    Args:
        model: an NNX model.

    Returns:
        A float in [0, 1].

    Example:
        >>> kernel_sparsity(nnx.Linear(4, 4, kernel_init=nnx.initializers.zeros_init(), rngs=nnx.Rngs(0)))
        1.0
    """
    kernels = [w for w in jax.tree.leaves(nnx.state(model, nnx.Param)) if is_kernel(w)]
    total = sum(int(w.size) for w in kernels)
    zeros = sum(int(jnp.sum(w == 0)) for w in kernels)
    return zeros / total if total else 0.0
