"""Benchmark of the Coarse and Mid levels: population evaluation time (target: 1,000 ResNet-56 genomes << 1 s)."""

from __future__ import annotations

import time

import numpy as np

from hwmodels import coarse, mid
from hwmodels.spec import load_spec
from hwmodels.zoo import get_workload
from timing import best_of


def run() -> str:
    """Time Coarse and Mid on random ResNet-56 populations; return the BENCHMARKS.md section."""
    workload = get_workload("resnet56")
    spec = load_spec("spatial-256")
    rng = np.random.default_rng(0)
    rows = []
    for n in (100, 1000):
        BW = rng.choice(spec.bitwidths, size=(n, len(workload)))
        BA = rng.choice(spec.bitwidths, size=(n, len(workload)))
        seconds = best_of(lambda: coarse.evaluate_population(workload, spec, BW, BA), 5)
        rows.append(f"| Coarse | ResNet-56 | {n} | {seconds * 1e3:.1f} ms | < 1 s for 1,000 |")
    BW = rng.choice(spec.bitwidths, size=(1000, len(workload)))
    BA = rng.choice(spec.bitwidths, size=(1000, len(workload)))
    mid._TILING_MEMO.clear()
    mid.evaluate_population(workload, spec, BW[:1], BA[:1])  # JIT / numba cache load
    mid._TILING_MEMO.clear()
    start = time.perf_counter()
    mid.evaluate_population(workload, spec, BW, BA)
    cold = time.perf_counter() - start
    n_solved = len(mid._TILING_MEMO)
    warm = best_of(lambda: mid.evaluate_population(workload, spec, BW, BA), 3)
    rows.append(f"| Mid, empty memo | ResNet-56 | 1000 | {cold * 1e3:.0f} ms ({n_solved} distinct layer tilings, "
                f"{cold / n_solved * 1e3:.2f} ms each) | - |")
    rows.append(f"| Mid, warm memo | ResNet-56 | 1000 | {warm * 1e3:.1f} ms | - |")
    return "\n".join([
        "## Coarse and Mid levels (benchmarks/bench_levels.py)",
        "",
        "Random genomes over the spatial-256 bitwidths {2, 4, 6, 8, 16}, independent b_w and b_a per layer; "
        "best of several runs. Mid solves each distinct (layer, b_w, b_a, b_out) buffer tiling once "
        "(fine/_tiling kernels) and memoises it.",
        "",
        "| level | workload | genomes | time | target |",
        "|---|---|---|---|---|",
        *rows,
    ])


if __name__ == "__main__":
    print(run())
