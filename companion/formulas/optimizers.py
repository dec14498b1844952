r"""Gradient descent and its descendants, one readable update rule per function.

Book chapter: *Gradient descent and optimizers*.

Each ``*_step`` function performs one update of one parameter array from its gradient and returns
the new parameters together with the new optimizer state (the running averages). The formulas
follow optax's conventions exactly, so that the book can check them step for step against
``optax.sgd``, ``optax.rmsprop``, ``optax.adam`` and ``optax.adamw``:

* momentum accumulates raw gradients, :math:`m_t = g_t + \mu m_{t-1}`, and the learning rate
  multiplies the accumulated sum (not ``(1 - mu)`` times the gradient);
* Nesterov momentum is written in optax's "look-ahead on the gradient" form
  :math:`u_t = -\eta (g_t + \mu m_t)`;
* RMSProp adds ``eps`` *inside* the square root, :math:`g / \sqrt{v + \epsilon}`;
* Adam corrects both moments for their zero initialisation and adds ``eps`` *outside* the root;
* AdamW adds the decoupled weight decay :math:`\lambda \theta` to Adam's direction, and the
  learning rate multiplies both.

The schedules take the number of updates already made (``0`` for the first update), as optax's
schedules do, and accept a Python int or an integer array of steps (handy for plotting).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import jax
import jax.numpy as jnp

__all__ = [
    "adam_step",
    "adamw_step",
    "constant_schedule",
    "cosine_schedule",
    "momentum_step",
    "nesterov_step",
    "rmsprop_step",
    "sgd_step",
    "step_schedule",
    "warmup_cosine_schedule",
]


# ----------------------------------------------------------------------------- input checks


def _float_array(name: str, value) -> jax.Array:
    dtype = getattr(value, "dtype", None)
    if dtype is None:
        value = jnp.asarray(value, dtype=jnp.float32)
    elif not jnp.issubdtype(dtype, jnp.floating):
        raise TypeError(f"{name} must be a floating-point array; got dtype {dtype}")
    return jnp.asarray(value)


def _like(name: str, value, params: jax.Array) -> jax.Array:
    array = _float_array(name, value)
    if array.shape != params.shape:
        raise ValueError(
            f"{name} must have the shape of params {tuple(params.shape)}; got {tuple(array.shape)}"
        )
    return array.astype(params.dtype)


def _rate(name: str, value, *, low: float = 0.0, high: float | None = None) -> None:
    """Check a Python/NumPy scalar hyperparameter (arrays, e.g. traced schedules, pass through)."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        if getattr(value, "shape", None) == ():
            return
        raise TypeError(f"{name} must be a number; got {type(value).__name__}")
    if value < low or (high is not None and value >= high):
        upper = f" and below {high}" if high is not None else ""
        raise ValueError(f"{name} must be at least {low}{upper}; got {value}")


def _count(step) -> None:
    if isinstance(step, bool) or not (isinstance(step, int) or getattr(step, "shape", None) == ()):
        raise TypeError(f"step must be an integer (1 for the first update); got {step!r}")
    if isinstance(step, int) and step < 1:
        raise ValueError(f"step must be at least 1 (the first update is step 1); got {step}")


# ----------------------------------------------------------------------------- update rules


def sgd_step(params: jax.Array, grad: jax.Array, *, learning_rate: float) -> jax.Array:
    r"""One step of plain gradient descent.

    .. math::

        \theta_{t} = \theta_{t-1} - \eta\, g_t

    Book chapter: *Gradient descent and optimizers*. Equals ``optax.sgd(learning_rate)``.

    Args:
        params: the parameters :math:`\theta_{t-1}`, any shape.
        grad: the gradient :math:`g_t` of the loss at ``params``, same shape.
        learning_rate: the step size :math:`\eta`.

    Returns:
        The new parameters, same shape and dtype as ``params``.

    Example:
        >>> sgd_step(jnp.array([1.0, 2.0]), jnp.array([0.5, -1.0]), learning_rate=0.1)
        Array([0.95, 2.1 ], dtype=float32)
    """
    params = _float_array("params", params)
    grad = _like("grad", grad, params)
    _rate("learning_rate", learning_rate)
    return params - learning_rate * grad


