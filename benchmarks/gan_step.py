"""DCGAN generator training step: ``companion.gan.Generator`` against the same network in PyTorch.

The generator is dense(100 -> 7 x 7 x 128)-BN-ReLU, 4 x 4 stride-2 transposed convolution to
64 channels-BN-ReLU, 4 x 4 stride-2 transposed convolution to 1 channel, tanh (28 x 28 output).
One step: sample-free forward on a fixed batch of 128 latent vectors, mean squared error against a
fixed target batch, backward, Adam. The versions run side by side, interleaved, in one process:

* ``companion (overlap_add)`` and ``companion (phase)``: the package's ``Generator`` with each
  of its exact transposed convolutions (:class:`companion.gan.OverlapAddConvTranspose`: one
  matrix product by all 16 taps, then overlap-add; :class:`companion.gan.PhaseConvTranspose`:
  phase decomposition), jitted as one pure step with optax.
* ``conv_transpose``: the same model with its upsampling layers replaced by ``nnx.ConvTranspose``
  holding the same kernels (``lax.conv_transpose``), the baseline the issue measured.
* ``companion (...), N CPU devices``: the same steps with the CPU presented as one JAX device per core
  (``companion.perf.use_cpu_devices``) and the batch split over them (data parallelism).
* ``torch``: ``nn.ConvTranspose2d(..., 4, 2, 1)`` and friends, ``zero_grad``/``backward``/``step``,
  with PyTorch's default thread count.

Both frameworks run in one process after ``companion.perf.keep_freed_memory()``, which keeps
glibc from handing freed buffers back to the OS between steps (both steps page-faulted tens of
megabytes per step without it); ``--default-malloc`` leaves glibc's defaults instead.

Reported: median seconds per step (``--repeats`` timings of ``--steps`` steps each after a
warm-up), speed ratios against PyTorch, compile time, parameter counts of both generators, the
model's analytic FLOPs per step, the FLOPs XLA and PyTorch's flop counter count for the steps,
and MFU against a float32 matmul peak measured in the same run. Prints one JSON line. Usage::

    python benchmarks/gan_step.py [--steps 10] [--repeats 7] [--single-thread] [--default-malloc] [--quick]

``--single-thread`` runs XLA and PyTorch on one thread each, a comparison that suffers less from
other processes competing for the cores.
"""

from __future__ import annotations

import os
import statistics
import sys
import time

import common
import jax
import jax.numpy as jnp
import numpy as np
import optax
from flax import nnx
from jax.sharding import Mesh, NamedSharding
from jax.sharding import PartitionSpec as P

from companion.gan import Generator
from companion.perf import devices_for_batch, keep_freed_memory, use_cpu_devices
from companion.train import parameter_count
from companion.train.model_state import split_model

SINGLE_THREAD = "--single-thread" in sys.argv
if SINGLE_THREAD:  # read when XLA's CPU backend starts, i.e. at the first computation below
    os.environ["XLA_FLAGS"] = (
        os.environ.get("XLA_FLAGS", "") + " --xla_cpu_multi_thread_eigen=false intra_op_parallelism_threads=1"
    )

BATCH = 128
LATENT = 100
SIDE = 28
WIDTH = 64
BASE = SIDE // 4
KERNEL = 4
LEARNING_RATE = 2e-4
QUICK_STEPS, QUICK_REPEATS = 2, 5
TRAIN_TO_FORWARD_FLOPS = 3
UPSAMPLE_VERSIONS = ("overlap_add", "phase")  # the generator's exact transposed convolutions


def analytic_flops_per_step() -> int:
    """2 x multiply-adds of the dense layer and both transposed convolutions, times 3 (train)."""
    hidden = 2 * WIDTH
    dense = LATENT * BASE * BASE * hidden
    up1 = BASE * BASE * hidden * WIDTH * KERNEL * KERNEL  # every input pixel meets the whole kernel
    up2 = (2 * BASE) ** 2 * WIDTH * 1 * KERNEL * KERNEL
    return TRAIN_TO_FORWARD_FLOPS * 2 * BATCH * (dense + up1 + up2)


