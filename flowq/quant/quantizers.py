"""Quantiser modules (one per tensor) and the name registries that the module wrapper picks them from."""

from __future__ import annotations

import torch
from torch import nn

from flowq.errors import GenomeError
from flowq.quant import functions as qf

#: PACT's clipping-level initialisation when no calibration data is given (PACT paper, Sec. 3: alpha = 10).
PACT_ALPHA_INIT = 10.0


def check_bits(bits, what: str = "bits") -> int:
    """Validate one bitwidth (an integer >= 1; >= 16 is quantised at 16 bits) and return it as int."""
    if isinstance(bits, bool) or not float(bits).is_integer() or int(bits) < 1:
        raise GenomeError(f"{what}={bits!r} is not a bitwidth; allowed: integers >= 1 (>= 16 is quantised at "
                          f"16 bits)")
    return int(bits)


class WeightQuantizer(nn.Module):
    """Base of the weight quantisers: holds the bitwidth (bits), quantises a whole tensor per tensor."""

    def __init__(self, bits: int = 8):
        super().__init__()
        self.bits = check_bits(bits)

    @torch.no_grad()
    def match_float_(self, w: torch.Tensor) -> None:
        """Rewrite latent weights `w` in place so that the quantiser's un-rounded output is the float `w`.

        Identity for linear quantisers; DoReFa overrides it (its tanh would otherwise distort pretrained weights).
        """

    def extra_repr(self) -> str:
        return f"bits={self.bits}"


class DoReFa(WeightQuantizer):
    """DoReFa-Net weights, tanh-normalised, 2^k levels rescaled per tensor (see `functions.dorefa_weight`)."""

    def forward(self, w: torch.Tensor) -> torch.Tensor:
        return qf.dorefa_weight(w, self.bits)

    @torch.no_grad()
    def match_float_(self, w: torch.Tensor) -> None:
        """Latent weights atanh(w) (|w| clipped to 0.999), so tanh(latent) = w: a pretrained network keeps its
        weights at high bitwidths instead of their tanh, and fine-tuning starts from the float function."""
        if self.bits > 1:
            w.copy_(torch.atanh(w.clamp(-0.999, 0.999)))


class WRPN(WeightQuantizer):
    """WRPN mid-tread weights, 2^k - 1 levels including zero (releq 4.2, `functions.wrpn_weight`)."""

    def forward(self, w: torch.Tensor) -> torch.Tensor:
        return qf.wrpn_weight(w, self.bits)


class XNOR(DoReFa):
    """XNOR-Net weights (hw-flowq 6.5 adds 1-bit XNOR to Spatial-256): at 1 bit sign(w) * alpha_f with
    XNOR-Net's per-output-filter scale alpha_f = E|w_f|; a layer the genome gives more bits (e.g. the first and
    last layers, fixed at 16 bits as in hw-flowq 6) keeps a k-bit DoReFa grid instead of being binarised."""

    def forward(self, w: torch.Tensor) -> torch.Tensor:
        if self.bits == 1:
            return qf.binary_weight(w, per_filter=True)
        return qf.dorefa_weight(w, self.bits)


class Binary(WeightQuantizer):
    """sign(w) * E|w| (one per-tensor scale) whatever `bits` says: a fully binary network, first/last included."""

    def forward(self, w: torch.Tensor) -> torch.Tensor:
        return qf.binary_weight(w)