def momentum_step(
    params: jax.Array,
    grad: jax.Array,
    velocity: jax.Array,
    *,
    learning_rate: float,
    momentum: float = 0.9,
) -> tuple[jax.Array, jax.Array]:
    r"""One step of gradient descent with (heavy-ball) momentum, in optax's form.

    .. math::

        m_t = g_t + \mu\, m_{t-1}, \qquad \theta_t = \theta_{t-1} - \eta\, m_t

    with :math:`m_0 = 0`. Book chapter: *Gradient descent and optimizers*. Equals
    ``optax.sgd(learning_rate, momentum=momentum)``.

    Args:
        params: the parameters :math:`\theta_{t-1}`, any shape.
        grad: the gradient :math:`g_t`, same shape.
        velocity: the accumulated gradients :math:`m_{t-1}` (zeros before the first step).
        learning_rate: the step size :math:`\eta`.
        momentum: the decay :math:`\mu` of the accumulated gradients, in ``[0, 1)``.

    Returns:
        ``(params, velocity)``: :math:`\theta_t` and :math:`m_t`, each shaped like ``params``.

    Example:
        >>> p, v = momentum_step(jnp.ones(2), jnp.ones(2), jnp.zeros(2), learning_rate=0.1)
        >>> p
        Array([0.9, 0.9], dtype=float32)
    """
    params = _float_array("params", params)
    grad = _like("grad", grad, params)
    velocity = _like("velocity", velocity, params)
    _rate("learning_rate", learning_rate)
    _rate("momentum", momentum, high=1.0)
    velocity = grad + momentum * velocity
    return params - learning_rate * velocity, velocity


def nesterov_step(
    params: jax.Array,
    grad: jax.Array,
    velocity: jax.Array,
    *,
    learning_rate: float,
    momentum: float = 0.9,
) -> tuple[jax.Array, jax.Array]:
    r"""One step of Nesterov momentum, in the form optax (and PyTorch) use.

    .. math::

        m_t = g_t + \mu\, m_{t-1}, \qquad \theta_t = \theta_{t-1} - \eta\,(g_t + \mu\, m_t)

    The step applies the momentum twice, as if it had already looked one step ahead. Book chapter:
    *Gradient descent and optimizers*. Equals
    ``optax.sgd(learning_rate, momentum=momentum, nesterov=True)``.

    Args:
        params: the parameters :math:`\theta_{t-1}`, any shape.
        grad: the gradient :math:`g_t`, same shape.
        velocity: the accumulated gradients :math:`m_{t-1}` (zeros before the first step).
        learning_rate: the step size :math:`\eta`.
        momentum: the decay :math:`\mu`, in ``[0, 1)``.

    Returns:
        ``(params, velocity)``: :math:`\theta_t` and :math:`m_t`, each shaped like ``params``.

    Example:
        >>> p, v = nesterov_step(jnp.ones(2), jnp.ones(2), jnp.zeros(2), learning_rate=0.1)
        >>> p
        Array([0.81, 0.81], dtype=float32)
    """
    params = _float_array("params", params)
    grad = _like("grad", grad, params)
    velocity = _like("velocity", velocity, params)
    _rate("learning_rate", learning_rate)
    _rate("momentum", momentum, high=1.0)
    velocity = grad + momentum * velocity
    return params - learning_rate * (grad + momentum * velocity), velocity


def rmsprop_step(
    params: jax.Array,
    grad: jax.Array,
    nu: jax.Array,
    *,
    learning_rate: float,
    decay: float = 0.9,
    eps: float = 1e-8,
) -> tuple[jax.Array, jax.Array]:
    r"""One step of RMSProp, with ``eps`` inside the square root as in optax.

    .. math::

        v_t = \rho\, v_{t-1} + (1 - \rho)\, g_t^2, \qquad
        \theta_t = \theta_{t-1} - \eta\, \frac{g_t}{\sqrt{v_t + \epsilon}}

    with :math:`v_0 = 0`. PyTorch puts :math:`\epsilon` outside the root instead
    (``optax.rmsprop(..., eps_in_sqrt=False)``). Book chapter: *Gradient descent and optimizers*.
    Equals ``optax.rmsprop(learning_rate, decay=decay, eps=eps)``.

    Args:
        params: the parameters :math:`\theta_{t-1}`, any shape.
        grad: the gradient :math:`g_t`, same shape.
        nu: the running mean of squared gradients :math:`v_{t-1}` (zeros before the first step).
        learning_rate: the step size :math:`\eta`.
        decay: the decay :math:`\rho` of the running mean, in ``[0, 1)``.
        eps: the small constant :math:`\epsilon` that keeps the division finite.

    Returns:
        ``(params, nu)``: :math:`\theta_t` and :math:`v_t`, each shaped like ``params``.

    Example:
        >>> p, v = rmsprop_step(jnp.ones(2), jnp.ones(2), jnp.zeros(2), learning_rate=0.01)
        >>> v
        Array([0.1, 0.1], dtype=float32)
    """
    params = _float_array("params", params)
    grad = _like("grad", grad, params)
    nu = _like("nu", nu, params)
    _rate("learning_rate", learning_rate)
    _rate("decay", decay, high=1.0)
    _rate("eps", eps)
    nu = decay * nu + (1 - decay) * grad**2
    return params - learning_rate * grad / jnp.sqrt(nu + eps), nu


