"""Upsampling layers for generators, fast on XLA's CPU backend.

A DCGAN generator doubles its feature maps with 4 x 4 transposed convolutions of stride 2.
XLA's CPU backend computes ``lax.conv_transpose`` (and above all its gradients) as a generic
convolution over a zero-dilated input, which is slow. This module offers four layers:

* :class:`PhaseConvTranspose` computes **exactly** ``nnx.ConvTranspose(C_in, C_out, (4, 4),
  strides=(2, 2), padding="SAME")`` (and PyTorch's ``ConvTranspose2d(C_in, C_out, 4, 2, 1)`` with
  the kernel flipped) by its phase decomposition: every output pixel ``(2m + a, 2n + b)`` is a
  2 x 2 convolution of the input whose taps depend only on the phase ``(a, b)``. One matrix
  product of the input's 2 x 2 patches with a ``(4 C_in, 4 C_out)`` matrix yields all four phases;
  :func:`pixel_shuffle` interleaves them. It holds its kernel under the name and shape of
  ``nnx.ConvTranspose`` (``(4, 4, C_in, C_out)``), so weights move between the two unchanged.
* :class:`OverlapAddConvTranspose` computes the same transposed convolution from its
  definition: one matrix product multiplies each input pixel by all 16 taps, and the results
  are added onto the output pixels they land on (overlap-add, or col2im). The fastest here.
* :class:`ResizeConv` is nearest-neighbour upsampling followed by a 3 x 3 convolution
  (Odena et al., 2016): a different function, free of checkerboard artefacts by construction.
* :func:`pixel_shuffle` (Shi et al., 2016) rearranges ``r * r`` channel groups into an ``r``
  times larger image; a convolution followed by it is a sub-pixel convolution.
"""

from __future__ import annotations

import functools

import jax
import jax.numpy as jnp
from flax import nnx

from companion.nn import Conv2D, extract_patches
from companion.perf.devices import available_cores, devices_for_batch

KERNEL = 4  # the transposed convolution's kernel side
STRIDE = 2  # ... and its stride: the upsampling factor
PHASES = STRIDE * STRIDE
PATCH = KERNEL // STRIDE  # each phase is a 2 x 2 convolution
RESIZE_KERNEL = 3
IMAGE_RANK = 4
DEFAULT_KERNEL_INIT = nnx.initializers.lecun_normal()  # nnx.ConvTranspose's defaults
DEFAULT_BIAS_INIT = nnx.initializers.zeros_init()
# For phase a (output row 2m + a), the 2 x 2 patch of the input padded by one pixel starts at
# padded row m + a; its rows d = 0, 1 meet the kernel rows _TAPS[a][d] of nnx.ConvTranspose.
_TAPS = ((0, 2), (1, 3))


def _check(x: jax.Array, channels: int, name: str) -> None:
    if not isinstance(x, jax.Array | jnp.ndarray) or x.ndim != IMAGE_RANK:
        raise ValueError(f"{name} expects x of shape (N, H, W, C); got shape {tuple(jnp.shape(x))}")
    if x.shape[-1] != channels:
        raise ValueError(
            f"{name} expects x with {channels} channels (N, H, W, {channels}); got shape {tuple(x.shape)}"
        )
    if not jnp.issubdtype(x.dtype, jnp.floating):
        raise TypeError(f"{name} expects floating-point x; got dtype {x.dtype}")


