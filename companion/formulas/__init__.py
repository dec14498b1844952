"""Readable reference implementations of every formula in the book, with shape and cost arithmetic.

Each function is written to be read (loops or ``einsum``), names its chapter, and is tested
against ``jax.lax``, ``jax.grad`` and optax.

Example:
    >>> from companion import formulas
    >>> formulas.conv_output_size(28, 3)
    26
"""

from companion.formulas.activations import (
    gelu,
    gelu_grad,
    gelu_tanh,
    gelu_tanh_grad,
    leaky_relu,
    log_softmax,
    relu,
    relu_grad,
    sigmoid,
    sigmoid_grad,
    softmax,
    softmax_jacobian,
    tanh,
    tanh_grad,
)
from companion.formulas.sizes import (
    conv_flops,
    conv_macs,
    conv_output_size,
    conv_params,
    conv_transpose_output_size,
    pool_output_size,
    receptive_field,
    same_padding,
)

__all__ = [
    "conv_flops",
    "conv_macs",
    "conv_output_size",
    "conv_params",
    "conv_transpose_output_size",
    "gelu",
    "gelu_grad",
    "gelu_tanh",
    "gelu_tanh_grad",
    "leaky_relu",
    "log_softmax",
    "pool_output_size",
    "receptive_field",
    "relu",
    "relu_grad",
    "same_padding",
    "sigmoid",
    "sigmoid_grad",
    "softmax",
    "softmax_jacobian",
    "tanh",
    "tanh_grad",
]
