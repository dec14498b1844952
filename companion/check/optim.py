"""Checkers for the exercises of the chapter "Gradient descent and optimizers".

Each checker runs the reader's update rule for a few steps from zero optimizer state, on a fixed
sequence of gradients, and compares the whole trajectory of the parameters with the reference in
:mod:`companion.formulas.optimizers`. A trajectory catches mistakes that a single step hides
(state that is not carried over, a step count that starts at 0, bias correction).

Example:
    >>> from companion import check
    >>> def sgd_step(params, grad, *, learning_rate):
    ...     return params - learning_rate * grad
    >>> check.sgd_step(sgd_step).passed
    PASS: sgd_step (4 cases)
    True
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import jax
import jax.numpy as jnp
import numpy as np

from companion.check.harness import Case, CheckResult, Diagnosis, run_check
from companion.formulas import optimizers

__all__ = ["adam_step", "adamw_step", "momentum_step", "sgd_step"]

_ARG_NAMES = ("initial params", "grads (one row per step)")


def _gradients(seed: int, steps: int, size: int) -> tuple[jax.Array, jax.Array]:
    """Initial parameters and a sequence of gradients, reproducible and of mixed scale."""
    k_params, k_grads, k_scale = jax.random.split(jax.random.key(seed), 3)
    params = jax.random.normal(k_params, (size,))
    scale = jnp.exp(jax.random.uniform(k_scale, (size,), minval=-2.0, maxval=2.0))
    return params, jax.random.normal(k_grads, (steps, size)) * scale


def _trajectory(step_fn: Callable, name: str, state_names: Sequence[str], *, counted: bool):
    """Turn a one-step update rule into ``run(params, grads, **hyper) -> (steps, size)`` array.

    The reader's function is called with the state it returned at the previous step, starting
    from zeros, and with the 1-based step number when ``counted``.
    """
    returns = ", ".join(("params", *state_names))

    def run(params, grads, **hyper):
        state = [jnp.zeros_like(params) for _ in state_names]
        path = []
        for number, grad in enumerate(grads, start=1):
            extra = (number,) if counted else ()
            out = step_fn(params, grad, *state, *extra, **hyper)
            if state_names:
                if not isinstance(out, (tuple, list)) or len(out) != 1 + len(state_names):
                    raise TypeError(
                        f"{name} must return a tuple ({returns}); got {type(out).__name__}"
                        + (f" of length {len(out)}" if isinstance(out, (tuple, list)) else "")
                    )
                out, *state = out
                for state_name, value in zip(state_names, state, strict=True):
                    if np.shape(value) != params.shape:
                        raise ValueError(
                            f"{name} returned {state_name} of shape {np.shape(value)}; "
                            f"expected {params.shape}, the shape of params"
                        )
            if out is None:
                raise TypeError(f"{name} returned None for params: forgot the return statement?")
            if np.shape(out) != params.shape:
                raise ValueError(
                    f"{name} returned params of shape {np.shape(out)} at step {number}; "
                    f"expected {params.shape}"
                )
            params = out
            path.append(jnp.asarray(out))
        return jnp.stack(path)

    return run


def _check(name, fn, reference, state_names, cases, wrong, *, counted=False) -> CheckResult:
    run_reference = _trajectory(reference, name, state_names, counted=counted)
    diagnoses = [
        Diagnosis(cause, variant=_trajectory(variant, name, state_names, counted=counted))
        for cause, variant in wrong
    ]
    if not callable(fn):  # let the harness explain
        return run_check(name, fn, run_reference, cases, arg_names=_ARG_NAMES)
    return run_check(
        name,
        _trajectory(fn, name, state_names, counted=counted),
        run_reference,
        cases,
        diagnoses=diagnoses,
        arg_names=_ARG_NAMES,
    )


def _cases(hyper: Sequence[dict], notes: Sequence[str]) -> list[Case]:
    shapes = [(2, 2), (3, 3), (8, 4), (12, 5)]
    cases = []
    for seed, ((steps, size), kwargs, note) in enumerate(zip(shapes, hyper, notes, strict=True)):
        params, grads = _gradients(seed, steps, size)
        cases.append(Case((params, grads), kwargs, note=note))
    return cases


# ----------------------------------------------------------------------------- SGD


def sgd_step(fn: Callable) -> CheckResult:
    """Check ``fn(params, grad, *, learning_rate) -> params``, one step of gradient descent.

    Recognised mistakes: moving along the gradient (ascent) instead of against it, forgetting the
    learning rate, dividing by it.

    Args:
        fn: the reader's function.

    Returns:
        The :class:`CheckResult`; the report is printed.

    Example:
        >>> sgd_step(lambda params, grad, *, learning_rate: params - learning_rate * grad).passed
        PASS: sgd_step (4 cases)
        True
    """
    hyper = [{"learning_rate": r} for r in (0.1, 0.5, 0.01, 0.3)]
    wrong = [
        ("you moved along the gradient (params + lr * grad): descent subtracts it",
         lambda p, g, *, learning_rate: p + learning_rate * g),
        ("the learning rate is missing: the step is lr * grad, not grad",
         lambda p, g, *, learning_rate: p - g),
        ("you divided by the learning rate instead of multiplying",
         lambda p, g, *, learning_rate: p - g / learning_rate),
    ]
    notes = ["two steps", "a large learning rate", "a small learning rate", "twelve steps"]
    return _check("sgd_step", fn, optimizers.sgd_step, (), _cases(hyper, notes), wrong)


# ----------------------------------------------------------------------------- momentum


def momentum_step(fn: Callable) -> CheckResult:
    """Check ``fn(params, grad, velocity, *, learning_rate, momentum) -> (params, velocity)``.

    The reference is optax's (and PyTorch's) form, ``v = g + mu * v`` and ``params - lr * v``.
    Recognised mistakes: the exponential-moving-average form ``v = mu * v + (1 - mu) * g``,
    returning the old velocity (so momentum never builds up), Nesterov's update instead of
    heavy-ball momentum, and moving along the gradient.

    Args:
        fn: the reader's function.

    Returns:
        The :class:`CheckResult`; the report is printed.

    Example:
        >>> def momentum(params, grad, velocity, *, learning_rate, momentum):
        ...     velocity = grad + momentum * velocity
        ...     return params - learning_rate * velocity, velocity
        >>> momentum_step(momentum).passed
        PASS: momentum_step (4 cases)
        True
    """
    hyper = [
        {"learning_rate": 0.1, "momentum": 0.9},
        {"learning_rate": 0.1, "momentum": 0.5},
        {"learning_rate": 0.05, "momentum": 0.9},
        {"learning_rate": 0.01, "momentum": 0.99},
    ]

    def ema(p, g, v, *, learning_rate, momentum):
        v = momentum * v + (1 - momentum) * g
        return p - learning_rate * v, v

    def stale(p, g, v, *, learning_rate, momentum):
        return p - learning_rate * (g + momentum * v), v

    def ascent(p, g, v, *, learning_rate, momentum):
        v = g + momentum * v
        return p + learning_rate * v, v

    wrong = [
        ("you used the moving-average form v = mu*v + (1 - mu)*g; optax and PyTorch accumulate "
         "the raw gradient, v = g + mu*v", ema),
        ("the velocity you return is the old one, so momentum never builds up: return the new "
         "velocity", stale),
        ("this is Nesterov's update (params - lr*(g + mu*v)); heavy-ball momentum steps by "
         "lr * v", lambda p, g, v, **h: optimizers.nesterov_step(p, g, v, **h)),
        ("you moved along the accumulated gradient instead of against it", ascent),
    ]
    notes = ["two steps", "three steps", "eight steps", "twelve steps, momentum 0.99"]
    return _check(
        "momentum_step", fn, optimizers.momentum_step, ("velocity",), _cases(hyper, notes), wrong
    )


# ----------------------------------------------------------------------------- Adam


def _adam_variant(*, bias_correction=True, eps_inside=False, swap=False, stale=False,
                  corrected_state=False, no_sqrt=False, count_from_zero=False):
    """A deliberately wrong Adam, one flag per classic mistake."""

    def step(p, g, m, v, t, *, learning_rate, b1, b2, eps, weight_decay=None):
        beta1, beta2 = (b2, b1) if swap else (b1, b2)
        m_new = beta1 * m + (1 - beta1) * g
        v_new = beta2 * v + (1 - beta2) * g**2
        m_hat, v_hat = m_new, v_new
        if count_from_zero:
            t = t - 1
        if bias_correction:
            m_hat, v_hat = m_new / (1 - beta1**t), v_new / (1 - beta2**t)
        if no_sqrt:
            direction = m_hat / (v_hat + eps)
        elif eps_inside:
            direction = m_hat / jnp.sqrt(v_hat + eps)
        else:
            direction = m_hat / (jnp.sqrt(v_hat) + eps)
        if weight_decay is not None:
            direction = direction + weight_decay * p
        if stale:
            return p - learning_rate * direction, m, v
        if corrected_state:
            return p - learning_rate * direction, m_hat, v_hat
        return p - learning_rate * direction, m_new, v_new

    return step


_ADAM_MISTAKES = [
    ("no bias correction: divide m and v by (1 - b1**t) and (1 - b2**t) before the update, "
     "or the first steps are far too small or too large", {"bias_correction": False}),
    ("eps is inside the square root; Adam adds it outside: m_hat / (sqrt(v_hat) + eps)",
     {"eps_inside": True}),
    ("b1 and b2 are swapped: b1 (0.9) averages the gradients, b2 (0.999) their squares",
     {"swap": True}),
    ("the moments you return are the old ones: return the updated m and v", {"stale": True}),
    ("you returned the bias-corrected moments as the state; keep the raw m and v and correct "
     "them only for the update", {"corrected_state": True}),
    ("the square root is missing: divide by sqrt(v_hat) + eps", {"no_sqrt": True}),
    ("the bias correction uses step - 1: at the first step 1 - b**0 = 0 and you divide by zero; "
     "step counts from 1", {"count_from_zero": True}),
]


def _adam_hyper(extra: dict | None = None) -> list[dict]:
    hyper = [
        {"learning_rate": 0.1, "b1": 0.9, "b2": 0.999, "eps": 1e-8},
        {"learning_rate": 0.05, "b1": 0.8, "b2": 0.99, "eps": 1e-8},
        {"learning_rate": 0.1, "b1": 0.9, "b2": 0.999, "eps": 0.1},
        {"learning_rate": 0.01, "b1": 0.5, "b2": 0.9, "eps": 1e-3},
    ]
    return [{**h, **extra} if extra else h for h in hyper]


def adam_step(fn: Callable) -> CheckResult:
    """Check ``fn(params, grad, mu, nu, step, *, learning_rate, b1, b2, eps) -> (params, mu, nu)``.

    ``step`` is the number of the update, starting at 1. The reference follows optax: moments
    corrected by ``1 - b**step``, ``eps`` added outside the square root. Recognised mistakes: no
    bias correction, ``eps`` inside the root, ``b1`` and ``b2`` swapped, returning the old
    moments, returning the bias-corrected moments as state, a missing square root.

    Args:
        fn: the reader's function.

    Returns:
        The :class:`CheckResult`; the report is printed.

    Example:
        >>> from companion.formulas import optimizers
        >>> adam_step(optimizers.adam_step).passed
        PASS: adam_step (4 cases)
        True
    """
    wrong = [(cause, _adam_variant(**flags)) for cause, flags in _ADAM_MISTAKES]
    notes = ["two steps", "three steps", "a large eps", "twelve steps"]
    cases = _cases(_adam_hyper(), notes)
    return _check(
        "adam_step", fn, optimizers.adam_step, ("mu", "nu"), cases, wrong, counted=True
    )


# ----------------------------------------------------------------------------- AdamW


def adamw_step(fn: Callable) -> CheckResult:
    """Check ``fn(params, grad, mu, nu, step, *, learning_rate, b1, b2, eps, weight_decay)``.

    It returns ``(params, mu, nu)``. The reference is optax's AdamW: the decay
    ``weight_decay * params`` is added to Adam's direction (not to the gradient), and the
    learning rate multiplies both. Recognised mistakes: decay added to the gradient (L2
    regularisation), decay not multiplied by the learning rate, decay applied to the already
    updated parameters, and every Adam mistake that :func:`adam_step` recognises.

    Args:
        fn: the reader's function.

    Returns:
        The :class:`CheckResult`; the report is printed.

    Example:
        >>> from companion.formulas import optimizers
        >>> adamw_step(optimizers.adamw_step).passed
        PASS: adamw_step (4 cases)
        True
    """
    adam = _adam_variant()

    def l2(p, g, m, v, t, *, weight_decay, **hyper):
        return adam(p, g + weight_decay * p, m, v, t, **hyper)

    def unscaled(p, g, m, v, t, *, learning_rate, weight_decay, **hyper):
        p_new, m, v = adam(p, g, m, v, t, learning_rate=learning_rate, **hyper)
        return p_new - weight_decay * p, m, v

    def after(p, g, m, v, t, *, learning_rate, weight_decay, **hyper):
        p_new, m, v = adam(p, g, m, v, t, learning_rate=learning_rate, **hyper)
        return p_new * (1 - learning_rate * weight_decay), m, v

    wrong = [
        ("weight decay added to the gradient: that is L2 regularisation, which Adam's division "
         "rescales; AdamW adds weight_decay * params to the update itself", l2),
        ("the decay is not multiplied by the learning rate: optax and PyTorch subtract "
         "lr * (adam_direction + weight_decay * params)", unscaled),
        ("the decay is applied to the already updated parameters; use the parameters from "
         "before the step", after),
        *[(cause, _adam_variant(**flags)) for cause, flags in _ADAM_MISTAKES],
    ]
    notes = ["two steps", "three steps", "a large eps", "twelve steps"]
    decays = [0.5, 0.1, 0.5, 1.0]
    hyper = [{**h, "weight_decay": wd} for h, wd in zip(_adam_hyper(), decays, strict=True)]
    return _check(
        "adamw_step", fn, optimizers.adamw_step, ("mu", "nu"), _cases(hyper, notes), wrong,
        counted=True,
    )
