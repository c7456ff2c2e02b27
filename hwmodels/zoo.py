"""Workload zoo: layer-shape tables of the CNNs FlowQ evaluates (AlexNet, CIFAR ResNets, VGG-16, ResNet-18, ...).

Each network is the list of its nn.Conv2d / nn.Linear layers in forward order, exactly as
`flowq.models.workload_of(model, input_shape)` extracts them with forward hooks; layer names are the PyTorch
module names. Every layer carries its producer -> consumer edges (`Layer.inputs`, `Layer.residuals`): plain
chains for AlexNet, VGG and LeNet; shortcuts for the ResNets and MobileNetV2, where each residual add is fused
into the layer that produces its last operand in forward order (the block's conv2 / conv3, or the downsample /
shortcut conv that runs after it). `h_in` / `w_in` are the input sizes as stored in memory (unpadded), except for AlexNet, whose
shapes are Eyeriss ISCA'16 Table I verbatim (H there is the padded input size, and REFERENCES.md 1.2 derives
the compulsory DRAM words from it).

Module-name conventions (the PyTorch models in flowq.models use the same):
    CIFAR ResNet-20/32/44/56 (He et al. 2016, option A: identity shortcuts, no shortcut conv)
        conv1, layer{1,2,3}.{b}.conv{1,2}, fc
    ResNet-18 (ImageNet 224, torchvision names)
        conv1, layer{1..4}.{b}.conv{1,2}, layer{2,3,4}.0.downsample.0 (after conv2 in forward order), fc
    VGG-16 (CIFAR, BatchNorm, one classifier layer as in most CIFAR VGGs)
        features.{0,3,7,10,14,17,20,24,27,30,34,37,40}, fc
    MobileNetV2 (CIFAR 32x32: first conv and second stage at stride 1)
        conv1, layers.{i}.conv{1,2,3}, layers.{i}.shortcut.0 (stride-1 blocks whose width changes), conv2, fc
    LeNet-5 (1x32x32 input)   conv1, conv2, fc1, fc2, fc3
    AlexNet (Eyeriss ISCA'16 Table I, grouped CONV2/4/5)   conv1 .. conv5, fc1, fc2, fc3
"""

from __future__ import annotations

from dataclasses import replace
from typing import Callable

from hwmodels.errors import WorkloadError
from hwmodels.workload import Layer, conv, fc, with_chain_edges


def _reads(layer: Layer, *inputs: str, residuals: tuple = ()) -> Layer:
    """`layer` reading the outputs of `inputs` (none = the network input), its fused add reading `residuals`."""
    return replace(layer, inputs=tuple(inputs), residuals=tuple(residuals))


def _alexnet_conv() -> list[Layer]:
    """AlexNet CONV1-5 with Eyeriss ISCA'16 Table I shapes (H padded input, R kernel, E output, C per group).

    Channels here are totals (C_in = C * groups), so CONV2 has C_in = 96, groups = 2, 48 channels per group.
    """
    return [
        conv("conv1", 3, 96, 55, k=11, stride=4),             # H = (55-1)*4 + 11 = 227
        conv("conv2", 96, 256, 27, k=5, groups=2),            # H = 27 + 4 = 31
        conv("conv3", 256, 384, 13, k=3),                     # H = 15
        conv("conv4", 384, 384, 13, k=3, groups=2),
        conv("conv5", 384, 256, 13, k=3, groups=2),
    ]


def _alexnet() -> list[Layer]:
    """AlexNet CONV1-5 plus FC1-3; FC1 reduces over the 6x6x256 pooled map (a conv with k = 6, Table I)."""
    return _alexnet_conv() + [
        Layer("fc1", "fc", 256, 4096, 1, 1, 6, 6),
        fc("fc2", 4096, 4096),
        fc("fc3", 4096, 1000),
    ]


