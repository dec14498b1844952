"""Exactness: a PyTorch ResNet with torchvision's names, saved as safetensors, loads into NNX and
gives the same logits within 1e-4 in eval mode.

torchvision is not installed, so the reference network is written here with torchvision's module
names (``conv1``, ``bn1``, ``layer1.0.conv1``, ``layer1.0.downsample.0``, ..., ``fc``) and its
padding, stride placement ("v1.5") and BatchNorm constants.
"""

import numpy as np
import pytest
from flax import nnx

from companion.transfer import load_pretrained, resnet18, resnet50, save_pretrained, torch_state_dict

torch = pytest.importorskip(
    "torch", reason="PyTorch is the reference of the exactness test; install the CPU build with "
                    "`pip install torch==2.13.0` (CI does)"
)
safetensors_torch = pytest.importorskip("safetensors.torch")
nn = torch.nn

TOLERANCE = 1e-4
BATCH, SIDE = 4, 64


class TorchBasicBlock(nn.Module):
    expansion = 1

    def __init__(self, inplanes, planes, stride=1):
        super().__init__()
        self.conv1 = nn.Conv2d(inplanes, planes, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(planes)
        self.relu = nn.ReLU()
        self.conv2 = nn.Conv2d(planes, planes, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(planes)
        self.downsample = _torch_downsample(inplanes, planes * self.expansion, stride)

    def forward(self, x):
        identity = x if self.downsample is None else self.downsample(x)
        out = self.relu(self.bn1(self.conv1(x)))
        return self.relu(self.bn2(self.conv2(out)) + identity)


class TorchBottleneck(nn.Module):
    expansion = 4

    def __init__(self, inplanes, planes, stride=1):
        super().__init__()
        self.conv1 = nn.Conv2d(inplanes, planes, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(planes)
        self.conv2 = nn.Conv2d(planes, planes, 3, stride, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(planes)
        self.conv3 = nn.Conv2d(planes, planes * self.expansion, 1, bias=False)
        self.bn3 = nn.BatchNorm2d(planes * self.expansion)
        self.relu = nn.ReLU()
        self.downsample = _torch_downsample(inplanes, planes * self.expansion, stride)

    def forward(self, x):
        identity = x if self.downsample is None else self.downsample(x)
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.relu(self.bn2(self.conv2(out)))
        return self.relu(self.bn3(self.conv3(out)) + identity)


def _torch_downsample(inplanes, outplanes, stride):
    if stride == 1 and inplanes == outplanes:
        return None
    return nn.Sequential(nn.Conv2d(inplanes, outplanes, 1, stride, bias=False), nn.BatchNorm2d(outplanes))


class TorchResNet(nn.Module):
    """torchvision.models.ResNet, reduced to what the test needs, with the same names."""

    def __init__(self, block, layers, num_classes, width=64):
        super().__init__()
        self.inplanes = width
        self.conv1 = nn.Conv2d(3, width, 7, 2, 3, bias=False)
        self.bn1 = nn.BatchNorm2d(width)
        self.relu = nn.ReLU()
        self.maxpool = nn.MaxPool2d(3, 2, 1)
        self.layer1 = self._make_layer(block, width, layers[0], 1)
        self.layer2 = self._make_layer(block, 2 * width, layers[1], 2)
        self.layer3 = self._make_layer(block, 4 * width, layers[2], 2)
        self.layer4 = self._make_layer(block, 8 * width, layers[3], 2)
        self.avgpool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(8 * width * block.expansion, num_classes)

    def _make_layer(self, block, planes, count, stride):
        blocks = []
        for i in range(count):
            blocks.append(block(self.inplanes, planes, stride if i == 0 else 1))
            self.inplanes = planes * block.expansion
        return nn.Sequential(*blocks)

    def forward(self, x):
        x = self.maxpool(self.relu(self.bn1(self.conv1(x))))
        x = self.layer4(self.layer3(self.layer2(self.layer1(x))))
        return self.fc(torch.flatten(self.avgpool(x), 1))


def _randomise_batchnorm(model, generator):
    """Non-trivial BatchNorm: scale, shift and running statistics far from 1 and 0."""
    with torch.no_grad():
        for module in model.modules():
            if isinstance(module, nn.BatchNorm2d):
                n = module.num_features
                module.weight.copy_(torch.rand(n, generator=generator) + 0.5)
                module.bias.copy_(torch.randn(n, generator=generator) * 0.2)
                module.running_mean.copy_(torch.randn(n, generator=generator) * 0.3)
                module.running_var.copy_(torch.rand(n, generator=generator) * 1.5 + 0.5)
                module.num_batches_tracked.fill_(7)


CASES = {
    "resnet18": (TorchBasicBlock, (2, 2, 2, 2), resnet18, 64),
    "resnet50-narrow": (TorchBottleneck, (3, 4, 6, 3), resnet50, 16),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_nnx_logits_equal_pytorch_logits(case, tmp_path):
    block, layers, constructor, width = CASES[case]
    num_classes = 10
    generator = torch.Generator().manual_seed(0)
    torch.manual_seed(0)
    reference = TorchResNet(block, layers, num_classes, width=width)
    _randomise_batchnorm(reference, generator)
    reference.eval()
    path = tmp_path / f"{case}.safetensors"
    safetensors_torch.save_file({k: v.contiguous() for k, v in reference.state_dict().items()}, str(path))

    model = load_pretrained(constructor(num_classes, width=width, rngs=nnx.Rngs(1)), path)
    images = np.random.default_rng(0).random((BATCH, SIDE, SIDE, 3), dtype=np.float32)
    with torch.no_grad():
        expected = reference(torch.from_numpy(images).permute(0, 3, 1, 2)).numpy()
    model.eval()
    logits = np.asarray(model(images))
    assert logits.shape == expected.shape == (BATCH, num_classes)
    assert np.abs(expected).max() > 0.1, "the reference logits should not be trivially small"
    np.testing.assert_allclose(logits, expected, atol=TOLERANCE, rtol=0)


def test_exported_weights_load_into_pytorch(tmp_path):
    """The other direction: save_pretrained writes a state dict PyTorch accepts, and it agrees."""
    model = resnet18(10, rngs=nnx.Rngs(0))  # the shapes of the test above, so eager ops are compiled
    path = save_pretrained(model, tmp_path / "r18.safetensors")
    reference = TorchResNet(TorchBasicBlock, (2, 2, 2, 2), 10)
    result = reference.load_state_dict(safetensors_torch.load_file(str(path)), strict=False)
    assert result.unexpected_keys == []
    assert all(key.endswith("num_batches_tracked") for key in result.missing_keys)
    assert set(torch_state_dict(model)) == {k for k in reference.state_dict() if not k.endswith("tracked")}
    reference.eval()
    model.eval()
    images = np.random.default_rng(1).random((BATCH, SIDE, SIDE, 3), dtype=np.float32)
    with torch.no_grad():
        expected = reference(torch.from_numpy(images).permute(0, 3, 1, 2)).numpy()
    np.testing.assert_allclose(np.asarray(model(images)), expected, atol=TOLERANCE, rtol=0)
