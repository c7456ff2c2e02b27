"""Quantisers: exact levels on small tensors (derived by hand), STE gradients, PACT alpha gradient, the wrapper."""

import math

import pytest
import torch
from torch import nn

from flowq.errors import GenomeError
from flowq.models import build_model
from flowq.quant import (PACT, QuantConv2d, QuantLinear, binary_weight, dorefa_weight, layer_bits, pact_activation,
                         quantize_model, signed_pact_activation, wrpn_weight)


def close(a, b, tol=1e-6):
    return torch.allclose(torch.as_tensor(a, dtype=torch.float32), torch.as_tensor(b, dtype=torch.float32), atol=tol)


# ---- exact levels ---------------------------------------------------------------------------------------------

def test_binary_weight_is_sign_times_mean_magnitude():
    # E|w| = (0.5 + 0.1 + 0.3 + 0.1) / 4 = 0.25
    w = torch.tensor([-0.5, 0.1, 0.3, -0.1])
    assert close(binary_weight(w), [-0.25, 0.25, 0.25, -0.25])
    assert close(dorefa_weight(w, 1), [-0.25, 0.25, 0.25, -0.25])  # DoReFa's 1-bit case is the same
    assert close(wrpn_weight(w, 1), [-0.25, 0.25, 0.25, -0.25])  # WRPN has no magnitude bit at k = 1


def test_dorefa_2bit_levels():
    # t = tanh(w), m = tanh(0.5) = 0.46212; index = round(3 * (t / 2m + 1/2)); value = m * (2 * index / 3 - 1)
    # w=-0.5: 3*0 = 0 -> -m;  w=-0.1: t/2m = -0.10787 -> 3*0.39213 = 1.18 -> 1 -> -m/3
    # w=0.05: t/2m = 0.05406 -> 1.66 -> 2 -> +m/3;  w=0.2: 0.21362 -> 2.14 -> 2 -> +m/3;  w=0.5 -> 3 -> +m
    w = torch.tensor([-0.5, -0.1, 0.05, 0.2, 0.5])
    m = math.tanh(0.5)
    assert close(dorefa_weight(w, 2), [-m, -m / 3, m / 3, m / 3, m])


def test_dorefa_4bit_and_8bit_levels():
    # 4 bit: 15 steps. w=0.1: tanh = 0.099668, /2m = 0.107837 -> +0.5 = 0.607837 * 15 = 9.1176 -> 9
    #        value = m * (2*9/15 - 1) = 0.2 m
    w = torch.tensor([-0.5, 0.1, 0.5])
    m = math.tanh(0.5)
    assert close(dorefa_weight(w, 4), [-m, 0.2 * m, m])
    # 8 bit: 255 steps. 0.607837 * 255 = 154.998 -> 155 -> m * (310/255 - 1)
    assert close(dorefa_weight(w, 8), [-m, m * (310 / 255 - 1), m])


def test_wrpn_mid_tread_levels():
    # scale = max|w| = 0.8; w/scale = [-1, -0.375, 0.125, 0.4375, 1]
    w = torch.tensor([-0.8, -0.3, 0.1, 0.35, 0.8])
    # 2 bit: 2^1 - 1 = 1 magnitude level -> round([-1, -0.375, 0.125, 0.4375, 1]) = [-1, 0, 0, 0, 1]
    assert close(wrpn_weight(w, 2), [-0.8, 0, 0, 0, 0.8])
    # 4 bit: 7 levels -> [-7, -2.625, 0.875, 3.0625, 7] -> [-7, -3, 1, 3, 7] / 7 * 0.8
    assert close(wrpn_weight(w, 4), [-0.8, -3 * 0.8 / 7, 0.8 / 7, 3 * 0.8 / 7, 0.8])
    # 8 bit: 127 levels -> 0.3/0.8*127 = 47.625 -> 48; 0.1/0.8*127 = 15.875 -> 16; 0.35/0.8*127 = 55.56 -> 56
    assert close(wrpn_weight(w, 8), [-0.8, -48 * 0.8 / 127, 16 * 0.8 / 127, 56 * 0.8 / 127, 0.8])


