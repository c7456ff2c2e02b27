"""Fine mapper public API: shared level contract, genome errors, memoisation, LayerCost sums, mapping readout."""

import numpy as np
import pytest

from hwmodels import api
from hwmodels.errors import GenomeError
from hwmodels.fine import mapper
from hwmodels.spec import load_spec
from hwmodels.zoo import get_workload

GLOSSARY = ("ops", "frac_ops", "bitops", "weight_bits", "activation_bits", "dram_accesses_bits", "latency_cycles",
            "throughput", "energy", "energy_by_level")


def test_network_cost_has_every_glossary_key_and_a_mapping_per_layer():
    workload = get_workload("resnet20")
    n = len(workload)
    cost = api.evaluate(workload, load_spec("spatial-256"), [8] * n, [8] * n, level="fine")
    assert cost.level == "fine"
    for key in GLOSSARY + ("utilization",):
        assert key in cost.total
        assert all(key in row for row in cost.layers)
    assert set(cost.total["energy_by_level"]) == {"mac", "rf", "array", "buffer", "dram"}
    assert all("spatial_rows" in row["mapping"] and "dram_order" in row["mapping"] for row in cost.layers)
    assert cost.total["ops"] == sum(layer.macs for layer in workload)
    assert cost.total["energy"] == pytest.approx(sum(row["energy"] for row in cost.layers))
    assert cost.total["latency_cycles"] == pytest.approx(sum(row["latency_cycles"] for row in cost.layers))


def test_population_totals_match_single_evaluations():
    workload = get_workload("resnet20")
    n = len(workload)
    spec = load_spec("spatial-256")
    rng = np.random.default_rng(0)
    BW = rng.choice([2, 4, 8, 16], size=(3, n))
    BA = rng.choice([2, 4, 8, 16], size=(3, n))
    totals = api.evaluate_population(workload, spec, BW, BA, level="fine")
    for key in ("energy", "latency_cycles", "dram_accesses_bits", "ops", "throughput"):
        assert totals[key].shape == (3,)
    for i in range(3):
        single = mapper.evaluate_network(workload, spec, BW[i], BA[i]).total
        assert totals["energy"][i] == pytest.approx(single["energy"])
        assert totals["latency_cycles"][i] == pytest.approx(single["latency_cycles"])


def test_unsupported_bitwidth_names_layer_value_and_allowed():
    workload = get_workload("resnet20")
    n = len(workload)
    bits_w = [8] * n
    bits_w[3] = 5  # spatial-256 is a SIMD PE: 2, 4, 6, 8, 16 only
    with pytest.raises(GenomeError, match=r"\[3\].*5.*allowed"):
        mapper.evaluate_network(workload, load_spec("spatial-256"), bits_w, [8] * n)


def test_unknown_objective_is_rejected():
    with pytest.raises(GenomeError, match="objective"):
        mapper.map_layer(get_workload("resnet20")[1], load_spec("spatial-256"), 8, 8, 8, objective="area")


def test_layer_cost_sum_and_memo():
    workload = get_workload("resnet20")
    spec = load_spec("spatial-256")
    a = mapper.map_layer(workload[1], spec, 8, 8, 8)
    b = mapper.map_layer(workload[2], spec, 8, 8, 8)  # same shape as layer 1: served from the memo
    assert b.energy == a.energy and b.name == workload[2].name
    total = a + b
    assert total.energy == pytest.approx(2 * a.energy)
    assert total.ops == 2 * a.ops
    assert total.energy_by_level["dram"] == pytest.approx(2 * a.energy_by_level["dram"])


def test_objectives_trade_energy_for_latency():
    layer = get_workload("resnet20")[1]
    spec = load_spec("spatial-256")
    e = mapper.map_layer(layer, spec, 16, 16, 16, objective="energy")
    lat = mapper.map_layer(layer, spec, 16, 16, 16, objective="latency")
    edp = mapper.map_layer(layer, spec, 16, 16, 16, objective="edp")
    assert e.energy <= lat.energy and lat.latency_cycles <= e.latency_cycles
    assert edp.energy * edp.latency_cycles <= min(e.energy * e.latency_cycles, lat.energy * lat.latency_cycles)