def _cifar_resnet(depth: int) -> list[Layer]:
    """He et al. CIFAR ResNet-(6n+2), option A: 3 stages of n basic blocks, widths 16/32/64 at 32/16/8 px."""
    if (depth - 2) % 6:
        raise WorkloadError(f"CIFAR ResNet depth must be 6n+2, got {depth}")
    blocks_per_stage = (depth - 2) // 6
    layers = [_reads(conv("conv1", 3, 16, 32, h_in=32, w_in=32))]
    c_prev, size_prev, writer = 16, 32, "conv1"
    for stage, (width, size) in enumerate(((16, 32), (32, 16), (64, 8)), start=1):
        for block in range(blocks_per_stage):
            stride = 2 if block == 0 and stage > 1 else 1
            prefix = f"layer{stage}.{block}"
            layers.append(_reads(conv(f"{prefix}.conv1", c_prev, width, size, stride=stride, h_in=size_prev,
                                      w_in=size_prev), writer))
            # option-A shortcut (identity or subsample + zero-pad) is parameter-free: conv2 fuses the add
            layers.append(_reads(conv(f"{prefix}.conv2", width, width, size, h_in=size, w_in=size),
                                 f"{prefix}.conv1", residuals=(writer,)))
            c_prev, size_prev, writer = width, size, f"{prefix}.conv2"
    layers.append(_reads(fc("fc", 64, 10), writer))
    return layers


def _resnet18() -> list[Layer]:
    """torchvision ResNet-18 at 224x224: 7x7/2 stem, max-pool to 56, 4 stages of 2 basic blocks, fc 512->1000."""
    layers = [_reads(conv("conv1", 3, 64, 112, k=7, stride=2, h_in=224, w_in=224))]
    c_prev, size_prev, writer = 64, 56, "conv1"  # after the 3x3/2 max-pool
    for stage, (width, size) in enumerate(((64, 56), (128, 28), (256, 14), (512, 7)), start=1):
        for block in range(2):
            stride = 2 if block == 0 and stage > 1 else 1
            prefix = f"layer{stage}.{block}"
            layers.append(_reads(conv(f"{prefix}.conv1", c_prev, width, size, stride=stride, h_in=size_prev,
                                      w_in=size_prev), writer))
            conv2 = conv(f"{prefix}.conv2", width, width, size, h_in=size, w_in=size)
            if stride == 2:  # torchvision runs downsample(x) after conv2, so the downsample conv fuses the add
                layers.append(_reads(conv2, f"{prefix}.conv1"))
                layers.append(_reads(conv(f"{prefix}.downsample.0", c_prev, width, size, k=1, stride=2,
                                          h_in=size_prev, w_in=size_prev), writer,
                                     residuals=(f"{prefix}.conv2",)))
                writer = f"{prefix}.downsample.0"
            else:
                layers.append(_reads(conv2, f"{prefix}.conv1", residuals=(writer,)))
                writer = f"{prefix}.conv2"
            c_prev, size_prev = width, size
    layers.append(_reads(fc("fc", 512, 1000), writer))
    return layers


_VGG16_CFG = (64, 64, "M", 128, 128, "M", 256, 256, 256, "M", 512, 512, 512, "M", 512, 512, 512, "M")


def _vgg16() -> list[Layer]:
    """CIFAR VGG-16 (conv3x3-BN-ReLU, 2x2 max-pools): 13 convs named by their index in `features`, fc 512->10."""
    layers, c_prev, size, index = [], 3, 32, 0
    for item in _VGG16_CFG:
        if item == "M":
            size //= 2
            index += 1
            continue
        layers.append(conv(f"features.{index}", c_prev, item, size, h_in=size, w_in=size))
        c_prev = item
        index += 3  # Conv2d, BatchNorm2d, ReLU
    layers.append(fc("fc", 512, 10))
    return layers


def _lenet5() -> list[Layer]:
    """LeNet-5 on a 1x32x32 input: conv5x5 -> 28, pool -> 14, conv5x5 -> 10, pool -> 5, fc 400-120-84-10."""
    return [
        conv("conv1", 1, 6, 28, k=5, h_in=32, w_in=32),
        conv("conv2", 6, 16, 10, k=5, h_in=14, w_in=14),
        fc("fc1", 400, 120),
        fc("fc2", 120, 84),
        fc("fc3", 84, 10),
    ]