def test_pact_levels():
    alpha = torch.tensor(1.0)
    x = torch.tensor([-0.5, 0.1, 0.2, 0.45, 0.9, 1.5])
    # 2 bit: clip -> [0, .1, .2, .45, .9, 1]; *3 -> [0, .3, .6, 1.35, 2.7, 3] -> [0, 0, 1, 1, 3, 3] / 3
    assert close(pact_activation(x, alpha, 2), [0, 0, 1 / 3, 1 / 3, 1, 1])
    # 1 bit: one step of size alpha -> round(clip) = [0, 0, 0, 0, 1, 1]
    assert close(pact_activation(x, alpha, 1), [0, 0, 0, 0, 1, 1])
    # 4 bit (15 steps; inputs chosen away from .5 ties): *15 = 3, 6.45, 13.65 -> 3, 6, 14
    x4 = torch.tensor([0.2, 0.43, 0.91])
    assert close(pact_activation(x4, alpha, 4), [3 / 15, 6 / 15, 14 / 15])
    # 8 bit with alpha = 2: step 2/255; 0.5 / step = 63.75 -> 64
    assert close(pact_activation(torch.tensor([0.5, 3.0]), torch.tensor(2.0), 8), [64 * 2 / 255, 2.0])


def test_signed_pact_levels():
    alpha = torch.tensor(2.0)
    x = torch.tensor([-3.0, -0.9, 0.3, 1.2, 2.5])
    # 2 bit: 1 level per sign, step 2 -> clip [-2, -.9, .3, 1.2, 2] / 2 = [-1, -.45, .15, .6, 1] -> [-1, 0, 0, 1, 1]
    assert close(signed_pact_activation(x, alpha, 2), [-2, 0, 0, 2, 2])
    # 4 bit: 7 levels per sign, step 2/7 -> x/step = [-7, -3.15, 1.05, 4.2, 7] -> [-7, -3, 1, 4, 7]
    assert close(signed_pact_activation(x, alpha, 4), [-2, -6 / 7, 2 / 7, 8 / 7, 2])
    # 1 bit: alpha * sign(x)
    assert close(signed_pact_activation(x, alpha, 1), [-2, -2, 2, 2, 2])


@pytest.mark.parametrize("bits", [1, 2, 3, 4, 8])
def test_number_of_distinct_levels_is_bounded(bits):
    w = torch.randn(4096, generator=torch.Generator().manual_seed(bits))
    assert torch.unique(dorefa_weight(w, bits)).numel() <= 2 ** bits
    assert torch.unique(wrpn_weight(w, bits)).numel() <= max(2, 2 ** bits - 1)
    assert torch.unique(pact_activation(w, torch.tensor(1.0), bits)).numel() <= 2 ** bits


def test_bits_above_16_are_quantised_at_16():
    w = torch.randn(100, generator=torch.Generator().manual_seed(0))
    assert torch.equal(wrpn_weight(w, 32), wrpn_weight(w, 16))


# ---- straight-through gradients -------------------------------------------------------------------------------

def test_ste_gradients_of_weight_quantisers():
    w = torch.tensor([-0.5, -0.1, 0.05, 0.2, 0.5], requires_grad=True)
    wrpn_weight(w, 4).sum().backward()
    assert close(w.grad, torch.ones(5))  # round is identity backward; the scale max|w| is a constant
    w.grad = None
    dorefa_weight(w, 2).sum().backward()
    # m * (2 * (tanh(w)/(2m) + 1/2) - 1) = tanh(w) without rounding -> d/dw = 1 - tanh(w)^2
    assert close(w.grad, 1 - torch.tanh(w.detach()) ** 2, 1e-5)


