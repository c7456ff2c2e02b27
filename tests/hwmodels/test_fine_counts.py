"""Fine mapper access counts: hand-derived small layers, the Eyeriss reuse-chain formulas, the naive loop walker."""

import numpy as np
import pytest

from hwmodels.errors import MappingError
from hwmodels.fine import mapper
from hwmodels.fine.mapper import Mapping, evaluate_mapping
from hwmodels.spec import AcceleratorSpec, EnergyTable
from hwmodels.workload import Layer, conv

import naive  # tests/hwmodels/naive.py (rootdir-relative import, tests has no __init__)


def tiny_spec(rows=2, cols=2, dataflow="RS", energy=None):
    """A 16-bit SIMD accelerator with a small array, Table-1 RF sizes and a 1 Mbit buffer."""
    return AcceleratorSpec(name=f"tiny-{rows}x{cols}-{dataflow}", pe_rows=rows, pe_cols=cols, dataflow=dataflow,
                           bitwidths=(2, 4, 8, 16), rf_filter_words=224, rf_ifmap_words=12, rf_psum_words=16,
                           buffer_size_bits=1 << 20, energy=energy or EnergyTable())


def test_1x1_conv_on_2x2_weight_stationary_by_hand():
    # 1x1 conv, 4 -> 4 channels, 2x2 output: MACs = 4*4*2*2 = 64; 16 weights, 16 inputs, 16 outputs.
    layer = conv("pw", 4, 4, 2, k=1)
    spec = tiny_spec(dataflow="WS")
    # WS: C2 along rows, M2 along columns; each PE keeps 2 filters (M2); buffer loops P2 Q2 with NPQ innermost.
    m = Mapping.build(rows={"C": 2}, cols={"M": 2}, pe={"M": 2}, buffer={"P": 2, "Q": 2},
                      order_buffer="NPQ<M<CRS", order_dram="CRS<M<NPQ")
    cost = evaluate_mapping(layer, spec, 16, 16, 16, m)
    c = cost.counts
    # array tile = M4 C2 P1 Q1, buffer tile = M4 C2 P2 Q2 -> DRAM trips: C 4/2 = 2 only.
    # weights: buffer tile 4*2 = 8, re-fetched for each of the 2 C trips (relevant) -> 16 DRAM reads.
    assert c["weights"]["dram"] == 16
    # inputs: buffer tile C2*P2*Q2 = 8, 2 C trips -> 16.
    assert c["inputs"]["dram"] == 16
    # weights stay in the PEs across the 4 buffer iterations (P, Q irrelevant, innermost): per DRAM trip one
    # read of the 8-weight array tile -> 2 * 8 = 16 buffer reads; each PE gets its 2 weights -> 4 PEs * 2 * 2 = 16.
    assert c["weights"]["buffer"] == 16
    assert c["weights"]["array"] == 16
    # inputs change every buffer iteration: 2 DRAM trips * 4 iterations * array tile C2 = 16 buffer reads;
    # every PE receives its 1 input (multicast along the M columns) -> 2 * 4 * 4 PEs * 1 = 32 deliveries.
    assert c["inputs"]["buffer"] == 16
    assert c["inputs"]["array"] == 32
    # RF: one weight and one input read per MAC.
    assert c["weights"]["rf"] == 64 and c["inputs"]["rf"] == 64
    # psums: the C split over DRAM is innermost there, so outputs stay in the buffer: a = 1 -> 16 DRAM writes.
    # PE visits per output v = 2 (one per DRAM C trip); spatial reduction c = 2 (C rows); d = 4 / (2*2) = 1.
    # buffer 2(v - a) = 2 per output -> 32; array v(c-1) = 2 per output -> 32; RF 2(4 - v*c) = 0.
    assert c["psums"] == {"dram": 16, "buffer": 32, "array": 32, "rf": 0}
    # cycles: 2 DRAM trips * 4 buffer iterations * 2 PE steps (M2) = 16 = 64 MACs / 4 PEs.
    assert cost.compute_cycles == 16
    assert cost.utilization == 1.0


