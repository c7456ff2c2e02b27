"""CIFAR ResNet-20/32/44/56 (He et al. 2016, Sec. 4.2) with option-A identity shortcuts (no shortcut conv)."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from flowq.errors import WorkloadError


class ShortcutA(nn.Module):
    """Option-A shortcut: subsample by `stride` and zero-pad the new channels (parameter-free, no conv)."""

    def __init__(self, c_in: int, c_out: int, stride: int):
        super().__init__()
        self.stride, self.pad = stride, c_out - c_in

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = x[:, :, :: self.stride, :: self.stride]
        return F.pad(x, (0, 0, 0, 0, self.pad // 2, self.pad - self.pad // 2))


class BasicBlock(nn.Module):
    """conv3x3-BN-ReLU-conv3x3-BN + shortcut, ReLU."""

    def __init__(self, c_in: int, c_out: int, stride: int = 1):
        super().__init__()
        self.conv1 = nn.Conv2d(c_in, c_out, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(c_out)
        self.conv2 = nn.Conv2d(c_out, c_out, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(c_out)
        self.shortcut = ShortcutA(c_in, c_out, stride) if stride != 1 or c_in != c_out else nn.Identity()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = F.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        return F.relu(out + self.shortcut(x))


class CifarResNet(nn.Module):
    """ResNet-(6n+2) for 32x32 inputs: 3x3 stem with 16 channels, 3 stages of n blocks (16/32/64), avg-pool, fc.

    Module names (conv1, layer{1,2,3}.{b}.conv{1,2}, fc) are the layer names of `hwmodels.zoo`.

    Args:
        depth: 6n + 2 (20, 32, 44, 56, ...).
        num_classes: output classes.
        input_size: (channels, height, width) of one input; any spatial size works (global average pool).
    """

    def __init__(self, depth: int = 20, num_classes: int = 10, input_size: tuple[int, int, int] = (3, 32, 32)):
        super().__init__()
        if depth < 8 or (depth - 2) % 6:
            raise WorkloadError(f"CIFAR ResNet depth={depth} must be 6n+2 with n >= 1 (20, 32, 44, 56, ...)")
        n = (depth - 2) // 6
        self.conv1 = nn.Conv2d(input_size[0], 16, 3, 1, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(16)
        stages, c_in = [], 16
        for width, stride in ((16, 1), (32, 2), (64, 2)):
            blocks = []
            for b in range(n):
                blocks.append(BasicBlock(c_in, width, stride if b == 0 else 1))
                c_in = width
            stages.append(nn.Sequential(*blocks))
        self.layer1, self.layer2, self.layer3 = stages
        self.fc = nn.Linear(64, num_classes)
        for m in self.modules():
            if isinstance(m, (nn.Conv2d, nn.Linear)):
                nn.init.kaiming_normal_(m.weight)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = F.relu(self.bn1(self.conv1(x)))
        out = self.layer3(self.layer2(self.layer1(out)))
        out = F.adaptive_avg_pool2d(out, 1).flatten(1)
        return self.fc(out)
