"""CNN models (CIFAR ResNets, VGG-16, LeNet-5, MobileNetV2, lazy torchvision ones) and workload extraction."""

from __future__ import annotations

from functools import partial
from typing import Callable

from torch import nn

from flowq.errors import WorkloadError
from flowq.models import custom
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


def build_model(name, num_classes: int = 10, input_size: tuple[int, int, int] = (3, 32, 32)) -> nn.Module:
    """A freshly initialised network: a zoo name, a user factory (`pkg.module:factory`, `file.py:factory`) or a
    copy of an nn.Module given from Python.

    Args:
        name: one of `MODELS` (case-insensitive), an import spec (`flowq.models.custom`), or an nn.Module.
        num_classes: output classes (passed to a factory that accepts it).
        input_size: (channels, height, width) of one input (passed to a factory that accepts it).

    Raises:
        WorkloadError: unknown name (the message lists the known ones), or a spec that does not import / build.
    """
    if isinstance(name, nn.Module):
        return custom.copy_module(name)
    if custom.is_spec(name):
        return custom.call_factory(custom.load_factory(name), num_classes, input_size, repr(name))
    key = str(name).lower()
    if key not in MODELS:
        if key.startswith("<module "):
            raise WorkloadError(f"model {name}: a module given from Python is not rebuilt from its name; pass the "
                                f"module again (Flow(model=module, ...)) or give it as package.module:factory")
        raise WorkloadError(f"unknown model {name!r}; available: {', '.join(MODELS)}, or your own as "
                            f"package.module:factory or path/to/file.py:factory")
    return MODELS[key](num_classes=num_classes, input_size=tuple(input_size))


def model_name(model) -> str:
    """The name a run records for `model`: a zoo name in lower case, an import spec with its file path made
    absolute, or `<module pkg.Class>` for an nn.Module given from Python."""
    if isinstance(model, nn.Module):
        return custom.module_name(model)
    if custom.is_spec(model):
        return custom.canonical_spec(model)
    return str(model).lower()


def network_workload(model, input_shape, batch: int = 1) -> list:
    """The hardware workload of the network that is trained: `model` (a name, spec or module) built for
    `input_shape` = (num_classes, (C, H, W)) and traced by `workload_of` at batch `batch`. For a zoo network the
    `hwmodels.zoo` table (its names and edges) is returned when its layer shapes equal the traced ones.

    Args:
        model: as `build_model` takes it.
        input_shape: (num_classes, (C, H, W)) of the data, e.g. `flowq.data.dataset_shape(...)`.
        batch: workload batch size (every layer's n).
    """
    from dataclasses import replace

    num_classes, size = input_shape
    zoo = None
    if isinstance(model, str) and not custom.is_spec(model):
        from hwmodels.zoo import WORKLOADS, get_workload

        zoo = get_workload(model, batch=batch) if model.lower() in WORKLOADS else None
    try:
        traced = workload_of(build_model(model, num_classes, size), (batch, *size))
    except WorkloadError as error:  # e.g. resnet18 without torchvision: hardware-only work still has the table
        if zoo is None:
            raise
        import warnings

        warnings.warn(f"{model}: {error}; using the hwmodels.zoo table ({zoo[0].h_in}x{zoo[0].w_in} input, "
                      f"{zoo[-1].c_out} classes), which may not be the dataset's", stacklevel=2)
        return zoo
    same = zoo is not None and len(zoo) == len(traced) and all(
        replace(a, name="", inputs=(), residuals=()) == replace(b, name="", inputs=(), residuals=())
        for a, b in zip(zoo, traced))
    return zoo if same else traced


__all__ = ["MODELS", "build_model", "model_name", "network_workload", "workload_of", "CifarResNet", "VGG", "LeNet5",
           "MobileNetV2"]
