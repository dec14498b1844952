"""An airbench-style network for fast CIFAR-10 training (Jordan, 2024).

The network of "94% on CIFAR-10 in 3.29 seconds on a single GPU": a fixed 2 x 2 *whitening*
convolution initialised from the eigenvectors of the training patches' covariance, then three
groups of ``conv -> max pool -> BatchNorm -> GELU -> conv -> BatchNorm -> GELU``, a global max
pool and a bias-free linear head whose logits are scaled down. Feature maps go
``32 -> 31 -> 15 -> 7 -> 3`` for 32 x 32 inputs.
"""

from __future__ import annotations

from collections.abc import Sequence

import jax
import jax.numpy as jnp
import numpy as np
from flax import nnx

from companion.nn.fused import conv_max_pool
from companion.nn.layers import Conv2D, extract_patches

POOL = 2
KERNEL = 3
WHITEN_KERNEL = 2
CIFAR_SIDE = 32
AIRBENCH94_WIDTHS = (64, 256, 256)  # the widths of airbench94
LOGIT_SCALE = 1.0 / 9.0  # airbench's scaling of the logits
BN_MOMENTUM = 0.4  # flax's decay of the running statistics; PyTorch's momentum 0.6 in airbench
BN_EPSILON = 1e-5
WHITEN_EPSILON = 5e-4  # relative to the mean eigenvalue of the patch covariance
IMAGE_RANK = 4


class Frozen(nnx.Variable):
    """A variable that ``companion.train.fit`` does not train (it only trains ``nnx.Param``).

    Example:
        >>> Frozen(jnp.zeros(3))[...].shape
        (3,)
    """


def whitening_weights(
    images: jax.Array, *, kernel_size: int = WHITEN_KERNEL, epsilon: float = WHITEN_EPSILON,
) -> tuple[jax.Array, jax.Array]:
    """Kernel and bias of a convolution that whitens the ``kernel_size x kernel_size`` patches.

    With patches :math:`p` of mean :math:`\\mu` and covariance :math:`\\Sigma = V \\Lambda V^T`,
    filter :math:`i` is :math:`v_i / \\sqrt{\\lambda_i + \\epsilon \\bar\\lambda}` and its bias
    :math:`-v_i^T \\mu / \\sqrt{\\lambda_i + \\epsilon \\bar\\lambda}`, so the outputs are
    uncorrelated with unit variance over the data. Each filter also appears negated (so a
    following GELU keeps both signs), giving ``2 * d`` outputs for ``d = k * k * C``.

    Args:
        images: float32 images ``(N, H, W, C)`` in [0, 1].
        kernel_size: side ``k`` of the patches.
        epsilon: regulariser, relative to the mean eigenvalue :math:`\\bar\\lambda`.

    Returns:
        ``(kernel, bias)`` of shapes ``(k, k, C, 2 * k * k * C)`` and ``(2 * k * k * C,)``,
        filters in decreasing order of eigenvalue.

    Example:
        >>> kernel, bias = whitening_weights(jax.random.uniform(jax.random.key(0), (8, 8, 8, 3)))
        >>> kernel.shape, bias.shape
        ((2, 2, 3, 24), (24,))
    """
    images = jnp.asarray(images)
    if images.ndim != IMAGE_RANK or not jnp.issubdtype(images.dtype, jnp.floating):
        raise ValueError(
            f"images must be float images of shape (N, H, W, C); got {images.dtype} "
            f"of shape {tuple(images.shape)}"
        )
    channels = images.shape[-1]
    patches = extract_patches(images.astype(jnp.float32), (kernel_size, kernel_size))
    flat = patches.reshape(-1, patches.shape[-1])
    mean = flat.mean(axis=0)
    centred = flat - mean
    covariance = centred.T @ centred / jnp.float32(flat.shape[0])
    eigenvalues, eigenvectors = jnp.linalg.eigh(covariance)  # ascending order
    eigenvalues, eigenvectors = eigenvalues[::-1], eigenvectors[:, ::-1]
    scale = jnp.sqrt(eigenvalues + epsilon * eigenvalues.mean())
    filters = eigenvectors / scale
    weights = jnp.concatenate([filters, -filters], axis=1)
    kernel = weights.reshape(kernel_size, kernel_size, channels, weights.shape[-1])
    return kernel, -(mean @ weights)


def _dirac_(conv: Conv2D) -> None:
    """Make the first ``C_in`` filters of a SAME 3x3 convolution the identity (airbench's init)."""
    kernel = conv.kernel[...]
    c_in, c_out = kernel.shape[2], kernel.shape[3]
    count = min(c_in, c_out)
    centre = KERNEL // 2
    identity = jnp.zeros((KERNEL, KERNEL, c_in, count), jnp.float32)
    identity = identity.at[centre, centre, jnp.arange(count), jnp.arange(count)].set(1.0)
    conv.kernel[...] = kernel.at[..., :count].set(identity)


