"""Checkers for the exercises of the chapter "Pooling"."""

from __future__ import annotations

import functools
from collections.abc import Callable

import jax
import jax.numpy as jnp
import numpy as np

from companion import formulas
from companion.check.conv import OFF_BY_ONE_SMALLER
from companion.check.harness import Case, CheckResult, Diagnosis, run_check

_SEED = 31337

# (H, W, C), size, stride, note
_POOL_CASES = (
    ((4, 4, 1), 2, None, "2x2 windows, one channel"),
    ((4, 6, 2), 2, None, "two channels"),
    ((5, 5, 1), 2, None, "odd size: the last row and column are dropped"),
    ((6, 6, 1), 3, 1, "overlapping windows, stride 1"),
    ((7, 7, 3), 3, 2, "overlapping windows, stride 2"),
    ((6, 7, 2), (2, 3), None, "rectangular windows"),
    ((9, 8, 4), 3, 3, "stride given explicitly"),
)


def _image(shape, index: int) -> jax.Array:
    rng = np.random.default_rng((_SEED, index))  # NumPy: no compilation for each new shape
    return jnp.asarray(rng.integers(-9, 10, size=shape), dtype=jnp.float32)


@functools.cache
def _pool_cases() -> tuple[Case, ...]:
    return tuple(
        Case((_image(shape, index), size), {"stride": stride}, note=note)
        for index, (shape, size, stride, note) in enumerate(_POOL_CASES)
    )


def _pair(size):
    return size if isinstance(size, tuple) else (size, size)


def _out_shape(case: Case) -> tuple[int, int]:
    x, size = case.args
    (kh, kw), stride = _pair(size), case.kwargs.get("stride")
    sh, sw = (kh, kw) if stride is None else _pair(stride)
    return (x.shape[0] - kh) // sh + 1, (x.shape[1] - kw) // sw + 1


def _one_pixel_per_window(x, size, *, stride=None):
    """The tutorial mistake: one (top-left) pixel of each window, a strided subsample."""
    (kh, kw), (sh, sw) = _pair(size), _pair(size if stride is None else stride)
    h_out, w_out = (x.shape[0] - kh) // sh + 1, (x.shape[1] - kw) // sw + 1
    return x[: sh * (h_out - 1) + 1 : sh, : sw * (w_out - 1) + 1 : sw]


