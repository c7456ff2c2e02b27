"""Monotonicity laws of the Fine mapper over a large random space (hypothesis): bitwidths, RF / buffer sizes, batch.

They hold by construction: for a fixed mapping every cost term is non-decreasing in each bitwidth and a lower
bitwidth / larger RF / larger buffer only relaxes the capacity checks, so the space only grows and the exact
search's optimum cannot rise. A batch-n mapping can run the batch-1 optimum n times (N as a DRAM loop). The
mapper is called with tolerance=0 (the exact optimum; the default 0.5 % tie-break window returns a mapping up to
0.5 % above it).
"""

from dataclasses import replace

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hwmodels.errors import MappingError
from hwmodels.fine import mapper
from hwmodels.spec import PRESETS, load_spec
from hwmodels.workload import Layer

SETTINGS = settings(max_examples=20, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow])
MAX_MACS = 1_500_000  # keeps one search well under a second on every dataflow


@st.composite
def layers(draw):
    """conv / depthwise / FC layers with h, w up to 56, C, M up to 256, stride 1-2, batch 1-4 (spatial size
    halved until the layer has at most MAX_MACS MACs)."""
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
    while per_pixel * h * w > MAX_MACS and h * w > 1:
        h, w = max(1, h // 2), max(1, w // 2)
    if per_pixel * h * w > MAX_MACS:
        c_out = max(1, c_out * MAX_MACS // (per_pixel * h * w))
        c_in = c_out if kind == "dw" else c_in
    return Layer(kind, kind, c_in, c_out, h, w, k_h=k, k_w=k, stride=stride, groups=c_in if kind == "dw" else 1,
                 n=n)


def best(layer, spec, b_w, b_a, b_out):
    """(best energy, best latency) at tolerance 0, or None when nothing maps."""
    try:
        e = mapper.map_layer(layer, spec, b_w, b_a, b_out, objective="energy", tolerance=0.0).energy
        lat = mapper.map_layer(layer, spec, b_w, b_a, b_out, objective="latency", tolerance=0.0).latency_cycles
    except MappingError:
        return None
    return e, lat


specs = st.builds(lambda preset, dataflow: load_spec(preset, dataflow=dataflow), st.sampled_from(PRESETS),
                  st.sampled_from(["RS", "WS", "OS"]))


@SETTINGS
@given(layer=layers(), spec=specs, data=st.data())
def test_lowering_b_w_or_b_a_never_raises_best_energy_or_latency(layer, spec, data):
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


@SETTINGS
@given(layer=layers(), spec=specs, field=st.sampled_from(["rf_filter_words", "rf_ifmap_words", "rf_psum_words",
                                                          "buffer_size_bits"]),
       factor=st.sampled_from([2, 4]), bits=st.sampled_from([2, 4, 8, 16]))
def test_larger_rf_or_buffer_never_raises_best_energy_or_latency(layer, spec, field, factor, bits):
    bigger = replace(spec, **{field: getattr(spec, field) * factor})
    small = best(layer, spec, bits, bits, bits)
    if small is None:
        return
    large = best(layer, bigger, bits, bits, bits)
    assert large is not None
    assert large[0] <= small[0] * (1 + 1e-12)
    assert large[1] <= small[1] * (1 + 1e-12)


@SETTINGS
@given(layer=layers(), spec=specs, n=st.integers(2, 4), bits=st.sampled_from([2, 4, 8, 16]))
def test_batch_n_never_costs_more_than_n_times_batch_1(layer, spec, n, bits):
    one = best(replace(layer, n=1), spec, bits, bits, bits)
    if one is None:
        return
    many = best(replace(layer, n=n), spec, bits, bits, bits)
    assert many is not None
    assert many[0] <= n * one[0] * (1 + 1e-12)
    assert many[1] <= n * one[1] * (1 + 1e-12)
