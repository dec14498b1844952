"""The checker harness: run a reader's function on many cases and explain the first failure.

Every checker in :mod:`companion.check` is a thin wrapper around :func:`run_check`: a list of
:class:`Case` inputs, a reference implementation from :mod:`companion.formulas`, and a list of
:class:`Diagnosis` entries, known-wrong variants tried in order to name the likely cause of a
mismatch. The harness never raises because of the reader's code and never shows the reference's
source, only its outputs.
"""

from __future__ import annotations

import dataclasses
import math
import traceback
from collections.abc import Callable, Mapping, Sequence
from typing import Any, Literal

import jax
import numpy as np

DEFAULT_RTOL = 1e-4
"""Relative tolerance of value comparisons (float32 sums of a few hundred terms stay within it)."""
DEFAULT_ATOL = 1e-5
"""Absolute tolerance of value comparisons."""
MAX_SHOWN_ELEMENTS = 36
"""Arrays up to this many elements are printed in full; larger ones are summarised."""
_REPR_LENGTH = 72
_INDENT = "  "
_LOW_PRECISION = ("float16", "bfloat16")


@dataclasses.dataclass(frozen=True)
class CheckResult:
    """The outcome of a checker: whether every case passed, and the report that was printed.

    Attributes:
        passed: ``True`` when the reader's function matched the reference on every case.
        message: the full report: ``"PASS: <name> (<n> cases)"`` or the first failing case with
            its inputs, the expected and the actual output, and the likely cause.

    Example:
        >>> result = CheckResult(True, "PASS: softmax (12 cases)")
        >>> bool(result), result
        (True, CheckResult(passed=True, message='PASS: softmax (12 cases)'))
    """

    passed: bool
    message: str

    def __bool__(self) -> bool:
        return self.passed

    def __repr__(self) -> str:
        first = self.message.splitlines()[0] if self.message else ""
        if len(first) > _REPR_LENGTH or "\n" in self.message:
            first = first[: _REPR_LENGTH - 3].rstrip() + "..."
        return f"CheckResult(passed={self.passed}, message={first!r})"


@dataclasses.dataclass(frozen=True)
class Case:
    """One set of inputs for the reader's function and the reference.

    Attributes:
        args: positional arguments (arrays are passed as ``jax.Array``).
        kwargs: keyword arguments.
        note: a few words on what the case tests, shown when it fails (e.g. ``"large logits"``).

    Example:
        >>> Case((np.zeros(3),), {"axis": -1}, note="all equal").note
        'all equal'
    """

    args: tuple = ()
    kwargs: Mapping[str, Any] = dataclasses.field(default_factory=dict)
    note: str = ""


@dataclasses.dataclass(frozen=True)
class Diagnosis:
    """A likely cause of a wrong answer, recognised by a known-wrong variant or a predicate.

    The harness tries diagnoses in order on the first failing case; the first that matches
    names the cause. A ``variant`` matches when it returns the reader's output (same shape,
    values within tolerance, NaN where the reader has NaN); ``applies(case, got, expected)``
    matches when it returns ``True``.

    Attributes:
        cause: the explanation printed to the reader.
        variant: a wrong implementation with the reference's signature, or ``None``.
        applies: a predicate ``(case, got, expected) -> bool``, or ``None``.

    Example:
        >>> wrong_axis = Diagnosis("softmax over the wrong axis", variant=lambda z, axis=-1: z)
    """

    cause: str
    variant: Callable[..., Any] | None = None
    applies: Callable[[Case, Any, Any], bool] | None = None

    def matches(self, case: Case, got: Any, expected: Any, *, rtol: float, atol: float) -> bool:
        """Whether this diagnosis explains ``got`` on ``case``.

        Args:
            case: the failing case.
            got: the reader's output (any type).
            expected: the reference output.
            rtol: relative tolerance.
            atol: absolute tolerance.

        Returns:
            ``True`` when the variant reproduces ``got`` or the predicate holds.

        Example:
            >>> d = Diagnosis("adds one", variant=lambda n: n + 1)
            >>> d.matches(Case((3,)), 4, 3, rtol=0.0, atol=0.0)
            True
        """
        try:
            if self.applies is not None and self.applies(case, got, expected):
                return True
            if self.variant is None:
                return False
            wrong = self.variant(*case.args, **dict(case.kwargs))
            return _same(got, wrong, rtol=rtol, atol=atol)
        except Exception:  # a variant that cannot run on this case simply does not match
            return False


