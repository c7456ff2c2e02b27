"""Quantised Conv2d / Linear layers and `quantize_model`, which swaps them into any nn.Module from a genome."""

from __future__ import annotations

from typing import Sequence

import torch
import torch.nn.functional as F
from torch import nn

from flowq.errors import GenomeError
from flowq.quant.quantizers import ACTIVATION_QUANTIZERS, WEIGHT_QUANTIZERS, check_bits


class QuantConv2d(nn.Conv2d):
    """nn.Conv2d whose input goes through `act_quantizer` and whose weight goes through `weight_quantizer`.

    A subclass (not a wrapper) so that module names and `isinstance(m, nn.Conv2d)` stay what they were: the
    workload extracted from a quantised network is the float network's. The bias stays float (it is folded into
    the requantisation on hardware).
    """

    weight_quantizer: nn.Module
    act_quantizer: nn.Module

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self._conv_forward(self.act_quantizer(x), self.weight_quantizer(self.weight), self.bias)


class QuantLinear(nn.Linear):
    """nn.Linear with quantised input activations and weights (see `QuantConv2d`)."""

    weight_quantizer: nn.Module
    act_quantizer: nn.Module

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.linear(self.act_quantizer(x), self.weight_quantizer(self.weight), self.bias)


def quantizable_layers(model: nn.Module) -> list[tuple[str, nn.Module]]:
    """(name, module) of every nn.Conv2d / nn.Linear in registration order (= forward order for FlowQ's models).

    `flowq.models.workload_of` orders layers by forward execution; for every model in `flowq.models` the two
    orders agree, which `quantize_model` checks when it is given an example input.
    """
    return [(name, m) for name, m in model.named_modules() if isinstance(m, (nn.Conv2d, nn.Linear))]


def _per_layer(bits: Sequence[int] | int, n_layers: int, what: str) -> list[int]:
    values = [bits] * n_layers if isinstance(bits, (int,)) and not isinstance(bits, bool) else list(bits)
    if len(values) != n_layers:
        raise GenomeError(f"{what} has {len(values)} entries but the model has {n_layers} conv/linear layers; give "
                          f"one bitwidth per layer in forward order")
    return [check_bits(b, f"{what}[{i}]") for i, b in enumerate(values)]


def _forward_order(model: nn.Module, example_input: torch.Tensor) -> tuple[list[str], dict[str, torch.Tensor]]:
    """Names of conv/linear modules in the order they run, and each one's first input (calibration data)."""
    order, inputs, handles = [], {}, []
    for name, module in quantizable_layers(model):
        def hook(mod, args, _name=name):
            if _name not in inputs:
                order.append(_name)
                inputs[_name] = args[0].detach()
        handles.append(module.register_forward_pre_hook(hook))
    was_training = model.training
    try:
        model.eval()
        with torch.no_grad():
            model(example_input)
    finally:
        model.train(was_training)
        for handle in handles:
            handle.remove()
    return order, inputs


def quantize_model(model: nn.Module, bits_w: Sequence[int] | int, bits_a: Sequence[int] | int, *,
                   weight_quantizer: str = "dorefa", act_quantizer: str = "pact",
                   first_last_bits: int | None = None, example_input: torch.Tensor | None = None,
                   match_float: bool = True) -> nn.Module:
    """Replace every Conv2d / Linear of `model` (in place) by its quantised twin, bitwidths from a genome.

    Args:
        model: any nn.Module; its parameters are shared, not copied (deep-copy first to keep a float model).
        bits_w: weight bitwidth per conv/linear layer in forward order (or one int for all), bits.
        bits_a: bitwidth of each layer's INPUT activation (FlowQ genome contract), bits. The first layer's input
            is the normalised image, which is signed: it gets a symmetric PACT grid (2^(k-1) - 1 levels per sign,
            alpha calibrated to the image's range), so 8 bits there means an 8-bit signed pixel.
        weight_quantizer: key of `WEIGHT_QUANTIZERS` ("dorefa", "wrpn", "xnor", "binary").
        act_quantizer: key of `ACTIVATION_QUANTIZERS` ("pact", "dorefa", "wrpn").
        first_last_bits: if set, the first and last layers' weights and inputs use this bitwidth whatever the
            genome says (benq III-B: 8; hw-flowq 6: 16). None keeps the genome's values.
        example_input: a batch of real inputs; when given, the layers' forward order is taken from it, each PACT
            alpha is calibrated to its layer's input (0.999 quantile), and inputs with negative values get signed
            PACT. Without it, registration order is used, alpha = 10, and only the first layer is signed.
        match_float: rewrite latent weights so the un-rounded quantiser output equals the float weights (matters
            for DoReFa, whose tanh would otherwise change a pretrained network even at 16 bits); False keeps them.

    Returns:
        `model` itself, now quantised.

    Raises:
        GenomeError: wrong genome length, a bitwidth < 1, or an unknown quantiser name.
    """
    if weight_quantizer not in WEIGHT_QUANTIZERS:
        raise GenomeError(f"weight_quantizer={weight_quantizer!r}; allowed: {', '.join(WEIGHT_QUANTIZERS)}")
    if act_quantizer not in ACTIVATION_QUANTIZERS:
        raise GenomeError(f"act_quantizer={act_quantizer!r}; allowed: {', '.join(ACTIVATION_QUANTIZERS)}")
    modules = dict(quantizable_layers(model))
    if example_input is not None:
        order, inputs = _forward_order(model, example_input)
    else:
        order, inputs = list(modules), {}
    n_layers = len(order)
    bw, ba = _per_layer(bits_w, n_layers, "bits_w"), _per_layer(bits_a, n_layers, "bits_a")
    if first_last_bits is not None:
        fixed = check_bits(first_last_bits, "first_last_bits")
        bw[0] = bw[-1] = ba[0] = ba[-1] = fixed
    for index, name in enumerate(order):
        module = modules[name]
        if inputs:
            signed = bool((inputs[name] < 0).any())
        else:
            signed = index == 0
        act_q = ACTIVATION_QUANTIZERS[act_quantizer](bits=ba[index], signed=signed)
        if name in inputs and hasattr(act_q, "calibrate"):
            act_q.calibrate(inputs[name])
        act_q.to(module.weight.device)
        module.__class__ = QuantConv2d if isinstance(module, nn.Conv2d) else QuantLinear
        module.weight_quantizer = WEIGHT_QUANTIZERS[weight_quantizer](bits=bw[index])
        if match_float:
            module.weight_quantizer.match_float_(module.weight)
        module.act_quantizer = act_q
    return model


def layer_bits(model: nn.Module) -> list[tuple[str, int, int]]:
    """(name, weight bits, input-activation bits) of every quantised layer, in registration order."""
    return [(name, m.weight_quantizer.bits, m.act_quantizer.bits) for name, m in model.named_modules()
            if isinstance(m, (QuantConv2d, QuantLinear))]
