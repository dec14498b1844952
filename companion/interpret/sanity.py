"""The model-randomisation sanity check (Adebayo et al., 2018) for attribution maps.

An explanation method that depends on what the model learned must give different maps when the
learned weights are replaced by random ones. :func:`randomize_parameters` makes such a copy
(all layers, or only some, for the cascading version of the test), and
:func:`rank_correlation` measures how similar two maps are.
"""

from __future__ import annotations

from collections.abc import Sequence

import jax
import jax.numpy as jnp
from flax import nnx


def _path_name(path) -> str:
    parts = []
    for entry in path:
        name = getattr(entry, "key", getattr(entry, "name", getattr(entry, "idx", None)))
        if name != "value":
            parts.append(str(name))
    return ".".join(parts)


def randomize_parameters(key: jax.Array, model: nnx.Module, *, layers: Sequence[str] | None = None) -> nnx.Module:
    """A copy of ``model`` whose parameters are redrawn at random, at the trained scale.

    Each chosen parameter array is replaced by Gaussian noise with the same shape and the same
    standard deviation as the trained array (so activations keep their size); arrays with zero
    spread, like fresh biases, become zeros. ``model`` itself is not changed.

    Args:
        key: a ``jax.random.key``.
        model: an NNX module.
        layers: names of the parameters to randomise, matched as prefixes of their dotted
            paths (e.g. ``("dense2",)`` or ``("conv1.kernel",)``); ``None`` randomises all.

    Returns:
        A new module of the same type.

    Example:
        >>> from companion.nn import SeedCNN
        >>> model = SeedCNN(rngs=nnx.Rngs(0))
        >>> other = randomize_parameters(jax.random.key(1), model, layers=("dense2",))
        >>> bool(jnp.all(other.conv1.kernel[...] == model.conv1.kernel[...]))
        True
    """
    graphdef, params, rest = nnx.split(model, nnx.Param, ...)
    leaves, treedef = jax.tree_util.tree_flatten_with_path(params)
    names = [_path_name(path) for path, _ in leaves]
    if layers is not None:
        unknown = [layer for layer in layers if not any(n == layer or n.startswith(layer + ".") for n in names)]
        if unknown:
            raise ValueError(f"layers {unknown} match no parameter; the parameters are {names}")
    keys = jax.random.split(key, len(leaves))
    new = []
    for k, name, (_, value) in zip(keys, names, leaves, strict=True):
        chosen = layers is None or any(name == layer or name.startswith(layer + ".") for layer in layers)
        new.append(jax.random.normal(k, value.shape, value.dtype) * jnp.std(value) if chosen else value)
    params = jax.tree_util.tree_unflatten(treedef, new)
    return nnx.merge(graphdef, params, jax.tree.map(jnp.copy, rest))


def rank_correlation(maps_a: jax.Array, maps_b: jax.Array) -> jax.Array:
    """Spearman rank correlation between paired maps, one value per pair.

    Ranks are the positions in sorted order, tied values sharing their average rank, and the
    result is the Pearson correlation of the ranks: 1 for maps that order the pixels the same
    way, near 0 for unrelated maps.

    Args:
        maps_a: ``(N, H, W)`` maps.
        maps_b: ``(N, H, W)`` maps.

    Returns:
        ``(N,)`` float32 in [-1, 1].

    Example:
        >>> m = jnp.arange(16.0).reshape(1, 4, 4)
        >>> rank_correlation(m, 2 * m)
        Array([1.], dtype=float32)
    """
    maps_a, maps_b = jnp.asarray(maps_a), jnp.asarray(maps_b)
    if maps_a.shape != maps_b.shape or maps_a.ndim < 2:
        raise ValueError(
            f"maps_a and maps_b must have the same shape (N, ...); got {tuple(maps_a.shape)} and {tuple(maps_b.shape)}"
        )

    def ranks(maps):
        flat = maps.reshape(maps.shape[0], -1)

        def average_ranks(row):
            ordered = jnp.sort(row)
            first = jnp.searchsorted(ordered, row, side="left")
            last = jnp.searchsorted(ordered, row, side="right")
            return (first + last - 1).astype(jnp.float32) / 2

        return jax.vmap(average_ranks)(flat)

    a, b = ranks(maps_a), ranks(maps_b)
    a = a - a.mean(axis=1, keepdims=True)
    b = b - b.mean(axis=1, keepdims=True)
    return (a * b).sum(axis=1) / jnp.sqrt((a * a).sum(axis=1) * (b * b).sum(axis=1))
