"""Expose the CPU's cores as separate JAX devices, so ``fit`` trains data-parallel over them.

XLA's CPU backend splits each operation over the cores, but a small network's step is a chain
of many short operations and the cores often wait for each other. With the CPU presented as
several devices, ``fit`` (which uses every device, see its ``mesh`` argument) gives each core
its own share of every batch, as it would with several GPUs; the gradients and the BatchNorm
statistics are averaged over them, so training computes the same thing.
"""

from __future__ import annotations

import os

import jax


def available_cores() -> int:
    """Number of CPU cores this process may run on (its affinity mask where the OS has one)."""
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


def devices_for_batch(batch_size: int, max_devices: int | None = None) -> int:
    """The most devices, at most ``max_devices``, that split ``batch_size`` into equal shares.

    Data parallelism gives every device the same number of examples, so the device count must
    divide the batch: the answer is the largest divisor of ``batch_size`` not above
    ``max_devices`` (``None``: :func:`available_cores`).

    Example:
        >>> devices_for_batch(128, 6), devices_for_batch(100, 3), devices_for_batch(7, 4)
        (4, 2, 1)
    """
    if max_devices is None:
        max_devices = available_cores()
    for name, value in (("batch_size", batch_size), ("max_devices", max_devices)):
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise ValueError(f"{name} must be an int >= 1; got {value!r}")
    return max(d for d in range(1, min(batch_size, max_devices) + 1) if batch_size % d == 0)


def use_cpu_devices(count: int | None = None) -> int:
    """Present the CPU as ``count`` JAX devices; call it right after ``import jax``.

    Args:
        count: number of CPU devices, >= 1; ``None`` means one per core this process may use.

    Returns:
        The number of CPU devices requested.

    Raises:
        ValueError: ``count`` is not a positive int.
        RuntimeError: JAX has already created its backends (any JAX computation has run); the
            device count can then only change in a new process.

    Example:
        >>> import jax
        >>> from companion.perf import use_cpu_devices
        >>> use_cpu_devices(2)  # before any JAX computation
        2
    """
    if count is None:
        count = available_cores()
    if isinstance(count, bool) or not isinstance(count, int) or count < 1:
        raise ValueError(f"count must be an int >= 1 or None; got {count!r}")
    try:
        jax.config.update("jax_num_cpu_devices", count)
    except RuntimeError as error:
        raise RuntimeError(
            "use_cpu_devices must run before any JAX computation (JAX has already created its "
            "devices); call it right after `import jax`, or restart the Python process"
        ) from error
    return count
