"""Per-generation search monitoring: Pareto archive, hypervolume, leaders, progress line, atomic run files.

`SearchMonitor` is a pymoo `Callback`. Every generation it adds the newly evaluated individuals to an archive
of every distinct genome seen, keeps the non-dominated feasible set of that archive (the front; an elitist
archive, so its hypervolume never decreases), computes the hypervolume against a FIXED reference point with
pymoo's moocore-backed indicator, prints a progress line and, given an output folder, writes (tmp + rename,
so a crash never leaves a half-written file):
    generations/gen_NNNN.json   population and front of generation NNNN (bits, metrics, normalised F)
    progress.csv                one line per generation: evaluations, hypervolume, best value per objective
    results.json                the result so far ("complete": false until the search ends)
    checkpoint.pkl              the pickled algorithm (random state included) for resuming
Objective vectors are the problem's normalised minimised objectives (see `problems.base`), also for SOGA runs,
so fronts and hypervolumes of NSGA-II and SOGA compare directly.
"""

from __future__ import annotations

import csv
import io
import json
import math
import os
import pickle
import sys
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np
from pymoo.core.callback import Callback
from pymoo.indicators.hv import HV
from pymoo.util.nds.non_dominated_sorting import NonDominatedSorting

from problems.base import ACCURACY

DEFAULT_REF = 1.1  # per normalised objective: just worse than the 16-bit baseline (1.0) and psi = 0 (1.0)


