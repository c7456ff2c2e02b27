"""Cheap, picklable stand-ins for accuracy evaluators, for tests whose point is orchestration, not accuracy.

Importable by spawned pool workers and Dask workers (multiprocessing passes the test's sys.path on).
"""

from __future__ import annotations

import json
import os
import time
from dataclasses import asdict, dataclass
from pathlib import Path

from flowq.cache import ResultCache, cache_key


@dataclass(frozen=True)
class StubResult:
    """The fields `problems.base` reads from an `AccuracyResult`."""

    psi: float
    loss: float
    failed: bool = False
    reason: str = ""
    seconds: float = 0.0


def stub_psi(bits_w, bits_a, seed: int = 0) -> float:
    """A deterministic accuracy in (0, 1] that falls as bits drop, with a seeded genome-dependent wobble."""
    bw, ba = [int(b) for b in bits_w], [int(b) for b in bits_a]
    loss = sum(1.0 / b ** 2 for b in bw + ba) / len(bw + ba)
    wobble = (hash_int(bw + ba + [seed]) % 1000) / 1e5
    return max(0.0, 1.0 - loss - wobble)


def hash_int(values) -> int:
    return int(cache_key(values=list(values))[:8], 16)


class StubEvaluator:
    """`.evaluate(bits_w, bits_a)` -> StubResult(psi = stub_psi(...)).

    Args:
        seed: mixed into psi.
        sleep: seconds each evaluation takes (so that a signal can land mid-generation).
        cache_path: sqlite ResultCache consulted first and written after each evaluation (like the real ones).
        log: file that gets one JSON line {"pid", "bits_w"} per evaluation actually computed (not cache hits).
        raise_below: raise RuntimeError for genomes with a weight bitwidth below this.
        die_marker: folder; an evaluation of a genome whose marker file is absent creates it and kills its worker.
    """

    kind = "stub"
    float_accuracy = 1.0

    def __init__(self, seed=0, sleep=0.0, cache_path=None, log=None, raise_below=None, die_marker=None):
        self.seed, self.sleep, self.cache_path, self.log = seed, sleep, cache_path, log
        self.raise_below, self.die_marker = raise_below, die_marker
        self.heavy = None  # stands for data and networks: built on first use, never pickled

    def __getstate__(self):
        return dict(self.__dict__, heavy=None)

    def evaluate(self, bits_w, bits_a):
        if self.heavy is None:
            self.heavy = os.getpid()
        bw, ba = [int(b) for b in bits_w], [int(b) for b in bits_a]
        key = cache_key(kind="stub", seed=self.seed, bits_w=bw, bits_a=ba)
        cache = ResultCache(self.cache_path) if self.cache_path else None
        if cache is not None:
            hit = cache.get(key)
            if hit is not None:
                return StubResult(**hit)
        if self.die_marker is not None:
            marker = Path(self.die_marker) / f"{hash_int(bw + ba)}"
            if not marker.exists():
                marker.write_text("died once")
                os._exit(3)
        if self.raise_below is not None and min(bw) < self.raise_below:
            raise RuntimeError(f"stub refuses {bw}")
        if self.sleep:
            time.sleep(self.sleep)
        result = StubResult(stub_psi(bw, ba, self.seed), 0.0)
        if cache is not None:
            cache.put(key, asdict(result), model="stub", kind="stub", parts={"bits_w": bw, "bits_a": ba})
        if self.log is not None:  # after the cache write: a kill between the two never logs a cached genome twice
            with open(self.log, "a") as f:
                f.write(json.dumps({"pid": os.getpid(), "bits_w": bw, "bits_a": ba}) + "\n")
        return result


def square(x):
    """Module-level task for executor tests."""
    return x * x


def fail_on_three(x):
    if x == 3:
        raise ValueError("three is not allowed")
    return -x


def die_once(args):
    """Kill the worker process the first time a value is seen (marker file), then return it."""
    folder, x = args
    marker = Path(folder) / f"seen-{x}"
    if not marker.exists():
        marker.write_text("")
        os._exit(7)
    return x


def always_die(x):
    os._exit(9)
