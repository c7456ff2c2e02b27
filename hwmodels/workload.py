"""CNN workload description: one `Layer` per conv / depthwise conv / fully-connected layer.

Glossary (hw-flowq eq. 2 notation, ASCII):
    n        batch size (frames processed together)
    c_in     input channels  (C_i)       c_out   output channels (C_o)
    h_out    output height   (H_o)       w_out   output width    (W_o)
    h_in     input height    (H_i)       w_in    input width     (W_i)  -- as stored in memory (unpadded)
    k_h      kernel height   (K_h)       k_w     kernel width    (K_w)
    stride   s                           groups  channel groups (c_in for depthwise)
    kind     "conv" | "dw" | "fc"
    b_w, b_a weight / input-activation bitwidth of a layer (bits); the output bitwidth is `output_bits`
    inputs   names of the layers whose outputs this layer reads as its conv / linear input (producer -> consumer
             edges); () = the network input; None = the previous layer in the list (a plain chain)
    residuals names of the layers whose outputs this layer's fused element-wise add reads: an add runs when its
             last operand is produced, so it is fused into that operand's layer (ResNet shortcuts)
A fully-connected layer is a conv with h_out = w_out = 1 and k_h, k_w equal to its input's spatial size
(k_h = k_w = 1 for a flat input).

Output bitwidth rule (`output_bits`): a layer writes its output once, at the widest bitwidth any reader needs:
the b_a of every layer that reads it as input, and the output bitwidth of every layer whose fused add reads it
(a residual operand is read at the width of the sum it is added into). When readers disagree the maximum wins,
because one stored copy must serve them all. A layer nobody reads (the network output) is written at b_max.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from functools import lru_cache

import numpy as np

from hwmodels.errors import WorkloadError

KINDS = ("conv", "dw", "fc")


@dataclass(frozen=True)
class Layer:
    """One layer's loop bounds. All sizes are element counts (not bits)."""

    name: str
    kind: str
    c_in: int
    c_out: int
    h_out: int
    w_out: int
    k_h: int = 1
    k_w: int = 1
    stride: int = 1
    groups: int = 1
    n: int = 1
    h_in: int = 0  # 0 = derive as (h_out - 1) * stride + k_h
    w_in: int = 0
    inputs: tuple | None = None  # producer layer names; () = network input; None = the previous layer
    residuals: tuple = ()        # layers whose outputs this layer's fused add reads

    def __post_init__(self):
        problems = []
        for field in ("inputs", "residuals"):
            value = getattr(self, field)
            if value is None and field == "inputs":
                continue
            if isinstance(value, (list, tuple)) and all(isinstance(item, str) for item in value):
                object.__setattr__(self, field, tuple(value))
            else:
                problems.append(f"{field}={value!r} (must be a tuple of layer names"
                                + ("; None = the previous layer)" if field == "inputs" else ")"))
        if self.kind not in KINDS:
            problems.append(f"kind={self.kind!r} (allowed: {', '.join(KINDS)})")
        for field in ("c_in", "c_out", "h_out", "w_out", "k_h", "k_w", "stride", "groups", "n"):
            value = getattr(self, field)
            if not isinstance(value, int) or isinstance(value, bool) or value < 1:
                problems.append(f"{field}={value!r} (must be an integer >= 1)")
        for field in ("h_in", "w_in"):
            value = getattr(self, field)
            if not isinstance(value, int) or value < 0:
                problems.append(f"{field}={value!r} (must be an integer >= 0; 0 derives it)")
        if not problems:
            if self.c_in % self.groups or self.c_out % self.groups:
                problems.append(f"groups={self.groups} must divide c_in={self.c_in} and c_out={self.c_out}")
            if self.kind == "dw" and not (self.groups == self.c_in == self.c_out):
                problems.append(f"depthwise layer needs groups == c_in == c_out, got {self.groups}/{self.c_in}/"
                                f"{self.c_out}")
        if problems:
            raise WorkloadError(f"layer {self.name!r}: " + "; ".join(problems))
        if self.h_in == 0:
            object.__setattr__(self, "h_in", (self.h_out - 1) * self.stride + self.k_h)
        if self.w_in == 0:
            object.__setattr__(self, "w_in", (self.w_out - 1) * self.stride + self.k_w)

    # ---- derived sizes (element counts) -------------------------------------------------------
    @property
    def c_in_per_group(self) -> int:
        """Input channels each output channel reduces over."""
        return self.c_in // self.groups

    @property
    def reduction_size(self) -> int:
        """Number of products accumulated into one output (C_i/groups * K_h * K_w)."""
        return self.c_in_per_group * self.k_h * self.k_w

    @property
    def macs(self) -> int:
        """Multiply-accumulates of the layer for the whole batch."""
        return self.n * self.c_out * self.h_out * self.w_out * self.reduction_size

    @property
    def n_weights(self) -> int:
        """Weight elements (independent of batch)."""
        return self.c_out * self.reduction_size

    @property
    def n_inputs(self) -> int:
        """Input activation elements for the whole batch."""
        return self.n * self.c_in * self.h_in * self.w_in

    @property
    def n_inputs_used(self) -> int:
        """Input elements the layer really reads: all stored rows when the taps cover the stride (k >= s), only
        h_out * k_h rows (and w_out * k_w columns) when they leave gaps (a 1x1 stride-2 conv skips every other)."""
        def used(out, k, stored):
            return min((out - 1) * self.stride + k if k >= self.stride else out * k, stored)
        return self.n * self.c_in * used(self.h_out, self.k_h, self.h_in) * used(self.w_out, self.k_w, self.w_in)

    @property
    def n_outputs(self) -> int:
        """Output activation elements for the whole batch."""
        return self.n * self.c_out * self.h_out * self.w_out

    def with_batch(self, n: int) -> "Layer":
        """The same layer at batch size `n`."""
        return replace(self, n=n)

    @property
    def shape_key(self) -> tuple:
        """Hashable key of everything that determines the layer's cost (the name excluded)."""
        return (self.kind, self.c_in, self.c_out, self.h_out, self.w_out, self.k_h, self.k_w, self.stride,
                self.groups, self.n, self.h_in, self.w_in)


