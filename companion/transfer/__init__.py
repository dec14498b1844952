"""Transfer learning: ResNet backbones, pretrained-weight loading, freezing and fine-tuning helpers.

``resnet18`` and ``resnet50`` build Flax NNX ResNets whose parameter paths map one to one onto
torchvision's (and timm's) names; ``load_pretrained`` loads a ``.safetensors`` state dict in that
naming exactly; ``weights_file`` and ``pretrained_resnet`` fetch torchvision's ImageNet weights
with a pinned checksum; ``freeze_backbone``, ``discriminative``, ``gradual_unfreezing`` and
``freeze_batchnorm`` turn a pretrained model into a fine-tuning run for ``companion.train.fit``.
"""

from companion.transfer.finetune import (
    HEAD_GROUP,
    STEM_GROUP,
    discriminative,
    freeze_backbone,
    freeze_batchnorm,
    gradual_unfreezing,
    group_labels,
    layer_decay_rates,
    parameter_groups,
)
from companion.transfer.hub import (
    WEIGHTS,
    WEIGHTS_DIR_VARIABLE,
    PretrainedWeights,
    WeightsNotFoundError,
    pretrained_resnet,
    sha256sum,
    weights_file,
)
from companion.transfer.resnet import (
    IMAGENET_MEAN,
    IMAGENET_STD,
    BasicBlock,
    BatchNorm,
    Bottleneck,
    PaddedConv,
    ResNet,
    resnet18,
    resnet50,
)
from companion.transfer.subsets import per_class_indices
from companion.transfer.weights import (
    WeightsMismatchError,
    load_pretrained,
    save_pretrained,
    torch_name,
    torch_state_dict,
)

__all__ = [
    "HEAD_GROUP",
    "IMAGENET_MEAN",
    "IMAGENET_STD",
    "STEM_GROUP",
    "WEIGHTS",
    "WEIGHTS_DIR_VARIABLE",
    "BasicBlock",
    "BatchNorm",
    "Bottleneck",
    "PaddedConv",
    "PretrainedWeights",
    "ResNet",
    "WeightsMismatchError",
    "WeightsNotFoundError",
    "discriminative",
    "freeze_backbone",
    "freeze_batchnorm",
    "gradual_unfreezing",
    "group_labels",
    "layer_decay_rates",
    "load_pretrained",
    "parameter_groups",
    "per_class_indices",
    "pretrained_resnet",
    "resnet18",
    "resnet50",
    "save_pretrained",
    "sha256sum",
    "torch_name",
    "torch_state_dict",
    "weights_file",
]
