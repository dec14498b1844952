"""Post-training int8 quantisation of weights, with one scale per output channel.

Symmetric linear quantisation maps a weight :math:`w` of output channel :math:`c` to

.. math::

    q = \\operatorname{clip}\\Big(\\operatorname{round}\\big(w / s_c\\big), -127, 127\\Big), \\qquad
    s_c = \\frac{\\max |w_{\\cdot c}|}{127},

and back to :math:`\\hat w = s_c\\, q`. The rounding error is at most :math:`s_c / 2` per
weight. Kernels (arrays with two or more axes) are stored as int8 plus one float32 scale per
output channel (the last axis, in Flax's layout); biases stay float32. This is *weight-only*
quantisation: it shrinks the stored model about four times; the arithmetic still runs in float32
after dequantising.
"""

from __future__ import annotations

import dataclasses

import jax
import jax.numpy as jnp
from flax import nnx

from companion.compress._params import is_kernel

INT8_MAX = 127
TINY_SCALE = 1e-12  # the scale of an all-zero channel, so that dividing by it is safe


@jax.tree_util.register_dataclass
@dataclasses.dataclass(frozen=True)
class QuantizedTensor:
    """An int8 array with float32 scales along its last axis.

    Attributes:
        values: int8 array, the shape of the original weights.
        scale: float32 array of shape ``(C_out,)``.

    Example:
        >>> q = quantize_per_channel(jnp.array([[1.0, -2.0], [0.5, 1.0]]))
        >>> q.values.dtype, q.scale.shape
        (dtype('int8'), (2,))
    """

    values: jax.Array
    scale: jax.Array

    def dequantize(self) -> jax.Array:
        """The float32 weights ``scale * values``.

        Returns:
            float32 array of the original shape.

        Example:
            >>> quantize_per_channel(jnp.array([[1.0, -2.0]])).dequantize()
            Array([[ 1., -2.]], dtype=float32)
        """
        return self.values.astype(jnp.float32) * self.scale

    @property
    def nbytes(self) -> int:
        """Bytes of storage: one per int8 value plus four per scale.

        Returns:
            An int.

        Example:
            >>> quantize_per_channel(jnp.ones((3, 4))).nbytes
            28
        """
        return int(self.values.size * self.values.dtype.itemsize + self.scale.size * self.scale.dtype.itemsize)


def quantize_per_channel(weights: jax.Array) -> QuantizedTensor:
    """Quantise float weights to int8 with one symmetric scale per output channel (last axis).

    Args:
        weights: float array ``(..., C_out)`` with at least one axis.

    Returns:
        A :class:`QuantizedTensor` whose ``dequantize()`` is within ``scale / 2`` of ``weights``.

    Example:
        >>> quantize_per_channel(jnp.array([[0.5, 4.0], [-1.0, 2.0]])).values.tolist()
        [[64, 127], [-127, 64]]
    """
    weights = jnp.asarray(weights)
    if weights.ndim < 1 or not jnp.issubdtype(weights.dtype, jnp.floating):
        raise TypeError(
            f"weights must be a floating-point array with at least one axis; got {weights.dtype}{list(weights.shape)}"
        )
    weights = weights.astype(jnp.float32)
    reduce = tuple(range(weights.ndim - 1))
    scale = jnp.max(jnp.abs(weights), axis=reduce) / jnp.float32(INT8_MAX)
    scale = jnp.maximum(scale, jnp.float32(TINY_SCALE))
    values = jnp.clip(jnp.round(weights / scale), -INT8_MAX, INT8_MAX).astype(jnp.int8)
    return QuantizedTensor(values=values, scale=scale)


def quantize_state(params: nnx.State) -> nnx.State:
    """Replace every kernel in a parameter state by a :class:`QuantizedTensor`.

    Args:
        params: an ``nnx.State`` of parameters (from ``nnx.split(model, nnx.Param, ...)``).

    Returns:
        The same tree with kernels (two or more axes) quantised and other arrays unchanged.

    Example:
        >>> from companion.nn import SeedCNN
        >>> _, params, _ = nnx.split(SeedCNN(rngs=nnx.Rngs(0)), nnx.Param, ...)
        >>> quantized = quantize_state(params)
        >>> stored_bytes(quantized) < stored_bytes(params)
        True
    """
    return jax.tree.map(lambda w: quantize_per_channel(w) if is_kernel(w) else w, params)


def dequantize_state(quantized: nnx.State) -> nnx.State:
    """Turn every :class:`QuantizedTensor` of a state back into float32 arrays.

    Args:
        quantized: a state from :func:`quantize_state`.

    Returns:
        A parameter state of float32 arrays, shaped like the original.

    Example:
        >>> from companion.nn import SeedCNN
        >>> _, params, _ = nnx.split(SeedCNN(rngs=nnx.Rngs(0)), nnx.Param, ...)
        >>> back = dequantize_state(quantize_state(params))
    """
    return jax.tree.map(
        lambda leaf: leaf.dequantize() if isinstance(leaf, QuantizedTensor) else leaf,
        quantized, is_leaf=lambda leaf: isinstance(leaf, QuantizedTensor),
    )


def stored_bytes(tree) -> int:
    """Bytes needed to store every array (or :class:`QuantizedTensor`) of a pytree.

    Args:
        tree: a pytree of arrays, e.g. a parameter state.

    Returns:
        The total number of bytes.

    Example:
        >>> stored_bytes({"w": jnp.zeros((10, 10), jnp.float32)})
        400
    """
    leaves = jax.tree.leaves(tree, is_leaf=lambda leaf: isinstance(leaf, QuantizedTensor))
    return sum(leaf.nbytes if isinstance(leaf, QuantizedTensor) else int(leaf.size * leaf.dtype.itemsize)
               for leaf in leaves)


def quantize_model(model: nnx.Module) -> tuple[nnx.Module, nnx.State]:
    """Quantise a model's kernels to int8; return a float32 model that computes with the
    dequantised weights, and the quantised state to store.

    Args:
        model: an NNX model (not changed).

    Returns:
        ``(dequantised_model, quantized_params)``: the model to evaluate and the int8 state.

    Example:
        >>> from companion.nn import SeedCNN
        >>> model_q, stored = quantize_model(SeedCNN(rngs=nnx.Rngs(0)))
        >>> model_q(jnp.zeros((1, 28, 28, 1))).shape
        (1, 10)
    """
    graphdef, params, rest = nnx.split(model, nnx.Param, ...)
    quantized = quantize_state(params)
    return nnx.merge(graphdef, dequantize_state(quantized), jax.tree.map(jnp.copy, rest)), quantized
