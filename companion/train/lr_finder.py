"""The learning-rate range test (Smith, 2017): sweep the learning rate up, watch the loss.

Starting from the model's current weights, the test trains for at most ``steps`` steps while
the learning rate grows exponentially from ``min_lr`` to ``max_lr``. The loss of every step is
recorded and smoothed with a bias-corrected exponential moving average. The test stops early
once the smoothed loss exceeds ``divergence`` times its minimum (or is not finite). A good
learning rate lies where the loss still falls steeply, below the point of its minimum; the
suggestion is the rate of the minimum divided by ``SUGGESTION_DIVISOR``.

The steps run in compiled chunks of ``chunk_steps`` steps; the model passed in is not changed.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable

import jax
import jax.numpy as jnp
import numpy as np
import optax
from flax import nnx

from companion.train.inputs import batch_to_float, prepare
from companion.train.model_state import output_classes, split_model
from companion.train.steps import cross_entropy

__all__ = ["LRRangeTest", "lr_range_test"]

SUGGESTION_DIVISOR = 10.0  # the classic rule: a tenth of the rate at the loss minimum
DEFAULT_SMOOTHING = 0.9
DEFAULT_DIVERGENCE = 4.0
DEFAULT_CHUNK_STEPS = 25


@dataclasses.dataclass(frozen=True)
class LRRangeTest:
    """The record of a learning-rate range test.

    Attributes:
        learning_rates: the rate of each step that ran, shape ``(S,)``, increasing.
        losses: the training loss of each step (before its update), shape ``(S,)``.
        smoothed: the bias-corrected exponential moving average of ``losses``, shape ``(S,)``.
        min_loss_lr: the rate at which ``smoothed`` is lowest.
        suggestion: ``min_loss_lr / SUGGESTION_DIVISOR``, never below the first rate.
        diverged_lr: the rate at which the smoothed loss exceeded ``divergence`` times its
            minimum (the test stopped there), or ``None`` if it never did.

    Example:
        >>> result = LRRangeTest(np.array([1e-3, 1e-2]), np.array([2.0, 1.0]), np.array([2.0, 1.5]),
        ...                      min_loss_lr=1e-2, suggestion=1e-3, diverged_lr=None)
        >>> result.steps
        2
    """

    learning_rates: np.ndarray
    losses: np.ndarray
    smoothed: np.ndarray
    min_loss_lr: float
    suggestion: float
    diverged_lr: float | None

    @property
    def steps(self) -> int:
        """The number of steps that ran."""
        return int(self.losses.shape[0])


def _check(model, batch_size, min_lr, max_lr, steps, smoothing, divergence, chunk_steps, optimizer):
    if not isinstance(model, nnx.Module):
        raise TypeError(f"model must be an nnx.Module; got {type(model).__name__}")
    for name, value in (("batch_size", batch_size), ("steps", steps), ("chunk_steps", chunk_steps)):
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise ValueError(f"{name} must be an int >= 1; got {value!r}")
    if steps < 2:
        raise ValueError(f"steps must be at least 2 to sweep a range; got {steps}")
    if not 0.0 < min_lr < max_lr:
        raise ValueError(f"need 0 < min_lr < max_lr; got min_lr={min_lr}, max_lr={max_lr}")
    if not 0.0 <= smoothing < 1.0:
        raise ValueError(f"smoothing must lie in [0, 1); got {smoothing}")
    if not divergence > 1.0:
        raise ValueError(f"divergence must be > 1 (a factor over the best loss); got {divergence}")
    if not callable(optimizer):
        raise TypeError(
            "optimizer must be a function schedule -> optax.GradientTransformation, e.g. optax.adam; "
            f"got {type(optimizer).__name__}"
        )


def _make_chunk(graphdef, optimizer, *, batch_size: int, chunk_steps: int, loss: Callable):
    def loss_fn(model, images, labels):
        return loss(model(images), labels)

    grad_fn = nnx.value_and_grad(loss_fn)

    def chunk(params, rest, opt_state, images, labels, order, start):
        def step(carry, index):
            params, rest, opt_state = carry
            rows = jax.lax.dynamic_slice_in_dim(order, index * batch_size, batch_size)
            model = nnx.merge(graphdef, params, rest)
            value, grads = grad_fn(model, batch_to_float(images[rows]), labels[rows])
            _, _, rest = nnx.split(model, nnx.Param, ...)
            with jax.numpy_dtype_promotion("standard"):  # optax mixes Python floats and int counts
                updates, opt_state = optimizer.update(grads, opt_state, params)
            return (optax.apply_updates(params, updates), rest, opt_state), value

        indices = start + jnp.arange(chunk_steps, dtype=jnp.int32)
        return jax.lax.scan(step, (params, rest, opt_state), indices)

    return jax.jit(chunk)


def _smooth(losses: np.ndarray, smoothing: float) -> np.ndarray:
    average, out = 0.0, np.empty_like(losses)
    for i, value in enumerate(losses):
        average = smoothing * average + (1.0 - smoothing) * value
        out[i] = average / (1.0 - smoothing ** (i + 1))
    return out


def lr_range_test(
    key: jax.Array, model: nnx.Module, train, *, batch_size: int, min_lr: float = 1e-6,
    max_lr: float = 1.0, steps: int = 200,
    optimizer: Callable[[optax.Schedule], optax.GradientTransformation] = optax.adam,
    smoothing: float = DEFAULT_SMOOTHING, divergence: float = DEFAULT_DIVERGENCE,
    chunk_steps: int = DEFAULT_CHUNK_STEPS, loss: Callable[[jax.Array, jax.Array], jax.Array] = cross_entropy,
) -> LRRangeTest:
    """Run the learning-rate range test of Smith (2017) on a copy of ``model``.

    Step ``t`` (from 0) uses the rate
    ``min_lr * (max_lr / min_lr) ** (t / (steps - 1))``. Batches are drawn without replacement
    from permutations of the training data derived from ``key``.

    Args:
        key: a ``jax.random.key`` for the batch order; the same key gives the same record.
        model: an NNX classifier mapping float32 ``(N, H, W, C)`` images to logits ``(N, K)``,
            usually freshly initialised; it is not changed.
        train: a ``companion.data.Dataset`` or an ``(images, labels)`` pair of float32 images in
            [0, 1] and integer labels, as for ``fit``.
        batch_size: examples per step.
        min_lr: the first learning rate.
        max_lr: the last learning rate, reached at step ``steps - 1``.
        steps: the most steps to run.
        optimizer: a function mapping a learning-rate schedule to an optax transformation, e.g.
            ``optax.adam`` or ``lambda lr: optax.sgd(lr, momentum=0.9)``.
        smoothing: the factor of the exponential moving average of the loss, in [0, 1).
        divergence: stop once the smoothed loss exceeds this multiple of its minimum.
        chunk_steps: steps per compiled chunk; divergence is checked between chunks and the
            record is cut at the first diverged step.
        loss: ``loss(logits (B, K), labels (B,)) -> scalar`` mean loss.

    Returns:
        An :class:`LRRangeTest` with the per-step rates and losses ``(S,)``, ``S <= steps``.

    Raises:
        ValueError: sizes below 1, ``min_lr >= max_lr``, a smoothing outside [0, 1) or a
            divergence factor of at most 1, and bad data (see ``fit``).
        TypeError: ``model`` is not an NNX module or ``optimizer`` is not callable.

    Example:
        >>> from companion.nn import SeedCNN
        >>> x, y = np.zeros((64, 28, 28, 1), np.float32), np.zeros(64, np.int32)
        >>> result = lr_range_test(jax.random.key(0), SeedCNN(rngs=nnx.Rngs(0)), (x, y),
        ...                        batch_size=32, steps=20, chunk_steps=10)
        >>> result.learning_rates.shape
        (20,)
    """
    _check(model, batch_size, min_lr, max_lr, steps, smoothing, divergence, chunk_steps, optimizer)
    data = prepare(train, name="train", in_channels=getattr(model, "in_channels", None))
    num_classes = output_classes(model, tuple(data.images.shape[1:]))
    if int(data.labels.max()) >= num_classes:
        raise ValueError(f"train labels must lie in [0, {num_classes}) for a model with {num_classes} outputs")
    if batch_size > len(data):
        raise ValueError(f"batch_size {batch_size} exceeds the {len(data)} training examples")

    ratio = math.log(max_lr / min_lr)

    def schedule(count):
        fraction = jnp.minimum(count, steps - 1).astype(jnp.float32) / jnp.float32(steps - 1)
        return jnp.float32(min_lr) * jnp.exp(jnp.float32(ratio) * fraction)

    transform = optimizer(schedule)
    graphdef, params, rest = split_model(model, training=True)
    params, rest = jax.tree.map(jnp.copy, (params, rest))  # never touch the caller's arrays
    with jax.numpy_dtype_promotion("standard"):
        opt_state = transform.init(params)

    chunks = math.ceil(steps / chunk_steps)
    per_epoch = len(data) // batch_size
    epochs = math.ceil(chunks * chunk_steps / per_epoch)
    order = jnp.concatenate([
        jax.random.permutation(jax.random.fold_in(key, epoch), len(data))[: per_epoch * batch_size]
        for epoch in range(epochs)
    ]).astype(jnp.int32)
    run_chunk = _make_chunk(graphdef, transform, batch_size=batch_size, chunk_steps=chunk_steps, loss=loss)

    losses: list[float] = []
    diverged_step = None
    for index in range(chunks):
        (params, rest, opt_state), values = run_chunk(
            params, rest, opt_state, data.images, data.labels, order, jnp.int32(index * chunk_steps)
        )
        losses.extend(np.asarray(values, np.float64).tolist())
        recorded = np.asarray(losses[:steps])
        smoothed = _smooth(np.where(np.isfinite(recorded), recorded, np.inf), smoothing)
        bad = ~np.isfinite(smoothed) | (smoothed > divergence * np.min(smoothed))
        if bad.any():
            diverged_step = int(np.argmax(bad))
            break

    count = steps if diverged_step is None else max(diverged_step, 1)
    losses_array = np.asarray(losses[:count], np.float64)
    rates = min_lr * np.exp(ratio * np.arange(count) / (steps - 1))
    smoothed = _smooth(losses_array, smoothing)
    min_loss_lr = float(rates[int(np.argmin(smoothed))])
    return LRRangeTest(
        learning_rates=rates, losses=losses_array, smoothed=smoothed, min_loss_lr=min_loss_lr,
        suggestion=max(min_loss_lr / SUGGESTION_DIVISOR, min_lr),
        diverged_lr=None if diverged_step is None else float(min_lr * np.exp(ratio * diverged_step / (steps - 1))),
    )
