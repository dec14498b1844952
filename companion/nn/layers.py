"""Fast, exact convolution and pooling layers for XLA's CPU backend.

On CPU, XLA's generic convolution and the backward pass of ``reduce_window`` max pooling are
slow. The layers here compute the same functions with operations XLA's CPU backend runs well:

* :class:`Conv2D` gathers the ``kh * kw`` shifted views of the input into one patch tensor and
  multiplies it by the kernel reshaped to a matrix (one large matmul, "im2col").
* :func:`max_pool` with non-overlapping windows reshapes ``(H, W)`` into
  ``(H / s, s, W / s, s)`` and takes the maximum over the two window axes.

Both match ``flax.nnx.Conv`` and ``flax.nnx.max_pool`` (tests check it), and :class:`Conv2D`
holds its parameters under the same names and shapes as ``nnx.Conv`` (``kernel``:
``(kh, kw, C_in, C_out)``, ``bias``: ``(C_out,)``), so weights move between the two unchanged.
"""

from __future__ import annotations

from collections.abc import Sequence

import jax
import jax.numpy as jnp
from flax import nnx

PADDINGS = ("VALID", "SAME")
IMAGE_RANK = 4  # (N, H, W, C)
DEFAULT_KERNEL_INIT = nnx.initializers.lecun_normal()  # nnx.Conv's defaults
DEFAULT_BIAS_INIT = nnx.initializers.zeros_init()


def _pair(value: int | Sequence[int], name: str) -> tuple[int, int]:
    pair = (value, value) if isinstance(value, int) else tuple(value)
    if len(pair) != 2 or not all(isinstance(v, int) and v >= 1 for v in pair):
        raise ValueError(f"{name} must be a positive int or a pair of them; got {value!r}")
    return pair


def _check_images(x: jax.Array, channels: int | None, name: str) -> None:
    if x.ndim != IMAGE_RANK:
        raise ValueError(f"{name} expects x of shape (N, H, W, C); got shape {tuple(x.shape)}")
    if channels is not None and x.shape[-1] != channels:
        raise ValueError(
            f"{name} expects x with {channels} channels (N, H, W, {channels}); "
            f"got shape {tuple(x.shape)}"
        )