def pixel_shuffle(x: jax.Array, factor: int) -> jax.Array:
    """Rearrange channel groups into space: ``(N, H, W, r * r * C)`` to ``(N, r H, r W, C)``.

    Channel ``(a * r + b) * C + c`` of input pixel ``(m, n)`` becomes channel ``c`` of output pixel
    ``(r m + a, r n + b)`` (TensorFlow's ``depth_to_space``).

    Args:
        x: images, shape ``(N, H, W, r * r * C)``.
        factor: the upsampling factor ``r``.

    Returns:
        Images of shape ``(N, r * H, r * W, C)``.

    Example:
        >>> pixel_shuffle(jnp.zeros((2, 7, 7, 64)), 2).shape
        (2, 14, 14, 16)
    """
    if not isinstance(factor, int) or factor < 1:
        raise ValueError(f"factor must be an int >= 1; got {factor!r}")
    if jnp.ndim(x) != IMAGE_RANK or x.shape[-1] % (factor * factor):
        raise ValueError(
            f"pixel_shuffle expects x of shape (N, H, W, C) with C divisible by factor**2 = "
            f"{factor * factor}; got shape {tuple(jnp.shape(x))}"
        )
    n, height, width, channels = x.shape
    c = channels // (factor * factor)
    x = x.reshape(n, height, width, factor, factor, c).transpose(0, 1, 3, 2, 4, 5)
    return x.reshape(n, height * factor, width * factor, c)


def phase_kernel(kernel: jax.Array) -> jax.Array:
    """Rearrange a 4 x 4 transposed-convolution kernel into the phase matrix.

    Args:
        kernel: ``nnx.ConvTranspose`` kernel, shape ``(4, 4, C_in, C_out)``.

    Returns:
        Shape ``(4 * C_in, 4, C_out)``: for each phase ``(a, b)`` (index ``2 a + b``), the 2 x 2
        kernel that maps a patch of the padded input (rows in the order of
        ``companion.nn.extract_patches``) to the output pixels of that phase.

    Example:
        >>> phase_kernel(jnp.zeros((4, 4, 8, 3))).shape
        (32, 4, 3)
    """
    if jnp.ndim(kernel) != IMAGE_RANK or kernel.shape[:2] != (KERNEL, KERNEL):
        raise ValueError(f"kernel must have shape ({KERNEL}, {KERNEL}, C_in, C_out); got {jnp.shape(kernel)}")
    columns = []
    for a in range(STRIDE):
        for b in range(STRIDE):
            rows = kernel[jnp.array(_TAPS[a])][:, jnp.array(_TAPS[b])]  # (2, 2, C_in, C_out)
            columns.append(rows.reshape(-1, kernel.shape[-1]))
    return jnp.stack(columns, axis=1)


def conv_transpose_phase(x: jax.Array, kernel: jax.Array) -> jax.Array:
    """Stride-2, 4 x 4, SAME transposed convolution computed by phase decomposition.

    Equal (up to float rounding) to ``jax.lax.conv_transpose(x, kernel, (2, 2), "SAME")``, i.e.
    to ``nnx.ConvTranspose`` with these settings, and to PyTorch's ``conv_transpose2d(...,
    stride=2, padding=1)`` with the kernel flipped in both spatial axes.

    Args:
        x: images, shape ``(N, H, W, C_in)``.
        kernel: shape ``(4, 4, C_in, C_out)``.

    Returns:
        Shape ``(N, 2 H, 2 W, C_out)``.

    Example:
        >>> conv_transpose_phase(jnp.ones((2, 7, 7, 8)), jnp.ones((4, 4, 8, 3))).shape
        (2, 14, 14, 3)
    """
    n, height, width, c_in = x.shape
    c_out = kernel.shape[-1]
    padded = jnp.pad(x, ((0, 0), (1, 1), (1, 1), (0, 0)))
    patches = extract_patches(padded, (PATCH, PATCH))  # (N, H + 1, W + 1, 4 C_in)
    y = patches @ phase_kernel(kernel).reshape(PATCH * PATCH * c_in, PHASES * c_out)
    y = y.reshape(n, height + 1, width + 1, PHASES, c_out)
    phases = [y[:, a : a + height, b : b + width, STRIDE * a + b] for a in range(STRIDE) for b in range(STRIDE)]
    return pixel_shuffle(jnp.concatenate(phases, axis=-1), STRIDE)


