"""Crossbar-aware forward: lossless ADC == plain quantised forward, ADC error falls with resolution, STE, and
LeNet-5 accuracy vs ADC bits after a short fine-tune."""

import copy
import math

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from torch import nn

from flowq.errors import GenomeError
from flowq.models import build_model
from flowq.quant import quantize_model
from flowq.quant import crossbar
from flowq.quant.crossbar import (CrossbarConfig, crossbar_dot, crossbar_layers, crossbar_model,
                                  signed_weight_codes)
from hwmodels.reram import block_precision_table, load_reram_spec


def _lenet(bits_w, bits_a, seed=0, quantizer="dorefa", n=32):
    torch.manual_seed(seed)
    x = torch.randn(n, 1, 32, 32)
    model = quantize_model(build_model("lenet5", 10, (1, 32, 32)), bits_w, bits_a, example_input=x,
                           weight_quantizer=quantizer)
    return model, x


def _slices(codes, bits, width):
    return [((codes.long() >> (width * k)) & (2 ** width - 1)).double() for k in range(-(-bits // width))]


@settings(max_examples=25, deadline=None)
@given(st.integers(1, 6), st.integers(1, 6), st.integers(1, 40), st.integers(1, 3), st.integers(1, 2),
       st.integers(1, 12), st.integers(0, 2**31 - 1))
def test_lossless_crossbar_dot_is_the_integer_matmul(q_bits, u_bits, rows, cell, dac, R, seed):
    gen = torch.Generator().manual_seed(seed)
    u = torch.randint(0, 2 ** u_bits, (2, R, 3), generator=gen)
    q = torch.randint(0, 2 ** q_bits, (4, R), generator=gen)
    dot, sum_u = crossbar_dot(_slices(u, u_bits, dac), q, q_bits, rows, cell, dac, None, 1.0)
    assert torch.equal(dot, torch.einsum("mr,nrl->nml", q.double(), u.double()))
    assert torch.equal(sum_u, u.double().sum(1, keepdim=True))
    # an ADC with the lossless resolution of the chunk changes nothing either
    r = math.ceil(math.log2(min(rows, R) * (2 ** dac - 1) * (2 ** cell - 1) + 1))
    exact, _ = crossbar_dot(_slices(u, u_bits, dac), q, q_bits, rows, cell, dac, r, 1.0)
    assert torch.equal(exact, dot)


BITS_A = ([8, 4, 2, 4, 8], [8, 4, 2, 4, 8])
BITS_B = ([3, 5, 8, 1, 6], [6, 2, 5, 8, 3])


# shortcut=False sends every slice and chunk through the ADC path (a clamp at the lossless resolution)
@pytest.mark.parametrize("preset, bits, shortcut", [("reram-puma", BITS_A, False), ("reram-bwq", BITS_B, False),
                                                    ("reram-neurosim", BITS_A, True), ("reram-puma", BITS_B, True)])
def test_lossless_adc_equals_plain_quantised_forward(preset, bits, shortcut, monkeypatch):
    monkeypatch.setattr(crossbar, "EXACT_SHORTCUT", shortcut)
    model, x = _lenet(*bits, n=8)
    with torch.no_grad():
        plain = model(x)
    config = CrossbarConfig.from_spec(load_reram_spec(preset))  # adc_bits None = lossless
    xbar = crossbar_model(copy.deepcopy(model), config, x)
    assert len(crossbar_layers(xbar)) == 5
    with torch.no_grad():
        out = xbar(x)
    assert torch.allclose(out, plain, rtol=1e-4, atol=1e-5 * plain.abs().max().item())
    # r at the lossless resolution (not None) takes the same exact path
    lossless = config.lossless_adc_bits
    xbar_r = crossbar_model(copy.deepcopy(model), config.with_adc(lossless), x)
    with torch.no_grad():
        assert torch.allclose(xbar_r(x), plain, rtol=1e-4, atol=1e-5 * plain.abs().max().item())


def test_padding_groups_and_wrpn_grid():
    torch.manual_seed(1)
    net = nn.Sequential(nn.Conv2d(4, 8, 3, padding=1, groups=2), nn.ReLU(), nn.Conv2d(8, 6, 3, stride=2))
    x = torch.randn(3, 4, 9, 9)
    model = quantize_model(net, [4, 3], [5, 4], example_input=x, weight_quantizer="wrpn")
    with torch.no_grad():
        plain = model(x)
        out = crossbar_model(copy.deepcopy(model), CrossbarConfig(rows=5, bits_per_cell=2, dac_bits=2), x)(x)
    assert torch.allclose(out, plain, rtol=1e-4, atol=1e-5)


def test_adc_error_shrinks_as_resolution_grows():
    model, x = _lenet([4] * 5, [4] * 5, n=16)
    with torch.no_grad():
        plain = model(x)
    config = CrossbarConfig.from_spec(load_reram_spec("reram-puma"))
    errors = {}
    for r in (1, 2, 4, 6):
        xbar = crossbar_model(copy.deepcopy(model), config.with_adc(r), x)
        with torch.no_grad():
            errors[r] = float((xbar(x) - plain).abs().mean())
    assert errors[1] > errors[2] > errors[4] > errors[6]
    assert errors[6] < 0.5 * errors[1]


def test_straight_through_gradients():
    model, x = _lenet([4] * 5, [4] * 5, n=16)
    target = torch.arange(16) % 10
    xbar = crossbar_model(copy.deepcopy(model), CrossbarConfig(128, 2, 1, 5), x)  # lossy (lossless: 9)
    loss = nn.functional.cross_entropy(xbar(x), target)
    loss.backward()
    grads = [m.weight.grad for _, m in crossbar_layers(xbar)]
    assert all(g is not None and torch.isfinite(g).all() and g.abs().sum() > 0 for g in grads)
    alpha = [m.act_quantizer.alpha.grad for _, m in crossbar_layers(xbar)]
    assert all(a is not None for a in alpha)


def test_config_errors():
    with pytest.raises(GenomeError, match="rows"):
        CrossbarConfig(rows=0)
    model, x = _lenet([4] * 5, [4] * 5, n=4)
    with pytest.raises(GenomeError, match="5 conv/linear layers"):
        crossbar_model(model, CrossbarConfig(adc_bits=(4, 4)), x)
    model, x = _lenet([4] * 5, [4] * 5, n=4)
    with pytest.raises(GenomeError, match="calibration data"):
        crossbar_model(model, CrossbarConfig(adc_bits=2))


def test_block_table_of_a_trained_layer():
    # DoReFa codes are odd (2q - 15 at 4 bits), so no block drops its top plane unless |w| stays small; WRPN
    # 3-bit codes j in [-3, 3]: a block whose weights are all in {-1, 0, 1} needs 1 bit
    model, _ = _lenet([4, 3, 4, 4, 4], [8] * 5, quantizer="wrpn")
    conv2 = model.conv2
    with torch.no_grad():
        conv2.weight.mul_(0.0)
        conv2.weight[0, 0, 0, 0] = 1.0            # largest |w| -> code 3 in block (0, 0)
        conv2.weight[8, 0, 0, 1] = 0.4            # code round(0.4 * 3) = 1 in block (1, 0)
    codes = signed_weight_codes(conv2)
    assert int(codes.abs().max()) == 3
    table = block_precision_table(codes.numpy(), ou_rows=9, ou_cols=8)
    assert table.shape == (2, math.ceil(150 / 9))
    assert table[0, 0] == 2 and table[1, 0] == 1 and table.sum() == 3


@pytest.mark.slow
def test_lenet_accuracy_falls_with_adc_bits_after_finetuning():
    from flowq.accuracy import FineTuneEvaluator

    evaluator = FineTuneEvaluator("lenet5", "digits", steps=10, seed=0)  # session cache: float LeNet shared
    config = CrossbarConfig.from_spec(load_reram_spec("reram-puma"))
    bits = [4] * 5
    psi = {r: evaluator.with_crossbar(config.with_adc(r)).evaluate(bits, bits).psi for r in (6, 3, 2, 1)}
    print("\nLeNet-5 / digits, W4A4 on reram-puma, psi by ADC bits:", psi)
    noise = 0.03  # ~9 of the 288 validation images
    ordered = [psi[r] for r in (6, 3, 2, 1)]
    assert all(lo <= hi + noise for hi, lo in zip(ordered, ordered[1:]))
    assert psi[6] - psi[1] > 0.1
