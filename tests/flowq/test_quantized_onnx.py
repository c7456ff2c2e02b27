"""Standard quantised ONNX: QDQ run by ONNX Runtime and QONNX run by qonnx's executor give the PyTorch
fake-quant model's answers; weights are integers on their grids (s * n = the fake-quant weights); true bits kept."""

import json

import numpy as np
import pytest
import torch

from flowq.models import build_model
from flowq.quant import quantize_model
from flowq.quantized_onnx import check, check_export_formats, export_quantized, layer_grids
from hwmodels.errors import FlowQError

onnx = pytest.importorskip("onnx")
pytest.importorskip("onnxruntime")

BITS = [16, 2, 4, 8, 16]  # LeNet-5: conv1, conv2, fc1, fc2, fc3


def lenet(quantizer="dorefa", bits_w=BITS, bits_a=BITS):
    torch.manual_seed(0)
    model = build_model("lenet5", 10, (1, 32, 32))
    x = torch.randn(48, 1, 32, 32)
    quantize_model(model, bits_w, bits_a, weight_quantizer=quantizer, example_input=x)
    return model.eval(), x


def initializers(proto) -> dict:
    return {t.name: onnx.numpy_helper.to_array(t) for t in proto.graph.initializer}


def test_qdq_weights_are_integers_on_the_grid_and_onnxruntime_agrees(tmp_path):
    model, x = lenet()
    path = export_quantized(model, x, tmp_path / "m.onnx", "qdq", {"model": "lenet5"})
    proto = onnx.load(path)
    values = initializers(proto)
    for (name, module), grid in zip([(n, m) for n, m in model.named_modules() if hasattr(m, "weight_quantizer")],
                                    layer_grids(model)):
        n, scale = values[f"{name}.weight_int"], values[f"{name}.weight_scale"]
        w_q = module.weight_quantizer(module.weight).detach().numpy()
        np.testing.assert_allclose(n.astype(np.float64) * scale, w_q, rtol=1e-6, atol=1e-7)
        k = grid.bits_w
        assert np.all(np.abs(n) <= 2 ** k - 1) and np.all(n % 2 == 1)  # DoReFa: odd n, 2^k levels
        assert n.dtype == (np.int8 if k <= 7 else np.int16 if k <= 15 else np.int32)
    assert {o.domain: o.version for o in proto.opset_import}[""] == 21  # int16 (8-bit DoReFa weights) needs it
    ops = [node.op_type for node in proto.graph.node]
    assert ops.count("QuantizeLinear") == 5 and ops.count("DequantizeLinear") == 10
    meta = {p.key: json.loads(p.value) for p in proto.metadata_props}
    assert [row[1:] for row in meta["flowq.layer_bits"]] == [[b, b] for b in BITS] and meta["flowq.model"] == "lenet5"
    result = check(path, model, x, "qdq")
    assert result["argmax_agreement"] == 1.0 and result["images"] == 48
    assert result["max_abs_logit_diff"] < 1e-3 * max(1.0, result["max_abs_logit"])


def test_qonnx_quant_nodes_carry_the_true_bits_and_its_executor_agrees(tmp_path):
    pytest.importorskip("qonnx")
    model, x = lenet(bits_w=[16, 3, 5, 8, 16], bits_a=[16, 3, 6, 8, 16])
    path = export_quantized(model, x, tmp_path / "m.onnx", "qonnx")
    proto = onnx.load(path)
    values = initializers(proto)
    quant = [n for n in proto.graph.node if n.op_type == "Quant"]
    bits = {n.name: float(values[n.input[3]]) for n in quant}
    assert bits["conv2.weight_quant"] == 3 and bits["fc1.input_quant"] == 6 and bits["conv1.input_quant"] == 16
    result = check(path, model, x[:16], "qonnx")
    assert result["argmax_agreement"] == 1.0
    assert result["max_abs_logit_diff"] < 1e-3 * max(1.0, result["max_abs_logit"])


def test_xnor_filters_export_per_channel_scales(tmp_path):
    model, x = lenet("xnor", bits_w=[16, 1, 1, 2, 16])
    path = export_quantized(model, x, tmp_path / "m.onnx", "qdq")
    proto = onnx.load(path)
    dequant = {n.name: n for n in proto.graph.node if n.op_type == "DequantizeLinear"}
    axis = [a.i for a in dequant["conv2.weight_dequant"].attribute if a.name == "axis"]
    assert axis == [0] and initializers(proto)["conv2.weight_scale"].shape == (16,)
    assert set(np.unique(initializers(proto)["conv2.weight_int"])) == {-1, 1}
    assert check(path, model, x, "qdq")["argmax_agreement"] == 1.0


def test_export_formats_are_checked_before_any_work():
    assert check_export_formats(("both",)) == ("qdq", "qonnx")
    assert check_export_formats(()) == ()
    with pytest.raises(FlowQError, match="allowed: qdq, qonnx, both"):
        check_export_formats(("tflite",))
