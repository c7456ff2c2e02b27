"""ReRAM crossbar cost model: hand-derived counts, both tile formulas, bwq block tables, paper trends, spec errors."""

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hwmodels.errors import GenomeError, SpecError
from hwmodels.reram import (RERAM_PRESETS, block_precision_table, bwq_layer_counts, evaluate_network,
                            evaluate_population, load_reram_spec, reram_spec_from_dict, tile_counts)
from hwmodels.workload import conv, fc
from hwmodels.zoo import get_workload


def benq_vgg():
    """benq's CIFAR VGG (pytorch-playground cifar10, n_channel = 128; torchsummary names Conv2d-1 ... Conv2d-22)."""
    return [conv("Conv2d-1", 3, 128, 32), conv("Conv2d-4", 128, 128, 32), conv("Conv2d-8", 128, 256, 16),
            conv("Conv2d-11", 256, 256, 16), conv("Conv2d-15", 256, 512, 8), conv("Conv2d-18", 512, 512, 8),
            conv("Conv2d-22", 512, 1024, 2), fc("Linear-26", 1024, 10)]


# ---- hand-derived counts ----------------------------------------------------------------------------------------

def test_layer_filling_exactly_one_crossbar():
    # fc 128 -> 16 at W8A8 on 128x128 1-bit cells: 128 rows, 16 * 8 = 128 columns -> one crossbar, one tile
    spec = load_reram_spec("reram-neurosim")
    cost = evaluate_network([fc("fc", 128, 16)], spec, [8], [8])
    layer = cost.layers[0]
    assert layer["crossbars"] == 1 and layer["tiles"] == 1
    assert layer["input_slices"] == 8 and layer["weight_columns"] == 128
    # whole-array reads: 1 read per input slice; 128 conversions per read
    assert layer["ou_activations"] == 8
    assert layer["adc_conversions"] == 8 * 128
    # 16 ADCs (8 columns muxed on each): 128 / 16 = 8 conversions of (8 + 1) SAR cycles per read, 8 slices
    assert layer["latency_cycles"] == pytest.approx(8 * 8 * 9)
    # SAR 8-bit conversion: (0.538 * 8 + 4.375) uW * 9 ns = 78.1 fJ
    assert layer["energy_by_level"]["adc"] == pytest.approx(1024 * 0.0781)


def test_layer_spilling_rows_and_columns_with_ous():
    # fc 200 -> 20 at W8A8, reram-bwq (128x128, OU 9x8): rows 128 + 72, columns 20 * 8 = 160 = 128 + 32
    spec = load_reram_spec("reram-bwq")
    layer = evaluate_network([fc("fc", 200, 20)], spec, [8], [8]).layers[0]
    assert layer["crossbars"] == 4
    row_ous = math.ceil(128 / 9) + math.ceil(72 / 9)      # 15 + 8 = 23
    col_ous = 128 // 8 + 32 // 8                          # 16 + 4 = 20
    assert layer["ou_activations"] == row_ous * col_ous * 8
    assert layer["adc_conversions"] == row_ous * 160 * 8  # every active column converted once per OU row
    # busiest crossbar: 15 OU rows x 16 OU columns, one OU per cycle, 8 input slices
    assert layer["latency_cycles"] == pytest.approx(15 * 16 * 8)


def test_tile_formulas_on_small_layers():
    spec = load_reram_spec("reram-neurosim")  # 16 arrays per tile, neurosim tile = 4 x 4 arrays = 512 x 512 cells
    # fc 600 -> 75 at 8 bits: 600 rows, 600 columns
    rows, cols = np.array([600]), np.array([600])
    assert tile_counts(spec, rows, cols, 1, "benq")[0] == math.ceil(5 * 5 / 16) == 2
    assert tile_counts(spec, rows, cols, 1, "neurosim")[0] == 2 * 2
    # fc 520 -> 16: 5 row arrays, 1 column array
    assert tile_counts(spec, np.array([520]), np.array([128]), 1, "benq")[0] == 1
    assert tile_counts(spec, np.array([520]), np.array([128]), 1, "neurosim")[0] == 2
    # through the model: a layer's tiles follow the spec's formula
    assert evaluate_network([fc("f", 600, 75)], spec, [8], [8], tile_formula="neurosim").total["tiles"] == 4


def test_bwq_two_block_table_like_fig6a():
    # bwq Fig. 6(a)/(b): a 4x4 crossbar of 2x2 OUs, two 2x2 weight blocks stacked in the reduction dimension,
    # precisions 2 and 1 bits, 2-bit activations: 6 cycles; OU_3 is spare
    spec = reram_spec_from_dict({"version": 1, "xbar_rows": 4, "xbar_cols": 4, "ou_rows": 2, "ou_cols": 2,
                                 "adcs_per_xbar": 2, "adc_bits": 2, "adc_ref_bits": 2}, source="fig6")
    layer = fc("wb", 4, 2)
    counts = bwq_layer_counts(layer, [[2, 1]], 2, spec)
    assert counts["cycles"] == 6
    assert counts["ous_allocated"] == 4 and counts["spare_ous"] == 1
    assert counts["adc_conversions"] == (2 + 1) * 2 * 2  # 3 OUs x 2 columns x 2 input slices
    # a uniform table reproduces the layer-wise model (conventional mapping at 2 bits: 2 x 2 OUs per slice)
    uniform = bwq_layer_counts(layer, [[2, 2]], 2, spec)
    layerwise = evaluate_network([layer], spec, [2], [2]).layers[0]
    assert uniform["cycles"] == layerwise["ou_activations"] == 8


