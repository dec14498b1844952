"""Pure, jittable training and evaluation programs over data that stay on the device.

A training *chunk* runs the steps ``start .. stop - 1`` of an epoch in one compiled loop: each
step gathers its batch from the on-device images by the epoch's permutation, converts it to
float32, computes the loss and its gradient, and applies the optimizer. ``fit`` calls a chunk a
few times per epoch so a progress bar can update between them; the compiled program is the same
for every chunk, so it compiles once.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import jax
import jax.numpy as jnp
import optax
from flax import nnx

from companion.train.inputs import batch_to_float
from companion.train.metrics import top_k_hits

Carry = tuple[Any, Any, Any, jax.Array, jax.Array]  # params, rest, opt_state, loss sum, correct


def cross_entropy(logits: jax.Array, labels: jax.Array, *, label_smoothing: float = 0.0) -> jax.Array:
    """Mean softmax cross-entropy of integer labels, optionally with label smoothing.

    With smoothing :math:`\\varepsilon`, the target puts :math:`1 - \\varepsilon` on the true
    class and spreads :math:`\\varepsilon` uniformly over all :math:`K` classes.

    Args:
        logits: ``(B, K)`` scores.
        labels: ``(B,)`` integer class ids.
        label_smoothing: :math:`\\varepsilon` in [0, 1).

    Returns:
        A float32 scalar.

    Example:
        >>> cross_entropy(jnp.zeros((2, 4)), jnp.array([0, 3]))
        Array(1.3862944, dtype=float32)
    """
    if label_smoothing == 0.0:
        return optax.softmax_cross_entropy_with_integer_labels(logits, labels).mean()
    targets = optax.smooth_labels(jax.nn.one_hot(labels, logits.shape[-1]), label_smoothing)
    return optax.softmax_cross_entropy(logits, targets).mean()


def make_train_chunk(
    graphdef: Any, optimizer: optax.GradientTransformation, *, batch_size: int,
    label_smoothing: float = 0.0, augment: Callable[[jax.Array, jax.Array], jax.Array] | None = None,
    loss: Callable[[jax.Array, jax.Array], jax.Array] | None = None, batch_sharding: Any = None,
) -> Callable[..., Carry]:
    """Build ``chunk(carry, images, labels, order, start, stop, key) -> carry`` (not yet jitted).

    Args:
        graphdef: the model's graph in training mode (from ``split_model``).
        optimizer: an optax gradient transformation.
        batch_size: examples per step.
        label_smoothing: passed to :func:`cross_entropy`.
        augment: optional ``augment(key, batch) -> batch`` applied to each float32 batch
            ``(B, H, W, C)``; step ``i`` uses ``jax.random.fold_in(key, i)``.
        loss: optional ``loss(logits (B, K), labels (B,)) -> scalar`` replacing the
            cross-entropy (``label_smoothing`` must then be 0).
        batch_sharding: optional ``jax.sharding.NamedSharding`` each gathered batch is
            constrained to (data parallelism; see ``companion.train.sharding``).

    Returns:
        A pure function. ``carry`` is ``(params, rest, opt_state, loss_sum, correct)``;
        ``images`` ``(N, H, W, C)`` and ``labels`` ``(N,)`` live on the device; ``order`` is the
        epoch's permutation ``(steps * batch_size,)``; the steps ``start .. stop - 1`` run;
        ``key`` is the epoch's augmentation key.

    Example:
        >>> chunk = jax.jit(make_train_chunk(graphdef, optax.adam(1e-3), batch_size=32))  # doctest: +SKIP
    """

    def loss_fn(model, images, labels):
        logits = model(images)
        if loss is not None:
            return loss(logits, labels), logits
        return cross_entropy(logits, labels, label_smoothing=label_smoothing), logits

    grad_fn = nnx.value_and_grad(loss_fn, has_aux=True)

    def chunk(carry, images, labels, order, start, stop, key):
        def step(index, carry):
            params, rest, opt_state, loss_sum, correct = carry
            rows = jax.lax.dynamic_slice_in_dim(order, index * batch_size, batch_size)
            batch, batch_labels = _shard(batch_sharding, images[rows], labels[rows])
            model = nnx.merge(graphdef, params, rest)
            batch = batch_to_float(batch)
            if augment is not None:
                batch = augment(jax.random.fold_in(key, index), batch)
            (batch_loss, logits), grads = grad_fn(model, batch, batch_labels)
            _, _, rest = nnx.split(model, nnx.Param, ...)
            with jax.numpy_dtype_promotion("standard"):  # optax mixes Python floats and int counts
                updates, opt_state = optimizer.update(grads, opt_state, params)
            params = optax.apply_updates(params, updates)
            hits = jnp.sum(jnp.argmax(logits, axis=-1) == batch_labels, dtype=jnp.int32)
            return params, rest, opt_state, loss_sum + batch_loss, correct + hits

        return jax.lax.fori_loop(start, stop, step, carry)

    return chunk


def make_evaluator(
    graphdef: Any, *, batch_size: int, num_classes: int, top_k: int, batch_sharding: Any = None,
) -> Callable[..., dict[str, jax.Array]]:
    """Build ``evaluator(params, rest, images, labels) -> sums`` (not yet jitted).

    The data are walked in batches of ``batch_size`` inside one compiled loop; the last batch
    is completed with repeated rows that a mask leaves out. Only per-batch logits exist at any
    time, never the logits of the whole set.

    Args:
        graphdef: the model's graph in evaluation mode.
        batch_size: examples per batch.
        num_classes: ``K``.
        top_k: the ``k`` of the top-k count.
        batch_sharding: optional ``NamedSharding`` each batch is constrained to.

    Returns:
        A pure function returning ``confusion`` ``(K, K)`` int32, ``top_k_correct`` int32 and
        ``loss_sum`` float32 (sum of per-example cross-entropies).

    Example:
        >>> evaluator = jax.jit(make_evaluator(graphdef, batch_size=256, num_classes=10, top_k=5))  # doctest: +SKIP
    """

    def evaluator(params, rest, images, labels):
        count = images.shape[0]
        batches = -(-count // batch_size)
        model = nnx.merge(graphdef, params, rest)

        def body(index, sums):
            rows = index * batch_size + jnp.arange(batch_size)
            valid = rows < count
            rows = jnp.minimum(rows, count - 1)
            x, y = _shard(batch_sharding, images[rows], labels[rows])
            x = batch_to_float(x)
            logits = model(x)
            predicted = jnp.argmax(logits, axis=-1)
            weight = valid.astype(jnp.int32)
            confusion = sums["confusion"].at[y, predicted].add(weight)
            hits = jnp.sum(top_k_hits(y, logits, k=top_k) & valid, dtype=jnp.int32)
            losses = optax.softmax_cross_entropy_with_integer_labels(logits, y)
            return {
                "confusion": confusion,
                "top_k_correct": sums["top_k_correct"] + hits,
                "loss_sum": sums["loss_sum"] + jnp.sum(jnp.where(valid, losses, 0.0)),
            }

        start = {
            "confusion": jnp.zeros((num_classes, num_classes), jnp.int32),
            "top_k_correct": jnp.zeros((), jnp.int32),
            "loss_sum": jnp.zeros((), jnp.float32),
        }
        return jax.lax.fori_loop(0, batches, body, start)

    return evaluator


def _shard(sharding: Any, *arrays: jax.Array) -> tuple[jax.Array, ...]:
    """Constrain batch arrays to ``sharding`` (split by rows over devices); no-op without one."""
    if sharding is None:
        return arrays
    return tuple(jax.lax.with_sharding_constraint(a, sharding) for a in arrays)
