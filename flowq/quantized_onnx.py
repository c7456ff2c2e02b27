"""Standard quantised ONNX of a trained FlowQ network: QDQ (QuantizeLinear / DequantizeLinear) and QONNX (`Quant`).

Both files hold exactly the fake-quantised PyTorch model's function, every quantised layer's grid written out:

    weights      w_q = s * n, n an integer per weight, s per tensor (DoReFa, WRPN, binary) or per output channel
                 (XNOR's 1-bit filters). DoReFa's 2^k levels m (2 q / (2^k - 1) - 1) are the odd integers
                 n in [-(2^k - 1), 2^k - 1] with s = m / (2^k - 1); WRPN's n lie in [-(2^(k-1) - 1), 2^(k-1) - 1].
    activations  a layer's input x_q = s_x * u: PACT / clipped unsigned u = round(clip(x, 0, alpha) / s_x) in
                 [0, 2^k - 1], s_x = alpha / (2^k - 1); signed u in [-(2^(k-1) - 1), 2^(k-1) - 1].

QDQ (`QDQ`): weights are integer initializers -> DequantizeLinear -> Conv / Gemm; inputs go Clip -> QuantizeLinear
-> DequantizeLinear. The integer type is the narrowest the opset has for the grid: int8 / uint8 up to 8 bits
(a k < 8-bit grid in int8 is exact because Clip bounds it to [0, 2^k - 1] and n stays on the grid), int16 / uint16
up to 16 bits, int32 for 16-bit DoReFa weights (n needs 17 bits; DequantizeLinear only). int16 needs opset 21: the
file is opset 21 when any layer needs it, else 17. The k < 8-bit layers therefore look 8-bit to a QDQ consumer;
their true bits are in the metadata (`flowq.layer_bits`). ONNX Runtime, TensorRT and OpenVINO read QDQ files.

QONNX (`QONNX`): the float weights (on their grids) and every layer input pass through the `qonnx` package's
`Quant` (any bitwidth; `BipolarQuant` at 1 bit) with the layer's true k, scale and zero point: DoReFa weights are
k-bit unsigned codes q with zero point (2^k - 1) / 2 (a half-integer: the DoReFa grid has no zero level), WRPN
weights signed narrow k-bit codes with zero point 0. QONNX tools (qonnx's executor and transforms; FINN and hls4ml
import QONNX) read them.

BatchNorm stays a BatchNormalization node after each convolution: folding it would move the weights off their
grids. `check(path, model, x)` runs the file (ONNX Runtime for QDQ, qonnx's executor for QONNX) and compares it
with the PyTorch model: argmax agreement and the largest absolute logit difference.
"""

from __future__ import annotations

import copy
import io
import json
import math
import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from torch import nn

from flowq.quant import QuantConv2d, QuantLinear
from flowq.quant.functions import clamp_bits
from flowq.quant.quantizers import PACT, WRPN, XNOR, Binary, ClippedActivation, DoReFa
from hwmodels.errors import FlowQError

QDQ, QONNX = "qdq", "qonnx"
FORMATS = (QDQ, QONNX)
FILES = {QDQ: "model_qdq.onnx", QONNX: "model_qonnx.onnx"}
QONNX_DOMAIN = "qonnx.custom_op.general"
_MARK = "flowq.export"  # domain of the placeholder nodes the PyTorch export leaves for `_rewrite`


@dataclass
class LayerGrid:
    """One quantised layer's grids (see the module docstring).

    Attributes:
        name: module name; bits_w, bits_a: the layer's weight / input bits (clamped to 16).
        n: integer weight values (same shape as the weight); w_scale: (1,) or (C_out,) float32; w_axis: 0 when
            per output channel, else None.
        w_step, w_zero_point: the k-bit codes are q = n / w_step + w_zero_point (QONNX view; w_step 2 for DoReFa
            and binary grids, whose n are odd, 1 for WRPN).
        a_scale: s_x; a_signed: signed grid; a_max: largest |u|.
    """

    name: str
    bits_w: int
    bits_a: int
    n: np.ndarray
    w_scale: np.ndarray
    w_axis: int | None
    w_step: int
    w_zero_point: float
    a_scale: float
    a_signed: bool
    a_max: int


