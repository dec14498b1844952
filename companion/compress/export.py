"""Export a model with ``jax.export`` to serialized StableHLO, and load it back.

The exported artefact holds the computation and the weights (as constants). It runs without the
model's Python code, on any platform listed at export time, and ``jax.export.deserialize``
turns it back into a callable.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import jax
import jax.numpy as jnp
from flax import nnx
from jax import export

BATCH_SYMBOL = "batch"


def export_model(
    model: nnx.Module, *, input_shape: Sequence[int], dtype=jnp.float32, platforms: Sequence[str] | None = None,
) -> bytes:
    """Serialize ``model``'s evaluation-mode forward pass to StableHLO bytes, any batch size.

    Args:
        model: an NNX model mapping ``(N, *input_shape)`` inputs to outputs.
        input_shape: the shape of one example, e.g. ``(28, 28, 1)``; the batch axis is symbolic.
        dtype: the input dtype.
        platforms: platforms to lower for, e.g. ``("cpu", "cuda")``; default: the current one.

    Returns:
        The serialized ``jax.export.Exported``.

    Example:
        >>> from companion.nn import SeedCNN
        >>> blob = export_model(SeedCNN(rngs=nnx.Rngs(0)), input_shape=(28, 28, 1))
        >>> load_exported(blob)(jnp.zeros((3, 28, 28, 1))).shape
        (3, 10)
    """
    input_shape = tuple(input_shape)
    if not input_shape or not all(isinstance(s, int) and s > 0 for s in input_shape):
        raise ValueError(f"input_shape must be a tuple of positive ints (one example); got {input_shape!r}")
    view = nnx.view(model, raise_if_not_found=False, deterministic=True, use_running_average=True)
    graphdef, state = nnx.split(view)

    def forward(x):
        return nnx.merge(graphdef, state)(x)

    (batch,) = export.symbolic_shape(BATCH_SYMBOL)
    spec = jax.ShapeDtypeStruct((batch, *input_shape), dtype)
    kwargs = {} if platforms is None else {"platforms": tuple(platforms)}
    return bytes(export.export(jax.jit(forward), **kwargs)(spec).serialize())


def load_exported(data: bytes) -> Callable[[jax.Array], jax.Array]:
    """Deserialize bytes from :func:`export_model` into a callable.

    Args:
        data: the serialized export.

    Returns:
        A function from inputs ``(N, *input_shape)`` to the model's outputs.

    Example:
        >>> from companion.nn import SeedCNN
        >>> run = load_exported(export_model(SeedCNN(rngs=nnx.Rngs(0)), input_shape=(28, 28, 1)))
    """
    if not isinstance(data, bytes | bytearray):
        raise TypeError(f"data must be bytes from export_model; got {type(data).__name__}")
    return export.deserialize(bytearray(data)).call


def stablehlo_text(model: nnx.Module, *, input_shape: Sequence[int], dtype=jnp.float32) -> str:
    """The StableHLO module of the exported forward pass, as text (for reading, not running).

    Args:
        model: an NNX model.
        input_shape: the shape of one example.
        dtype: the input dtype.

    Returns:
        The MLIR text of the module.

    Example:
        >>> from companion.nn import SeedCNN
        >>> "stablehlo" in stablehlo_text(SeedCNN(rngs=nnx.Rngs(0)), input_shape=(28, 28, 1))
        True
    """
    return export.deserialize(bytearray(export_model(model, input_shape=input_shape, dtype=dtype))).mlir_module()