def conv(name, c_in, c_out, h_out, w_out=None, k=3, stride=1, groups=1, h_in=0, w_in=0, n=1) -> Layer:
    """Convenience constructor for a square-kernel convolution (depthwise when groups == c_in == c_out > 1)."""
    kind = "dw" if groups > 1 and groups == c_in == c_out else "conv"
    return Layer(name, kind, c_in, c_out, h_out, h_out if w_out is None else w_out, k, k, stride, groups, n,
                 h_in, w_in)


def fc(name, c_in, c_out, n=1) -> Layer:
    """Convenience constructor for a fully-connected layer on a flat input of `c_in` features."""
    return Layer(name, "fc", c_in, c_out, 1, 1, 1, 1, 1, 1, n)


def total_macs(workload) -> int:
    """Sum of MACs over a list of layers."""
    return sum(layer.macs for layer in workload)


def with_chain_edges(workload) -> list[Layer]:
    """`workload` with every `inputs=None` made explicit: the previous layer's name (the first reads the input)."""
    out = []
    for position, layer in enumerate(workload):
        if layer.inputs is None:
            layer = replace(layer, inputs=(workload[position - 1].name,) if position else ())
        out.append(layer)
    return out


def readers(workload) -> tuple[tuple[tuple[int, ...], ...], tuple[tuple[int, ...], ...]]:
    """Who reads each layer's output: (input readers, residual readers) as tuples of layer indices per layer.

    Names that are not in `workload` (a sub-list of a network) are ignored. Memoised on the layers' names and
    edges (a search asks once per genome).

    Raises:
        WorkloadError: duplicate layer names, or a layer that reads itself.
    """
    return _readers(tuple((layer.name, layer.inputs, layer.residuals) for layer in workload))


@lru_cache(maxsize=64)
def _readers(edges: tuple) -> tuple:
    index = {}
    for position, (name, _, _) in enumerate(edges):
        if name in index:
            raise WorkloadError(f"layer name {name!r} appears twice; edges name layers, so names must be unique")
        index[name] = position
    input_readers = [[] for _ in edges]
    residual_readers = [[] for _ in edges]
    for position, (name, inputs, residuals) in enumerate(edges):
        if inputs is None:  # the previous layer (the first reads the network input)
            inputs = (edges[position - 1][0],) if position else ()
        for names, table in ((inputs, input_readers), (residuals, residual_readers)):
            for producer in names:
                if producer == name:
                    raise WorkloadError(f"layer {producer!r} lists itself as a producer")
                if producer in index:
                    table[index[producer]].append(position)
    return tuple(map(tuple, input_readers)), tuple(map(tuple, residual_readers))


_OUTPUT_BITS: dict = {}  # (edges, shape, BA bytes, b_max) -> output bits: a search asks again for each genome


def output_bits_matrix(workload, BA, b_max: int = 16) -> np.ndarray:
    """Output bitwidths of a population: int64 (n, n_layers) from input bitwidths `BA` (n, n_layers).

    See the module docstring for the rule; network outputs get `b_max`.

    Raises:
        WorkloadError: a cycle through residual edges, or names as in `readers`.
    """
    BA = np.atleast_2d(np.asarray(BA, dtype=np.int64))
    n_layers = len(workload)
    if BA.shape[1] != n_layers:
        raise WorkloadError(f"bits_a has {BA.shape[1]} layers, the workload {n_layers}")
    edges = tuple((layer.name, layer.inputs, layer.residuals) for layer in workload)
    key = (edges, BA.shape, BA.tobytes(), int(b_max))
    hit = _OUTPUT_BITS.get(key)
    if hit is None:
        if len(_OUTPUT_BITS) > 4096:
            _OUTPUT_BITS.clear()
        hit = _OUTPUT_BITS[key] = _solve_output_bits(edges, BA, b_max)
    return hit.copy()


def _solve_output_bits(edges, BA, b_max):
    input_readers, residual_readers = _readers(edges)
    n_layers = len(edges)
    out = np.zeros_like(BA)
    state = [0] * n_layers  # 0 = todo, 1 = in progress, 2 = done

    def solve(position: int) -> np.ndarray:
        if state[position] == 2:
            return out[:, position]
        if state[position] == 1:
            raise WorkloadError(f"residual edges form a cycle through layer {edges[position][0]!r}")
        state[position] = 1
        columns = [BA[:, r] for r in input_readers[position]]
        columns += [solve(r) for r in residual_readers[position]]
        out[:, position] = np.max(columns, axis=0) if columns else b_max
        state[position] = 2
        return out[:, position]

    for position in reversed(range(n_layers)):
        solve(position)
    return out


def output_bits(workload, bits_a, b_max: int = 16) -> list[int]:
    """Bitwidth (bits) each layer's output is written at, from the input bitwidths `bits_a` of its readers.

    Args:
        workload: list of `Layer` (edges in `inputs` / `residuals`; `inputs=None` = the previous layer).
        bits_a: one input bitwidth per layer (bits).
        b_max: width of a network output nobody reads (the PE word, 16 in every preset).

    Returns:
        list[int], one per layer: the max over its readers (b_a of input readers, output bitwidth of residual
        readers), b_max when nothing in the workload reads it.
    """
    return [int(b) for b in output_bits_matrix(workload, [list(bits_a)], b_max)[0]]