def _same_padding(size: int, kernel: int, stride: int) -> tuple[int, int]:
    out = -(-size // stride)
    total = max((out - 1) * stride + kernel - size, 0)
    return total // 2, total - total // 2


def extract_patches(
    x: jax.Array, kernel_size: tuple[int, int], *, strides: tuple[int, int] = (1, 1),
    padding: str = "VALID",
) -> jax.Array:
    """Gather every ``kh x kw`` window of ``x`` into the channel axis (im2col).

    Args:
        x: images, shape ``(N, H, W, C)``.
        kernel_size: the window ``(kh, kw)``.
        strides: steps between windows ``(sh, sw)``.
        padding: ``"VALID"`` (no padding) or ``"SAME"`` (zero padding, output ``ceil(H / sh)``).

    Returns:
        Patches of shape ``(N, H_out, W_out, kh * kw * C)``; the last axis runs over
        ``(i, j, c)`` in row-major order, matching a kernel reshaped from
        ``(kh, kw, C, C_out)`` to ``(kh * kw * C, C_out)``.

    Example:
        >>> extract_patches(jnp.ones((2, 5, 5, 3)), (3, 3)).shape
        (2, 3, 3, 27)
    """
    if padding not in PADDINGS:
        raise ValueError(f"padding must be one of {PADDINGS}; got {padding!r}")
    _check_images(x, None, "extract_patches")
    (kh, kw), (sh, sw) = _pair(kernel_size, "kernel_size"), _pair(strides, "strides")
    if padding == "SAME":
        pads = (_same_padding(x.shape[1], kh, sh), _same_padding(x.shape[2], kw, sw))
        x = jnp.pad(x, ((0, 0), pads[0], pads[1], (0, 0)))
    height, width = x.shape[1], x.shape[2]
    if height < kh or width < kw:
        raise ValueError(
            f"extract_patches: the {kh}x{kw} window does not fit in {height}x{width} images"
        )
    h_out, w_out = (height - kh) // sh + 1, (width - kw) // sw + 1
    views = [
        x[:, i : i + (h_out - 1) * sh + 1 : sh, j : j + (w_out - 1) * sw + 1 : sw, :]
        for i in range(kh)
        for j in range(kw)
    ]
    return views[0] if len(views) == 1 else jnp.concatenate(views, axis=-1)


class Conv2D(nnx.Module):
    """A 2-D convolution layer computed as patches times a matrix; same parameters as ``nnx.Conv``.

    Args:
        in_features: input channels ``C_in``.
        out_features: output channels ``C_out``.
        kernel_size: ``(kh, kw)`` or one int for a square kernel.
        strides: ``(sh, sw)`` or one int.
        padding: ``"VALID"`` or ``"SAME"``.
        use_bias: add a learned bias per output channel.
        kernel_init: initializer of the kernel (``nnx.Conv``'s default, LeCun normal).
        bias_init: initializer of the bias (zeros).
        rngs: the random streams; the kernel draws from ``rngs.params()``.

    Example:
        >>> conv = Conv2D(1, 8, (3, 3), rngs=nnx.Rngs(0))
        >>> conv(jnp.ones((2, 28, 28, 1))).shape
        (2, 26, 26, 8)
    """

    def __init__(
        self, in_features: int, out_features: int, kernel_size: int | Sequence[int], *,
        strides: int | Sequence[int] = 1, padding: str = "VALID", use_bias: bool = True,
        kernel_init=DEFAULT_KERNEL_INIT, bias_init=DEFAULT_BIAS_INIT,
        rngs: nnx.Rngs,
    ) -> None:
        if padding not in PADDINGS:
            raise ValueError(f"padding must be one of {PADDINGS}; got {padding!r}")
        self.in_features, self.out_features = in_features, out_features
        self.kernel_size = _pair(kernel_size, "kernel_size")
        self.strides = _pair(strides, "strides")
        self.padding = padding
        shape = (*self.kernel_size, in_features, out_features)
        self.kernel = nnx.Param(kernel_init(rngs.params(), shape, jnp.float32))
        self.bias = nnx.Param(bias_init(rngs.params(), (out_features,), jnp.float32)) if use_bias else None

    def __call__(self, x: jax.Array) -> jax.Array:
        """Convolve ``x`` of shape ``(N, H, W, C_in)``; returns ``(N, H_out, W_out, C_out)``."""
        _check_images(x, self.in_features, "Conv2D")
        kernel = self.kernel[...]
        if self.kernel_size == (1, 1) and self.strides == (1, 1):
            patches = x
        else:
            patches = extract_patches(x, self.kernel_size, strides=self.strides, padding=self.padding)
        y = patches @ kernel.reshape(-1, self.out_features)
        if self.bias is not None:
            y = y + self.bias[...]
        return y


def max_pool(x: jax.Array, window: int = 2, *, stride: int | None = None) -> jax.Array:
    """Max pooling of ``(N, H, W, C)`` images over ``window x window`` windows, VALID padding.

    Non-overlapping windows (``stride == window``, the default) use a reshape and a max, whose
    backward pass is much faster on CPU than ``reduce_window``'s; overlapping windows fall back
    to ``nnx.max_pool``. Rows and columns that do not fill a window are dropped, as VALID
    pooling does.

    In the forward pass the result equals ``nnx.max_pool`` exactly. The gradient agrees
    wherever a window's maximum is unique; on ties this version shares the gradient equally
    among the tied inputs, ``reduce_window`` gives it all to the first. (After a ReLU, ties are
    zeros, whose incoming gradient the ReLU sets to zero anyway.)

    Args:
        x: images, shape ``(N, H, W, C)``.
        window: the window side.
        stride: the step between windows; defaults to ``window``.

    Returns:
        Pooled images, shape ``(N, (H - window) // stride + 1, (W - window) // stride + 1, C)``.

    Example:
        >>> max_pool(jnp.ones((2, 26, 26, 8))).shape
        (2, 13, 13, 8)
    """
    _check_images(x, None, "max_pool")
    stride = window if stride is None else stride
    if window < 1 or stride < 1:
        raise ValueError(f"max_pool: window and stride must be >= 1; got {window} and {stride}")
    if stride != window:
        return nnx.max_pool(x, (window, window), strides=(stride, stride), padding="VALID")
    n, height, width, channels = x.shape
    h_out, w_out = height // window, width // window
    x = x[:, : h_out * window, : w_out * window, :]
    return x.reshape(n, h_out, window, w_out, window, channels).max(axis=(2, 4))
