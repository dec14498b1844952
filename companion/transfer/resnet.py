"""ResNet-18 and ResNet-50 in Flax NNX, NHWC, laid out like torchvision's ``resnet18``/``resnet50``.

The attribute names follow torchvision (and timm, which uses the same names for its ResNets):
``conv1``, ``bn1``, ``layer1`` ... ``layer4`` (lists of blocks), each block with ``conv1``,
``bn1``, ``conv2``, ``bn2`` (and ``conv3``, ``bn3`` in a bottleneck) and an optional
``downsample`` list ``[conv, bn]``, then ``fc``. So the NNX path
``("layer1", 0, "conv1", "kernel")`` is the PyTorch key ``layer1.0.conv1.weight``, and
:func:`companion.transfer.load_pretrained` maps a torchvision/timm state dict one to one.

Two details make the outputs equal to PyTorch's, not just similar: every convolution pads
explicitly as PyTorch does (``padding=k // 2`` on both sides; XLA's ``"SAME"`` would pad a
stride-2 convolution asymmetrically), and BatchNorm uses PyTorch's ``eps = 1e-5`` and its running
average momentum (PyTorch's 0.1 is Flax's 0.9). Convolutions are computed by
:class:`companion.nn.Conv2D` (im2col, fast on CPU) after the explicit padding.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
from flax import nnx

from companion.nn.layers import Conv2D

__all__ = [
    "IMAGENET_MEAN",
    "IMAGENET_STD",
    "BasicBlock",
    "BatchNorm",
    "Bottleneck",
    "PaddedConv",
    "ResNet",
    "resnet18",
    "resnet50",
]

IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)
TORCH_BN_EPSILON = 1e-5
TORCH_BN_MOMENTUM = 0.1  # PyTorch: new = (1 - m) * old + m * batch; Flax's momentum is 1 - m
RESNET18_LAYERS = (2, 2, 2, 2)
RESNET50_LAYERS = (3, 4, 6, 3)
DEFAULT_WIDTH = 64
STAGE_MULTIPLIERS = (1, 2, 4, 8)
STEM_KERNEL, STEM_STRIDE = 7, 2
SMALL_STEM_KERNEL = 3
POOL_KERNEL, POOL_STRIDE = 3, 2
STEMS = ("imagenet", "small")
_CONV_INIT = nnx.initializers.variance_scaling(2.0, "fan_out", "normal")  # torchvision's kaiming_normal_


class PaddedConv(Conv2D):
    """A bias-free convolution with PyTorch's symmetric zero padding (``padding=k // 2``).

    Holds ``kernel`` of shape ``(k, k, C_in, C_out)``, the HWIO layout of PyTorch's OIHW
    ``weight``.

    Args:
        in_features: input channels.
        out_features: output channels.
        kernel_size: the square kernel's side ``k``.
        stride: the step between windows.
        rngs: the random streams.

    Example:
        >>> conv = PaddedConv(3, 8, 3, stride=2, rngs=nnx.Rngs(0))
        >>> conv(jnp.zeros((1, 32, 32, 3))).shape
        (1, 16, 16, 8)
    """

    def __init__(self, in_features: int, out_features: int, kernel_size: int, *, stride: int = 1,
                 rngs: nnx.Rngs) -> None:
        super().__init__(in_features, out_features, kernel_size, strides=stride, padding="VALID",
                         use_bias=False, kernel_init=_CONV_INIT, rngs=rngs)
        self.pad = kernel_size // 2

    def __call__(self, x: jax.Array) -> jax.Array:
        """Convolve ``(N, H, W, C_in)``; returns ``(N, (H + 2p - k) // s + 1, ..., C_out)``."""
        if self.pad:
            x = jnp.pad(x, ((0, 0), (self.pad, self.pad), (self.pad, self.pad), (0, 0)))
        return super().__call__(x)


class BatchNorm(nnx.BatchNorm):
    """``nnx.BatchNorm`` with PyTorch's constants, and a switch that keeps it in inference mode.

    With ``frozen = True`` the layer always normalises with its running statistics and never
    updates them, even inside a training step that switches every other BatchNorm to batch
    statistics (``companion.train.fit`` does so with ``nnx.view``). Fine-tuning with frozen
    BatchNorm is set with :func:`companion.transfer.freeze_batchnorm`.

    Args:
        num_features: channels.
        rngs: the random streams.

    Example:
        >>> bn = BatchNorm(8, rngs=nnx.Rngs(0))
        >>> bn.frozen
        False
    """

    def __init__(self, num_features: int, *, rngs: nnx.Rngs) -> None:
        super().__init__(num_features, momentum=1.0 - TORCH_BN_MOMENTUM, epsilon=TORCH_BN_EPSILON,
                         rngs=rngs)
        self.frozen = False

    def __call__(self, x: jax.Array, use_running_average: bool | None = None, *,
                 mask: jax.Array | None = None) -> jax.Array:
        """Normalise ``(N, H, W, C)``; running statistics when frozen or in evaluation mode."""
        if self.frozen:
            use_running_average = True
        return super().__call__(x, use_running_average, mask=mask)


def _downsample(in_features: int, out_features: int, stride: int, rngs: nnx.Rngs) -> nnx.List | None:
    if stride == 1 and in_features == out_features:
        return None
    return nnx.List([PaddedConv(in_features, out_features, 1, stride=stride, rngs=rngs),
                     BatchNorm(out_features, rngs=rngs)])


def _shortcut(block: nnx.Module, x: jax.Array) -> jax.Array:
    if block.downsample is None:
        return x
    conv, norm = block.downsample
    return norm(conv(x))


class BasicBlock(nnx.Module):
    """Two 3x3 conv-BN layers and a residual connection (ResNet-18/34).

    Args:
        in_features: input channels.
        features: output channels.
        stride: stride of the first convolution (2 halves the resolution).
        rngs: the random streams.

    Example:
        >>> block = BasicBlock(8, 16, stride=2, rngs=nnx.Rngs(0))
        >>> block(jnp.zeros((1, 8, 8, 8))).shape
        (1, 4, 4, 16)
    """

    expansion = 1

    def __init__(self, in_features: int, features: int, *, stride: int = 1, rngs: nnx.Rngs) -> None:
        self.conv1 = PaddedConv(in_features, features, 3, stride=stride, rngs=rngs)
        self.bn1 = BatchNorm(features, rngs=rngs)
        self.conv2 = PaddedConv(features, features, 3, rngs=rngs)
        self.bn2 = BatchNorm(features, rngs=rngs)
        self.downsample = _downsample(in_features, features, stride, rngs)

    def __call__(self, x: jax.Array) -> jax.Array:
        """Map ``(N, H, W, C_in)`` to ``(N, H / stride, W / stride, features)``."""
        y = jax.nn.relu(self.bn1(self.conv1(x)))
        y = self.bn2(self.conv2(y))
        return jax.nn.relu(y + _shortcut(self, x))


class Bottleneck(nnx.Module):
    """1x1 reduce, 3x3 (carrying the stride, as in torchvision's "v1.5"), 1x1 expand by 4.

    Args:
        in_features: input channels.
        features: the bottleneck's width; the block outputs ``4 * features`` channels.
        stride: stride of the 3x3 convolution.
        rngs: the random streams.

    Example:
        >>> block = Bottleneck(16, 4, rngs=nnx.Rngs(0))
        >>> block(jnp.zeros((1, 8, 8, 16))).shape
        (1, 8, 8, 16)
    """

    expansion = 4

    def __init__(self, in_features: int, features: int, *, stride: int = 1, rngs: nnx.Rngs) -> None:
        out_features = features * self.expansion
        self.conv1 = PaddedConv(in_features, features, 1, rngs=rngs)
        self.bn1 = BatchNorm(features, rngs=rngs)
        self.conv2 = PaddedConv(features, features, 3, stride=stride, rngs=rngs)
        self.bn2 = BatchNorm(features, rngs=rngs)
        self.conv3 = PaddedConv(features, out_features, 1, rngs=rngs)
        self.bn3 = BatchNorm(out_features, rngs=rngs)
        self.downsample = _downsample(in_features, out_features, stride, rngs)

    def __call__(self, x: jax.Array) -> jax.Array:
        """Map ``(N, H, W, C_in)`` to ``(N, H / stride, W / stride, 4 * features)``."""
        y = jax.nn.relu(self.bn1(self.conv1(x)))
        y = jax.nn.relu(self.bn2(self.conv2(y)))
        y = self.bn3(self.conv3(y))
        return jax.nn.relu(y + _shortcut(self, x))


def _stem_pool(x: jax.Array) -> jax.Array:
    """PyTorch's ``MaxPool2d(3, stride=2, padding=1)`` on non-negative (post-ReLU) inputs.

    For inputs >= 0, zero padding gives the same maxima as PyTorch's -inf padding, and the max of
    the nine strided views is cheaper to differentiate on CPU than ``reduce_window``.
    """
    pad = POOL_KERNEL // 2
    x = jnp.pad(x, ((0, 0), (pad, pad), (pad, pad), (0, 0)))
    h_out = (x.shape[1] - POOL_KERNEL) // POOL_STRIDE + 1
    w_out = (x.shape[2] - POOL_KERNEL) // POOL_STRIDE + 1
    views = [
        x[:, i : i + (h_out - 1) * POOL_STRIDE + 1 : POOL_STRIDE, j : j + (w_out - 1) * POOL_STRIDE + 1 : POOL_STRIDE]
        for i in range(POOL_KERNEL)
        for j in range(POOL_KERNEL)
    ]
    out = views[0]
    for view in views[1:]:
        out = jnp.maximum(out, view)
    return out


class ResNet(nnx.Module):
    """A ResNet with torchvision's parameter names, for NHWC float32 images in [0, 1].

    Args:
        block: :class:`BasicBlock` or :class:`Bottleneck`.
        layers: blocks per stage, e.g. ``(2, 2, 2, 2)`` for ResNet-18.
        num_classes: outputs of the classifier ``fc``.
        in_channels: channels of the input images.
        width: channels of the stem and of the first stage (64 in the paper); stage ``i`` has
            ``width * 2 ** i`` bottleneck channels. Smaller widths make CPU-sized models with
            the same names.
        stem: ``"imagenet"`` (7x7 stride-2 convolution and a 3x3 stride-2 max pool, as
            torchvision) or ``"small"`` (one 3x3 stride-1 convolution and no pooling, the usual
            choice for 28-32 pixel images; its ``conv1`` has a different shape from
            torchvision's).
        normalize: subtract ImageNet's channel means and divide by its standard deviations
            inside the model (what the ImageNet weights expect); needs ``in_channels == 3``.
        rngs: the random streams.

    Example:
        >>> model = ResNet(BasicBlock, (1, 1, 1, 1), 10, in_channels=1, width=8, rngs=nnx.Rngs(0))
        >>> model(jnp.zeros((2, 28, 28, 1))).shape
        (2, 10)
    """

    def __init__(self, block: type, layers: tuple[int, ...], num_classes: int, *, in_channels: int = 3,
                 width: int = DEFAULT_WIDTH, stem: str = "imagenet", normalize: bool = False,
                 rngs: nnx.Rngs) -> None:
        if block not in (BasicBlock, Bottleneck):
            raise TypeError(f"block must be BasicBlock or Bottleneck; got {block!r}")
        if len(layers) != len(STAGE_MULTIPLIERS) or not all(isinstance(n, int) and n >= 1 for n in layers):
            raise ValueError(f"layers must be {len(STAGE_MULTIPLIERS)} ints >= 1; got {layers!r}")
        for name, value in (("num_classes", num_classes), ("in_channels", in_channels), ("width", width)):
            if not isinstance(value, int) or value < 1:
                raise ValueError(f"{name} must be an int >= 1; got {value!r}")
        if stem not in STEMS:
            raise ValueError(f"stem must be one of {STEMS}; got {stem!r}")
        if normalize and in_channels != len(IMAGENET_MEAN):
            raise ValueError(f"normalize=True needs in_channels={len(IMAGENET_MEAN)} (RGB); got {in_channels}")
        self.num_classes, self.in_channels, self.width = num_classes, in_channels, width
        self.stem, self.normalize = stem, normalize
        if stem == "imagenet":
            self.conv1 = PaddedConv(in_channels, width, STEM_KERNEL, stride=STEM_STRIDE, rngs=rngs)
        else:
            self.conv1 = PaddedConv(in_channels, width, SMALL_STEM_KERNEL, rngs=rngs)
        self.bn1 = BatchNorm(width, rngs=rngs)
        features = width
        for index, (count, multiplier) in enumerate(zip(layers, STAGE_MULTIPLIERS, strict=True)):
            blocks = []
            for position in range(count):
                stride = 2 if index > 0 and position == 0 else 1
                blocks.append(block(features, width * multiplier, stride=stride, rngs=rngs))
                features = width * multiplier * block.expansion
            setattr(self, f"layer{index + 1}", nnx.List(blocks))
        self.num_features = features
        self.fc = nnx.Linear(features, num_classes, rngs=rngs)

    def stages(self, x: jax.Array) -> dict[str, jax.Array]:
        """The feature maps after the stem and after each stage.

        Args:
            x: images ``(N, H, W, in_channels)``, float32 in [0, 1].

        Returns:
            A dict with ``"stem"``, ``"layer1"`` ... ``"layer4"``: arrays ``(N, H_i, W_i, C_i)``,
            from high resolution and few channels to low resolution and many.

        Example:
            >>> model = resnet18(10, width=8, rngs=nnx.Rngs(0))
            >>> model.stages(jnp.zeros((1, 64, 64, 3)))["layer4"].shape
            (1, 2, 2, 64)
        """
        if x.ndim != 4 or x.shape[-1] != self.in_channels:
            raise ValueError(
                f"ResNet expects x of shape (N, H, W, {self.in_channels}); got shape {tuple(x.shape)}"
            )
        if self.normalize:
            x = (x - jnp.asarray(IMAGENET_MEAN, x.dtype)) / jnp.asarray(IMAGENET_STD, x.dtype)
        x = jax.nn.relu(self.bn1(self.conv1(x)))
        if self.stem == "imagenet":
            x = _stem_pool(x)
        out = {"stem": x}
        for name in ("layer1", "layer2", "layer3", "layer4"):
            for block in getattr(self, name):
                x = block(x)
            out[name] = x
        return out

    def features(self, x: jax.Array) -> jax.Array:
        """Globally average-pooled ``layer4`` features, the input of ``fc``.

        Args:
            x: images ``(N, H, W, in_channels)``, float32 in [0, 1].

        Returns:
            ``(N, num_features)``.

        Example:
            >>> resnet18(10, width=8, rngs=nnx.Rngs(0)).features(jnp.zeros((2, 32, 32, 3))).shape
            (2, 64)
        """
        return self.stages(x)["layer4"].mean(axis=(1, 2))

    def __call__(self, x: jax.Array) -> jax.Array:
        """Map images ``(N, H, W, in_channels)`` to logits ``(N, num_classes)``."""
        return self.fc(self.features(x))


def resnet18(num_classes: int = 1000, *, in_channels: int = 3, width: int = DEFAULT_WIDTH,
             stem: str = "imagenet", normalize: bool = False, rngs: nnx.Rngs) -> ResNet:
    """ResNet-18 (He et al., 2016): basic blocks, ``(2, 2, 2, 2)`` per stage.

    Args:
        num_classes: outputs of ``fc``.
        in_channels: input channels.
        width: base width (64 for torchvision's model and its weights).
        stem: ``"imagenet"`` or ``"small"`` (see :class:`ResNet`).
        normalize: apply ImageNet's mean/std normalisation inside the model.
        rngs: the random streams.

    Returns:
        The model; with the defaults, 11,689,512 parameters, as torchvision's.

    Example:
        >>> model = resnet18(10, rngs=nnx.Rngs(0))
        >>> model(jnp.zeros((1, 32, 32, 3))).shape
        (1, 10)
    """
    return ResNet(BasicBlock, RESNET18_LAYERS, num_classes, in_channels=in_channels, width=width,
                  stem=stem, normalize=normalize, rngs=rngs)


def resnet50(num_classes: int = 1000, *, in_channels: int = 3, width: int = DEFAULT_WIDTH,
             stem: str = "imagenet", normalize: bool = False, rngs: nnx.Rngs) -> ResNet:
    """ResNet-50 (He et al., 2016; torchvision's "v1.5"): bottlenecks, ``(3, 4, 6, 3)`` per stage.

    Args:
        num_classes: outputs of ``fc``.
        in_channels: input channels.
        width: base width (64 for torchvision's model and its weights).
        stem: ``"imagenet"`` or ``"small"`` (see :class:`ResNet`).
        normalize: apply ImageNet's mean/std normalisation inside the model.
        rngs: the random streams.

    Returns:
        The model; with the defaults, 25,557,032 parameters, as torchvision's.

    Example:
        >>> model = resnet50(10, width=16, rngs=nnx.Rngs(0))
        >>> model(jnp.zeros((1, 32, 32, 3))).shape
        (1, 10)
    """
    return ResNet(Bottleneck, RESNET50_LAYERS, num_classes, in_channels=in_channels, width=width,
                  stem=stem, normalize=normalize, rngs=rngs)