def test_pact_gradients_for_x_and_alpha():
    x = torch.tensor([-0.5, 0.1, 0.45, 1.5, 2.0], requires_grad=True)
    alpha = torch.tensor(1.0, requires_grad=True)
    pact_activation(x, alpha, 2).sum().backward()
    assert close(x.grad, [0, 1, 1, 0, 0])  # STE inside [0, alpha), zero where clipped
    assert float(alpha.grad) == 2.0  # PACT eq. 3: one per element with x >= alpha (1.5 and 2.0)


def test_pact_module_alpha_is_learnable():
    pact = PACT(bits=4, alpha=1.0)
    out = pact(torch.tensor([0.2, 3.0, 5.0]))
    out.sum().backward()
    assert pact.alpha.grad is not None and float(pact.alpha.grad) == 2.0


def test_pact_calibration_uses_the_input_range():
    x = torch.linspace(0, 5, 1001)
    pact = PACT(bits=8)
    pact.calibrate(x)
    assert pact.alpha.item() == pytest.approx(5.0)  # >= 8 bits: the maximum
    signed = PACT(bits=8, signed=True)
    signed.calibrate(torch.tensor([-4.0, 1.0]))
    assert signed.alpha.item() == pytest.approx(4.0)


# ---- module wrapper -------------------------------------------------------------------------------------------

def _small_net():
    torch.manual_seed(0)
    return nn.Sequential(nn.Conv2d(3, 4, 3), nn.ReLU(), nn.Conv2d(4, 4, 3), nn.ReLU(), nn.Flatten(),
                         nn.Linear(4 * 4 * 4, 3))


def test_quantize_model_swaps_every_conv_and_linear():
    net = quantize_model(_small_net(), [2, 4, 8], [8, 4, 2])
    kinds = [type(m) for m in net.modules() if isinstance(m, (nn.Conv2d, nn.Linear))]
    assert kinds == [QuantConv2d, QuantConv2d, QuantLinear]
    assert [(w, a) for _, w, a in layer_bits(net)] == [(2, 8), (4, 4), (8, 2)]


def test_first_last_bits_override_the_genome():
    net = quantize_model(_small_net(), [2, 2, 2], [2, 2, 2], first_last_bits=8)
    assert [(w, a) for _, w, a in layer_bits(net)] == [(8, 8), (2, 2), (8, 8)]


def test_example_input_calibrates_and_detects_signed_inputs():
    x = torch.randn(8, 3, 8, 8, generator=torch.Generator().manual_seed(1))
    net = quantize_model(_small_net(), 8, 8, example_input=x)
    quantizers = [m.act_quantizer for m in net.modules() if isinstance(m, (QuantConv2d, QuantLinear))]
    assert [q.signed for q in quantizers] == [True, False, False]  # image is signed, post-ReLU inputs are not
    assert quantizers[0].alpha.item() == pytest.approx(float(x.abs().max()))


def test_genome_errors_name_the_problem():
    with pytest.raises(GenomeError, match="bits_w has 2 entries"):
        quantize_model(_small_net(), [4, 4], [4, 4, 4])
    with pytest.raises(GenomeError, match=r"bits_a\[1\]=0"):
        quantize_model(_small_net(), 4, [4, 0, 4])
    with pytest.raises(GenomeError, match="allowed: dorefa"):
        quantize_model(_small_net(), 4, 4, weight_quantizer="lsq")


def test_16bit_wrpn_network_matches_float_network():
    torch.manual_seed(0)
    model = build_model("resnet20").eval()
    x = torch.randn(8, 3, 32, 32, generator=torch.Generator().manual_seed(2))
    with torch.no_grad():
        ref = model(x)
        quantized = quantize_model(build_model("resnet20"), 16, 16, weight_quantizer="wrpn", example_input=x)
        quantized.load_state_dict(model.state_dict(), strict=False)
        out = quantized.eval()(x)
    # 16-bit grids: weight error <= max|w| / (2 * 32767), activation error <= alpha / (2 * 65535) per element
    assert torch.allclose(out, ref, rtol=1e-3, atol=1e-3 * float(ref.abs().max()))


