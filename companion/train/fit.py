"""``fit``: train a classifier with a jitted, on-device training loop."""

from __future__ import annotations

import math
import pathlib
import time

import jax
import jax.numpy as jnp
import numpy as np
import optax
from flax import nnx
from tqdm import tqdm  # the text bar: works in terminals and notebooks without ipywidgets

from companion.train.checkpoint import checkpoint_exists, restore_checkpoint, save_checkpoint
from companion.train.evaluate import DEFAULT_BATCH_SIZE, DEFAULT_TOP_K, summarize
from companion.train.history import History
from companion.train.inputs import DeviceData, prepare
from companion.train.model_state import output_classes, split_model
from companion.train.sharding import (
    batch_sharding,
    check_divisible,
    devices_along_batch,
    replicate,
    resolve_mesh,
)
from companion.train.steps import make_evaluator, make_train_chunk

PROGRESS_UPDATES_PER_EPOCH = 10
LAST, BEST = "last", "best"
AUGMENT_STREAM = 2**31 - 1  # augmentation keys: fold_in(fold_in(key, AUGMENT_STREAM), epoch)


def _check_options(
    epochs, batch_size, optimizer, key, patience, label_smoothing, augment, loss
) -> jax.Array:
    if not isinstance(epochs, int) or epochs < 0:
        raise ValueError(f"epochs must be an int >= 0; got {epochs!r}")
    if not isinstance(batch_size, int) or batch_size < 1:
        raise ValueError(f"batch_size must be an int >= 1; got {batch_size!r}")
    if not isinstance(optimizer, optax.GradientTransformation):
        raise TypeError(
            f"optimizer must be an optax.GradientTransformation (e.g. optax.adam(1e-3)); "
            f"got {type(optimizer).__name__}"
        )
    if patience is not None and (not isinstance(patience, int) or patience < 1):
        raise ValueError(f"patience must be None or an int >= 1; got {patience!r}")
    if augment is not None and not callable(augment):
        raise TypeError(f"augment must be a function augment(key, batch) -> batch; got {augment!r}")
    if not 0.0 <= label_smoothing < 1.0:
        raise ValueError(f"label_smoothing must lie in [0, 1); got {label_smoothing}")
    if loss is not None and not callable(loss):
        raise TypeError(f"loss must be a function loss(logits, labels) -> scalar; got {loss!r}")
    if loss is not None and label_smoothing:
        raise ValueError("label_smoothing applies to the default cross-entropy only; with a custom loss, "
                         f"smooth inside it (got label_smoothing={label_smoothing} and loss={loss!r})")
    key = jnp.asarray(key)
    if not jax.dtypes.issubdtype(key.dtype, jax.dtypes.prng_key):
        if key.shape != (2,) or key.dtype != jnp.uint32:
            raise TypeError(f"key must be a jax.random.key; got {key.dtype}{list(key.shape)}")
        key = jax.random.wrap_key_data(key)
    return key


def _check_loss(loss, batch_size: int, num_classes: int) -> None:
    """Trace ``loss`` abstractly on one batch: it must return a float32 scalar."""
    logits = jax.ShapeDtypeStruct((batch_size, num_classes), jnp.float32)
    labels = jax.ShapeDtypeStruct((batch_size,), jnp.int32)
    out = jax.eval_shape(loss, logits, labels)
    if not hasattr(out, "shape") or out.shape != () or out.dtype != jnp.float32:
        raise ValueError(
            "loss(logits (B, K) float32, labels (B,) int32) must return a float32 scalar (the batch "
            f"mean); got {getattr(out, 'dtype', type(out).__name__)}{list(getattr(out, 'shape', []))}"
        )