# ---- small pure helpers ------------------------------------------------------------------------------
def write_atomic(path, data) -> None:
    """Write text or bytes to `path` through a temporary file in the same folder and an atomic rename."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    mode = "wb" if isinstance(data, bytes) else "w"
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, mode) as f:
            f.write(data)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def non_dominated(F) -> np.ndarray:
    """Indices of the non-dominated rows of F (n, m) (all objectives minimised), ascending."""
    F = np.asarray(F, dtype=float)
    if len(F) == 0:
        return np.zeros(0, dtype=np.int64)
    return np.sort(np.asarray(NonDominatedSorting().do(F, only_non_dominated_front=True), dtype=np.int64))


def hypervolume(F, ref_point) -> float:
    """Hypervolume dominated by F (n, m) up to `ref_point` (m,) (pymoo `HV`, moocore); 0 for an empty set."""
    F = np.asarray(F, dtype=float).reshape(-1, len(ref_point))
    F = F[np.all(F < np.asarray(ref_point), axis=1)]
    if len(F) == 0:
        return 0.0
    return float(HV(ref_point=np.asarray(ref_point, dtype=float)).do(F))


def hv_leader(F) -> int | None:
    """hw-flowq 6.2 HV-leader of a front F (n, m): the reference point is the worst value of every objective on
    the front (its polar solutions); the leader is the solution farthest from it (Euclidean distance, after
    scaling each objective to [0, 1] over the front so that no unit dominates). None for an empty front."""
    F = np.asarray(F, dtype=float)
    if len(F) == 0:
        return None
    ideal, nadir = F.min(axis=0), F.max(axis=0)
    span = np.where(nadir > ideal, nadir - ideal, 1.0)
    distance = np.linalg.norm((nadir - F) / span, axis=1)
    return int(np.argmax(distance))


def _leader_by(F, column: int, tie_columns) -> int | None:
    if len(F) == 0:
        return None
    keys = [F[:, c] for c in reversed(tie_columns)] + [F[:, column]]
    return int(np.lexsort(keys)[0])


def _jsonable(value):
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if isinstance(value, np.ndarray):
        return _jsonable(value.tolist())
    if isinstance(value, (np.integer,)):
        return int(value)
    if isinstance(value, (float, np.floating)):
        value = float(value)
        return value if math.isfinite(value) else None
    return value


def dumps(obj) -> str:
    """JSON text of `obj` with numpy values converted and non-finite floats written as null."""
    return json.dumps(_jsonable(obj), indent=1)


# ---- the monitor ---------------------------------------------------------------------------------------
class SearchMonitor(Callback):
    """Archive + hypervolume + progress + run files, updated every generation.

    Args:
        ref_point: fixed hypervolume reference point in normalised objective space, shape (n_objectives,);
            default 1.1 per objective.
        out: output folder (None writes nothing).
        verbose: print one progress line per generation.
        checkpoint: pickle the algorithm to `out/checkpoint.pkl` every generation.
        meta: extra JSON fields for results.json (algorithm name, seed, ...).
        deadline: time.perf_counter() value after which no new generation starts: the search ends early when
            the next generation (projected to last as long as the previous one) would overrun it.
    """

    def __init__(self, ref_point=None, out=None, verbose: bool = False, checkpoint: bool = True,
                 meta: dict | None = None, deadline: float | None = None) -> None:
        super().__init__()
        self.deadline = deadline
        self.stopped_early = False
        self._last_notify = None
        self.ref_point = None if ref_point is None else np.asarray(ref_point, dtype=float)
        self.out = None if out is None else Path(out)
        self.verbose = verbose
        self.checkpoint = checkpoint
        self.meta = dict(meta or {})
        self.keys: list = []  # archive: genome keys in order of first evaluation
        self.index: dict = {}  # genome key -> archive index
        self.F = np.zeros((0, 0))  # normalised objectives of the archive (n_archive, n_obj)
        self.CV = np.zeros(0)  # constraint violation of the archive (0 = feasible)
        self.front: np.ndarray = np.zeros(0, dtype=np.int64)  # archive indices of the current front
        self.hypervolume: list = []
        self.n_evals: list = []
        self.front_history: list = []  # per generation: archive indices of the front
        self.problem = None
        self.started = time.perf_counter()
        self._checkpoint_warned = False

    # pymoo hooks
    def initialize(self, algorithm) -> None:
        self.problem = algorithm.problem
        n_obj = len(self.problem.objectives)
        if self.ref_point is None:
            self.ref_point = np.full(n_obj, DEFAULT_REF)
        self.F = np.zeros((0, n_obj))

    def notify(self, algorithm) -> None:
        problem = self.problem
        new = []
        if algorithm.off is not None and len(algorithm.off):
            for x in algorithm.off.get("X"):
                key = problem.genome.key(x)
                if key not in self.index and key in problem.records:
                    self.index[key] = len(self.keys)
                    self.keys.append(key)
                    new.append(key)
        if new:
            metrics = [problem.records[key]["metrics"] for key in new]
            F_new = np.asarray([[problem.objective_value(name, m) for name in problem.objectives]
                                for m in metrics], dtype=float)
            CV_new = np.asarray([sum(max(0.0, problem.constraint_value(n, lim, m))
                                     for n, lim in problem.constraints.items()) for m in metrics], dtype=float)
            start = len(self.CV)
            self.F = np.vstack([self.F, F_new])
            self.CV = np.concatenate([self.CV, CV_new])
            feasible_new = start + np.flatnonzero(CV_new <= 0)
            candidates = np.concatenate([self.front, feasible_new]).astype(np.int64)
            self.front = np.sort(candidates[non_dominated(self.F[candidates])])
        self.front_history.append(self.front.copy())
        self.hypervolume.append(hypervolume(self.F[self.front], self.ref_point))
        self.n_evals.append(int(algorithm.evaluator.n_eval))
        if self.verbose:
            print(self.progress_line(len(self.hypervolume)), file=sys.stderr, flush=True)
        now = time.perf_counter()
        if self.deadline is not None:
            duration = now - (self._last_notify if self._last_notify is not None else self.started)
            if now + duration > self.deadline and not algorithm.termination.has_terminated():
                algorithm.termination.terminate()
                algorithm.termination.update(algorithm)  # pymoo reads the progress set by update()
                self.stopped_early = True
                if self.verbose:
                    print(f"[{problem.level}] time budget reached: stopping after generation "
                          f"{len(self.hypervolume)}", file=sys.stderr, flush=True)
        self._last_notify = now
        if self.out is not None:
            self._write_generation(algorithm)

    # reporting
    def best_per_objective(self) -> dict:
        """Best raw value of every objective on the archive's feasible set (accuracy as psi)."""
        best = {}
        feasible = np.flatnonzero(self.CV <= 0)
        if len(feasible) == 0:
            return best
        for j, name in enumerate(self.problem.objectives):
            i = feasible[np.argmin(self.F[feasible, j])]
            best[name] = self.problem.records[self.keys[i]]["metrics"][name]
        return best

    def progress_line(self, gen: int) -> str:
        """One human-readable progress line: generation, evaluations, HV, best per objective."""
        best = self.best_per_objective()
        parts = []
        for name in self.problem.objectives:
            if name not in best:
                continue
            if name == ACCURACY:
                parts.append(f"{name} {100 * best[name]:.2f}%")
            else:
                ratio = self.problem.objective_value(name, {name: best[name]})
                parts.append(f"{name} {best[name]:.4g} ({100 * ratio:.1f}% of 16-bit)")
        level = self.problem.level
        return (f"[{level}] gen {gen:3d} | evals {self.n_evals[-1]:5d} | HV {self.hypervolume[-1]:.5f} | "
                f"front {len(self.front):3d} | best " + (", ".join(parts) if parts else "(none feasible)"))

    def solution(self, archive_index: int) -> dict:
        """One archive entry as a results.json solution."""
        key = self.keys[archive_index]
        record = self.problem.records[key]
        X = self.problem.genome.encode(record["bits_w"], record["bits_a"])
        return {"bits_w": list(record["bits_w"]), "bits_a": list(record["bits_a"]), "genome": X.tolist(),
                "metrics": dict(record["metrics"]), "F": self.F[archive_index].tolist(),
                "constraint_violation": float(self.CV[archive_index])}

    def results(self, complete: bool) -> dict:
        """The results.json content: front, hypervolume per generation, leaders, history, configuration."""
        problem = self.problem
        front = self.front
        F_front = self.F[front]
        objectives = list(problem.objectives)
        acc_col = objectives.index(ACCURACY) if ACCURACY in objectives else None
        hw_cols = [j for j, name in enumerate(objectives) if name != ACCURACY]
        leaders = {
            "hv_leader": hv_leader(F_front),
            "accuracy_leader": None if acc_col is None else _leader_by(F_front, acc_col, hw_cols),
            "compression_leader": None if not hw_cols else _leader_by(
                F_front, hw_cols[0], ([acc_col] if acc_col is not None else []) + hw_cols[1:]),
        }
        least_violation = None
        if len(front) == 0 and len(self.CV):
            least_violation = self.solution(int(np.argmin(self.CV)))
        result = {
            "complete": bool(complete), "level": problem.level, "objectives": objectives,
            "constraints": dict(problem.constraints), "ref_point": self.ref_point.tolist(),
            "baseline": dict(problem.baseline), "baseline_bits": problem.baseline_bits,
            "feasible": bool(len(front) > 0),
            "front": [self.solution(i) for i in front], **leaders,
            "least_violation": least_violation,
            "hypervolume": list(self.hypervolume), "n_evaluations": list(self.n_evals),
            "front_history": [self.F[idx].tolist() for idx in self.front_history],
            "n_distinct_genomes": len(self.keys), "stopped_early": self.stopped_early,
            "n_accuracy_evaluations": problem.n_accuracy_evaluations,
            "accuracy_seconds": problem.accuracy_seconds, "seconds": time.perf_counter() - self.started,
            "config": problem.config(), **self.meta,
        }
        return result

    # files
    def _write_generation(self, algorithm) -> None:
        gen = len(self.hypervolume)
        problem = self.problem
        population = []
        if algorithm.pop is not None:
            for x in algorithm.pop.get("X"):
                key = problem.genome.key(x)
                if key in self.index:
                    population.append(self.solution(self.index[key]))
        snapshot = {"gen": gen, "n_evaluations": self.n_evals[-1], "hypervolume": self.hypervolume[-1],
                    "population": population, "front": [self.solution(i) for i in self.front]}
        write_atomic(self.out / "generations" / f"gen_{gen:04d}.json", dumps(snapshot))
        buffer = io.StringIO()
        writer = csv.writer(buffer)
        writer.writerow(["gen", "n_evaluations", "hypervolume", "front_size"] +
                        [f"best_F_{name}" for name in problem.objectives])
        for g, (hv, n_eval, idx) in enumerate(zip(self.hypervolume, self.n_evals, self.front_history), start=1):
            best = [float(self.F[idx, j].min()) if len(idx) else "" for j in range(len(problem.objectives))]
            writer.writerow([g, n_eval, f"{hv:.8g}", len(idx)] + best)
        write_atomic(self.out / "progress.csv", buffer.getvalue())
        write_atomic(self.out / "results.json", dumps(self.results(complete=False)))
        if self.checkpoint:
            self._write_checkpoint(algorithm)

    def _write_checkpoint(self, algorithm) -> None:
        # pymoo increments n_iter right after the callback: store the state the next generation starts from,
        # so a resumed run neither repeats nor skips a generation (the off-by-one of pymoo #641)
        algorithm.n_iter += 1
        try:
            payload = pickle.dumps(algorithm)
            write_atomic(self.out / "checkpoint.pkl", payload)
        except (pickle.PicklingError, TypeError, AttributeError) as error:
            if not self._checkpoint_warned:
                warnings.warn(f"checkpoint skipped, the algorithm does not pickle: {error}", stacklevel=2)
                self._checkpoint_warned = True
        finally:
            algorithm.n_iter -= 1
