r"""Two-dimensional convolution, written to be read (chapter "Convolution").

Images are ``(H, W, C)`` (channels last); kernels are ``(kh, kw, C_in, C_out)``. Every function
loops over the *kernel taps* :math:`(i, j)` only and handles all output positions of a tap at
once with array slicing and ``einsum``, so the code mirrors the sum over :math:`i, j` in the
formulas while staying fast enough to jit.

Padding is given per side, as an int (the same on all four sides), a pair ``(ph, pw)`` (rows
added at the top *and* at the bottom, columns on the left *and* on the right), or a pair of
pairs ``((top, bottom), (left, right))`` for asymmetric padding such as "same" padding with an
even kernel (see :func:`companion.formulas.same_padding`).
"""

from __future__ import annotations

from collections.abc import Sequence

import jax
import jax.numpy as jnp

from companion.formulas._validate import as_float_array, as_int, as_pair

Padding = int | tuple[int, int] | tuple[tuple[int, int], tuple[int, int]]


def _pads(padding) -> tuple[tuple[int, int], tuple[int, int]]:
    """Normalise ``padding`` to ``((top, bottom), (left, right))``."""
    if isinstance(padding, (tuple, list)) and len(padding) == 2:
        if all(isinstance(p, (tuple, list)) for p in padding):
            (top, bottom), (left, right) = padding
            return (
                (as_int("padding top", top, minimum=0), as_int("padding bottom", bottom, minimum=0)),
                (as_int("padding left", left, minimum=0), as_int("padding right", right, minimum=0)),
            )
        ph, pw = as_pair("padding", padding, minimum=0)
        return (ph, ph), (pw, pw)
    if isinstance(padding, (tuple, list)):
        raise ValueError(f"padding must be an int, (ph, pw) or ((top, bottom), (left, right)); got {padding!r}")
    single = as_int("padding", padding, minimum=0)
    return (single, single), (single, single)


def _out_len(n: int, k: int, before: int, after: int, stride: int, dilation: int, axis: str) -> int:
    span = dilation * (k - 1) + 1
    if span > n + before + after:
        raise ValueError(
            f"the kernel spans {span} {axis} (k={k}, dilation={dilation}) but the padded input has "
            f"{n + before + after} (n={n}, padding=({before}, {after}))"
        )
    return (n + before + after - span) // stride + 1


def _check_image(name: str, x, *, channels_name: str = "C") -> jax.Array:
    x = as_float_array(name, x)
    if x.ndim != 3:
        raise ValueError(f"{name} must have shape (H, W, {channels_name}); got shape {tuple(x.shape)}")
    return x


def _check_kernel(w, channels: int) -> jax.Array:
    w = as_float_array("w", w)
    if w.ndim != 4:
        raise ValueError(f"w must have shape (kh, kw, C_in, C_out); got shape {tuple(w.shape)}")
    if w.shape[2] != channels:
        raise ValueError(
            f"w has C_in={w.shape[2]} input channels (shape {tuple(w.shape)}) but x has "
            f"{channels} channels"
        )
    return w


def _matching_dtypes(*arrays: jax.Array) -> list[jax.Array]:
    dtype = jnp.result_type(*(a.dtype for a in arrays))
    return [a.astype(dtype) for a in arrays]


