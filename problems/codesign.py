"""`CodesignProblem`: search the accelerator (a `hwmodels.space.DesignSpace`) together with per-layer bitwidths.

Genome = the hardware genes (one integer per gene of the space, an index into its values) followed by the usual
bitwidth genome (`flowq.genome.GenomeEncoding`). Every locus has its own bounds, so pymoo's integer sampling and
FlowQ's single-point crossover / single-locus mutation (`flowq.operators`) only ever produce in-bounds genomes,
and every in-bounds hardware genome decodes to a legal spec (the space checks every combination when loaded).
Crossover cuts fall between hardware genes, between the hardware block and the bits, and between layers.

A layer whose searched bitwidth the decoded hardware does not support (a space may vary `bitwidths`) runs at the
next wider supported bitwidth: its quantised values fit exactly, so its accuracy is the searched one and its
hardware cost is that of the wider datapath. Genomes therefore never become illegal.

Accuracy depends on the bitwidth genes only: it is cached by bits (the same key as every `QuantProblem`, so a
`Flow`'s accuracy cache is shared) and reused across every hardware point. Hardware metrics come from one
`hwmodels.api.evaluate_population` call per distinct decoded spec, plus `area` (mm^2, `hwmodels.area`, with the
space's area table), which depends on the spec alone.

Normalisation (so that co-design and fixed-hardware searches compare): every hardware metric is divided by its
value for the 16-bit network on the space's base spec (the reference hardware), the same for every hardware
point; `area` by the base spec's area. Constraints are limits in the same units, e.g. {"area": 1.5} means at most
1.5 x the base spec's area.

Strategies:
    joint   one NSGA-II over hardware and bitwidth genes together (`flowq.flow.Flow.search` on this problem).
    nested  AnaCoNGA-style (Fasfous et al., DATE 2022): an outer NSGA-II over the bitwidth genes; each bitwidth
            candidate gets an inner search over the hardware space (`nested_search`), and its objective vector
            holds, per hardware objective, the best value over the hardware the inner search evaluated (the
            accuracy is shared). Every (hardware, bits) pair evaluated is a real design: the front reported is the
            non-dominated set of those pairs.
"""

from __future__ import annotations

import math

import numpy as np
from pymoo.core.problem import Problem
from pymoo.core.termination import Termination

from flowq.genome import GenomeEncoding
from hwmodels.api import evaluate_population
from hwmodels.area import area_mm2
from hwmodels.errors import FlowQError, GenomeError, MappingError
from hwmodels.space import DesignSpace, load_space
from problems.base import ACCURACY, FAILED, QuantProblem, _load_workload

STRATEGIES = ("joint", "nested")
AREA = "area"
#: spec fields a level's cost model never reads: genes that set only these are not searched at that level (Mid
#: models tiling and DRAM traffic, not the spatial dataflow), so they cannot triplicate solutions.
IGNORED_FIELDS = {"mid": frozenset({"dataflow"}), "fine": frozenset()}


def searched_space(space: DesignSpace, level: str) -> DesignSpace:
    """`space` without the genes whose every field the level ignores (`IGNORED_FIELDS`)."""
    ignored = IGNORED_FIELDS.get(level, frozenset())
    return space.without([g.name for g in space.genes if set(g.fields) <= ignored])


def merge_equal_objectives(front: list) -> list:
    """Front solutions (results.json entries with "F" and "hw") with equal objective vectors merged into the first
    of them, which lists the others' hardware under `hw_alternatives` (e.g. the same bits on other buffer sizes
    when area is not an objective). Order kept."""
    merged, index = [], {}
    for solution in front:
        key = tuple(round(float(v), 12) for v in solution["F"])
        if key in index:
            merged[index[key]].setdefault("hw_alternatives", []).append(solution.get("hw"))
        else:
            index[key] = len(merged)
            merged.append(dict(solution))
    return merged


def snap_bits(bits: np.ndarray, supported) -> np.ndarray:
    """Each bitwidth raised to the narrowest supported bitwidth >= it (the widest when none is), same shape."""
    table = np.asarray(sorted(supported), dtype=np.int64)
    index = np.clip(np.searchsorted(table, bits, side="left"), 0, len(table) - 1)
    return table[index]