def _same(a: Any, b: Any, *, rtol: float, atol: float) -> bool:
    a_array, b_array = _to_numpy(a), _to_numpy(b)
    if a_array is None or b_array is None or a_array.shape != b_array.shape:
        return False
    if a_array.dtype.kind not in "fiub" or b_array.dtype.kind not in "fiub":
        return False
    return bool(
        np.allclose(
            a_array.astype(np.float64), b_array.astype(np.float64),
            rtol=rtol, atol=atol, equal_nan=True,
        )
    )


def _to_numpy(value: Any) -> np.ndarray | None:
    numeric = (jax.Array, np.ndarray, np.generic, int, float)
    if isinstance(value, numeric) and not isinstance(value, bool):
        array = np.asarray(value)
        return array if array.dtype.kind in "fiub" else None
    return None


def describe(value: Any, *, name: str = "") -> str:
    """Format an input or output for a report: small arrays in full, large ones summarised.

    Arrays of three or more axes whose last axis has size 1 (one channel) are shown without it,
    as ``x[..., 0]``, so that a single-channel image prints as a matrix.

    Args:
        value: an array, a number or anything else.
        name: the label to print before the value.

    Returns:
        A possibly multi-line string.

    Example:
        >>> print(describe(np.arange(3.0), name="z"))
        z: float64 (3,) = [0. 1. 2.]
    """
    array = _to_numpy(value) if not isinstance(value, (int, float)) else None
    label = name
    if array is None:
        text = repr(value)
        return f"{label}: {text}" if label else text
    header = f"{array.dtype} {tuple(array.shape)}"
    shown, squeezed = array, 0
    while shown.ndim >= 3 and shown.shape[-1] == 1:
        shown, squeezed = shown[..., 0], squeezed + 1
    if squeezed:
        label += "[..., " + ", ".join(["0"] * squeezed) + "]"
    if shown.size <= MAX_SHOWN_ELEMENTS:
        body = np.array2string(shown, precision=4, suppress_small=True, max_line_width=90)
        if "\n" in body:
            body = "\n" + "\n".join(_INDENT * 2 + line for line in body.splitlines())
        text = f"{header} = {body}" if label == name else f"{header}; {label} = {body}"
    else:
        finite = shown[np.isfinite(shown)] if shown.dtype.kind == "f" else shown
        span = "no finite values"
        if finite.size:
            span = f"values in [{finite.min():.4g}, {finite.max():.4g}]"
        text = f"{header}, {span}"
    return f"{name}: {text}" if name else text


def _returned_kind(got: Any) -> str | None:
    """Return a complaint when ``got`` is not an array or number, else ``None``."""
    if got is None:
        return "returned None: did you forget the return statement?"
    if isinstance(got, bool):
        return "returned a bool, not an array or number"
    if isinstance(got, (list, tuple)):
        kind = type(got).__name__
        return f"returned a {kind}, not an array: wrap it with jnp.asarray(...) or np.array(...)"
    if _to_numpy(got) is None:
        return f"returned a {type(got).__name__}, not an array of numbers"
    return None