def conv2d(
    x: jax.Array,
    w: jax.Array,
    b: jax.Array | None = None,
    *,
    stride: int | tuple[int, int] = 1,
    padding: Padding = 0,
    dilation: int | tuple[int, int] = 1,
) -> jax.Array:
    r"""2-D cross-correlation with channels, bias, zero padding, stride and dilation.

    This is what deep-learning frameworks call "convolution": the kernel is *not* flipped.
    With :math:`\tilde x` the zero-padded input, stride :math:`s` and dilation :math:`d`,

    .. math::

        y_{u,v,o} = b_o + \sum_{i=0}^{k_h-1} \sum_{j=0}^{k_w-1} \sum_{c=0}^{C_\text{in}-1}
            \tilde x_{s u + d i,\; s v + d j,\; c}\; w_{i,j,c,o}.

    The output size along each axis is :func:`companion.formulas.conv_output_size`.

    Args:
        x: image, shape ``(H, W, C_in)``, or a batch ``(N, H, W, C_in)``.
        w: kernel, shape ``(kh, kw, C_in, C_out)``.
        b: bias, shape ``(C_out,)``, or ``None``.
        stride: step between windows, an int or ``(sh, sw)``.
        padding: zeros added per side (see the module docstring).
        dilation: spacing between kernel taps, an int or ``(dh, dw)``.

    Returns:
        Shape ``(H_out, W_out, C_out)`` (or ``(N, H_out, W_out, C_out)``).

    Example:
        >>> x = jnp.arange(16.0).reshape(4, 4, 1)
        >>> w = jnp.ones((3, 3, 1, 1))
        >>> conv2d(x, w)[..., 0]
        Array([[45., 54.],
               [81., 90.]], dtype=float32)
    """
    x = as_float_array("x", x)
    if x.ndim == 4:
        return jax.vmap(lambda one: conv2d(one, w, b, stride=stride, padding=padding, dilation=dilation))(x)
    x = _check_image("x", x, channels_name="C_in")
    w = _check_kernel(w, x.shape[-1])
    sh, sw = as_pair("stride", stride, minimum=1)
    dh, dw = as_pair("dilation", dilation, minimum=1)
    (top, bottom), (left, right) = _pads(padding)
    kh, kw, _, c_out = w.shape
    h_out = _out_len(x.shape[0], kh, top, bottom, sh, dh, "rows")
    w_out = _out_len(x.shape[1], kw, left, right, sw, dw, "columns")
    x, w = _matching_dtypes(x, w)
    padded = jnp.pad(x, ((top, bottom), (left, right), (0, 0)))
    out = jnp.zeros((h_out, w_out, c_out), x.dtype)
    for i in range(kh):
        for j in range(kw):
            # the input pixels that tap (i, j) meets, for every output position (u, v) at once
            rows = slice(dh * i, dh * i + sh * (h_out - 1) + 1, sh)
            cols = slice(dw * j, dw * j + sw * (w_out - 1) + 1, sw)
            out = out + jnp.einsum("uvc,co->uvo", padded[rows, cols, :], w[i, j])
    if b is not None:
        b = as_float_array("b", b)
        if b.shape != (c_out,):
            raise ValueError(f"b must have shape (C_out,) = ({c_out},); got shape {tuple(b.shape)}")
        out = out + b.astype(out.dtype)
    return out


def correlate2d(x: jax.Array, k: jax.Array) -> jax.Array:
    r"""Single-channel 2-D cross-correlation, 'valid' (no padding): the kernel slides unflipped.

    .. math::

        y_{u,v} = \sum_{i=0}^{k_h-1} \sum_{j=0}^{k_w-1} x_{u+i,\,v+j}\; k_{i,j}

    Args:
        x: image, shape ``(H, W)``.
        k: kernel, shape ``(kh, kw)``.

    Returns:
        Shape ``(H - kh + 1, W - kw + 1)``.

    Example:
        >>> correlate2d(jnp.arange(9.0).reshape(3, 3), jnp.array([[1.0, 0.0], [0.0, 0.0]]))
        Array([[0., 1.],
               [3., 4.]], dtype=float32)
    """
    x, k = _single_channel(x, k)
    return conv2d(x[:, :, None], k[:, :, None, None])[:, :, 0]


def convolve2d(x: jax.Array, k: jax.Array) -> jax.Array:
    r"""True (textbook) 2-D convolution, single channel, 'valid': the kernel is flipped.

    .. math::

        y_{u,v} = \sum_{i=0}^{k_h-1} \sum_{j=0}^{k_w-1} x_{u+i,\,v+j}\; k_{k_h-1-i,\;k_w-1-j}

    This is :func:`correlate2d` with the kernel rotated by 180 degrees. The two agree when the
    kernel is symmetric under that rotation (a box or Gaussian blur); for a Sobel kernel they
    differ in sign. Same as ``scipy.signal.convolve2d(x, k, mode="valid")``.

    Args:
        x: image, shape ``(H, W)``.
        k: kernel, shape ``(kh, kw)``.

    Returns:
        Shape ``(H - kh + 1, W - kw + 1)``.

    Example:
        >>> convolve2d(jnp.arange(9.0).reshape(3, 3), jnp.array([[1.0, 0.0], [0.0, 0.0]]))
        Array([[4., 5.],
               [7., 8.]], dtype=float32)
    """
    x, k = _single_channel(x, k)
    flipped = k[::-1, ::-1]
    return correlate2d(x, flipped)


