"""`QuantProblem`: the pymoo Problem over integer bitwidth genomes shared by every abstraction level.

Objectives and constraints are chosen by metric name (the glossary in `hwmodels.api`, plus "accuracy").
All objectives are minimised and normalised so that one fixed hypervolume reference point fits every level:
    accuracy               F = 1 - psi                      (psi in [0, 1]; accuracy is maximised)
    a metric to minimise   F = value / value_at_baseline    (baseline = every layer at 16 bits, the spec's b_max)
    a metric to maximise   F = value_at_baseline / value    (throughput, ctc, utilization)
Constraints (G <= 0 feasible) are limits relative to the same baseline, e.g. {"frac_ops": 0.35} means at
most 35 % of the 16-bit network's Frac.OPs (hw-flowq 6.1 "HW-phi fitness"); {"accuracy": 0.9} means psi >= 0.9.
With `soga_threshold=t` the problem is single-objective with the fitness of hw-flowq eq. 1 (stored negated).
A candidate whose accuracy evaluation failed (`AccuracyResult.failed`) gets F = `FAILED_F` in every objective
(last for the GA); `flowq.callbacks.SearchMonitor` keeps it off fronts and leaders, and it is not put in the
shared accuracy cache, so a later request asks the evaluator again (whose result cache retries it once).

Hardware metrics of a whole population come from one `hwmodels.api.evaluate_population` call; accuracy
comes per individual from an evaluator. Both are cached by genome (accuracy in a cache that a `Flow`
shares across levels, since psi does not depend on the hardware level), so duplicates are never re-evaluated.
"""

from __future__ import annotations

import math
import time

import numpy as np
from pymoo.core.problem import Problem

from flowq.genome import GenomeEncoding
from hwmodels.api import check_hardware_file, evaluate_population, load_hardware  # noqa: F401 (re-exported)
from hwmodels.errors import FlowQError, GenomeError

ACCURACY = "accuracy"
FAILED = "accuracy_failed"  # metrics key: True when the candidate's accuracy evaluation failed (NaN, exception)
FAILED_F = 1e6  # objective value of a failed candidate: worse than any real one, so the GA ranks it last
MAXIMISED = frozenset({"throughput", "ctc", "utilization"})
EVALUATORS = ("finetune", "proxy", "shared")
#: Constructor options that only one evaluator kind takes (dropped when a run is refined with another kind).
KIND_OPTIONS = {"proxy": ("batch_size",), "shared": ("bits", "shared_epochs", "n_random", "distill",
                                                     "finetune_steps", "calibration_images")}


def make_evaluator(kind: str = "finetune", model: str = "resnet20", dataset: str = "digits", *,
                   epochs: float | None = None, seed: int = 0, **kwargs):
    """Build an accuracy evaluator by name; torch is imported only here.

    Args:
        kind: "finetune" (FineTuneEvaluator, hw-flowq 3.2.1), "proxy" (LossProxyEvaluator) or "shared"
            (`flowq.shared_eval.SharedEvaluator`, one weight-sharing any-precision network).
        model, dataset: names understood by `flowq.accuracy`.
        epochs: fine-tuning epochs (finetune only; None keeps the evaluator's default).
        seed: evaluator seed.

    Raises:
        GenomeError: unknown kind. EvaluatorError: an option another kind owns (e.g. epochs with "shared").
    """
    if kind not in EVALUATORS:
        raise GenomeError(f"evaluator={kind!r}; allowed: {', '.join(EVALUATORS)}")
    from flowq import accuracy
    from flowq.errors import EvaluatorError
    from flowq.shared_eval import SharedEvaluator

    if kind == "shared":
        if epochs is not None:
            raise EvaluatorError(f"epochs={epochs!r} sets the finetune evaluator's length; the shared evaluator "
                                 f"fine-tunes a candidate only with --shared-finetune STEPS")
        return SharedEvaluator(model, dataset, seed=seed, **kwargs)
    foreign = sorted(set(kwargs) & set(KIND_OPTIONS["shared"]))
    if foreign:
        flags = {"finetune_steps": "--shared-finetune"}
        named = ", ".join(f"{flags[name]} ({name})" if name in flags else name for name in foreign)
        raise EvaluatorError(f"{named}: options of --evaluator shared only, not of --evaluator {kind}")
    if kind == "finetune":
        if epochs is not None:
            kwargs["epochs"] = epochs
        return accuracy.FineTuneEvaluator(model, dataset, seed=seed, **kwargs)
    return accuracy.LossProxyEvaluator(model, dataset, seed=seed, **kwargs)


