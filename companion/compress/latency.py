"""Measuring inference latency: compile once, then time repeated calls and take the median."""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable

import jax

DEFAULT_REPEATS = 20


def measure_latency(fn: Callable, *args, repeats: int = DEFAULT_REPEATS) -> dict[str, float]:
    """Time ``fn(*args)``: the first call (compilation included) and the median of later calls.

    Every call waits for the result (``jax.block_until_ready``), so asynchronous dispatch does
    not hide the work.

    Args:
        fn: a (usually jitted) function.
        *args: its arguments.
        repeats: timed calls after the first; at least 5.

    Returns:
        A dict with ``first_call_seconds``, ``median_seconds``, ``min_seconds`` and ``repeats``.

    Example:
        >>> import jax.numpy as jnp
        >>> measure_latency(jax.jit(jnp.sin), jnp.ones(8), repeats=5)["repeats"]
        5
    """
    min_repeats = 5
    if not isinstance(repeats, int) or repeats < min_repeats:
        raise ValueError(f"repeats must be an int >= {min_repeats}; got {repeats!r}")
    started = time.perf_counter()
    jax.block_until_ready(fn(*args))
    first = time.perf_counter() - started
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        jax.block_until_ready(fn(*args))
        times.append(time.perf_counter() - started)
    return {"first_call_seconds": first, "median_seconds": statistics.median(times), "min_seconds": min(times),
            "repeats": repeats}
