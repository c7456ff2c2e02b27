"""CNN models (CIFAR ResNets, VGG-16, LeNet-5, MobileNetV2, lazy torchvision ones) and workload extraction."""

from __future__ import annotations

from functools import partial
from typing import Callable

from torch import nn

from flowq.errors import WorkloadError
from flowq.models.lenet import LeNet5
from flowq.models.mobilenetv2 import MobileNetV2
from flowq.models.resnet_cifar import CifarResNet
from flowq.models.vgg import VGG
from flowq.models.workload import workload_of


def _torchvision(name: str, **kwargs) -> nn.Module:
    from flowq.models import torchvision_models
    return getattr(torchvision_models, name)(**kwargs)


#: name -> constructor(num_classes=..., input_size=(C, H, W)); names are those of `hwmodels.zoo.WORKLOADS`.
MODELS: dict[str, Callable[..., nn.Module]] = {
    "resnet20": partial(CifarResNet, 20),
    "resnet32": partial(CifarResNet, 32),
    "resnet44": partial(CifarResNet, 44),
    "resnet56": partial(CifarResNet, 56),
    "vgg16": VGG,
    "lenet5": LeNet5,
    "mobilenetv2": MobileNetV2,
    "resnet18": partial(_torchvision, "resnet18"),
    "deeplabv3": partial(_torchvision, "deeplabv3"),
}


def build_model(name: str, num_classes: int = 10, input_size: tuple[int, int, int] = (3, 32, 32)) -> nn.Module:
    """A freshly initialised network by name.

    Args:
        name: one of `MODELS` (case-insensitive).
        num_classes: output classes.
        input_size: (channels, height, width) of one input.

    Raises:
        WorkloadError: unknown name (the message lists the known ones).
    """
    key = str(name).lower()
    if key not in MODELS:
        raise WorkloadError(f"unknown model {name!r}; available: {', '.join(MODELS)}")
    return MODELS[key](num_classes=num_classes, input_size=tuple(input_size))


__all__ = ["MODELS", "build_model", "workload_of", "CifarResNet", "VGG", "LeNet5", "MobileNetV2"]
