"""Level invariants (hw-flowq Sec. 5, Fig. 6): Coarse bounds Mid bounds Fine, Mid approaches Coarse with buffer."""

import importlib.util
import math
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hwmodels import api
from hwmodels.errors import MappingError
from hwmodels.spec import load_spec
from hwmodels.workload import conv, fc

ROOT = Path(__file__).resolve().parents[2]
_spec = importlib.util.spec_from_file_location("fig6_levels", ROOT / "experiments" / "fig6_levels.py")
fig6 = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(fig6)

SPEC = load_spec("eyeriss-256-db")
SMALL_NET = [conv("c1", 3, 16, 16, k=3, h_in=16, w_in=16), conv("c2", 16, 32, 8, k=3, stride=2, h_in=16, w_in=16),
             conv("c3", 32, 32, 8, k=1, h_in=8, w_in=8), fc("fc", 32 * 8 * 8, 10)]
KB = 8 * 1024
BUFFERS = [2 * KB, 4 * KB, 8 * KB, 16 * KB, 64 * KB, 512 * KB]


def _curves():
    rows = fig6.compute_curves(SMALL_NET, SPEC, BUFFERS, bitwidths=(16, 4))
    return {(r["level"], r["bits"], r["buffer_bits"]): r for r in rows}


CURVES = _curves()


def test_fig6_orderings_on_small_network():
    checked_fine = 0
    for bits in (16, 4):
        for buffer_bits in BUFFERS:
            c, m, f = (CURVES[(level, bits, buffer_bits)] for level in ("coarse", "mid", "fine"))
            assert m["dram_accesses_bits"] >= c["dram_accesses_bits"]
            assert m["throughput"] <= c["throughput"]
            if not math.isnan(f["dram_accesses_bits"]):
                checked_fine += 1
                assert f["dram_accesses_bits"] >= m["dram_accesses_bits"]
                assert f["throughput"] <= m["throughput"] * (1 + 1e-12)
    assert checked_fine >= 8  # Fine maps the network at most buffer sizes


def test_fig6_mid_approaches_coarse_and_lower_bits_sooner():
    def first_buffer_at_coarse(bits):
        for buffer_bits in BUFFERS:
            if CURVES[("mid", bits, buffer_bits)]["dram_accesses_bits"] == CURVES[("coarse", bits, buffer_bits)][
                    "dram_accesses_bits"]:
                return buffer_bits
        return math.inf

    for bits in (16, 4):
        traffic = [CURVES[("mid", bits, b)]["dram_accesses_bits"] for b in BUFFERS]
        assert all(a >= b for a, b in zip(traffic, traffic[1:]))  # non-increasing in buffer size
        coarse = CURVES[("coarse", bits, BUFFERS[-1])]["dram_accesses_bits"]
        assert traffic[-1] == coarse  # 512 KB holds every layer's working set
    assert first_buffer_at_coarse(4) <= first_buffer_at_coarse(16)
    assert CURVES[("mid", 16, BUFFERS[0])]["dram_accesses_bits"] > CURVES[("coarse", 16, BUFFERS[0])][
        "dram_accesses_bits"]  # 2 KB is too small at 16 bit: refetches show


def test_fig6_script_writes_csv_and_png(tmp_path):
    rows = [r for r in CURVES.values() if r["bits"] == 4]
    fig6.write_csv(rows, tmp_path / "c.csv")
    fig6.plot(rows, tmp_path / "p.png", "test")
    assert (tmp_path / "c.csv").read_text().count("\n") == len(rows) + 1
    assert (tmp_path / "p.png").stat().st_size > 10_000


# ---- property tests over random layers, genomes and buffer sizes ---------------------------------------------------

BITS = st.sampled_from(SPEC.bitwidths)


@st.composite
def layers(draw):
    c_in = draw(st.sampled_from([1, 3, 4, 8, 16]))
    c_out = draw(st.sampled_from([2, 4, 8, 16]))
    size = draw(st.sampled_from([1, 2, 4, 7, 8]))
    k = draw(st.sampled_from([1, 3])) if size > 1 else 1
    stride = draw(st.sampled_from([1, 2])) if size > 1 else 1
    h_in = (size - 1) * stride + k
    n = draw(st.sampled_from([1, 2]))
    return conv("x", c_in, c_out, size, k=k, stride=stride, h_in=h_in, w_in=h_in, n=n)


def _total(level, layer_list, spec, bw, ba):
    return api.evaluate(layer_list, spec, bw, ba, level=level).total


@settings(max_examples=25, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow])
@given(layer=layers(), b_w=BITS, b_a=BITS, b_next=BITS, log2_buffer=st.integers(9, 20))
def test_levels_bound_each_other(layer, b_w, b_a, b_next, log2_buffer):
    # a two-layer network so that the first layer's output is written at b_next (shared bit contract)
    network = [layer, fc("head", layer.c_out * layer.h_out * layer.w_out, 4, n=layer.n)]
    spec = SPEC.with_buffer_bits(2 ** log2_buffer)
    bw, ba = [b_w, 16], [b_a, b_next]
    coarse = _total("coarse", network, spec, bw, ba)
    try:
        mid = _total("mid", network, spec, bw, ba)
    except MappingError:
        return  # not even a 1x..x1 tile fits: Mid and Fine both refuse, consistently
    assert mid["dram_accesses_bits"] >= coarse["dram_accesses_bits"]
    assert mid["throughput"] <= coarse["throughput"]
    try:
        fine = _total("fine", network, spec, bw, ba)
    except MappingError:
        return
    assert fine["dram_accesses_bits"] >= mid["dram_accesses_bits"]
    assert fine["throughput"] <= mid["throughput"] * (1 + 1e-12)


@settings(max_examples=25, deadline=None, derandomize=True)
@given(layer=layers(), b_w=BITS, b_a=BITS, b_out=BITS, low=st.integers(9, 22), high=st.integers(9, 22))
def test_mid_traffic_monotone_in_buffer_and_bits(layer, b_w, b_a, b_out, low, high):
    from hwmodels import mid

    small, large = sorted((low, high))
    working_set = layer.n_weights * b_w + layer.n_inputs * b_a + layer.n_outputs * b_out
    try:
        at_small = mid.best_tiling(layer, b_w, b_a, b_out, SPEC.with_buffer_bits(2 ** small))[0]
    except MappingError:
        at_small = math.inf
    at_large = mid.best_tiling(layer, b_w, b_a, b_out, SPEC.with_buffer_bits(max(2 ** large, 64)))[0]
    assert at_large <= at_small  # non-increasing in buffer size
    # once the buffer holds the whole layer (its working set), Mid = Coarse's compulsory traffic
    assert mid.best_tiling(layer, b_w, b_a, b_out, SPEC.with_buffer_bits(working_set))[0] == working_set
    # lower bitwidths reach Coarse at smaller buffers: a buffer that gives compulsory traffic at (b_w, b_a, b_out)
    # also does at (2, 2, 2)
    if at_large == working_set:
        lower = mid.best_tiling(layer, 2, 2, 2, SPEC.with_buffer_bits(max(2 ** large, 64)))[0]
        assert lower == layer.n_weights * 2 + layer.n_inputs * 2 + layer.n_outputs * 2