class CodesignGenome:
    """Hardware genes followed by a bitwidth genome.

    Args:
        space: the hardware design space.
        bits: the bitwidth encoding (loci after the hardware genes).
    """

    def __init__(self, space: DesignSpace, bits: GenomeEncoding):
        self.space, self.bits = space, bits
        self.n_hw = space.n_genes
        self.tie, self.bitwidths = bits.tie, bits.bitwidths

    @property
    def n_var(self) -> int:
        """Hardware genes + bitwidth loci."""
        return self.n_hw + self.bits.n_var

    @property
    def upper_bounds(self) -> np.ndarray:
        """Per-locus largest allele index, shape (n_var,)."""
        return np.concatenate([self.space.upper_bounds, np.full(self.bits.n_var, self.bits.n_alleles - 1)])

    @property
    def cut_points(self) -> np.ndarray:
        """Crossover cuts: between hardware genes, after the hardware block, and between layers."""
        return np.concatenate([np.arange(1, self.n_hw + 1), self.n_hw + self.bits.cut_points]).astype(np.int64)

    def split(self, X) -> tuple[np.ndarray, np.ndarray]:
        """(hardware genes (n, n_hw), bit genomes (n, bits.n_var)) of genomes X (n, n_var) or (n_var,)."""
        X = np.atleast_2d(np.asarray(X))
        if X.shape[1] != self.n_var:
            raise GenomeError(f"co-design genome shape {X.shape} does not match: expected (n, {self.n_var}) "
                              f"({self.n_hw} hardware genes + {self.bits.n_var} bitwidth loci)")
        return X[:, :self.n_hw].astype(np.int64), X[:, self.n_hw:]

    def decode(self, X) -> tuple[np.ndarray, np.ndarray]:
        """Searched per-layer bits (BW, BA) of genomes X (before snapping to the hardware's bitwidths)."""
        _, B = self.split(X)
        BW, BA = self.bits.decode(B)
        if np.asarray(X).ndim == 1:
            return BW[0], BA[0]
        return BW, BA

    def key(self, x) -> tuple:
        """Hashable key: ("hw", hardware genes...) + the bits key."""
        H, B = self.split(x)
        return ("hw",) + tuple(int(h) for h in H[0]) + self.bits.key(B[0])

    def encode(self, bits_w, bits_a=None, hw_genes=None) -> np.ndarray:
        """Genome of per-layer bits on hardware genes `hw_genes` (default: the base spec's, when in the space)."""
        B = self.bits.encode(bits_w, bits_a)
        if hw_genes is None:
            hw_genes = self.space.encode(self.space.base) if _in_space(self.space) else np.zeros(self.n_hw, int)
        H = np.broadcast_to(np.asarray(hw_genes, dtype=np.int64), B.shape[:-1] + (self.n_hw,))
        return np.concatenate([H, B], axis=-1)


