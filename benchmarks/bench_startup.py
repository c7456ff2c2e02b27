"""`flowq hw resnet20 --hw spatial-256 --json` as a whole process: wall and CPU seconds, and where the CPU goes.

Target (issue 8): 0.5 s with a warm numba cache. CPU seconds are quoted beside wall seconds because on a shared
machine the wall clock mostly measures the other processes. Two cases: an empty result cache (the layers are
searched: numba import and CPU-target set-up dominate) and a result cache that already holds the layers.
"""

from __future__ import annotations

import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
COMMAND = ["-m", "flowq", "hw", "resnet20", "--hw", "spatial-256", "--json"]
STAGES = r'''
import resource, sys
def cpu():
    r = resource.getrusage(resource.RUSAGE_SELF); return r.ru_utime + r.ru_stime
marks = [("python start-up", cpu())]
import numpy; marks.append(("import numpy", cpu()))
import flowq.cli; marks.append(("import flowq.cli (argparse, yaml, hwmodels)", cpu()))
from hwmodels.api import load_hardware; spec = load_hardware("spatial-256"); marks.append(("load the spec", cpu()))
from hwmodels.zoo import get_workload; w = get_workload("resnet20"); marks.append(("the workload", cpu()))
from flowq.cache import MappingStore, ResultCache
import hwmodels.fine.mapper as M; marks.append(("mapper API and result cache (no numba)", cpu()))
with M.stored_in(MappingStore(ResultCache.default())):
    if sys.argv[1] == "cold":
        import numba; marks.append(("import numba", cpu()))
        from numba.core.registry import cpu_target; cpu_target.target_context.refresh()
        marks.append(("numba CPU-target set-up", cpu()))
        M.map_layer(w[0], spec, 16, 16, 16); marks.append(("first layer: kernels loaded from the numba cache", cpu()))
    cost = M.evaluate_network(w, spec, [16] * 20, [16] * 20)
    marks.append(("the 20 layers (searched / read from the store)", cpu()))
from flowq.runs import dumps; s = dumps(cost.to_json()); marks.append(("JSON", cpu()))
prev = 0.0
for name, t in marks:
    print(f"{name}\t{t - prev:.3f}"); prev = t
print("heavy modules loaded\t" + (", ".join(m for m in ("numba", "torch", "pymoo", "scipy.linalg", "matplotlib")
                                             if m in sys.modules) or "none"))
'''


def _run(args, env) -> tuple[float, float]:
    """Wall and CPU (user + system) seconds of one child process."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    subprocess.run([sys.executable, *args], cwd=ROOT, check=True, stdout=subprocess.DEVNULL, env=env)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def run(repeats: int = 5) -> str:
    with tempfile.TemporaryDirectory() as warm_dir:
        warm = dict(os.environ, FLOWQ_CACHE_DIR=warm_dir)
        _run(COMMAND, warm)  # warms the numba cache and fills the layer-result store
        cold_runs, warm_runs = [], []
        for _ in range(repeats):  # interleaved, so a drifting machine load hits both alike
            with tempfile.TemporaryDirectory() as cold_dir:
                cold_runs.append(_run(COMMAND, dict(os.environ, FLOWQ_CACHE_DIR=cold_dir)))
            warm_runs.append(_run(COMMAND, warm))
        stages = {}
        for kind, env in (("cold", None), ("warm", warm)):
            with tempfile.TemporaryDirectory() as cold_dir:
                env = env or dict(os.environ, FLOWQ_CACHE_DIR=cold_dir)
                stages[kind] = subprocess.run([sys.executable, "-c", STAGES, kind], cwd=ROOT, check=True,
                                              capture_output=True, text=True, env=env).stdout.strip().splitlines()
    med = lambda pairs, k: statistics.median(p[k] for p in pairs)  # noqa: E731
    lines = ["## flowq hw start-up (bench_startup.py)", "",
             "`flowq hw resnet20 --hw spatial-256 --json`, whole process, warm numba cache, median of "
             f"{repeats} runs. Target 0.5 s. Layer results persist in the result cache (`MappingStore`): the "
             "first run of a configuration searches (numba), a later one reads them and never imports numba.", "",
             "| process | wall s | CPU s |", "|---|---|---|",
             f"| first run (empty result cache) | {med(cold_runs, 0):.2f} | {med(cold_runs, 1):.2f} |",
             f"| later run (layers in the result cache) | {med(warm_runs, 0):.2f} | {med(warm_runs, 1):.2f} |",
             "", "CPU seconds by stage (one process each, in order):", ""]
    for kind, title in (("cold", "first run"), ("warm", "later run")):
        lines += [f"| {title}: stage | CPU s |", "|---|---|"]
        lines += [f"| {row.split(chr(9))[0]} | {row.split(chr(9))[1]} |" for row in stages[kind]]
        lines.append("")
    return "\n".join(lines)


if __name__ == "__main__":
    print(run())
