"""Quantisers with straight-through estimators (DoReFa, WRPN, XNOR weights; PACT activations) and a module wrapper."""

from flowq.quant.functions import (MAX_BITS, binary_weight, dorefa_weight, pact_activation, quantize_unit,
                                   round_ste, signed_pact_activation, wrpn_weight)
from flowq.quant.modules import QuantConv2d, QuantLinear, layer_bits, quantizable_layers, quantize_model
from flowq.quant.quantizers import (ACTIVATION_QUANTIZERS, PACT, QUANTIZER_SCHEMES, WEIGHT_QUANTIZERS, WRPN, XNOR,
                                    DoReFa, DoReFaActivation, WRPNActivation, quantizer_scheme)

__all__ = ["MAX_BITS", "round_ste", "quantize_unit", "binary_weight", "dorefa_weight", "wrpn_weight",
           "pact_activation", "signed_pact_activation", "DoReFa", "WRPN", "XNOR", "PACT", "DoReFaActivation",
           "WRPNActivation", "QUANTIZER_SCHEMES", "quantizer_scheme", "WEIGHT_QUANTIZERS",
           "ACTIVATION_QUANTIZERS", "QuantConv2d", "QuantLinear", "quantize_model", "quantizable_layers", "layer_bits"]
