"""Tiny data and models for the training tests: small shapes, few steps."""

import jax
import numpy as np
import pytest
from flax import nnx

from companion.nn import Conv2D, max_pool

SIDE = 8
CLASSES = 3


def tiny_data(count: int = 96, *, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Float32 images whose brightness band gives the class: easy to learn."""
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, CLASSES, count).astype(np.int32)
    images = rng.random((count, SIDE, SIDE, 1), dtype=np.float32) * np.float32(0.3)
    images += (labels[:, None, None, None] * np.float32(0.3)).astype(np.float32)
    return images, labels


class TinyNet(nnx.Module):
    """conv-BatchNorm-ReLU-pool-dropout-dense: covers parameters, batch statistics and RNG state."""

    def __init__(self, num_classes: int = CLASSES, *, in_channels: int = 1, rngs: nnx.Rngs):
        self.num_classes, self.in_channels = num_classes, in_channels
        self.conv = Conv2D(in_channels, 4, 3, padding="SAME", rngs=rngs)
        self.norm = nnx.BatchNorm(4, rngs=rngs)
        self.dropout = nnx.Dropout(0.2, rngs=rngs)
        self.dense = nnx.Linear((SIDE // 2) ** 2 * 4, num_classes, rngs=rngs)

    def __call__(self, x: jax.Array) -> jax.Array:
        x = self.dropout(max_pool(jax.nn.relu(self.norm(self.conv(x)))))
        return self.dense(x.reshape(x.shape[0], -1))


@pytest.fixture
def data():
    return tiny_data()


@pytest.fixture
def make_model():
    return lambda seed=0: TinyNet(rngs=nnx.Rngs(seed))