def _weight_grid(module) -> tuple[torch.Tensor, torch.Tensor, int, float, int | None]:
    """(w_q, scale, step, zero point, axis): w_q = scale * n with n integer; q = n / step + zero point are the k-bit
    codes (QONNX view); axis 0 for per-output-channel scales."""
    quantizer, w = module.weight_quantizer, module.weight.detach()
    bits = clamp_bits(quantizer.bits)
    w_q = quantizer(w).detach()
    if isinstance(quantizer, XNOR) and bits == 1:  # per output filter, XNOR-Net eq. 4 (XNOR is a DoReFa too)
        return w_q, w.abs().mean(dim=tuple(range(1, w.dim()))), 2, 0.5, 0
    if isinstance(quantizer, Binary) or (bits == 1 and isinstance(quantizer, (DoReFa, WRPN))):
        return w_q, w.abs().mean().reshape(1), 2, 0.5, None
    if isinstance(quantizer, DoReFa):  # m (2 q / (2^k - 1) - 1): n = 2 q - (2^k - 1) odd, s = m / (2^k - 1)
        m = torch.tanh(w).abs().max().clamp_min(1e-8)
        return w_q, (m / (2 ** bits - 1)).reshape(1), 2, (2 ** bits - 1) / 2, None
    if isinstance(quantizer, WRPN):
        scale = w.abs().max().clamp_min(1e-8)
        return w_q, (scale / (2 ** (bits - 1) - 1)).reshape(1), 1, 2 ** (bits - 1) - 1, None
    raise FlowQError(f"{type(quantizer).__name__} weights have no integer grid to export; use dorefa, wrpn, xnor "
                     f"or binary")


def layer_grids(model: nn.Module) -> list[LayerGrid]:
    """The integer grids of every quantised layer of `model` (registration order), each checked: s * n must give
    the fake-quantised weights back.

    Raises:
        FlowQError: a quantiser without an integer grid, or weights that are not on it.
    """
    grids = []
    for name, module in model.named_modules():
        if not isinstance(module, (QuantConv2d, QuantLinear)):
            continue
        w_q, scale, step, zero_point, axis = _weight_grid(module)
        shape = (-1,) + (1,) * (w_q.dim() - 1) if axis == 0 else (1,)
        n = torch.round(w_q / scale.reshape(shape))
        error = float((n * scale.reshape(shape) - w_q).abs().max())
        if error > 1e-5 * max(float(w_q.abs().max()), 1e-12):
            raise FlowQError(f"layer {name}: its weights are not on the {module.weight_quantizer.bits}-bit grid "
                             f"(largest error {error:.3g}); export a model trained by FlowQ")
        act = module.act_quantizer
        if not isinstance(act, (PACT, ClippedActivation)):
            raise FlowQError(f"layer {name}: activation quantiser {type(act).__name__} has no grid to export")
        bits_a = clamp_bits(act.bits)
        level = float(act.alpha.detach().abs().clamp_min(1e-4)) if isinstance(act, PACT) else float(act.clip)
        signed = bool(act.signed)
        a_max = (1 if bits_a == 1 else 2 ** (bits_a - 1) - 1) if signed else 2 ** bits_a - 1
        grids.append(LayerGrid(name, clamp_bits(module.weight_quantizer.bits), bits_a,
                               n.to(torch.int64).numpy(), scale.float().numpy().astype(np.float32), axis, step,
                               zero_point, np.float32(level / a_max), signed, a_max))
    return grids


# ---- PyTorch export with placeholders -----------------------------------------------------------------------
class _Mark(torch.autograd.Function):
    """Identity in PyTorch; in the ONNX graph a `flowq.export::Weight` / `::Input` node naming the layer."""

    @staticmethod
    def forward(ctx, x, kind: str, index: int):
        return x.clone()

    @staticmethod
    def symbolic(g, x, kind: str, index: int):
        node = g.op(f"{_MARK}::{kind}", x, index_i=index)
        node.setType(x.type())
        return node


class _Marker(nn.Module):
    def __init__(self, kind: str, index: int):
        super().__init__()
        self.kind, self.index = kind, index

    def forward(self, x):
        return _Mark.apply(x, self.kind, self.index)


def _marked(model: nn.Module) -> nn.Module:
    """A CPU copy whose quantisers are placeholders (the integer grids are written into the graph afterwards)."""
    model = copy.deepcopy(model).cpu().eval()
    index = 0
    for module in model.modules():
        if isinstance(module, (QuantConv2d, QuantLinear)):
            module.weight_quantizer = _Marker("Weight", index)
            module.act_quantizer = _Marker("Input", index)
            index += 1
    return model


