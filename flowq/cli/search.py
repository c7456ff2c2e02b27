"""`flowq search` and `flowq refine`: building the Flow, honest --resume, cost estimate, summary."""

from __future__ import annotations

import sys
from pathlib import Path

from flowq.cli.args import _bitwidths, _constraints, _fixed_bits
from flowq.cli.common import _STARTED, _metric_text
from hwmodels.errors import GenomeError


def _problem_options(args) -> dict:
    """Per-problem options from the command line (objectives, constraints, SOGA threshold)."""
    options = {}
    if getattr(args, "objectives", None):
        options["objectives"] = tuple(name.strip() for name in args.objectives.split(",") if name.strip())
    if getattr(args, "constraint", None):
        options["constraints"] = _constraints(args.constraint)
    if getattr(args, "mapper_objective", None) is not None:
        options["mapper_objective"] = args.mapper_objective
    if getattr(args, "algo", None) == "soga":
        from flowq.flow import DEFAULT_SOGA_THRESHOLD

        options["soga_threshold"] = DEFAULT_SOGA_THRESHOLD if args.soga_threshold is None else args.soga_threshold
    from flowq.cli.reram import search_options

    options.update(search_options(args))  # --level reram: --adc-bits (ADC genes or fixed bits)
    return options


def _evaluator_options(args) -> dict:
    """Evaluator constructor options given on the command line (only those set)."""
    options = {}
    for name, key in (("quantizer", "quantizer"), ("data_dir", "data_root"), ("device", "device"),
                      ("shared_finetune", "finetune_steps")):
        if getattr(args, name, None) is not None:
            options[key] = getattr(args, name)
    if getattr(args, "threads", None) is not None:
        options["threads"] = args.threads
    if getattr(args, "weights", None) is not None:  # pretrained float weights of --model
        options["weights"] = args.weights
    return options


def build_flow(args, run=None):
    """The `Flow` of a command: from the arguments (search), or from the run folder `run` with the arguments that
    were given overriding its recorded settings (refine, train). Extend HERE for new problem/evaluator options."""
    from flowq.flow import Flow

    common = dict(verbose=not getattr(args, "quiet", False), evaluator_kwargs=_evaluator_options(args))
    if getattr(args, "hv_leader", None) is not None:
        common["hv_rule"] = args.hv_leader
    if run is not None:
        overrides = {}
        if getattr(args, "bitwidths", None):
            overrides["bitwidths"] = _bitwidths(args.bitwidths)
        if getattr(args, "evaluator_seed", None) is not None:
            overrides["evaluator_seed"] = args.evaluator_seed
        return Flow.from_run(run, evaluator=getattr(args, "evaluator", None), hw=getattr(args, "hw", None),
                             dataflow=getattr(args, "dataflow", None), epochs=getattr(args, "epochs", None),
                             seed=getattr(args, "seed", None), **common, **overrides)
    problem_kwargs = {"tie": args.tie, "fixed_bits": _fixed_bits(args.fixed_bits), "batch": args.batch}
    if args.bitwidths:
        problem_kwargs["bitwidths"] = _bitwidths(args.bitwidths)
    return Flow(args.model, args.dataset, args.evaluator, hw=args.hw, dataflow=args.dataflow, epochs=args.epochs,
                seed=args.seed, evaluator_seed=args.evaluator_seed or 0, **common, **problem_kwargs)


#: `flowq search --resume`: options taken from the run when not given (argparse dests); a given one that differs
#: from the run is refused by `flowq.runs` (or applied: --gen, --workers, --dask, --quiet)
RESUME_FROM_RUN = ("model", "dataset", "level", "hw", "dataflow", "tie", "fixed_bits", "batch", "bitwidths", "algo",
                   "pop", "gen", "seed", "objectives", "constraint", "soga_threshold", "hv_leader", "evaluator",
                   "epochs", "quantizer", "data_dir", "device", "evaluator_seed", "weights")