def _first_problem(
    got: Any, expected: Any, *, output: str, rtol: float, atol: float
) -> tuple[str, str] | None:
    """Compare one output with the expected one; return (kind, explanation) of the first problem."""
    complaint = _returned_kind(got)
    if complaint:
        return "type", complaint
    got_array, want = np.asarray(got), np.asarray(expected)
    if output == "int":
        if got_array.shape != () or got_array.dtype.kind not in "iu":
            what = str(got_array.dtype)
            if got_array.shape:
                what = f"a {got_array.dtype} array of shape {got_array.shape}"
            return "dtype", f"expected an integer, got {what}: use // (floor division), not /"
        if int(got_array) != int(want):
            return "value", "wrong value"
        return None
    if want.dtype.kind == "f" and got_array.dtype.kind in "iub":
        return "dtype", (
            f"expected a floating array ({want.dtype}), got {got_array.dtype}: "
            "was the output created with an integer dtype, or rounded?"
        )
    if want.dtype.kind in "iu" and got_array.dtype.kind not in "iu":
        return "dtype", f"expected an integer array ({want.dtype}), got {got_array.dtype}"
    if str(got_array.dtype) in _LOW_PRECISION:
        return "dtype", f"expected {want.dtype}, got the low-precision {got_array.dtype}"
    if got_array.shape != want.shape:
        return "shape", f"wrong shape: expected {want.shape}, got {got_array.shape}"
    got64, want64 = got_array.astype(np.float64), want.astype(np.float64)
    bad = ~np.isfinite(got64) & np.isfinite(want64)
    if bad.any():
        index = tuple(int(i) for i in np.argwhere(bad)[0])
        return "finite", f"NaN or inf at index {index}; the expected value is {want64[index]:.6g}"
    close = np.isclose(got64, want64, rtol=rtol, atol=atol, equal_nan=True)
    if not close.all():
        index = tuple(int(i) for i in np.argwhere(~close)[0])
        where = f" at index {index}" if index else ""
        return "value", (
            f"values differ{where}: expected {want64[index]:.6g}, got {got64[index]:.6g} "
            f"(tolerance rtol={rtol:g}, atol={atol:g}); "
            f"{int((~close).sum())} of {close.size} values differ"
        )
    return None


_GENERIC_CAUSES = {
    "type": "return the result itself, as an array or a number.",
    "dtype": "check the dtype of the array you create for the output.",
    "shape": "check the output-size formula and which axes you reduce over.",
    "finite": "an overflow, log(0) or 0/0: look for exp of large numbers and divisions.",
    "value": "compare your loop bounds and indices with the formula in the chapter.",
}


def _exception_cause(error: BaseException, kwargs: Mapping[str, Any]) -> str:
    if isinstance(error, NotImplementedError):
        return "not implemented yet: replace the `raise NotImplementedError` line with your code."
    text = str(error)
    if "broadcast" in text.lower() or "operands could not be" in text:
        return (
            "shapes do not line up: reduce with keepdims=True so that the result broadcasts "
            "against the array it came from, and check the axis you reduce over."
        )
    if isinstance(error, TypeError) and ("argument" in text or "positional" in text):
        names = ", ".join(f"{k}=" for k in kwargs) or "no keyword arguments"
        return f"check your function's signature: the checker passes {names}"
    return "your function raised an exception on this input; run it on these inputs to debug."


def _where_raised(error: BaseException) -> str:
    frames = traceback.extract_tb(error.__traceback__)
    reader = [f for f in frames if "companion/check" not in f.filename.replace("\\", "/")]
    if not reader:
        return ""
    last = reader[-1]
    return f" (line {last.lineno}: {last.line.strip()})" if last.line else f" (line {last.lineno})"


