"""Checkers for the exercises of the chapter "Shapes, sizes and common mistakes".

The references are built from :func:`companion.formulas.conv_output_size` and
:func:`companion.formulas.pool_output_size`.

Example:
    >>> from companion import check
    >>> check.flatten_size(my_flatten_size)  # doctest: +SKIP
    PASS: flatten_size (7 cases)
"""

from __future__ import annotations

import math
from collections.abc import Callable

from companion.check.harness import Case, CheckResult, Diagnosis, run_check
from companion.formulas import sizes

__all__ = ["cnn_params", "flatten_size"]

KERNEL = 3
"""The convolution kernel size of the exercises' blocks (3x3)."""
POOL = 2
"""The max-pooling window and stride of the exercises' blocks (2x2, stride 2)."""
_PADDING = {"same": (KERNEL - 1) // 2, "valid": 0}


def _check_padding(padding: str) -> int:
    if padding not in _PADDING:
        raise ValueError(f"padding must be 'same' or 'valid'; got {padding!r}")
    return _PADDING[padding]


def _side(n: int, blocks: int, padding: str) -> int:
    for _ in range(blocks):
        n = sizes.conv_output_size(n, KERNEL, padding=_check_padding(padding))
        n = sizes.pool_output_size(n, POOL)
    return n


def _flatten_size(n: int, *, blocks: int, channels: int, padding: str) -> int:
    side = _side(n, blocks, padding)
    return side * side * channels


def _flatten_variant(*, conv=None, pool=None, use_channels=True):
    """``flatten_size`` with one classic mistake: a wrong conv rule, pool rule or no channels."""

    def variant(n, *, blocks, channels, padding):
        for _ in range(blocks):
            n = conv(n, padding) if conv else sizes.conv_output_size(
                n, KERNEL, padding=_PADDING[padding]
            )
            n = pool(n) if pool else n // POOL
        return n * n * (channels if use_channels else 1)

    return variant


def flatten_size(fn: Callable) -> CheckResult:
    """Check ``fn(n, *, blocks, channels, padding) -> int``, the length after ``Flatten``.

    An ``n`` x ``n`` image goes through ``blocks`` blocks of [3x3 convolution with ``padding``
    (``"same"`` or ``"valid"``), 2x2 max pooling with stride 2]; the last convolution has
    ``channels`` filters. The function returns the length of the flattened feature map,
    :math:`H \\cdot W \\cdot C`. Recognised mistakes: "same" convolutions treated as "valid" (the
    tutorial mistake 64·6·6 for a 32x32 input, instead of 64·8·8), "valid" treated as "same",
    pooling that rounds up, the pooling forgotten, the channels forgotten.

    Args:
        fn: the reader's function.

    Returns:
        The :class:`CheckResult`; the report is printed.

    Example:
        >>> flatten_size(lambda n, *, blocks, channels, padding: 4096).passed  # doctest: +SKIP
        False
    """
    cases = [
        Case((32,), {"blocks": 2, "channels": 64, "padding": "same"}, note="CIFAR-10, 'same'"),
        Case((28,), {"blocks": 2, "channels": 64, "padding": "valid"}, note="MNIST, 'valid'"),
        Case((28,), {"blocks": 1, "channels": 32, "padding": "same"}, note="one block"),
        Case((7,), {"blocks": 1, "channels": 8, "padding": "same"}, note="an odd size"),
        Case((33,), {"blocks": 2, "channels": 16, "padding": "valid"}, note="odd sizes"),
        Case((64,), {"blocks": 3, "channels": 128, "padding": "same"}, note="three blocks"),
        Case((32,), {"blocks": 3, "channels": 10, "padding": "valid"}, note="three blocks"),
    ]
    valid = lambda n, padding: n - (KERNEL - 1)
    same = lambda n, padding: n
    wrong = [
        Diagnosis("you shrank the 'same' convolutions by 2 as if they were 'valid': 'same' "
                  "padding keeps the size (32 -> 32 -> 16 -> 16 -> 8, so 64*8*8, not 64*6*6)",
                  variant=_flatten_variant(conv=valid)),
        Diagnosis("'valid' convolutions shrink the size by k - 1 = 2 (28 -> 26); you kept it",
                  variant=_flatten_variant(conv=same)),
        Diagnosis("pooling rounds down: a 2x2 window with stride 2 drops an odd last row "
                  "(7 -> 3, not 4)", variant=_flatten_variant(pool=lambda n: math.ceil(n / POOL))),
        Diagnosis("the pooling is missing: each 2x2 pool halves the height and the width",
                  variant=_flatten_variant(pool=lambda n: n)),
        Diagnosis("the channels are missing: the length is height * width * channels",
                  variant=_flatten_variant(use_channels=False)),
    ]
    return run_check("flatten_size", fn, _flatten_size, cases, diagnoses=wrong, arg_names=("n",),
                     output="int")


def _cnn_params(n: int, *, in_channels: int, widths: tuple[int, ...], classes: int,
                padding: str) -> int:
    total, c_in = 0, in_channels
    for width in widths:
        total += sizes.conv_params(KERNEL, KERNEL, c_in, width)
        c_in = width
    flat = _flatten_size(n, blocks=len(widths), channels=c_in, padding=padding)
    return total + flat * classes + classes


def _params_variant(*, conv_bias=True, dense_bias=True, c_in_first=None, flatten=None):
    def variant(n, *, in_channels, widths, classes, padding):
        total, c_in = 0, in_channels if c_in_first is None else c_in_first
        for width in widths:
            total += KERNEL * KERNEL * c_in * width + (width if conv_bias else 0)
            c_in = width
        flat = (flatten or _flatten_size)(n, blocks=len(widths), channels=c_in, padding=padding)
        return total + flat * classes + (classes if dense_bias else 0)

    return variant


def cnn_params(fn: Callable) -> CheckResult:
    """Check ``fn(n, *, in_channels, widths, classes, padding) -> int``, a small CNN's size.

    The network: for each ``width`` in ``widths``, a 3x3 convolution with ``width`` filters and
    biases, ``padding`` ``"same"`` or ``"valid"``, a ReLU and a 2x2 max pool; then ``Flatten``
    and one dense layer to ``classes`` outputs with biases. The input is ``n`` x ``n`` with
    ``in_channels`` channels. Recognised mistakes: missing convolution biases, missing dense
    biases, the input channels ignored in the first convolution, and a flatten size computed
    as if "same" convolutions were "valid".

    Args:
        fn: the reader's function.

    Returns:
        The :class:`CheckResult`; the report is printed.

    Example:
        >>> cnn_params(lambda n, **kw: 0).passed  # doctest: +SKIP
        False
    """
    cases = [
        Case((28,), {"in_channels": 1, "widths": (8,), "classes": 10, "padding": "valid"},
             note="one block, MNIST"),
        Case((32,), {"in_channels": 3, "widths": (32, 64), "classes": 10, "padding": "same"},
             note="two blocks, CIFAR-10"),
        Case((28,), {"in_channels": 1, "widths": (32, 64), "classes": 10, "padding": "valid"},
             note="two blocks, MNIST"),
        Case((64,), {"in_channels": 3, "widths": (16, 32, 64), "classes": 5, "padding": "same"},
             note="three blocks"),
    ]
    valid_flatten = _flatten_variant(conv=lambda n, padding: n - (KERNEL - 1))
    wrong = [
        Diagnosis("the convolution biases are missing: each filter has one bias",
                  variant=_params_variant(conv_bias=False)),
        Diagnosis("the dense layer's biases are missing: one per class",
                  variant=_params_variant(dense_bias=False)),
        Diagnosis("the first convolution's filters have in_channels input channels each; you "
                  "counted one", variant=_params_variant(c_in_first=1)),
        Diagnosis("the flatten size treats 'same' convolutions as 'valid'; 'same' keeps the size",
                  variant=_params_variant(flatten=valid_flatten)),
    ]
    return run_check("cnn_params", fn, _cnn_params, cases, diagnoses=wrong, arg_names=("n",),
                     output="int")
