"""torchvision networks (ResNet-18, DeepLabv3), imported lazily and only when one is asked for."""

from __future__ import annotations

from torch import nn

from flowq.errors import WorkloadError


def _torchvision_models():
    try:
        import torchvision.models as tvm
    except ImportError as exc:  # torchvision is an optional extra, never needed by core or tests
        raise WorkloadError("this model needs torchvision, which is not installed; install the 'vision' extra: "
                            "pip install 'flowq[vision]'") from exc
    return tvm


def resnet18(num_classes: int = 1000, input_size: tuple[int, int, int] = (3, 224, 224)) -> nn.Module:
    """torchvision ResNet-18 (randomly initialised; no weights are downloaded). Names match `hwmodels.zoo`."""
    model = _torchvision_models().resnet18(weights=None, num_classes=num_classes)
    if input_size[0] != 3:
        model.conv1 = nn.Conv2d(input_size[0], 64, 7, 2, 3, bias=False)
    return model


def deeplabv3(num_classes: int = 19, input_size: tuple[int, int, int] = (3, 512, 1024)) -> nn.Module:
    """torchvision DeepLabv3 with a ResNet-50 backbone (hw-flowq 6.4), randomly initialised, no download."""
    segmentation = _torchvision_models().segmentation
    return segmentation.deeplabv3_resnet50(weights=None, weights_backbone=None, num_classes=num_classes,
                                           aux_loss=False)