def _prepare_all(model, train, eval_data) -> tuple[DeviceData, DeviceData | None, int]:
    in_channels = getattr(model, "in_channels", None)
    train_arrays = prepare(train, name="train", in_channels=in_channels)
    image_shape = tuple(train_arrays.images.shape[1:])
    num_classes = output_classes(model, image_shape)
    high = int(train_arrays.labels.max())
    if high >= num_classes:
        raise ValueError(
            f"train labels must lie in [0, {num_classes}) for a model with {num_classes} outputs; "
            f"got values up to {high}"
        )
    eval_arrays = None
    if eval_data is not None:
        eval_arrays = prepare(
            eval_data, name="eval", in_channels=in_channels, num_classes=num_classes,
            image_shape=image_shape,
        )
    return train_arrays, eval_arrays, num_classes


def fit(
    model: nnx.Module, train, *, epochs: int, batch_size: int,
    optimizer: optax.GradientTransformation, key: jax.Array, eval=None, progress: bool = True,
    mesh=None, patience: int | None = None, restore_best: bool = False,
    checkpoint_dir: str | None = None, label_smoothing: float = 0.0,
    eval_batch_size: int = DEFAULT_BATCH_SIZE, augment=None, loss=None,
) -> History:
    """Train ``model`` in place with softmax cross-entropy and return its per-epoch History.

    The data go to the device once. Each epoch draws a permutation from
    ``jax.random.fold_in(key, epoch)``, drops the last incomplete batch, and runs its steps in
    a compiled loop that gathers every batch on the device (``uint8`` pixels are converted to
    float32 in [0, 1] there). Dropout and BatchNorm are in training mode during the steps and in
    evaluation mode for ``eval``. Given the same model initialisation and ``key``, a run is
    deterministic.

    Args:
        model: an NNX classifier mapping float32 ``(N, H, W, C)`` images to logits ``(N, K)``;
            updated in place.
        train: a ``companion.data.Dataset`` (``uint8``) or an ``(images, labels)`` pair of float32
            images in [0, 1] and integer labels.
        epochs: passes over the training data (the total, also when resuming).
        batch_size: examples per step.
        optimizer: an optax gradient transformation; schedules count its steps.
        key: a ``jax.random.key`` for shuffling.
        eval: optional data of the same kinds, evaluated after every epoch.
        progress: show a tqdm bar with live loss and accuracy and one line per epoch.
        mesh: a ``jax.sharding.Mesh`` for data parallelism (e.g.
            ``companion.train.data_mesh()``): every batch is split over its ``"data"`` axis
            with a ``NamedSharding`` and the parameters are replicated, so each device computes
            ``batch_size / devices`` examples and XLA all-reduces the gradients. ``None`` uses
            every device when there is more than one, else trains unsharded. The same key and
            global batch give the same losses as one device, up to float rounding.
        patience: stop after this many epochs without improvement of the eval accuracy (of the
            training loss without ``eval``); ``None`` trains all epochs.
        restore_best: end with the weights of the best epoch instead of the last.
        checkpoint_dir: if given, save ``last`` (every epoch) and ``best`` checkpoints there with
            orbax, and resume from ``last`` when it exists.
        label_smoothing: label smoothing of the loss, in [0, 1).
        eval_batch_size: batch size of the evaluation passes.
        augment: optional jittable ``augment(key, batch) -> batch`` applied to every float32
            training batch ``(B, H, W, C)`` inside the compiled loop (e.g. random flips and
            shifts); its keys derive from ``key``.
        loss: optional ``loss(logits (B, K), labels (B,)) -> float32 scalar`` (the batch mean)
            replacing the cross-entropy for training, e.g. class-weighted or focal losses; the
            reported eval loss stays the cross-entropy.

    Returns:
        The :class:`History` (with the epochs of a resumed run's earlier part).

    Raises:
        ValueError: bad sizes, a batch size that the mesh's devices do not divide, image and label
            counts that differ, labels out of range, wrong channel count, float pixels outside
            [0, 1], a loss that does not return a scalar.
        TypeError: ``uint8`` images in an ``(images, labels)`` pair, a non-optax optimizer, a
            ``mesh`` that is not a ``jax.sharding.Mesh``.

    Example:
        >>> from companion.nn import SeedCNN
        >>> x, y = np.zeros((64, 28, 28, 1), np.float32), np.zeros(64, np.int32)
        >>> history = fit(SeedCNN(rngs=nnx.Rngs(0)), (x, y), epochs=1, batch_size=32,
        ...               optimizer=optax.adam(1e-3), key=jax.random.key(0), progress=False)
        >>> history.epochs
        1
    """
    key = _check_options(epochs, batch_size, optimizer, key, patience, label_smoothing, augment, loss)
    mesh = resolve_mesh(mesh)
    if mesh is not None:
        check_divisible(batch_size, mesh)
    augment_key = jax.random.fold_in(key, AUGMENT_STREAM)
    train_arrays, eval_arrays, num_classes = _prepare_all(model, train, eval)
    steps = len(train_arrays) // batch_size
    if steps == 0:
        raise ValueError(
            f"batch_size {batch_size} exceeds the {len(train_arrays)} training examples"
        )
    if loss is not None:
        _check_loss(loss, batch_size, num_classes)
    place, shard = _placement(mesh)

    train_graph, params, rest = split_model(model, training=True)
    eval_graph, _, _ = split_model(model, training=False)
    with jax.numpy_dtype_promotion("standard"):  # optax is not written for strict promotion
        opt_state = optimizer.init(params)
    history, monitor = History(), _Monitor(patience)
    best_state, start_epoch = None, 0
    directory = pathlib.Path(checkpoint_dir).absolute() if checkpoint_dir else None
    if directory is not None and checkpoint_exists(directory / LAST):
        (params, rest, opt_state), meta = restore_checkpoint(directory / LAST, (params, rest, opt_state))
        history, start_epoch = History.from_dict(meta["history"]), meta["epoch"]
        monitor.load(meta["monitor"])
        if restore_best and checkpoint_exists(directory / BEST):
            best_state, _ = restore_checkpoint(directory / BEST, (params, rest))
    params, rest, opt_state = place((params, rest, opt_state))
    train_images, train_labels = place((train_arrays.images, train_arrays.labels))

    chunk_size = max(1, math.ceil(steps / PROGRESS_UPDATES_PER_EPOCH))
    zero_f, zero_i = place((jnp.zeros((), jnp.float32), jnp.zeros((), jnp.int32)))
    order_shape = jax.ShapeDtypeStruct((steps * batch_size,), jnp.int32,
                                       sharding=None if mesh is None else zero_i.sharding)
    started = time.perf_counter()
    chunk = jax.jit(make_train_chunk(train_graph, optimizer, batch_size=batch_size,
                                     label_smoothing=label_smoothing, augment=augment, loss=loss,
                                     batch_sharding=shard)).lower(
        (params, rest, opt_state, zero_f, zero_i), train_images, train_labels,
        order_shape, zero_i, zero_i, place(augment_key),
    ).compile()
    history.compile_seconds = time.perf_counter() - started
    evaluator = None
    if eval_arrays is not None:
        k = min(DEFAULT_TOP_K, num_classes)
        ways = 1 if mesh is None else devices_along_batch(mesh)
        eval_batch = -(-min(eval_batch_size, len(eval_arrays)) // ways) * ways  # masked padding
        evaluator = jax.jit(make_evaluator(
            eval_graph, batch_size=eval_batch, num_classes=num_classes, top_k=k, batch_sharding=shard,
        ))
        eval_images, eval_labels = place((eval_arrays.images, eval_arrays.labels))

    bar = tqdm(total=(epochs - start_epoch) * steps, disable=not progress, unit="step",
               dynamic_ncols=True)
    try:
        for epoch in range(start_epoch, epochs):
            if monitor.should_stop:
                break
            order = jax.random.permutation(jax.random.fold_in(key, epoch), len(train_arrays))
            epoch_augment_key = jax.random.fold_in(augment_key, epoch)
            order = place(order[: steps * batch_size].astype(jnp.int32))
            epoch_augment_key = place(epoch_augment_key)
            carry = (params, rest, opt_state, zero_f, zero_i)
            started = time.perf_counter()
            for first in range(0, steps, chunk_size):
                last = min(first + chunk_size, steps)
                carry = chunk(carry, train_images, train_labels, order,
                              *place((jnp.int32(first), jnp.int32(last))), epoch_augment_key)
                if progress:
                    bar.update(last - first)
                    bar.set_postfix(epoch=epoch + 1, loss=f"{float(carry[3]) / last:.4f}",
                                    acc=f"{int(carry[4]) / (last * batch_size):.4f}")
            params, rest, opt_state, loss_sum, correct = jax.block_until_ready(carry)
            seconds = time.perf_counter() - started
            history.train_loss.append(float(loss_sum) / steps)
            history.train_accuracy.append(int(correct) / (steps * batch_size))
            history.images_per_second.append(steps * batch_size / seconds)
            history.epoch_seconds.append(seconds)
            eval_accuracy, eval_loss = math.nan, math.nan
            if evaluator is not None:
                scores = summarize(evaluator(params, rest, eval_images, eval_labels),
                                   num_examples=len(eval_arrays), top_k=k)
                eval_accuracy, eval_loss = scores["accuracy"], scores["loss"]
            history.eval_accuracy.append(eval_accuracy)
            history.eval_loss.append(eval_loss)
            value = eval_accuracy if evaluator is not None else -history.train_loss[-1]
            improved = monitor.update(value, epoch)
            history.best_epoch = monitor.best_epoch
            if improved and restore_best:
                best_state = jax.tree.map(jnp.copy, (params, rest))
            if directory is not None:
                if improved:
                    save_checkpoint(directory / BEST, (params, rest), metadata={"epoch": epoch + 1})
                save_checkpoint(directory / LAST, (params, rest, opt_state), metadata={
                    "epoch": epoch + 1, "history": history.to_dict(), "monitor": monitor.dump(),
                })
            if progress:
                bar.write(_epoch_line(history, epoch, epochs))
        history.stopped_early = monitor.should_stop and history.epochs < epochs
    finally:
        bar.close()
    if restore_best and best_state is not None:
        params, rest = best_state
    nnx.update(model, params, rest)
    return history


def _placement(mesh):
    """``(place, batch_sharding)``: replicate arrays over ``mesh`` and split batches, or no-ops."""
    if mesh is None:
        return (lambda tree: tree), None
    return (lambda tree: replicate(tree, mesh)), batch_sharding(mesh)


def _epoch_line(history: History, epoch: int, epochs: int) -> str:
    line = (f"epoch {epoch + 1}/{epochs}: loss {history.train_loss[-1]:.4f}, "
            f"train accuracy {history.train_accuracy[-1]:.4f}")
    if not math.isnan(history.eval_accuracy[-1]):
        line += f", eval accuracy {history.eval_accuracy[-1]:.4f}"
    return line + f", {history.images_per_second[-1]:,.0f} images/s"


class _Monitor:
    """Early-stopping bookkeeping: the best value so far and the epochs since it."""

    def __init__(self, patience: int | None) -> None:
        self.patience, self.best, self.best_epoch, self.waited = patience, -np.inf, None, 0

    def update(self, value: float, epoch: int) -> bool:
        if value > self.best:
            self.best, self.best_epoch, self.waited = value, epoch, 0
            return True
        self.waited += 1
        return False

    @property
    def should_stop(self) -> bool:
        return self.patience is not None and self.waited >= self.patience

    def dump(self) -> dict:
        return {"best": float(self.best), "best_epoch": self.best_epoch, "waited": self.waited}

    def load(self, saved: dict) -> None:
        self.best, self.best_epoch, self.waited = saved["best"], saved["best_epoch"], saved["waited"]
