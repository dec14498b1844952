"""Checkers for the exercises of the chapter "Convolution".

Each checker runs the reader's function on small cases (the first ones are tiny, so a failure is
easy to read) against :mod:`companion.formulas` and names the likely cause of a mismatch.
"""

from __future__ import annotations

import functools
from collections.abc import Callable

import jax
import jax.numpy as jnp
import numpy as np

from companion import formulas
from companion.check.harness import Case, CheckResult, Diagnosis, run_check

_SEED = 20240  # fixed, so every run shows the same cases


def _grid(shape, index: int) -> jax.Array:
    """Small integer-valued float32 array, easy to read in a report."""
    rng = np.random.default_rng((_SEED, index))  # NumPy: no compilation for each new shape
    return jnp.asarray(rng.integers(-3, 4, size=shape), dtype=jnp.float32)


# ----------------------------------------------------------------------------------------------
# conv_output_size
# ----------------------------------------------------------------------------------------------

_SIZE_CASES = (
    # n, k, stride, padding, dilation: from the simplest to cases where floor and dilation matter
    (28, 3, 1, 0, 1),
    (5, 3, 1, 2, 1),
    (32, 5, 1, 2, 1),
    (7, 3, 2, 0, 1),
    (8, 3, 2, 1, 1),
    (224, 7, 2, 3, 1),
    (9, 3, 1, 0, 2),
    (10, 4, 3, 2, 1),
    (13, 5, 3, 1, 2),
    (6, 1, 2, 0, 1),
)


def _size_cases() -> list[Case]:
    return [
        Case((n, k), {"stride": s, "padding": p, "dilation": d})
        for n, k, s, p, d in _SIZE_CASES
    ]


def _size_variant(formula: Callable[[int, int, int, int, int], int]):
    def variant(n, k, *, stride=1, padding=0, dilation=1):
        return formula(n, k, stride, padding, dilation)

    return variant