class CodesignProblem(QuantProblem):
    """Mixed-precision quantisation and accelerator co-design at one hardware level (default Fine).

    Args:
        model: zoo / model name, e.g. "resnet20".
        space: a `DesignSpace`, a packaged space name ("spatial") or a space YAML path.
        level: hardware level of the cost model, "fine" or "mid" (Mid: no energy; cheaper).
        objectives: metric names (default: accuracy, energy, latency_cycles, area at Fine; accuracy,
            dram_accesses_bits, latency_cycles, area at Mid: hardware of another area is another design).
    Genes that set only fields the level ignores (`IGNORED_FIELDS`, e.g. the dataflow at Mid) are dropped from
    `space` (`searched_space`).
        constraints: {metric: limit}, limits relative to the reference hardware's 16-bit metrics (module doc).
        bitwidths: searched allele set (default: the base spec's bitwidths).
        Other arguments: as `QuantProblem` (dataset, evaluator, workload, tie, fixed_bits, batch,
            mapper_objective, accuracy_cache, epochs, seed).
    """

    DEFAULTS = {"fine": (ACCURACY, "energy", "latency_cycles", AREA), "mid": (ACCURACY, "dram_accesses_bits",
                                                                              "latency_cycles", AREA)}

    def __init__(self, model: str = "resnet20", space="spatial", *, level: str = "fine", dataset: str = "digits",
                 evaluator=None, workload=None, objectives=None, constraints=None, bitwidths=None,
                 tie: bool = False, fixed_bits: int | None = 16, batch: int = 1, mapper_objective: str = "energy",
                 accuracy_cache: dict | None = None, epochs: float | None = None, seed: int = 0, **ignored):
        if level not in self.DEFAULTS:
            raise GenomeError(f"co-design level {level!r}; allowed: {', '.join(self.DEFAULTS)} (Coarse has no "
                              f"memory hierarchy to design)")
        self.level = level
        self.space = searched_space(space if isinstance(space, DesignSpace) else load_space(space), level)
        self._init_kwargs = dict(model=model, space=self.space, level=level, dataset=dataset, evaluator=evaluator,
                                 workload=workload, objectives=objectives, constraints=constraints,
                                 bitwidths=bitwidths, tie=tie, fixed_bits=fixed_bits, batch=batch,
                                 mapper_objective=mapper_objective, accuracy_cache=accuracy_cache, epochs=epochs,
                                 seed=seed)
        self.model, self.dataset, self.batch, self.seed = model, dataset, int(batch), int(seed)
        self.spec = self.space.base  # the reference hardware of the normalisation
        self.workload = list(workload) if workload is not None else _load_workload(model, self.batch)
        self.objectives = tuple(objectives) if objectives is not None else self.DEFAULTS[level]
        self.constraints = {str(k): float(v) for k, v in dict(constraints or {}).items()}
        self.mapper_objective = mapper_objective
        self.soga_threshold = None
        self._baseline = None
        bitwidths = tuple(int(b) for b in (bitwidths if bitwidths is not None else self.spec.bitwidths))
        bits = GenomeEncoding.for_layers(len(self.workload), bitwidths, tie=tie, fixed_bits=fixed_bits)
        self.genome = CodesignGenome(self.space, bits)
        self.fixed_bits = fixed_bits
        self.baseline_bits = self.spec.b_max
        self._check_metric_names()
        self.evaluator = self._resolve_evaluator(evaluator, epochs)
        self.accuracy_cache = accuracy_cache if accuracy_cache is not None else {}
        self._init_kwargs.update(evaluator=self.evaluator, accuracy_cache=self.accuracy_cache,
                                 workload=self.workload)
        self.records: dict = {}
        self.n_hw_evaluations = 0
        self.n_accuracy_evaluations = 0
        self.accuracy_seconds = 0.0
        self.progress = None
        Problem.__init__(self, n_var=self.genome.n_var, n_obj=len(self.objectives),
                         n_ieq_constr=len(self.constraints), xl=0, xu=self.genome.upper_bounds, vtype=int)

    # ---- metrics ------------------------------------------------------------------------------------------
    @property
    def baseline(self) -> dict:
        """Metrics of the 16-bit network on the reference hardware (the space's base spec), plus its area."""
        baseline = super().baseline
        baseline[AREA] = area_mm2(self.spec, self.space.area_table)  # the space's area table, not the default
        return baseline

    def config(self) -> dict:
        """Plain-JSON description (results.json): the `QuantProblem` keys plus the space and its genes."""
        config = super().config()
        config.update(hw=f"space:{self.space.name}", hw_space=self.space.source or self.space.name,
                      strategy=getattr(self, "strategy", "joint"),
                      hw_genes={g.name: [g.label(k) for k in range(g.n_values)] for g in self.space.genes})
        return config

    def _hardware_rows(self, H, BW, BA, rows) -> None:
        """Hardware metrics of rows (indices into H/BW/BA), one population call per distinct spec."""
        groups: dict = {}
        for row in rows:
            groups.setdefault(tuple(H[row]), []).append(row)
        for hw, group in groups.items():
            spec = self.space.decode(hw)
            g = np.asarray(group, dtype=np.int64)
            bw, ba = snap_bits(BW[g], spec.bitwidths), snap_bits(BA[g], spec.bitwidths)
            try:
                totals = evaluate_population(self.workload, spec, bw, ba, level=self.level,
                                             objective=self.mapper_objective)
                failure = None
            except MappingError as error:
                totals, failure = None, str(error)
            self.n_hw_evaluations += len(group)
            area = self.space.area(hw)
            params = self.space.hw_params(hw)
            for j, row in enumerate(group):
                if totals is None:
                    metrics = {name: math.inf for name in self.hw_metrics}
                    metrics.update({FAILED: True, "accuracy_reason": f"hardware: {failure}"})
                else:
                    metrics = {name: float(np.asarray(totals[name])[j]) for name in self.hw_metrics
                               if totals.get(name) is not None}
                metrics[AREA] = area
                self.records[self._key(H[row], BW[row], BA[row])] = {
                    "bits_w": [int(b) for b in BW[row]], "bits_a": [int(b) for b in BA[row]],
                    "hw_genes": [int(h) for h in hw], "hw": params, "spec_name": spec.name, "metrics": metrics}

    @staticmethod
    def _key(h, bw, ba) -> tuple:
        return ("hw",) + tuple(int(v) for v in h) + tuple(int(b) for b in bw) + tuple(int(b) for b in ba)

    def _accuracy_of(self, BW, BA, rows) -> None:
        """Accuracy of the distinct bit genomes among rows, evaluated only when absent from the shared cache (a
        failed evaluation is kept apart, never in the shared cache, and not retried by this problem)."""
        failed = self.__dict__.setdefault("_failed_accuracy", {})
        for row in rows:
            key = tuple(int(b) for b in BW[row]) + tuple(int(b) for b in BA[row])
            if key in self.accuracy_cache or key in failed:
                continue
            result = self.evaluator.evaluate(BW[row].copy(), BA[row].copy())
            self.accuracy_seconds += float(result.seconds)
            self.n_accuracy_evaluations += 1
            record = {ACCURACY: float(result.psi), "accuracy_loss": float(result.loss), FAILED: bool(result.failed),
                      "accuracy_reason": str(result.reason or ""), "accuracy_seconds": float(result.seconds)}
            if result.failed:
                failed[key] = record
            else:
                self.accuracy_cache[key] = record

    def evaluate_metrics(self, X) -> list[dict]:
        """Raw metrics (accuracy as psi, `area` in mm^2) of co-design genomes X (n, n_var), cached by genome."""
        X = np.atleast_2d(np.asarray(X))
        H, _ = self.genome.split(X)
        BW, BA = self.genome.decode(X)
        keys = [self._key(H[i], BW[i], BA[i]) for i in range(len(X))]
        todo, seen = [], set()
        for row, key in enumerate(keys):
            if key not in self.records and key not in seen:
                seen.add(key)
                todo.append(row)
        if todo:
            self._hardware_rows(H, BW, BA, todo)
        if self.needs_accuracy:
            self._accuracy_of(BW, BA, range(len(X)))
            failed = getattr(self, "_failed_accuracy", {})
            for row, key in enumerate(keys):
                bits_key = key[1 + self.genome.n_hw:]
                metrics = self.records[key]["metrics"]
                accuracy = self.accuracy_cache.get(bits_key) or failed.get(bits_key)
                hw_failed = str(metrics.get("accuracy_reason", "")).startswith("hardware:")
                if accuracy is not None and not hw_failed:
                    metrics.update(accuracy)
                elif hw_failed:
                    metrics.setdefault(ACCURACY, 0.0)
        return [self.records[key]["metrics"] for key in keys]

    @property
    def hw_metrics(self) -> tuple:
        """Hardware metric names of the level plus `area`."""
        return tuple(self.baseline)

    def solution_extra(self, key) -> dict:
        """Per-solution fields for results.json beside bits_w/bits_a: `hw` (parameters) and the full genome."""
        record = self.records[key]
        genome = self.genome.encode(record["bits_w"], record["bits_a"], record["hw_genes"])
        return {"hw": dict(record["hw"], genes=list(record["hw_genes"])), "genome": genome.tolist()}

    def spec_of(self, key):
        """The `AcceleratorSpec` of an evaluated record key (or of a hardware genome)."""
        genes = self.records[key]["hw_genes"] if key in self.records else key
        return self.space.decode(genes)


