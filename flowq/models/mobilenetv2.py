"""MobileNetV2 (Sandler et al. 2018) for 32x32 inputs: stem and second stage at stride 1 (common CIFAR variant)."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

# (expansion, out_channels, n_blocks, first stride), hwmodels.zoo uses the same table
MOBILENETV2_CFG = ((1, 16, 1, 1), (6, 24, 2, 1), (6, 32, 3, 2), (6, 64, 4, 2), (6, 96, 3, 1), (6, 160, 3, 2),
                   (6, 320, 1, 1))


class InvertedResidual(nn.Module):
    """1x1 expand - 3x3 depthwise - 1x1 linear project; residual when stride 1 (1x1 conv shortcut if widths differ)."""

    def __init__(self, c_in: int, c_out: int, expansion: int, stride: int):
        super().__init__()
        hidden = expansion * c_in
        self.stride = stride
        self.conv1 = nn.Conv2d(c_in, hidden, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(hidden)
        self.conv2 = nn.Conv2d(hidden, hidden, 3, stride, 1, groups=hidden, bias=False)
        self.bn2 = nn.BatchNorm2d(hidden)
        self.conv3 = nn.Conv2d(hidden, c_out, 1, bias=False)
        self.bn3 = nn.BatchNorm2d(c_out)
        self.shortcut = nn.Sequential()
        if stride == 1 and c_in != c_out:
            self.shortcut = nn.Sequential(nn.Conv2d(c_in, c_out, 1, bias=False), nn.BatchNorm2d(c_out))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = F.relu6(self.bn1(self.conv1(x)))
        out = F.relu6(self.bn2(self.conv2(out)))
        out = self.bn3(self.conv3(out))
        return out + self.shortcut(x) if self.stride == 1 else out


class MobileNetV2(nn.Module):
    """MobileNetV2 for CIFAR; names conv1, layers.{i}.conv{1,2,3}, layers.{i}.shortcut.0, conv2, fc.

    Args:
        num_classes: output classes.
        input_size: (channels, height, width); any spatial size (global average pool).
    """

    def __init__(self, num_classes: int = 10, input_size: tuple[int, int, int] = (3, 32, 32)):
        super().__init__()
        self.conv1 = nn.Conv2d(input_size[0], 32, 3, 1, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(32)
        blocks, c_in = [], 32
        for expansion, c_out, n_blocks, first_stride in MOBILENETV2_CFG:
            for b in range(n_blocks):
                blocks.append(InvertedResidual(c_in, c_out, expansion, first_stride if b == 0 else 1))
                c_in = c_out
        self.layers = nn.Sequential(*blocks)
        self.conv2 = nn.Conv2d(320, 1280, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(1280)
        self.fc = nn.Linear(1280, num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = F.relu6(self.bn1(self.conv1(x)))
        out = F.relu6(self.bn2(self.conv2(self.layers(out))))
        return self.fc(F.adaptive_avg_pool2d(out, 1).flatten(1))