_SIZE_DIAGNOSES = (
    Diagnosis(
        "off by one in the output size: you forgot the + 1 (the first window position counts too).",
        variant=_size_variant(lambda n, k, s, p, d: (n + 2 * p - d * (k - 1) - 1) // s),
    ),
    Diagnosis(
        "padding p is added on each side of the input: use n + 2p, not n + p.",
        variant=_size_variant(lambda n, k, s, p, d: (n + p - d * (k - 1) - 1) // s + 1),
    ),
    Diagnosis(
        "you ignored the dilation: a kernel of size k with dilation d spans d(k - 1) + 1 pixels.",
        variant=_size_variant(lambda n, k, s, p, d: (n + 2 * p - k) // s + 1),
    ),
    Diagnosis(
        "you rounded up; the formula rounds down (floor): windows that do not fit are dropped.",
        variant=_size_variant(lambda n, k, s, p, d: -(-(n + 2 * p - d * (k - 1) - 1) // s) + 1),
    ),
    Diagnosis(
        "off by one in the output size: the dilated kernel covers d(k - 1) + 1 pixels, so subtract "
        "d(k - 1) + 1 before dividing by the stride, then add 1.",
        variant=_size_variant(lambda n, k, s, p, d: (n + 2 * p - d * (k - 1)) // s + 1),
    ),
    Diagnosis(
        "you ignored the stride: divide by s.",
        variant=_size_variant(lambda n, k, s, p, d: n + 2 * p - d * (k - 1)),
    ),
)


def conv_output_size(fn: Callable[..., int], *, verbose: bool = True) -> CheckResult:
    """Check ``fn(n, k, *, stride, padding, dilation) -> int``, the output length of a convolution.

    Diagnoses: a missing ``+ 1``, a wrong ``- 1``, padding counted once, ignored dilation or
    stride, rounding up instead of down, and a float result (use ``//``).

    Args:
        fn: the reader's function.
        verbose: print the report.

    Returns:
        The :class:`~companion.check.CheckResult`.

    Example:
        >>> def my_size(n, k, *, stride=1, padding=0, dilation=1):
        ...     return (n + 2 * padding - dilation * (k - 1) - 1) // stride + 1
        >>> conv_output_size(my_size).passed
        PASS: conv_output_size (10 cases)
        True
    """
    return run_check(
        "conv_output_size", fn, formulas.conv_output_size, _size_cases(),
        diagnoses=_SIZE_DIAGNOSES, arg_names=("n", "k"), output="int", verbose=verbose,
    )


# ----------------------------------------------------------------------------------------------
# shape predicates shared by the array checkers
# ----------------------------------------------------------------------------------------------


def _shape_offset(case: Case, got, expected) -> tuple[int, ...] | None:
    got_shape, want_shape = np.shape(got), np.shape(expected)
    if len(got_shape) != len(want_shape):
        return None
    return tuple(g - w for g, w in zip(got_shape, want_shape, strict=True))


def _one_smaller(case: Case, got, expected) -> bool:
    offset = _shape_offset(case, got, expected)
    return offset is not None and min(offset[:2]) == -1 and max(offset) <= 0


def _one_larger(case: Case, got, expected) -> bool:
    offset = _shape_offset(case, got, expected)
    return offset is not None and max(offset[:2]) == 1 and min(offset) >= 0


OFF_BY_ONE_SMALLER = Diagnosis(
    "off by one in the output size: your output is one row or column short; "
    "n_out = floor((n + 2p - d(k - 1) - 1) / s) + 1.",
    applies=_one_smaller,
)
OFF_BY_ONE_LARGER = Diagnosis(
    "off by one in the output size: your output has one row or column too many; "
    "n_out = floor((n + 2p - d(k - 1) - 1) / s) + 1.",
    applies=_one_larger,
)


# ----------------------------------------------------------------------------------------------
# conv2d
# ----------------------------------------------------------------------------------------------

# (H, W, C_in), (kh, kw, C_out), stride, padding, dilation, note
_CONV_CASES = (
    ((4, 4, 1), (3, 3, 1), 1, 0, 1, "one channel"),
    ((5, 5, 1), (2, 2, 1), 1, 0, 1, "bias"),
    ((5, 4, 2), (3, 3, 3), 1, 0, 1, "2 input and 3 output channels"),
    ((6, 6, 1), (3, 3, 1), 2, 0, 1, "stride 2"),
    ((5, 5, 2), (3, 3, 2), 1, 1, 1, "padding 1"),
    ((7, 7, 1), (3, 3, 1), 1, 0, 2, "dilation 2"),
    ((7, 8, 2), (2, 3, 4), 2, 1, 1, "stride 2, padding 1, rectangular kernel"),
    ((6, 5, 4), (5, 5, 1), 1, 2, 1, "5x5 kernel, padding 2"),
    ((8, 7, 3), (3, 2, 2), 3, 2, 2, "stride 3, padding 2, dilation 2"),
)


@functools.cache
def _conv_cases() -> tuple[Case, ...]:
    cases = []
    for index, (x_shape, (kh, kw, c_out), stride, padding, dilation, note) in enumerate(_CONV_CASES):
        x = _grid(x_shape, 3 * index)
        w = _grid((kh, kw, x_shape[-1], c_out), 3 * index + 1)
        b = jnp.zeros(c_out) if index == 0 else _grid((c_out,), 3 * index + 2) + 0.5
        kwargs = {"stride": stride, "padding": padding, "dilation": dilation}
        cases.append(Case((x, w, b), kwargs, note=note))
    return tuple(cases)


def _conv_variant(**overrides):
    def variant(x, w, b=None, *, stride=1, padding=0, dilation=1):
        settings = {"stride": stride, "padding": padding, "dilation": dilation}
        w = overrides.get("w", lambda w: w)(w)
        b = overrides.get("b", lambda b: b)(b)
        x = overrides.get("x", lambda x: x)(x)
        for name in ("stride", "padding", "dilation"):
            if name in overrides:
                settings[name] = overrides[name](settings[name])
        return formulas.conv2d(x, w, b, **settings)

    return variant


_CONV_DIAGNOSES = (
    Diagnosis(
        "your output matches a flipped kernel: you computed a true convolution; frameworks compute "
        "cross-correlation (slide the kernel without flipping it).",
        variant=_conv_variant(w=lambda w: w[::-1, ::-1]),
    ),
    Diagnosis("you forgot to add the bias b (one value per output channel).", variant=_conv_variant(b=lambda b: None)),
    Diagnosis(
        "you ignored the stride: move the window s pixels at a time.",
        variant=_conv_variant(stride=lambda s: 1),
    ),
    Diagnosis(
        "you ignored the padding: add p rows/columns of zeros on every side first.",
        variant=_conv_variant(padding=lambda p: 0),
    ),
    Diagnosis(
        "you padded on one side only: padding p means p zeros before *and* p after.",
        variant=_conv_variant(padding=lambda p: ((0, 2 * p), (0, 2 * p))),
    ),
    Diagnosis(
        "you padded on one side only: padding p means p zeros before *and* p after.",
        variant=_conv_variant(padding=lambda p: ((p, 0), (p, 0))),
    ),
    Diagnosis(
        "you ignored the dilation: kernel tap (i, j) reads the input at (s*u + d*i, s*v + d*j).",
        variant=_conv_variant(dilation=lambda d: 1),
    ),
    Diagnosis(
        "you used only the first input channel: sum over all input channels c.",
        variant=_conv_variant(x=lambda x: x[..., :1], w=lambda w: w[:, :, :1]),
    ),
    OFF_BY_ONE_SMALLER,
    OFF_BY_ONE_LARGER,
)


def conv2d(fn: Callable[..., jax.Array], *, verbose: bool = True) -> CheckResult:
    """Check ``fn(x, w, b, *, stride, padding, dilation)``, a 2-D cross-correlation with channels.

    ``x`` is ``(H, W, C_in)``, ``w`` is ``(kh, kw, C_in, C_out)``, ``b`` is ``(C_out,)``;
    ``padding`` is an int, zeros on every side. The result must be ``(H_out, W_out, C_out)``.

    Diagnoses: a flipped kernel (true convolution), a forgotten bias, an ignored stride,
    padding or dilation, padding on one side only, only the first input channel, and an output
    one row or column too small or too large.

    Args:
        fn: the reader's function.
        verbose: print the report.

    Returns:
        The :class:`~companion.check.CheckResult`.

    Example:
        >>> from companion import formulas
        >>> conv2d(formulas.conv2d).passed
        PASS: conv2d (9 cases)
        True
    """
    return run_check(
        "conv2d", fn, formulas.conv2d, _conv_cases(), diagnoses=_CONV_DIAGNOSES,
        arg_names=("x", "w", "b"), verbose=verbose,
    )


# ----------------------------------------------------------------------------------------------
# convolve2d
# ----------------------------------------------------------------------------------------------

_CONVOLVE_SHAPES = (((4, 4), (2, 2)), ((5, 5), (3, 3)), ((6, 5), (2, 3)), ((7, 8), (3, 2)), ((8, 8), (5, 4)))


@functools.cache
def _convolve_cases() -> tuple[Case, ...]:
    cases = []
    for index, (x_shape, k_shape) in enumerate(_CONVOLVE_SHAPES):
        cases.append(Case((_grid(x_shape, 100 + 2 * index), _grid(k_shape, 101 + 2 * index))))
    # a Sobel kernel on a step edge: correlation and convolution differ in sign
    step = jnp.tile(jnp.array([0.0, 0.0, 0.0, 1.0, 1.0, 1.0]), (5, 1))
    sobel = jnp.array([[-1.0, 0.0, 1.0], [-2.0, 0.0, 2.0], [-1.0, 0.0, 1.0]])
    cases.insert(1, Case((step, sobel), note="Sobel kernel on a vertical edge"))
    return tuple(cases)


def _valid_size(case: Case, got, which: str) -> bool:
    (h, w), (kh, kw) = case.args[0].shape, case.args[1].shape
    shapes = {"full": (h + kh - 1, w + kw - 1), "same": (h, w)}
    return np.shape(got) == shapes[which]


_CONVOLVE_DIAGNOSES = (
    Diagnosis(
        "you computed a cross-correlation (what frameworks call convolution): a true convolution "
        "flips the kernel by 180 degrees, k[::-1, ::-1], before sliding it.",
        variant=lambda x, k: formulas.correlate2d(x, k),
    ),
    Diagnosis(
        "you flipped the kernel along one axis only: flip both its rows and its columns.",
        variant=lambda x, k: formulas.correlate2d(x, k[::-1, :]),
    ),
    Diagnosis(
        "you flipped the kernel along one axis only: flip both its rows and its columns.",
        variant=lambda x, k: formulas.correlate2d(x, k[:, ::-1]),
    ),
    Diagnosis(
        "you transposed the kernel; flipping means reversing its rows and columns, k[::-1, ::-1].",
        variant=lambda x, k: formulas.correlate2d(x, k.T) if k.shape[0] == k.shape[1] else None,
    ),
    Diagnosis(
        "you returned the 'full' convolution (zero-padded by k - 1); this exercise wants 'valid': "
        "only positions where the kernel lies entirely inside the image.",
        applies=lambda case, got, expected: _valid_size(case, got, "full"),
    ),
    Diagnosis(
        "you returned a 'same'-size output; this exercise wants 'valid' (no padding), of shape "
        "(H - kh + 1, W - kw + 1).",
        applies=lambda case, got, expected: _valid_size(case, got, "same"),
    ),
    OFF_BY_ONE_SMALLER,
    OFF_BY_ONE_LARGER,
)


def convolve2d(fn: Callable[..., jax.Array], *, verbose: bool = True) -> CheckResult:
    """Check ``fn(x, k)``, a true 2-D convolution (flipped kernel), single channel, 'valid'.

    ``x`` is ``(H, W)`` and ``k`` is ``(kh, kw)``; the result must be ``(H - kh + 1, W - kw + 1)``.

    Diagnoses: cross-correlation (no flip), a flip along one axis only, a transposed kernel,
    'full' or 'same' output instead of 'valid', and an off-by-one output size.

    Args:
        fn: the reader's function.
        verbose: print the report.

    Returns:
        The :class:`~companion.check.CheckResult`.

    Example:
        >>> from companion import formulas
        >>> convolve2d(formulas.convolve2d).passed
        PASS: convolve2d (6 cases)
        True
    """
    return run_check(
        "convolve2d", fn, formulas.convolve2d, _convolve_cases(), diagnoses=_CONVOLVE_DIAGNOSES,
        arg_names=("x", "k"), verbose=verbose,
    )
