r"""Max, average and global average pooling, and their gradients (chapter "Pooling").

Images are ``(H, W, C)``; each channel is pooled separately. Windows of ``size`` pixels move by
``stride`` (by default ``size``: non-overlapping windows) without padding, so rows and columns
that do not fill a whole window are dropped, as in ``"VALID"`` pooling. The output size is
:func:`companion.formulas.pool_output_size`.
"""

from __future__ import annotations

from collections.abc import Sequence

import jax
import jax.numpy as jnp

from companion.formulas._validate import as_float_array, as_int, as_pair


def _geometry(x, size, stride):
    x = as_float_array("x", x)
    if x.ndim != 3:
        raise ValueError(f"x must have shape (H, W, C); got shape {tuple(x.shape)}")
    kh, kw = as_pair("size", size, minimum=1)
    sh, sw = (kh, kw) if stride is None else as_pair("stride", stride, minimum=1)
    if kh > x.shape[0] or kw > x.shape[1]:
        raise ValueError(f"the window {(kh, kw)} is larger than the image {tuple(x.shape[:2])}")
    h_out = (x.shape[0] - kh) // sh + 1
    w_out = (x.shape[1] - kw) // sw + 1
    return x, (kh, kw), (sh, sw), (h_out, w_out)


def _windows(x, window, step, out_size) -> jax.Array:
    """Stack the ``kh * kw`` taps of every window: shape ``(H_out, W_out, C, kh * kw)``.

    Tap ``i * kw + j`` is window row ``i``, column ``j``: row-major order inside the window.
    """
    (kh, kw), (sh, sw), (h_out, w_out) = window, step, out_size
    taps = []
    for i in range(kh):
        for j in range(kw):
            rows = slice(i, i + sh * (h_out - 1) + 1, sh)
            cols = slice(j, j + sw * (w_out - 1) + 1, sw)
            taps.append(x[rows, cols, :])
    return jnp.stack(taps, axis=-1)


def max_pool2d(
    x: jax.Array, size: int | tuple[int, int], *, stride: int | tuple[int, int] | None = None
) -> jax.Array:
    r"""Max pooling: the largest value in each window, per channel.

    .. math::

        y_{u,v,c} = \max_{0 \le i < k_h,\; 0 \le j < k_w} x_{s u + i,\; s v + j,\; c}

    The maximum is taken by picking the *first* largest value in row-major window order, so
    ``jax.grad`` of this function routes the gradient exactly as :func:`max_pool2d_grad` does
    (and as ``jax.lax.reduce_window`` and PyTorch do).

    Args:
        x: image, shape ``(H, W, C)``.
        size: window size, an int or ``(kh, kw)``.
        stride: step between windows; ``None`` means ``size``.

    Returns:
        Shape ``(H_out, W_out, C)``.

    Example:
        >>> x = jnp.arange(16.0).reshape(4, 4, 1)
        >>> max_pool2d(x, 2)[..., 0]
        Array([[ 5.,  7.],
               [13., 15.]], dtype=float32)
    """
    x, window, step, out_size = _geometry(x, size, stride)
    windows = _windows(x, window, step, out_size)
    first_argmax = jnp.argmax(windows, axis=-1)[..., None]
    return jnp.take_along_axis(windows, first_argmax, axis=-1)[..., 0]


def avg_pool2d(
    x: jax.Array, size: int | tuple[int, int], *, stride: int | tuple[int, int] | None = None
) -> jax.Array:
    r"""Average pooling: the mean of each window, per channel.

    .. math::

        y_{u,v,c} = \frac{1}{k_h k_w} \sum_{i=0}^{k_h-1} \sum_{j=0}^{k_w-1} x_{s u + i,\; s v + j,\; c}

    Args:
        x: image, shape ``(H, W, C)``.
        size: window size, an int or ``(kh, kw)``.
        stride: step between windows; ``None`` means ``size``.

    Returns:
        Shape ``(H_out, W_out, C)``.

    Example:
        >>> avg_pool2d(jnp.arange(16.0).reshape(4, 4, 1), 2)[..., 0]
        Array([[ 2.5,  4.5],
               [10.5, 12.5]], dtype=float32)
    """
    x, window, step, out_size = _geometry(x, size, stride)
    return _windows(x, window, step, out_size).mean(axis=-1)


def global_avg_pool(x: jax.Array) -> jax.Array:
    r"""Global average pooling: the mean of each channel over all positions.

    .. math::

        y_c = \frac{1}{H W} \sum_{h, w} x_{h,w,c}

    It turns a feature map of any size into one vector, so the classifier head after it does
    not depend on the image size.

    Args:
        x: feature map, shape ``(H, W, C)``, or a batch ``(N, H, W, C)``.

    Returns:
        Shape ``(C,)`` (or ``(N, C)``).

    Example:
        >>> global_avg_pool(jnp.ones((5, 7, 3)))
        Array([1., 1., 1.], dtype=float32)
    """
    x = as_float_array("x", x)
    if x.ndim not in (3, 4):
        raise ValueError(f"x must have shape (H, W, C) or (N, H, W, C); got shape {tuple(x.shape)}")
    return x.mean(axis=(-3, -2))