def _placeholder_graph(model: nn.Module, example_input: torch.Tensor):
    import onnx

    buffer = io.BytesIO()
    with warnings.catch_warnings():  # the TorchScript exporter warns that it is legacy, and about custom ops
        warnings.simplefilter("ignore")
        torch.onnx.export(_marked(model), (example_input[:1].cpu(),), buffer, dynamo=False, opset_version=17,
                          input_names=["input"], output_names=["logits"], custom_opsets={_MARK: 1},
                          dynamic_axes={"input": {0: "batch"}, "logits": {0: "batch"}})
    return onnx.load_from_string(buffer.getvalue())


# ---- rewriting the placeholders -----------------------------------------------------------------------------
def _int_type(low: int, high: int):
    """(numpy dtype, needs opset 21) of the narrowest ONNX integer type holding [low, high]."""
    for dtype, opset21 in ((np.int8, False), (np.uint8, False), (np.int16, True), (np.uint16, True),
                           (np.int32, False)):
        info = np.iinfo(dtype)
        if info.min <= low and high <= info.max:
            return dtype, opset21
    raise FlowQError(f"integer range [{low}, {high}] has no ONNX integer type")


def _qdq_nodes(grid: LayerGrid, node, out: list, inits: list) -> bool:
    """QDQ replacement of one placeholder; returns whether it needs opset 21."""
    from onnx import helper, numpy_helper

    name, x, y = grid.name, node.input[0], node.output[0]
    if node.op_type == "Weight":
        dtype, opset21 = _int_type(int(grid.n.min()), int(grid.n.max()))
        inits += [numpy_helper.from_array(grid.n.astype(dtype), f"{name}.weight_int"),
                  numpy_helper.from_array(grid.w_scale if grid.w_axis == 0 else grid.w_scale.reshape(()),
                                          f"{name}.weight_scale"),
                  numpy_helper.from_array(np.zeros(grid.w_scale.shape if grid.w_axis == 0 else (), dtype),
                                          f"{name}.weight_zero_point")]
        out.append(helper.make_node("DequantizeLinear", [f"{name}.weight_int", f"{name}.weight_scale",
                                                          f"{name}.weight_zero_point"], [y],
                                    name=f"{name}.weight_dequant", **({"axis": 0} if grid.w_axis == 0 else {})))
        return opset21
    if grid.a_signed and grid.bits_a == 1:
        raise FlowQError(f"layer {name}: a signed 1-bit input (alpha * sign(x)) has no zero level, which QDQ cannot "
                         f"express; export QONNX (BipolarQuant) instead")
    dtype, opset21 = _int_type(-grid.a_max if grid.a_signed else 0, grid.a_max)
    scale = float(grid.a_scale)
    clip_value = grid.a_max * scale
    inits += [numpy_helper.from_array(np.float32(-clip_value if grid.a_signed else 0.0), f"{name}.input_min"),
              numpy_helper.from_array(np.float32(clip_value), f"{name}.input_max"),
              numpy_helper.from_array(np.float32(scale), f"{name}.input_scale"),
              numpy_helper.from_array(np.zeros((), dtype), f"{name}.input_zero_point")]
    out += [helper.make_node("Clip", [x, f"{name}.input_min", f"{name}.input_max"], [f"{name}.input_clipped"],
                             name=f"{name}.input_clip"),
            helper.make_node("QuantizeLinear", [f"{name}.input_clipped", f"{name}.input_scale",
                                                f"{name}.input_zero_point"], [f"{name}.input_int"],
                             name=f"{name}.input_quant"),
            helper.make_node("DequantizeLinear", [f"{name}.input_int", f"{name}.input_scale",
                                                  f"{name}.input_zero_point"], [y], name=f"{name}.input_dequant")]
    return opset21


