"""``conv_relu_pool`` and ``conv_max_pool``: a convolution (and ReLU) and 2 x 2 max pooling in one pass.

The convolution before a pooling layer produces a feature map four times larger than what the
pooling keeps: for ``SeedCNN``'s first layer on MNIST, ``128 x 26 x 26 x 32`` floats per batch,
which the ReLU, the pooling and their gradients read and write again and again. On a CPU that
memory traffic, not arithmetic, dominates. This layer never builds the full map:

* **forward**: the four positions ``(a, b)`` of every 2 x 2 pooling window are computed as four
  separate convolutions of strided views of the input, ``z_ab``, each of the pooled size (for
  up to four input channels as fused multiply-adds, otherwise as one matrix product of the
  patches each); the output is ``relu(max_ab z_ab)``, and the index of the winning position is
  kept (one byte);
* **backward**: the output gradient flows only to the winning position (as for
  ``reduce_window``'s max pooling, the first one on ties) and only where the ReLU was active, so
  the kernel gradient is a sum over the pooled map of the input value at the winning position
  times that gradient, four times fewer terms than the full convolution's gradient.

The result equals ``max_pool(relu(conv(x) + bias))`` (or ``max_pool(conv(x) + bias)``) of
``nnx.Conv`` (VALID) and ``nnx.max_pool`` up to float rounding, with the same gradients wherever window maxima are
unique (tests check both).
"""

from __future__ import annotations

import functools

import jax
import jax.numpy as jnp

from companion.nn.layers import extract_patches

POOL = 2
BROADCAST_CHANNELS = 4  # up to this many input channels, each phase is a fused multiply-add loop


def _views(x: jax.Array, kh: int, kw: int, hp: int, wp: int) -> dict[tuple[int, int], jax.Array]:
    """Strided views ``x[:, r::2, s::2]`` of the pooled size for every row/column offset used."""
    return {
        (r, s): x[:, r : r + POOL * hp - 1 : POOL, s : s + POOL * wp - 1 : POOL, :]
        for r in range(kh + POOL - 1)
        for s in range(kw + POOL - 1)
    }


def _phase_patches(views, kh: int, kw: int, a: int, b: int) -> jax.Array:
    """The ``kh x kw`` patches seen from window position ``(a, b)``: ``(N, Hp, Wp, kh kw C_in)``."""
    return jnp.concatenate([views[a + i, b + j] for i in range(kh) for j in range(kw)], axis=-1)


def _phase(views, kernel: jax.Array, a: int, b: int) -> jax.Array:
    """``z_ab``: the convolution at window position ``(a, b)``, shape ``(N, Hp, Wp, C_out)``."""
    kh, kw, c_in, c_out = kernel.shape
    if c_in > BROADCAST_CHANNELS:  # one matrix product of the phase's patches
        return _phase_patches(views, kh, kw, a, b) @ kernel.reshape(-1, c_out)
    total = 0.0
    for i in range(kh):
        for j in range(kw):
            # (N, Hp, Wp, C_in, 1) * (C_in, C_out), summed over C_in: a fusible multiply-add
            total = total + (views[a + i, b + j][..., None] * kernel[i, j]).sum(axis=-2)
    return total


def _forward(x, kernel, bias, relu):
    kh, kw = kernel.shape[:2]
    hp, wp = (x.shape[1] - kh + 1) // POOL, (x.shape[2] - kw + 1) // POOL
    views = _views(x, kh, kw, hp, wp)
    phases = [_phase(views, kernel, a, b) + bias for a in range(POOL) for b in range(POOL)]
    best = functools.reduce(jnp.maximum, phases)
    # index of the first phase reaching the maximum (reduce_window's tie rule)
    winner = jnp.full(best.shape, len(phases) - 1, jnp.int8)
    for index in reversed(range(len(phases) - 1)):
        winner = jnp.where(phases[index] == best, jnp.int8(index), winner)
    return (jax.nn.relu(best) if relu else best), (best, winner)


@functools.partial(jax.custom_vjp, nondiff_argnums=(3,))
def _conv_pool(x: jax.Array, kernel: jax.Array, bias: jax.Array, relu: bool) -> jax.Array:
    return _forward(x, kernel, bias, relu)[0]


def _fwd(x, kernel, bias, relu):
    out, (best, winner) = _forward(x, kernel, bias, relu)
    return out, (x, kernel, best, winner)


