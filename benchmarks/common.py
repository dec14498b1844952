"""What every benchmark script shares: its command line, its environment record, its JSON line.

The measuring itself (median timings, the matmul peak, FLOP counts, MFU, the PyTorch SeedCNN
reference) lives in :mod:`companion.perf`, so the book's performance chapter measures the same
way; this module re-exports what the scripts use. Each script prints exactly one JSON line whose
``summary`` list holds the rows ``benchmarks/run.py`` puts in its table: ``name``, ``ours``,
``reference`` (strings with units), ``ratio`` (ours over the reference, higher is better for
us), ``compile_s`` and ``mfu`` (numbers or ``None``).
"""

from __future__ import annotations

import argparse
import json
import os
import platform

import jax

from companion.perf import (
    MIN_REPEATS,
    TRAIN_TO_FORWARD_FLOPS,
    available_cores,
    first_call_seconds,
    matmul_peak_flops,
    median_seconds,
    mfu,
    seed_cnn_forward_flops,
    torch_available,
    torch_matmul_peak_flops,
    torch_seed_cnn_throughput,
)

__all__ = [
    "MIN_REPEATS",
    "TRAIN_TO_FORWARD_FLOPS",
    "cores",
    "emit",
    "environment",
    "first_call_seconds",
    "matmul_peak_flops",
    "median_seconds",
    "mfu",
    "parser",
    "row",
    "seed_cnn_forward_flops",
    "torch_available",
    "torch_matmul_peak_flops",
    "torch_seed_cnn_throughput",
]

QUICK_HELP = "a few steps only: checks that the script runs, its numbers mean little"


def parser(doc: str) -> argparse.ArgumentParser:
    """An argument parser described by the first line of ``doc``, with ``--quick``."""
    result = argparse.ArgumentParser(description=doc.strip().splitlines()[0])
    result.add_argument("--quick", action="store_true", help=QUICK_HELP)
    return result


cores = available_cores  # CPU cores this process may use


def environment() -> dict:
    """Where a result was measured: device, cores, load, versions."""
    return {
        "device": f"{jax.default_backend()} ({jax.devices()[0].device_kind})",
        "cores": cores(),
        "load_average": round(os.getloadavg()[0], 2) if hasattr(os, "getloadavg") else None,
        "jax": jax.__version__,
        "python": platform.python_version(),
        "machine": platform.machine(),
    }


def row(name: str, *, ours: str, reference: str = "-", ratio: float | None = None,
        compile_s: float | None = None, mfu: float | None = None) -> dict:
    """One row of the runner's table (see the module docstring)."""
    def rounded(value, digits):
        return None if value is None else round(float(value), digits)

    return {"name": name, "ours": ours, "reference": reference, "ratio": rounded(ratio, 3),
            "compile_s": rounded(compile_s, 2), "mfu": rounded(mfu, 4)}


def emit(result: dict, *, quick: bool = False) -> None:
    """Print ``result`` with the environment as one JSON line."""
    print(json.dumps({**result, "quick": quick, "environment": environment()}))