def test_block_precision_table_drops_leading_zero_planes():
    codes = np.zeros((4, 4), dtype=np.int64)  # (c_out, R), OU 2 rows x 2 columns -> 2 x 2 blocks
    codes[0, 0] = 3      # block (0, 0): 2 bits
    codes[1, 3] = -1     # block (0, 1): 1 bit (sign-magnitude)
    codes[3, 1] = 5      # block (1, 0): 3 bits; block (1, 1) all zero -> 0
    assert block_precision_table(codes, 2, 2).tolist() == [[2, 1], [3, 0]]


# ---- benq Table V: W8A8 tile counts --------------------------------------------------------------------------

def test_eq3_tiles_of_benq_vgg_and_resnet18_at_w8():
    spec = load_reram_spec("reram-neurosim")
    vgg = benq_vgg()
    cost = evaluate_network(vgg, spec, [8] * len(vgg), [8] * len(vgg))
    # hand: ceil(ceil(R/128) * ceil(8 C_out/128) / 16) per layer
    # 27->1x8=8:1, 1152->9x8=72:5, 9x16=144:9, 18x16=288:18, 18x32=576:36, 36x32=1152:72, 36x64=2304:144, 8x1:1
    assert [layer["tiles"] for layer in cost.layers] == [1, 5, 9, 18, 36, 72, 144, 1]
    assert cost.total["tiles"] == 286
    resnet18 = get_workload("resnet18")
    n = len(resnet18)
    # hand: conv1 1, layer1 4 x 2 = 8, layer2 3 + 3 x 5 + 1 = 19, layer3 9 + 3 x 18 + 1 = 64,
    # layer4 36 + 3 x 72 + 4 = 256, fc ceil(4 x 63 / 16) = 16 -> 364
    total = evaluate_network(resnet18, spec, [8] * n, [8] * n).total["tiles"]
    assert total == 364
    print(f"\nbenq eq. 3 at W8: VGG {cost.total['tiles']} tiles (Table V: 86), ResNet-18 {total} (Table V: 121)")


def test_lowering_the_largest_layers_lowers_tiles():
    # benq Fig. 2: the last convs (Conv2d-18, Conv2d-22) hold ~76 % of the parameters
    vgg = benq_vgg()
    weights = np.array([layer.n_weights for layer in vgg])
    assert (weights[5] + weights[6]) / weights.sum() == pytest.approx(0.76, abs=0.01)
    spec = load_reram_spec("reram-neurosim")
    bits = np.full(len(vgg), 8)
    low = bits.copy()
    low[[5, 6]] = 4
    base = evaluate_population(vgg, spec, bits, bits)["tiles"][0]
    lowered = evaluate_population(vgg, spec, low, bits)["tiles"][0]
    assert lowered == base - 36 - 72  # Conv2d-18: 72 -> 36 tiles, Conv2d-22: 144 -> 72


@settings(max_examples=40, deadline=None)
@given(st.lists(st.integers(2, 8), min_size=8, max_size=8), st.integers(0, 7), st.sampled_from(["benq", "neurosim"]))
def test_tiles_never_rise_when_a_layer_loses_bits(bits, layer, formula):
    vgg = benq_vgg()
    spec = load_reram_spec("reram-neurosim")
    lower = list(bits)
    lower[layer] = max(2, lower[layer] - 1)
    a = evaluate_population(vgg, spec, bits, bits, tile_formula=formula)["tiles"][0]
    b = evaluate_population(vgg, spec, lower, bits, tile_formula=formula)["tiles"][0]
    assert b <= a


# ---- ADC share and the psum Table 1 trend -------------------------------------------------------------------------

def test_bwq_adc_share_of_an_8bit_layer_is_in_the_cited_band():
    # bwq II-A: ADCs take 50-70 % of the power (Ogbogu et al.), 92 % in its own Table I (23.22 / 25.25 W)
    layer = conv("conv", 64, 64, 16)
    share = evaluate_network([layer], "reram-bwq", [8], [8]).total["adc_share"]
    # Table I's 92 % holds for full OUs; crossbar-edge OUs with fewer rows convert as many columns: +0.3 points
    assert 0.50 <= share <= 0.925
    assert round(100 * share) == 92