_load_spec = load_hardware


def _load_workload(model, batch):
    from hwmodels.zoo import get_workload

    return get_workload(model, batch=batch)


class QuantProblem(Problem):
    """Mixed-precision quantization search at one abstraction level (subclasses set `level`).

    Args:
        model: zoo / model name (workload and accuracy evaluator), e.g. "resnet20".
        hw: preset name, YAML path or an `AcceleratorSpec`.
        dataset: dataset name for the default evaluator.
        dataflow: "RS", "WS" or "OS" overriding the spec's.
        evaluator: an object with `.evaluate(bits_w, bits_a) -> AccuracyResult` (and `.float_accuracy` for
            SOGA), or "finetune" / "proxy" to build one; None = "finetune" when accuracy is needed.
        workload: list of `Layer`; default `hwmodels.zoo.get_workload(model, batch)`.
        objectives: metric names to optimise (default per level, e.g. Fine: accuracy, energy, latency_cycles).
        constraints: {metric: limit} (see module docstring), all must hold (G <= 0).
        bitwidths: allele set (bits); default the spec's supported bitwidths.
        tie: one locus per layer with b_A = b_W.
        fixed_bits: first and last layers fixed at this bitwidth (hw-flowq 6: 16); None searches them.
        batch: workload batch size.
        mapper_objective: what the Fine mapper minimises per layer ("energy", "latency" or "edp").
        soga_threshold: accuracy threshold t of hw-flowq eq. 1; set it to make a single-objective SOGA problem.
        accuracy_cache: dict shared across problems: genome key -> accuracy record.
        epochs: fine-tuning epochs for a default-built evaluator.
        seed: seed of a default-built evaluator.
    """

    level: str = ""
    default_objectives: tuple = (ACCURACY, "frac_ops")

    def __init__(self, model: str = "resnet20", hw="spatial-256", *, dataset: str = "digits", dataflow=None,
                 evaluator=None, workload=None, objectives=None, constraints=None, bitwidths=None,
                 tie: bool = False, fixed_bits: int | None = 16, batch: int = 1, mapper_objective: str = "energy",
                 soga_threshold: float | None = None, accuracy_cache: dict | None = None,
                 epochs: float | None = None, seed: int = 0):
        self._init_kwargs = dict(model=model, hw=hw, dataset=dataset, dataflow=dataflow, evaluator=evaluator,
                                 workload=workload, objectives=objectives, constraints=constraints,
                                 bitwidths=bitwidths, tie=tie, fixed_bits=fixed_bits, batch=batch,
                                 mapper_objective=mapper_objective, soga_threshold=soga_threshold,
                                 accuracy_cache=accuracy_cache, epochs=epochs, seed=seed)
        self.model, self.dataset, self.batch, self.seed = model, dataset, int(batch), int(seed)
        self.spec = _load_spec(hw, dataflow)
        self.workload = list(workload) if workload is not None else _load_workload(model, self.batch)
        self.objectives = tuple(objectives) if objectives is not None else tuple(self.default_objectives)
        self.constraints = {str(k): float(v) for k, v in dict(constraints or {}).items()}
        self.mapper_objective = mapper_objective
        self.soga_threshold = None if soga_threshold is None else float(soga_threshold)
        self._baseline = None
        allowed = tuple(self.spec.bitwidths)
        bitwidths = tuple(int(b) for b in (bitwidths if bitwidths is not None else allowed))
        unsupported = [b for b in bitwidths + (() if fixed_bits is None else (int(fixed_bits),)) if b not in allowed]
        if unsupported:
            raise GenomeError(f"bitwidths {unsupported} are not supported by hardware {self.spec.name!r}; "
                              f"allowed {allowed}")
        self.genome = GenomeEncoding.for_layers(len(self.workload), bitwidths, tie=tie, fixed_bits=fixed_bits)
        self.fixed_bits = fixed_bits
        self.baseline_bits = self.spec.b_max if self.spec.b_max in allowed else max(allowed)
        self._check_metric_names()
        self.evaluator = self._resolve_evaluator(evaluator, epochs)
        self.accuracy_cache = accuracy_cache if accuracy_cache is not None else {}
        self._init_kwargs.update(evaluator=self.evaluator, accuracy_cache=self.accuracy_cache, hw=self.spec,
                                 workload=self.workload)
        self.records: dict = {}  # genome key -> {"bits_w", "bits_a", "metrics"} for every individual evaluated
        self.n_hw_evaluations = 0
        self.n_accuracy_evaluations = 0
        self.accuracy_seconds = 0.0
        self.progress = None  # optional flowq.callbacks.EvaluationProgress: start(n) / step(seconds) / close()
        self.executor = None  # flowq.executor.Executor for accuracy evaluations (None: serial, in this process)
        n_obj = 1 if self.soga_threshold is not None else len(self.objectives)
        super().__init__(n_var=self.genome.n_var, n_obj=n_obj, n_ieq_constr=len(self.constraints), xl=0,
                         xu=self.genome.n_alleles - 1, vtype=int)

    # ---- configuration checks ------------------------------------------------------------------------
    def _check_metric_names(self):
        known = self.hw_metrics + (ACCURACY,)
        if not self.objectives:
            raise GenomeError("objectives is empty; name at least one metric, e.g. ('accuracy', 'frac_ops')")
        for role, names in (("objective", self.objectives), ("constraint", tuple(self.constraints))):
            for name in names:
                if name not in known:
                    raise GenomeError(f"{role} {name!r} is not a metric of the {self.level} level; "
                                      f"allowed: {', '.join(known)}")
        if len(set(self.objectives)) != len(self.objectives):
            raise GenomeError(f"objectives {self.objectives} name a metric twice")
        if self.soga_threshold is not None:
            hw = [name for name in self.objectives if name != ACCURACY]
            if ACCURACY not in self.objectives or len(hw) != 1:
                raise GenomeError(f"SOGA (hw-flowq eq. 1) combines accuracy with ONE hardware metric; got objectives "
                                  f"{self.objectives}; use e.g. ('accuracy', 'energy')")
            if self.soga_threshold <= 0:
                raise GenomeError(f"soga_threshold={self.soga_threshold}: the accuracy threshold t must be > 0 "
                                  f"(e.g. 0.05 for 5 points)")
        for name, limit in self.constraints.items():
            if not math.isfinite(limit) or limit < 0:
                raise GenomeError(f"constraint {name}={limit}: limits are fractions >= 0 (e.g. 0.35 = 35 % of the "
                                  f"16-bit baseline; accuracy: minimum psi in [0, 1])")

    def _resolve_evaluator(self, evaluator, epochs):
        if evaluator is None and not self.needs_accuracy:
            return None
        if evaluator is None or isinstance(evaluator, str):
            return make_evaluator(evaluator or "finetune", self.model, self.dataset, epochs=epochs, seed=self.seed)
        return evaluator

    def with_constraints(self, constraints: dict) -> "QuantProblem":
        """The same problem (evaluator and accuracy cache shared) with other constraints."""
        return type(self)(**dict(self._init_kwargs, constraints=constraints))

    @property
    def needs_accuracy(self) -> bool:
        """Whether accuracy is an objective or a constraint."""
        return ACCURACY in self.objectives or ACCURACY in self.constraints

    @property
    def cut_points(self) -> np.ndarray:
        """Crossover cut positions between layers (used by `flowq.operators.SinglePointCrossover`)."""
        return self.genome.cut_points

    @property
    def hw_metrics(self) -> tuple:
        """The scalar hardware metric names this level reports (those of its population evaluation)."""
        return tuple(self.baseline)

    def config(self) -> dict:
        """Plain-JSON description of the problem (written to results.json; enough to rebuild it)."""
        return {"level": self.level, "model": self.model, "dataset": self.dataset, "hw": self.spec.name,
                "dataflow": self.spec.dataflow, "objectives": list(self.objectives),
                "constraints": dict(self.constraints), "bitwidths": list(self.genome.bitwidths),
                "tie": self.genome.tie, "fixed_bits": self.fixed_bits, "batch": self.batch,
                "mapper_objective": self.mapper_objective, "soga_threshold": self.soga_threshold,
                "layer_names": [layer.name for layer in self.workload]}

    # ---- metrics -----------------------------------------------------------------------------------------
    @property
    def baseline(self) -> dict:
        """Hardware metrics of the network with every layer at `baseline_bits` (computed once)."""
        if self._baseline is None:
            bits = np.full((1, len(self.workload)), self.baseline_bits, dtype=np.int64)
            totals = evaluate_population(self.workload, self.spec, bits, bits, level=self.level,
                                         objective=self.mapper_objective)
            self._baseline = {name: float(np.asarray(value)[0]) for name, value in totals.items()
                              if value is not None}
        return self._baseline

    def _hardware(self, BW, BA, keys):
        """Fill records with hardware metrics for the keys not seen yet (one population call)."""
        todo = {}
        for row, key in enumerate(keys):
            if key not in self.records and key not in todo:
                todo[key] = row
        if not todo:
            return
        rows = np.fromiter(todo.values(), dtype=np.int64)
        totals = evaluate_population(self.workload, self.spec, BW[rows], BA[rows], level=self.level,
                                     objective=self.mapper_objective)
        self.n_hw_evaluations += len(rows)
        for j, (key, row) in enumerate(todo.items()):
            metrics = {name: float(np.asarray(totals[name])[j]) for name in self.hw_metrics
                       if totals.get(name) is not None}
            self.records[key] = {"bits_w": [int(b) for b in BW[row]], "bits_a": [int(b) for b in BA[row]],
                                 "metrics": metrics}

    def _accuracy(self, BW, BA, keys):
        """Add accuracy to the records of `keys`, evaluating only genomes absent from the shared cache (a failed
        evaluation is never cached there: it is asked for again next time)."""
        todo, seen = [], set()
        for row, key in enumerate(keys):
            metrics = self.records[key]["metrics"]
            if (ACCURACY in metrics and not metrics.get(FAILED)) or key in seen:
                continue
            seen.add(key)
            if key in self.accuracy_cache:
                metrics.update(self.accuracy_cache[key])
            else:
                todo.append((row, key))
        if self.progress is not None:
            self.progress.start(len(todo))
        last = [time.perf_counter()]

        def done(index, outcome):  # in the driver, as each candidate finishes (any order)
            now = time.perf_counter()
            seconds, last[0] = now - last[0], now
            self.accuracy_seconds += seconds
            self.n_accuracy_evaluations += 1
            key = todo[index][1]
            record = _accuracy_record(outcome)
            if not record[FAILED]:
                self.accuracy_cache[key] = record
            self.records[key]["metrics"].update(record)
            if self.progress is not None:
                self.progress.step(seconds)

        try:
            if todo:  # one task per candidate; order-independent (each fine-tune is seeded on its own)
                from flowq.executor import Executor

                executor = self.executor if self.executor is not None else Executor()
                executor.evaluate(self.evaluator, [(BW[row].copy(), BA[row].copy()) for row, _ in todo],
                                  on_done=done)
        finally:
            if self.progress is not None:
                self.progress.close()

    def __getstate__(self):
        """Pickles (checkpoints) without the executor, which holds worker processes."""
        state = dict(super().__getstate__())
        state["executor"] = None
        return state

    def evaluate_metrics(self, X) -> list[dict]:
        """Raw metrics (by name, accuracy as psi) of integer genomes X (n, n_var), cached by genome."""
        X = np.atleast_2d(np.asarray(X))
        BW, BA = self.genome.decode(X)
        keys = [tuple(BW[i]) + tuple(BA[i]) for i in range(len(X))]
        self._hardware(BW, BA, keys)
        if self.needs_accuracy:
            self._accuracy(BW, BA, keys)
        return [self.records[key]["metrics"] for key in keys]

    def objective_value(self, name: str, metrics: dict) -> float:
        """Normalised, minimised value of objective `name` (see module docstring)."""
        value = metrics[name]
        if name == ACCURACY:
            return 1.0 - value
        base = self.baseline[name]
        if name in MAXIMISED:
            return base / value if value > 0 else math.inf
        return value / base if base > 0 else value

    def constraint_value(self, name: str, limit: float, metrics: dict) -> float:
        """G of constraint `name` (<= 0 when satisfied)."""
        value = metrics[name]
        if name == ACCURACY:
            return limit - value
        base = self.baseline[name]
        ratio = value / base if base > 0 else value
        return limit - ratio if name in MAXIMISED else ratio - limit

    def soga_fitness(self, metrics: dict) -> float:
        """hw-flowq eq. 1: (1 - (psi* - psi) / t) * log(phi* / phi), phi = the hardware objective."""
        hw_name = next(name for name in self.objectives if name != ACCURACY)
        psi_star = float(self.evaluator.float_accuracy)
        gain = math.log(1.0 / max(self.objective_value(hw_name, metrics), 1e-300))
        return (1.0 - (psi_star - metrics[ACCURACY]) / self.soga_threshold) * gain

    def _evaluate(self, X, out, *args, **kwargs):
        from flowq.executor import SearchInterrupted, stop_requested

        if stop_requested():  # SIGINT / SIGTERM between generations (hardware-only searches have no executor)
            raise SearchInterrupted("stopped before the next generation")
        all_metrics = self.evaluate_metrics(X)
        if self.soga_threshold is not None:
            F = [[FAILED_F if m.get(FAILED) else -self.soga_fitness(m)] for m in all_metrics]
        else:
            F = [[FAILED_F] * len(self.objectives) if m.get(FAILED) else
                 [self.objective_value(name, m) for name in self.objectives] for m in all_metrics]
        out["F"] = np.asarray(F, dtype=float)
        if self.constraints:
            out["G"] = np.asarray([[self.constraint_value(name, limit, m) for name, limit in self.constraints.items()]
                                   for m in all_metrics], dtype=float)


def _accuracy_record(outcome) -> dict:
    """Accuracy metrics of one executor `Outcome`; an evaluation that raised is a failed candidate."""
    if not outcome.ok:
        return {ACCURACY: 0.0, "accuracy_loss": math.inf, FAILED: True,
                "accuracy_reason": f"evaluation raised {outcome.error}", "accuracy_seconds": 0.0}
    result = outcome.value
    return {ACCURACY: float(result.psi), "accuracy_loss": float(result.loss), FAILED: bool(result.failed),
            "accuracy_reason": str(result.reason or ""), "accuracy_seconds": float(result.seconds)}


def problem_class(level: str):
    """The Problem class of an abstraction level name."""
    from problems import PROBLEMS

    if level not in PROBLEMS:
        raise FlowQError(f"unknown level {level!r}; allowed: {', '.join(PROBLEMS)}")
    return PROBLEMS[level]
