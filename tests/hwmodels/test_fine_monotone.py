"""Monotonicity laws of the Fine mapper over a large random space (hypothesis): bitwidths, RF / buffer sizes, batch.

They hold by construction: for a fixed mapping every cost term is non-decreasing in each bitwidth and a lower
bitwidth / larger RF / larger buffer only relaxes the capacity checks, so the space only grows and the exact
search's optimum cannot rise. A batch-n mapping can run the batch-1 optimum n times (N as a DRAM loop). The
mapper is called with tolerance=0 (the exact optimum; the default 0.5 % tie-break window returns a mapping up to
0.5 % above it). The "fill" spatial space keeps a spatial choice by comparing its trip vector with those of the
same lane choice only, which no bitwidth, RF or buffer size changes, so those laws hold there too. The batch law
is not guaranteed there by construction (with batch n, a spatial choice unrolling N may dominate the batch-1 one),
so the hypothesis search is the evidence: 0 violations in every run so far.
"""

from dataclasses import replace

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hwmodels.errors import MappingError
from hwmodels.fine import mapper
from hwmodels.spec import PRESETS, load_spec
from hwmodels.workload import Layer

SETTINGS = settings(max_examples=60, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow])
MANY = settings(max_examples=600, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow])
ANY_MAX_MACS = 1_500_000  # the "any" spatial space is far larger: its exact search takes 30-70 s on big OS layers


@st.composite
def layers(draw, max_macs=None):
    """conv / depthwise / FC layers with h, w up to 56, C, M up to 256, stride 1-2, batch 1-4 (with `max_macs`,
    the spatial size is halved until the layer has at most that many MACs)."""
    kind = draw(st.sampled_from(["conv", "conv", "dw", "fc"]))
    n = draw(st.integers(1, 4))
    c_in = draw(st.integers(1, 256))
    if kind == "fc":
        return Layer("fc", "fc", c_in, draw(st.integers(1, 256)), 1, 1, n=n)
    k = draw(st.sampled_from([1, 3, 5]))
    stride = draw(st.integers(1, 2))
    h, w = draw(st.integers(1, 56)), draw(st.integers(1, 56))
    c_out = c_in if kind == "dw" else draw(st.integers(1, 256))
    per_pixel = n * c_out * k * k * (1 if kind == "dw" else c_in)
    while max_macs and per_pixel * h * w > max_macs and h * w > 1:
        h, w = max(1, h // 2), max(1, w // 2)
    if max_macs and per_pixel * h * w > max_macs:
        c_out = max(1, c_out * max_macs // (per_pixel * h * w))
        c_in = c_out if kind == "dw" else c_in
    return Layer(kind, kind, c_in, c_out, h, w, k_h=k, k_w=k, stride=stride, groups=c_in if kind == "dw" else 1,
                 n=n)


@st.composite
def cases(draw):
    """(layer, spec): every preset and dataflow, both spatial spaces; layers uncapped in the default "fill" space."""
    spec = load_spec(draw(st.sampled_from(PRESETS)), dataflow=draw(st.sampled_from(["RS", "WS", "OS"])),
                     unrolling=draw(st.sampled_from(["fill", "fill", "any"])))
    return draw(layers(None if spec.unrolling == "fill" else ANY_MAX_MACS)), spec


def best(layer, spec, b_w, b_a, b_out):
    """(best energy, best latency) at tolerance 0, or None when nothing maps."""
    try:
        e = mapper.map_layer(layer, spec, b_w, b_a, b_out, objective="energy", tolerance=0.0).energy
        lat = mapper.map_layer(layer, spec, b_w, b_a, b_out, objective="latency", tolerance=0.0).latency_cycles
    except MappingError:
        return None
    return e, lat


def check_lower_bits(case, data):
    layer, spec = case
    bits = spec.bitwidths
    b_w, b_a, b_out = (data.draw(st.sampled_from(bits)) for _ in range(3))
    which = data.draw(st.sampled_from(["b_w", "b_a"]))
    current = b_w if which == "b_w" else b_a
    lower = [b for b in bits if b < current]
    if not lower:
        return
    low_bit = data.draw(st.sampled_from(lower))
    high = best(layer, spec, b_w, b_a, b_out)
    if high is None:
        return
    low = best(layer, spec, low_bit if which == "b_w" else b_w, low_bit if which == "b_a" else b_a, b_out)
    assert low is not None
    assert low[0] <= high[0] * (1 + 1e-12)
    assert low[1] <= high[1] * (1 + 1e-12)


def check_larger_storage(case, field, factor, bits):
    layer, spec = case
    bigger = replace(spec, **{field: getattr(spec, field) * factor})
    small = best(layer, spec, bits, bits, bits)
    if small is None:
        return
    large = best(layer, bigger, bits, bits, bits)
    assert large is not None
    assert large[0] <= small[0] * (1 + 1e-12)
    assert large[1] <= small[1] * (1 + 1e-12)


def check_batch(case, n, bits):
    layer, spec = case
    one = best(replace(layer, n=1), spec, bits, bits, bits)
    if one is None:
        return
    many = best(replace(layer, n=n), spec, bits, bits, bits)
    assert many is not None
    assert many[0] <= n * one[0] * (1 + 1e-12)
    assert many[1] <= n * one[1] * (1 + 1e-12)


STORAGE = st.sampled_from(["rf_filter_words", "rf_ifmap_words", "rf_psum_words", "buffer_size_bits"])
BITS = st.sampled_from([2, 4, 8, 16])


@SETTINGS
@given(case=cases(), data=st.data())
def test_lowering_b_w_or_b_a_never_raises_best_energy_or_latency(case, data):
    check_lower_bits(case, data)


@SETTINGS
@given(case=cases(), field=STORAGE, factor=st.sampled_from([2, 4]), bits=BITS)
def test_larger_rf_or_buffer_never_raises_best_energy_or_latency(case, field, factor, bits):
    check_larger_storage(case, field, factor, bits)


@SETTINGS
@given(case=cases(), n=st.integers(2, 4), bits=BITS)
def test_batch_n_never_costs_more_than_n_times_batch_1(case, n, bits):
    check_batch(case, n, bits)


@pytest.mark.slow
@MANY
@given(case=cases(), data=st.data())
def test_lowering_bits_many_examples(case, data):
    check_lower_bits(case, data)


@pytest.mark.slow
@MANY
@given(case=cases(), field=STORAGE, factor=st.sampled_from([2, 4]), bits=BITS)
def test_larger_storage_many_examples(case, field, factor, bits):
    check_larger_storage(case, field, factor, bits)


@pytest.mark.slow
@MANY
@given(case=cases(), n=st.integers(2, 4), bits=BITS)
def test_batch_many_examples(case, n, bits):
    check_batch(case, n, bits)
