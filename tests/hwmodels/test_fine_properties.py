"""Property tests of the Fine mapper (hypothesis, few deterministic examples): bitwidth, bit-serial and batch laws."""

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
@given(layer=layers, dataflow=st.sampled_from(["RS", "WS", "OS"]), b_w=simd_bits, b_a=simd_bits, b_out=simd_bits,
       which=st.sampled_from(["b_w", "b_a", "b_out"]), objective=st.sampled_from(["energy", "latency"]))
def test_lowering_a_bitwidth_never_raises_the_best_cost(layer, dataflow, b_w, b_a, b_out, which, objective):
    # Lower precision packs more operands per RF word / buffer bit and allows more lanes, so the search space
    # only grows and no mapping gets dearer (hw-flowq 3.3: quantisation lets larger tiles fit).
    spec = load_spec("spatial-168", dataflow=dataflow)
    bits = {"b_w": b_w, "b_a": b_a, "b_out": b_out}
    lower = dict(bits, **{which: max(2, bits[which] // 2)})  # 16 -> 8 -> 4 -> 2 (2 stays 2)
    high = mapper.map_layer(layer, spec, bits["b_w"], bits["b_a"], bits["b_out"], objective=objective)
    low = mapper.map_layer(layer, spec, lower["b_w"], lower["b_a"], lower["b_out"], objective=objective)
    metric = "energy" if objective == "energy" else "latency_cycles"
    assert getattr(low, metric) <= getattr(high, metric) * (1 + 1e-12)


@SETTINGS
@given(dataflow=st.sampled_from(["RS", "WS", "OS"]), b_w=st.integers(1, 16), b_a=st.integers(1, 16))
def test_bit_serial_latency_scales_with_bw_times_ba(dataflow, b_w, b_a):
    # hw-flowq eq. 4: a lane needs b_w * b_a cycles per MAC. With unlimited DRAM bandwidth the layer is compute
    # bound, so latency(b_w, b_a) = latency(16, 16) * b_w * b_a / 256.
    spec = load_spec("bs-256", dataflow=dataflow, dram_bw_bits_per_cycle=1e12)
    layer = conv("x", 16, 16, 8, k=3)
    full = mapper.map_layer(layer, spec, 16, 16, 16, objective="latency").latency_cycles
    got = mapper.map_layer(layer, spec, b_w, b_a, 16, objective="latency").latency_cycles
    assert got * 256 == full * b_w * b_a


@SETTINGS
@given(layer=layers, preset=st.sampled_from(["spatial-168", "spatial-256", "bs-256"]),
       dataflow=st.sampled_from(["RS", "WS", "OS"]), bits=simd_bits)
def test_batch_4_never_costs_more_than_4x_batch_1(layer, preset, dataflow, bits):
    # Any batch-1 mapping with a batch loop of 4 outermost at DRAM is a legal batch-4 mapping costing <= 4x.
    spec = load_spec(preset, dataflow=dataflow)
    one = mapper.map_layer(layer, spec, bits, bits, bits, objective="energy")
    four = mapper.map_layer(layer.with_batch(4), spec, bits, bits, bits, objective="energy")
    assert four.energy <= 4 * one.energy * (1 + 1e-12)
    one_l = mapper.map_layer(layer, spec, bits, bits, bits, objective="latency")
    four_l = mapper.map_layer(layer.with_batch(4), spec, bits, bits, bits, objective="latency")
    assert four_l.latency_cycles <= 4 * one_l.latency_cycles * (1 + 1e-12)


@SETTINGS
@given(layer=layers, bits=simd_bits, kilobytes=st.sampled_from([1, 4, 16, 128]))
def test_fine_dram_traffic_never_below_the_buffer_tiling_minimum(layer, bits, kilobytes):
    # Fine's DRAM level uses the shared _tiling counting over a subset of the tilings Mid searches.
    spec = load_spec("spatial-168").with_buffer_bits(kilobytes * 8192)
    fine = mapper.map_layer(layer, spec, bits, bits, bits)
    mid_bits, _, _ = best_buffer_tiling(layer, bits, bits, bits, spec.buffer_size_bits, spec.b_max)
    assert fine.dram_accesses_bits >= mid_bits
