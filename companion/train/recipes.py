"""Optimiser recipes that go with the book's networks."""

from __future__ import annotations

import jax
import optax

AIRBENCH_RATE = 11.5  # airbench's rate, per 1024 examples of its summed loss
AIRBENCH_MOMENTUM = 0.85
AIRBENCH_WEIGHT_DECAY = 0.0153  # per 1024 examples, decoupled from the rate
AIRBENCH_BIAS_SCALE = 64.0  # BatchNorm shifts and other 1-D parameters learn this much faster
AIRBENCH_WARMUP, AIRBENCH_START, AIRBENCH_END = 0.23, 0.2, 0.07  # fractions of steps / of the peak


def airbench_optimizer(
    total_steps: int, *, batch_size: int,
) -> tuple[optax.GradientTransformation, optax.Schedule]:
    """airbench's Nesterov SGD and one-cycle schedule, converted to ``fit``'s mean loss.

    airbench (Jordan, 2024) sums its loss over a batch; ``fit`` averages it, so the peak rate is
    ``11.5 / (1024 (1 + 1 / (1 - 0.85))) * batch_size``. The rate rises linearly from 20% of the
    peak over the first 23% of the steps, then falls linearly to 7% of it. Weight decay is
    airbench's, decoupled from the rate: each step shrinks every parameter by
    ``schedule(step) / peak * 0.0153 * batch_size / (1024 (1 + 1 / (1 - 0.85)))``. Parameters
    with one axis (BatchNorm shifts, biases) get 64 times the rate and the same decay.

    Args:
        total_steps: training steps of the whole run (epochs times steps per epoch), >= 1.
        batch_size: examples per step, >= 1.

    Returns:
        ``(optimizer, schedule)``: the optax transformation and the weights' rate per step.

    Example:
        >>> optimizer, schedule = airbench_optimizer(100, batch_size=256)
        >>> round(float(schedule(0)) / float(schedule(23)), 2)
        0.2
    """
    for name, value in (("total_steps", total_steps), ("batch_size", batch_size)):
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise ValueError(f"{name} must be an int >= 1; got {value!r}")
    kilostep = 1024 * (1 + 1 / (1 - AIRBENCH_MOMENTUM))
    peak = AIRBENCH_RATE / kilostep * batch_size
    decay = AIRBENCH_WEIGHT_DECAY / AIRBENCH_RATE  # optax multiplies it by the rate
    warmup = max(1, int(total_steps * AIRBENCH_WARMUP))
    schedule = optax.join_schedules(
        [optax.linear_schedule(AIRBENCH_START * peak, peak, warmup),
         optax.linear_schedule(peak, AIRBENCH_END * peak, max(1, total_steps - warmup))], [warmup])

    def nesterov(rate, weight_decay):
        return optax.chain(optax.add_decayed_weights(weight_decay),
                           optax.sgd(rate, momentum=AIRBENCH_MOMENTUM, nesterov=True))

    def groups(params):
        return jax.tree.map(lambda p: "shift" if p.ndim == 1 else "weight", params)

    optimizer = optax.multi_transform(
        {"weight": nesterov(schedule, decay),
         "shift": nesterov(lambda step: AIRBENCH_BIAS_SCALE * schedule(step), decay / AIRBENCH_BIAS_SCALE)},
        groups)
    return optimizer, schedule
