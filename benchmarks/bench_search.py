"""Search overhead per generation, accuracy evaluation excluded (NSGA-II, population 50, ResNet-56, Fine level).

Accuracy comes from an instant deterministic surrogate, so the time measured is what FlowQ adds around the
fine-tunes: Fine mapper calls for new genomes (memoised per layer configuration), operators, survival,
hypervolume, the per-generation run files (JSON/CSV/checkpoint, atomic) and the progress bookkeeping.
Target: under 1 s per generation after warm-up.
"""

from __future__ import annotations

import tempfile
import time

import numpy as np

from flowq.accuracy import AccuracyResult

POP, WARMUP_GENS, TIMED_GENS = 50, 3, 10


class InstantAccuracy:
    """Stands in for fine-tuning: psi falls with 1/bits, costs microseconds."""

    float_accuracy = 0.99

    def evaluate(self, bits_w, bits_a):
        mean_inv_bits = np.mean(16 / np.asarray(bits_w) + 16 / np.asarray(bits_a) - 2)
        return AccuracyResult(psi=float(0.99 - 0.02 * mean_inv_bits / 7), loss=0.0)


class _Timer:
    """Wraps the problem's population evaluation to separate hardware-model time from the rest."""

    def __init__(self, problem):
        self.seconds = 0.0
        self.original = problem._hardware
        problem._hardware = self

    def __call__(self, *args):
        start = time.perf_counter()
        self.original(*args)
        self.seconds += time.perf_counter() - start


def measure(write_files: bool) -> dict:
    from flowq.flow import Flow

    with tempfile.TemporaryDirectory() as tmp:
        flow = Flow("resnet56", "cifar10", InstantAccuracy(), hw="spatial-256", dataflow="RS", verbose=False,
                    out=tmp if write_files else None, seed=0)
        problem = flow.problem("fine")
        timer = _Timer(problem)
        stamps = []

        from flowq.callbacks import SearchMonitor

        notify = SearchMonitor.notify

        def stamped(self, algorithm):
            notify(self, algorithm)
            stamps.append((time.perf_counter(), timer.seconds, problem.n_hw_evaluations))

        SearchMonitor.notify = stamped
        try:
            flow.search(problem, "nsga2", n_gen=WARMUP_GENS + TIMED_GENS, pop_size=POP)
        finally:
            SearchMonitor.notify = notify
    (t0, hw0, n0), (t1, hw1, n1) = stamps[WARMUP_GENS - 1], stamps[-1]
    per_gen = (t1 - t0) / TIMED_GENS
    hw = (hw1 - hw0) / TIMED_GENS
    return {"per_gen": per_gen, "hw": hw, "other": per_gen - hw, "new_genomes": (n1 - n0) / TIMED_GENS}


def run() -> str:
    rows = []
    for write_files in (False, True):
        m = measure(write_files)
        rows.append(f"| {'yes' if write_files else 'no'} | {m['per_gen']:.3f} | {m['hw']:.3f} | {m['other']:.3f} "
                    f"| {m['new_genomes']:.1f} |")
    return "\n".join([
        "## Search overhead per generation (bench_search.py)",
        "",
        f"NSGA-II, population {POP}, ResNet-56 (56 layers, 54 searched x (b_W, b_A)), Fine level on Spatial-256 RS, "
        f"accuracy from an instant surrogate (fine-tuning excluded). Mean over generations {WARMUP_GENS + 1}-"
        f"{WARMUP_GENS + TIMED_GENS} after {WARMUP_GENS} warm-up generations (numba compiled, mapper memo warm "
        f"from earlier generations only). Target: < 1 s per generation.",
        "",
        "| run files written | s / generation | of which Fine mapper | rest (operators, survival, HV, files) "
        "| new genomes / gen |",
        "|---|---|---|---|---|",
        *rows,
        "",
    ])


if __name__ == "__main__":
    print(run())
