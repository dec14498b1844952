"""SeedCNN training throughput: ``companion.train.fit`` against an equivalent PyTorch CPU loop.

Both train the same network (conv3x3(32)-ReLU-maxpool2-conv3x3(64)-ReLU-maxpool2-dense64-dense10)
at batch 128 in float32 with Adam, for the same number of steps per epoch over in-memory data:

* companion: ``fit`` on a ``companion.data.Dataset`` of ``uint8`` images (converted on the device);
  its per-epoch ``images_per_second`` covers the whole loop (shuffling, gathering, steps,
  progress synchronisation), compile time is reported separately.
* PyTorch: a ``randperm`` per epoch, batches gathered from float32 tensors already in [0, 1]
  (NCHW, PyTorch's native layout), ``zero_grad``/``backward``/``step``; timed with as many
  threads as cores and with one thread, the faster counting.

The first epoch of each is a warm-up; the result is the median over the remaining epochs. MFU
is the model's training FLOP rate over the float32 matmul peak measured in the same run.
Prints one JSON line. Usage::

    python benchmarks/train_step.py [--steps 100] [--repeats 5]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import time

import jax
import jax.numpy as jnp
import numpy as np
import optax
from flax import nnx

from companion.data import Dataset
from companion.nn import SeedCNN
from companion.train import fit

BATCH = 128
SIDE = 28
CLASSES = 10
LEARNING_RATE = 1e-3
KERNEL = 3
FEATURES = (32, 64)
HIDDEN = 64
PEAK_MATRIX = 2048
PEAK_REPEATS = 10
TRAIN_TO_FORWARD_FLOPS = 3  # backward ~ 2 x forward (gradients w.r.t. inputs and weights)


def forward_flops_per_image() -> int:
    """Multiply-adds x 2 of SeedCNN's convolutions and dense layers for one 28 x 28 image."""
    side1 = SIDE - KERNEL + 1
    side2 = side1 // 2 - KERNEL + 1
    flat = (side2 // 2) ** 2 * FEATURES[1]
    conv1 = side1 * side1 * FEATURES[0] * KERNEL * KERNEL * 1
    conv2 = side2 * side2 * FEATURES[1] * KERNEL * KERNEL * FEATURES[0]
    dense = flat * HIDDEN + HIDDEN * CLASSES
    return 2 * (conv1 + conv2 + dense)


def matmul_peak() -> dict:
    """Median float32 matmul FLOP/s of JAX (XLA) and PyTorch on this machine."""
    n = PEAK_MATRIX
    a = jax.random.normal(jax.random.key(0), (n, n))
    dot = jax.jit(jnp.dot)
    dot(a, a).block_until_ready()
    times = []
    for _ in range(PEAK_REPEATS):
        start = time.perf_counter()
        dot(a, a).block_until_ready()
        times.append(time.perf_counter() - start)
    peaks = {"jax": 2 * n**3 / statistics.median(times)}
    try:
        import torch
    except ImportError:
        return peaks
    t = torch.randn(n, n)
    t @ t
    times = []
    for _ in range(PEAK_REPEATS):
        start = time.perf_counter()
        t @ t
        times.append(time.perf_counter() - start)
    peaks["torch"] = 2 * n**3 / statistics.median(times)
    return peaks


def run_companion(pixels: np.ndarray, labels: np.ndarray, epochs: int) -> dict:
    data = Dataset(pixels, labels, tuple(str(i) for i in range(CLASSES)), "synthetic")
    model = SeedCNN(rngs=nnx.Rngs(0))
    start = time.perf_counter()
    history = fit(model, data, epochs=epochs, batch_size=BATCH, optimizer=optax.adam(LEARNING_RATE),
                  key=jax.random.key(0), progress=False)
    total = time.perf_counter() - start
    rates = history.images_per_second[1:]
    return {"images_per_second": statistics.median(rates), "per_epoch": rates,
            "compile_seconds": history.compile_seconds, "fit_wall_seconds": total,
            "final_loss": history.train_loss[-1]}


def run_torch(pixels: np.ndarray, labels: np.ndarray, epochs: int, threads: int) -> dict | None:
    try:
        import torch
        from torch import nn
    except ImportError:
        return None
    torch.set_num_threads(threads)
    torch.manual_seed(0)
    model = nn.Sequential(
        nn.Conv2d(1, FEATURES[0], KERNEL), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(FEATURES[0], FEATURES[1], KERNEL), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(), nn.Linear(forward_flat(), HIDDEN), nn.ReLU(), nn.Linear(HIDDEN, CLASSES),
    )
    optimizer = torch.optim.Adam(model.parameters(), lr=LEARNING_RATE)
    loss_fn = nn.CrossEntropyLoss()
    images = torch.from_numpy(pixels.transpose(0, 3, 1, 2).astype(np.float32) / np.float32(255))
    targets = torch.from_numpy(labels.astype(np.int64))
    steps = len(targets) // BATCH
    rates, loss = [], None
    for _ in range(epochs):
        start = time.perf_counter()
        order = torch.randperm(len(targets))
        for step in range(steps):
            rows = order[step * BATCH : (step + 1) * BATCH]
            optimizer.zero_grad(set_to_none=True)
            loss = loss_fn(model(images[rows]), targets[rows])
            loss.backward()
            optimizer.step()
        loss_value = loss.item()
        rates.append(steps * BATCH / (time.perf_counter() - start))
    return {"images_per_second": statistics.median(rates[1:]), "per_epoch": rates[1:],
            "final_loss": loss_value, "version": torch.__version__, "threads": threads}


def forward_flat() -> int:
    side = ((SIDE - KERNEL + 1) // 2 - KERNEL + 1) // 2
    return side * side * FEATURES[1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=100, help="training steps per epoch")
    parser.add_argument("--repeats", type=int, default=5, help="timed epochs after one warm-up")
    args = parser.parse_args()
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    rng = np.random.default_rng(0)
    count = args.steps * BATCH
    pixels = rng.integers(0, 256, (count, SIDE, SIDE, 1), dtype=np.uint8)
    labels = rng.integers(0, CLASSES, count).astype(np.int32)
    epochs = args.repeats + 1

    peaks = matmul_peak()
    companion = run_companion(pixels, labels, epochs)
    # PyTorch's OpenMP pool can collapse when other jobs share the cores: time it with every core
    # and with one thread, and compare against the faster of the two.
    torch_runs = [r for r in (run_torch(pixels, labels, epochs, t) for t in sorted({cores, 1}))
                  if r is not None]
    torch_result = max(torch_runs, key=lambda r: r["images_per_second"]) if torch_runs else None
    peak = max(peaks.values())
    train_flops = TRAIN_TO_FORWARD_FLOPS * forward_flops_per_image()
    result = {
        "benchmark": "train_step", "model": "SeedCNN", "batch_size": BATCH, "dtype": "float32",
        "optimizer": "adam", "steps_per_epoch": args.steps, "timed_epochs": args.repeats,
        "cores": cores, "device": jax.devices()[0].device_kind, "jax": jax.__version__,
        "python": platform.python_version(),
        "companion_images_per_second": round(companion["images_per_second"], 1),
        "companion_compile_seconds": round(companion["compile_seconds"], 2),
        "companion_fit_wall_seconds": round(companion["fit_wall_seconds"], 2),
        "companion_per_epoch": [round(r, 1) for r in companion["per_epoch"]],
        "matmul_peak_gflops": {k: round(v / 1e9, 1) for k, v in peaks.items()},
        "train_gflop_per_image": round(train_flops / 1e9, 5),
        "companion_mfu": round(companion["images_per_second"] * train_flops / peak, 4),
    }
    if torch_result is not None:
        result.update({
            "torch": torch_result["version"], "torch_threads": torch_result["threads"],
            "torch_images_per_second": round(torch_result["images_per_second"], 1),
            "torch_per_epoch": [round(r, 1) for r in torch_result["per_epoch"]],
            "torch_images_per_second_by_threads": {
                str(r["threads"]): round(r["images_per_second"], 1) for r in torch_runs},
            "torch_mfu": round(torch_result["images_per_second"] * train_flops / peak, 4),
            "ratio_companion_over_torch": round(
                companion["images_per_second"] / torch_result["images_per_second"], 3),
        })
    else:
        result["torch"] = "not installed (pip install torch): no side-by-side ratio"
    print(json.dumps(result))


if __name__ == "__main__":
    main()