def _resume_arguments(args) -> dict:
    """--resume: fill the options not given with the run's (so only given ones are compared); returns the run's
    results.json. A given --model or --dataset other than the run's is refused here (the rest in flowq.runs)."""
    from flowq import runs
    from flowq.models import model_name

    folder = Path(args.out)
    if not (folder / runs.CHECKPOINT).is_file():
        there = "the run finished or never checkpointed" if runs.holds_run(folder) else "no run there"
        raise runs.RunError(f"--resume: {folder} has no {runs.CHECKPOINT} to resume from ({there}); drop --resume "
                            f"to start a new run" + (" with --force" if runs.holds_run(folder) else ""))
    data = runs.read_results(folder)
    config, given = data["config"], args.given
    for dest, option, value in (("model", "--model", model_name(args.model)), ("dataset", "--dataset", args.dataset)):
        if dest in given and value != config.get(dest):
            raise runs.RunError(f"--resume of {folder} cannot change {option} {value!r} (the run's: "
                                f"{config.get(dest)!r}); resume without it, or start a new run with --force or "
                                f"another --out")
    recorded = {"level": data["level"], "algo": data.get("algorithm"), "pop": data.get("pop_size"),
                "gen": data.get("n_gen"), "seed": data.get("seed"), "objectives": ",".join(data["objectives"]),
                "constraint": [f"{k}={v}" for k, v in data["constraints"].items()] or None,
                "soga_threshold": config.get("soga_threshold")}
    for dest in RESUME_FROM_RUN:
        if dest not in given:
            setattr(args, dest, recorded.get(dest))
    return data


def _check_cache() -> None:
    """Open the result cache before any work: a corrupt or unwritable one ends the command with its path."""
    from flowq.cache import ResultCache

    ResultCache.default()


def _announce_cost(args, flow, options: dict) -> None:
    """Say up front (before the hardware baseline and float training) when a search may take more than an hour:
    candidates x measured or expected seconds per candidate."""
    from flowq.cache import ResultCache
    from flowq.estimate import WARN_SECONDS, format_duration, search_estimate, seconds_per_candidate
    from problems import PROBLEMS

    objectives = options.get("objectives") or PROBLEMS[args.level].default_objectives
    if "accuracy" not in objectives and "accuracy" not in (options.get("constraints") or {}):
        return
    kind = flow._evaluator if isinstance(flow._evaluator, str) else getattr(flow._evaluator, "kind", "finetune")
    per, how = seconds_per_candidate(ResultCache.default(), flow.model, kind, args.epochs)
    candidates, total = search_estimate(args.pop, args.gen, per)
    if total > WARN_SECONDS:
        print(f"estimated cost: up to {candidates} candidates ({args.pop} x {args.gen} generations) x {per:.1f} s "
              f"({how}) = {format_duration(total)}, plus float training on first use. Ctrl-C stops after the "
              f"candidates in flight; --resume continues", file=sys.stderr, flush=True)


def _trackers(args) -> list:
    """The experiment trackers `--log BACKEND DIR` asks for (flowq.tracking; the backend imported only then)."""
    if not getattr(args, "log", None):
        return []
    from flowq.tracking import make_tracker

    return [make_tracker(*args.log)]


def cmd_search(args) -> int:
    from flowq import runs

    if args.resume:
        _resume_arguments(args)  # before the folder check, which would create a missing folder
    _check_cache()
    runs.check_output_folder(args.out)
    flow = build_flow(args, run=args.out if args.resume else None)
    flow.trackers = _trackers(args)
    if args.hw_space:  # co-design: the accelerator is searched too (flowq.cli.codesign)
        from flowq.cli.codesign import codesign_search

        _report(codesign_search(flow, args, _problem_options(args)))
        return 0
    options = _problem_options(args)
    if args.resume:  # the run's genome settings unless given (a differing one is refused by flowq.runs)
        options.update(_resumed_problem_options(args))
    _announce_cost(args, flow, options)
    problem = flow.problem(args.level, **options)
    _check_population(args.pop, problem)
    result = flow.search(problem, args.algo, args.gen, pop_size=args.pop, out=args.out, resume=args.resume,
                         force=args.force)
    return _report(result, flow)


