"""LeNet-5 (LeCun et al., 1998), in its common modern form: ReLU and max pooling."""

from __future__ import annotations

import jax
from flax import nnx

from companion.nn._shapes import pool_size, valid_conv_size
from companion.nn.layers import Conv2D, max_pool

KERNEL = 5
POOL = 2
CONV_FEATURES = (6, 16)
HIDDEN = (120, 84)
MNIST_SIDE = 28
LENET_PADDING = 2  # the original network saw 32 x 32 inputs: MNIST's 28 x 28 padded by 2 per side


class LeNet5(nnx.Module):
    """conv5x5(6)-pool-conv5x5(16)-pool-dense120-dense84-dense(num_classes).

    The first convolution uses SAME padding, which for 28 x 28 inputs is the original
    network's 32 x 32 input with its VALID convolution; the second is VALID. Feature maps go
    28 -> 28 -> 14 -> 10 -> 5, so the flattened features number ``5 * 5 * 16``.

    Args:
        num_classes: number of output logits.
        in_channels: channels of the input images.
        image_size: side of the square input images.
        rngs: the random streams for parameter initialisation.

    Example:
        >>> model = LeNet5(rngs=nnx.Rngs(0))
        >>> model(jnp.zeros((2, 28, 28, 1))).shape
        (2, 10)
    """

    def __init__(
        self, num_classes: int = 10, *, in_channels: int = 1, image_size: int = MNIST_SIDE,
        rngs: nnx.Rngs,
    ) -> None:
        self.num_classes, self.in_channels, self.image_size = num_classes, in_channels, image_size
        first, second = CONV_FEATURES
        self.conv1 = Conv2D(in_channels, first, KERNEL, padding="SAME", rngs=rngs)
        self.conv2 = Conv2D(first, second, KERNEL, rngs=rngs)
        side = pool_size(image_size, POOL)
        side = pool_size(valid_conv_size(side, KERNEL), POOL)
        self.flat_features = side * side * second
        self.dense1 = nnx.Linear(self.flat_features, HIDDEN[0], rngs=rngs)
        self.dense2 = nnx.Linear(HIDDEN[0], HIDDEN[1], rngs=rngs)
        self.dense3 = nnx.Linear(HIDDEN[1], num_classes, rngs=rngs)

    def __call__(self, x: jax.Array) -> jax.Array:
        """Map images ``(N, H, W, C)`` (float32 in [0, 1]) to logits ``(N, num_classes)``."""
        x = max_pool(jax.nn.relu(self.conv1(x)), POOL)
        x = max_pool(jax.nn.relu(self.conv2(x)), POOL)
        x = x.reshape(x.shape[0], -1)
        x = jax.nn.relu(self.dense1(x))
        return self.dense3(jax.nn.relu(self.dense2(x)))
