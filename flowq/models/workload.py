"""Extract the hardware model's layer list (`hwmodels.workload.Layer`) from any nn.Module with forward hooks."""

from __future__ import annotations

from typing import Sequence

import torch
from torch import nn

from flowq.errors import WorkloadError
from hwmodels.workload import Layer


def _pair(value) -> tuple[int, int]:
    return (value, value) if isinstance(value, int) else (int(value[0]), int(value[1]))


def _conv_layer(name: str, module: nn.Conv2d, x: torch.Tensor, y: torch.Tensor, n: int) -> Layer:
    stride_h, stride_w = _pair(module.stride)
    if stride_h != stride_w:
        raise WorkloadError(f"layer {name!r}: stride {module.stride} is not square; hwmodels.Layer has one stride")
    k_h, k_w = _pair(module.kernel_size)
    groups = module.groups
    kind = "dw" if groups > 1 and groups == module.in_channels == module.out_channels else "conv"
    return Layer(name, kind, module.in_channels, module.out_channels, int(y.shape[2]), int(y.shape[3]), k_h, k_w,
                 stride_h, groups, n, int(x.shape[2]), int(x.shape[3]))


def workload_of(model: nn.Module, input_shape: Sequence[int]) -> list[Layer]:
    """The model's conv / depthwise / fully-connected layers in forward order, as `hwmodels.zoo` lists them.

    One forward pass of a zero tensor (eval mode, no grad) records each nn.Conv2d / nn.Linear the first time it
    runs: its input and output sizes become h_in/w_in (unpadded, as stored in memory) and h_out/w_out; names are
    the module names. A Linear is an "fc" layer with c_in = in_features (flat input, k = 1).

    Args:
        model: any nn.Module (float or quantised by `flowq.quant.quantize_model`).
        input_shape: (C, H, W) of one input, or (N, C, H, W); N becomes every layer's batch size n.

    Returns:
        list[Layer] in forward order.

    Raises:
        WorkloadError: bad input_shape, a Linear applied to a non-flat tensor, or a non-square stride.
    """
    shape = tuple(int(s) for s in input_shape)
    if len(shape) == 3:
        shape = (1, *shape)
    if len(shape) != 4 or min(shape) < 1:
        raise WorkloadError(f"input_shape={tuple(input_shape)!r}; expected (C, H, W) or (N, C, H, W) of positive "
                            f"sizes, e.g. (3, 32, 32)")
    batch = shape[0]
    records: list[Layer] = []
    seen: set[str] = set()
    handles = []
    for name, module in model.named_modules():
        if not isinstance(module, (nn.Conv2d, nn.Linear)):
            continue

        def hook(mod, args, output, _name=name):
            if _name in seen:
                return
            seen.add(_name)
            x = args[0]
            if isinstance(mod, nn.Conv2d):
                records.append(_conv_layer(_name, mod, x, output, batch))
            else:
                if x.dim() != 2:
                    raise WorkloadError(f"layer {_name!r}: Linear on a {x.dim()}-d input {tuple(x.shape)}; FlowQ "
                                        f"models flatten before their classifier")
                records.append(Layer(_name, "fc", mod.in_features, mod.out_features, 1, 1, n=batch))
        handles.append(module.register_forward_hook(hook))
    was_training = model.training
    device = next((p.device for p in model.parameters()), torch.device("cpu"))
    try:
        model.eval()
        with torch.no_grad():
            model(torch.zeros((1, *shape[1:]), device=device))
    finally:
        model.train(was_training)
        for handle in handles:
            handle.remove()
    return records