def test_small_fc_on_2x2_row_stationary_by_hand():
    # FC 8 -> 4 at batch 2: MACs = 2*4*8 = 64; 32 weights, 16 inputs, 8 outputs.
    layer = Layer("fc", "fc", 8, 4, 1, 1, n=2)
    spec = tiny_spec(dataflow="RS")
    # rows: C2, cols: M2; PE tile C4 N2 (filter RF 4 words, ifmap 8 words, 2 live psums); buffer loop M2 innermost.
    m = Mapping.build(rows={"C": 2}, cols={"M": 2}, pe={"C": 4, "N": 2}, buffer={"M": 2},
                      order_buffer="M<NPQ<CRS", order_dram="NPQ<M<CRS")
    cost = evaluate_mapping(layer, spec, 16, 16, 16, m)
    c = cost.counts
    # buffer tile = the whole layer (N2 M4 C8): every tensor crosses DRAM once: 32 + 16 reads, 8 output writes.
    assert c["weights"]["dram"] == 32 and c["inputs"]["dram"] == 16 and c["psums"]["dram"] == 8
    # weights depend on M: 2 buffer iterations * array tile (M2 C8 = 16) = 32 reads; each PE gets C4 -> 2*4*4 = 32.
    assert c["weights"]["buffer"] == 32 and c["weights"]["array"] == 32
    # inputs do not depend on M (innermost): one read of N2 C8 = 16; each of 4 PEs gets N2 C4 = 8 -> 32.
    assert c["inputs"]["buffer"] == 16 and c["inputs"]["array"] == 32
    # psums: v = 1 visit, c = 2 (C rows), d = 8 / 2 = 4: buffer 0, array v(c-1) = 1 -> 8, RF 2(8 - 2) = 12 -> 96.
    assert c["psums"]["buffer"] == 0 and c["psums"]["array"] == 8 and c["psums"]["rf"] == 96
    assert cost.compute_cycles == 16


def eyeriss_chain(unique, a, b, c, d, e_dram, e_buf, e_arr, e_rf):
    """Eyeriss ISCA'16: an input/weight reuse chain a (DRAM) b (buffer) c (array) d (RF), per level."""
    return {"dram": unique * a * e_dram, "buffer": unique * a * b * e_buf, "array": unique * a * b * c * e_arr,
            "rf": unique * a * b * c * d * e_rf}


def eyeriss_psums(n_out, a, b, c, d, e_dram, e_buf, e_arr, e_rf, width=1.0, rf_words=1):
    """Eyeriss ISCA'16 psum accumulation: (2a-1) DRAM, 2a(b-1) buffer, ab(c-1) array, 2abc(d-1) RF.

    width: psum bits / word bits for the psum moves (the final DRAM write is one output word); rf_words: RF words
    one psum occupies."""
    return {"dram": n_out * (2 * (a - 1) * width + 1) * e_dram, "buffer": n_out * 2 * a * (b - 1) * width * e_buf,
            "array": n_out * a * b * (c - 1) * width * e_arr,
            "rf": n_out * 2 * a * b * c * (d - 1) * rf_words * e_rf}