def _qonnx_nodes(grid: LayerGrid, node, out: list, inits: list) -> bool:
    """QONNX replacement of one placeholder (a `Quant` or `BipolarQuant`)."""
    from onnx import helper, numpy_helper

    name, x, y = grid.name, node.input[0], node.output[0]
    if node.op_type == "Weight":
        w = (grid.n * (grid.w_scale.reshape((-1,) + (1,) * (grid.n.ndim - 1)) if grid.w_axis == 0
                       else grid.w_scale)).astype(np.float32)
        inits.append(numpy_helper.from_array(w, f"{name}.weight_on_grid"))
        scale = (grid.w_scale * grid.w_step).astype(np.float32)
        if grid.w_axis == 0:
            scale = scale.reshape((-1,) + (1,) * (grid.n.ndim - 1))
        else:
            scale = scale.reshape(())
        if grid.bits_w == 1:  # n = +-1: sign(w) * s
            bipolar = grid.w_scale.reshape(scale.shape).astype(np.float32)
            inits.append(numpy_helper.from_array(bipolar, f"{name}.weight_scale"))
            out.append(helper.make_node("BipolarQuant", [f"{name}.weight_on_grid", f"{name}.weight_scale"], [y],
                                        name=f"{name}.weight_quant", domain=QONNX_DOMAIN))
            return False
        inputs = [f"{name}.weight_on_grid", f"{name}.weight_scale", f"{name}.weight_zero_point",
                  f"{name}.weight_bits"]
        if grid.w_step == 1:  # a grid with a zero level (WRPN): signed narrow k-bit codes n, zero point 0
            values, signed = [scale, np.float32(0.0), np.float32(grid.bits_w)], 1
        else:  # DoReFa: unsigned k-bit codes q = n / 2 + (2^k - 1) / 2
            values, signed = [scale, np.float32(grid.w_zero_point), np.float32(grid.bits_w)], 0
    else:
        inputs = [x, f"{name}.input_scale", f"{name}.input_zero_point", f"{name}.input_bits"]
        values = [np.float32(grid.a_scale), np.float32(0.0), np.float32(grid.bits_a)]
        signed = int(grid.a_signed)
        if grid.a_signed and grid.bits_a == 1:  # alpha * sign(x)
            inits.append(numpy_helper.from_array(np.float32(grid.a_scale), f"{name}.input_scale"))
            out.append(helper.make_node("BipolarQuant", [x, f"{name}.input_scale"], [y], name=f"{name}.input_quant",
                                        domain=QONNX_DOMAIN))
            return False
    inits += [numpy_helper.from_array(np.asarray(v, dtype=np.float32), n) for n, v in zip(inputs[1:], values)]
    out.append(helper.make_node("Quant", inputs, [y], name=f"{name}.{node.op_type.lower()}_quant",
                                domain=QONNX_DOMAIN, signed=signed, narrow=int(bool(signed)), rounding_mode="ROUND"))
    return False


def to_format(proto, grids: list[LayerGrid], fmt: str):
    """Replace the placeholders of an exported graph by QDQ or QONNX nodes (in place); returns the proto."""
    from onnx import helper

    graph = proto.graph
    nodes, inits, opset21 = [], [], False
    used_weights = set()
    for node in graph.node:
        if node.domain != _MARK:
            nodes.append(node)
            continue
        grid = grids[next(a.i for a in node.attribute if a.name == "index")]
        if node.op_type == "Weight":
            used_weights.add(node.input[0])
        if fmt == QDQ:
            opset21 |= _qdq_nodes(grid, node, nodes, inits)
        else:
            _qonnx_nodes(grid, node, nodes, inits)
    del graph.node[:]
    graph.node.extend(nodes)
    remaining = [t for t in graph.initializer if t.name not in used_weights]  # float latent weights: replaced
    del graph.initializer[:]
    graph.initializer.extend(remaining + inits)
    kept = [o for o in proto.opset_import if o.domain not in (_MARK,)]
    del proto.opset_import[:]
    proto.opset_import.extend(kept)
    if fmt == QONNX:
        proto.opset_import.append(helper.make_opsetid(QONNX_DOMAIN, 1))
    elif opset21:
        for entry in proto.opset_import:
            if entry.domain in ("", "ai.onnx"):
                entry.version = 21
    del graph.value_info[:]  # shapes of the placeholders' outputs: inferred again by consumers
    return proto


def export_quantized(model: nn.Module, example_input: torch.Tensor, path, fmt: str,
                     metadata: dict | None = None) -> Path:
    """Write `model` (trained, quantised) as a QDQ or QONNX file with FlowQ metadata (see the module docstring).

    Metadata (JSON values): flowq.layer_bits = [[name, b_W, b_A], ...], flowq.format, and flowq.<key> of `metadata`.

    Raises:
        FlowQError: unknown format, or a layer without an integer grid. ImportError: onnx is not installed.
    """
    import onnx

    from flowq.runs import write_atomic

    if fmt not in FORMATS:
        raise FlowQError(f"export format {fmt!r}; allowed: {', '.join(FORMATS)}")
    grids = layer_grids(model)
    proto = to_format(_placeholder_graph(model, example_input), grids, fmt)
    entries = {"flowq.layer_bits": [[g.name, g.bits_w, g.bits_a] for g in grids], "flowq.format": fmt}
    entries.update({f"flowq.{k}": v for k, v in (metadata or {}).items()})
    for key, value in entries.items():
        prop = proto.metadata_props.add()
        prop.key, prop.value = key, json.dumps(value)
    if fmt == QDQ:
        onnx.checker.check_model(proto, full_check=True)
    path = Path(path)
    write_atomic(path, proto.SerializeToString())
    return path