def jax_step(model: nnx.Module, z: jax.Array, target: jax.Array, mesh: Mesh | None = None):
    """A jitted pure step and its initial state for ``model``; returns (run, compile_s, flops).

    With a ``mesh``, the batch is split over its ``"data"`` axis and the state is replicated, so
    XLA partitions the step data-parallel (BatchNorm statistics and gradients all-reduced).
    """
    graphdef, params, rest = split_model(model, training=True)
    tx = optax.adam(LEARNING_RATE, b1=0.5)

    def step(state, z, target):
        params, rest, opt = state

        model = nnx.merge(graphdef, params, rest)
        loss, grads = nnx.value_and_grad(lambda m: jnp.mean((m(z) - target) ** 2))(model)
        rest = nnx.state(model, nnx.Not(nnx.Param))
        updates, opt = tx.update(grads, opt, params)
        return (optax.apply_updates(params, updates), rest, opt), loss

    state = (params, rest, tx.init(params))
    if mesh is not None:
        z, target = jax.device_put((z, target), NamedSharding(mesh, P("data")))
        state = jax.device_put(state, NamedSharding(mesh, P()))
    started = time.perf_counter()
    compiled = jax.jit(step, donate_argnums=0).lower(state, z, target).compile()
    compile_seconds = time.perf_counter() - started
    cost = compiled.cost_analysis()
    cost = cost[0] if isinstance(cost, list | tuple) else cost
    holder = [state]

    def run(steps: int) -> None:
        for _ in range(steps):
            holder[0], loss = compiled(holder[0], z, target)
        loss.block_until_ready()

    return run, compile_seconds, float(cost.get("flops", float("nan")))


def with_lax_conv_transpose(model: Generator) -> Generator:
    """Replace the phase layers by ``nnx.ConvTranspose`` holding the same kernels and biases."""
    for name in ("up1", "up2"):
        layer = getattr(model, name)
        replacement = nnx.ConvTranspose(layer.in_features, layer.out_features, (KERNEL, KERNEL), strides=(2, 2),
                                        padding="SAME", rngs=nnx.Rngs(0))
        replacement.kernel[...], replacement.bias[...] = layer.kernel[...], layer.bias[...]
        setattr(model, name, replacement)
    return model


def torch_step(z: np.ndarray, target: np.ndarray):
    """The same generator and step in PyTorch; returns (run, parameter count, counted FLOPs)."""
    import torch
    from torch.utils.flop_counter import FlopCounterMode

    if SINGLE_THREAD:
        torch.set_num_threads(1)

    class TorchGenerator(torch.nn.Module):
        def __init__(self):
            super().__init__()
            hidden = 2 * WIDTH
            self.project = torch.nn.Linear(LATENT, BASE * BASE * hidden)
            self.norm0 = torch.nn.BatchNorm2d(hidden)
            self.up1 = torch.nn.ConvTranspose2d(hidden, WIDTH, KERNEL, 2, 1)
            self.norm1 = torch.nn.BatchNorm2d(WIDTH)
            self.up2 = torch.nn.ConvTranspose2d(WIDTH, 1, KERNEL, 2, 1)

        def forward(self, z):
            h = self.project(z).view(-1, 2 * WIDTH, BASE, BASE)
            h = torch.relu(self.norm0(h))
            h = torch.relu(self.norm1(self.up1(h)))
            return torch.tanh(self.up2(h))

    model = TorchGenerator()
    opt = torch.optim.Adam(model.parameters(), LEARNING_RATE, betas=(0.5, 0.999))
    zt, tt = torch.from_numpy(z), torch.from_numpy(target).permute(0, 3, 1, 2).contiguous()

    def one():
        opt.zero_grad()
        loss = torch.mean((model(zt) - tt) ** 2)
        loss.backward()
        opt.step()
        return loss

    counter = FlopCounterMode(display=False)
    with counter:
        one()

    def run(steps: int) -> None:
        for _ in range(steps):
            one()

    params = sum(p.numel() for p in model.parameters())
    return run, params, float(counter.get_total_flops()), torch.__version__, torch.get_num_threads()


