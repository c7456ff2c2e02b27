"""CNN workload description: one `Layer` per conv / depthwise conv / fully-connected layer.

Glossary (hw-flowq eq. 2 notation, ASCII):
    n        batch size (frames processed together)
    c_in     input channels  (C_i)       c_out   output channels (C_o)
    h_out    output height   (H_o)       w_out   output width    (W_o)
    h_in     input height    (H_i)       w_in    input width     (W_i)  -- as stored in memory (unpadded)
    k_h      kernel height   (K_h)       k_w     kernel width    (K_w)
    stride   s                           groups  channel groups (c_in for depthwise)
    kind     "conv" | "dw" | "fc"
    b_w, b_a weight / input-activation bitwidth of a layer (bits); the output of layer l is written at b_a of l+1
A fully-connected layer is a conv with h_out = w_out = 1 and k_h, k_w equal to its input's spatial size
(k_h = k_w = 1 for a flat input).
"""

from __future__ import annotations

from dataclasses import dataclass, replace

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

    def __post_init__(self):
        problems = []
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