# ---- strategies ----------------------------------------------------------------------------------------------
class _BitsView(Problem):
    """The outer problem of the nested strategy: bitwidth genes only; F = best hardware per objective."""

    def __init__(self, problem: CodesignProblem, inner):
        self.problem, self.inner = problem, inner
        bits = problem.genome.bits
        self.cut_points = bits.cut_points
        super().__init__(n_var=bits.n_var, n_obj=len(problem.objectives), n_ieq_constr=len(problem.constraints),
                         xl=0, xu=bits.n_alleles - 1, vtype=int)

    def _evaluate(self, B, out, *args, **kwargs):
        F, G = self.inner(np.atleast_2d(np.asarray(B, dtype=np.int64)))
        out["F"] = F
        if self.problem.constraints:
            out["G"] = G


def _objectives_and_violations(problem: CodesignProblem, metrics_list) -> tuple[np.ndarray, np.ndarray]:
    F = np.asarray([[1e6 if m.get(FAILED) else problem.objective_value(n, m) for n in problem.objectives]
                    for m in metrics_list], dtype=float).reshape(-1, len(problem.objectives))
    G = np.asarray([[problem.constraint_value(n, lim, m) for n, lim in problem.constraints.items()]
                    for m in metrics_list], dtype=float).reshape(len(F), -1)
    return F, G


