"""Homework checkers: run a reader's function on many cases against the reference formulas.

Each checker takes the reader's function, prints ``PASS: <name> (<n> cases)`` or the first
failing case with its inputs, the expected and actual output and the likely cause, and returns a
:class:`CheckResult`. A reader's exception, NaN, wrong shape or wrong dtype is reported, never
raised.

Example:
    >>> from companion import check
    >>> result = check.softmax(my_softmax)  # doctest: +SKIP
    PASS: softmax (14 cases)
"""

from companion.check.conv import conv2d, conv_output_size, convolve2d
from companion.check.dense import (
    dense_layer,
    dense_params,
    neuron,
    sigmoid_grad,
    two_layer_backward,
)
from companion.check.harness import Case, CheckResult, Diagnosis, describe, run_check
from companion.check.losses import (
    binary_cross_entropy_with_logits,
    half_mse,
    mse,
    softmax,
    softmax_cross_entropy,
)
from companion.check.optim import adam_step, adamw_step, momentum_step, sgd_step
from companion.check.pooling import avg_pool2d, max_pool2d, max_pool2d_grad
from companion.check.shapes import cnn_params, flatten_size

__all__ = [
    "Case",
    "CheckResult",
    "Diagnosis",
    "adam_step",
    "adamw_step",
    "avg_pool2d",
    "binary_cross_entropy_with_logits",
    "cnn_params",
    "conv2d",
    "conv_output_size",
    "convolve2d",
    "dense_layer",
    "dense_params",
    "describe",
    "flatten_size",
    "half_mse",
    "max_pool2d",
    "max_pool2d_grad",
    "momentum_step",
    "mse",
    "neuron",
    "run_check",
    "sgd_step",
    "sigmoid_grad",
    "softmax",
    "softmax_cross_entropy",
    "two_layer_backward",
]
