"""The level-switch flow of hw-flowq 3.1 (Fig. 2/3): search a level, refine to the next, abstract back.

    flow = Flow("resnet20", "digits", evaluator="finetune", hw="spatial-256", out="runs/x")
    coarse = flow.search("coarse", "nsga2", n_gen=10)
    mid = flow.refine(coarse, "mid", constraints={"frac_ops": 0.35})   # seeded with coarse's Pareto set
    if not mid.feasible:
        coarse = flow.abstract()                                          # back to Coarse, rethink its inputs

All levels of one Flow share the accuracy evaluator and its per-genome cache (psi does not depend on the
hardware level), so a genome fine-tuned at Coarse is never fine-tuned again at Mid or Fine.
"""

from __future__ import annotations

import pickle
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from pymoo.optimize import minimize
from pymoo.termination.max_gen import MaximumGenerationTermination

from flowq import runs
from flowq.algorithms import ALGORITHMS, SINGLE_OBJECTIVE, make_algorithm, seed_algorithm  # noqa: F401
from flowq.callbacks import EvaluationProgress, SearchMonitor
from flowq.errors import SearchError
from flowq.operators import SeededSampling
from hwmodels.errors import FlowQError, GenomeError
from problems import PROBLEMS, QuantProblem, make_evaluator
from problems.base import ACCURACY, KIND_OPTIONS

LEVEL_ORDER = ("coarse", "mid", "fine")
DEFAULT_SOGA_THRESHOLD = 0.05  # t of hw-flowq eq. 1: 5 points of accuracy loss make the fitness negative


@dataclass
class SearchResult:
    """The outcome of one search at one level (the content of its results.json plus live objects).

    Attributes:
        level: "coarse", "mid" or "fine".
        data: the results.json dictionary (front, hypervolume, hv_leader, ...).
        problem: the problem searched (None when loaded from disk).
        out: the run folder (None when nothing was written).
    """

    level: str
    data: dict
    problem: QuantProblem | None = None
    out: Path | None = None
    extra: dict = field(default_factory=dict)

    @property
    def front(self) -> list:
        """Pareto solutions: dicts with bits_w, bits_a, metrics (accuracy as psi), F."""
        return self.data["front"]

    @property
    def feasible(self) -> bool:
        """Whether at least one evaluated candidate met every constraint."""
        return bool(self.data["front"])

    @property
    def hypervolume(self) -> list:
        """Hypervolume of the front after every generation (fixed reference point)."""
        return self.data["hypervolume"]

    def leader(self, kind: str = "hv") -> dict | None:
        """The "hv", "accuracy" or "compression" leader solution (None on an empty front)."""
        index = self.data.get(f"{kind}_leader")
        return None if index is None else self.front[index]

    @property
    def bits(self) -> tuple[np.ndarray, np.ndarray]:
        """(BW, BA) of the front, shape (n_front, n_layers) each."""
        n_layers = len(self.data["config"]["layer_names"])
        BW = np.asarray([s["bits_w"] for s in self.front], dtype=np.int64).reshape(-1, n_layers)
        BA = np.asarray([s["bits_a"] for s in self.front], dtype=np.int64).reshape(-1, n_layers)
        return BW, BA

    @classmethod
    def load(cls, run) -> "SearchResult":
        """Read a run folder (or its results.json) through `flowq.runs.read_results` (RunError if unreadable)."""
        data = runs.read_results(run)
        return cls(data["level"], data, None, runs.results_path(run).parent)


def _check_seed(seed, what: str = "seed") -> int:
    """A seed must be an integer in [0, 2**32): numpy's and torch's generators take no other."""
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or not 0 <= seed < 2 ** 32:
        raise SearchError(f"{what}={seed!r}; allowed: an integer 0 <= seed < 2**32")
    return int(seed)


