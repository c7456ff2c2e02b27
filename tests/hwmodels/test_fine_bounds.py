"""The Fine mapper's pruning bounds are lower bounds: the bound check mode (`mapper.check_bounds`) prunes nothing,
costs every mapping and counts any mapping cheaper than a bound of a subtree that holds it (issue 18: the spatial
psum-RF bound was an upper bound). The checked search must also return the pruned search's result."""

import random

import pytest

from hwmodels.errors import MappingError
from hwmodels.fine import mapper
from hwmodels.spec import PRESETS, load_spec
from hwmodels.workload import Layer

OBJECTIVES = ("energy", "latency", "edp")


def realistic_layer(rng: random.Random, max_macs: int) -> Layer:
    """conv / depthwise / FC with h, w <= 56, C, M <= 256, k in 1/3/5/7/11, stride 1-4; the output size is
    halved, then the channels cut, until the layer has at most `max_macs` MACs (the unpruned search costs every
    mapping of the space)."""
    kind = rng.choice(["conv", "conv", "dw", "fc"])
    c_in = rng.randint(1, 256)
    if kind == "fc":
        c_out = rng.randint(1, 256)
        while c_in * c_out > max_macs:
            c_in, c_out = max(1, c_in // 2), max(1, c_out // 2)
        return Layer("fc", "fc", c_in, c_out, 1, 1)
    k = rng.choice([1, 3, 5, 7, 11])
    stride = rng.randint(1, 4)
    h, w = rng.randint(1, 56), rng.randint(1, 56)
    c_out = c_in if kind == "dw" else rng.randint(1, 256)
    per_pixel = c_out * k * k * (1 if kind == "dw" else c_in)
    while per_pixel * h * w > max_macs and h * w > 1:
        h, w = max(1, h // 2), max(1, w // 2)
    while per_pixel * h * w > max_macs and max(c_in, c_out) > 1:
        c_out = max(1, c_out // 2)
        c_in = c_out if kind == "dw" else max(1, c_in // 2)
        per_pixel = c_out * k * k * (1 if kind == "dw" else c_in)
    return Layer(kind, kind, c_in, c_out, h, w, k_h=k, k_w=k, stride=stride, groups=c_in if kind == "dw" else 1)


def checked_search(layer, spec, bits, objective):
    """(checks, violations, checked result, pruned result) of one layer; results None when nothing maps."""
    before = mapper.search_stats()
    mapper.check_bounds(True)
    try:
        checked = mapper.map_layer(layer, spec, *bits, objective=objective)
    except MappingError:
        checked = None
    finally:
        mapper.check_bounds(False)
    after = mapper.search_stats()
    try:
        pruned = mapper.map_layer(layer, spec, *bits, objective=objective)
    except MappingError:
        pruned = None
    return (after["bound_checks"] - before["bound_checks"], after["bound_violations"] - before["bound_violations"],
            checked, pruned)


def run_cases(seeds, max_macs):
    """Every shipped preset as shipped x RS/WS/OS x a random layer, bits and objective per seed."""
    checks = violations = 0
    for seed in seeds:
        rng = random.Random(seed)
        spec = load_spec(PRESETS[seed % len(PRESETS)], dataflow=("RS", "WS", "OS")[seed // len(PRESETS) % 3])
        layer = realistic_layer(rng, max_macs)
        bits = tuple(rng.choice(spec.bitwidths) for _ in range(3))
        n, v, checked, pruned = checked_search(layer, spec, bits, rng.choice(OBJECTIVES))
        checks += n
        violations += v
        assert (checked is None) == (pruned is None), seed
        if checked is not None:
            assert (checked.energy, checked.latency_cycles) == pytest.approx(
                (pruned.energy, pruned.latency_cycles), rel=1e-12), (seed, layer, spec.name, bits)
    return checks, violations


def test_bounds_hold_on_small_layers():
    checks, violations = run_cases(range(6), 3_000)
    assert checks > 0
    assert violations == 0


@pytest.mark.slow
@pytest.mark.parametrize("block", range(4))
def test_bounds_hold_on_realistic_layers_of_every_preset(block):
    checks, violations = run_cases(range(100 + 27 * block, 100 + 27 * (block + 1)), 200_000)
    assert checks > 0
    assert violations == 0