class PACT(nn.Module):
    """PACT activation quantiser with a learnable clipping level alpha (Choi et al. 2018).

    Args:
        bits: activation bitwidth k >= 1.
        alpha: initial clipping level (> 0); calibrate it from data with `calibrate` before fine-tuning a
            pretrained network, or keep PACT's default 10 when training from scratch.
        signed: clip to [-alpha, alpha] on a symmetric mid-tread grid instead of [0, alpha]; used for inputs that
            can be negative (the normalised image at the first layer, linear bottlenecks).
    """

    def __init__(self, bits: int = 8, alpha: float = PACT_ALPHA_INIT, signed: bool = False):
        super().__init__()
        self.bits = check_bits(bits)
        self.signed = bool(signed)
        self.alpha = nn.Parameter(torch.tensor(float(alpha)))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        alpha = self.alpha.abs().clamp_min(1e-4)  # keeps the grid valid if SGD pushes alpha through zero
        if self.signed:
            return qf.signed_pact_activation(x, alpha, self.bits)
        return qf.pact_activation(x, alpha, self.bits)

    @torch.no_grad()
    def calibrate(self, x: torch.Tensor, quantile: float | None = None) -> None:
        """Set alpha from the float input x: its maximum (of |x| when signed) at >= 8 bits, where the grid is fine
        enough that clipping costs more than rounding, else its 0.999 quantile (a robust maximum)."""
        if quantile is None:
            quantile = 1.0 if self.bits >= 8 else 0.999
        values = (x.abs() if self.signed else x.clamp_min(0)).flatten().float()
        if quantile >= 1.0:
            level = float(values.max())
        else:  # a strided sample of <= 200k values estimates the quantile well and keeps calibration cheap
            values = values[:: values.numel() // 200_000 + 1]
            level = float(torch.kthvalue(values.cpu(), max(1, int(round(quantile * values.numel())))).values)
        self.alpha.fill_(max(level, 1e-3))

    def extra_repr(self) -> str:
        return f"bits={self.bits}, signed={self.signed}"


class ClippedActivation(nn.Module):
    """k-bit activations on a FIXED clipping range [0, clip] (DoReFa-Net eq. 10 and WRPN: clip to [0, 1], then
    the uniform k-bit grid round((2^k - 1) y) / (2^k - 1)); unlike PACT, clip is not learned.

    The papers clip at 1; `calibrate` sets clip from data instead (the float input's maximum, or its 0.999
    quantile below 8 bits), since a pretrained network with BatchNorm has activations well above 1. Signed inputs
    (the normalised image) use the symmetric mid-tread grid of 2^(k-1) - 1 levels per sign.

    Args:
        bits: k >= 1.
        signed: symmetric [-clip, clip] grid.
        clip: clipping level (> 0), 1 as in DoReFa / WRPN until calibrated.
    """

    def __init__(self, bits: int = 8, signed: bool = False, clip: float = 1.0):
        super().__init__()
        self.bits = check_bits(bits)
        self.signed = bool(signed)
        self.register_buffer("clip", torch.tensor(float(clip)))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.signed:
            return qf.signed_pact_activation(x, self.clip, self.bits)
        return qf.pact_activation(x, self.clip, self.bits)  # = clip * quantize_k(clip(x / clip, 0, 1))

    @torch.no_grad()
    def calibrate(self, x: torch.Tensor, quantile: float | None = None) -> None:
        """Set clip from the float input x (see `PACT.calibrate`)."""
        probe = PACT(self.bits, signed=self.signed)
        probe.calibrate(x, quantile)
        self.clip.fill_(float(probe.alpha))

    def extra_repr(self) -> str:
        return f"bits={self.bits}, signed={self.signed}, clip={float(self.clip):.4g}"


class DoReFaActivation(ClippedActivation):
    """DoReFa-Net activations: quantize_k(clip(x, 0, clip)) (eq. 10, clip = 1 in the paper)."""


class WRPNActivation(ClippedActivation):
    """WRPN activations: k-bit unsigned on [0, clip] (clip = 1 in the paper); zero is a level of every grid."""


#: Weight-quantiser registry (benq III-B: PACT or DoReFa; releq 4.2: WRPN; hw-flowq 6.5: XNOR).
WEIGHT_QUANTIZERS: dict[str, type[WeightQuantizer]] = {"dorefa": DoReFa, "wrpn": WRPN, "xnor": XNOR,
                                                         "binary": Binary}
#: Activation-quantiser registry.
ACTIVATION_QUANTIZERS: dict[str, type[nn.Module]] = {"pact": PACT, "dorefa": DoReFaActivation,
                                                     "wrpn": WRPNActivation}
#: `--quantizer` schemes: name -> (weight quantiser, activation quantiser). PACT's paper quantises weights with
#: DoReFa; XNOR binarises 1-bit layers (per-filter scale) and keeps PACT activations at the genome's b_A.
QUANTIZER_SCHEMES: dict[str, tuple[str, str]] = {"pact": ("dorefa", "pact"), "dorefa": ("dorefa", "dorefa"),
                                                 "wrpn": ("wrpn", "wrpn"), "xnor": ("xnor", "pact")}


def quantizer_scheme(name: str) -> tuple[str, str]:
    """(weight quantiser, activation quantiser) of a `--quantizer` name (GenomeError for an unknown one)."""
    if name not in QUANTIZER_SCHEMES:
        raise GenomeError(f"quantizer {name!r}; allowed: {', '.join(QUANTIZER_SCHEMES)}")
    return QUANTIZER_SCHEMES[name]