def _best_per_objective(F, G, owner, n) -> tuple[np.ndarray, np.ndarray]:
    """Per owner (bits candidate): the best feasible value of every objective over its hardware points (or,
    when none is feasible, the least violating values)."""
    m = F.shape[1]
    best_F, best_G = np.full((n, m), np.inf), np.full((n, G.shape[1]), np.inf)
    feasible = np.all(G <= 0, axis=1) if G.shape[1] else np.ones(len(F), dtype=bool)
    for i in range(n):
        rows = np.flatnonzero(owner == i)
        ok = rows[feasible[rows]]
        pick = ok if len(ok) else rows
        best_F[i] = F[pick].min(axis=0)
        if G.shape[1]:
            best_G[i] = G[pick].max(axis=0) if len(ok) else G[pick].min(axis=0)
    return best_F, best_G


class AccuracyBudget(Termination):
    """Stop before a generation could take `problem`'s accuracy evaluations past `budget` (equal-budget runs).

    Args:
        problem: the problem whose `n_accuracy_evaluations` count (a co-design or a fixed-hardware problem).
        budget: accuracy evaluations allowed.
        pop_size: most new bit genomes one generation can bring.
    """

    def __init__(self, problem, budget: int, pop_size: int):
        super().__init__()
        self.problem, self.budget, self.pop_size = problem, int(budget), int(pop_size)

    def _update(self, algorithm):
        spent = self.problem.n_accuracy_evaluations
        return 1.0 if spent + self.pop_size > self.budget else spent / max(self.budget, 1)


def nested_search(problem: CodesignProblem, n_gen: int = 10, pop_size: int = 20, *, inner_evals: int = 16,
                  seed: int = 0, verbose: bool = False, ref_point=None, seeds=None,
                  accuracy_budget: int | None = None) -> dict:
    """AnaCoNGA-style nested co-design: outer NSGA-II over bitwidths, inner search over the hardware space.

    The inner search of a bitwidth candidate evaluates every hardware point when the space has at most
    `inner_evals` of them; otherwise `inner_evals` points: the space's base spec, then rounds of single-gene
    mutations of the point that is best so far for a randomly chosen objective (a greedy coordinate search), a
    random point when a mutation repeats one. The candidates of a generation run their rounds together, so each
    round is one hardware population call per distinct spec. A candidate's outer objective vector holds the best
    feasible value per objective over its hardware points ("best hardware per objective", AnaCoNGA); one
    accuracy evaluation serves them all.

    Args:
        problem: the co-design problem (its records collect every (hardware, bits) pair evaluated).
        n_gen, pop_size: outer NSGA-II budget.
        inner_evals: hardware points per bitwidth candidate.
        seed: seeds the outer NSGA-II and the inner searches.
        verbose: print one line per outer generation.
        ref_point: hypervolume reference point of the normalised objectives (default 1.1 each).
        seeds: bit genomes (k, n bit loci) put first in the outer initial population.
        accuracy_budget: stop before a generation could exceed this many accuracy evaluations (`n_gen` still caps).

    Returns:
        {"keys": record keys of the front (realisable (hardware, bits) designs), "F": their objectives (n, m),
        "hypervolume": per generation, "n_accuracy_evaluations", "n_hw_evaluations"}.
    """
    from pymoo.core.callback import Callback
    from pymoo.optimize import minimize

    from flowq.algorithms import make_algorithm
    from flowq.operators import SeededSampling
    from flowq.pareto import hypervolume

    rng = np.random.default_rng(seed)
    problem.strategy = "nested"
    space = problem.space
    exhaustive = space.size <= inner_evals
    all_hw = space.enumerate() if exhaustive else None
    base = space.encode(space.base) if _in_space(space) else np.zeros(space.n_genes, dtype=np.int64)
    ref = np.full(len(problem.objectives), 1.1) if ref_point is None else np.asarray(ref_point, dtype=float)

    def inner(B):
        n = len(B)
        if exhaustive:
            owner = np.repeat(np.arange(n), len(all_hw))
            X = np.concatenate([np.tile(all_hw, (n, 1)), B[owner]], axis=1)
            F, G = _objectives_and_violations(problem, problem.evaluate_metrics(X))
            return _best_per_objective(F, G, owner, n)
        H = [[base] for _ in range(n)]
        seen = [{tuple(base)} for _ in range(n)]
        Fs = [[] for _ in range(n)]
        for _ in range(inner_evals):
            X = np.concatenate([np.asarray([h[-1] for h in H]), B], axis=1)
            F, _ = _objectives_and_violations(problem, problem.evaluate_metrics(X))
            for i in range(n):
                Fs[i].append(F[i])
                if len(H[i]) >= inner_evals:
                    continue
                anchor = H[i][int(np.argmin(np.asarray(Fs[i])[:, rng.integers(F.shape[1])]))]
                candidate = np.array(anchor, copy=True)
                gene = rng.integers(space.n_genes)
                candidate[gene] = rng.integers(space.genes[gene].n_values)
                while tuple(candidate) in seen[i] and len(seen[i]) < space.size:
                    candidate = np.asarray([rng.integers(g.n_values) for g in space.genes], dtype=np.int64)
                seen[i].add(tuple(candidate))
                H[i].append(candidate)
        owner = np.concatenate([np.full(len(h), i) for i, h in enumerate(H)])
        X = np.concatenate([np.concatenate(H), B[owner]], axis=1)
        F, G = _objectives_and_violations(problem, problem.evaluate_metrics(X))
        return _best_per_objective(F, G, owner, n)

    history, state = [], {"front": [], "seen": 0}

    class _Track(Callback):
        def notify(self, algorithm):
            keys = list(problem.records)
            state["front"], F = front_of(problem, state["front"] + keys[state["seen"]:])
            state["seen"] = len(keys)
            history.append(hypervolume(F, ref))
            if verbose:
                print(f"[nested] gen {len(history)} | accuracy evals {problem.n_accuracy_evaluations} | hw evals "
                      f"{problem.n_hw_evaluations} | HV {history[-1]:.5f} | front {len(state['front'])}")

    sampling = SeededSampling(seeds) if seeds is not None and len(seeds) else None
    termination = ("n_gen", n_gen)
    if accuracy_budget is not None:
        from pymoo.termination.collection import TerminationCollection
        from pymoo.termination.max_gen import MaximumGenerationTermination

        termination = TerminationCollection(MaximumGenerationTermination(n_gen),
                                            AccuracyBudget(problem, accuracy_budget, pop_size))
    minimize(_BitsView(problem, inner), make_algorithm("nsga2", pop_size, sampling=sampling), termination,
             seed=seed, callback=_Track(), verbose=False)
    keys, F = front_of(problem, state["front"])
    return {"keys": keys, "F": F, "hypervolume": history, "n_accuracy_evaluations": problem.n_accuracy_evaluations,
            "n_hw_evaluations": problem.n_hw_evaluations}