def _bwd(relu, residuals, grad):
    x, kernel, best, winner = residuals
    kh, kw, c_in, c_out = kernel.shape
    hp, wp = best.shape[1], best.shape[2]
    if relu:
        grad = jnp.where(best > 0, grad, 0.0)  # zero gradient where the output was clipped
    views = _views(x, kh, kw, hp, wp)
    # kernel gradient: for each window position (a, b), the patches seen from there times the
    # gradient of the windows it won; four matrix products of (9 C_in, N Hp Wp) by (N Hp Wp, C_out)
    kernel_grad = 0.0
    for index, (a, b) in enumerate((a, b) for a in range(POOL) for b in range(POOL)):
        patches = _phase_patches(views, kh, kw, a, b)
        won = jnp.where(winner == index, grad, 0.0)
        kernel_grad = kernel_grad + patches.reshape(-1, kh * kw * c_in).T @ won.reshape(-1, c_out)
    kernel_grad = kernel_grad.reshape(kh, kw, c_in, c_out)
    bias_grad = grad.sum(axis=(0, 1, 2))
    # input gradient: scatter to the winning positions, then the plain convolution's transpose
    # (XLA drops it when nothing needs it, e.g. for the network's input images)
    n = x.shape[0]
    full = jnp.stack([jnp.where(winner == index, grad, 0.0) for index in range(POOL * POOL)], axis=3)
    full = full.reshape(n, hp, wp, POOL, POOL, c_out).transpose(0, 1, 3, 2, 4, 5)
    full = full.reshape(n, POOL * hp, POOL * wp, c_out)
    height, width = x.shape[1] - kh + 1, x.shape[2] - kw + 1
    full = jnp.pad(full, ((0, 0), (0, height - POOL * hp), (0, width - POOL * wp), (0, 0)))
    _, transpose = jax.vjp(
        lambda images: extract_patches(images, (kh, kw)) @ kernel.reshape(-1, c_out), x
    )
    return transpose(full)[0], kernel_grad, bias_grad


_conv_pool.defvjp(_fwd, _bwd)


def _check(x: jax.Array, kernel: jax.Array, bias: jax.Array, name: str) -> None:
    if x.ndim != 4 or kernel.ndim != 4 or bias.shape != kernel.shape[-1:]:
        raise ValueError(
            f"{name} expects x (N, H, W, C_in), kernel (kh, kw, C_in, C_out) and bias "
            f"(C_out,); got {tuple(x.shape)}, {tuple(kernel.shape)} and {tuple(bias.shape)}"
        )
    if x.shape[-1] != kernel.shape[2]:
        raise ValueError(f"{name}: x has {x.shape[-1]} channels but the kernel expects {kernel.shape[2]}")
    if x.shape[1] - kernel.shape[0] + 1 < POOL or x.shape[2] - kernel.shape[1] + 1 < POOL:
        raise ValueError(
            f"{name}: the convolution of {tuple(x.shape[1:3])} images by a "
            f"{tuple(kernel.shape[:2])} kernel is smaller than the 2 x 2 pooling window"
        )


def conv_relu_pool(x: jax.Array, kernel: jax.Array, bias: jax.Array) -> jax.Array:
    """``max_pool(relu(conv(x, kernel) + bias), 2)`` for a VALID convolution, in one pass.

    Rows and columns of the convolution's output that do not fill a pooling window are dropped
    (and never computed), as VALID pooling does.

    Args:
        x: images ``(N, H, W, C_in)``.
        kernel: ``(kh, kw, C_in, C_out)``, as held by ``Conv2D`` and ``nnx.Conv``.
        bias: ``(C_out,)``.

    Returns:
        ``(N, (H - kh + 1) // 2, (W - kw + 1) // 2, C_out)``.

    Example:
        >>> x = jnp.ones((2, 28, 28, 1))
        >>> conv_relu_pool(x, jnp.ones((3, 3, 1, 8)), jnp.zeros(8)).shape
        (2, 13, 13, 8)
    """
    _check(x, kernel, bias, "conv_relu_pool")
    return _conv_pool(x, kernel, bias, True)


def conv_max_pool(x: jax.Array, kernel: jax.Array, bias: jax.Array | None = None) -> jax.Array:
    """``max_pool(conv(x, kernel) + bias, 2)`` for a VALID convolution, in one pass (no activation).

    For networks that pool right after a convolution and normalise afterwards, like airbench's
    groups; pad ``x`` first for a SAME convolution. Same arguments and shapes as
    :func:`conv_relu_pool`; ``bias=None`` means no bias.

    Example:
        >>> conv_max_pool(jnp.ones((2, 17, 17, 8)), jnp.ones((3, 3, 8, 4))).shape
        (2, 7, 7, 4)
    """
    bias = jnp.zeros(kernel.shape[-1:], kernel.dtype) if bias is None else bias
    _check(x, kernel, bias, "conv_max_pool")
    return _conv_pool(x, kernel, bias, False)
