"""VGG-16 for CIFAR (conv3x3-BN-ReLU, five 2x2 max-pools, one linear classifier)."""

from __future__ import annotations

import torch
from torch import nn

VGG16_CFG = (64, 64, "M", 128, 128, "M", 256, 256, 256, "M", 512, 512, 512, "M", 512, 512, 512, "M")


class VGG(nn.Module):
    """CIFAR VGG: convs are `features.{index}` (Conv2d, BatchNorm2d, ReLU per entry), classifier `fc`.

    Args:
        cfg: channel counts and "M" (2x2 max-pool), VGG16_CFG by default.
        num_classes: output classes.
        input_size: (channels, height, width); the fc input is 512 * (H / 32) * (W / 32).
    """

    def __init__(self, cfg=VGG16_CFG, num_classes: int = 10, input_size: tuple[int, int, int] = (3, 32, 32)):
        super().__init__()
        layers, c_in = [], input_size[0]
        for item in cfg:
            if item == "M":
                layers.append(nn.MaxPool2d(2))
            else:
                layers += [nn.Conv2d(c_in, item, 3, padding=1, bias=False), nn.BatchNorm2d(item), nn.ReLU(inplace=True)]
                c_in = item
        self.features = nn.Sequential(*layers)
        n_pools = sum(1 for item in cfg if item == "M")
        self.fc = nn.Linear(c_in * (input_size[1] >> n_pools) * (input_size[2] >> n_pools), num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc(self.features(x).flatten(1))
