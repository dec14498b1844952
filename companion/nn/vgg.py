"""A VGG-style network (Simonyan and Zisserman, 2015) sized for 32 x 32 images such as CIFAR-10."""

from __future__ import annotations

from collections.abc import Sequence

import jax
from flax import nnx

from companion.nn._shapes import pool_size
from companion.nn.bn_cnn import ConvBN
from companion.nn.layers import max_pool

POOL = 2
CIFAR_SIDE = 32
DEFAULT_STAGES = (64, 128, 256)
CONVS_PER_STAGE = 2


class VGG(nnx.Module):
    """Stages of 3x3 conv-BatchNorm-ReLU blocks, each stage ending in 2x2 max pooling, then a
    dropout and a dense classifier.

    With the default three stages, 32 x 32 inputs shrink to 16, 8 and 4, so the classifier sees
    ``4 * 4 * 256`` features.

    Args:
        num_classes: number of output logits.
        in_channels: channels of the input images.
        image_size: side of the square input images.
        stages: output channels of each stage.
        convs_per_stage: conv-BN-ReLU blocks per stage.
        dropout: dropout rate before the classifier.
        rngs: the random streams; dropout draws from ``rngs.dropout``.

    Example:
        >>> model = VGG(rngs=nnx.Rngs(0), stages=(8, 16))
        >>> model(jnp.zeros((2, 32, 32, 3))).shape
        (2, 10)
    """

    def __init__(
        self, num_classes: int = 10, *, in_channels: int = 3, image_size: int = CIFAR_SIDE,
        stages: Sequence[int] = DEFAULT_STAGES, convs_per_stage: int = CONVS_PER_STAGE,
        dropout: float = 0.3, rngs: nnx.Rngs,
    ) -> None:
        if not stages or convs_per_stage < 1:
            raise ValueError(f"need at least one stage of one conv; got stages={stages!r}, "
                             f"convs_per_stage={convs_per_stage}")
        self.num_classes, self.in_channels, self.image_size = num_classes, in_channels, image_size
        blocks, features, side = [], in_channels, image_size
        for width in stages:
            stage = []
            for _ in range(convs_per_stage):
                stage.append(ConvBN(features, width, rngs=rngs))
                features = width
            blocks.append(nnx.List(stage))
            side = pool_size(side, POOL)
        self.stages = nnx.List(blocks)
        self.flat_features = side * side * features
        self.dropout = nnx.Dropout(dropout, rngs=rngs)
        self.head = nnx.Linear(self.flat_features, num_classes, rngs=rngs)

    def __call__(self, x: jax.Array) -> jax.Array:
        """Map images ``(N, H, W, C)`` (float32 in [0, 1]) to logits ``(N, num_classes)``."""
        for stage in self.stages:
            for block in stage:
                x = block(x)
            x = max_pool(x, POOL)
        return self.head(self.dropout(x.reshape(x.shape[0], -1)))