def tap_matrix(kernel: jax.Array) -> jax.Array:
    """Rearrange a 4 x 4 transposed-convolution kernel into the matrix of all its taps.

    Args:
        kernel: ``nnx.ConvTranspose`` kernel, shape ``(4, 4, C_in, C_out)``.

    Returns:
        Shape ``(C_in, 16 * C_out)``, columns in the order ``(u, v, r, s, c)``: the tap that sends
        input pixel ``(i, j)`` to output pixel ``(2 (i + u) + r - 1, 2 (j + v) + s - 1)``, i.e.
        kernel row ``3 - 2 u - r`` and column ``3 - 2 v - s``.

    Example:
        >>> tap_matrix(jnp.zeros((4, 4, 8, 3))).shape
        (8, 48)
    """
    if jnp.ndim(kernel) != IMAGE_RANK or kernel.shape[:2] != (KERNEL, KERNEL):
        raise ValueError(f"kernel must have shape ({KERNEL}, {KERNEL}, C_in, C_out); got {jnp.shape(kernel)}")
    c_in, c_out = kernel.shape[2:]
    flipped = kernel[::-1, ::-1].reshape(PATCH, STRIDE, PATCH, STRIDE, c_in, c_out)  # (u, r, v, s, ...)
    return flipped.transpose(4, 0, 2, 1, 3, 5).reshape(c_in, PATCH * PATCH * PHASES * c_out)


def _fold(taps: jax.Array) -> jax.Array:
    """Overlap-add ``(N, H, W, 2, 2, 2, 2, C)`` tap outputs ``(u, v, r, s)`` into ``(N, 2H, 2W, C)``."""
    n, height, width, *_, c_out = taps.shape
    summed = sum(
        jnp.pad(taps[:, :, :, u, v], ((0, 0), (u, 1 - u), (v, 1 - v), (0, 0), (0, 0), (0, 0)))
        for u in range(PATCH) for v in range(PATCH)
    )  # (N, H + 1, W + 1, r, s, C): pixel (q, p) holds output rows 2 q + r - 1, columns 2 p + s - 1
    y = summed.transpose(0, 1, 3, 2, 4, 5).reshape(n, STRIDE * (height + 1), STRIDE * (width + 1), c_out)
    return y[:, 1:-1, 1:-1]


def _unfold(dy: jax.Array, height: int, width: int) -> jax.Array:
    """The transpose of :func:`_fold`: ``(N, 2H, 2W, C)`` to the ``(N H W, 16 C)`` taps it collects."""
    n, c_out = dy.shape[0], dy.shape[-1]
    padded = jnp.pad(dy, ((0, 0), (1, 1), (1, 1), (0, 0))).reshape(n, height + 1, STRIDE, width + 1, STRIDE, c_out)
    padded = padded.transpose(0, 1, 3, 2, 4, 5)  # (N, H + 1, W + 1, r, s, C)
    taps = [padded[:, u : u + height, v : v + width] for u in range(PATCH) for v in range(PATCH)]
    return jnp.stack(taps, axis=3).reshape(n * height * width, PATCH * PATCH * PHASES * c_out)


def _taps_of(x: jax.Array, taps: jax.Array) -> jax.Array:
    """All 16 tap outputs of ``x`` ``(M, H, W, C_in)``: shape ``(M, H, W, 2, 2, 2, 2, C_out)``."""
    m, height, width, c_in = x.shape
    return (x.reshape(-1, c_in) @ taps).reshape(m, height, width, PATCH, PATCH, STRIDE, STRIDE, -1)


@functools.partial(jax.custom_vjp, nondiff_argnums=(2,))
def _overlap_add(x: jax.Array, taps: jax.Array, chunks: int) -> jax.Array:
    return jnp.concatenate([_fold(_taps_of(piece, taps)) for piece in jnp.split(x, chunks)])


def _overlap_add_forward(x: jax.Array, taps: jax.Array, chunks: int):
    return _overlap_add(x, taps, chunks), (x, taps)


