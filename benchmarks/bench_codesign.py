"""Benchmark of co-design: hardware-side cost of one generation (pop 50, ResNet-20), target < 2 s at Fine.

A generation of the joint strategy costs what `CodesignProblem.evaluate_metrics` spends on its 50 new
(hardware, bits) genomes; accuracy is left out (objectives energy / latency / area, no evaluator), since it is the
same for any hardware and paid once per bits genome. Two regimes:
    cold     the initial population: 50 uniform random genomes, almost every one on a hardware point not seen
             before, so the mapper's memo (keyed by spec) is empty for them
    offspring  generations 2..: NSGA-II offspring (single-point crossover + single-locus mutation) of the previous
             population, timed as the mean of the generations after the first
Fine is timed on `FINE_SAMPLE` cold genomes and extrapolated to 50 when a full generation would exceed
`FINE_BUDGET_S` (stated in the table); Mid is timed on whole generations.
"""

from __future__ import annotations

import time

import numpy as np
from pymoo.optimize import minimize

from flowq.flow import make_algorithm
from hwmodels.zoo import get_workload
from problems.codesign import CodesignProblem

POP = 50
FINE_SAMPLE = 4
FINE_BUDGET_S = 120.0


class _Timed(CodesignProblem):
    """Records the seconds of every population evaluation."""

    def evaluate_metrics(self, X):
        start, cpu = time.perf_counter(), time.process_time()
        out = super().evaluate_metrics(X)
        self.__dict__.setdefault("times", []).append((time.process_time() - cpu, time.perf_counter() - start))
        return out


def _problem(level: str):
    objectives = ("energy", "latency_cycles", "area") if level == "fine" else ("latency_cycles", "area")
    return _Timed("resnet20", "spatial", level=level, workload=get_workload("resnet20"), objectives=objectives)


def _generations(level: str, n_gen: int) -> tuple:
    """(cpu, wall) seconds of the first generation and the mean (cpu, wall) of the later ones."""
    problem = _problem(level)
    problem.times = []
    minimize(problem, make_algorithm("nsga2", POP), ("n_gen", n_gen), seed=0)
    later = np.asarray(problem.times[1:], dtype=float).reshape(-1, 2)
    return problem.times[0], tuple(later.mean(axis=0)) if len(later) else (float("nan"),) * 2


def _fine_sample() -> tuple[float, float]:
    """CPU seconds per cold genome (new hardware point) and per one-locus offspring of an evaluated genome."""
    problem = _problem("fine")
    rng = np.random.default_rng(0)
    xu = problem.genome.upper_bounds
    X = rng.integers(0, xu + 1, size=(FINE_SAMPLE, problem.n_var))
    start = time.process_time()
    problem.evaluate_metrics(X)
    cold = (time.process_time() - start) / FINE_SAMPLE
    children = X.copy()
    for child in children:  # a single-locus mutation of a bits locus: same hardware, one layer changed
        locus = rng.integers(problem.genome.n_hw, problem.n_var)
        child[locus] = (child[locus] + 1) % (xu[locus] + 1)
    start = time.process_time()
    problem.evaluate_metrics(children)
    return cold, (time.process_time() - start) / FINE_SAMPLE


def run() -> str:
    """Time one co-design generation at Mid and Fine; return the BENCHMARKS.md section."""
    rows = []
    (cpu0, wall0), (cpu1, wall1) = _generations("mid", 4)
    rows.append(f"| Mid | {POP} | {cpu0:.2f} s ({wall0:.2f} s wall) | {cpu1:.2f} s ({wall1:.2f} s wall) | "
                f"measured, 4 generations |")
    per_cold, per_child = _fine_sample()
    if per_cold * POP <= FINE_BUDGET_S:
        (cpu0, wall0), (cpu1, wall1) = _generations("fine", 3)
        rows.append(f"| Fine | {POP} | {cpu0:.2f} s ({wall0:.2f} s wall) | {cpu1:.2f} s ({wall1:.2f} s wall) | "
                    f"measured, 3 generations |")
    else:
        rows.append(f"| Fine | {POP} | {per_cold * POP:.0f} s | {per_child * POP:.1f} s | extrapolated from "
                    f"{FINE_SAMPLE} cold genomes ({per_cold:.1f} s CPU each) and {FINE_SAMPLE} one-locus offspring "
                    f"({per_child:.2f} s CPU each) |")
    return "\n".join([
        "## Co-design: hardware side of one generation (bench_codesign.py)",
        "",
        "Joint strategy on ResNet-20 over `hwmodels/spaces/spatial.yaml` (105 hardware points), pop 50, objectives "
        "energy/latency/area (Fine) or latency/area (Mid), accuracy excluded (one evaluation per bits genome, "
        "reused across hardware). Target: < 2 s per generation at Fine.",
        "",
        "CPU seconds of this process (the wall time on a shared machine is longer).",
        "",
        "| level | pop | cold generation (new hardware points) | later generation (offspring) | how |",
        "|---|---|---|---|---|",
        *rows,
        "",
    ])


if __name__ == "__main__":
    print(run())
