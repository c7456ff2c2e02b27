"""Tests of the Coarse level: hand-derived counts (hw-flowq eq. 3-5), bit conventions, population vectorisation."""

import numpy as np
import pytest

from hwmodels import api, coarse
from hwmodels.errors import GenomeError
from hwmodels.spec import load_spec
from hwmodels.workload import Layer, conv, fc
from hwmodels.zoo import get_workload

# 4 -> 8 channels, 3x3, 8x8 outputs with padding (stored input 8x8)
LAYER = conv("c", 4, 8, 8, k=3, h_in=8, w_in=8)


def test_single_layer_simd_by_hand():
    # macs = 8 out-ch * 64 px * (4*9) = 18,432; weights 8*36 = 288; inputs 4*64 = 256; outputs 8*64 = 512
    # b_w=4, b_a=8, last layer -> output at b_max=16
    # V = floor(16 / max(4, 8)) = 2 (eq. 3); Frac.OPs = 18,432 / 2 = 9,216 (eq. 5)
    # weight bits 288*4 = 1,152; activation bits 256*8 + 512*16 = 10,240; compulsory DRAM 11,392 bits
    # ideal cycles on 256 PEs: 18,432 / (256 * 2) = 36; throughput 512 MACs/cycle
    cost = coarse.evaluate_network([LAYER], load_spec("spatial-256"), [4], [8])
    total = cost.total
    assert total["ops"] == 18_432
    assert total["frac_ops"] == 9_216
    assert total["bitops"] == 18_432 * 32
    assert total["weight_bits"] == 1_152
    assert total["activation_bits"] == 10_240
    assert total["dram_accesses_bits"] == 11_392
    assert total["latency_cycles"] == 36
    assert total["throughput"] == 512
    assert total["ctc"] == pytest.approx(18_432 / (11_392 / 8))
    assert total["energy"] is None and total["energy_by_level"] is None


def test_single_layer_bitserial_by_hand():
    # eq. 4: BS_speedup = 16^2 / (4*8) = 8 -> Frac.OPs = 18,432 / 8 = 2,304
    # each of 16 lanes needs 4*8 = 32 cycles per MAC -> 0.5 MAC/PE-cycle; 256 PEs -> 128 MACs/cycle -> 144 cycles
    total = coarse.evaluate_network([LAYER], load_spec("bs-256"), [4], [8]).total
    assert total["frac_ops"] == 2_304
    assert total["latency_cycles"] == 144


def test_vectorisation_is_integer_and_follows_wider_operand():
    # 6-bit operands on a 16-bit SIMD unit: floor(16/6) = 2, not 2.67 (hw-flowq Sec. 3.3 example)
    spec = load_spec("spatial-256")
    assert coarse.evaluate_network([LAYER], spec, [6], [6]).total["frac_ops"] == 18_432 / 2
    # b_w = 2 but b_a = 16: no speed-up at all
    assert coarse.evaluate_network([LAYER], spec, [2], [16]).total["frac_ops"] == 18_432


def test_output_written_at_next_layers_input_bits():
    # layer 0 output (8*64 = 512 elements) goes out at b_a[1] = 4; layer 1 (fc 512 -> 10) output at b_max = 16
    layers = [LAYER, fc("f", 512, 10)]
    per_layer = coarse.evaluate_network(layers, load_spec("spatial-256"), [8, 8], [8, 4]).layers
    assert per_layer[0]["activation_bits"] == 256 * 8 + 512 * 4
    assert per_layer[1]["activation_bits"] == 512 * 4 + 10 * 16


def test_resnet20_16bit_frac_ops_equals_macs():
    # at 16 bit V = 1, so Frac.OPs = OPs = 40,551,040 MACs (sum derived in test_zoo)
    workload = get_workload("resnet20")
    total = coarse.evaluate_network(workload, load_spec("spatial-256"), [16] * 20, [16] * 20).total
    assert total["frac_ops"] == total["ops"] == 40_551_040


def test_population_rows_match_single_genomes():
    workload = get_workload("resnet20")
    spec = load_spec("spatial-256")
    rng = np.random.default_rng(0)
    BW = rng.choice(spec.bitwidths, size=(5, 20))
    BA = rng.choice(spec.bitwidths, size=(5, 20))
    population = api.evaluate_population(workload, spec, BW, BA, level="coarse")
    for row in range(5):
        single = api.evaluate(workload, spec, BW[row], BA[row], level="coarse").total
        for key, values in population.items():
            assert values.shape == (5,)
            assert values[row] == pytest.approx(single[key])


def test_halving_all_bits_halves_traffic_and_footprint():
    # every term of the compulsory traffic is linear in the bitwidths
    workload = get_workload("lenet5")
    spec = load_spec("spatial-168")
    at8 = coarse.evaluate_population(workload, spec, np.full((1, 5), 8), np.full((1, 5), 8))
    at4 = coarse.evaluate_population(workload, spec, np.full((1, 5), 4), np.full((1, 5), 4))
    at8_last16 = at8["dram_accesses_bits"][0]
    at4_last16 = at4["dram_accesses_bits"][0]
    last_outputs = 10 * 16  # lenet fc3 output stays at b_max in both
    assert at4_last16 - last_outputs == (at8_last16 - last_outputs) / 2
    assert at4["weight_bits"][0] * 2 == at8["weight_bits"][0]


def test_unsupported_bitwidth_names_layer_and_allowed():
    with pytest.raises(GenomeError) as info:
        coarse.evaluate_network([LAYER, fc("f", 512, 10)], load_spec("spatial-256"), [8, 3], [8, 8])
    message = str(info.value)
    assert "bits_w[1] = 3" in message and "'f'" in message and "[2, 4, 6, 8, 16]" in message


def test_wrong_genome_length():
    with pytest.raises(GenomeError, match="2 layers"):
        coarse.evaluate_network([LAYER, fc("f", 512, 10)], load_spec("spatial-256"), [8, 8, 8], [8, 8])


def test_every_glossary_key_present():
    keys = {"ops", "frac_ops", "bitops", "weight_bits", "activation_bits", "dram_accesses_bits", "latency_cycles",
            "throughput", "energy", "energy_by_level"}
    cost = coarse.evaluate_network([Layer("x", "fc", 8, 8, 1, 1)], load_spec("spatial-168"), [8], [8])
    assert keys <= set(cost.total) and all(keys <= set(row) for row in cost.layers)
