"""`flowq hw resnet20 --hw spatial-256 --json` as a whole process: wall and CPU seconds, and where the CPU goes.

Target (issue 8): 0.5 s with a warm numba cache. CPU seconds are quoted beside wall seconds because on a shared
machine the wall clock mostly measures the other processes.
"""

from __future__ import annotations

import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
COMMAND = ["-m", "flowq", "hw", "resnet20", "--hw", "spatial-256", "--json"]
# the same process with scipy.linalg imported first: the import set before hwmodels._imports existed
WITH_SCIPY_LINALG = ["-c", "import scipy.linalg, runpy, sys; sys.argv = ['flowq'] + sys.argv[1:]; "
                     "runpy.run_module('flowq', run_name='__main__')", *COMMAND[2:]]
STAGES = r'''
import resource, sys
def cpu():
    r = resource.getrusage(resource.RUSAGE_SELF); return r.ru_utime + r.ru_stime
marks = [("python start-up", cpu())]
import numpy; marks.append(("import numpy", cpu()))
import flowq.cli; marks.append(("import flowq.cli (argparse, yaml, hwmodels)", cpu()))
from flowq.cli_reram import is_reram_hw; is_reram_hw("spatial-256")
marks.append(("ReRAM check: hwmodels.reram -> import numba", cpu()))
from problems.base import load_hardware; marks.append(("problems.base (pymoo)", cpu()))
spec = load_hardware("spatial-256"); marks.append(("load the spec", cpu()))
import hwmodels.fine.mapper as M; marks.append(("import hwmodels.fine.mapper", cpu()))
from numba.core.registry import cpu_target; cpu_target.target_context.refresh()
marks.append(("numba CPU-target set-up", cpu()))
from hwmodels.zoo import get_workload; w = get_workload("resnet20")
M.map_layer(w[0], spec, 16, 16, 16); marks.append(("first layer: kernels loaded from the numba cache", cpu()))
cost = M.evaluate_network(w, spec, [16] * 20, [16] * 20); marks.append(("mapping the other 19 layers", cpu()))
from flowq.callbacks import dumps; s = dumps(cost.to_json()); marks.append(("JSON (flowq.callbacks)", cpu()))
prev = 0.0
for name, t in marks:
    print(f"{name}\t{t - prev:.3f}"); prev = t
print("heavy modules loaded\t" + (", ".join(m for m in ("torch", "pymoo", "scipy.linalg", "matplotlib")
                                             if m in sys.modules) or "none"))
'''


def _run(args) -> tuple[float, float]:
    """Wall and CPU (user + system) seconds of one child process."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    subprocess.run([sys.executable, *args], cwd=ROOT, check=True, stdout=subprocess.DEVNULL)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def run(repeats: int = 5) -> str:
    _run(COMMAND)  # warm the numba cache
    now, old = [], []
    for _ in range(repeats):  # interleaved, so a drifting machine load hits both alike
        now.append(_run(COMMAND))
        old.append(_run(WITH_SCIPY_LINALG))
    stages = subprocess.run([sys.executable, "-c", STAGES], cwd=ROOT, check=True, capture_output=True,
                            text=True).stdout.strip().splitlines()
    med = lambda pairs, k: statistics.median(p[k] for p in pairs)  # noqa: E731
    lines = ["## flowq hw start-up (bench_startup.py)", "",
             "`flowq hw resnet20 --hw spatial-256 --json`, whole process, warm numba cache, median of "
             f"{repeats} runs. Target 0.5 s.", "",
             "| process | wall s | CPU s |", "|---|---|---|",
             f"| now | {med(now, 0):.2f} | {med(now, 1):.2f} |",
             f"| with scipy.linalg imported (as before hwmodels._imports) | {med(old, 0):.2f} | {med(old, 1):.2f} |",
             "", "CPU seconds by stage (one process, in order):", "", "| stage | CPU s |", "|---|---|"]
    lines += [f"| {row.split(chr(9))[0]} | {row.split(chr(9))[1]} |" for row in stages]
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    print(run())
