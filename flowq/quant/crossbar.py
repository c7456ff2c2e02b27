"""Crossbar-aware conv / linear forward: bit-sliced weights and inputs, an r-bit ADC on every partial sum.

The functional side of `hwmodels.reram` (psum 2-4, its functional simulator): a quantised layer
(`QuantConv2d` / `QuantLinear`) computes y = sum_i w_i x_i on a crossbar as

    w = w_min + delta * q,  q in [0, 2^b_W)  (unsigned weight codes; DoReFa, WRPN and binary grids are uniform)
    x = s_x * (u - o),      u in [0, 2^b_A)  (unsigned input codes; o = 0 for PACT, the mid-level for signed PACT)
    sum_i q_i u_i = sum_{sw, sx} 2^(c sw) 2^(d sx) sum_chunks ADC( sum_{i in chunk} q_i[sw] u_i[sx] )

with q bit-sliced into `bits_per_cell` (c) bit cells, u into `dac_bits` (d) bit input slices, and the reduction
(im2col rows) cut into chunks of `rows` (the OU height, or the crossbar height when all rows are read at once).
Each chunk's column partial sum is what one ADC conversion sees; the rest of y (offset terms
delta*o*sum q, w_min*sum u, ...) is exact digital arithmetic. The r-bit ADC maps a partial sum p to
clamp(round(p / step), 0, 2^r - 1) * step. Clipping range, calibrated per layer on the calibration batch:
step = max(1, c / (2^r - 1)) with c the quantile of the layer's partial sums (50 % ... 100 %, `ADC_CLIP_QUANTILES`)
whose quantisation error is smallest (MSE); when
2^r - 1 >= rows * (2^d - 1) * (2^c - 1) (every possible partial sum, `lossless_adc_bits`) the ADC is the identity
and the forward equals the plain quantised one. Backward is a straight-through estimator: the gradient is that of
the plain quantised layer (y = y_plain + (y_crossbar - y_plain).detach()), so a crossbar network fine-tunes.

Vectorised: inputs are unfolded once (im2col), and each input slice is one batched matmul of all weight slices
against all chunks.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Sequence

import torch
import torch.nn.functional as F
from torch import nn

from flowq.errors import GenomeError
from flowq.quant.modules import QuantConv2d, QuantLinear, _forward_order
from flowq.quant.quantizers import PACT, WRPN, XNOR, DoReFa

#: candidate clipping levels of a layer's ADC: these quantiles of its calibration partial sums (`adc_step`)
ADC_CLIP_QUANTILES = (0.5, 0.75, 0.9, 0.95, 0.99, 0.999, 1.0)
#: lossless layers skip the slice-by-slice computation (identical result, tests switch it off to prove it)
EXACT_SHORTCUT = True


@dataclass(frozen=True)
class CrossbarConfig:
    """How a layer is computed on crossbars (from a `hwmodels.reram.ReRAMSpec` via `from_spec`).

    Attributes:
        rows: reduction rows summed into one ADC conversion (OU height, or crossbar height).
        bits_per_cell: weight bits per cell (c).
        dac_bits: input bits per slice (d).
        adc_bits: ADC resolution per layer (tuple, forward order), one int for every layer, or None = lossless.
    """

    rows: int = 128
    bits_per_cell: int = 1
    dac_bits: int = 1
    adc_bits: tuple | int | None = None

    def __post_init__(self):
        for name in ("rows", "bits_per_cell", "dac_bits"):
            value = getattr(self, name)
            if isinstance(value, bool) or int(value) != value or value < 1:
                raise GenomeError(f"crossbar {name}={value!r}; allowed: an integer >= 1")
        if self.adc_bits is not None and not isinstance(self.adc_bits, int):
            object.__setattr__(self, "adc_bits", tuple(int(r) for r in self.adc_bits))
        bad = [r for r in self._adc_list(None) if r is not None and r < 1]
        if bad:
            raise GenomeError(f"adc_bits {bad}: ADC resolutions are integers >= 1")

    @classmethod
    def from_spec(cls, spec, adc_bits=None) -> "CrossbarConfig":
        """Config of a `ReRAMSpec` (OU height, cell and DAC bits) with per-layer ADC bits."""
        return cls(spec.ou_rows_eff, spec.bits_per_cell, spec.dac_bits, adc_bits)

    @property
    def lossless_adc_bits(self) -> int:
        """ceil(log2(rows * (2^d - 1) * (2^c - 1) + 1)): every partial sum of a full chunk converts exactly."""
        largest = self.rows * (2 ** self.dac_bits - 1) * (2 ** self.bits_per_cell - 1)
        return int(math.ceil(math.log2(largest + 1)))

    def with_adc(self, adc_bits) -> "CrossbarConfig":
        """The same crossbar with other ADC bits."""
        return CrossbarConfig(self.rows, self.bits_per_cell, self.dac_bits, adc_bits)

    def _adc_list(self, n_layers: int | None) -> list:
        if self.adc_bits is None or isinstance(self.adc_bits, int):
            return [self.adc_bits] * (n_layers or 1)
        if n_layers is not None and len(self.adc_bits) != n_layers:
            raise GenomeError(f"adc_bits has {len(self.adc_bits)} entries; the model has {n_layers} conv/linear "
                              f"layers, give one ADC resolution per layer in forward order")
        return list(self.adc_bits)

    def key(self) -> dict:
        """Plain-JSON identity (cache keys)."""
        adc = self.adc_bits if self.adc_bits is None or isinstance(self.adc_bits, int) else list(self.adc_bits)
        return {"rows": self.rows, "bits_per_cell": self.bits_per_cell, "dac_bits": self.dac_bits, "adc_bits": adc}


# ---- integer grids of the quantisers ------------------------------------------------------------------------

def weight_grid(module: nn.Module) -> tuple:
    """(w_q, w_min, delta, codes, bits): the layer's quantised weights as w_min + delta * codes, codes in [0, 2^bits).

    Raises:
        GenomeError: a weight quantiser without a uniform grid the crossbar can store.
    """
    quantizer, w = module.weight_quantizer, module.weight
    w_q = quantizer(w)
    bits = int(min(quantizer.bits, 16))
    with torch.no_grad():
        if isinstance(quantizer, XNOR) or (isinstance(quantizer, (DoReFa, WRPN)) and bits == 1):
            scale = w.abs().mean()
            w_min, delta, bits = -scale, 2 * scale, 1
        elif isinstance(quantizer, DoReFa):   # m * (2 q / (2^k - 1) - 1)
            m = torch.tanh(w).abs().max().clamp_min(1e-8)
            w_min, delta = -m, 2 * m / (2 ** bits - 1)
        elif isinstance(quantizer, WRPN):     # scale * j / (2^(k-1) - 1), j in [-(2^(k-1)-1), 2^(k-1)-1]
            scale = w.abs().max().clamp_min(1e-8)
            w_min, delta = -scale, scale / (2 ** (bits - 1) - 1)
        else:
            raise GenomeError(f"weight quantiser {type(quantizer).__name__} has no crossbar grid; use dorefa, "
                              f"wrpn or xnor")
        codes = torch.round((w_q.detach() - w_min) / delta).clamp_(0, 2 ** bits - 1)
    return w_q, w_min, delta, codes, bits


def input_grid(quantizer: nn.Module, x: torch.Tensor) -> tuple:
    """(x_q, s_x, offset, bits): PACT output as s_x * (u - offset), u = x_q / s_x + offset in [0, 2^bits)."""
    if not isinstance(quantizer, PACT):
        raise GenomeError(f"activation quantiser {type(quantizer).__name__} has no crossbar grid; use pact")
    x_q = quantizer(x)
    bits = int(min(quantizer.bits, 16))
    alpha = quantizer.alpha.detach().abs().clamp_min(1e-4)
    if not quantizer.signed:
        return x_q, alpha / (2 ** bits - 1), 0.0, bits
    if bits == 1:                                   # alpha * sign(x): u in {0, 1}
        return x_q, 2 * alpha, 0.5, 1
    half = 2 ** (bits - 1) - 1                      # symmetric mid-tread grid, u in [0, 2^bits - 2]
    return x_q, alpha / half, float(half), bits


def _slices(codes: torch.Tensor, bits: int, width: int) -> list:
    """Bit slices of non-negative integer codes, least significant first: (codes >> (width k)) & (2^width - 1)."""
    codes = codes.to(torch.int32)
    mask = 2 ** width - 1
    return [((codes >> (width * k)) & mask) for k in range(-(-bits // width))]


# ---- the crossbar matmul --------------------------------------------------------------------------------------

def crossbar_dot(u_slices: list, q: torch.Tensor, q_bits: int, rows: int, bits_per_cell: int, dac_bits: int,
                 adc_bits: int | None, step: float, collect: list | None = None) -> tuple:
    """sum_r q[m, r] u[n, r, l] computed slice by slice with an ADC on every chunk's partial sum.

    Args:
        u_slices: input slices, least significant first, each (n, R, L) with integer values in [0, 2^dac_bits).
        q: weight codes (M, R), integers in [0, 2^q_bits).
        rows: chunk height (rows per conversion).
        adc_bits: resolution r, or None for an exact (lossless) ADC.
        step: ADC step in partial-sum units (>= 1).
        collect: when a list, the partial sums are appended to it (calibration) and the ADC is skipped.

    Returns:
        (dot (n, M, L), sum_u (n, 1, L)): the integer dot products after the ADCs, and sum_r u[n, r, l] (exact).
    """
    n, R, L = u_slices[0].shape
    M = q.shape[0]
    dtype = u_slices[0].dtype
    w_slices = _slices(q, q_bits, bits_per_cell)
    Sw = len(w_slices)
    W = torch.stack(w_slices).to(dtype).reshape(Sw * M, R)                    # (Sw*M, R)
    w_scale = torch.tensor([2.0 ** (bits_per_cell * k) for k in range(Sw)], dtype=dtype,
                           device=q.device).view(1, Sw, 1, 1)
    levels = None if adc_bits is None else 2 ** int(adc_bits) - 1
    chunk = min(rows, R)
    # full chunks in one batched matmul, the remainder (R mod chunk rows) in a second one: no zero padding
    parts = [(0, (R // chunk) * chunk, chunk)]
    if R % chunk:
        parts.append((parts[0][1], R, R % chunk))
    out = torch.zeros(n, M, L, dtype=dtype, device=q.device)
    sum_u = torch.zeros(n, 1, L, dtype=dtype, device=q.device)
    for k, x in enumerate(u_slices):
        sum_u += (2.0 ** (dac_bits * k)) * x.sum(1, keepdim=True)
        y = torch.zeros(n, Sw * M, L, dtype=dtype, device=q.device)
        for start, stop, size in parts:
            K = (stop - start) // size
            w = W[:, start:stop].reshape(Sw * M, K, size).transpose(0, 1).unsqueeze(1)   # (K, 1, Sw*M, size)
            xs = x[:, start:stop].reshape(n, K, size, L).transpose(0, 1)                 # (K, n, size, L)
            psum = torch.matmul(w, xs)                                                   # (K, n, Sw*M, L)
            if collect is not None:
                collect.append(psum.flatten())
            elif levels is not None:
                psum = psum.div_(step).round_().clamp_(0, levels).mul_(step)
            y += psum.sum(0)
        out += (2.0 ** (dac_bits * k)) * (y.view(n, Sw, M, L) * w_scale).sum(1)
    return out, sum_u


class _CrossbarMixin:
    """Shared forward of `CrossbarConv2d` / `CrossbarLinear` (attributes set by `crossbar_model`)."""

    crossbar: CrossbarConfig   # per-layer: adc_bits an int or None
    adc_step: float
    _collect: list | None

    def _patches(self, u: torch.Tensor, offset: float) -> torch.Tensor:
        raise NotImplementedError

    def _fold(self, y: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
        raise NotImplementedError

    def _crossbar_forward(self, x: torch.Tensor, plain) -> torch.Tensor:
        x_q, s_x, offset, a_bits = input_grid(self.act_quantizer, x)
        w_q, w_min, delta, codes, w_bits = weight_grid(self)
        y_plain = plain(x_q, w_q)
        cfg = self.crossbar
        with torch.no_grad():
            u = torch.round(x_q.detach() / s_x + offset).clamp_(0, 2 ** a_bits - 1)
            groups = getattr(self, "groups", 1)
            q = codes.reshape(codes.shape[0], -1)                               # (C_out, R)
            M, R = q.shape[0] // groups, q.shape[1]
            exact = self.adc_lossless and EXACT_SHORTCUT and self._collect is None
            if exact:
                # exact ADCs: the sum of exact chunk partial sums is the plain integer dot product (tests prove
                # both paths equal), so skip the slices
                patches = [self._patches(u, offset)]
            else:  # slice before unfolding (K_h K_w times fewer elements); padding holds code `offset` (= 0)
                pad_slices = _slices(torch.full((1,), offset), a_bits, cfg.dac_bits)
                patches = [self._patches(s.to(x_q.dtype), float(p)) for s, p in
                           zip(_slices(u, a_bits, cfg.dac_bits), pad_slices)]  # each (n, C_in K_h K_w, L)
            outs = []
            for g in range(groups):
                q_g = q[g * M:(g + 1) * M]
                u_g = [p[:, g * R:(g + 1) * R] for p in patches]
                if exact:
                    dot, sum_u = torch.matmul(q_g.to(u_g[0].dtype), u_g[0]), u_g[0].sum(1, keepdim=True)
                else:
                    dot, sum_u = crossbar_dot(u_g, q_g, w_bits, cfg.rows, cfg.bits_per_cell, cfg.dac_bits,
                                              None if self.adc_lossless else cfg.adc_bits, self.adc_step,
                                              self._collect)
                sum_q = q_g.sum(1).to(dot.dtype).view(1, -1, 1)                 # (1, M, 1)
                y = delta * (dot - offset * sum_q) + w_min * (sum_u - offset * R)
                outs.append(s_x * y)
            y = self._fold(torch.cat(outs, 1).to(x_q.dtype), x)
            if self.bias is not None:
                y = y + self.bias.detach().view(1, -1, *([1] * (y.dim() - 2)))
        return y_plain + (y - y_plain).detach()

    @property
    def adc_lossless(self) -> bool:
        """True when the ADC converts every partial sum exactly (no resolution or enough bits)."""
        r = self.crossbar.adc_bits
        return r is None or r >= self.crossbar.lossless_adc_bits


class CrossbarConv2d(_CrossbarMixin, QuantConv2d):
    """`QuantConv2d` computed on crossbars (module docstring); still an nn.Conv2d."""

    def _patches(self, u, offset):
        if any(self.padding) if isinstance(self.padding, tuple) else self.padding:
            ph, pw = self.padding
            u = F.pad(u, (pw, pw, ph, ph), value=offset)
        if tuple(self.dilation) != (1, 1):
            return F.unfold(u, self.kernel_size, dilation=self.dilation, stride=self.stride)
        # im2col as a strided view + one copy: (n, C, Ho, Wo, kh, kw) -> (n, C kh kw, Ho Wo), F.unfold's order
        (kh, kw), (sh, sw) = self.kernel_size, self.stride
        view = u.unfold(2, kh, sh).unfold(3, kw, sw)
        n, c, ho, wo = view.shape[:4]
        return view.permute(0, 1, 4, 5, 2, 3).reshape(n, c * kh * kw, ho * wo)

    def _fold(self, y, x):
        h = (x.shape[2] + 2 * self.padding[0] - self.dilation[0] * (self.kernel_size[0] - 1) - 1) // self.stride[0] + 1
        w = (x.shape[3] + 2 * self.padding[1] - self.dilation[1] * (self.kernel_size[1] - 1) - 1) // self.stride[1] + 1
        return y.view(y.shape[0], y.shape[1], h, w)

    def forward(self, x):
        return self._crossbar_forward(x, lambda x_q, w_q: self._conv_forward(x_q, w_q, self.bias))


class CrossbarLinear(_CrossbarMixin, QuantLinear):
    """`QuantLinear` computed on crossbars (module docstring); still an nn.Linear."""

    def _patches(self, u, offset):
        return u.reshape(-1, u.shape[-1], 1)

    def _fold(self, y, x):
        return y.reshape(*x.shape[:-1], y.shape[1])

    def forward(self, x):
        return self._crossbar_forward(x, lambda x_q, w_q: F.linear(x_q, w_q, self.bias))


@torch.no_grad()
def _calibrate(model: nn.Module, layers: list, example_input: torch.Tensor) -> None:
    for module in layers:
        module._collect = [] if not module.adc_lossless else None
    was_training = model.training
    model.eval()
    try:
        model(example_input)
    finally:
        model.train(was_training)
    for module in layers:
        if module._collect:
            values = torch.cat(module._collect).float()
            values = values[:: values.numel() // 200_000 + 1].cpu()
            module.adc_step = adc_step(values, module.crossbar.adc_bits)
        module._collect = None


def adc_step(psums: torch.Tensor, adc_bits: int) -> float:
    """ADC step (partial-sum units) for a layer: the clipping level among the `ADC_CLIP_QUANTILES` of its
    calibration partial sums whose r-bit quantisation has the least squared error; step >= 1 (integer psums)."""
    levels = 2 ** int(adc_bits) - 1
    sorted_values = torch.sort(psums).values
    best, best_step = float("inf"), 1.0
    for quantile in ADC_CLIP_QUANTILES:
        clip = float(sorted_values[min(len(sorted_values) - 1, int(quantile * len(sorted_values)))])
        step = max(1.0, clip / levels)
        error = float(((torch.clamp(torch.round(psums / step), 0, levels) * step - psums) ** 2).mean())
        if error < best:
            best, best_step = error, step
    return best_step


def crossbar_model(model: nn.Module, config: CrossbarConfig, example_input: torch.Tensor | None = None) -> nn.Module:
    """Turn every `QuantConv2d` / `QuantLinear` of a quantised model (in place) into its crossbar twin.

    Args:
        model: output of `flowq.quant.quantize_model`.
        config: crossbar geometry and per-layer ADC bits (forward order; None = lossless).
        example_input: calibration batch for the ADC clipping ranges (needed unless every ADC is lossless); it
            also fixes the forward order of the layers (else registration order).

    Returns:
        `model` itself.

    Raises:
        GenomeError: wrong number of ADC resolutions, a quantiser without an integer grid, or a lossy ADC without
            calibration data.
    """
    modules = {name: m for name, m in model.named_modules() if isinstance(m, (QuantConv2d, QuantLinear))}
    if example_input is not None:
        order = [name for name in _forward_order(model, example_input)[0] if name in modules]
    else:
        order = list(modules)
    adc = config._adc_list(len(order))
    layers = []
    for name, r in zip(order, adc):
        module = modules[name]
        module.__class__ = CrossbarConv2d if isinstance(module, nn.Conv2d) else CrossbarLinear
        module.crossbar = CrossbarConfig(config.rows, config.bits_per_cell, config.dac_bits, r)
        module.adc_step = 1.0
        module._collect = None
        layers.append(module)
    if any(not m.adc_lossless for m in layers):
        if example_input is None:
            raise GenomeError("a lossy ADC needs calibration data: pass example_input (a batch of real inputs)")
        _calibrate(model, layers, example_input)
    return model


def crossbar_layers(model: nn.Module) -> list:
    """(name, module) of every crossbar layer."""
    return [(n, m) for n, m in model.named_modules() if isinstance(m, (CrossbarConv2d, CrossbarLinear))]


def signed_weight_codes(module: nn.Module) -> torch.Tensor:
    """Sign-magnitude integer weights of a quantised layer (for `hwmodels.reram.block_precision_table`):
    w_q / step rounded, step = the grid's spacing (DoReFa's odd codes 2q - (2^k - 1), WRPN's j)."""
    w_q, w_min, delta, codes, bits = weight_grid(module)
    with torch.no_grad():
        if isinstance(module.weight_quantizer, WRPN) and bits > 1:
            return (codes - (2 ** (bits - 1) - 1)).to(torch.int64)
        return (2 * codes - (2 ** bits - 1)).to(torch.int64)


def adc_bits_per_layer(model: nn.Module) -> Sequence:
    """ADC bits of each crossbar layer (None = lossless), registration order."""
    return [m.crossbar.adc_bits for _, m in crossbar_layers(model)]
