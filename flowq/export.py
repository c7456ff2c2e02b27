"""Export a trained quantised network: weights baked onto their quantisation grid, ONNX with per-layer bits."""

from __future__ import annotations

import copy
import io
import json
import warnings
from pathlib import Path

import torch
from torch import nn

from flowq.quant import QuantConv2d, QuantLinear, layer_bits


def baked(model: nn.Module) -> nn.Module:
    """A CPU copy of `model` whose quantised layers hold their quantised weights (float tensors on the k-bit
    grid) with the weight quantiser removed; activation quantisers stay in the graph."""
    model = copy.deepcopy(model).cpu().eval()
    for module in model.modules():
        if isinstance(module, (QuantConv2d, QuantLinear)):
            with torch.no_grad():
                module.weight.copy_(module.weight_quantizer(module.weight))
            module.weight_quantizer = nn.Identity()
    return model


def onnx_available() -> bool:
    """Whether the optional `onnx` package is installed."""
    try:
        import onnx  # noqa: F401
    except ImportError:
        return False
    return True


def export_onnx(model: nn.Module, example_input: torch.Tensor, path, metadata: dict | None = None) -> Path:
    """Write `model` (quantised) as ONNX with its weights on their grids and FlowQ metadata.

    Metadata (ONNX `metadata_props`, JSON values): flowq.layer_bits = [[name, b_W, b_A], ...] of every quantised
    layer, plus `metadata` entries (e.g. bits_w, bits_a, model, test_accuracy) as flowq.<key>.

    Args:
        model: the trained quantised network (`flowq.quant.quantize_model`).
        example_input: one input batch (N, C, H, W) fixing the graph's input shape.
        path: the .onnx file to write.

    Raises:
        ImportError: onnx is not installed (check `onnx_available()` first).
    """
    import onnx

    from flowq.runs import write_atomic

    exported = baked(model)
    buffer = io.BytesIO()
    with warnings.catch_warnings():  # the TorchScript exporter (no onnxscript needed) warns that it is legacy
        warnings.simplefilter("ignore", DeprecationWarning)
        warnings.filterwarnings("ignore", message="It is recommended that constant folding")  # eval mode: safe
        # PRESERVE (the module is in eval mode): BatchNorm stays a node after its Conv instead of being folded into
        # the quantised weights, so every Conv keeps its k-bit grid and its parameter's name (`layer1.0.conv1.weight`)
        torch.onnx.export(exported, (example_input[:1].cpu(),), buffer, dynamo=False, opset_version=17,
                          training=torch.onnx.TrainingMode.PRESERVE,
                          input_names=["input"], output_names=["logits"],
                          dynamic_axes={"input": {0: "batch"}, "logits": {0: "batch"}})
    proto = onnx.load_from_string(buffer.getvalue())
    entries = {"flowq.layer_bits": [list(row) for row in layer_bits(model)]}
    entries.update({f"flowq.{k}": v for k, v in (metadata or {}).items()})
    for key, value in entries.items():
        prop = proto.metadata_props.add()
        prop.key, prop.value = key, json.dumps(value)
    path = Path(path)
    write_atomic(path, proto.SerializeToString())
    return path
