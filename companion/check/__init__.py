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

from companion.check.harness import Case, CheckResult, Diagnosis, describe, run_check

__all__ = [
    "Case",
    "CheckResult",
    "Diagnosis",
    "describe",
    "run_check",
]
