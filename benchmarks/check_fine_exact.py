"""Whole-network check of the Fine mapper's pruning: for zoo networks x presets x dataflows x bitwidths, every
distinct layer's pruned search returns the same (energy, latency) as the same search with pruning off (the bound
check mode, `mapper.check_bounds`, which also counts mappings below a bound). Issue 18, item 2.

    python benchmarks/check_fine_exact.py lenet5 resnet20 --presets eyeriss-256-db spatial-168 --bits 16 8 4

Prints one line per (network, preset, dataflow) and a summary; exits 1 on any mismatch or bound violation.
Pruning off costs every mapping of the space, so the big networks take hours on two cores.
"""

from __future__ import annotations

import argparse
import sys
import time

from hwmodels.errors import MappingError
from hwmodels.fine import mapper
from hwmodels.spec import PRESETS, load_spec
from hwmodels.zoo import WORKLOADS, get_workload


def _cost(layer, spec, bits):
    try:
        cost = mapper.map_layer(layer, spec, bits, bits, bits)
    except MappingError:
        return None
    return cost.energy, cost.latency_cycles


def compare(network: str, spec, bits_list) -> dict:
    """{layers, mismatches, checks, violations, seconds} of one network on one spec over `bits_list`."""
    layers = {}
    for layer in get_workload(network):
        layers.setdefault(layer.shape_key, layer)
    out = {"layers": 0, "mismatches": 0, "checks": 0, "violations": 0}
    t0 = time.perf_counter()
    for bits in bits_list:
        if bits not in spec.bitwidths:
            continue
        for layer in layers.values():
            pruned = _cost(layer, spec, bits)
            before = mapper.search_stats()
            mapper.check_bounds(True)
            try:
                unpruned = _cost(layer, spec, bits)
            finally:
                mapper.check_bounds(False)
            after = mapper.search_stats()
            out["layers"] += 1
            out["checks"] += after["bound_checks"] - before["bound_checks"]
            out["violations"] += after["bound_violations"] - before["bound_violations"]
            same = (pruned is None) == (unpruned is None) and (pruned is None or all(
                abs(p - u) <= 1e-12 * abs(u) for p, u in zip(pruned, unpruned)))
            out["mismatches"] += 0 if same else 1
    out["seconds"] = time.perf_counter() - t0
    return out


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("networks", nargs="*", default=list(WORKLOADS))
    parser.add_argument("--presets", nargs="*", default=list(PRESETS))
    parser.add_argument("--dataflows", nargs="*", default=["RS", "WS", "OS"])
    parser.add_argument("--bits", nargs="*", type=int, default=[16, 8, 6, 4, 2])
    args = parser.parse_args(argv)
    total = {"layers": 0, "mismatches": 0, "checks": 0, "violations": 0, "seconds": 0.0}
    print("| network | preset | dataflow | layer searches | mismatches | mappings checked | violations | s |")
    print("|---|---|---|---|---|---|---|---|")
    for network in args.networks:
        for preset in args.presets:
            for dataflow in args.dataflows:
                r = compare(network, load_spec(preset, dataflow=dataflow), args.bits)
                print(f"| {network} | {preset} | {dataflow} | {r['layers']} | {r['mismatches']} | {r['checks']:,} | "
                      f"{r['violations']} | {r['seconds']:.1f} |", flush=True)
                for key in total:
                    total[key] += r[key]
    print(f"\ntotal: {total['layers']} layer searches, {total['mismatches']} mismatches, {total['checks']:,} mappings "
          f"checked, {total['violations']} bound violations, {total['seconds']:.0f} s")
    return 1 if total["mismatches"] or total["violations"] else 0


if __name__ == "__main__":
    sys.exit(main())