# (expansion, out_channels, n_blocks, first stride); stage 2 stride 1 for 32x32 inputs (common CIFAR variant)
_MOBILENETV2_CFG = ((1, 16, 1, 1), (6, 24, 2, 1), (6, 32, 3, 2), (6, 64, 4, 2), (6, 96, 3, 1), (6, 160, 3, 2),
                    (6, 320, 1, 1))


def _mobilenetv2() -> list[Layer]:
    """MobileNetV2 for CIFAR: inverted residual blocks (1x1 expand, 3x3 depthwise, 1x1 project), fc 1280->10."""
    layers = [_reads(conv("conv1", 3, 32, 32, h_in=32, w_in=32))]
    c_prev, size, index, writer = 32, 32, 0, "conv1"
    for expansion, c_out, n_blocks, first_stride in _MOBILENETV2_CFG:
        for block in range(n_blocks):
            stride = first_stride if block == 0 else 1
            hidden = expansion * c_prev
            size_out = size // stride
            prefix = f"layers.{index}"
            layers.append(_reads(conv(f"{prefix}.conv1", c_prev, hidden, size, k=1, h_in=size, w_in=size), writer))
            layers.append(_reads(conv(f"{prefix}.conv2", hidden, hidden, size_out, k=3, stride=stride,
                                      groups=hidden, h_in=size, w_in=size), f"{prefix}.conv1"))
            conv3 = conv(f"{prefix}.conv3", hidden, c_out, size_out, k=1, h_in=size_out, w_in=size_out)
            if stride == 1 and c_prev != c_out:  # out + shortcut(x): the shortcut conv runs last, fuses the add
                layers.append(_reads(conv3, f"{prefix}.conv2"))
                layers.append(_reads(conv(f"{prefix}.shortcut.0", c_prev, c_out, size_out, k=1, h_in=size,
                                          w_in=size), writer, residuals=(f"{prefix}.conv3",)))
                writer = f"{prefix}.shortcut.0"
            else:  # identity shortcut (stride 1) is fused into conv3; stride-2 blocks have no residual
                layers.append(_reads(conv3, f"{prefix}.conv2", residuals=(writer,) if stride == 1 else ()))
                writer = f"{prefix}.conv3"
            c_prev, size, index = c_out, size_out, index + 1
    layers.append(_reads(conv("conv2", 320, 1280, size, k=1, h_in=size, w_in=size), writer))
    layers.append(_reads(fc("fc", 1280, 10), "conv2"))
    return layers


_BUILDERS: dict[str, Callable[[], list[Layer]]] = {
    "alexnet": _alexnet,
    "alexnet-conv": _alexnet_conv,
    "resnet20": lambda: _cifar_resnet(20),
    "resnet32": lambda: _cifar_resnet(32),
    "resnet44": lambda: _cifar_resnet(44),
    "resnet56": lambda: _cifar_resnet(56),
    "vgg16": _vgg16,
    "resnet18": _resnet18,
    "lenet5": _lenet5,
    "mobilenetv2": _mobilenetv2,
}

WORKLOADS = tuple(_BUILDERS)


def get_workload(name: str, batch: int = 1) -> list[Layer]:
    """The layer list of a zoo network.

    Args:
        name: one of `WORKLOADS` (case-insensitive).
        batch: batch size N (frames processed together, hw-flowq 6.3.1); >= 1.

    Returns:
        list[Layer] in forward order of the network's conv / linear modules.

    Raises:
        WorkloadError: unknown name or batch < 1.
    """
    key = str(name).lower()
    if key not in _BUILDERS:
        raise WorkloadError(f"unknown workload {name!r}; available: {', '.join(WORKLOADS)}")
    if not isinstance(batch, int) or isinstance(batch, bool) or batch < 1:
        raise WorkloadError(f"batch={batch!r} must be an integer >= 1")
    layers = with_chain_edges(_BUILDERS[key]())
    return layers if batch == 1 else [layer.with_batch(batch) for layer in layers]