def _single_channel(x, k) -> tuple[jax.Array, jax.Array]:
    x, k = as_float_array("x", x), as_float_array("k", k)
    if x.ndim != 2:
        raise ValueError(f"x must have shape (H, W) (one channel); got shape {tuple(x.shape)}")
    if k.ndim != 2:
        raise ValueError(f"k must have shape (kh, kw); got shape {tuple(k.shape)}")
    if k.shape[0] > x.shape[0] or k.shape[1] > x.shape[1]:
        raise ValueError(f"k of shape {tuple(k.shape)} is larger than x of shape {tuple(x.shape)}")
    return tuple(_matching_dtypes(x, k))


def im2col(
    x: jax.Array,
    kh: int,
    kw: int,
    *,
    stride: int | tuple[int, int] = 1,
    padding: Padding = 0,
    dilation: int | tuple[int, int] = 1,
) -> jax.Array:
    r"""Unfold every kernel-sized window of ``x`` into one row of a matrix ("image to columns").

    Row :math:`u W_\text{out} + v` holds the window of output position :math:`(u, v)`, ordered
    as ``(i, j, c)``, matching ``w.reshape(kh * kw * C_in, C_out)``. A convolution then becomes
    one matrix product:

    .. math::

        Y = \operatorname{im2col}(x)\; W, \qquad
        \operatorname{im2col}(x) \in \mathbb{R}^{H_\text{out} W_\text{out} \times k_h k_w C_\text{in}},\;
        W \in \mathbb{R}^{k_h k_w C_\text{in} \times C_\text{out}}.

    Args:
        x: image, shape ``(H, W, C_in)``.
        kh: kernel height.
        kw: kernel width.
        stride: as in :func:`conv2d`.
        padding: as in :func:`conv2d`.
        dilation: as in :func:`conv2d`.

    Returns:
        Shape ``(H_out * W_out, kh * kw * C_in)``.

    Example:
        >>> x = jnp.arange(16.0).reshape(4, 4, 1)
        >>> w = jnp.ones((3, 3, 1, 1))
        >>> (im2col(x, 3, 3) @ w.reshape(9, 1)).reshape(2, 2)
        Array([[45., 54.],
               [81., 90.]], dtype=float32)
    """
    x = _check_image("x", x, channels_name="C_in")
    kh, kw = as_int("kh", kh, minimum=1), as_int("kw", kw, minimum=1)
    sh, sw = as_pair("stride", stride, minimum=1)
    dh, dw = as_pair("dilation", dilation, minimum=1)
    (top, bottom), (left, right) = _pads(padding)
    h_out = _out_len(x.shape[0], kh, top, bottom, sh, dh, "rows")
    w_out = _out_len(x.shape[1], kw, left, right, sw, dw, "columns")
    padded = jnp.pad(x, ((top, bottom), (left, right), (0, 0)))
    taps = []
    for i in range(kh):
        for j in range(kw):
            rows = slice(dh * i, dh * i + sh * (h_out - 1) + 1, sh)
            cols = slice(dw * j, dw * j + sw * (w_out - 1) + 1, sw)
            taps.append(padded[rows, cols, :])  # (H_out, W_out, C_in)
    windows = jnp.stack(taps, axis=2)  # (H_out, W_out, kh * kw, C_in), taps in (i, j) order
    return windows.reshape(h_out * w_out, kh * kw * x.shape[-1])


