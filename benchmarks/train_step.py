"""SeedCNN training throughput: ``companion.train.fit`` against an equivalent PyTorch CPU loop.

Both train the same network (conv3x3(32)-ReLU-maxpool2-conv3x3(64)-ReLU-maxpool2-dense64-dense10)
at batch 128 in float32 with Adam, for the same number of steps per epoch over in-memory data:

* companion: ``fit`` on a ``companion.data.Dataset`` of ``uint8`` images (converted on the device);
  its per-epoch ``images_per_second`` covers the whole loop (shuffling, gathering, steps,
  progress synchronisation), compile time is reported separately. It runs twice, each time in
  a fresh process: with JAX's default single CPU device, and with the CPU presented as one
  device per core (``companion.perf.use_cpu_devices``), where ``fit`` splits every batch over
  the cores (data parallelism).
* PyTorch (:func:`companion.perf.torch_seed_cnn_throughput`): a ``randperm`` per epoch, batches
  gathered from float32 tensors already in [0, 1] (NCHW, PyTorch's native layout),
  ``zero_grad``/``backward``/``step``; timed with as many threads as cores and with one thread,
  the faster counting.

The first epoch of each is a warm-up; the result is the median over the remaining epochs. MFU
is the model's training FLOP rate over the float32 matmul peak measured in the same run.
Prints one JSON line. Usage::

    python benchmarks/train_step.py [--steps 100] [--repeats 5] [--quick]
"""

from __future__ import annotations

import json
import statistics
import subprocess
import sys
import time

import common
import jax
import numpy as np
import optax
from flax import nnx

from companion.data import Dataset
from companion.nn import SeedCNN
from companion.perf import devices_for_batch, use_cpu_devices
from companion.train import fit

BATCH = 128
SIDE = 28
CLASSES = 10
LEARNING_RATE = 1e-3
QUICK_STEPS, QUICK_REPEATS = 10, 2


def matmul_peaks() -> dict:
    """Median float32 matmul FLOP/s of JAX (XLA) and, when installed, PyTorch on this machine."""
    peaks = {"jax": common.matmul_peak_flops()}
    torch_peak = common.torch_matmul_peak_flops()
    if torch_peak is not None:
        peaks["torch"] = torch_peak
    return peaks


def synthetic_data(steps: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(0)
    count = steps * BATCH
    pixels = rng.integers(0, 256, (count, SIDE, SIDE, 1), dtype=np.uint8)
    return pixels, rng.integers(0, CLASSES, count).astype(np.int32)


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


def companion_in_fresh_process(devices: int, steps: int, epochs: int) -> dict:
    """``run_companion`` in a new Python process whose CPU is ``devices`` JAX devices."""
    command = [sys.executable, __file__, "--worker-devices", str(devices), "--steps", str(steps),
               "--repeats", str(epochs - 1)]
    out = subprocess.run(command, capture_output=True, text=True, check=True)
    result = json.loads(out.stdout.strip().splitlines()[-1])
    result["devices"] = devices
    return result


def main() -> None:
    parser = common.parser(__doc__)
    parser.add_argument("--steps", type=int, default=100, help="training steps per epoch")
    parser.add_argument("--repeats", type=int, default=5, help="timed epochs after one warm-up")
    parser.add_argument("--worker-devices", type=int, default=None,
                        help="internal: run only companion's fit on this many CPU devices, print JSON")
    args = parser.parse_args()
    if args.quick:
        args.steps, args.repeats = QUICK_STEPS, QUICK_REPEATS
    epochs = args.repeats + 1
    if args.worker_devices is not None:
        use_cpu_devices(args.worker_devices)
        print(json.dumps(run_companion(*synthetic_data(args.steps), epochs)))
        return
    cores = common.cores()
    pixels, labels = synthetic_data(args.steps)

    peaks = matmul_peaks()
    split = devices_for_batch(BATCH, cores)
    runs = [companion_in_fresh_process(d, args.steps, epochs) for d in sorted({1, split})]
    companion = max(runs, key=lambda r: r["images_per_second"])
    # PyTorch's OpenMP pool can collapse when other jobs share the cores: time it with every core
    # and with one thread, and compare against the faster of the two.
    torch_runs = [r for r in (common.torch_seed_cnn_throughput(pixels, labels, epochs=epochs, threads=t,
                                                               batch_size=BATCH, learning_rate=LEARNING_RATE)
                              for t in sorted({cores, 1}))
                  if r is not None]
    torch_result = max(torch_runs, key=lambda r: r["images_per_second"]) if torch_runs else None
    peak = max(peaks.values())
    train_flops = common.TRAIN_TO_FORWARD_FLOPS * common.seed_cnn_forward_flops()
    companion_mfu = common.mfu(companion["images_per_second"] * train_flops, peak)
    result = {
        "benchmark": "train_step", "model": "SeedCNN", "batch_size": BATCH, "dtype": "float32",
        "optimizer": "adam", "steps_per_epoch": args.steps, "timed_epochs": args.repeats,
        "companion_images_per_second": round(companion["images_per_second"], 1),
        "companion_devices": companion["devices"],
        "companion_images_per_second_by_devices": {
            str(r["devices"]): round(r["images_per_second"], 1) for r in runs},
        "companion_compile_seconds": round(companion["compile_seconds"], 2),
        "companion_fit_wall_seconds": round(companion["fit_wall_seconds"], 2),
        "companion_per_epoch": [round(r, 1) for r in companion["per_epoch"]],
        "matmul_peak_gflops": {k: round(v / 1e9, 1) for k, v in peaks.items()},
        "train_gflop_per_image": round(train_flops / 1e9, 5),
        "companion_mfu": round(companion_mfu, 4),
    }
    ours = f"{companion['images_per_second']:.0f} img/s ({companion['devices']} CPU dev.)"
    if torch_result is not None:
        ratio = companion["images_per_second"] / torch_result["images_per_second"]
        result.update({
            "torch": torch_result["version"], "torch_threads": torch_result["threads"],
            "torch_images_per_second": round(torch_result["images_per_second"], 1),
            "torch_per_epoch": [round(r, 1) for r in torch_result["per_epoch"]],
            "torch_images_per_second_by_threads": {
                str(r["threads"]): round(r["images_per_second"], 1) for r in torch_runs},
            "torch_mfu": round(common.mfu(torch_result["images_per_second"] * train_flops, peak), 4),
            "ratio_companion_over_torch": round(ratio, 3),
        })
        reference = f"{torch_result['images_per_second']:.0f} img/s (torch, {torch_result['threads']} thr)"
        result["summary"] = [common.row("SeedCNN fit vs PyTorch", ours=ours, reference=reference, ratio=ratio,
                                        compile_s=companion["compile_seconds"], mfu=companion_mfu)]
    else:
        result["torch"] = "not installed (pip install torch): no side-by-side ratio"
        result["summary"] = [common.row("SeedCNN fit", ours=ours, reference="torch not installed",
                                        compile_s=companion["compile_seconds"], mfu=companion_mfu)]
    common.emit(result, quick=args.quick)


if __name__ == "__main__":
    main()
