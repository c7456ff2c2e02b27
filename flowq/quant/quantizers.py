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


class XNOR(WeightQuantizer):
    """Binary (XNOR-Net) weights sign(w) * E|w| whatever `bits` says (hw-flowq 6.5 adds 1-bit XNOR)."""

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


#: Weight-quantiser registry (benq III-B: PACT or DoReFa; releq 4.2: WRPN; hw-flowq 6.5: XNOR).
WEIGHT_QUANTIZERS: dict[str, type[WeightQuantizer]] = {"dorefa": DoReFa, "wrpn": WRPN, "xnor": XNOR,
                                                         "binary": XNOR}
#: Activation-quantiser registry.
ACTIVATION_QUANTIZERS: dict[str, type[nn.Module]] = {"pact": PACT}