def conv2d_input_grad(
    grad_out: jax.Array,
    w: jax.Array,
    input_size: Sequence[int],
    *,
    stride: int | tuple[int, int] = 1,
    padding: Padding = 0,
    dilation: int | tuple[int, int] = 1,
) -> jax.Array:
    r"""Gradient of a loss with respect to the input of :func:`conv2d` (the backward pass).

    Input pixel :math:`(p, q, c)` of the padded input met weight :math:`w_{i,j,c,o}` at every
    output :math:`(u, v)` with :math:`s u + d i = p` and :math:`s v + d j = q`, so

    .. math::

        \frac{\partial L}{\partial \tilde x_{p,q,c}}
            = \sum_{i,j,o} g_{\frac{p - d i}{s},\, \frac{q - d j}{s},\, o}\; w_{i,j,c,o},

    where :math:`g = \partial L / \partial y` and terms with a non-integer or out-of-range index
    are zero. For stride 1 this is a **full** correlation (padding :math:`d(k-1)` on every side)
    of :math:`g` with the kernel **flipped** by 180 degrees and its channel axes swapped. For
    stride :math:`s`, first insert :math:`s - 1` zeros between neighbouring values of :math:`g`.
    The rows and columns of the padded input that no window reached get zero gradient; finally
    the padding is cropped away.

    Args:
        grad_out: upstream gradient :math:`g`, shape ``(H_out, W_out, C_out)``.
        w: kernel of the forward pass, shape ``(kh, kw, C_in, C_out)``.
        input_size: ``(H, W)`` of the forward input (several sizes give the same ``H_out``).
        stride: as in the forward pass.
        padding: as in the forward pass.
        dilation: as in the forward pass.

    Returns:
        :math:`\partial L / \partial x`, shape ``(H, W, C_in)``.

    Example:
        >>> w = jnp.ones((2, 2, 1, 1))
        >>> conv2d_input_grad(jnp.ones((2, 2, 1)), w, (3, 3))[..., 0]
        Array([[1., 2., 1.],
               [2., 4., 2.],
               [1., 2., 1.]], dtype=float32)
    """
    g = _check_image("grad_out", grad_out, channels_name="C_out")
    w = as_float_array("w", w)
    if w.ndim != 4 or w.shape[3] != g.shape[-1]:
        raise ValueError(
            f"w must have shape (kh, kw, C_in, C_out) with C_out={g.shape[-1]} to match grad_out; "
            f"got shape {tuple(w.shape)}"
        )
    if len(input_size) != 2:
        raise ValueError(f"input_size must be (H, W); got {tuple(input_size)!r}")
    height, width = (as_int(n, v, minimum=1) for n, v in zip(("H", "W"), input_size, strict=True))
    sh, sw = as_pair("stride", stride, minimum=1)
    dh, dw = as_pair("dilation", dilation, minimum=1)
    (top, bottom), (left, right) = _pads(padding)
    kh, kw = w.shape[:2]
    h_out = _out_len(height, kh, top, bottom, sh, dh, "rows")
    w_out = _out_len(width, kw, left, right, sw, dw, "columns")
    if g.shape[:2] != (h_out, w_out):
        raise ValueError(
            f"grad_out must have shape ({h_out}, {w_out}, C_out) for input_size {(height, width)}; "
            f"got shape {tuple(g.shape)}"
        )
    g, w = _matching_dtypes(g, w)
    # 1. insert stride - 1 zeros between neighbouring gradient values
    dilated = jnp.zeros(((h_out - 1) * sh + 1, (w_out - 1) * sw + 1, g.shape[-1]), g.dtype)
    dilated = dilated.at[::sh, ::sw].set(g)
    # 2. full correlation with the flipped kernel, in and out channels swapped
    edge_h, edge_w = dh * (kh - 1), dw * (kw - 1)
    flipped = jnp.swapaxes(w[::-1, ::-1], 2, 3)  # (kh, kw, C_out, C_in)
    full = conv2d(dilated, flipped, padding=((edge_h, edge_h), (edge_w, edge_w)), dilation=(dh, dw))
    # 3. rows/columns of the padded input that no window reached, then crop the padding
    missing_h = height + top + bottom - full.shape[0]
    missing_w = width + left + right - full.shape[1]
    padded_grad = jnp.pad(full, ((0, missing_h), (0, missing_w), (0, 0)))
    return padded_grad[top : top + height, left : left + width]