def max_pool2d_grad(
    x: jax.Array,
    grad_out: jax.Array,
    size: int | tuple[int, int],
    *,
    stride: int | tuple[int, int] | None = None,
) -> jax.Array:
    r"""Gradient of a loss through :func:`max_pool2d`: each window's gradient goes to its argmax.

    .. math::

        \frac{\partial L}{\partial x_{p,q,c}} = \sum_{u,v \,:\, (p,q) = \operatorname{argmax}_{u,v,c}}
            \frac{\partial L}{\partial y_{u,v,c}}

    Every other input in the window gets nothing. **Ties**: when several inputs share the
    window's maximum, the whole gradient goes to the *first* in row-major order (top row first,
    then left to right), as in ``jax.lax.reduce_window`` (``flax.nnx.max_pool``) and PyTorch.
    Differentiating ``jnp.max`` instead splits it evenly among the tied inputs. With
    overlapping windows (stride smaller than size) one input can win several windows and
    collects the sum of their gradients.

    Args:
        x: the forward input, shape ``(H, W, C)``.
        grad_out: :math:`\partial L / \partial y`, shape ``(H_out, W_out, C)``.
        size: window size.
        stride: step between windows; ``None`` means ``size``.

    Returns:
        :math:`\partial L / \partial x`, shape ``(H, W, C)``.

    Example:
        >>> x = jnp.array([[1.0, 2.0], [4.0, 3.0]])[..., None]
        >>> max_pool2d_grad(x, jnp.ones((1, 1, 1)), 2)[..., 0]
        Array([[0., 0.],
               [1., 0.]], dtype=float32)
    """
    x, (kh, kw), (sh, sw), (h_out, w_out) = _geometry(x, size, stride)
    g = _check_grad(grad_out, (h_out, w_out, x.shape[-1]), x.dtype)
    winner = jnp.argmax(_windows(x, (kh, kw), (sh, sw), (h_out, w_out)), axis=-1)
    grad = jnp.zeros_like(x)
    for i in range(kh):
        for j in range(kw):
            rows = slice(i, i + sh * (h_out - 1) + 1, sh)
            cols = slice(j, j + sw * (w_out - 1) + 1, sw)
            routed = jnp.where(winner == i * kw + j, g, 0)
            grad = grad.at[rows, cols, :].add(routed)
    return grad


def avg_pool2d_grad(
    grad_out: jax.Array,
    input_size: Sequence[int],
    size: int | tuple[int, int],
    *,
    stride: int | tuple[int, int] | None = None,
) -> jax.Array:
    r"""Gradient of a loss through :func:`avg_pool2d`: each window's gradient is shared equally.

    .. math::

        \frac{\partial L}{\partial x_{p,q,c}} = \frac{1}{k_h k_w}
            \sum_{u,v \,:\, (p,q) \in \text{window}(u,v)} \frac{\partial L}{\partial y_{u,v,c}}

    Args:
        grad_out: :math:`\partial L / \partial y`, shape ``(H_out, W_out, C)``.
        input_size: ``(H, W)`` of the forward input.
        size: window size.
        stride: step between windows; ``None`` means ``size``.

    Returns:
        :math:`\partial L / \partial x`, shape ``(H, W, C)``.

    Example:
        >>> avg_pool2d_grad(jnp.ones((1, 1, 1)), (2, 3), 2)[..., 0]
        Array([[0.25, 0.25, 0.  ],
               [0.25, 0.25, 0.  ]], dtype=float32)
    """
    g = as_float_array("grad_out", grad_out)
    if g.ndim != 3 or len(input_size) != 2:
        raise ValueError(
            f"grad_out must be (H_out, W_out, C) and input_size (H, W); got shape "
            f"{tuple(g.shape)} and {tuple(input_size)!r}"
        )
    height, width = (as_int(n, v, minimum=1) for n, v in zip(("H", "W"), input_size, strict=True))
    shape_only = jnp.zeros((height, width, g.shape[-1]), g.dtype)
    _, (kh, kw), (sh, sw), (h_out, w_out) = _geometry(shape_only, size, stride)
    g = _check_grad(g, (h_out, w_out, g.shape[-1]), g.dtype)
    grad = shape_only
    for i in range(kh):
        for j in range(kw):
            rows = slice(i, i + sh * (h_out - 1) + 1, sh)
            cols = slice(j, j + sw * (w_out - 1) + 1, sw)
            grad = grad.at[rows, cols, :].add(g / (kh * kw))
    return grad


def _check_grad(grad_out, shape, dtype) -> jax.Array:
    g = as_float_array("grad_out", grad_out)
    if tuple(g.shape) != tuple(shape):
        raise ValueError(f"grad_out must have shape {tuple(shape)}; got shape {tuple(g.shape)}")
    return g.astype(dtype)
