"""A small CNN with BatchNorm and dropout, sized for Fashion-MNIST."""

from __future__ import annotations

import jax
from flax import nnx

from companion.nn._shapes import pool_size
from companion.nn.layers import Conv2D, max_pool

KERNEL = 3
POOL = 2
STAGE_FEATURES = (32, 64)
HIDDEN = 128
FASHION_SIDE = 28


class ConvBN(nnx.Module):
    """A SAME 3x3 convolution without bias, BatchNorm and ReLU.

    Args:
        in_features: input channels.
        out_features: output channels.
        rngs: the random streams.

    Example:
        >>> block = ConvBN(1, 8, rngs=nnx.Rngs(0))
        >>> block(jnp.zeros((2, 28, 28, 1))).shape
        (2, 28, 28, 8)
    """

    def __init__(self, in_features: int, out_features: int, *, rngs: nnx.Rngs) -> None:
        self.conv = Conv2D(in_features, out_features, KERNEL, padding="SAME", use_bias=False, rngs=rngs)
        self.norm = nnx.BatchNorm(out_features, rngs=rngs)

    def __call__(self, x: jax.Array) -> jax.Array:
        """Apply the block to ``(N, H, W, C_in)``; returns ``(N, H, W, C_out)``."""
        return jax.nn.relu(self.norm(self.conv(x)))


class BatchNormCNN(nnx.Module):
    """Two stages of two conv-BN-ReLU blocks with max pooling and dropout, then a dense head.

    Feature maps go 28 -> 14 -> 7 for 28 x 28 inputs, so the flattened features number
    ``7 * 7 * 64``. Call ``nnx.view(model, deterministic=True, use_running_average=True)``
    (or ``model.eval()``) for evaluation; ``companion.train.fit`` and ``evaluate`` switch modes
    themselves.

    Args:
        num_classes: number of output logits.
        in_channels: channels of the input images.
        image_size: side of the square input images.
        dropout: dropout rate after each stage; the head uses twice this rate (capped below 1).
        rngs: the random streams; dropout draws from ``rngs.dropout``.

    Example:
        >>> model = BatchNormCNN(rngs=nnx.Rngs(0))
        >>> model(jnp.zeros((2, 28, 28, 1))).shape
        (2, 10)
    """

    def __init__(
        self, num_classes: int = 10, *, in_channels: int = 1, image_size: int = FASHION_SIDE,
        dropout: float = 0.25, rngs: nnx.Rngs,
    ) -> None:
        if not 0.0 <= dropout < 0.5:
            raise ValueError(f"dropout must lie in [0, 0.5); got {dropout}")
        self.num_classes, self.in_channels, self.image_size = num_classes, in_channels, image_size
        blocks, side, features = [], image_size, in_channels
        for width in STAGE_FEATURES:
            blocks += [ConvBN(features, width, rngs=rngs), ConvBN(width, width, rngs=rngs)]
            features, side = width, pool_size(side, POOL)
        self.blocks = nnx.List(blocks)
        self.stage_dropout = nnx.Dropout(dropout, rngs=rngs)
        self.flat_features = side * side * features
        self.dense1 = nnx.Linear(self.flat_features, HIDDEN, rngs=rngs)
        self.head_dropout = nnx.Dropout(2 * dropout, rngs=rngs)
        self.dense2 = nnx.Linear(HIDDEN, num_classes, rngs=rngs)

    def __call__(self, x: jax.Array) -> jax.Array:
        """Map images ``(N, H, W, C)`` (float32 in [0, 1]) to logits ``(N, num_classes)``."""
        for first, second in zip(self.blocks[::2], self.blocks[1::2], strict=True):
            x = self.stage_dropout(max_pool(second(first(x)), POOL))
        x = x.reshape(x.shape[0], -1)
        return self.dense2(self.head_dropout(jax.nn.relu(self.dense1(x))))