def main() -> None:
    parser = common.parser(__doc__)
    parser.add_argument("--steps", type=int, default=10, help="steps per timing")
    parser.add_argument("--repeats", type=int, default=7, help="timings per version (median reported)")
    parser.add_argument("--single-thread", action="store_true", help="one thread for XLA and for PyTorch")
    parser.add_argument("--default-malloc", action="store_true", help="skip companion.perf.keep_freed_memory")
    args = parser.parse_args()
    kept_freed_memory = False if args.default_malloc else keep_freed_memory()
    if args.quick:
        args.steps, args.repeats = QUICK_STEPS, QUICK_REPEATS

    split = devices_for_batch(BATCH, common.cores())
    use_cpu_devices(split)  # before the first computation
    mesh = Mesh(np.array(jax.devices()[:split]), ("data",)) if split > 1 else None
    rng = np.random.default_rng(0)
    z_np = rng.normal(size=(BATCH, LATENT)).astype(np.float32)
    target_np = (rng.random((BATCH, SIDE, SIDE, 1)) * 2 - 1).astype(np.float32)
    z, target = jnp.asarray(z_np), jnp.asarray(target_np)

    companion_params = parameter_count(Generator(LATENT, width=WIDTH, rngs=nnx.Rngs(0)))
    runs, compile_seconds, xla_flops = {}, {}, {}
    for upsample in UPSAMPLE_VERSIONS:
        name = f"companion ({upsample})"
        runs[name], compile_seconds[name], xla_flops[name] = jax_step(
            Generator(LATENT, width=WIDTH, upsample=upsample, rngs=nnx.Rngs(0)), z, target)
        if mesh is not None:
            name = f"companion ({upsample}), {split} CPU devices"
            runs[name], compile_seconds[name], xla_flops[name] = jax_step(
                Generator(LATENT, width=WIDTH, upsample=upsample, rngs=nnx.Rngs(0)), z, target, mesh)
    baseline = with_lax_conv_transpose(Generator(LATENT, width=WIDTH, rngs=nnx.Rngs(0)))
    runs["conv_transpose"], compile_seconds["conv_transpose"], xla_flops["conv_transpose"] = jax_step(
        baseline, z, target
    )
    result = {"benchmark": "gan_generator_step", "batch": BATCH, "steps_per_timing": args.steps,
              "repeats": args.repeats, "single_thread": SINGLE_THREAD, "companion_parameters": companion_params,
              "keep_freed_memory": kept_freed_memory}
    try:
        runs["torch"], torch_params, torch_flops, torch_version, threads = torch_step(z_np, target_np)
        result.update(torch_parameters=torch_params, torch_counted_flops_per_step=torch_flops,
                      torch_version=torch_version, torch_threads=threads)
    except ImportError:
        result["torch"] = "not installed (pip install torch)"

    for run in runs.values():  # warm-up
        run(2)
    times = {name: [] for name in runs}
    for _ in range(args.repeats):  # interleaved, so that load changes hit every version alike
        for name, run in runs.items():
            started = time.perf_counter()
            run(args.steps)
            times[name].append((time.perf_counter() - started) / args.steps)
    seconds = {name: statistics.median(t) for name, t in times.items()}
    flops = analytic_flops_per_step()
    peak = common.matmul_peak_flops()
    mfus = {name: common.mfu(flops / s, peak) for name, s in seconds.items()}
    result.update(
        seconds_per_step=seconds,
        compile_seconds=compile_seconds,
        analytic_flops_per_step=flops,
        xla_counted_flops_per_step=xla_flops,
        matmul_peak_flops=peak,
        mfu=mfus,
    )
    summary = []
    for name in (n for n in runs if n != "torch"):
        ours = f"{seconds[name] * 1e3:.1f} ms/step"
        if "torch" in seconds:
            summary.append(common.row(f"GAN generator step ({name}) vs PyTorch", ours=ours,
                                      reference=f"{seconds['torch'] * 1e3:.1f} ms/step (torch)",
                                      ratio=seconds["torch"] / seconds[name],
                                      compile_s=compile_seconds[name], mfu=mfus[name]))
        else:
            summary.append(common.row(f"GAN generator step ({name})", ours=ours, reference="torch not installed",
                                      compile_s=compile_seconds[name], mfu=mfus[name]))
    if "torch" in seconds:
        result["speed_vs_torch"] = {name: seconds["torch"] / s for name, s in seconds.items() if name != "torch"}
    result["summary"] = summary
    common.emit(result, quick=args.quick)

if __name__ == "__main__":
    main()
