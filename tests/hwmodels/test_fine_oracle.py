"""The Fine mapper's optimum equals an independent brute force (tests/hwmodels/oracle.py) on random small layers."""

import random

import pytest

from hwmodels.fine import mapper
from hwmodels.fine._tiling import _psum_bits
from hwmodels.fine.pack import psum_cap
from hwmodels.spec import AcceleratorSpec, EnergyTable
from hwmodels.workload import Layer

import oracle  # tests/hwmodels/oracle.py

N_CASES = 300
OBJECTIVES = ("energy", "latency", "edp")


def random_case(seed: int):
    """A small layer (conv, depthwise, FC; stride 1-2; batch 1-2), a small accelerator, bitwidths in {2,4,8,16}."""
    rng = random.Random(seed)
    kind = rng.choice(["conv", "conv", "dw", "fc"])
    n = rng.choice([1, 1, 2])
    if kind == "fc":
        layer = Layer("fc", "fc", rng.randint(1, 6), rng.randint(1, 6), 1, 1, n=n)
    else:
        k = rng.choice([1, 2, 3])
        stride = rng.choice([1, 2])
        h_out = rng.randint(1, 3 if k < 3 else 2)
        w_out = rng.randint(1, 2)
        if kind == "dw":
            g = rng.randint(1, 4)
            layer = Layer("dw", "dw", g, g, h_out, w_out, k_h=k, k_w=rng.choice([1, k]), stride=stride, groups=g, n=n)
        else:
            layer = Layer("c", "conv", rng.randint(1, 3), rng.randint(1, 3), h_out, w_out, k_h=k, k_w=rng.choice([1, k]),
                          stride=stride, n=n)
    pe_type = rng.choice(["simd", "simd", "bitserial"])
    bits = (2, 4, 8, 16)
    b_w, b_a, b_out = rng.choice(bits), rng.choice(bits), rng.choice(bits)
    energy = EnergyTable(mac=1.0, rf_filter=rng.choice([0.5, 1.0]), rf_ifmap=rng.choice([0.5, 1.0]),
                         rf_psum=rng.choice([0.5, 1.0, 2.0]), array=rng.choice([0.0, 2.0]),
                         buffer=rng.choice([6.0, 14.0]), dram=200.0)
    spec = AcceleratorSpec(
        name=f"oracle-{seed}", pe_rows=rng.randint(1, 3), pe_cols=rng.randint(1, 3), pe_type=pe_type,
        lanes=rng.randint(1, 3) if pe_type == "bitserial" else 1, bitwidths=bits, dataflow=rng.choice(["RS", "WS", "OS"]),
        rf_filter_words=rng.randint(1, 8), rf_ifmap_words=rng.randint(1, 6), rf_psum_words=rng.randint(3, 8),
        buffer_size_bits=rng.choice([256, 512, 1024, 4096, 1 << 16]), word_bits=16,
        dram_bw_bits_per_cycle=rng.choice([16.0, 64.0, 1e9]), buffer_bw_bits_per_cycle=rng.choice([0.0, 0.0, 32.0]),
        energy=energy, double_buffer=rng.random() < 0.2,
        bypass=rng.choice([(), (), ("weights",), ("inputs",), ("weights", "inputs")]),
        accounting=rng.choice(["eyeriss", "eyeriss", "timeloop"]), unrolling=rng.choice(["fill", "fill", "any"]))
    return layer, spec, b_w, b_a, b_out


def oracle_costs(layer, spec, b_w, b_a, b_out, minimal=False):
    bounds = dict(zip(oracle.DIMS, (layer.n, layer.groups, layer.c_out // layer.groups, layer.c_in // layer.groups,
                                    layer.h_out, layer.w_out, layer.k_h, layer.k_w)))
    geom = (layer.stride, layer.stride, layer.h_in, layer.w_in)
    b_psum = int(_psum_bits(b_w, b_a, layer.reduction_size, psum_cap(spec)))
    return list(oracle.all_mappings_costs(bounds, geom, (b_w, b_a, b_out, b_psum), spec, minimal))


@pytest.mark.slow
@pytest.mark.parametrize("block", range(10))
def test_mapper_optimum_equals_brute_force(block):
    checked = 0
    for seed in range(block * N_CASES // 10, (block + 1) * N_CASES // 10):
        layer, spec, b_w, b_a, b_out = random_case(seed)
        costs = oracle_costs(layer, spec, b_w, b_a, b_out)
        for objective in OBJECTIVES:
            for tolerance in (0.0, 0.005):
                if not costs:
                    with pytest.raises(Exception):
                        mapper.map_layer(layer, spec, b_w, b_a, b_out, objective=objective, tolerance=tolerance)
                    continue
                want = oracle.optimum(costs, objective, tolerance)
                got = mapper.map_layer(layer, spec, b_w, b_a, b_out, objective=objective, tolerance=tolerance)
                assert (got.energy, got.latency_cycles) == pytest.approx(want, rel=1e-9), (seed, objective, tolerance)
        checked += bool(costs)
    assert checked >= N_CASES // 10 * 0.8  # most cases have a legal mapping


@pytest.mark.parametrize("seed", [pytest.param(s, marks=pytest.mark.slow) if s >= 2 else s for s in range(12)])
def test_vectorised_oracle_equals_loop_oracle(seed):
    """The numpy buffer level of the full-array oracle (per-PE-tile Pareto fronts) gives the plain loops' optima."""
    layer, spec, b_w, b_a, b_out = random_case(seed)
    bounds = dict(zip(oracle.DIMS, (layer.n, layer.groups, layer.c_out // layer.groups, layer.c_in // layer.groups,
                                    layer.h_out, layer.w_out, layer.k_h, layer.k_w)))
    geom = (layer.stride, layer.stride, layer.h_in, layer.w_in)
    bits = (b_w, b_a, b_out, int(_psum_bits(b_w, b_a, layer.reduction_size, psum_cap(spec))))
    loops = list(oracle.all_mappings_costs(bounds, geom, bits, spec, vectorised=False))
    fronts = list(oracle.all_mappings_costs(bounds, geom, bits, spec, vectorised=True))
    assert len(loops) == 0 or 0 < len(fronts) <= len(loops)
    for objective in OBJECTIVES:
        for tolerance in (0.0, 0.005):
            if loops:
                assert oracle.optimum(fronts, objective, tolerance) == pytest.approx(
                    oracle.optimum(loops, objective, tolerance), rel=1e-12)
