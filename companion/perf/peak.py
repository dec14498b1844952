"""A measured matmul peak: the FLOP rate one large matrix product reaches on this machine.

MFU is reported against this measured peak rather than a datasheet figure: on a shared CPU the
datasheet says little about what the cores deliver right now.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp

from companion.perf.timing import median_seconds

DEFAULT_SIZE = 2048
DEFAULT_REPEATS = 10
FLOPS_PER_MULTIPLY_ADD = 2


def _check_size(size: int) -> None:
    if not isinstance(size, int) or isinstance(size, bool) or size < 1:
        raise ValueError(f"size must be an int >= 1; got {size!r}")


def matmul_peak_flops(
    *, size: int = DEFAULT_SIZE, repeats: int = DEFAULT_REPEATS, dtype: jnp.dtype = jnp.float32
) -> float:
    """Median FLOP/s of a jitted ``(size, size) @ (size, size)`` product in JAX (XLA).

    A square product costs :math:`2 n^3` FLOPs (one multiply-add is two FLOPs).

    Args:
        size: the side :math:`n` of the square matrices.
        repeats: timed products (at least 5); the median is used.
        dtype: the matrices' dtype, e.g. ``jnp.float32`` or ``jnp.bfloat16``.

    Returns:
        FLOPs per second (a Python float).

    Example:
        >>> peak = matmul_peak_flops(size=128, repeats=5)
        >>> peak > 0
        True
    """
    _check_size(size)
    a = jax.random.normal(jax.random.key(0), (size, size), dtype=dtype)
    dot = jax.jit(jnp.dot)
    seconds = median_seconds(lambda: dot(a, a), repeats=repeats)
    return FLOPS_PER_MULTIPLY_ADD * size**3 / seconds


def torch_matmul_peak_flops(
    *, size: int = DEFAULT_SIZE, repeats: int = DEFAULT_REPEATS, threads: int | None = None
) -> float | None:
    """Median float32 FLOP/s of ``torch.mm`` on the CPU, or ``None`` when PyTorch is absent.

    Args:
        size: the side :math:`n` of the square matrices.
        repeats: timed products (at least 5); the median is used.
        threads: ``torch.set_num_threads`` for the measurement (restored afterwards); ``None``
            keeps PyTorch's current setting.

    Returns:
        FLOPs per second, or ``None`` without PyTorch.

    Example:
        >>> peak = torch_matmul_peak_flops(size=128, repeats=5)  # None without PyTorch
    """
    _check_size(size)
    try:
        import torch
    except ImportError:
        return None
    before = torch.get_num_threads()
    if threads is not None:
        torch.set_num_threads(threads)
    try:
        a = torch.randn(size, size, generator=torch.Generator().manual_seed(0))
        seconds = median_seconds(lambda: torch.mm(a, a), repeats=repeats)
    finally:
        torch.set_num_threads(before)
    return FLOPS_PER_MULTIPLY_ADD * size**3 / seconds