def _in_space(space: DesignSpace) -> bool:
    try:
        space.encode(space.base)
        return True
    except FlowQError:
        return False


def front_of(problem: CodesignProblem, keys=None) -> tuple[list, np.ndarray]:
    """Non-dominated feasible records (keys, normalised objectives F) among `keys` (default: all records)."""
    from flowq.pareto import non_dominated

    keys = [k for k in (problem.records if keys is None else keys)
            if ACCURACY in problem.records[k]["metrics"] or not problem.needs_accuracy]
    if not keys:
        return [], np.zeros((0, len(problem.objectives)))
    F, G = _objectives_and_violations(problem, [problem.records[k]["metrics"] for k in keys])
    ok = np.flatnonzero(np.all(G <= 0, axis=1) & np.all(F < 1e6, axis=1))
    keys, F = [keys[i] for i in ok], F[ok]
    nd = non_dominated(F)
    return [keys[i] for i in nd], F[nd]


def common_objectives(metrics_list, objectives, reference: dict) -> np.ndarray:
    """Objective vectors of raw metric dicts normalised by ONE reference (the same for every search compared).

    accuracy -> 1 - psi; any other metric -> value / reference[metric] (throughput-like metrics inverted as in
    `problems.base`). Use the reference hardware's 16-bit metrics (`CodesignProblem.baseline`), so that fronts
    searched on different fixed presets and on a co-design space land in one objective space.
    """
    from problems.base import MAXIMISED

    rows = []
    for m in metrics_list:
        row = []
        for name in objectives:
            if name == ACCURACY:
                row.append(1.0 - m[name])
            elif name in MAXIMISED:
                row.append(reference[name] / m[name] if m[name] > 0 else math.inf)
            else:
                row.append(m[name] / reference[name])
        rows.append(row)
    return np.asarray(rows, dtype=float).reshape(-1, len(objectives))
