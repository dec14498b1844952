"""How much does producing mini-batches cost next to a SeedCNN training step at batch 128?

Measures, in one process and side by side:

* ``batches``: one epoch of ``companion.data.batches`` over MNIST-sized data (60,000 x 28 x 28 x 1
  ``uint8``) at batch 128, from NumPy arrays (moved to the device once per epoch) and from arrays
  already on the device; each batch is waited for (``block_until_ready``), so dispatch
  and copy are fully counted; the cost per batch is the epoch time over the number of batches,
  so the once-per-epoch permutation and gather are included;
* a training step of ``companion.nn.SeedCNN`` (Adam, cross-entropy, ``uint8`` batch converted
  inside the step) at batch 128: a standalone ``jax.jit`` step fed one batch, and, as the
  fastest step this package runs, the per-step time of ``companion.train``'s compiled
  multi-step chunk (the loop ``fit`` uses).

The ratio ``batch / step`` must stay below 5 %. Compile time is reported separately; every
timing is the median of at least 5 repetitions after a warm-up. Prints one JSON line.

Usage: ``python benchmarks/batching.py [--repeats 7] [--quick]`` (``--quick`` uses a tenth of the
images). Set ``COMPANION_DATA_DIR`` to time the real MNIST arrays; otherwise random pixels of the
same shape are used, which cost the same.
"""

from __future__ import annotations

import os
import time

import common
import jax
import jax.numpy as jnp
import numpy as np
import optax
from flax import nnx

from companion.data import DatasetNotFoundError, batches, load, to_float
from companion.nn import SeedCNN
from companion.train import cross_entropy
from companion.train.model_state import split_model
from companion.train.steps import make_train_chunk

BATCH = 128
MNIST_SHAPE = (60_000, 28, 28, 1)
NUM_CLASSES = 10
LEARNING_RATE = 1e-3
CHUNK_STEPS = 20
BUDGET = 0.05
QUICK_FRACTION = 10  # --quick keeps one image in QUICK_FRACTION


def _median_time(fn, repeats: int) -> float:
    return common.median_seconds(fn, repeats=repeats, warmup=0)


def _data() -> tuple[np.ndarray, np.ndarray, str]:
    try:
        os.environ.setdefault("COMPANION_OFFLINE", "1")
        train = load("mnist", "train", download=False)
        return train.images, train.labels, "mnist/train"
    except DatasetNotFoundError:
        rng = np.random.default_rng(0)
        images = rng.integers(0, 256, MNIST_SHAPE, dtype=np.uint8)
        return images, rng.integers(0, NUM_CLASSES, MNIST_SHAPE[0]).astype(np.int32), "random"


def _epoch(key, images, labels) -> int:
    count = 0
    for x, y in batches(key, images, labels, BATCH):
        x.block_until_ready()
        y.block_until_ready()
        count += 1
    return count


def main() -> None:
    parser = common.parser(__doc__)
    parser.add_argument("--repeats", type=int, default=7, help="timed epochs (median reported), at least 5")
    args = parser.parse_args()
    repeats = max(common.MIN_REPEATS if args.quick else args.repeats, common.MIN_REPEATS)
    images, labels, source = _data()
    if args.quick:
        keep = images.shape[0] // QUICK_FRACTION
        images, labels = images[:keep], labels[:keep]
    key = jax.random.key(0)
    steps_per_epoch = images.shape[0] // BATCH
    device_images, device_labels = jax.device_put(images), jax.device_put(labels)

    _epoch(key, images, labels)  # warm-up: compiles the permutation, gather and slices
    numpy_epoch = _median_time(lambda: _epoch(key, images, labels), repeats)
    device_epoch = _median_time(lambda: _epoch(key, device_images, device_labels), repeats)

    model = SeedCNN(NUM_CLASSES, rngs=nnx.Rngs(0))
    tx = optax.adam(LEARNING_RATE)
    graphdef, params, rest = split_model(model, training=True)
    opt_state = tx.init(params)

    @jax.jit
    def step(params, rest, opt_state, x, y):
        def loss_fn(p):
            return cross_entropy(nnx.merge(graphdef, p, rest)(to_float(x)), y)

        loss, grads = jax.value_and_grad(loss_fn)(params)
        updates, opt_state = tx.update(grads, opt_state, params)
        return optax.apply_updates(params, updates), opt_state, loss

    x0, y0 = device_images[:BATCH], device_labels[:BATCH]
    start = time.perf_counter()
    jax.block_until_ready(step(params, rest, opt_state, x0, y0))
    step_compile = time.perf_counter() - start
    state = [params, opt_state]

    def one_step():
        state[0], state[1], loss = step(state[0], rest, state[1], x0, y0)
        loss.block_until_ready()

    one_step()
    step_time = _median_time(one_step, repeats * 3)

    chunk = jax.jit(make_train_chunk(graphdef, tx, batch_size=BATCH))
    order = jax.random.permutation(key, images.shape[0])[: steps_per_epoch * BATCH]
    zero = (jnp.zeros((), jnp.float32), jnp.zeros((), jnp.int32))
    carry = (params, rest, opt_state, *zero)
    start = time.perf_counter()
    jax.block_until_ready(chunk(carry, device_images, device_labels, order, 0, CHUNK_STEPS, key))
    chunk_compile = time.perf_counter() - start
    chunk_step = _median_time(
        lambda: jax.block_until_ready(chunk(carry, device_images, device_labels, order, 0, CHUNK_STEPS, key)),
        repeats,
    ) / CHUNK_STEPS

    per_batch_numpy = numpy_epoch / steps_per_epoch
    per_batch_device = device_epoch / steps_per_epoch
    result = {
        "benchmark": "batching",
        "data": source,
        "images": list(images.shape),
        "batch_size": BATCH,
        "batches_per_epoch": steps_per_epoch,
        "batch_ms_from_numpy": round(per_batch_numpy * 1e3, 4),
        "batch_ms_from_device": round(per_batch_device * 1e3, 4),
        "train_step_ms_jit": round(step_time * 1e3, 3),
        "train_step_ms_fit_chunk": round(chunk_step * 1e3, 3),
        "ratio_numpy_vs_jit_step": round(per_batch_numpy / step_time, 4),
        "ratio_device_vs_jit_step": round(per_batch_device / step_time, 4),
        "ratio_numpy_vs_fit_chunk_step": round(per_batch_numpy / chunk_step, 4),
        "ratio_device_vs_fit_chunk_step": round(per_batch_device / chunk_step, 4),
        "budget": BUDGET,
        "within_budget": bool(max(per_batch_numpy / chunk_step, per_batch_numpy / step_time) < BUDGET),
        "compile_s_step": round(step_compile, 2),
        "compile_s_chunk": round(chunk_compile, 2),
        "repeats": repeats,
    }
    result["summary"] = [
        common.row(f"batch from {where} vs fit step (overhead)", ours=f"{per_batch * 1e3:.3f} ms/batch",
                   reference=f"{chunk_step * 1e3:.2f} ms/step (fit)", ratio=chunk_step / per_batch,
                   compile_s=chunk_compile)
        for where, per_batch in (("NumPy", per_batch_numpy), ("device", per_batch_device))
    ]
    common.emit(result, quick=args.quick)


if __name__ == "__main__":
    main()
