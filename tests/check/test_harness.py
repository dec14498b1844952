"""The checker harness: never raises on the reader's bugs, reports the first failure clearly."""

import jax.numpy as jnp
import numpy as np
import pytest

from companion.check import Case, CheckResult, Diagnosis, run_check


def double(x):
    return x + x


CASES = [Case((jnp.arange(3.0),), note="small"), Case((jnp.ones((4, 4)),))]


def _run(fn, **kwargs):
    return run_check("double", fn, double, CASES, arg_names=("x",), verbose=False, **kwargs)


def test_pass_message_counts_cases(capsys):
    result = run_check("double", lambda x: 2 * x, double, CASES)
    assert result == CheckResult(True, "PASS: double (2 cases)")
    assert capsys.readouterr().out.strip() == "PASS: double (2 cases)"
    assert bool(result)


def _stub(x):
    raise NotImplementedError


@pytest.mark.parametrize(
    ("fn", "fragment"),
    [
        (_stub, "not implemented yet"),
        (lambda x: None, "forget the return"),
        (lambda x: [1.0, 2.0, 3.0], "not an array"),
        (lambda x: "text", "not an array of numbers"),
        (lambda x: (2 * x).astype(jnp.int32), "floating"),
        (lambda x: (2 * x).astype(jnp.float16), "low-precision"),
        (lambda x: (2 * x)[:-1], "wrong shape"),
        (lambda x: x / 0.0, "NaN or inf"),
        (lambda x: 3 * x, "values differ"),
        (lambda x: 1 / 0, "ZeroDivisionError"),
        (lambda x, y: x, "signature"),
    ],
)
def test_failures_are_reported_not_raised(fn, fragment):
    result = _run(fn)
    assert not result.passed
    assert fragment in result.message
    assert result.message.startswith("FAIL: double, case 1 of 2 (small)")
    assert "expected:" in result.message


def test_float64_output_is_accepted():
    assert _run(lambda x: np.asarray(x, dtype=np.float64) * 2).passed


def test_diagnoses_are_tried_in_order():
    diagnoses = [
        Diagnosis("never", variant=lambda x: x - 100),
        Diagnosis("tripled", variant=lambda x: 3 * x),
        Diagnosis("also tripled", variant=lambda x: x * 3),
    ]
    result = _run(lambda x: 3 * x, diagnoses=diagnoses)
    assert "likely cause: tripled" in result.message


def test_a_variant_that_raises_does_not_match():
    result = _run(lambda x: 3 * x, diagnoses=[Diagnosis("broken", variant=lambda x: 1 / 0)])
    assert "broken" not in result.message


def test_predicate_diagnosis():
    diagnosis = Diagnosis("too short", applies=lambda case, got, expected: len(got) < len(expected))
    assert "too short" in _run(lambda x: (2 * x)[:-1], diagnoses=[diagnosis]).message


def test_integer_output_mode():
    cases = [Case((5,)), Case((7,))]
    ok = run_check("inc", lambda n: n + 1, lambda n: n + 1, cases, output="int", verbose=False)
    assert ok.passed
    as_float = run_check(
        "inc", lambda n: n + 1.0, lambda n: n + 1, cases, output="int", verbose=False
    )
    assert "floor division" in as_float.message
    off = run_check(
        "inc",
        lambda n: n,
        lambda n: n + 1,
        cases,
        output="int",
        verbose=False,
        diagnoses=[Diagnosis("off by one", variant=lambda n: n)],
    )
    assert "likely cause: off by one" in off.message


def test_not_a_function():
    result = run_check("double", 3, double, CASES, verbose=False)
    assert not result.passed and "without ()" in result.message


def test_repr_is_short():
    result = _run(lambda x: 3 * x)
    assert len(repr(result)) < 120
    assert "\n" not in repr(result)


def test_report_never_shows_reference_source():
    result = _run(lambda x: 3 * x)
    assert "x + x" not in result.message and "def double" not in result.message