def _resumed_problem_options(args) -> dict:
    """The genome settings given with --resume (the run's otherwise, through `Flow.from_run`)."""
    options = {}
    if "tie" in args.given:
        options["tie"] = args.tie
    if "fixed_bits" in args.given:
        options["fixed_bits"] = _fixed_bits(args.fixed_bits)
    if "batch" in args.given:
        options["batch"] = args.batch
    return options


#: Largest population x genome loci a search accepts (the GA holds a few arrays of this many integers)
MAX_POPULATION_LOCI = 10 ** 7


def _check_population(pop: int, problem) -> None:
    if pop * problem.n_var > MAX_POPULATION_LOCI:
        raise GenomeError(f"--pop {pop}: {pop} x {problem.n_var} genome loci exceeds {MAX_POPULATION_LOCI:.0e}; "
                          f"hw-flowq uses 25 or 50 (every candidate is a network to evaluate)")


def cmd_refine(args) -> int:
    from flowq import runs
    from flowq.flow import SearchResult

    previous = SearchResult.load(args.run)
    runs.check_output_folder(args.out if args.out is not None else previous.out / args.level)
    _check_cache()
    flow = build_flow(args, run=previous.out)
    flow.trackers = _trackers(args)
    flow.preload_accuracy(previous.out)  # only when the same evaluator measured the same float network
    options = _problem_options(args)
    out = Path(args.out) if args.out else previous.out / args.level
    problem = flow.problem(args.level, constraints=dict(previous.data.get("constraints", {}),
                                                        **options.pop("constraints", {})), **options)
    result = flow.refine(previous, problem, algorithm=args.algo or previous.data.get("algorithm", "nsga2"),
                         n_gen=args.gen if args.gen is not None else previous.data.get("n_gen", 50),
                         pop_size=args.pop if args.pop is not None else previous.data.get("pop_size", 25), out=out,
                         force=args.force)
    return _report(result, flow)


def _report(result, flow=None) -> int:
    """Print a search's summary (every phase with its wall time); returns the exit status: 1 when every candidate
    failed (with the first failure's reason), else 0."""
    import time

    data = result.data
    resumed = data.get("resumed_sessions", 0)
    print(f"{result.level}: {len(data['front'])} Pareto solutions, final hypervolume {data['hypervolume'][-1]:.5f}, "
          f"{data['n_accuracy_evaluations']} accuracy evaluations ({data['accuracy_seconds']:.1f} s of evaluation"
          f"{' over all sessions of the run' if resumed else ''})")
    evaluator = getattr(flow, "_evaluator", None) if flow is not None else None
    float_phase = getattr(evaluator, "float_phase", lambda: None)() if evaluator is not None else None
    phases = [] if float_phase is None else [float_phase]
    phases.append(f"search {data['seconds']:.1f} s" + (" (this session)" if resumed else ""))
    print(f"wall time {time.perf_counter() - _STARTED[0]:.1f} s: " + ", ".join(phases) + "; the rest is set-up, "
          f"plots and files")
    leader = result.leader("hv")
    if leader is not None:
        print("HV-leader: " + ", ".join(_metric_text(k, v) for k, v in leader["metrics"].items()
                                        if k in data["objectives"]))
    elif data.get("constraints"):
        print(f"no candidate meets the constraints {data['constraints']}: relax them, or step back a level")
    if result.out is not None:
        print(f"results: {result.out / 'results.json'}")
    failed = data.get("failed") or []
    if failed and not data["front"] and len(failed) >= data.get("n_distinct_genomes", len(failed)):
        reason = failed[0].get("metrics", {}).get("accuracy_reason") or "no reason recorded"
        print(f"every candidate's accuracy evaluation failed ({len(failed)}); the first: {reason}", file=sys.stderr)
        return 1
    return 0