# 1x1 conv 4 -> 4 on a 4x4 output (MACs 256; 16 weights, 64 inputs, 64 outputs, reduction 4), 2x2 RS array:
# rows C2, cols M2, PE tile Q2, buffer loops P2 C2 -> DRAM trips M2 P2 Q2 (DRAM order M innermost).
# Buffer tile M2 C4 P2 Q2 (W 8, I 16), array tile M2 C2 Q2 (W 4, I 4), PE tile Q2 (W 1, I 2).
CHAIN_CASES = [
    # buffer order CRS innermost: weights/inputs re-read every buffer iteration (4), psums stay in the PE.
    ("CRS<NPQ<M",
     # weights: DRAM 8 trips all re-fetch (M innermost is relevant): 8*8 = 64 = 4 x 16 -> a 4; buffer 8 trips *
     # 4 fetches * 4 = 128 -> b 2; array = 4 PEs * 1 * 32 = 128 -> c 1; RF 256 -> d 2.
     (4, 2, 1, 2),
     # inputs: M innermost is irrelevant -> 4 DRAM loads of 16 = 64 -> a 1; buffer 32 fetches * 4 = 128 -> b 2;
     # array 32 * 4 PEs * 2 = 256 -> c 2; RF 256 -> d 1.
     (1, 2, 2, 1),
     # psums: a 1 (no reduction at DRAM), v = b = 1 (O resident across the C loop), c 2, d = 4/2 = 2.
     (1, 1, 2, 2)),
    # buffer order NPQ innermost: weights resident across the P loop, psums leave the PE each iteration.
    ("NPQ<CRS<M",
     # weights: a 4; buffer 8 trips * 2 fetches * 4 = 64 -> b 1; array 4 * 16 = 64 -> c 1; d 4.
     (4, 1, 1, 4),
     (1, 2, 2, 1),
     # psums: PE visits v = 4 buffer iterations / 2 output tiles = 2 -> b 2; c 2; d = 4 / (2*2) = 1.
     (1, 2, 2, 1)),
]


@pytest.mark.parametrize("order_buffer, w_chain, i_chain, p_chain", CHAIN_CASES)
def test_eyeriss_reuse_chain_formulas(order_buffer, w_chain, i_chain, p_chain):
    energy = EnergyTable(mac=1.0, rf_filter=1.0, rf_ifmap=1.5, rf_psum=0.5, array=2.0, buffer=6.0, dram=200.0)
    spec = tiny_spec(dataflow="RS", energy=energy)
    layer = conv("pw", 4, 4, 4, k=1)
    m = Mapping.build(rows={"C": 2}, cols={"M": 2}, pe={"Q": 2}, buffer={"P": 2, "C": 2},
                      order_buffer=order_buffer, order_dram="M<NPQ<CRS")
    cost = evaluate_mapping(layer, spec, 16, 16, 16, m)
    w = eyeriss_chain(16, *w_chain, 200.0, 6.0, 2.0, 1.0)
    i = eyeriss_chain(64, *i_chain, 200.0, 6.0, 2.0, 1.5)
    # psums are 2 * 16 + ceil(log2(4)) = 34 bits wide: 34/16 words per move, 3 RF words each
    p = eyeriss_psums(64, *p_chain, 200.0, 6.0, 2.0, 0.5, width=34 / 16, rf_words=3)
    for level in ("dram", "buffer", "array", "rf"):
        assert cost.energy_by_level[level] == pytest.approx(w[level] + i[level] + p[level], rel=1e-12), level
    assert cost.energy_by_level["mac"] == 256.0
    assert w_chain[0] * w_chain[1] * w_chain[2] * w_chain[3] == 256 // 16  # chain covers every use


SMALL_LAYERS = [
    conv("c3", 4, 8, 4, k=3),
    conv("c3s2", 4, 4, 4, k=3, stride=2, h_in=8, w_in=8),
    conv("pw", 8, 4, 4, k=1, n=2),
    Layer("fc", "fc", 16, 8, 1, 1, n=2),
    conv("grp", 8, 8, 4, k=3, groups=2),
]