def _adam_direction(grad, mu, nu, step, *, b1, b2, eps):
    """Adam's moments, bias-corrected, and the step direction they give."""
    mu = b1 * mu + (1 - b1) * grad
    nu = b2 * nu + (1 - b2) * grad**2
    t = jnp.asarray(step, dtype=grad.dtype)
    mu_hat = mu / (1 - b1**t)
    nu_hat = nu / (1 - b2**t)
    return mu_hat / (jnp.sqrt(nu_hat) + eps), mu, nu


def adam_step(
    params: jax.Array,
    grad: jax.Array,
    mu: jax.Array,
    nu: jax.Array,
    step: int,
    *,
    learning_rate: float,
    b1: float = 0.9,
    b2: float = 0.999,
    eps: float = 1e-8,
) -> tuple[jax.Array, jax.Array, jax.Array]:
    r"""One step of Adam :cite:p:`kingma2015adam`, with optax's bias correction and ``eps``.

    .. math::

        m_t &= \beta_1 m_{t-1} + (1 - \beta_1)\, g_t, \qquad
        v_t = \beta_2 v_{t-1} + (1 - \beta_2)\, g_t^2, \\
        \hat m_t &= \frac{m_t}{1 - \beta_1^t}, \qquad \hat v_t = \frac{v_t}{1 - \beta_2^t},
        \qquad \theta_t = \theta_{t-1} - \eta\, \frac{\hat m_t}{\sqrt{\hat v_t} + \epsilon}

    with :math:`m_0 = v_0 = 0`. Book chapter: *Gradient descent and optimizers*. Equals
    ``optax.adam(learning_rate, b1=b1, b2=b2, eps=eps)``.

    Args:
        params: the parameters :math:`\theta_{t-1}`, any shape.
        grad: the gradient :math:`g_t`, same shape.
        mu: the first moment :math:`m_{t-1}` (zeros before the first step).
        nu: the second moment :math:`v_{t-1}` (zeros before the first step).
        step: the number :math:`t` of this update, starting at 1.
        learning_rate: the step size :math:`\eta`.
        b1: the decay :math:`\beta_1` of the first moment, in ``[0, 1)``.
        b2: the decay :math:`\beta_2` of the second moment, in ``[0, 1)``.
        eps: the constant :math:`\epsilon` added to the root.

    Returns:
        ``(params, mu, nu)``: :math:`\theta_t`, :math:`m_t` and :math:`v_t`, shaped like
        ``params``.

    Example:
        >>> zeros = jnp.zeros(2)
        >>> p, m, v = adam_step(jnp.ones(2), jnp.array([3.0, -0.1]), zeros, zeros, 1,
        ...                     learning_rate=0.1)
        >>> p.round(4)  # the first step moves every coordinate by about the learning rate
        Array([0.9, 1.1], dtype=float32)
    """
    params = _float_array("params", params)
    grad = _like("grad", grad, params)
    mu = _like("mu", mu, params)
    nu = _like("nu", nu, params)
    _count(step)
    _rate("learning_rate", learning_rate)
    _rate("b1", b1, high=1.0)
    _rate("b2", b2, high=1.0)
    _rate("eps", eps)
    direction, mu, nu = _adam_direction(grad, mu, nu, step, b1=b1, b2=b2, eps=eps)
    return params - learning_rate * direction, mu, nu


