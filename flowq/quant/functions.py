"""Stateless quantisation functions with straight-through estimators (DoReFa, WRPN, XNOR, PACT).

Every function maps a float tensor to a tensor on a grid of at most 2^k levels and passes gradients straight
through the rounding (STE, Bengio et al. 2013): forward = quantised value, backward = gradient of the
un-rounded expression. Bitwidths are per tensor (benq III-B: per-tensor, symmetric weights).
"""

from __future__ import annotations

import torch

#: Bitwidths at or above this are quantised at exactly this many bits (a 16-bit grid is float-accurate here).
MAX_BITS = 16


def clamp_bits(bits: int) -> int:
    """Bitwidth actually used for `bits`: `bits` itself for 1..16, 16 for anything wider."""
    return min(int(bits), MAX_BITS)


def round_ste(x: torch.Tensor) -> torch.Tensor:
    """round(x) forward, identity gradient backward (straight-through estimator)."""
    return x + (torch.round(x) - x).detach()


def quantize_unit(x: torch.Tensor, bits: int) -> torch.Tensor:
    """Uniform k-bit quantiser on [0, 1]: round((2^k - 1) x) / (2^k - 1), STE gradient (DoReFa eq. 5).

    Args:
        x: values in [0, 1] (not clipped here).
        bits: k >= 1.
    """
    levels = 2 ** clamp_bits(bits) - 1
    return round_ste(x * levels) / levels


def binary_weight(w: torch.Tensor, per_filter: bool = False) -> torch.Tensor:
    """1-bit weights sign(w) * E|w|, STE through sign (DoReFa: one per-tensor scale).

    sign(0) is taken as +1 so that exactly two levels exist.

    Args:
        w: weights, (C_out, ...) for conv / linear.
        per_filter: XNOR-Net's scale: alpha_f = E|w_f| per output filter f (Rastegari et al. 2016, eq. 4) instead
            of one per tensor.
    """
    if per_filter and w.dim() > 1:
        scale = w.abs().mean(dim=tuple(range(1, w.dim())), keepdim=True).detach()
    else:
        scale = w.abs().mean().detach()
    sign = torch.where(w >= 0, torch.ones_like(w), -torch.ones_like(w))
    return w + (sign * scale - w).detach()


def dorefa_weight(w: torch.Tensor, bits: int) -> torch.Tensor:
    """DoReFa-Net weights (Zhou et al. 2016, eq. 9), rescaled to the tensor's own range.

    w_q = m * (2 * quantize_k(tanh(w) / (2 m) + 1/2) - 1) with m = max|tanh(w)|: the 2^k DoReFa levels
    {-1, -1 + 2/(2^k-1), ..., 1} times one per-tensor scale m. DoReFa itself stops at levels in [-1, 1];
    the extra factor m keeps a pretrained network's activation statistics (BatchNorm running stats, logit scale)
    and is a single scalar the hardware folds into the requantisation step. bits = 1 gives sign(w) * E|w|.

    Args:
        w: float weights, any shape.
        bits: k in 1..16 (wider is treated as 16).
    """
    if clamp_bits(bits) == 1:
        return binary_weight(w)
    t = torch.tanh(w)
    m = t.abs().max().detach().clamp_min(1e-8)
    return m * (2 * quantize_unit(t / (2 * m) + 0.5, bits) - 1)


def wrpn_weight(w: torch.Tensor, bits: int) -> torch.Tensor:
    """WRPN mid-tread weights (releq eq. 1): round((2^(k-1) - 1) w_f) / (2^(k-1) - 1), scaled per tensor.

    w_f = w / max|w| lies in [-1, 1] (the "scale and clip to (-1, 1)" step); k - 1 bits hold the magnitude and one
    the sign, so zero is a level and there are 2^k - 1 levels. bits = 1 has no magnitude bit and falls back to
    binary sign(w) * E|w|.
    """
    k = clamp_bits(bits)
    if k == 1:
        return binary_weight(w)
    scale = w.abs().max().detach().clamp_min(1e-8)
    levels = 2 ** (k - 1) - 1
    return scale * round_ste(w / scale * levels) / levels


def pact_activation(x: torch.Tensor, alpha: torch.Tensor, bits: int) -> torch.Tensor:
    """PACT (Choi et al. 2018, eq. 1-3): y = clip(x, 0, alpha), y_q = round(y (2^k-1)/alpha) alpha/(2^k-1).

    Gradients: dy_q/dx = 1 on 0 <= x < alpha (STE), dy_q/dalpha = 1 where x >= alpha (PACT eq. 3).

    Args:
        x: activations (normally after ReLU, so >= 0).
        alpha: learnable clipping level, a scalar tensor > 0.
        bits: k in 1..16.
    """
    # clip(x, 0, alpha) written so that autograd gives d/dalpha = 1 exactly where x >= alpha
    y = torch.relu(x) - torch.relu(x - alpha)
    levels = 2 ** clamp_bits(bits) - 1
    step = alpha / levels
    return y + (torch.round(y / step) * step - y).detach()


def signed_pact_activation(x: torch.Tensor, alpha: torch.Tensor, bits: int) -> torch.Tensor:
    """Symmetric PACT for signed inputs (normalised images, MobileNetV2's linear bottlenecks).

    y = clip(x, -alpha, alpha) on a mid-tread grid of 2^(k-1) - 1 levels per sign (zero is a level, as for WRPN
    weights); k = 1 gives alpha * sign(x). d/dalpha = sign(x) where |x| >= alpha, STE elsewhere.
    """
    y = torch.maximum(torch.minimum(x, alpha), -alpha)
    k = clamp_bits(bits)
    if k == 1:
        sign = torch.where(x >= 0, torch.ones_like(x), -torch.ones_like(x))
        return sign * alpha + (y - y.detach())
    levels = 2 ** (k - 1) - 1
    step = alpha / levels
    return y + (torch.round(y / step) * step - y).detach()