def conv_transpose2d(
    x: jax.Array,
    w: jax.Array,
    *,
    stride: int | tuple[int, int] = 1,
    padding: int | tuple[int, int] = 0,
    output_padding: int | tuple[int, int] = 0,
    dilation: int | tuple[int, int] = 1,
) -> jax.Array:
    r"""Transposed convolution ("deconvolution"): every input pixel stamps a scaled kernel.

    Input pixel :math:`(h, v)` adds :math:`x_{h,v,c}\, w_{i,j,c,o}` to output pixel
    :math:`(s h + d i,\; s v + d j)`; then ``padding`` rows and columns are cropped from each
    side (and ``output_padding`` extra ones kept at the bottom and right):

    .. math::

        y_{p,q,o} = \sum_{h,v,i,j,c \,:\, s h + d i = p + P,\; s v + d j = q + P}
            x_{h,v,c}\; w_{i,j,c,o}.

    It is the adjoint of :func:`conv2d`: ``conv_transpose2d(g, swap(w))`` is
    :func:`conv2d_input_grad` of a convolution with kernel ``w``, where ``swap`` exchanges
    the channel axes. Where the stamps of neighbouring pixels overlap unevenly (kernel size
    not divisible by the stride) the output shows checkerboard artefacts. The output size is
    :func:`companion.formulas.conv_transpose_output_size`. This matches PyTorch's
    ``ConvTranspose2d`` with its weight transposed to ``(kh, kw, C_in, C_out)``.

    Args:
        x: input, shape ``(H, W, C_in)``.
        w: kernel, shape ``(kh, kw, C_in, C_out)``.
        stride: upsampling factor, an int or ``(sh, sw)``.
        padding: rows/columns cropped from each side, an int or ``(ph, pw)``.
        output_padding: rows/columns added at the bottom/right, smaller than the stride.
        dilation: spacing between kernel taps.

    Returns:
        Shape ``(H_out, W_out, C_out)``.

    Example:
        >>> conv_transpose2d(jnp.ones((2, 2, 1)), jnp.ones((3, 3, 1, 1)), stride=2)[..., 0]
        Array([[1., 1., 2., 1., 1.],
               [1., 1., 2., 1., 1.],
               [2., 2., 4., 2., 2.],
               [1., 1., 2., 1., 1.],
               [1., 1., 2., 1., 1.]], dtype=float32)
    """
    x = _check_image("x", x, channels_name="C_in")
    w = _check_kernel(w, x.shape[-1])
    sh, sw = as_pair("stride", stride, minimum=1)
    dh, dw = as_pair("dilation", dilation, minimum=1)
    ph, pw = as_pair("padding", padding, minimum=0)
    oh, ow = as_pair("output_padding", output_padding, minimum=0)
    if oh >= max(sh, dh) or ow >= max(sw, dw):
        raise ValueError(
            f"output_padding must be smaller than the stride or dilation; got {(oh, ow)} with "
            f"stride {(sh, sw)} and dilation {(dh, dw)}"
        )
    x, w = _matching_dtypes(x, w)
    height, width, _ = x.shape
    kh, kw, _, c_out = w.shape
    full_h = (height - 1) * sh + dh * (kh - 1) + 1 + oh
    full_w = (width - 1) * sw + dw * (kw - 1) + 1 + ow
    if full_h - 2 * ph < 1 or full_w - 2 * pw < 1:
        raise ValueError(f"padding {(ph, pw)} crops away the whole output of size {(full_h, full_w)}")
    out = jnp.zeros((full_h, full_w, c_out), x.dtype)
    for i in range(kh):
        for j in range(kw):
            # tap (i, j) of every input pixel lands at (s h + d i, s v + d j)
            rows = slice(dh * i, dh * i + sh * (height - 1) + 1, sh)
            cols = slice(dw * j, dw * j + sw * (width - 1) + 1, sw)
            out = out.at[rows, cols, :].add(jnp.einsum("hvc,co->hvo", x, w[i, j]))
    return out[ph : full_h - ph, pw : full_w - pw]