def adamw_step(
    params: jax.Array,
    grad: jax.Array,
    mu: jax.Array,
    nu: jax.Array,
    step: int,
    *,
    learning_rate: float,
    b1: float = 0.9,
    b2: float = 0.999,
    eps: float = 1e-8,
    weight_decay: float = 1e-4,
) -> tuple[jax.Array, jax.Array, jax.Array]:
    r"""One step of AdamW: Adam with decoupled weight decay :cite:p:`loshchilov2019decoupled`.

    .. math::

        \theta_t = \theta_{t-1} - \eta \left( \frac{\hat m_t}{\sqrt{\hat v_t} + \epsilon}
        + \lambda\, \theta_{t-1} \right)

    with :math:`\hat m_t, \hat v_t` from :func:`adam_step`, computed from the raw gradient. The
    decay :math:`\lambda \theta` is *not* added to the gradient (that would be L2
    regularisation, which Adam's division would rescale); it is added to the update, and the
    learning rate multiplies it, as in optax. Book chapter: *Gradient descent and optimizers*.
    Equals ``optax.adamw(learning_rate, b1=b1, b2=b2, eps=eps, weight_decay=weight_decay)``.

    Args:
        params: the parameters :math:`\theta_{t-1}`, any shape.
        grad: the gradient :math:`g_t` of the loss without any decay term, same shape.
        mu: the first moment :math:`m_{t-1}` (zeros before the first step).
        nu: the second moment :math:`v_{t-1}` (zeros before the first step).
        step: the number :math:`t` of this update, starting at 1.
        learning_rate: the step size :math:`\eta`.
        b1: the decay :math:`\beta_1` of the first moment, in ``[0, 1)``.
        b2: the decay :math:`\beta_2` of the second moment, in ``[0, 1)``.
        eps: the constant :math:`\epsilon` added to the root.
        weight_decay: the decay rate :math:`\lambda`.

    Returns:
        ``(params, mu, nu)``: :math:`\theta_t`, :math:`m_t` and :math:`v_t`, shaped like
        ``params``.

    Example:
        >>> zeros = jnp.zeros(2)
        >>> p, m, v = adamw_step(jnp.ones(2), zeros, zeros, zeros, 1, learning_rate=0.1,
        ...                      weight_decay=0.5)
        >>> p  # a zero gradient: only the decay acts, 1 - 0.1 * 0.5 * 1
        Array([0.95, 0.95], dtype=float32)
    """
    params = _float_array("params", params)
    grad = _like("grad", grad, params)
    mu = _like("mu", mu, params)
    nu = _like("nu", nu, params)
    _count(step)
    _rate("learning_rate", learning_rate)
    _rate("b1", b1, high=1.0)
    _rate("b2", b2, high=1.0)
    _rate("eps", eps)
    _rate("weight_decay", weight_decay)
    direction, mu, nu = _adam_direction(grad, mu, nu, step, b1=b1, b2=b2, eps=eps)
    return params - learning_rate * (direction + weight_decay * params), mu, nu


# ----------------------------------------------------------------------------- schedules


def _steps(step) -> jax.Array:
    array = jnp.asarray(step)
    if not jnp.issubdtype(array.dtype, jnp.integer):
        raise TypeError(f"step must be an integer or an integer array; got dtype {array.dtype}")
    return array.astype(jnp.float32)


def constant_schedule(step: int | jax.Array, *, learning_rate: float) -> jax.Array:
    r"""The same learning rate at every step: :math:`\eta_t = \eta`.

    Book chapter: *Gradient descent and optimizers*. Equals ``optax.constant_schedule``.

    Args:
        step: the number of updates already made (``0`` for the first), an int or an int array.
        learning_rate: the learning rate :math:`\eta`.

    Returns:
        The learning rate, float32, shaped like ``step``.

    Example:
        >>> constant_schedule(jnp.arange(3), learning_rate=0.1)
        Array([0.1, 0.1, 0.1], dtype=float32)
    """
    _rate("learning_rate", learning_rate)
    return jnp.full_like(_steps(step), learning_rate)


def step_schedule(
    step: int | jax.Array,
    *,
    learning_rate: float,
    boundaries: Sequence[int],
    factor: float = 0.1,
) -> jax.Array:
    r"""Step decay: multiply the learning rate by ``factor`` at each boundary.

    .. math::

        \eta_t = \eta \cdot \gamma^{\#\{b \in B : t \ge b\}}

    Book chapter: *Gradient descent and optimizers*. Equals
    ``optax.piecewise_constant_schedule(learning_rate, {b: factor for b in boundaries})``.

    Args:
        step: the number of updates already made (``0`` for the first), an int or an int array.
        learning_rate: the initial learning rate :math:`\eta`.
        boundaries: the steps :math:`B` at which the rate drops, e.g. ``(30, 60)``.
        factor: the factor :math:`\gamma` applied at each boundary.

    Returns:
        The learning rate, float32, shaped like ``step``.

    Example:
        >>> step_schedule(jnp.array([0, 5, 10]), learning_rate=1.0, boundaries=(5,), factor=0.5)
        Array([1. , 0.5, 0.5], dtype=float32)
    """
    _rate("learning_rate", learning_rate)
    _rate("factor", factor)
    t = _steps(step)
    drops = sum((t >= boundary).astype(jnp.float32) for boundary in boundaries)
    return learning_rate * jnp.asarray(factor, jnp.float32) ** jnp.asarray(drops, jnp.float32)


