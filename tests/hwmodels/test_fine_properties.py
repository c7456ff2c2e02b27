"""Property tests of the Fine mapper (hypothesis, few deterministic examples): bit-serial and Mid laws.

The bitwidth / RF / buffer / batch monotonicity laws over the large space are in test_fine_monotone.py."""

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hwmodels.fine import mapper
from hwmodels.fine._tiling import best_buffer_tiling
from hwmodels.spec import load_spec
from hwmodels.workload import conv

SETTINGS = settings(max_examples=12, deadline=None, derandomize=True,
                    suppress_health_check=[HealthCheck.too_slow])

layers = st.builds(lambda c_in, c_out, h, k: conv("x", c_in, c_out, h, k=k),
                   st.sampled_from([3, 8, 16]), st.sampled_from([4, 8, 16, 32]), st.sampled_from([2, 4, 8]),
                   st.sampled_from([1, 3]))
simd_bits = st.sampled_from([2, 4, 8, 16])


@SETTINGS
@given(dataflow=st.sampled_from(["RS", "WS", "OS"]), b_w=st.integers(1, 16), b_a=st.integers(1, 16))
def test_bit_serial_latency_scales_with_bw_times_ba(dataflow, b_w, b_a):
    # hw-flowq eq. 4: a lane needs b_w * b_a cycles per MAC. With unlimited DRAM bandwidth the layer is compute
    # bound: the 16-bit mapping runs in latency(16, 16) * b_w * b_a / 256 at (b_w, b_a) (narrower psums only let
    # more mappings fit), and no mapping beats MACs / (256 PEs * 16 lanes) steps of b_w * b_a cycles.
    spec = load_spec("bs-256", dataflow=dataflow, dram_bw_bits_per_cycle=1e12)
    layer = conv("x", 16, 16, 8, k=3)
    full = mapper.map_layer(layer, spec, 16, 16, 16, objective="latency", tolerance=0.0).latency_cycles
    got = mapper.map_layer(layer, spec, b_w, b_a, 16, objective="latency", tolerance=0.0).latency_cycles
    assert got * 256 <= full * b_w * b_a
    assert got >= 16 * 16 * 8 * 8 * 9 / (256 * 16) * b_w * b_a


@SETTINGS
@given(layer=layers, bits=simd_bits, kilobytes=st.sampled_from([1, 4, 16, 128]))
def test_fine_finds_a_mapping_wherever_mid_finds_a_tiling(layer, bits, kilobytes):
    # Fine's space holds the all-ones spatial / PE tile with every buffer tiling Mid searches, so wherever Mid
    # finds a buffer tile (no exception) Fine maps the layer; with no imperfect factor in the chosen mapping
    # its DRAM traffic is one of the tilings Mid minimised over.
    spec = load_spec("spatial-168").with_buffer_bits(kilobytes * 8192)
    mid_bits, _, _ = best_buffer_tiling(layer, bits, bits, bits, spec.buffer_size_bits, spec.b_max)
    fine = mapper.map_layer(layer, spec, bits, bits, bits)
    if fine.mapping.dram_factors(layer) == tuple(
            b // (r * c * p * f) for b, r, c, p, f in zip(
                (layer.n, layer.groups, layer.c_out // layer.groups, layer.c_in // layer.groups, layer.h_out,
                 layer.w_out, layer.k_h, layer.k_w), fine.mapping.rows, fine.mapping.cols, fine.mapping.pe,
                fine.mapping.buffer)):
        assert fine.dram_accesses_bits >= mid_bits
