"""Shape arithmetic the models use to derive their flatten sizes (no magic numbers)."""

from __future__ import annotations


def valid_conv_size(size: int, kernel: int, *, stride: int = 1) -> int:
    """Output side of a VALID convolution: ``(size - kernel) // stride + 1``.

    Args:
        size: input side.
        kernel: kernel side.
        stride: step between windows.

    Returns:
        The output side.

    Example:
        >>> valid_conv_size(28, 3)
        26
    """
    out = (size - kernel) // stride + 1
    if out < 1:
        raise ValueError(f"a {kernel}-wide window does not fit in an input of side {size}")
    return out


def pool_size(size: int, window: int) -> int:
    """Output side of non-overlapping VALID pooling: ``size // window``.

    Args:
        size: input side.
        window: window side (and stride).

    Returns:
        The output side.

    Example:
        >>> pool_size(13, 2)
        6
    """
    out = size // window
    if out < 1:
        raise ValueError(f"a {window}-wide pooling window does not fit in an input of side {size}")
    return out
