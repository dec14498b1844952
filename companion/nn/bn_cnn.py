"""A small VGG-style CNN with BatchNorm and dropout, sized for Fashion-MNIST."""

from __future__ import annotations

from collections.abc import Sequence

import jax
from flax import nnx

from companion.nn._shapes import pool_size
from companion.nn.layers import Conv2D, max_pool

KERNEL = 3
POOL = 2
STAGE_FEATURES = (32, 64)
DEFAULT_STAGES = tuple((width, width) for width in STAGE_FEATURES)  # two convs per stage
HIDDEN = 128
FASHION_SIDE = 28
MAX_DROPOUT = 0.5  # the head doubles the rate, which must stay below 1
HEAD_DROPOUT_FACTOR = 2


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


def _check_stages(stages) -> tuple[tuple[int, ...], ...]:
    try:
        checked = tuple(tuple(stage) for stage in stages)
    except TypeError:
        checked = ()
    if not checked or not all(
        stage and all(isinstance(w, int) and w >= 1 for w in stage) for stage in checked
    ):
        raise ValueError(
            "stages must be a non-empty sequence of non-empty sequences of positive ints, "
            f"e.g. ((32,), (64,), (128,)); got {stages!r}"
        )
    return checked


class BatchNormCNN(nnx.Module):
    """Stages of conv-BN-ReLU blocks, each stage ending in max pooling and dropout, then a dense head.

    Each entry of ``stages`` lists the output channels of that stage's SAME 3x3 convolutions
    (:class:`ConvBN` blocks); every stage halves the side with a 2x2 max pooling. The default,
    two stages of two convolutions ``((32, 32), (64, 64))``, maps 28 x 28 inputs through
    28 -> 14 -> 7, so the flattened features number ``7 * 7 * 64``. The Fashion-MNIST chapter
    uses the cheaper and deeper ``((32,), (64,), (128,))``: 28 -> 14 -> 7 -> 3 and
    ``3 * 3 * 128`` features. Call ``nnx.view(model, deterministic=True,
    use_running_average=True)`` (or ``model.eval()``) for evaluation; ``companion.train.fit``
    and ``evaluate`` switch modes themselves.

    Args:
        num_classes: number of output logits.
        in_channels: channels of the input images.
        image_size: side of the square input images.
        stages: output channels of the convolutions, one sequence per stage.
        hidden: width of the hidden dense layer.
        dropout: dropout rate after each stage; the head uses twice this rate.
        rngs: the random streams; dropout draws from ``rngs.dropout``.

    Example:
        >>> model = BatchNormCNN(rngs=nnx.Rngs(0))
        >>> model(jnp.zeros((2, 28, 28, 1))).shape
        (2, 10)
        >>> BatchNormCNN(stages=((32,), (64,), (128,)), rngs=nnx.Rngs(0)).flat_features
        1152
    """

    def __init__(
        self, num_classes: int = 10, *, in_channels: int = 1, image_size: int = FASHION_SIDE,
        stages: Sequence[Sequence[int]] = DEFAULT_STAGES, hidden: int = HIDDEN,
        dropout: float = 0.25, rngs: nnx.Rngs,
    ) -> None:
        if not 0.0 <= dropout < MAX_DROPOUT:
            raise ValueError(f"dropout must lie in [0, {MAX_DROPOUT}); got {dropout}")
        if not isinstance(hidden, int) or hidden < 1:
            raise ValueError(f"hidden must be a positive int; got {hidden!r}")
        self.stages = _check_stages(stages)
        self.num_classes, self.in_channels, self.image_size = num_classes, in_channels, image_size
        blocks, side, features = [], image_size, in_channels
        for stage in self.stages:
            for width in stage:
                blocks.append(ConvBN(features, width, rngs=rngs))
                features = width
            if side < POOL:
                raise ValueError(
                    f"image_size {image_size} is too small for {len(self.stages)} stages: a "
                    f"{POOL}x{POOL} pooling window does not fit in an input of side {side}"
                )
            side = pool_size(side, POOL)
        self.blocks = nnx.List(blocks)
        self.stage_dropout = nnx.Dropout(dropout, rngs=rngs)
        self.final_side = side
        self.flat_features = side * side * features
        self.dense1 = nnx.Linear(self.flat_features, hidden, rngs=rngs)
        self.head_dropout = nnx.Dropout(HEAD_DROPOUT_FACTOR * dropout, rngs=rngs)
        self.dense2 = nnx.Linear(hidden, num_classes, rngs=rngs)

    def features(self, x: jax.Array) -> jax.Array:
        """The last stage's pooled feature maps.

        Args:
            x: images ``(N, H, W, C)``, float32 in [0, 1].

        Returns:
            ``(N, final_side, final_side, C_last)``.

        Example:
            >>> BatchNormCNN(rngs=nnx.Rngs(0)).features(jnp.zeros((2, 28, 28, 1))).shape
            (2, 7, 7, 64)
        """
        blocks = iter(self.blocks)
        for stage in self.stages:
            for _ in stage:
                x = next(blocks)(x)
            x = self.stage_dropout(max_pool(x, POOL))
        return x

    def __call__(self, x: jax.Array) -> jax.Array:
        """Map images ``(N, H, W, C)`` (float32 in [0, 1]) to logits ``(N, num_classes)``."""
        x = self.features(x)
        x = x.reshape(x.shape[0], -1)
        return self.dense2(self.head_dropout(jax.nn.relu(self.dense1(x))))
