"""Shape and cost arithmetic of convolution and pooling layers (chapter "Convolution").

All functions take and return Python ``int`` values, so they can size arrays and layers
before any computation runs.
"""

from __future__ import annotations

from collections.abc import Sequence

from companion.formulas._validate import as_int

MULTIPLY_ADD_FLOPS = 2
"""Floating-point operations in one multiply-add: one multiplication and one addition."""


def conv_output_size(
    n: int, k: int, *, stride: int = 1, padding: int = 0, dilation: int = 1
) -> int:
    r"""Output length of a convolution along one axis.

    .. math::

        n_\text{out} = \left\lfloor \frac{n + 2p - d(k - 1) - 1}{s} \right\rfloor + 1

    A dilated kernel spans :math:`d(k-1)+1` input pixels; it fits
    :math:`n + 2p - d(k-1) - 1` positions after the first one, taken every :math:`s` pixels.

    Args:
        n: input length (height or width).
        k: kernel length.
        stride: step :math:`s` between neighbouring windows.
        padding: zeros :math:`p` added on *each* side.
        dilation: spacing :math:`d` between kernel taps (1: no gaps).

    Returns:
        The output length, at least 1.

    Raises:
        ValueError: the dilated kernel is larger than the padded input.

    Example:
        >>> conv_output_size(28, 3), conv_output_size(32, 3, stride=2, padding=1)
        (26, 16)
    """
    n, k = as_int("n", n, minimum=1), as_int("k", k, minimum=1)
    stride, dilation = as_int("stride", stride, minimum=1), as_int("dilation", dilation, minimum=1)
    padding = as_int("padding", padding, minimum=0)
    span = dilation * (k - 1) + 1
    if span > n + 2 * padding:
        raise ValueError(
            f"the kernel spans {span} pixels (k={k}, dilation={dilation}) but the padded "
            f"input has only {n + 2 * padding} (n={n}, padding={padding})"
        )
    return (n + 2 * padding - span) // stride + 1


def conv_transpose_output_size(
    n: int, k: int, *, stride: int = 1, padding: int = 0, output_padding: int = 0, dilation: int = 1
) -> int:
    r"""Output length of a transposed convolution along one axis.

    .. math::

        n_\text{out} = (n - 1)\,s - 2p + d(k - 1) + p_\text{out} + 1

    This inverts :func:`conv_output_size`: a convolution with the same ``k``, ``stride``,
    ``padding`` and ``dilation`` maps ``n_out`` back to ``n``. Because the convolution rounds
    down, several sizes map to the same ``n``; ``output_padding`` (less than the stride) picks one.

    Args:
        n: input length.
        k: kernel length.
        stride: the stride of the convolution being transposed (the upsampling factor).
        padding: the padding of the convolution being transposed.
        output_padding: extra rows or columns added on one side, ``0 <= output_padding < stride``.
        dilation: the dilation of the convolution being transposed.

    Returns:
        The output length.

    Example:
        >>> conv_transpose_output_size(7, 4, stride=2, padding=1)
        14
    """
    n, k = as_int("n", n, minimum=1), as_int("k", k, minimum=1)
    stride, dilation = as_int("stride", stride, minimum=1), as_int("dilation", dilation, minimum=1)
    padding = as_int("padding", padding, minimum=0)
    output_padding = as_int("output_padding", output_padding, minimum=0)
    if output_padding >= max(stride, dilation):
        raise ValueError(
            "output_padding must be smaller than the stride or the dilation "
            f"({max(stride, dilation)}); got {output_padding}"
        )
    size = (n - 1) * stride - 2 * padding + dilation * (k - 1) + output_padding + 1
    if size < 1:
        raise ValueError(f"padding={padding} removes the whole output (size {size})")
    return size


def pool_output_size(n: int, size: int, *, stride: int | None = None, padding: int = 0) -> int:
    r"""Output length of pooling along one axis, :math:`\lfloor (n + 2p - k)/s \rfloor + 1`.

    This is :func:`conv_output_size` with dilation 1; the stride defaults to the window size
    (non-overlapping pooling). Rows or columns that do not fill a whole window are dropped.

    Args:
        n: input length.
        size: window length :math:`k`.
        stride: step :math:`s` between windows; ``None`` means ``size``.
        padding: padding on each side.

    Returns:
        The output length.

    Example:
        >>> pool_output_size(7, 2), pool_output_size(13, 3, stride=2)
        (3, 6)
    """
    size = as_int("size", size, minimum=1)
    stride = size if stride is None else stride
    return conv_output_size(n, size, stride=stride, padding=padding)


