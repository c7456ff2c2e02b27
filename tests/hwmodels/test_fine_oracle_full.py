"""The Fine mapper's optimum equals the brute force of tests/hwmodels/oracle.py (no pruning, every factor) on small
layers mapped onto the FULL arrays of the shipped presets (12x14, 16x16, 32x32, bit-serial) with their real energy
tables, buffers and bandwidths (issue 18: the 3x3-PE oracle could not see a wrong psum bound)."""

import random

import pytest

from hwmodels.fine import mapper
from hwmodels.spec import PRESETS, load_spec
from hwmodels.workload import Layer

import oracle  # tests/hwmodels/oracle.py
from test_fine_oracle import oracle_costs

N_CASES = 300
OBJECTIVES = ("energy", "latency", "edp")
MAX_MACS = 1_500


def small_layer(rng: random.Random) -> Layer:
    """conv / depthwise / FC of at most MAX_MACS MACs (k 1-5, stride 1-2), big enough to fill part of an array."""
    kind = rng.choice(["conv", "conv", "dw", "fc"])
    if kind == "fc":
        c_in = rng.randint(1, 96)
        return Layer("fc", "fc", c_in, rng.randint(1, max(1, min(96, MAX_MACS // c_in))), 1, 1)
    k = rng.choice([1, 3, 3, 5])
    stride = rng.choice([1, 1, 2])
    c_in = rng.randint(1, 16)
    c_out = c_in if kind == "dw" else rng.randint(1, 16)
    per_pixel = c_out * k * k * (1 if kind == "dw" else c_in)
    pixels = max(1, MAX_MACS // per_pixel)
    h = rng.randint(1, max(1, min(14, int(pixels ** 0.5))))
    w = rng.randint(1, max(1, min(14, pixels // h)))
    if per_pixel * h * w > MAX_MACS:
        c_in = c_out = 1 if kind == "dw" else c_in
        h = w = 1
    return Layer(kind, kind, c_in, c_out, h, w, k_h=k, k_w=k, stride=stride, groups=c_in if kind == "dw" else 1)


def real_case(seed: int):
    rng = random.Random(seed)
    spec = load_spec(PRESETS[seed % len(PRESETS)], dataflow=("RS", "WS", "OS")[seed // len(PRESETS) % 3])
    layer = small_layer(rng)
    b_w, b_a, b_out = (rng.choice(spec.bitwidths) for _ in range(3))
    return layer, spec, b_w, b_a, b_out


def check_cases(seeds) -> int:
    """Mapper == oracle for every objective x tolerance 0 / 0.5 %; returns the comparisons made."""
    compared = 0
    for seed in seeds:
        layer, spec, b_w, b_a, b_out = real_case(seed)
        costs = oracle_costs(layer, spec, b_w, b_a, b_out, minimal=True)
        assert costs, seed  # the shipped presets map every small layer
        for objective in OBJECTIVES:
            for tolerance in (0.0, 0.005):
                want = oracle.optimum(costs, objective, tolerance)
                got = mapper.map_layer(layer, spec, b_w, b_a, b_out, objective=objective, tolerance=tolerance)
                assert (got.energy, got.latency_cycles) == pytest.approx(want, rel=1e-9), (seed, objective, tolerance)
                compared += 1
    return compared


@pytest.mark.slow
@pytest.mark.parametrize("block", range(10))
def test_mapper_equals_brute_force_on_full_arrays(block):
    assert check_cases(range(block * N_CASES // 10, (block + 1) * N_CASES // 10)) == 6 * N_CASES // 10


def test_two_cases_on_full_arrays():
    """A cheap subset for `make test`: an FC layer on spatial-168 RS and one on spatial-1024 WS."""
    assert check_cases([0, 11]) == 12