@pytest.mark.parametrize("layer", SMALL_LAYERS, ids=lambda layer: layer.name)
@pytest.mark.parametrize("dataflow", ["RS", "WS", "OS"])
def test_search_result_matches_naive_loop_walk(layer, dataflow):
    spec = tiny_spec(rows=4, cols=4, dataflow=dataflow).with_buffer_bits(4096)  # small buffer: DRAM-level tiling
    cost = mapper.map_layer(layer, spec, 16, 16, 16)
    walked = naive.count_accesses(layer, cost.mapping)
    for tensor in ("weights", "inputs"):
        for level in ("dram", "buffer", "array"):
            assert cost.counts[tensor][level] == walked[tensor][level], (tensor, level, cost.mapping)
    a = walked["outputs"]["dram_visits"]
    v = walked["outputs"]["pe_visits"]
    assert cost.counts["psums"]["dram"] == layer.n_outputs * (2 * a - 1)
    assert cost.counts["psums"]["buffer"] == layer.n_outputs * 2 * (v - a)


def test_every_order_pair_matches_naive_walk():
    layer = conv("c3", 4, 8, 4, k=3)
    spec = tiny_spec(rows=2, cols=2, dataflow="RS")
    orders = [mapper.order_name(k) for k in range(6)]
    for ob in orders:
        for od in orders:
            m = Mapping.build(rows={"R": 1, "C": 2}, cols={"M": 2}, pe={"S": 3, "Q": 2}, buffer={"P": 2, "M": 2},
                              order_buffer=ob, order_dram=od)
            try:
                cost = evaluate_mapping(layer, spec, 16, 16, 16, m)
            except MappingError:
                continue  # an order whose resident tile overflows an RF
            walked = naive.count_accesses(layer, m)
            for tensor in ("weights", "inputs"):
                for level in ("dram", "buffer", "array"):
                    assert cost.counts[tensor][level] == walked[tensor][level], (ob, od, tensor, level)


def test_search_objective_equals_evaluated_mapping():
    layer = conv("c3", 16, 16, 8, k=3)
    spec = tiny_spec(rows=4, cols=4)
    for objective in ("energy", "latency", "edp"):
        best = mapper.map_layer(layer, spec, 8, 8, 8, objective=objective)
        again = evaluate_mapping(layer, spec, 8, 8, 8, best.mapping)
        assert again.energy == best.energy and again.latency_cycles == best.latency_cycles


def test_illegal_mapping_raises():
    layer = conv("c3", 4, 8, 4, k=3)
    spec = tiny_spec()
    with pytest.raises(MappingError, match="illegal"):
        evaluate_mapping(layer, spec, 16, 16, 16, Mapping.build(rows={"C": 4}))  # 4 rows on a 2x2 array
    with pytest.raises(MappingError):  # 2 lanes at 16 bit: V = 16 // 16 = 1
        evaluate_mapping(layer, spec, 16, 16, 16, Mapping.build(pe={"M": 2}, lanes=2))
    with pytest.raises(MappingError):  # 8 * 3 * 3 = 72 live psums of 34 bits (3 words each) > 16 words
        evaluate_mapping(layer, spec, 16, 16, 16, Mapping.build(pe={"M": 8, "P": 3}))


def test_imperfect_spatial_factor_pads_and_idles():
    # C = 4 on 3 rows: ceil(4 / 3) = 2 passes over a padded C of 6; cycles count both passes (DRAM loops C2 M8 P4
    # Q4 R3 x PE loop S3 = 2304), utilisation only the real MACs: 4*8*4*4*9 = 4608 / (2304 cycles * 3 PEs) = 2/3.
    layer = conv("c3", 4, 8, 4, k=3)
    spec = tiny_spec(rows=3, cols=1)
    cost = evaluate_mapping(layer, spec, 16, 16, 16, Mapping.build(rows={"C": 3}, pe={"S": 3}))
    assert cost.compute_cycles == 2304
    assert cost.utilization == pytest.approx(2 / 3)
    assert cost.mapping.dram_factors(layer)[3] == 2


def test_energy_is_sum_of_levels():
    cost = mapper.map_layer(conv("c3", 16, 32, 8, k=3), tiny_spec(rows=4, cols=4), 4, 4, 8)
    assert cost.energy == pytest.approx(sum(cost.energy_by_level.values()))
    assert np.isfinite(cost.latency_cycles) and cost.latency_cycles >= cost.compute_cycles
