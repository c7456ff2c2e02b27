"""Benchmark of parallel accuracy evaluation: one generation (population 8, LeNet-5 on digits, fine-tune evaluator)
serial vs `--workers 2` vs `--dask local:2`, and the cost of a result-cache hit.

Target (issue 11): on 2 cores the parallel executors finish a warm generation in no more wall time than serial
(one candidate per core, cores // 2 torch threads each) with psi identical to serial; a cache hit costs well under
a millisecond-scale fraction of a fine-tune (<= 10 ms against seconds).
"""

from __future__ import annotations

import os
import tempfile
import time

import numpy as np

POP = 8
EPOCHS = 1.0  # fine-tune length per candidate (9 SGD steps of 128 images on digits)
FLOAT_EPOCHS = 5  # the float LeNet-5 the candidates start from (trained once, shared through the cache folder)
HITS = 200


def _evaluator(cache_dir: str, **kwargs):
    from flowq.accuracy import FineTuneEvaluator
    from flowq.models.training import TrainConfig

    return FineTuneEvaluator("lenet5", "digits", epochs=EPOCHS, device="cpu", cache_dir=cache_dir,
                             train_config=TrainConfig(epochs=FLOAT_EPOCHS), **kwargs)


def _generations(problem, rng) -> list:
    """Two populations of POP distinct genomes never evaluated before (cold generation, then a warm one)."""
    seen, out = set(), []
    for _ in range(2):
        rows = []
        while len(rows) < POP:
            x = rng.integers(problem.xl, problem.xu + 1)
            if tuple(x) not in seen:
                seen.add(tuple(x))
                rows.append(x)
        out.append(np.asarray(rows))
    return out


def _time_mode(name: str, executor, cache_dir: str) -> dict:
    from problems import CoarseProblem

    problem = CoarseProblem("lenet5", "spatial-256", evaluator=_evaluator(cache_dir, use_result_cache=False))
    problem.executor = executor
    times, psi = [], []
    for X in _generations(problem, np.random.default_rng(0)):
        start = time.perf_counter()
        metrics = problem.evaluate_metrics(X)
        times.append(time.perf_counter() - start)
        psi.append([m["accuracy"] for m in metrics])
    executor.close()
    return {"name": name, "cold": times[0], "warm": times[1], "psi": psi}


def _cache_hit(cache_dir: str) -> tuple[float, float, float]:
    from flowq.cache import ResultCache

    ev = _evaluator(cache_dir)
    n = ev.n_layers
    genome = [8] + [4] * (n - 2) + [8]
    start = time.perf_counter()
    miss = ev.evaluate(genome, genome)
    miss_s = time.perf_counter() - start
    start = time.perf_counter()
    for _ in range(HITS):
        assert ev.evaluate(genome, genome) == miss
    hit_s = (time.perf_counter() - start) / HITS
    cache = ResultCache.default(cache_dir)
    key = cache.entries(limit=1)[0]["key"]
    start = time.perf_counter()
    for _ in range(HITS):
        cache.get(key)
    get_s = (time.perf_counter() - start) / HITS
    return miss_s, hit_s, get_s


def run() -> str:
    from flowq.executor import Executor, make_executor

    cache_dir = tempfile.mkdtemp(prefix="flowq-bench-parallel-")
    os.environ["FLOWQ_CACHE_DIR"] = cache_dir  # workers inherit it; nothing touches ~/.cache
    start = time.perf_counter()
    float_acc = _evaluator(cache_dir).float_accuracy  # trained once here, loaded by every worker
    float_s = time.perf_counter() - start
    modes = [_time_mode("serial", Executor(), cache_dir),
             _time_mode("--workers 2", make_executor(workers=2), cache_dir)]
    try:
        modes.append(_time_mode("--dask local:2", make_executor(dask="local:2"), cache_dir))
    except Exception as error:  # noqa: BLE001 - dask not installed: report it instead of failing the bench
        modes.append({"name": f"--dask local:2 ({error})", "cold": float("nan"), "warm": float("nan"),
                      "psi": None})
    serial = modes[0]
    rows = []
    for mode in modes:
        same = "-" if mode["psi"] is None else ("yes" if mode["psi"] == serial["psi"] else "NO")
        rows.append(f"| {mode['name']} | {mode['cold']:.1f} | {mode['warm']:.1f} | "
                    f"{serial['warm'] / mode['warm']:.2f}x | {same} |")
    miss_s, hit_s, get_s = _cache_hit(cache_dir)
    return "\n".join([
        "## Parallel evaluation and the result cache (flowq.executor, flowq.cache)",
        "",
        f"One generation = accuracy of {POP} new LeNet-5 genomes on digits (FineTuneEvaluator, {EPOCHS:g} epoch = "
        f"9 SGD steps each, float net {FLOAT_EPOCHS} epochs, val psi {float_acc:.3f}, trained once in "
        f"{float_s:.0f} s), through `QuantProblem.evaluate_metrics` as a search does. Cold = first generation "
        f"(includes starting the workers and each worker loading data + float weights); warm = the next generation "
        f"with other genomes. Target: parallel warm <= serial warm on 2 cores, psi identical to serial.",
        "",
        "| executor | cold generation [s] | warm generation [s] | warm speed-up vs serial | psi == serial |",
        "|---|---|---|---|---|",
        *rows,
        "",
        f"Result cache (sqlite, WAL): a fine-tune miss {miss_s:.2f} s; `FineTuneEvaluator.evaluate` of a cached "
        f"genome {1e3 * hit_s:.2f} ms (key incl. model/weights/split hashes + sqlite lookup), a bare "
        f"`ResultCache.get` {1e3 * get_s:.2f} ms (mean of {HITS}). Target: hit <= 10 ms.",
    ])


if __name__ == "__main__":
    print(run())