class ConvGroup(nnx.Module):
    """``conv3x3 -> max pool 2 -> BatchNorm -> GELU -> conv3x3 -> BatchNorm -> GELU``.

    The convolutions are SAME and bias-free; the BatchNorms learn a shift but no scale, as in
    airbench. Pooling right after the first convolution halves the cost of everything after it.

    Args:
        in_features: input channels.
        out_features: output channels.
        rngs: the random streams.

    Example:
        >>> group = ConvGroup(4, 8, rngs=nnx.Rngs(0))
        >>> group(jnp.zeros((2, 15, 15, 4))).shape
        (2, 7, 7, 8)
    """

    def __init__(self, in_features: int, out_features: int, *, rngs: nnx.Rngs) -> None:
        self.conv1 = Conv2D(in_features, out_features, KERNEL, padding="SAME", use_bias=False,
                            rngs=rngs)
        self.norm1 = nnx.BatchNorm(out_features, use_scale=False, momentum=BN_MOMENTUM,
                                   epsilon=BN_EPSILON, rngs=rngs)
        self.conv2 = Conv2D(out_features, out_features, KERNEL, padding="SAME", use_bias=False,
                            rngs=rngs)
        self.norm2 = nnx.BatchNorm(out_features, use_scale=False, momentum=BN_MOMENTUM,
                                   epsilon=BN_EPSILON, rngs=rngs)
        _dirac_(self.conv1)
        _dirac_(self.conv2)

    def __call__(self, x: jax.Array) -> jax.Array:
        """Apply the group to ``(N, H, W, C_in)``; returns ``(N, H // 2, W // 2, C_out)``."""
        # SAME convolution then pooling, in one pass that never builds the unpooled map
        padded = jnp.pad(x, ((0, 0), (1, 1), (1, 1), (0, 0)))
        x = jax.nn.gelu(self.norm1(conv_max_pool(padded, self.conv1.kernel[...])))
        return jax.nn.gelu(self.norm2(self.conv2(x)))


class AirbenchCNN(nnx.Module):
    """Whitening conv -> three :class:`ConvGroup` -> global max pool -> scaled linear head.

    The 2 x 2 whitening convolution (``2 * 4 * C`` outputs, 24 for RGB) is a :class:`Frozen`
    variable: call :meth:`init_whitening` with training images before training; only its bias
    is trained. With ``widths=(64, 256, 256)`` this is airbench94's network; narrower widths
    trade accuracy for speed.

    Args:
        num_classes: number of output logits.
        in_channels: channels of the input images.
        image_size: side of the square input images (at least 16).
        widths: output channels of the three groups.
        rngs: the random streams.

    Example:
        >>> model = AirbenchCNN(widths=(8, 16, 16), rngs=nnx.Rngs(0))
        >>> model(jnp.zeros((2, 32, 32, 3))).shape
        (2, 10)
    """

    def __init__(
        self, num_classes: int = 10, *, in_channels: int = 3, image_size: int = CIFAR_SIDE,
        widths: Sequence[int] = AIRBENCH94_WIDTHS, rngs: nnx.Rngs,
    ) -> None:
        widths = tuple(widths)
        if len(widths) != 3 or not all(isinstance(w, int) and w >= 1 for w in widths):
            raise ValueError(f"widths must be three positive ints; got {widths!r}")
        side = image_size - WHITEN_KERNEL + 1
        for _ in widths:
            side //= POOL
        if side < 1:
            raise ValueError(f"image_size must be at least 16 for three poolings; got {image_size}")
        self.num_classes, self.in_channels, self.image_size = num_classes, in_channels, image_size
        self.widths = widths
        whiten_width = 2 * WHITEN_KERNEL * WHITEN_KERNEL * in_channels
        self.whiten_kernel = Frozen(
            jnp.zeros((WHITEN_KERNEL, WHITEN_KERNEL, in_channels, whiten_width), jnp.float32)
        )
        self.whiten_bias = nnx.Param(jnp.zeros((whiten_width,), jnp.float32))
        groups, features = [], whiten_width
        for width in widths:
            groups.append(ConvGroup(features, width, rngs=rngs))
            features = width
        self.groups = nnx.List(groups)
        self.final_side = side
        self.head = nnx.Linear(features, num_classes, use_bias=False, rngs=rngs)

    def init_whitening(self, images: jax.Array | np.ndarray) -> None:
        """Set the whitening kernel and bias from training images (see :func:`whitening_weights`).

        Args:
            images: ``(N, H, W, C)`` training images, ``uint8`` or float32 in [0, 1]; a few
                thousand are enough.

        Example:
            >>> model = AirbenchCNN(widths=(8, 16, 16), rngs=nnx.Rngs(0))
            >>> model.init_whitening(np.zeros((4, 32, 32, 3), np.uint8))
        """
        images = np.asarray(images)
        if images.ndim != IMAGE_RANK or images.shape[-1] != self.in_channels:
            raise ValueError(
                f"images must have shape (N, H, W, {self.in_channels}); got {images.shape}"
            )
        if images.dtype == np.uint8:
            images = images.astype(np.float32) / np.float32(255)
        kernel, bias = whitening_weights(jnp.asarray(images, jnp.float32))
        self.whiten_kernel[...] = kernel
        self.whiten_bias[...] = bias

    def __call__(self, x: jax.Array) -> jax.Array:
        """Map images ``(N, H, W, C)`` (float32 in [0, 1]) to logits ``(N, num_classes)``."""
        if x.ndim != IMAGE_RANK or x.shape[-1] != self.in_channels:
            raise ValueError(
                f"AirbenchCNN expects x of shape (N, H, W, {self.in_channels}); "
                f"got shape {tuple(x.shape)}"
            )
        kernel = self.whiten_kernel[...]
        patches = extract_patches(x, (WHITEN_KERNEL, WHITEN_KERNEL))
        x = jax.nn.gelu(patches @ kernel.reshape(-1, kernel.shape[-1]) + self.whiten_bias[...])
        for group in self.groups:
            x = group(x)
        x = jnp.max(x, axis=(1, 2))
        return self.head(x) * jnp.float32(LOGIT_SCALE)
