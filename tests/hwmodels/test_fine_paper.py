"""Fine mapper against published numbers: Timeloop's Eyeriss-like AlexNet CONV1 and hw-flowq Tables 3 and 5."""

import pytest

from hwmodels.fine import mapper
from hwmodels.spec import load_spec
from hwmodels.zoo import get_workload


def test_alexnet_conv1_beats_timeloop_eyeriss_like_mapping():
    # REFERENCES.md 1.4: Timeloop's mapping of AlexNet CONV1 on eyeriss_like (same 14x12 array, 12/192/16-word
    # spads, 128 KB buffer, identical pJ table) costs 866.32 uJ / 105,415,200 MACs = 8.22 pJ/MAC.
    conv1 = get_workload("alexnet-conv")[0]
    assert conv1.macs == 105_415_200
    spec = load_spec("eyeriss-like-timeloop")
    cost = mapper.map_layer(conv1, spec, 16, 16, 16, objective="energy")
    pj_per_mac = cost.energy / conv1.macs
    assert pj_per_mac <= 8.22
    # the MAC share alone is 2.20 pJ/MAC (one 16-bit MAC per MAC); every level is accounted
    assert cost.energy_by_level["mac"] / conv1.macs == pytest.approx(2.20)
    # DRAM traffic can never go below the compulsory 479,835 16-bit words (REFERENCES.md 1.2)
    compulsory_bits = 479_835 * 16
    assert cost.dram_accesses_bits >= compulsory_bits
    print(f"CONV1: {pj_per_mac:.3f} pJ/MAC, DRAM {cost.dram_accesses_bits / compulsory_bits:.2f}x compulsory "
          f"(Timeloop: 8.22 pJ/MAC, 5.46x)")


def resnet20_cost(preset, dataflow, objective):
    workload = get_workload("resnet20")
    n = len(workload)
    spec = load_spec(preset, dataflow=dataflow)
    return mapper.evaluate_network(workload, spec, [16] * n, [16] * n, objective=objective).total


def test_resnet20_dataflows_on_spatial_256():
    # 16-bit ResNet-20 on Spatial-256 with the default objective: energy RS < WS < OS, the order ZigZag finds on
    # identical costs (issue 8); OS, which unrolls output rows x columns over the whole array, is faster than RS.
    energy = {df: resnet20_cost("spatial-256", df, "energy") for df in ("RS", "WS", "OS")}
    assert energy["RS"]["energy"] < energy["WS"]["energy"] < energy["OS"]["energy"]
    assert energy["OS"]["latency_cycles"] < energy["RS"]["latency_cycles"]
    # Not reproduced: latency WS < RS (hw-flowq Table 5, ZigZag). Under the energy objective WS keeps fewer,
    # better-reused PEs (latency only breaks ties within 0.5 % of the best energy); see the issue 8 note.


def test_resnet20_array_sizes_table3():
    # hw-flowq Table 3 (16-bit, RS): latency falls from Spatial-168 to 256 to 1024; energy is highest on 1024.
    costs = {p: resnet20_cost(p, "RS", "energy") for p in ("spatial-168", "spatial-256", "spatial-1024")}
    lat = {p: c["latency_cycles"] for p, c in costs.items()}
    assert lat["spatial-168"] > lat["spatial-256"] > lat["spatial-1024"]
    assert costs["spatial-1024"]["energy"] > max(costs["spatial-168"]["energy"], costs["spatial-256"]["energy"])
