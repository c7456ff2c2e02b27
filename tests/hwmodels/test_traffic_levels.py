"""Fine >= Mid >= Coarse DRAM traffic wherever Mid tiles a layer (issue 18 item 6).

Mid's tiler tries ceil-divided tile extents with their padding counted as Fine counts it, and the spec's bypass and
psum width as Fine has them, so no Fine mapping (energy- or latency-optimal, filling or any unrolling, Eyeriss or
Timeloop accounting, bypass or not) moves fewer DRAM bits than Mid's best tiling, and Mid never fewer than the
compulsory traffic (each weight, used input and output once). A few deterministic examples run in `make test`;
the slow test draws many more.
"""

import dataclasses

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hwmodels import mid
from hwmodels.errors import MappingError
from hwmodels.fine import mapper
from hwmodels.spec import load_spec, validate_spec
from hwmodels.workload import conv, fc


@st.composite
def _layers(draw):
    kind = draw(st.sampled_from(["conv", "conv", "dw", "fc"]))
    if kind == "fc":
        return fc("x", draw(st.integers(1, 300)), draw(st.integers(1, 200)))
    c_in = draw(st.integers(1, 40))
    k = draw(st.sampled_from([1, 3, 5, 7]))
    stride = draw(st.integers(1, 3))
    h = draw(st.integers(1, 23))
    if kind == "dw":
        return conv("x", c_in, c_in, h, k=k, stride=stride, groups=c_in) if c_in > 1 else conv("x", 1, 1, h, k=k)
    return conv("x", c_in, draw(st.integers(1, 40)), h, w_out=draw(st.integers(1, 23)), k=k, stride=stride)


@st.composite
def _cases(draw):
    layer = draw(_layers())
    spec = load_spec(draw(st.sampled_from(["spatial-168", "spatial-256", "eyeriss-256-db", "bs-256"])),
                     dataflow=draw(st.sampled_from(["RS", "WS", "OS"])))
    variant = dict(buffer_size_bits=draw(st.sampled_from([512, 2048, 8192, 65536, 2 ** 21])),
                   unrolling=draw(st.sampled_from(["fill", "any"])),
                   bypass=draw(st.sampled_from([[], ["weights"], ["inputs"]])),
                   accounting=draw(st.sampled_from(["eyeriss", "timeloop"])))
    spec = validate_spec(dataclasses.replace(spec, **variant))
    bits = st.sampled_from([b for b in spec.bitwidths if b <= 16])
    return layer, spec, draw(bits), draw(bits), draw(bits), draw(st.sampled_from(["energy", "latency"]))


def _check(case):
    layer, spec, b_w, b_a, b_out, objective = case
    try:
        mid_bits = mid.best_tiling(layer, b_w, b_a, b_out, spec)[0]
    except MappingError:
        return None  # "wherever Mid maps"
    compulsory = layer.n_weights * b_w + layer.n_inputs_used * b_a + layer.n_outputs * b_out
    assert mid_bits >= compulsory
    try:
        fine = mapper.map_layer(layer, spec, b_w, b_a, b_out, objective=objective)
    except MappingError:
        return None  # the RFs hold no PE tile: no Fine mapping to compare
    assert fine.dram_accesses_bits >= mid_bits, (layer, spec, fine.mapping)
    return fine.dram_accesses_bits / mid_bits


COMMON = dict(deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow])


@settings(max_examples=25, **COMMON)
@given(_cases())
def test_fine_traffic_is_at_least_mid_and_mid_at_least_compulsory(case):
    _check(case)


@pytest.mark.slow
@settings(max_examples=300, **COMMON)
@given(_cases())
def test_fine_traffic_is_at_least_mid_and_mid_at_least_compulsory_many(case):
    _check(case)


def test_padded_tiles_count_as_fine_counts_them():
    # 5 -> 5 channels, 7 x 7 outputs, 3 x 3 kernel, 16 bit, a 7000-bit buffer. The best divisor tiling moves 22,640
    # bits; the Fine mapper's OS mapping pads P (7 = 2 steps of 4) and moves 20,320 (10 % less: the issue's
    # Fine-below-Mid). Mid's tiler now tries that padded tile too and equals the Fine mapping.
    layer = conv("x", 5, 5, 7, k=3)
    spec = validate_spec(dataclasses.replace(load_spec("spatial-256", dataflow="OS"), buffer_size_bits=7000,
                                             double_buffer=False))
    divisor_only = min(_divisor_tilings(layer, spec))
    bits, tile, _ = mid.best_tiling(layer, 16, 16, 16, spec)
    fine = mapper.map_layer(layer, spec, 16, 16, 16)
    assert divisor_only == 22_640
    assert fine.dram_accesses_bits == bits == 20_320
    assert any(bound % t for bound, t in zip((1, 1, 5, 5, 7, 7, 3, 3), tile))  # an imperfect tile extent


def _divisor_tilings(layer, spec):
    """DRAM bits of every divisor tiling that fits (16 bit, every order), straight from `_tiling`'s counters."""
    import itertools

    import numpy as np

    from hwmodels.fine import _tiling as T

    bounds, geom = T.layer_bounds(layer), T.layer_geometry(layer)
    b_psum = int(T._psum_bits(16, 16, layer.reduction_size, 0))
    bits = np.array([16, 16, 16, b_psum], dtype=np.int64)
    out = np.empty((6, 3), dtype=np.int64)
    visits = np.empty(6, dtype=np.int64)
    for tile in itertools.product(*[[t for t in range(1, b + 1) if b % t == 0] for b in bounds]):
        tile = np.array(tile, dtype=np.int64)
        if T._footprint_bits(bounds, tile, geom, 16, 16, 16, b_psum) <= spec.buffer_size_bits:
            T._dram_by_order(bounds, tile, geom, bits, out, visits)
            yield int(out.sum(axis=1).min())
