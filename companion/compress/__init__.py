"""Smaller and faster models: int8 quantisation, magnitude pruning, distillation, export, latency.

Example:
    >>> import jax.numpy as jnp
    >>> from companion import compress
    >>> compress.quantize_per_channel(jnp.array([[1.0, -0.5]])).values.tolist()
    [[127, -127]]
"""

from companion.compress.distill import distillation_loss
from companion.compress.export import export_model, load_exported, stablehlo_text
from companion.compress.latency import measure_latency
from companion.compress.prune import kernel_sparsity, magnitude_prune
from companion.compress.quantize import (
    QuantizedTensor,
    dequantize_state,
    quantize_model,
    quantize_per_channel,
    quantize_state,
    stored_bytes,
)

__all__ = [
    "QuantizedTensor",
    "dequantize_state",
    "distillation_loss",
    "export_model",
    "kernel_sparsity",
    "load_exported",
    "magnitude_prune",
    "measure_latency",
    "quantize_model",
    "quantize_per_channel",
    "quantize_state",
    "stablehlo_text",
    "stored_bytes",
]
