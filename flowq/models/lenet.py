"""LeNet-5 (LeCun et al. 1998): conv5x5(6)-pool-conv5x5(16)-pool-fc120-fc84-fc."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn


class LeNet5(nn.Module):
    """LeNet-5 with ReLU and max-pooling; names conv1, conv2, fc1, fc2, fc3 as in `hwmodels.zoo`.

    Args:
        num_classes: output classes.
        input_size: (channels, height, width), 1x32x32 in the original.
    """

    def __init__(self, num_classes: int = 10, input_size: tuple[int, int, int] = (1, 32, 32)):
        super().__init__()
        self.conv1 = nn.Conv2d(input_size[0], 6, 5)
        self.conv2 = nn.Conv2d(6, 16, 5)
        h, w = ((input_size[1] - 4) // 2 - 4) // 2, ((input_size[2] - 4) // 2 - 4) // 2
        self.fc1 = nn.Linear(16 * h * w, 120)
        self.fc2 = nn.Linear(120, 84)
        self.fc3 = nn.Linear(84, num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = F.max_pool2d(F.relu(self.conv1(x)), 2)
        x = F.max_pool2d(F.relu(self.conv2(x)), 2)
        x = F.relu(self.fc1(x.flatten(1)))
        return self.fc3(F.relu(self.fc2(x)))