def check_export_formats(formats) -> tuple:
    """The formats of `flowq train --export` as a tuple ("both" = qdq and qonnx), their packages importable.

    Raises:
        FlowQError: an unknown format, or onnx / onnxruntime / qonnx missing (pip install 'flowq[export]').
    """
    formats = (formats,) if isinstance(formats, str) else tuple(formats or ())
    chosen = []
    for fmt in formats:
        if fmt not in FORMATS + ("both",):
            raise FlowQError(f"--export {fmt!r}; allowed: qdq, qonnx, both")
        chosen += [f for f in (FORMATS if fmt == "both" else (fmt,)) if f not in chosen]
    modules = (["onnx", "onnxruntime"] if chosen else []) + (["qonnx"] if QONNX in chosen else [])
    for module in modules:  # qonnx's executor runs the standard nodes with onnxruntime
        try:
            __import__(module)
        except ImportError:
            raise FlowQError(f"--export {', '.join(chosen)} needs {module}: pip install 'flowq[export]'") from None
    return tuple(chosen)


# ---- running the files --------------------------------------------------------------------------------------
def run_file(path, x: np.ndarray, fmt: str, batch: int = 256) -> np.ndarray:
    """Logits of an exported file on inputs x (N, C, H, W): ONNX Runtime (QDQ) or qonnx's executor (QONNX)."""
    outputs = []
    if fmt == QDQ:
        import onnxruntime as ort

        session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
        for start in range(0, len(x), batch):
            outputs.append(session.run(None, {"input": x[start:start + batch]})[0])
    else:
        from qonnx.core.modelwrapper import ModelWrapper
        from qonnx.core.onnx_exec import execute_onnx
        from qonnx.transformation.infer_shapes import InferShapes

        model = ModelWrapper(str(path))
        output = model.graph.output[0].name
        shaped = {}
        for start in range(0, len(x), batch):
            chunk = x[start:start + batch]
            if len(chunk) not in shaped:  # the executor needs static shapes: one per batch size
                wrapper = ModelWrapper(copy.deepcopy(model.model))
                wrapper.set_tensor_shape("input", list(chunk.shape))
                wrapper.set_tensor_shape(output, [len(chunk), *wrapper.get_tensor_shape(output)[1:]])
                shaped[len(chunk)] = wrapper.transform(InferShapes())
            outputs.append(execute_onnx(shaped[len(chunk)], {"input": chunk})[output])
    return np.concatenate(outputs)


def check(path, model: nn.Module, x: torch.Tensor, fmt: str) -> dict:
    """Run the exported file and the PyTorch fake-quant model on x; {"runtime", "images", "argmax_agreement"
    (fraction), "max_abs_logit_diff", "max_abs_logit", "median_abs_logit_diff", "disagreements"}.

    The two sides add the same products in different orders (float32), so an activation that lies within rounding
    noise of a grid midpoint can land on neighbouring levels, which at 2 bits is a whole step; the logits then
    differ by more than float noise. The file computes the same function, not the same bits."""
    model = copy.deepcopy(model).cpu().eval()
    with torch.no_grad():
        reference = model(x.cpu()).numpy()
    logits = run_file(path, x.cpu().numpy().astype(np.float32), fmt)
    differ = np.flatnonzero(np.argmax(logits, 1) != np.argmax(reference, 1))
    diff = float(np.max(np.abs(logits - reference)))
    top2 = np.sort(reference, 1)[:, -2:]
    return {"runtime": "onnxruntime" if fmt == QDQ else "qonnx.core.onnx_exec", "images": int(len(x)),
            "argmax_agreement": 1.0 - len(differ) / len(x), "max_abs_logit_diff": diff if math.isfinite(diff) else None,
            "max_abs_logit": float(np.max(np.abs(reference))),
            "median_abs_logit_diff": float(np.median(np.abs(logits - reference))),
            # images whose class differs, with PyTorch's margin between its top two logits (a near-tie shows that
            # a float-rounding difference flipped an activation's rounding somewhere before the head)
            "disagreements": [{"image": int(i), "pytorch_top2_margin": float(top2[i, 1] - top2[i, 0])}
                              for i in differ[:10]]}