class Flow:
    """Search, refine and abstract across the Coarse, Mid and Fine levels with one accuracy evaluator.

    Args:
        model: zoo name (e.g. "resnet20"), a factory spec ("pkg.module:factory", "path/file.py:factory") or an
            nn.Module; the hardware workload is traced from that network at the dataset's input size and classes.
        dataset: dataset name, e.g. "digits".
        evaluator: "finetune", "proxy" or an evaluator object (`.evaluate(bits_w, bits_a)`).
        hw: accelerator preset, YAML path or `AcceleratorSpec` used by every level.
        dataflow: "RS", "WS" or "OS" overriding the spec's.
        epochs: fine-tuning epochs for a "finetune" evaluator built here.
        seed: GA seed: unless a call overrides it, every search's random choices (never the float network).
        evaluator_seed: seed of an evaluator built here (float network training, fine-tuning, proxy batch): the
            float network's identity is its own, so fronts of different GA seeds sit on the same network.
        out: folder under which each search writes a sub-folder named after its level (None: no files).
        verbose: print a progress line per generation (and a bar within a generation on a terminal).
        evaluator_kwargs: more options of an evaluator built here (quantizer, device, data_root, weights, ...):
            weights="model.pt" makes that pretrained float state dict the float network (no float training).
        hv_rule: HV-leader rule, "paper" (hw-flowq 6.2) or "rescaled" (`flowq.pareto.hv_leader`).
        problem_kwargs: defaults for every problem (bitwidths, tie, fixed_bits, batch, objectives, ...).
    """

    def __init__(self, model: str = "resnet20", dataset: str = "digits", evaluator="finetune", *,
                 hw="spatial-256", dataflow=None, epochs: float | None = None, seed: int = 0,
                 evaluator_seed: int = 0, out=None, verbose: bool = True, evaluator_kwargs: dict | None = None,
                 hv_rule: str = "paper", **problem_kwargs):
        from flowq.models import model_name  # torch is imported here, not at module import

        self.network = model  # what is built and traced: a name, a factory spec or an nn.Module
        self.model, self.dataset, self.hw, self.dataflow = model_name(model), dataset, hw, dataflow
        self.seed = _check_seed(seed, "seed")
        self.evaluator_seed = _check_seed(evaluator_seed, "evaluator_seed")
        self._evaluator = evaluator  # a name is turned into an evaluator on first use (torch imported then)
        self._evaluator_options = dict(epochs=epochs, seed=self.evaluator_seed, **(evaluator_kwargs or {}))
        self.out = None if out is None else Path(out)
        self.verbose = verbose
        self.hv_rule = hv_rule
        self.problem_kwargs = problem_kwargs
        self.accuracy_cache: dict = {}
        self.results: list = []  # the level stack: one SearchResult per level visited, coarsest first
        self.executor = None  # flowq.executor.Executor running accuracy evaluations (None: serial, in-process)
        self.trackers: list = []  # flowq.tracking trackers: every search logs each generation to them
        self._workloads: dict = {}  # batch -> workload of the network

    @classmethod
    def from_run(cls, run, *, evaluator=None, hw=None, dataflow=None, epochs=None, seed=None, verbose=True,
                 evaluator_kwargs: dict | None = None, hv_rule: str | None = None, **problem_overrides) -> "Flow":
        """A Flow with the problem and evaluator settings recorded in a run folder (those given here win).

        Model, dataset, hardware, dataflow, bitwidths, tie, fixed bits, batch, a Fine run's mapper objective and the
        evaluator (kind, epochs, its own seed, quantiser, data folder, device) come from the run's results.json, and
        its objectives when they are not its level's defaults; `hw` replaces the hardware (then the run's dataflow
        is dropped unless `dataflow` is given).
        """
        data = runs.read_results(run)
        config, recorded = data["config"], dict(data.get("evaluator") or {})
        options = dict(recorded.get("options") or {})
        options.update(evaluator_kwargs or {})
        recorded_kind = {"lossproxy": "proxy"}.get(recorded.get("kind"), recorded.get("kind"))  # class kind -> name
        kind = evaluator or recorded_kind or "finetune"
        if epochs is None and kind == recorded_kind:
            epochs = recorded.get("epochs")
        for name in KIND_OPTIONS.get(recorded_kind, ()) if kind != recorded_kind else ():
            options.pop(name, None)  # options only the recorded kind takes (the proxy's batch, the shared net's)
        problem_kwargs = {k: config[k] for k in ("tie", "fixed_bits", "batch", "bitwidths") if k in config}
        if config.get("level") == "fine" and "mapper_objective" in config:  # other levels record the base default
            problem_kwargs["mapper_objective"] = config["mapper_objective"]
        level = config.get("level")
        if level in PROBLEMS and tuple(config.get("objectives") or ()) != PROBLEMS[level].default_objectives:
            problem_kwargs["objectives"] = tuple(config["objectives"])  # chosen by the user: carried over
        evaluator_seed = problem_overrides.pop("evaluator_seed", None)
        if evaluator_seed is None:
            evaluator_seed = recorded.get("seed", 0)
        problem_kwargs.update(problem_overrides)
        return cls(config["model"], config["dataset"], kind, hw=hw or config["hw"],
                   dataflow=dataflow or (None if hw else config.get("dataflow")), epochs=epochs,
                   seed=data.get("seed", 0) if seed is None else seed,
                   evaluator_seed=evaluator_seed, verbose=verbose, evaluator_kwargs=options,
                   hv_rule=hv_rule or data.get("hv_leader_rule", "paper"), **problem_kwargs)

    @property
    def evaluator(self):
        """The accuracy evaluator shared by every level (built on first use from its name)."""
        if isinstance(self._evaluator, str):
            self._evaluator = make_evaluator(self._evaluator, self.network, self.dataset, **self._evaluator_options)
        return self._evaluator

    def evaluator_identity(self) -> dict:
        """What determines psi: the evaluator's `identity()` (kind, model, dataset, float network, quantiser,
        fine-tuning length, ...) or, for an object without one, its class name."""
        return self._identity_of(self.evaluator)

    def preload_accuracy(self, run) -> int:
        """Fill the accuracy cache from a previous run folder measured by the same evaluator on the same float
        network (only that run's own files, never failed evaluations), so refining never re-evaluates a genome.
        Returns the count added."""
        records = runs.accuracy_records(run, self.evaluator_identity(), ACCURACY)
        added = 0
        for key, record in records.items():
            if key not in self.accuracy_cache:
                self.accuracy_cache[key] = record
                added += 1
        return added

    # ---- problems ---------------------------------------------------------------------------------------
    def workload(self, batch: int = 1) -> list:
        """The hardware workload of the network this flow trains: its model built for its dataset's classes and
        input size, traced at `batch` (`flowq.models.network_workload`; the zoo table when the shapes agree)."""
        if batch not in self._workloads:
            from flowq.data import dataset_shape
            from flowq.models import network_workload

            options = self._evaluator_options
            shape = dataset_shape(self.dataset, root=options.get("data_root"), image_size=options.get("image_size"))
            self._workloads[batch] = network_workload(self.network, shape, int(batch))
        return self._workloads[batch]

    def problem(self, level: str, **kwargs) -> QuantProblem:
        """A problem at `level` sharing this flow's evaluator, hardware, workload and accuracy cache."""
        if level not in PROBLEMS:
            raise FlowQError(f"unknown level {level!r}; allowed: {', '.join(PROBLEMS)}")
        hw = kwargs.pop("hw", self.hw)
        options = dict(self.problem_kwargs, dataset=self.dataset, dataflow=self.dataflow,
                       accuracy_cache=self.accuracy_cache, seed=self.evaluator_seed)
        options.update(kwargs)
        options.setdefault("workload", self.workload(options.get("batch", 1)))
        objectives = options.get("objectives") or PROBLEMS[level].default_objectives
        if ACCURACY in objectives or ACCURACY in (options.get("constraints") or {}):
            options.setdefault("evaluator", self.evaluator)
        return PROBLEMS[level](self.model, hw, **options)

    def _run_folder(self, level: str, out) -> Path | None:
        if out is not None:
            return Path(out)
        if self.out is None:
            return None
        folder, k = self.out / level, 2
        while folder.exists() and any(r.out == folder for r in self.results):
            folder, k = self.out / f"{level}-{k}", k + 1
        return folder

    # ---- search ---------------------------------------------------------------------------------------------
    def search(self, problem="coarse", algorithm="nsga2", n_gen: int = 50, *, pop_size: int = 25,
               seed: int | None = None, seeds=None, out=None, ref_point=None, resume: bool = False,
               soga_threshold: float | None = None, deadline: float | None = None,
               force: bool = False) -> SearchResult:
        """Run one search (genetic, random or RL agent) and push its result on the level stack.

        Args:
            problem: a `QuantProblem` or a level name (built with `self.problem`).
            algorithm: a name of `flowq.algorithms.ALGORITHMS` ("nsga2", "soga", "random", "ppo", ...) or a configured
                pymoo Algorithm (with `seeds`, one FlowQ can start from: `flowq.algorithms.seed_algorithm`).
            n_gen: generations (the initial population counts as generation 1, as in pymoo).
            pop_size: |P| for a named algorithm.
            seed: seed of every random choice (default the flow's seed); same seed => same result.
            seeds: genomes (n, n_var) put first in the initial population (filled up randomly).
            out: run folder (default `<flow out>/<level>`; None and no flow out: nothing written).
            ref_point: hypervolume reference point in normalised objective space (default 1.1 each).
            resume: continue from `out/checkpoint.pkl`, up to `n_gen` generations in total (the checkpoint's
                problem and random state are used, so the run continues exactly); a changed level, model,
                hardware or genome is refused (`flowq.runs.prepare_folder`).
            soga_threshold: t of hw-flowq eq. 1 when `algorithm="soga"` builds the problem from a level name.
            deadline: time.perf_counter() value: stop early rather than start a generation that would overrun it.
            force: discard a run already in `out` (without it, or `resume`, such a folder is refused).

        Raises:
            SearchError: bad algorithm, population, generations or seed. RunError: `out` holds another run.
        """
        seed = self.seed if seed is None else _check_seed(seed, "seed")
        if isinstance(n_gen, bool) or not isinstance(n_gen, (int, np.integer)) or n_gen < 1:
            raise SearchError(f"n_gen={n_gen!r}: run at least one generation (an integer >= 1)")
        if isinstance(algorithm, str):
            make_algorithm(algorithm, pop_size)  # reject a bad name or population before any work
        if isinstance(problem, str):
            extra = {}
            if algorithm in SINGLE_OBJECTIVE:
                extra["soga_threshold"] = DEFAULT_SOGA_THRESHOLD if soga_threshold is None else soga_threshold
            problem = self.problem(problem, **extra)
        if algorithm in SINGLE_OBJECTIVE and problem.soga_threshold is None:
            raise SearchError(f"algorithm {algorithm!r} needs a problem with the hw-flowq eq. 1 fitness: build it "
                              f"with soga_threshold=t (e.g. 0.05)")
        folder = self._run_folder(problem.level, out)
        algorithm_name = algorithm if isinstance(algorithm, str) else type(algorithm).__name__
        meta = {"algorithm": algorithm_name, "seed": seed, "pop_size": pop_size, "n_gen": n_gen,
                "environment": self._environment_of(problem)}
        if resume and folder is not None and (folder / runs.CHECKPOINT).is_file():  # before any float training
            identity = self._identity_of(problem.evaluator, float_weights=False) if problem.needs_accuracy else None
            runs.check_resume_settings(folder, meta, identity)  # an option the checkpoint cannot honour: refused
        resuming = folder is not None and runs.prepare_folder(folder, problem.config(), resume=resume, force=force)
        if problem.needs_accuracy:
            meta["evaluator"] = self._identity_of(problem.evaluator)
        progress = EvaluationProgress(f"[{problem.level}]", enabled=self.verbose)
        if resuming:
            algo = pickle.loads(runs.read_checkpoint(folder))
            algo.termination = MaximumGenerationTermination(n_gen)
            problem, monitor = algo.problem, algo.callback
            monitor.out = folder  # the folder as given now: a moved run folder resumes in place
            monitor.hv_rule = self.hv_rule  # applied: the HV-leader is picked from the archive when results are written
            monitor.meta.update(meta, resumed_sessions=monitor.meta.get("resumed_sessions", 0) + 1)
            monitor.deadline, monitor.stopped_early, monitor._last_notify = deadline, False, None
            monitor.started = time.perf_counter()  # "seconds" then counts this session's wall time
            progress.generation = lambda: len(monitor.hypervolume) + 1
            problem.progress = progress
            monitor.trackers = list(self.trackers)
            res = self._minimize(problem, algo, copy_algorithm=False)
        else:
            if isinstance(algorithm, str):
                sampling = SeededSampling(seeds) if seeds is not None and len(seeds) else None
                algo = make_algorithm(algorithm, pop_size, sampling=sampling)
            else:
                algo = algorithm
                if seeds is not None and len(seeds):
                    seed_algorithm(algo, seeds)
            monitor = SearchMonitor(ref_point=ref_point, out=folder, verbose=self.verbose, meta=meta,
                                    deadline=deadline, hv_rule=self.hv_rule)
            monitor.trackers = list(self.trackers)
            progress.generation = lambda: len(monitor.hypervolume) + 1
            problem.progress = progress
            try:
                res = self._minimize(problem, algo, ("n_gen", n_gen), seed=seed, callback=monitor,
                                     copy_algorithm=False, verbose=False)
            finally:
                problem.progress = None
        problem.progress = None
        for tracker in self.trackers:
            tracker.close()  # flushed: a search's event files are complete when it returns
        if problem.needs_accuracy:
            monitor.meta["evaluator"] = self._identity_of(problem.evaluator)  # now with the float weights' hash
        data = monitor.results(complete=True)
        if folder is not None:
            runs.write_results(folder, data)
            from flowq.plots import plot_run
            from flowq.report import report_after_search

            plot_run(data, folder)
            report_after_search(folder, self.verbose, workload=problem.workload)
        result = SearchResult(problem.level, data, problem, folder, {"pymoo": res})
        self.results.append(result)
        return result

    def _minimize(self, problem, algo, *args, **kwargs):
        """pymoo `minimize` with accuracy evaluations on `self.executor`; SIGINT / SIGTERM stop the search after
        the candidates in flight (`flowq.executor.SearchInterrupted`; the last generation's checkpoint and the
        result cache keep everything done, so `resume=True` continues it)."""
        from flowq.executor import current_executor, graceful_stop
        from flowq.progress import quiet

        problem.executor = self.executor if self.executor is not None else current_executor()
        try:
            with graceful_stop(), quiet(not self.verbose):
                return minimize(problem, algo, *args, **kwargs)
        finally:
            problem.executor = None

    def refine(self, result: SearchResult, next_problem="mid", constraints: dict | None = None, *,
               algorithm="nsga2", n_gen: int = 50, pop_size: int = 25, seed: int | None = None, out=None,
               **search_kwargs) -> SearchResult:
        """Search the next level starting from `result`'s Pareto set (hw-flowq 3.1 refinement).

        The next level's initial population holds every genome of `result.front` (those whose bits the next
        problem can encode), filled up randomly; `result`'s constraints are carried across and `constraints`
        adds to (or tightens) them, e.g. {"frac_ops": 0.35} before Mid, {"dram_accesses_bits": 0.4} before Fine.

        Args:
            result: the previous level's result.
            next_problem: a level name, or a `QuantProblem` (rebuilt with the merged constraints if needed).
            constraints: extra constraints {metric: limit} (see `problems.base`).
        """
        carried = dict(result.data.get("constraints", {}))
        carried.update(constraints or {})
        if isinstance(next_problem, str):
            soga = {}
            if algorithm in SINGLE_OBJECTIVE:
                threshold = search_kwargs.pop("soga_threshold", None)
                soga["soga_threshold"] = DEFAULT_SOGA_THRESHOLD if threshold is None else threshold
            next_problem = self.problem(next_problem, constraints=carried, **soga)
        elif any(next_problem.constraints.get(k) != v for k, v in carried.items()):
            merged = dict(carried, **{k: v for k, v in next_problem.constraints.items() if k not in carried})
            next_problem = next_problem.with_constraints(merged)
        seeds = self._encode_front(result, next_problem)
        return self.search(next_problem, algorithm, n_gen, pop_size=pop_size, seed=seed, seeds=seeds, out=out,
                           **search_kwargs)

    def abstract(self) -> SearchResult | None:
        """Step back to the previous level (hw-flowq 3.1 abstraction), e.g. when no refined candidate meets the
        constraints: drops the current level from the stack and returns the previous level's result (None when
        there is none). Refine from it again with relaxed constraints or another hardware."""
        if self.results:
            self.results.pop()
        return self.results[-1] if self.results else None

    @property
    def current(self) -> SearchResult | None:
        """The result of the level the flow is at."""
        return self.results[-1] if self.results else None

    @staticmethod
    def _environment_of(problem) -> dict:
        """results.json "environment": torch build, the evaluator's threads and device, git commit, versions
        (`flowq.environment.environment`; threads and device are None for a hardware-only search)."""
        from flowq.environment import environment

        evaluator = problem.evaluator if problem.needs_accuracy else None
        return environment(getattr(evaluator, "threads", None), getattr(evaluator, "device", None))

    @staticmethod
    def _identity_of(evaluator, float_weights: bool = True) -> dict:
        identity = getattr(evaluator, "identity", None)
        if not callable(identity):
            return {"kind": type(evaluator).__name__}
        try:
            return identity() if float_weights else identity(float_weights=False)
        except TypeError:  # an evaluator whose identity() takes no float_weights
            return identity()

    @staticmethod
    def _encode_front(result: SearchResult, problem: QuantProblem) -> np.ndarray:
        rows = []
        for solution in result.front:
            try:
                rows.append(problem.genome.encode(solution["bits_w"], solution["bits_a"]))
            except GenomeError:
                continue  # bits the next level's hardware does not support (or a changed fixed layer)
        return np.asarray(rows, dtype=np.int64).reshape(-1, problem.n_var)


