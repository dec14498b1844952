"""``SeedCNN``: the classic two-convolution network of the first classification chapter."""

from __future__ import annotations

import jax
from flax import nnx

from companion.nn._shapes import pool_size, valid_conv_size
from companion.nn.fused import conv_relu_pool
from companion.nn.layers import Conv2D

KERNEL = 3
POOL = 2
CONV_FEATURES = (32, 64)
HIDDEN = 64
MNIST_SIDE = 28


class SeedCNN(nnx.Module):
    """conv3x3(32)-ReLU-maxpool2-conv3x3(64)-ReLU-maxpool2-dense64-ReLU-dense(num_classes).

    The convolutions are VALID (no padding). For 28 x 28 inputs the feature maps go
    28 -> 26 -> 13 -> 11 -> 5, so the flattened features number ``5 * 5 * 64``; this size is
    derived from ``image_size`` rather than typed in.

    Args:
        num_classes: number of output logits.
        in_channels: channels of the input images (1 for grey, 3 for RGB).
        image_size: side of the square input images.
        rngs: the random streams for parameter initialisation.

    Example:
        >>> model = SeedCNN(rngs=nnx.Rngs(0))
        >>> model(jnp.zeros((2, 28, 28, 1))).shape
        (2, 10)
    """

    def __init__(
        self, num_classes: int = 10, *, in_channels: int = 1, image_size: int = MNIST_SIDE,
        rngs: nnx.Rngs,
    ) -> None:
        self.num_classes, self.in_channels, self.image_size = num_classes, in_channels, image_size
        first, second = CONV_FEATURES
        self.conv1 = Conv2D(in_channels, first, KERNEL, rngs=rngs)
        self.conv2 = Conv2D(first, second, KERNEL, rngs=rngs)
        side = pool_size(valid_conv_size(image_size, KERNEL), POOL)
        side = pool_size(valid_conv_size(side, KERNEL), POOL)
        self.flat_features = side * side * second
        self.dense1 = nnx.Linear(self.flat_features, HIDDEN, rngs=rngs)
        self.dense2 = nnx.Linear(HIDDEN, num_classes, rngs=rngs)

    def __call__(self, x: jax.Array) -> jax.Array:
        """Map images ``(N, H, W, C)`` (float32 in [0, 1]) to logits ``(N, num_classes)``."""
        # conv -> ReLU -> pool in one pass, never building the unpooled maps (see conv_relu_pool)
        x = conv_relu_pool(x, self.conv1.kernel[...], self.conv1.bias[...])
        x = conv_relu_pool(x, self.conv2.kernel[...], self.conv2.bias[...])
        x = x.reshape(x.shape[0], -1)
        return self.dense2(jax.nn.relu(self.dense1(x)))