def _ceil_mode(case: Case, got, expected) -> bool:
    x, size = case.args
    (kh, kw) = _pair(size)
    stride = case.kwargs.get("stride")
    sh, sw = (kh, kw) if stride is None else _pair(stride)
    ceil_shape = (-(-(x.shape[0] - kh) // sh) + 1, -(-(x.shape[1] - kw) // sw) + 1)
    return ceil_shape != _out_shape(case) and np.shape(got)[:2] == ceil_shape


def _reduced_channels(case: Case, got, expected) -> bool:
    shape = np.shape(got)
    if shape == _out_shape(case):
        return True
    return case.args[0].shape[-1] > 1 and shape == (*_out_shape(case), 1)


def _common_diagnoses(op: str) -> tuple[Diagnosis, ...]:
    ours = formulas.max_pool2d if op == "max" else formulas.avg_pool2d
    return (
        Diagnosis(
            "you ignored the stride: windows start every `stride` pixels (stride defaults to size).",
            variant=lambda x, size, *, stride=None: ours(x, size),
        ),
        Diagnosis(
            "you pooled over the channels or dropped the channel axis: pool each channel "
            "separately and return shape (H_out, W_out, C).",
            applies=_reduced_channels,
        ),
        Diagnosis(
            "you kept incomplete windows at the border (ceil mode); windows that do not fit are "
            "dropped: n_out = floor((n - size) / stride) + 1.",
            applies=_ceil_mode,
        ),
        OFF_BY_ONE_SMALLER,
    )


_MAX_DIAGNOSES = (
    Diagnosis(
        "you averaged the window; max pooling takes its maximum.",
        variant=lambda x, size, *, stride=None: formulas.avg_pool2d(x, size, stride=stride),
    ),
    Diagnosis(
        "you took a single pixel of each window (a strided subsample), not the maximum over the "
        "whole window.",
        variant=_one_pixel_per_window,
    ),
    Diagnosis(
        "you took the maximum of absolute values; max pooling keeps the sign (max of the raw values).",
        variant=lambda x, size, *, stride=None: formulas.max_pool2d(jnp.abs(x), size, stride=stride),
    ),
    *_common_diagnoses("max"),
)


def max_pool2d(fn: Callable[..., jax.Array], *, verbose: bool = True) -> CheckResult:
    """Check ``fn(x, size, *, stride=None)``, max pooling of an ``(H, W, C)`` image.

    ``size`` is an int or a ``(kh, kw)`` pair; ``stride`` defaults to ``size``; no padding.

    Diagnoses: averaging instead of the maximum, one pixel per window instead of the maximum
    (a mistake in popular tutorials), maximum of absolute values, an ignored stride, pooling
    across channels, incomplete border windows kept, and an off-by-one output size.

    Args:
        fn: the reader's function.
        verbose: print the report.

    Returns:
        The :class:`~companion.check.CheckResult`.

    Example:
        >>> from companion import formulas
        >>> max_pool2d(formulas.max_pool2d).passed
        PASS: max_pool2d (7 cases)
        True
    """
    return run_check(
        "max_pool2d", fn, formulas.max_pool2d, _pool_cases(), diagnoses=_MAX_DIAGNOSES,
        arg_names=("x", "size"), verbose=verbose,
    )


def _window_area(size) -> int:
    kh, kw = _pair(size)
    return kh * kw


_AVG_DIAGNOSES = (
    Diagnosis(
        "you took the maximum; average pooling takes the mean of the window.",
        variant=lambda x, size, *, stride=None: formulas.max_pool2d(x, size, stride=stride),
    ),
    Diagnosis(
        "you summed the window; divide by the number of pixels in it, kh * kw.",
        variant=lambda x, size, *, stride=None: formulas.avg_pool2d(x, size, stride=stride) * _window_area(size),
    ),
    Diagnosis(
        "you divided by the window side, not by its area kh * kw.",
        variant=lambda x, size, *, stride=None: (
            formulas.avg_pool2d(x, size, stride=stride) * _window_area(size) / _pair(size)[0]
        ),
    ),
    Diagnosis(
        "you took a single pixel of each window (a strided subsample), not the mean of the window.",
        variant=_one_pixel_per_window,
    ),
    *_common_diagnoses("avg"),
)


def avg_pool2d(fn: Callable[..., jax.Array], *, verbose: bool = True) -> CheckResult:
    """Check ``fn(x, size, *, stride=None)``, average pooling of an ``(H, W, C)`` image.

    Diagnoses: the maximum instead of the mean, the sum (no division), division by the window
    side instead of its area, one pixel per window, an ignored stride, pooling across
    channels, incomplete border windows kept, and an off-by-one output size.

    Args:
        fn: the reader's function.
        verbose: print the report.

    Returns:
        The :class:`~companion.check.CheckResult`.

    Example:
        >>> from companion import formulas
        >>> avg_pool2d(formulas.avg_pool2d).passed
        PASS: avg_pool2d (7 cases)
        True
    """
    return run_check(
        "avg_pool2d", fn, formulas.avg_pool2d, _pool_cases(), diagnoses=_AVG_DIAGNOSES,
        arg_names=("x", "size"), verbose=verbose,
    )


# ----------------------------------------------------------------------------------------------
# max_pool2d_grad
# ----------------------------------------------------------------------------------------------

_GRAD_CASES = (
    ((4, 4, 1), 2, None, "distinct values"),
    ((4, 4, 1), 2, None, "ties inside windows"),
    ((5, 6, 2), 2, None, "odd size, two channels"),
    ((5, 5, 1), 3, 1, "overlapping windows"),
    ((7, 6, 2), 3, 2, "overlapping windows, stride 2"),
)


@functools.cache
def _grad_cases() -> tuple[Case, ...]:
    cases = []
    for index, (shape, size, stride, note) in enumerate(_GRAD_CASES):
        if "ties" in note:
            x = jnp.array([[1.0, 3.0, 2.0, 2.0], [3.0, 0.0, 2.0, 1.0], [5.0, 5.0, 0.0, 4.0],
                           [5.0, 5.0, 4.0, 0.0]])[..., None]
        else:
            x = _image(shape, 50 + index)
            x = x + 0.01 * jnp.arange(x.size, dtype=jnp.float32).reshape(x.shape)  # no ties
        pooled = formulas.max_pool2d(x, size, stride=stride)
        upstream = _image(pooled.shape, 80 + index) + 10
        cases.append(Case((x, upstream, size), {"stride": stride}, note=note))
    return tuple(cases)


def _split_ties(x, grad_out, size, *, stride=None):
    """Gradient split evenly among tied maxima (what differentiating jnp.max does)."""
    (kh, kw), (sh, sw) = _pair(size), _pair(size if stride is None else stride)
    h_out, w_out = grad_out.shape[:2]
    grad = jnp.zeros_like(x)
    for u in range(h_out):
        for v in range(w_out):
            window = x[u * sh : u * sh + kh, v * sw : v * sw + kw]
            mask = (window == window.max(axis=(0, 1))).astype(x.dtype)
            share = mask / mask.sum(axis=(0, 1)) * grad_out[u, v]
            grad = grad.at[u * sh : u * sh + kh, v * sw : v * sw + kw].add(share)
    return grad


def _last_max(x, grad_out, size, *, stride=None):
    flipped = formulas.max_pool2d_grad(x[::-1, ::-1], grad_out[::-1, ::-1], size, stride=stride)
    return flipped[::-1, ::-1] if _out_fits_flipped(x, size, stride) else None


def _out_fits_flipped(x, size, stride) -> bool:
    (kh, kw), (sh, sw) = _pair(size), _pair(size if stride is None else stride)
    return (x.shape[0] - kh) % sh == 0 and (x.shape[1] - kw) % sw == 0


def _overwrite(x, grad_out, size, *, stride=None):
    """Overlapping windows written with .set instead of accumulated with .add."""
    (kh, kw), (sh, sw) = _pair(size), _pair(size if stride is None else stride)
    grad = jnp.zeros_like(x)
    for u in range(grad_out.shape[0]):
        for v in range(grad_out.shape[1]):
            window = x[u * sh : u * sh + kh, v * sw : v * sw + kw]
            flat = window.reshape(kh * kw, -1)
            first = jnp.argmax(flat, axis=0)
            for c in range(x.shape[-1]):
                i, j = divmod(int(first[c]), kw)
                grad = grad.at[u * sh + i, v * sw + j, c].set(grad_out[u, v, c])
    return grad


_GRAD_DIAGNOSES = (
    Diagnosis(
        "on ties you split the gradient among the tied maxima (what differentiating jnp.max "
        "does); the convention of lax.reduce_window and PyTorch routes all of it to the first "
        "maximum in row-major order.",
        variant=_split_ties,
    ),
    Diagnosis(
        "on ties you routed the gradient to the last maximum; the convention is the first one "
        "in row-major order (what argmax returns).",
        variant=_last_max,
    ),
    Diagnosis(
        "you spread each window's gradient over the whole window, as average pooling does; max "
        "pooling routes it to the argmax only.",
        variant=lambda x, g, size, *, stride=None: formulas.avg_pool2d_grad(
            g, x.shape[:2], size, stride=stride
        ) * _window_area(size),
    ),
    Diagnosis(
        "you spread each window's gradient over the whole window, as average pooling does; max "
        "pooling routes it to the argmax only.",
        variant=lambda x, g, size, *, stride=None: formulas.avg_pool2d_grad(g, x.shape[:2], size, stride=stride),
    ),
    Diagnosis(
        "where windows overlap you overwrote the gradient; an input that wins several windows "
        "collects the sum of their gradients (use .add, not .set).",
        variant=_overwrite,
    ),
)


def max_pool2d_grad(fn: Callable[..., jax.Array], *, verbose: bool = True) -> CheckResult:
    """Check ``fn(x, grad_out, size, *, stride=None)``, the gradient through max pooling.

    The result is ``dL/dx``, the shape of ``x``: each value of ``grad_out`` goes to the position
    of its window's maximum; on ties, to the first maximum in row-major order.

    Diagnoses: splitting among ties, routing to the last maximum, spreading over the window
    like average pooling, and overwriting instead of adding where windows overlap.

    Args:
        fn: the reader's function.
        verbose: print the report.

    Returns:
        The :class:`~companion.check.CheckResult`.

    Example:
        >>> from companion import formulas
        >>> max_pool2d_grad(formulas.max_pool2d_grad).passed
        PASS: max_pool2d_grad (5 cases)
        True
    """
    return run_check(
        "max_pool2d_grad", fn, formulas.max_pool2d_grad, _grad_cases(), diagnoses=_GRAD_DIAGNOSES,
        arg_names=("x", "grad_out", "size"), verbose=verbose,
    )