def _overlap_add_backward(chunks: int, residuals, dy: jax.Array):
    # For each piece, both gradients are single matrix products with the unfolded output
    # gradient; written by hand because this measured faster than XLA's transpose of the sum.
    x, taps = residuals
    _, height, width, c_in = x.shape
    dx, d_taps = [], []
    for piece, dy_piece in zip(jnp.split(x, chunks), jnp.split(dy, chunks), strict=True):
        d_taps_out = _unfold(dy_piece, height, width)  # (M H W, 16 C_out)
        dx.append((d_taps_out @ taps.T).reshape(piece.shape))
        d_taps.append(piece.reshape(-1, c_in).T @ d_taps_out)
    return jnp.concatenate(dx), sum(d_taps)


_overlap_add.defvjp(_overlap_add_forward, _overlap_add_backward)


def default_batch_chunks(batch_size: int) -> int:
    """Pieces :func:`conv_transpose_overlap_add` cuts a batch into: one per CPU core, else 1.

    XLA's CPU runtime runs each fused loop (the overlap-add, the unfolding) on one thread, but
    runs independent operations side by side; equal, independent pieces of the batch give every
    core work. The count is the largest divisor of ``batch_size`` not above the cores this
    process may use (:func:`companion.perf.devices_for_batch`); on other backends it is 1.

    Example:
        >>> default_batch_chunks(1)
        1
    """
    if jax.default_backend() != "cpu" or batch_size < 1:
        return 1
    return devices_for_batch(batch_size, available_cores())


def conv_transpose_overlap_add(x: jax.Array, kernel: jax.Array, *, batch_chunks: int | None = None) -> jax.Array:
    """Stride-2, 4 x 4, SAME transposed convolution computed as matrix product then overlap-add.

    The definition of a transposed convolution, computed directly: one matrix product multiplies
    every input pixel by all 16 kernel taps, ``(N H W, C_in) x (C_in, 16 C_out)``, and each tap's
    result is added to its output pixel (col2im, as PyTorch and cuDNN do it); neighbouring input
    pixels overlap on the output. It multiplies exactly what the transposed convolution does, no
    zeros and no overlap of padded phases. Its gradients are the transposes: one product each
    for the input and the kernel. Equal (up to float rounding) to
    :func:`conv_transpose_phase` and ``jax.lax.conv_transpose(x, kernel, (2, 2), "SAME")``.
    The gradient is a custom VJP, so reverse mode (``jax.grad``, ``jax.vjp``) works and forward
    mode (``jax.jvp``, ``jax.jacfwd``) does not; use :func:`conv_transpose_phase` for that.
    The batch is processed in ``batch_chunks`` equal, independent pieces, so that the CPU's cores
    can work on them at the same time (the result does not depend on the count).

    Args:
        x: images, shape ``(N, H, W, C_in)``.
        kernel: shape ``(4, 4, C_in, C_out)``.
        batch_chunks: a divisor of ``N``; ``None`` means :func:`default_batch_chunks`.

    Returns:
        Shape ``(N, 2 H, 2 W, C_out)``.

    Example:
        >>> conv_transpose_overlap_add(jnp.ones((2, 7, 7, 8)), jnp.ones((4, 4, 8, 3))).shape
        (2, 14, 14, 3)
    """
    if jnp.ndim(x) != IMAGE_RANK:
        raise ValueError(f"x must have shape (N, H, W, C_in); got shape {tuple(jnp.shape(x))}")
    batch = x.shape[0]
    if batch_chunks is None:
        batch_chunks = default_batch_chunks(batch)
    if isinstance(batch_chunks, bool) or not isinstance(batch_chunks, int) or batch_chunks < 1 or batch % batch_chunks:
        raise ValueError(f"batch_chunks must be an int >= 1 that divides the batch of {batch}; got {batch_chunks!r}")
    return _overlap_add(x, tap_matrix(kernel), batch_chunks)


