"""Wall-clock timing of (possibly asynchronous) JAX calls: the first call and the median of later ones."""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from typing import Any

import jax

MIN_REPEATS = 5  # the book's method: at least five timed repetitions, median reported


def _check_repeats(repeats: int, warmup: int) -> None:
    if not isinstance(repeats, int) or isinstance(repeats, bool) or repeats < MIN_REPEATS:
        raise ValueError(f"repeats must be an int >= {MIN_REPEATS}; got {repeats!r}")
    if not isinstance(warmup, int) or isinstance(warmup, bool) or warmup < 0:
        raise ValueError(f"warmup must be an int >= 0; got {warmup!r}")


def first_call_seconds(fn: Callable[[], Any]) -> float:
    """Seconds taken by one call of ``fn()``, waiting for its result.

    For a freshly jitted function this is tracing + compilation + one run.

    Args:
        fn: a function of no arguments; its result may be any pytree of JAX arrays.

    Returns:
        The elapsed seconds (a Python float).

    Example:
        >>> import jax.numpy as jnp
        >>> seconds = first_call_seconds(lambda: jax.jit(jnp.sin)(jnp.ones(4)))
    """
    if not callable(fn):
        raise TypeError(f"fn must be callable; got {type(fn).__name__}")
    started = time.perf_counter()
    jax.block_until_ready(fn())
    return time.perf_counter() - started


def median_seconds(fn: Callable[[], Any], *, repeats: int = MIN_REPEATS, warmup: int = 1) -> float:
    """Median seconds of ``repeats`` calls of ``fn()`` after ``warmup`` untimed calls.

    Every call waits for its result (``jax.block_until_ready``), so JAX's asynchronous dispatch
    cannot hide the work. Non-JAX results (``None``, NumPy arrays, tensors) are fine too.

    Args:
        fn: a function of no arguments.
        repeats: timed calls, at least :data:`MIN_REPEATS`.
        warmup: untimed calls first (compilation, caches).

    Returns:
        The median elapsed seconds of one call.

    Raises:
        ValueError: ``repeats`` below :data:`MIN_REPEATS` or a negative ``warmup``.

    Example:
        >>> import jax.numpy as jnp
        >>> f = jax.jit(jnp.cos)
        >>> seconds = median_seconds(lambda: f(jnp.ones(4)), repeats=5)
    """
    if not callable(fn):
        raise TypeError(f"fn must be callable; got {type(fn).__name__}")
    _check_repeats(repeats, warmup)
    for _ in range(warmup):
        jax.block_until_ready(fn())
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        jax.block_until_ready(fn())
        times.append(time.perf_counter() - started)
    return statistics.median(times)
