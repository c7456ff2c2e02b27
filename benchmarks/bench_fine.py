"""Fine mapper speed: cold (empty memo, JIT compiled) and warm evaluation of one ResNet-20 genome; kernel rate."""

from __future__ import annotations

import time

import numpy as np

from hwmodels.fine import mapper
from hwmodels.spec import load_spec
from hwmodels.zoo import get_workload

TARGET_COLD_S = 0.100
TARGET_WARM_S = 0.001


def _best_of(fn, repeats: int) -> float:
    best = np.inf
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - start)
    return best


def measure(preset: str, dataflow: str, bits_w, bits_a, repeats: int = 5) -> dict:
    """Seconds for a cold and a warm `evaluate_network`, and mappings evaluated per second of a cold run."""
    workload = get_workload("resnet20")
    spec = load_spec(preset, dataflow=dataflow)
    mapper.evaluate_network(workload, spec, bits_w, bits_a)  # JIT compile / load the numba cache

    def cold():
        mapper.clear_memo()
        mapper.evaluate_network(workload, spec, bits_w, bits_a)

    before = mapper.search_stats()["mappings_evaluated"]
    cold_s = _best_of(cold, repeats)
    evaluated = (mapper.search_stats()["mappings_evaluated"] - before) / repeats
    warm_s = _best_of(lambda: mapper.evaluate_network(workload, spec, bits_w, bits_a), repeats * 4)
    warm_population_s = _best_of(
        lambda: mapper.evaluate_population(workload, spec, np.tile(bits_w, (50, 1)), np.tile(bits_a, (50, 1))), 3)
    return {"cold_s": cold_s, "warm_s": warm_s, "warm_pop50_s": warm_population_s, "mappings": evaluated,
            "rate": evaluated / cold_s}


def run() -> str:
    n = len(get_workload("resnet20"))
    rng = np.random.default_rng(0)
    genomes = {"16-bit": (np.full(n, 16), np.full(n, 16)),
               "mixed (seed 0)": (rng.choice([2, 4, 8, 16], n), rng.choice([2, 4, 8, 16], n))}
    lines = ["## Fine mapper (hwmodels.fine)", "",
             f"One ResNet-20 genome ({n} layers), `evaluate_network`, best of 5. Targets: cold <= "
             f"{TARGET_COLD_S * 1e3:.0f} ms (empty memo, JIT warm), warm <= {TARGET_WARM_S * 1e3:.0f} ms (memo hit).",
             "", "| spec | dataflow | genome | cold [ms] | warm [ms] | warm, 50 genomes [ms] | mappings searched "
             "| mappings / s (cold wall clock) |", "|---|---|---|---|---|---|---|---|"]
    for preset, dataflow in (("spatial-256", "RS"), ("spatial-256", "WS"), ("spatial-256", "OS"),
                             ("bs-256", "RS")):
        for label, (bw, ba) in genomes.items():
            r = measure(preset, dataflow, bw, ba)
            lines.append(f"| {preset} | {dataflow} | {label} | {r['cold_s'] * 1e3:.1f} | {r['warm_s'] * 1e3:.2f} | "
                         f"{r['warm_pop50_s'] * 1e3:.1f} | {r['mappings']:,.0f} | {r['rate']:,.0f} |")
    lines += ["", "Mappings are (spatial unrolling, lanes, PE tile, buffer tile, buffer order, DRAM order) tuples; "
              "numba kernels are compiled once per machine (`cache=True`)."]
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    print(run())