def run_levels(flow: Flow, levels=LEVEL_ORDER, *, constraints: dict | None = None, algorithm="nsga2",
               n_gen=(10, 10, 10), pop_size: int = 25, deadlines=None, force: bool = False) -> SearchResult:
    """Coarse -> Mid -> Fine refinement with abstraction: a level whose search finds no feasible candidate
    hands back to the previous level (`Flow.abstract`) and the flow stops there.

    Args:
        flow: the Flow to drive.
        levels: levels in order.
        constraints: {level: {metric: limit}} applied when entering that level.
        n_gen: generations per level (an int or one per level).
        deadlines: per level, a time.perf_counter() value after which that level starts no new generation.
        force: overwrite runs already in the level folders.
    """
    constraints = constraints or {}
    gens = [n_gen] * len(levels) if isinstance(n_gen, int) else list(n_gen)
    deadlines = list(deadlines) if deadlines is not None else [None] * len(levels)
    result = flow.search(flow.problem(levels[0], constraints=constraints.get(levels[0])), algorithm, gens[0],
                         pop_size=pop_size, deadline=deadlines[0], force=force)
    for level, gen, deadline in zip(levels[1:], gens[1:], deadlines[1:]):
        refined = flow.refine(result, level, constraints.get(level), algorithm=algorithm, n_gen=gen,
                              pop_size=pop_size, deadline=deadline, force=force)
        if not refined.feasible:
            previous = flow.abstract()
            if flow.verbose:
                print(f"no {level} candidate meets {refined.data['constraints']}; abstracted back to "
                      f"{previous.level if previous else 'nothing'}", flush=True)
            return refined
        result = refined
    return result

