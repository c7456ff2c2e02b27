"""The hardware workload of an ONNX CNN: its Conv, Gemm and MatMul-with-weights nodes as `hwmodels.workload.Layer`s,
with shapes from ONNX shape inference and producer -> consumer edges followed as `flowq.models.workload` does."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from flowq.errors import WorkloadError
from hwmodels.workload import Layer

_CONCAT = frozenset({"Concat"})


def _attributes(node) -> dict:
    import onnx

    return {a.name: onnx.helper.get_attribute_value(a) for a in node.attribute}


def _layer_name(node, weight: str, used: set) -> str:
    """The module name: from the weight initialiser when it is named after it (`layer1.0.conv1.weight`), else from
    the exporter's scoped node name (`/layer1/layer1.0/conv1/Conv` -> `layer1.0.conv1`), else the node's name."""
    if weight.endswith(".weight"):
        name = weight[:-len(".weight")]
    else:
        name = previous = ""
        for part in (node.name or "").strip("/").split("/")[:-1]:  # a scope repeats its parent's full name
            name = name[:len(name) - len(previous)] + part if previous and part.startswith(previous + ".") \
                else (f"{name}.{part}" if name else part)
            previous = part
        name = name or node.name or f"layer{len(used)}"
    base, k = name, 2
    while name in used:
        name, k = f"{base}_{k}", k + 1
    used.add(name)
    return name


def onnx_workload(path, batch: int = 1) -> list[Layer]:
    """The conv / depthwise / fully-connected layers of an ONNX model in graph order (which is forward order).

    Shapes come from `onnx.shape_inference` on a graph whose input batch is 1 (a symbolic batch is fine); a
    Conv's input and output must be 4-d with known sizes. A Gemm or MatMul whose second operand is an initialiser
    is an "fc" layer. Edges: a tensor's writers pass through one-operand nodes, a Concat unites them, any other
    node of several written operands is fused into its latest writer, which reads the others as residuals.

    Args:
        path: the .onnx file.
        batch: every layer's batch size n.

    Raises:
        WorkloadError: onnx missing, an unreadable file, shapes that inference cannot determine, no layers.
    """
    try:
        import onnx
        from onnx import shape_inference
    except ImportError:
        raise WorkloadError("costing an ONNX model needs the onnx package: pip install 'flowq[onnx]'") from None
    path = Path(path)
    try:
        model = shape_inference.infer_shapes(onnx.load(str(path)))
    except FileNotFoundError:
        raise WorkloadError(f"{path}: no such ONNX file") from None
    except Exception as error:  # onnx raises DecodeError, ValidationError, InferenceError, ...
        raise WorkloadError(f"{path}: not a readable ONNX model ({type(error).__name__}: {error})") from None
    graph = model.graph
    weights = {init.name: tuple(init.dims) for init in graph.initializer}
    shapes = {}
    for info in list(graph.input) + list(graph.value_info) + list(graph.output):
        dims = info.type.tensor_type.shape.dim
        shapes[info.name] = tuple(d.dim_value if d.HasField("dim_value") else None for d in dims)
    constants = {out for node in graph.node if node.op_type == "Constant" for out in node.output}

    def shape_of(tensor: str, node, rank: int) -> tuple:
        shape = shapes.get(tensor)
        if shape is None or len(shape) != rank or any(s is None for s in shape[1:]):
            raise WorkloadError(f"{path}: node {node.name or node.op_type}: shape of {tensor!r} is {shape}; ONNX "
                                f"shape inference must give a {rank}-d tensor of known sizes (export with a fixed "
                                f"input size)")
        return shape

    layers, writers, order, residuals, used = [], {}, {}, {}, set()
    for node in graph.node:
        inputs = [t for t in node.input if t and t not in weights and t not in constants]
        operands = [writers[t] for t in inputs if writers.get(t)]
        weight = node.input[1] if len(node.input) > 1 else ""
        if node.op_type == "Conv" and weight in weights:
            attrs = _attributes(node)
            x, y = shape_of(node.input[0], node, 4), shape_of(node.output[0], node, 4)
            k_h, k_w = attrs.get("kernel_shape", weights[weight][2:4])
            strides = attrs.get("strides", (1, 1))
            if strides[0] != strides[1]:
                raise WorkloadError(f"{path}: Conv {node.name}: stride {tuple(strides)} is not square")
            if any(d != 1 for d in attrs.get("dilations", (1, 1))):
                raise WorkloadError(f"{path}: Conv {node.name}: dilated convolutions are not modelled")
            groups = int(attrs.get("group", 1))
            kind = "dw" if groups > 1 and groups == x[1] == y[1] else "conv"
            name = _layer_name(node, weight, used)
            layer = Layer(name, kind, int(x[1]), int(y[1]), int(y[2]), int(y[3]), int(k_h), int(k_w), int(strides[0]),
                          groups, batch, int(x[2]), int(x[3]), inputs=operands[0] if operands else ())
        elif node.op_type in ("Gemm", "MatMul") and weight in weights and len(weights[weight]) == 2:
            trans_b = node.op_type == "Gemm" and _attributes(node).get("transB", 0)
            c_out, c_in = weights[weight] if trans_b else weights[weight][::-1]
            name = _layer_name(node, weight, used)
            layer = Layer(name, "fc", int(c_in), int(c_out), 1, 1, n=batch, inputs=operands[0] if operands else ())
        else:
            if not operands:
                continue
            if len(operands) == 1 or len({w for ws in operands for w in ws}) == len(operands[0]) == 1:
                result = operands[0]
            elif node.op_type in _CONCAT:
                result = tuple(sorted({w for ws in operands for w in ws}, key=order.get))
            else:  # an add / mul of several written tensors: fused into the latest writer
                latest = max((w for ws in operands for w in ws), key=order.get)
                result = next(ws for ws in operands if latest in ws)
                for writer in result:
                    residuals.setdefault(writer, set()).update(w for ws in operands for w in ws if w not in result)
            for out in node.output:
                writers[out] = result
            continue
        order[layer.name] = len(order)
        layers.append(layer)
        for out in node.output:
            writers[out] = (layer.name,)
    if not layers:
        raise WorkloadError(f"{path}: no Conv / Gemm / MatMul layers with weight initialisers found")
    return [replace(layer, residuals=tuple(sorted(residuals.get(layer.name, ()), key=order.get))) for layer in layers]