def same_padding(n: int, k: int, *, stride: int = 1, dilation: int = 1) -> tuple[int, int]:
    r"""Padding ``(before, after)`` of ``"same"`` convolution, as in TensorFlow, Keras and JAX.

    "Same" padding makes the output length :math:`\lceil n / s \rceil`. The total padding is

    .. math::

        P = \max\bigl((\lceil n/s \rceil - 1)\,s + d(k-1) + 1 - n,\; 0\bigr),

    split as :math:`\lfloor P/2 \rfloor` before and :math:`\lceil P/2 \rceil` after. When
    :math:`P` is odd (an even kernel, or a stride that does not divide :math:`n`), the padding is
    *asymmetric*: the extra zero goes after (at the bottom or right).

    Args:
        n: input length.
        k: kernel length.
        stride: the stride.
        dilation: the dilation.

    Returns:
        ``(before, after)``, the zeros added on each side.

    Example:
        >>> same_padding(5, 3), same_padding(6, 3, stride=2), same_padding(4, 2)
        ((1, 1), (0, 1), (0, 1))
    """
    n, k = as_int("n", n, minimum=1), as_int("k", k, minimum=1)
    stride, dilation = as_int("stride", stride, minimum=1), as_int("dilation", dilation, minimum=1)
    out = -(-n // stride)  # ceil(n / stride)
    total = max((out - 1) * stride + dilation * (k - 1) + 1 - n, 0)
    return total // 2, total - total // 2


def receptive_field(layers: Sequence[tuple[int, int, int]]) -> int:
    r"""Receptive field of one output pixel of a stack of layers, in input pixels along one axis.

    With :math:`r_0 = 1` and jump :math:`j_0 = 1` (the distance in input pixels between
    neighbouring positions of the current layer), each layer with kernel :math:`k_l`, stride
    :math:`s_l` and dilation :math:`d_l` does

    .. math::

        r_l = r_{l-1} + d_l (k_l - 1)\, j_{l-1}, \qquad j_l = j_{l-1}\, s_l .

    Pooling layers count as layers with kernel = window and stride = step.

    Args:
        layers: a sequence of ``(kernel, stride, dilation)``; ``(kernel, stride)`` pairs mean
            dilation 1.

    Returns:
        The receptive field :math:`r_L`.

    Example:
        >>> receptive_field([(3, 1, 1), (3, 1, 1)])  # two 3x3 convs see 5x5
        5
        >>> receptive_field([(3, 1, 1), (2, 2, 1), (3, 1, 1), (2, 2, 1)])
        10
    """
    field, jump = 1, 1
    for index, layer in enumerate(layers):
        if not isinstance(layer, (tuple, list)) or len(layer) not in (2, 3):
            raise ValueError(
                f"layers[{index}] must be (kernel, stride, dilation) or (kernel, stride); "
                f"got {layer!r}"
            )
        kernel = as_int(f"layers[{index}] kernel", layer[0], minimum=1)
        stride = as_int(f"layers[{index}] stride", layer[1], minimum=1)
        dilation = 1
        if len(layer) == 3:
            dilation = as_int(f"layers[{index}] dilation", layer[2], minimum=1)
        field += dilation * (kernel - 1) * jump
        jump *= stride
    return field


def conv_params(kh: int, kw: int, c_in: int, c_out: int, *, bias: bool = True) -> int:
    r"""Number of trainable parameters of a 2-D convolution layer.

    .. math::

        k_h k_w C_\text{in} C_\text{out} + C_\text{out}

    Each of the :math:`C_\text{out}` filters has one weight per kernel tap and input channel,
    plus one bias. The count does not depend on the image size.

    Args:
        kh: kernel height.
        kw: kernel width.
        c_in: input channels.
        c_out: output channels (filters).
        bias: whether each filter has a bias.

    Returns:
        The parameter count.

    Example:
        >>> conv_params(3, 3, 3, 64)
        1792
    """
    kh, kw = as_int("kh", kh, minimum=1), as_int("kw", kw, minimum=1)
    c_in, c_out = as_int("c_in", c_in, minimum=1), as_int("c_out", c_out, minimum=1)
    return kh * kw * c_in * c_out + (c_out if bias else 0)


def conv_macs(h_out: int, w_out: int, kh: int, kw: int, c_in: int, c_out: int) -> int:
    r"""Multiply-accumulate operations (MACs) of a 2-D convolution.

    .. math::

        H_\text{out} W_\text{out} C_\text{out} \cdot k_h k_w C_\text{in}

    Every output value is a dot product of length :math:`k_h k_w C_\text{in}`. Bias additions
    and the activation are not counted (they are one operation per output, negligible).

    Args:
        h_out: output height.
        w_out: output width.
        kh: kernel height.
        kw: kernel width.
        c_in: input channels.
        c_out: output channels.

    Returns:
        The number of multiply-adds.

    Example:
        >>> conv_macs(26, 26, 3, 3, 1, 32)
        194688
    """
    sizes = {"h_out": h_out, "w_out": w_out, "kh": kh, "kw": kw, "c_in": c_in, "c_out": c_out}
    product = 1
    for name, value in sizes.items():
        product *= as_int(name, value, minimum=1)
    return product


def conv_flops(h_out: int, w_out: int, kh: int, kw: int, c_in: int, c_out: int) -> int:
    r"""Floating-point operations of a 2-D convolution: :math:`2 \times` :func:`conv_macs`.

    **Convention**: one multiply-add counts as 2 FLOPs (a multiplication and an addition), the
    convention of hardware peak FLOP/s figures. Some tools and papers report MACs and call them
    "FLOPs"; their numbers are half of these. Bias additions are not counted.

    Args:
        h_out: output height.
        w_out: output width.
        kh: kernel height.
        kw: kernel width.
        c_in: input channels.
        c_out: output channels.

    Returns:
        The FLOP count.

    Example:
        >>> conv_flops(26, 26, 3, 3, 1, 32)
        389376
    """
    return MULTIPLY_ADD_FLOPS * conv_macs(h_out, w_out, kh, kw, c_in, c_out)
