"""Extract the hardware model's layer list (`hwmodels.workload.Layer`, with its producer -> consumer edges) from any
nn.Module: forward hooks on the conv / linear modules, a torch-function mode following tensors between them."""

from __future__ import annotations

from dataclasses import replace
from typing import Sequence

import torch
from torch import nn
from torch.overrides import TorchFunctionMode

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


_CONCAT_OPS = frozenset({"cat", "concat", "concatenate", "stack", "hstack", "vstack", "dstack"})


class _EdgeTracer(TorchFunctionMode):
    """Follows which layers wrote each tensor through the parameter-free ops between conv / linear modules.

    A tensor's writers are the layers whose outputs it holds: a one-operand op (BN, ReLU, pooling, slicing,
    padding, flatten) passes them on; a concatenation unites them; any other op on several written operands (an
    add, a multiply) runs when its last operand exists, so it is fused into the latest writer in forward order,
    which reads the other operands (a residual edge) and writes the result.
    """

    def __init__(self, order: dict):
        super().__init__()
        self.order = order        # layer name -> forward position (filled by the module hooks)
        self.writers = {}         # id(tensor) -> tuple of writer names
        self.keep = []            # tensors kept alive so that their ids stay unique during the trace
        self.residuals = {}       # fusing layer -> set of layers it reads as residual operands

    def of(self, tensor) -> tuple:
        return self.writers.get(id(tensor), ())

    def mark(self, tensor, writers: tuple) -> None:
        self.writers[id(tensor)] = writers
        self.keep.append(tensor)

    def __torch_function__(self, func, types, args=(), kwargs=None):
        kwargs = kwargs or {}
        result = func(*args, **kwargs)
        operands = [w for w in (self.of(t) for t in _tensors((args, kwargs))) if w]
        if not operands or not isinstance(result, torch.Tensor):
            return result
        name = getattr(func, "__name__", "")
        if len(operands) == 1 or len({w for ws in operands for w in ws}) == len(operands[0]) == 1:
            writers = operands[0]
        elif name in _CONCAT_OPS:
            writers = tuple(sorted({w for ws in operands for w in ws}, key=self.order.get))
        else:
            latest = max((w for ws in operands for w in ws), key=self.order.get)
            writers = next(ws for ws in operands if latest in ws)
            reads = {w for ws in operands for w in ws if w not in writers}
            for writer in writers:
                self.residuals.setdefault(writer, set()).update(reads)
        self.mark(result, writers)
        return result


def _tensors(value):
    """Tensors inside nested args / kwargs."""
    if isinstance(value, torch.Tensor):
        yield value
    elif isinstance(value, (list, tuple)):
        for item in value:
            yield from _tensors(item)
    elif isinstance(value, dict):
        for item in value.values():
            yield from _tensors(item)


def workload_of(model: nn.Module, input_shape: Sequence[int]) -> list[Layer]:
    """The model's conv / depthwise / fully-connected layers in forward order, as `hwmodels.zoo` lists them.

    One forward pass of a zero tensor (eval mode, no grad) records each nn.Conv2d / nn.Linear the first time it
    runs: its input and output sizes become h_in/w_in (unpadded, as stored in memory) and h_out/w_out; names are
    the module names. A Linear is an "fc" layer with c_in = in_features (flat input, k = 1). The same pass traces
    the edges (`Layer.inputs`, `Layer.residuals`, see `_EdgeTracer`): which layers' outputs each layer reads,
    through parameter-free ops, shortcuts and residual adds included.

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
    order: dict[str, int] = {}
    tracer = _EdgeTracer(order)
    handles = []
    for name, module in model.named_modules():
        if not isinstance(module, (nn.Conv2d, nn.Linear)):
            continue

        def hook(mod, args, output, _name=name):
            if _name in order:
                return
            order[_name] = len(order)
            x = args[0]
            if isinstance(mod, nn.Conv2d):
                layer = _conv_layer(_name, mod, x, output, batch)
            else:
                if x.dim() != 2:
                    raise WorkloadError(f"layer {_name!r}: Linear on a {x.dim()}-d input {tuple(x.shape)}; FlowQ "
                                        f"models flatten before their classifier")
                layer = Layer(_name, "fc", mod.in_features, mod.out_features, 1, 1, n=batch)
            records.append(replace(layer, inputs=tracer.of(x)))
            tracer.mark(output, (_name,))
        handles.append(module.register_forward_hook(hook))
    was_training = model.training
    device = next((p.device for p in model.parameters()), torch.device("cpu"))
    try:
        model.eval()
        with torch.no_grad(), tracer:
            model(torch.zeros((1, *shape[1:]), device=device))
    finally:
        model.train(was_training)
        for handle in handles:
            handle.remove()
    return [replace(layer, residuals=tuple(sorted(tracer.residuals.get(layer.name, ()), key=order.get)))
            for layer in records]
