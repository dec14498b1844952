"""Flax NNX models used in the book, and fast exact layers for CPU training."""

from companion.nn.bn_cnn import BatchNormCNN, ConvBN
from companion.nn.layers import Conv2D, extract_patches, max_pool
from companion.nn.lenet import LeNet5
from companion.nn.seed import SeedCNN

__all__ = ["BatchNormCNN", "Conv2D", "ConvBN", "LeNet5", "SeedCNN", "extract_patches", "max_pool"]