def run_check(
    name: str,
    fn: Callable[..., Any],
    reference: Callable[..., Any],
    cases: Sequence[Case],
    *,
    diagnoses: Sequence[Diagnosis] = (),
    arg_names: Sequence[str] = (),
    output: Literal["array", "int"] = "array",
    rtol: float = DEFAULT_RTOL,
    atol: float = DEFAULT_ATOL,
    verbose: bool = True,
) -> CheckResult:
    """Run ``fn`` and ``reference`` on every case; report PASS or the first failing case.

    A case fails when ``fn`` raises, returns something that is not an array or number, returns
    the wrong dtype kind (e.g. integers for a floating result) or a low-precision float, the
    wrong shape, NaN or inf where the reference is finite, or values outside the tolerance.
    ``float64`` output is accepted where the reference gives ``float32``. For a failing case
    the diagnoses are tried in order to name the likely cause.

    Args:
        name: the function's name, used in the report.
        fn: the reader's function.
        reference: the correct implementation (its source is never shown).
        cases: inputs, from the simplest to the hardest, so the first failure is easy to read.
        diagnoses: likely causes, tried in order.
        arg_names: names of the positional arguments, for the report (e.g. ``("x", "w")``).
        output: ``"array"`` for array or floating scalar results, ``"int"`` for exact integers.
        rtol: relative tolerance.
        atol: absolute tolerance.
        verbose: print the report (it is also in the returned message).

    Returns:
        The :class:`CheckResult`.

    Example:
        >>> result = run_check("double", lambda x: 2 * x, lambda x: x + x,
        ...                    [Case((np.arange(3.0),))], verbose=False)
        >>> result
        CheckResult(passed=True, message='PASS: double (1 cases)')
    """
    if not callable(fn):
        message = (
            f"FAIL: {name}: expected a function, got {type(fn).__name__}; "
            "pass the function itself, without ()"
        )
        return _finish(CheckResult(False, message), verbose)
    for number, case in enumerate(cases, start=1):
        expected = reference(*case.args, **dict(case.kwargs))
        problem, got = None, None
        try:
            got = fn(*case.args, **dict(case.kwargs))
        except Exception as error:  # the reader's bug is reported, never raised
            detail = f": {error}" if str(error) else ""
            problem = ("raised", f"raised {type(error).__name__}{detail}{_where_raised(error)}")
            cause = _exception_cause(error, case.kwargs)
        else:
            problem = _first_problem(got, expected, output=output, rtol=rtol, atol=atol)
            if problem is not None:
                cause = next(
                    (
                        d.cause
                        for d in diagnoses
                        if d.matches(case, got, expected, rtol=rtol, atol=atol)
                    ),
                    _GENERIC_CAUSES[problem[0]],
                )
        if problem is None:
            continue
        message = _report(name, number, len(cases), case, expected, got, problem, cause, arg_names)
        return _finish(CheckResult(False, message), verbose)
    return _finish(CheckResult(True, f"PASS: {name} ({len(cases)} cases)"), verbose)


def _report(name, number, total, case, expected, got, problem, cause, arg_names) -> str:
    note = f" ({case.note})" if case.note else ""
    lines = [f"FAIL: {name}, case {number} of {total}{note}", f"{_INDENT}inputs:"]
    for index, arg in enumerate(case.args):
        label = arg_names[index] if index < len(arg_names) else f"argument {index + 1}"
        lines.append(_INDENT * 2 + describe(arg, name=label))
    for key, value in case.kwargs.items():
        lines.append(_INDENT * 2 + describe(value, name=key))
    lines.append(_INDENT + describe(expected, name="expected"))
    if problem[0] != "raised":
        lines.append(_INDENT + describe(got, name="got"))
    lines.append(f"{_INDENT}problem: {problem[1]}")
    lines.append(f"{_INDENT}likely cause: {cause}")
    return "\n".join(lines)


def _finish(result: CheckResult, verbose: bool) -> CheckResult:
    if verbose:
        print(result.message)
    return result


def isclose_scalar(
    a: float, b: float, *, rtol: float = DEFAULT_RTOL, atol: float = DEFAULT_ATOL
) -> bool:
    """Whether two numbers agree within the harness tolerance (helper for ``applies`` predicates).

    Args:
        a: a number.
        b: another number.
        rtol: relative tolerance.
        atol: absolute tolerance.

    Returns:
        ``True`` when ``|a - b| <= atol + rtol * |b|``.

    Example:
        >>> isclose_scalar(1.0, 1.0 + 1e-7)
        True
    """
    return math.isclose(float(a), float(b), rel_tol=rtol, abs_tol=atol)