def test_puma_linear_adc_energy_trend_matches_psum_table1():
    # psum Table 1 (linear ADC law, PUMAsim): total energy 8 -> 4 -> 2 -> 1 bits: LSTM -21.4, -30.5, -35.0 %;
    # MLP -20.6, -30.3, -35.1 %
    paper = {4: (-21.4, -20.6), 2: (-30.5, -30.3), 1: (-35.0, -35.1)}
    mlp = [fc("fc1", 1024, 1024), fc("fc2", 1024, 1024), fc("fc3", 1024, 10)]
    spec = load_reram_spec("reram-puma")
    assert spec.adc_law == "linear" and spec.adcs_per_xbar == 1
    energy = {r: evaluate_network(mlp, spec, [8] * 3, [8] * 3, adc_bits=r).total["energy"] for r in (8, 4, 2, 1)}
    assert energy[8] > energy[4] > energy[2] > energy[1]
    for r, (lstm, mlp_paper) in paper.items():
        ours = 100 * (energy[r] / energy[8] - 1)
        assert abs(ours - lstm) <= 5 and abs(ours - mlp_paper) <= 5, (r, ours)


# ---- ADC laws, lossless default ------------------------------------------------------------------------------------

def test_adc_laws():
    base = load_reram_spec("reram-neurosim")
    sar = base.with_(adc_law="sar", adc_ref_bits=8, adc_cycles=9.0)
    assert sar.adc_latency(4) == pytest.approx(5.0)  # (r + 1) cycles
    assert sar.adc_energy(4) / sar.adc_energy(8) == pytest.approx(5 * (0.538 * 4 + 4.375) / (9 * (0.538 * 8 + 4.375)))
    flash = base.with_(adc_law="flash")
    assert flash.adc_energy(4) / flash.adc_energy(8) == pytest.approx(15 / 255)
    table = base.with_(adc_law="table", adc_ref_bits=6, adc_bits_max=8,
                       adc_table=((4, 4.2, 6.0), (6, 10.1, 8.0), (8, 20.0, 10.0)))  # MNSIM 2.0 entries (pJ, ns)
    assert table.adc_energy(5) / table.adc_energy(6) == pytest.approx(1.0)   # 5 bits run on the 6-bit ADC
    assert table.adc_energy(7) / table.adc_energy(6) == pytest.approx(20.0 / 10.1)


def test_lossless_default_resolution():
    # ceil(log2(OU rows * (2^dac - 1) * (2^cell - 1) + 1)): neurosim 128 rows -> 8; bwq 9 rows -> 4;
    # puma 128 rows x 3 (2-bit cells) = 384 -> 9, capped at the 8-bit ADC
    assert load_reram_spec("reram-neurosim").lossless_adc_bits == 8
    assert load_reram_spec("reram-bwq").lossless_adc_bits == 4
    puma = load_reram_spec("reram-puma")
    assert puma.lossless_adc_bits == 9 and puma.default_adc_bits == 8


@settings(max_examples=30, deadline=None)
@given(st.integers(1, 7), st.sampled_from(list(RERAM_PRESETS)), st.integers(1, 8), st.integers(1, 8))
def test_energy_and_latency_never_fall_when_the_adc_gains_a_bit(r, preset, bw, ba):
    layers = [conv("c", 16, 32, 8), fc("f", 300, 40)]
    lo = evaluate_population(layers, preset, [bw, bw], [ba, ba], adc_bits=r)
    hi = evaluate_population(layers, preset, [bw, bw], [ba, ba], adc_bits=r + 1)
    assert hi["energy"][0] >= lo["energy"][0] and hi["latency_cycles"][0] >= lo["latency_cycles"][0]
    assert hi["adc_conversions"][0] == lo["adc_conversions"][0]


# ---- spec loading and errors ----------------------------------------------------------------------------------------

@pytest.mark.parametrize("name", RERAM_PRESETS)
def test_every_preset_loads(name):
    spec = load_reram_spec(name)
    assert spec.name == name and spec.default_adc_bits in spec.adc_range


def test_spec_errors_name_path_value_and_allowed():
    with pytest.raises(SpecError) as err:
        reram_spec_from_dict({"version": 1, "xbar_rowz": 128, "adc_law": "sigma-delta", "ou_rows": 300},
                             source="my.yaml")
    text = str(err.value)
    assert "my.yaml.xbar_rowz: unknown key" in text
    assert "my.yaml.adc_law: 'sigma-delta' is unknown; allowed: linear, sar, flash, table" in text
    assert "my.yaml.ou_rows/ou_cols" in text
    with pytest.raises(SpecError, match="version: missing"):
        reram_spec_from_dict({"xbar_rows": 64})
    with pytest.raises(SpecError, match="adc_table"):
        reram_spec_from_dict({"version": 1, "adc_law": "table"})
    with pytest.raises(SpecError, match="neither a preset"):
        load_reram_spec("reram-nope")


def test_adc_bits_outside_the_range_is_a_genome_error():
    with pytest.raises(GenomeError, match=r"adc_bits\[0\] = 9"):
        evaluate_network([fc("f", 10, 10)], "reram-bwq", [8], [8], adc_bits=9)