def cosine_schedule(
    step: int | jax.Array,
    *,
    learning_rate: float,
    decay_steps: int,
    end_value: float = 0.0,
) -> jax.Array:
    r"""Cosine decay from ``learning_rate`` to ``end_value`` over ``decay_steps`` steps.

    .. math::

        \eta_t = \eta_{\text{end}} + (\eta - \eta_{\text{end}})\,
        \tfrac{1}{2}\left(1 + \cos \frac{\pi \min(t, T)}{T}\right)

    Book chapter: *Gradient descent and optimizers*. Equals
    ``optax.cosine_decay_schedule(learning_rate, decay_steps, alpha=end_value / learning_rate)``.

    Args:
        step: the number of updates already made (``0`` for the first), an int or an int array.
        learning_rate: the initial learning rate :math:`\eta`.
        decay_steps: the length :math:`T` of the decay; later steps keep ``end_value``.
        end_value: the final learning rate :math:`\eta_{\text{end}}`.

    Returns:
        The learning rate, float32, shaped like ``step``.

    Example:
        >>> steps = jnp.array([0, 50, 100, 150])
        >>> rates = cosine_schedule(steps, learning_rate=1.0, decay_steps=100)
        >>> rates.round(4)
        Array([1. , 0.5, 0. , 0. ], dtype=float32)
    """
    _rate("learning_rate", learning_rate)
    _rate("end_value", end_value)
    if isinstance(decay_steps, bool) or not isinstance(decay_steps, int) or decay_steps < 1:
        raise ValueError(f"decay_steps must be a positive integer; got {decay_steps!r}")
    t = jnp.minimum(_steps(step), decay_steps)
    cosine = 0.5 * (1 + jnp.cos(math.pi * t / decay_steps))
    return end_value + (learning_rate - end_value) * cosine


def warmup_cosine_schedule(
    step: int | jax.Array,
    *,
    peak_value: float,
    warmup_steps: int,
    decay_steps: int,
    init_value: float = 0.0,
    end_value: float = 0.0,
) -> jax.Array:
    r"""Linear warmup from ``init_value`` to ``peak_value``, then cosine decay to ``end_value``.

    .. math::

        \eta_t = \begin{cases}
        \eta_0 + (\eta_{\text{peak}} - \eta_0)\, t / W & t < W \\
        \text{cosine decay from } \eta_{\text{peak}} \text{ over } T - W \text{ steps,
        at step } t - W & t \ge W
        \end{cases}

    ``decay_steps`` :math:`T` counts the warmup too, as in optax. Book chapter: *Gradient descent
    and optimizers*. Equals ``optax.warmup_cosine_decay_schedule(init_value, peak_value,
    warmup_steps, decay_steps, end_value)``.

    Args:
        step: the number of updates already made (``0`` for the first), an int or an int array.
        peak_value: the learning rate at the end of the warmup.
        warmup_steps: the length :math:`W` of the warmup, at least 1.
        decay_steps: the total length :math:`T` of the schedule, larger than ``warmup_steps``.
        init_value: the learning rate :math:`\eta_0` at step 0.
        end_value: the final learning rate.

    Returns:
        The learning rate, float32, shaped like ``step``.

    Example:
        >>> rates = warmup_cosine_schedule(jnp.array([0, 5, 10, 60, 110]), peak_value=1.0,
        ...                                warmup_steps=10, decay_steps=110)
        >>> rates.round(4)
        Array([0. , 0.5, 1. , 0.5, 0. ], dtype=float32)
    """
    _rate("peak_value", peak_value)
    _rate("init_value", init_value)
    if isinstance(warmup_steps, bool) or not isinstance(warmup_steps, int) or warmup_steps < 1:
        raise ValueError(f"warmup_steps must be a positive integer; got {warmup_steps!r}")
    if not isinstance(decay_steps, int) or decay_steps <= warmup_steps:
        raise ValueError(
            f"decay_steps must be an integer larger than warmup_steps={warmup_steps}; "
            f"got {decay_steps!r}"
        )
    t = _steps(step)
    warmup = init_value + (peak_value - init_value) * jnp.minimum(t, warmup_steps) / warmup_steps
    decay = cosine_schedule(
        jnp.maximum(jnp.asarray(step) - warmup_steps, 0),
        learning_rate=peak_value,
        decay_steps=decay_steps - warmup_steps,
        end_value=end_value,
    )
    return jnp.where(t < warmup_steps, warmup, decay)
