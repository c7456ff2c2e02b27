"""ONNX export keeps the per-layer grid visible (issue 21): BatchNorm is not folded into quantised weights, so a
b-bit layer's exported weights hold at most 2^b distinct values, and tensors are named after their layers."""

import numpy as np
import pytest
import torch

from flowq.export import export_onnx
from flowq.models import build_model
from flowq.quant import quantize_model


def test_exported_weights_sit_on_their_grid_and_carry_layer_names(tmp_path):
    onnx = pytest.importorskip("onnx")
    from onnx import numpy_helper

    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Conv2d(3, 8, 3), torch.nn.BatchNorm2d(8), torch.nn.ReLU(),
                                torch.nn.Conv2d(8, 8, 3), torch.nn.BatchNorm2d(8), torch.nn.ReLU(),
                                torch.nn.Conv2d(8, 8, 3), torch.nn.BatchNorm2d(8), torch.nn.Flatten(),
                                torch.nn.Linear(8 * 10 * 10, 10))
    for module in model.modules():  # trained-like BatchNorm statistics: folding them would leave the grid
        if isinstance(module, torch.nn.BatchNorm2d):
            module.running_var.uniform_(0.5, 2.0)
            module.running_mean.uniform_(-1.0, 1.0)
    bits = [16, 2, 2, 16]
    quantized = quantize_model(model, bits, bits, example_input=torch.randn(8, 3, 16, 16)).eval()
    path = export_onnx(quantized, torch.randn(1, 3, 16, 16), tmp_path / "q.onnx")
    graph = onnx.load(str(path)).graph
    weights = {init.name: numpy_helper.to_array(init) for init in graph.initializer}
    convs = [node for node in graph.node if node.op_type == "Conv"]
    assert [node.input[1] for node in convs] == ["0.weight", "3.weight", "6.weight"]
    for node in convs[1:]:  # the 2-bit layers
        assert len(np.unique(weights[node.input[1]])) <= 4, node.input[1]
    assert sum(node.op_type == "BatchNormalization" for node in graph.node) == 3
