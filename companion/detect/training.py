"""``fit_with_loss``: a jitted training loop for models whose loss is not classification.

``companion.train.fit`` trains classifiers with cross-entropy. Detectors, segmenters and
distilled students need other losses, so this loop takes the loss as a function of the model
and one batch. The data (any pytree of arrays sharing their first axis) go to the device once;
each epoch draws a permutation and runs all its steps in one compiled ``fori_loop``.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import jax
import jax.numpy as jnp
import optax
from flax import nnx


def _first_axis(data: Any) -> int:
    leaves = jax.tree.leaves(data)
    if not leaves:
        raise ValueError("data must hold at least one array")
    sizes = {int(jnp.shape(leaf)[0]) for leaf in leaves}
    if len(sizes) != 1:
        raise ValueError(f"every array in data must have the same first axis; got sizes {sorted(sizes)}")
    return sizes.pop()


def fit_with_loss(
    model: nnx.Module, data: Any, *, loss_fn: Callable[[nnx.Module, Any], jax.Array], epochs: int,
    batch_size: int, optimizer: optax.GradientTransformation, key: jax.Array, progress: bool = False,
) -> list[float]:
    """Train ``model`` in place by minimising ``loss_fn(model, batch)``; return the mean loss per epoch.

    Args:
        model: an NNX module (updated in place).
        data: a pytree of arrays whose first axis indexes the examples, e.g.
            ``(images, targets)``; a batch is the same pytree sliced along that axis.
        loss_fn: ``loss_fn(model, batch) -> scalar``, written with ``jax.numpy`` (it is traced).
        epochs: passes over the data.
        batch_size: examples per step; the last incomplete batch of an epoch is dropped.
        optimizer: an optax gradient transformation.
        key: a ``jax.random.key`` for the shuffling.
        progress: print one line per epoch.

    Returns:
        The mean training loss of each epoch, a list of ``epochs`` floats.

    Example:
        >>> model = nnx.Linear(2, 1, rngs=nnx.Rngs(0))
        >>> data = (jnp.ones((8, 2)), jnp.zeros((8, 1)))
        >>> loss = lambda m, b: jnp.mean((m(b[0]) - b[1]) ** 2)
        >>> losses = fit_with_loss(model, data, loss_fn=loss, epochs=2, batch_size=4,
        ...                        optimizer=optax.sgd(0.1), key=jax.random.key(0))
        >>> len(losses)
        2
    """
    if not isinstance(epochs, int) or epochs < 0:
        raise ValueError(f"epochs must be an int >= 0; got {epochs!r}")
    if not isinstance(optimizer, optax.GradientTransformation):
        raise TypeError(f"optimizer must be an optax.GradientTransformation; got {type(optimizer).__name__}")
    count = _first_axis(data)
    if not isinstance(batch_size, int) or not 1 <= batch_size <= count:
        raise ValueError(f"batch_size must be an int in [1, {count}] (the number of examples); got {batch_size!r}")
    steps = count // batch_size
    data = jax.tree.map(jnp.asarray, data)
    graphdef, params, rest = nnx.split(model, nnx.Param, ...)
    with jax.numpy_dtype_promotion("standard"):  # optax is not written for strict promotion
        opt_state = optimizer.init(params)

    def batch_loss(params, rest, batch):
        return loss_fn(nnx.merge(graphdef, params, rest), batch)

    grad_fn = jax.value_and_grad(batch_loss)

    @jax.jit
    def epoch(params, rest, opt_state, data, order):
        def step(index, carry):
            params, opt_state, total = carry
            rows = jax.lax.dynamic_slice_in_dim(order, index * batch_size, batch_size)
            batch = jax.tree.map(lambda leaf: leaf[rows], data)
            loss, grads = grad_fn(params, rest, batch)
            with jax.numpy_dtype_promotion("standard"):
                updates, opt_state = optimizer.update(grads, opt_state, params)
            return optax.apply_updates(params, updates), opt_state, total + loss

        params, opt_state, total = jax.lax.fori_loop(
            0, steps, step, (params, opt_state, jnp.zeros((), jnp.float32)))
        return params, opt_state, total / steps

    losses = []
    for index in range(epochs):
        started = time.perf_counter()
        order = jax.random.permutation(jax.random.fold_in(key, index), count).astype(jnp.int32)
        params, opt_state, loss = epoch(params, rest, opt_state, data, order)
        losses.append(float(loss))
        if progress:
            print(f"epoch {index + 1}/{epochs}: loss {losses[-1]:.4f} ({time.perf_counter() - started:.1f} s)")
    nnx.update(model, params, rest)
    return losses
