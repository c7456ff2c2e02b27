"""Timing helper shared by the `bench_*.py` modules (benchmarks/ is on sys.path when they run)."""

from __future__ import annotations

import time


def best_of(fn, repeats: int) -> float:
    """Best wall time of `repeats` calls of `fn`, in seconds."""
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - start)
    return best
