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
from companion.formulas.dense import (
    dense_layer,
    dense_params,
    two_layer_backward,
    two_layer_forward,
    two_layer_loss,
)
from companion.formulas.optimizers import (
    adam_step,
    adamw_step,
    constant_schedule,
    cosine_schedule,
    momentum_step,
    nesterov_step,
    rmsprop_step,
    sgd_step,
    step_schedule,
    warmup_cosine_schedule,
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
    "adam_step",
    "adamw_step",
    "constant_schedule",
    "conv_flops",
    "conv_macs",
    "conv_output_size",
    "conv_params",
    "conv_transpose_output_size",
    "cosine_schedule",
    "dense_layer",
    "dense_params",
    "gelu",
    "gelu_grad",
    "gelu_tanh",
    "gelu_tanh_grad",
    "leaky_relu",
    "log_softmax",
    "momentum_step",
    "nesterov_step",
    "pool_output_size",
    "receptive_field",
    "relu",
    "relu_grad",
    "rmsprop_step",
    "same_padding",
    "sgd_step",
    "sigmoid",
    "sigmoid_grad",
    "softmax",
    "softmax_jacobian",
    "step_schedule",
    "tanh",
    "tanh_grad",
    "two_layer_backward",
    "two_layer_forward",
    "two_layer_loss",
    "warmup_cosine_schedule",
]
