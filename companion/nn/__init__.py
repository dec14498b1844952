"""Flax NNX models used in the book, and fast exact layers for CPU training."""

from companion.nn.airbench import AirbenchCNN, ConvGroup, Frozen, whitening_weights
from companion.nn.batchnorm import set_batchnorm_momentum
from companion.nn.bn_cnn import BatchNormCNN, ConvBN
from companion.nn.fused import conv_max_pool, conv_relu_pool
from companion.nn.layers import Conv2D, extract_patches, max_pool
from companion.nn.lenet import LeNet5
from companion.nn.resnet import Residual, ResNet9
from companion.nn.seed import SeedCNN
from companion.nn.vgg import VGG

__all__ = [
    "VGG",
    "AirbenchCNN",
    "BatchNormCNN",
    "Conv2D",
    "ConvBN",
    "ConvGroup",
    "Frozen",
    "LeNet5",
    "ResNet9",
    "Residual",
    "SeedCNN",
    "conv_max_pool",
    "conv_relu_pool",
    "extract_patches",
    "max_pool",
    "set_batchnorm_momentum",
    "whitening_weights",
]
