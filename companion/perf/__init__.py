"""Performance measurement: median timings, a measured matmul peak, FLOP counts, MFU, and PyTorch.

The book's performance chapter and the scripts in ``benchmarks/`` share this code, so that a
number in the text and a number in a benchmark table are measured the same way: warm up
(compile) first, time at least five repetitions, report the median, and report compile time
separately. MFU (model FLOP utilisation) is an achieved FLOP rate over a matmul peak measured
on the same machine in the same run.
"""

from companion.perf.cost import (
    TRAIN_TO_FORWARD_FLOPS,
    mfu,
    seed_cnn_forward_flops,
    xla_cost,
)
from companion.perf.devices import available_cores, devices_for_batch, use_cpu_devices
from companion.perf.memory import keep_freed_memory
from companion.perf.peak import matmul_peak_flops, torch_matmul_peak_flops
from companion.perf.timing import MIN_REPEATS, first_call_seconds, median_seconds
from companion.perf.torch_reference import torch_available, torch_seed_cnn_throughput

__all__ = [
    "MIN_REPEATS",
    "TRAIN_TO_FORWARD_FLOPS",
    "available_cores",
    "devices_for_batch",
    "first_call_seconds",
    "keep_freed_memory",
    "matmul_peak_flops",
    "median_seconds",
    "mfu",
    "seed_cnn_forward_flops",
    "torch_available",
    "torch_matmul_peak_flops",
    "torch_seed_cnn_throughput",
    "use_cpu_devices",
    "xla_cost",
]
