"""Per-generation search monitoring: Pareto archive, hypervolume, leaders, progress output, run files.

`SearchMonitor` is a pymoo `Callback`. Every generation it adds the newly evaluated individuals to an archive
of every distinct genome seen, keeps the non-dominated feasible set of that archive (the front; an elitist
archive, so its hypervolume never decreases), computes the hypervolume against a FIXED reference point
(`flowq.pareto`), prints a progress line and, given an output folder, writes the run folder's generation file,
progress.csv, results.json and checkpoint through `flowq.runs` (which defines that format).
Objective vectors are the problem's normalised minimised objectives (see `problems.base`), also for SOGA runs,
so fronts and hypervolumes of NSGA-II and SOGA compare directly. A candidate whose accuracy evaluation failed
is archived but never enters the front or a leader.

`EvaluationProgress` reports progress inside a generation (evaluations done / total, seconds per candidate, ETA):
a tqdm bar on a terminal; otherwise (a log file, a pipe) a line when the generation's evaluations start and at most
one every `flowq.progress.EVERY_S` seconds until they end (the monitor's generation line is the end line).
With a deadline, the monitor sizes the next generations to fit it (`flowq.budget`: the population shrinks before
generations are skipped).
"""

from __future__ import annotations

import csv
import io
import pickle
import sys
import time
import warnings
from pathlib import Path

import numpy as np
from pymoo.core.callback import Callback

from flowq import runs
from flowq.budget import plan_population, resize_population
from flowq.pareto import hv_leader, hypervolume, leaders, non_dominated
from flowq.runs import dumps, write_atomic
from problems.base import ACCURACY, FAILED

DEFAULT_REF = 1.1  # per normalised objective: just worse than the 16-bit baseline (1.0) and psi = 0 (1.0)

# re-exported for callers of the earlier layout
__all__ = ["SearchMonitor", "EvaluationProgress", "write_atomic", "dumps", "non_dominated", "hypervolume",
           "hv_leader", "DEFAULT_REF"]


class EvaluationProgress:
    """Progress of the accuracy evaluations of one generation: a tqdm bar when `stream` is a terminal, else
    progress lines (`flowq.progress.Phase`: a start line, then at most one line per `EVERY_S` s with done / total,
    s per candidate and ETA).

    `problems.base.QuantProblem` calls `start(total)` before, `step()` after each and `close()` after the last
    evaluation of a population.

    Args:
        label: bar / line prefix, e.g. "[fine]".
        stream: where the bar or lines go (default sys.stderr).
        enabled: False disables it (quiet runs).
        generation: callable returning the number of the generation being evaluated (added to the lines), or None.
        clock: seconds, monotonic, for the lines' rates (tests pass a fake one).
    """

    def __init__(self, label: str = "", stream=None, enabled: bool = True, generation=None,
                 clock=time.perf_counter):
        self.label = label
        self.stream = stream
        self.enabled = enabled
        self.generation = generation
        self.clock = clock
        self._bar = None
        self._phase = None
        self.done, self.total, self.seconds = 0, 0, 0.0

    def _terminal(self) -> bool:
        stream = self.stream if self.stream is not None else sys.stderr
        return bool(getattr(stream, "isatty", lambda: False)())

    def start(self, total: int) -> None:
        """A population with `total` evaluations to run begins."""
        self.done, self.total, self.seconds = 0, int(total), 0.0
        if self.enabled and total > 0 and self._terminal():
            from tqdm import tqdm

            self._bar = tqdm(total=total, desc=self.label or "evaluating", unit="cand", leave=False, mininterval=0,
                             file=self.stream if self.stream is not None else sys.stderr)
        elif self.enabled and total > 0:
            from flowq.progress import Phase

            label = self.label + (f" gen {self.generation()}" if self.generation is not None else "")
            self._phase = Phase(label.strip() or "[search]", total, "candidate", stream=self.stream,
                                clock=self.clock)
            self._phase.start(f"evaluating {total} candidate(s)")

    def step(self, seconds: float) -> None:
        """One evaluation finished after `seconds` s."""
        self.done += 1
        self.seconds += seconds
        if self._bar is not None:
            self._bar.set_postfix_str(f"{self.seconds / self.done:.1f} s/cand")
            self._bar.update(1)
        if self._phase is not None:
            self._phase.step()

    def close(self) -> None:
        """The population is evaluated."""
        if self._bar is not None:
            self._bar.close()
            self._bar = None
        self._phase = None  # the monitor's generation line ends it