class PhaseConvTranspose(nnx.Module):
    """Exact, fast ``nnx.ConvTranspose(C_in, C_out, (4, 4), strides=(2, 2), padding="SAME")``.

    Computed by :func:`conv_transpose_phase`. The output doubles the height and width.
    Parameters: ``kernel`` ``(4, 4, C_in, C_out)`` and ``bias`` ``(C_out,)``, as in
    ``nnx.ConvTranspose``, so weights move between the layers unchanged.

    Args:
        in_features: input channels ``C_in``.
        out_features: output channels ``C_out``.
        use_bias: add a learned bias per output channel.
        kernel_init: initializer of the kernel.
        bias_init: initializer of the bias.
        rngs: the random streams; the kernel draws from ``rngs.params()``.

    Example:
        >>> up = PhaseConvTranspose(128, 64, rngs=nnx.Rngs(0))
        >>> up(jnp.ones((2, 7, 7, 128))).shape
        (2, 14, 14, 64)
    """

    transposed_convolution = staticmethod(conv_transpose_phase)

    def __init__(
        self, in_features: int, out_features: int, *, use_bias: bool = True,
        kernel_init=DEFAULT_KERNEL_INIT, bias_init=DEFAULT_BIAS_INIT, rngs: nnx.Rngs,
    ) -> None:
        self.in_features, self.out_features = in_features, out_features
        shape = (KERNEL, KERNEL, in_features, out_features)
        self.kernel = nnx.Param(kernel_init(rngs.params(), shape, jnp.float32))
        self.bias = nnx.Param(bias_init(rngs.params(), (out_features,), jnp.float32)) if use_bias else None

    def __call__(self, x: jax.Array) -> jax.Array:
        """Upsample ``x`` of shape ``(N, H, W, C_in)`` to ``(N, 2 H, 2 W, C_out)``."""
        _check(x, self.in_features, type(self).__name__)
        y = self.transposed_convolution(x, self.kernel[...])
        return y + self.bias[...] if self.bias is not None else y


class OverlapAddConvTranspose(PhaseConvTranspose):
    """The same layer as :class:`PhaseConvTranspose`, computed by :func:`conv_transpose_overlap_add`.

    Example:
        >>> up = OverlapAddConvTranspose(128, 64, rngs=nnx.Rngs(0))
        >>> up(jnp.ones((2, 7, 7, 128))).shape
        (2, 14, 14, 64)
    """

    transposed_convolution = staticmethod(conv_transpose_overlap_add)


class ResizeConv(nnx.Module):
    """Nearest-neighbour upsampling by 2, then a 3 x 3 SAME convolution (no checkerboard).

    Every output pixel sees the same number of kernel taps, so an untrained layer cannot paint the
    periodic pattern a transposed convolution with a kernel not divisible by its stride can.

    Args:
        in_features: input channels ``C_in``.
        out_features: output channels ``C_out``.
        use_bias: add a learned bias per output channel.
        rngs: the random streams for the convolution's kernel.

    Example:
        >>> up = ResizeConv(128, 64, rngs=nnx.Rngs(0))
        >>> up(jnp.ones((2, 7, 7, 128))).shape
        (2, 14, 14, 64)
    """

    def __init__(self, in_features: int, out_features: int, *, use_bias: bool = True, rngs: nnx.Rngs) -> None:
        self.in_features, self.out_features = in_features, out_features
        self.conv = Conv2D(in_features, out_features, RESIZE_KERNEL, padding="SAME", use_bias=use_bias, rngs=rngs)

    def __call__(self, x: jax.Array) -> jax.Array:
        """Upsample ``x`` of shape ``(N, H, W, C_in)`` to ``(N, 2 H, 2 W, C_out)``."""
        _check(x, self.in_features, "ResizeConv")
        x = jnp.repeat(jnp.repeat(x, STRIDE, axis=1), STRIDE, axis=2)
        return self.conv(x)