def test_16bit_dorefa_network_equals_float_network_with_tanh_weights():
    # DoReFa computes m * (tanh(w) / m) = tanh(w) up to the 16-bit rounding: the quantised net is the float net
    # whose weights went through tanh
    net, x = _small_net().eval(), torch.randn(4, 3, 8, 8, generator=torch.Generator().manual_seed(3))
    tanh_net = _small_net().eval()
    with torch.no_grad():
        for p, q in zip(tanh_net.parameters(), net.parameters()):
            if p.dim() > 1:
                p.copy_(torch.tanh(q))
        ref = tanh_net(x)
        out = quantize_model(net, 16, 16, example_input=x, match_float=False)(x)
    assert torch.allclose(out, ref, atol=1e-3)


def test_16bit_dorefa_with_matched_latent_weights_equals_float_network():
    # match_float stores atanh(w), so DoReFa's tanh gives back w and only the 16-bit rounding remains
    net, x = _small_net().eval(), torch.randn(4, 3, 8, 8, generator=torch.Generator().manual_seed(3))
    with torch.no_grad():
        ref = net(x)
        out = quantize_model(net, 16, 16, example_input=x)(x)
    assert torch.allclose(out, ref, atol=1e-3)


# ---- quantiser schemes (issue 13: --quantizer pact|dorefa|wrpn|xnor) ---------------------------------------------
def test_xnor_binarises_one_bit_layers_per_filter_and_keeps_sixteen_bit_layers():
    from flowq.quant import XNOR

    w = torch.tensor([[1.0, -3.0], [0.5, 0.5]])
    # filter 0: E|w| = 2 -> [2, -2]; filter 1: E|w| = 0.5 -> [0.5, 0.5] (one scale per output filter, XNOR-Net eq. 4)
    assert close(XNOR(1)(w), [[2.0, -2.0], [0.5, 0.5]])
    wide = torch.linspace(-0.9, 0.9, 11)
    assert len(torch.unique(XNOR(16)(wide))) == 11  # a 16-bit (fixed first/last) layer is not binarised
    model = quantize_model(build_model("lenet5", 10, (3, 32, 32)), [16, 1, 1, 1, 16], [16, 1, 1, 1, 16],
                           weight_quantizer="xnor")
    first = model.conv1.weight_quantizer(model.conv1.weight)
    middle = model.conv2.weight_quantizer(model.conv2.weight)
    assert len(torch.unique(first)) > 2
    for filt in middle:  # +-alpha_f per filter (up to the float rounding of the straight-through expression)
        assert torch.allclose(filt.abs(), filt.abs().flatten()[0].expand_as(filt), atol=1e-6)


@pytest.mark.parametrize("name", ["dorefa", "wrpn"])
def test_clipped_activation_quantisers_have_2k_levels_on_their_clip_range(name):
    from flowq.quant import ACTIVATION_QUANTIZERS

    q = ACTIVATION_QUANTIZERS[name](bits=2)
    x = torch.tensor([-1.0, 0.1, 0.2, 0.5, 0.9, 3.0])
    # clip 1 (DoReFa / WRPN): clip(x, 0, 1) on the grid {0, 1/3, 2/3, 1}
    assert close(q(x), [0.0, 0.0, 1 / 3, 2 / 3, 1.0, 1.0])
    q.calibrate(torch.tensor([0.0, 6.0]), quantile=1.0)
    assert close(q(torch.tensor([2.1, 7.0])), [2.0, 6.0])  # clip 6: grid {0, 2, 4, 6}


def test_quantizer_schemes_map_to_weight_and_activation_quantisers():
    from flowq.quant import quantizer_scheme

    assert quantizer_scheme("pact") == ("dorefa", "pact")
    assert quantizer_scheme("wrpn") == ("wrpn", "wrpn")
    with pytest.raises(GenomeError, match="allowed"):
        quantizer_scheme("ternary")