class SearchMonitor(Callback):
    """Archive + hypervolume + leaders + progress + run files, updated every generation.

    Args:
        ref_point: fixed hypervolume reference point in normalised objective space, shape (n_objectives,);
            default 1.1 per objective.
        out: output folder (None writes nothing).
        verbose: print one progress line per generation (and a tqdm bar within it on a terminal).
        checkpoint: pickle the algorithm to `out/checkpoint.pkl` every generation.
        meta: extra JSON fields for results.json (algorithm name, seed, evaluator identity, ...).
        deadline: time.perf_counter() value by which the search should end: after each generation the population
            of the next ones is sized so that the generations still asked for fit (`flowq.budget`), and the search
            ends early only when not even one generation of the smallest population would.
        hv_rule: HV-leader rule, "paper" (hw-flowq 6.2, default) or "rescaled" (see `flowq.pareto.hv_leader`).
        run_id: tag of this run's files (default a fresh one).
    """

    def __init__(self, ref_point=None, out=None, verbose: bool = False, checkpoint: bool = True,
                 meta: dict | None = None, deadline: float | None = None, hv_rule: str = "paper",
                 run_id: str | None = None) -> None:
        super().__init__()
        self.deadline = deadline
        self.stopped_early = False
        self.population_sizes: list = []  # per generation: the population size it ran with
        self._full_pop = None  # the population size asked for (a deadline shrinks and regrows up to it)
        self._last_notify = None
        self.ref_point = None if ref_point is None else np.asarray(ref_point, dtype=float)
        self.out = None if out is None else Path(out)
        self.verbose = verbose
        self.checkpoint = checkpoint
        self.meta = dict(meta or {})
        self.hv_rule = hv_rule
        hv_leader(np.zeros((0, 1)), hv_rule)  # reject an unknown rule before the search starts
        self.run_id = run_id or runs.new_run_id()
        self.keys: list = []  # archive: genome keys in order of first evaluation
        self.index: dict = {}  # genome key -> archive index
        self.F = np.zeros((0, 0))  # normalised objectives of the archive (n_archive, n_obj)
        self.CV = np.zeros(0)  # constraint violation of the archive (0 = feasible)
        self.failed = np.zeros(0, dtype=bool)  # accuracy evaluation failed (never on the front)
        self.front: np.ndarray = np.zeros(0, dtype=np.int64)  # archive indices of the current front
        self.hypervolume: list = []
        self.n_evals: list = []
        self.front_history: list = []  # per generation: archive indices of the front
        self.problem = None
        self.started = time.perf_counter()
        self._checkpoint_warned = False
        self.trackers: list = []  # flowq.tracking trackers, told about every generation (never pickled)

    def __getstate__(self) -> dict:
        state = dict(self.__dict__)
        state["trackers"] = []  # event writers hold files and threads: a checkpoint never carries them
        return state

    # pymoo hooks
    def initialize(self, algorithm) -> None:
        self.problem = algorithm.problem
        n_obj = len(self.problem.objectives)
        if self.ref_point is None:
            self.ref_point = np.full(n_obj, DEFAULT_REF)
        self.F = np.zeros((0, n_obj))

    def notify(self, algorithm) -> None:
        problem = self.problem
        new, seen = [], set()
        if algorithm.off is not None and len(algorithm.off):
            for x in algorithm.off.get("X"):
                key = problem.genome.key(x)
                if key in seen:  # a batch may repeat a genome (RL agents, HAQ's wall, random search)
                    continue
                seen.add(key)
                if key in self.index:  # archived by an earlier batch (or before a resume)
                    if self.failed[self.index[key]]:
                        self._refresh(self.index[key])  # a failed candidate asked for again may have succeeded
                elif key in problem.records:
                    self.index[key] = len(self.keys)
                    self.keys.append(key)
                    new.append(key)
        if new:
            metrics = [problem.records[key]["metrics"] for key in new]
            failed_new = np.asarray([bool(m.get(FAILED)) for m in metrics], dtype=bool)
            F_new = np.asarray([[problem.objective_value(name, m) for name in problem.objectives]
                                for m in metrics], dtype=float)
            CV_new = np.asarray([sum(max(0.0, problem.constraint_value(n, lim, m))
                                     for n, lim in problem.constraints.items()) for m in metrics], dtype=float)
            start = len(self.CV)
            self.F = np.vstack([self.F, F_new])
            self.CV = np.concatenate([self.CV, CV_new])
            self.failed = np.concatenate([self.failed, failed_new])
            eligible_new = start + np.flatnonzero((CV_new <= 0) & ~failed_new)
            candidates = np.concatenate([self.front, eligible_new]).astype(np.int64)
            self.front = np.sort(candidates[non_dominated(self.F[candidates])])
        self.front_history.append(self.front.copy())
        self.hypervolume.append(hypervolume(self.F[self.front], self.ref_point))
        self.n_evals.append(int(algorithm.evaluator.n_eval))
        if self.verbose:
            print(self.progress_line(len(self.hypervolume)), file=sys.stderr, flush=True)
        now = time.perf_counter()
        self.__dict__.setdefault("population_sizes", []).append(int(getattr(algorithm, "pop_size", 0) or 0))
        if self.deadline is not None and not algorithm.termination.has_terminated():
            self._fit_deadline(algorithm, now)
        self._last_notify = now
        if self.out is not None:
            self._write_generation(algorithm)
        for tracker in getattr(self, "trackers", ()):  # a monitor unpickled from an older checkpoint has none
            tracker.generation(self, len(self.hypervolume))

    def _fit_deadline(self, algorithm, now: float) -> None:
        """Size the next generations to the deadline (`flowq.budget.plan_population`), or stop the search when not
        even one generation of the smallest population fits."""
        level, gen = self.problem.level, len(self.hypervolume)
        gens_left = int(getattr(algorithm.termination, "n_max_gen", gen + 1) or gen + 1) - gen
        if gens_left <= 0:
            return
        seconds = now - (self._last_notify if self._last_notify is not None else self.started)
        evaluated = len(algorithm.off) if algorithm.off is not None and len(algorithm.off) else len(algorithm.pop)
        per_candidate = seconds / max(1, evaluated)
        pop = int(getattr(algorithm, "pop_size", 0) or 0)
        remaining = self.deadline - now
        if pop and hasattr(algorithm, "n_offsprings"):  # a genetic algorithm: shrink (or regrow) the population
            self._full_pop = getattr(self, "_full_pop", None) or pop  # (older checkpoints have none)
            new_pop = plan_population(remaining, gens_left, per_candidate, self._full_pop)
        else:  # an RL agent keeps its batch: stop when the next generation, as long as this one, would overrun
            new_pop = (pop or 1) if seconds <= remaining else 0
        if not new_pop:
            algorithm.termination.terminate()
            algorithm.termination.update(algorithm)  # pymoo reads the progress set by update()
            self.stopped_early = True
            if self.verbose:
                print(f"[{level}] time budget reached: stopping after generation {gen}", file=sys.stderr, flush=True)
        elif new_pop != pop and resize_population(algorithm, new_pop) and self.verbose:
            print(f"[{level}] time budget: {remaining:.0f} s left for {gens_left} generation(s) at "
                  f"{per_candidate:.1f} s/candidate: population {pop} -> {new_pop}", file=sys.stderr, flush=True)

    def _refresh(self, i: int) -> None:
        problem = self.problem
        metrics = problem.records[self.keys[i]]["metrics"]
        if metrics.get(FAILED):
            return
        self.failed[i] = False
        self.F[i] = [problem.objective_value(name, metrics) for name in problem.objectives]
        if self.CV[i] <= 0:
            candidates = np.append(self.front, i).astype(np.int64)
            self.front = np.sort(candidates[non_dominated(self.F[candidates])])

    # reporting
    def _eligible(self) -> np.ndarray:
        return np.flatnonzero((self.CV <= 0) & ~self.failed)

    def best_per_objective(self) -> dict:
        """Best raw value of every objective over the archive's feasible, non-failed set (accuracy as psi)."""
        best = {}
        eligible = self._eligible()
        if len(eligible) == 0:
            return best
        for j, name in enumerate(self.problem.objectives):
            i = eligible[np.argmin(self.F[eligible, j])]
            best[name] = self.problem.records[self.keys[i]]["metrics"][name]
        return best

    def progress_line(self, gen: int) -> str:
        """One human-readable progress line: generation, evaluations, HV, best per objective, s/candidate."""
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
        n_acc = getattr(self.problem, "n_accuracy_evaluations", 0)
        speed = f" | {self.problem.accuracy_seconds / n_acc:.1f} s/cand" if n_acc else ""
        n_failed = int(self.failed.sum())
        failed = f" | failed {n_failed}" if n_failed else ""
        return (f"[{level}] gen {gen:3d} | evals {self.n_evals[-1]:5d} | HV {self.hypervolume[-1]:.5f} | "
                f"front {len(self.front):3d}{speed}{failed} | best " + (", ".join(parts) if parts else
                                                                       "(none feasible)"))

    def solution(self, archive_index: int) -> dict:
        """One archive entry as a results.json solution."""
        key = self.keys[archive_index]
        record = self.problem.records[key]
        X = self.problem.genome.encode(record["bits_w"], record["bits_a"])
        solution = {"bits_w": list(record["bits_w"]), "bits_a": list(record["bits_a"]), "genome": X.tolist(),
                    "metrics": dict(record["metrics"]), "F": self.F[archive_index].tolist(),
                    "constraint_violation": float(self.CV[archive_index])}
        extra = getattr(self.problem, "solution_extra", None)  # per-solution record hook of a problem
        if extra is not None:  # e.g. problems.codesign: the solution's hardware ("hw") and its full genome
            solution.update(extra(key))
        return solution

    def soga_best(self) -> dict | None:
        """SOGA problems: the feasible, non-failed archive entry with the highest hw-flowq eq. 1 fitness."""
        problem = self.problem
        if getattr(problem, "soga_threshold", None) is None:
            return None
        eligible = self._eligible()
        if len(eligible) == 0:
            return None
        fitness = [problem.soga_fitness(problem.records[self.keys[i]]["metrics"]) for i in eligible]
        best = int(eligible[int(np.argmax(fitness))])
        return dict(self.solution(best), fitness=float(max(fitness)), threshold=problem.soga_threshold)

    def results(self, complete: bool) -> dict:
        """The results.json content (format: `flowq.runs`)."""
        problem = self.problem
        front = self.front
        objectives = list(problem.objectives)
        least_violation = None
        if len(front) == 0 and len(self.CV):
            order = np.lexsort((self.CV, self.failed))  # non-failed first, then least violation
            least_violation = self.solution(int(order[0]))
        return {
            "run_id": self.run_id, "complete": bool(complete), "level": problem.level, "objectives": objectives,
            "constraints": dict(problem.constraints), "ref_point": self.ref_point.tolist(),
            "baseline": dict(problem.baseline), "baseline_bits": problem.baseline_bits,
            "feasible": bool(len(front) > 0),
            "front": [self.solution(i) for i in front],
            **leaders(self.F[front], objectives, ACCURACY, self.hv_rule), "hv_leader_rule": self.hv_rule,
            "failed": [self.solution(i) for i in np.flatnonzero(self.failed)],
            "least_violation": least_violation, "soga_best": self.soga_best(),
            "hypervolume": list(self.hypervolume), "n_evaluations": list(self.n_evals),
            "front_history": [self.F[idx].tolist() for idx in self.front_history],
            "n_distinct_genomes": len(self.keys), "stopped_early": self.stopped_early,
            "population_sizes": list(getattr(self, "population_sizes", [])),
            "n_accuracy_evaluations": problem.n_accuracy_evaluations,
            "accuracy_seconds": problem.accuracy_seconds, "seconds": time.perf_counter() - self.started,
            "config": problem.config(), **self.meta,
        }

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
        runs.write_generation(self.out, gen, self.run_id, {
            "n_evaluations": self.n_evals[-1], "hypervolume": self.hypervolume[-1], "population": population,
            "front": [self.solution(i) for i in self.front]})
        buffer = io.StringIO()
        writer = csv.writer(buffer)
        writer.writerow(["gen", "n_evaluations", "hypervolume", "front_size"] +
                        [f"best_F_{name}" for name in problem.objectives])
        for g, (hv, n_eval, idx) in enumerate(zip(self.hypervolume, self.n_evals, self.front_history), start=1):
            best = [float(self.F[idx, j].min()) if len(idx) else "" for j in range(len(problem.objectives))]
            writer.writerow([g, n_eval, f"{hv:.8g}", len(idx)] + best)
        runs.write_progress(self.out, buffer.getvalue())
        runs.write_results(self.out, self.results(complete=False))
        if self.checkpoint:
            self._write_checkpoint(algorithm)

    def _write_checkpoint(self, algorithm) -> None:
        # pymoo increments n_iter right after the callback: store the state the next generation starts from,
        # so a resumed run neither repeats nor skips a generation (the off-by-one of pymoo #641)
        algorithm.n_iter += 1
        progress = getattr(self.problem, "progress", None)
        try:
            self.problem.progress = None  # a tqdm bar holds a stream: never pickled
            payload = pickle.dumps(algorithm)
            runs.write_checkpoint(self.out, payload)
        except (pickle.PicklingError, TypeError, AttributeError) as error:
            if not self._checkpoint_warned:
                warnings.warn(f"checkpoint skipped, the algorithm does not pickle: {error}", stacklevel=2)
                self._checkpoint_warned = True
        finally:
            algorithm.n_iter -= 1
            self.problem.progress = progress
