"""`flowq search --hw-space SPACE` (co-design) and `flowq hw --genome RUN --spec-yaml` helpers of the command line.

    flowq search --hw-space spatial --level mid --objectives accuracy,latency_cycles,area --constraint area=1.5 \
                 [--strategy joint|nested] [--inner-evals 16] --out runs/cd ...
    flowq hw resnet20 --genome runs/cd/results.json --spec-yaml > mine.yaml   # the HV-leader's accelerator

A joint search runs through `Flow.search` like any other (run folder, checkpoint, resume); each front solution
of its results.json carries `hw` (the hardware parameters, the derived energies, the area and the genes) beside
bits_w / bits_a, and `area` among its metrics. Solutions with equal objective vectors are merged into one entry
that lists the others' hardware under `hw_alternatives`. A nested search (AnaCoNGA-style, `problems.codesign`) writes the
same results.json at the end (no per-generation files or resume).
"""

from __future__ import annotations

import json
import time
from pathlib import Path

from hwmodels.errors import FlowQError, GenomeError

STRATEGIES = ("joint", "nested")


def add_search_arguments(parser) -> None:
    """The co-design options of `flowq search`."""
    parser.add_argument("--hw-space", default=None, help="co-design: search the accelerator too, over this design "
                        "space (packaged name, e.g. spatial, or a space YAML); --hw is then unused")
    parser.add_argument("--strategy", choices=STRATEGIES, default="joint",
                        help="co-design: one NSGA-II over hardware + bits (joint) or hardware searched per bits "
                        "candidate (nested, AnaCoNGA-style)")
    parser.add_argument("--inner-evals", type=int, default=16,
                        help="nested co-design: hardware points evaluated per bitwidth candidate")


def codesign_problem(flow, args, options: dict):
    """The `CodesignProblem` of a `flowq search --hw-space` command, sharing the flow's evaluator and cache."""
    from problems.base import ACCURACY
    from problems.codesign import CodesignProblem

    if args.dataflow is not None:
        raise GenomeError("--dataflow does not apply with --hw-space: the space decides the dataflow (make it a "
                          "gene, or fix it in the space's base spec)")
    kwargs = dict(flow.problem_kwargs, dataset=flow.dataset, accuracy_cache=flow.accuracy_cache,
                  seed=flow.evaluator_seed, **options)
    objectives = kwargs.get("objectives") or CodesignProblem.DEFAULTS.get(args.level, ())
    if ACCURACY in objectives or ACCURACY in (kwargs.get("constraints") or {}):
        kwargs["evaluator"] = flow.evaluator
    return CodesignProblem(flow.model, args.hw_space, level=args.level, **kwargs)


def codesign_search(flow, args, options: dict):
    """Run a co-design search (joint or nested) and write its run folder; returns a `SearchResult`."""
    problem = codesign_problem(flow, args, options)
    if args.strategy == "joint":
        result = flow.search(problem, args.algo, args.gen, pop_size=args.pop, out=args.out, resume=args.resume,
                             force=getattr(args, "force", False))
    else:
        if args.algo != "nsga2":
            raise GenomeError(f"--strategy nested runs NSGA-II outside and inside; --algo {args.algo} is not used")
        if args.inner_evals < 1:
            raise GenomeError(f"--inner-evals {args.inner_evals}: evaluate at least one hardware point per candidate")
        result = _nested(flow, problem, args)
    _merge_front(result)
    if result.out is not None and result.front:
        from flowq.plots_codesign import plot_codesign_run

        plot_codesign_run(result.data, result.out)
    return result


def _merge_front(result) -> None:
    """Front entries with equal objective vectors (the same bits on hardware the objectives cannot tell apart)
    become one entry listing the others' hardware under `hw_alternatives`; the leaders are recomputed and
    results.json rewritten when anything merged."""
    import numpy as np

    from flowq import runs
    from flowq.pareto import leaders
    from problems.base import ACCURACY
    from problems.codesign import merge_equal_objectives

    front = result.data.get("front") or []
    merged = merge_equal_objectives(front)
    if len(merged) == len(front):
        return
    result.data["front"] = merged
    result.data.update(leaders(np.asarray([s["F"] for s in merged], dtype=float), list(result.data["objectives"]),
                               ACCURACY, result.data.get("hv_leader_rule", "paper")))
    if result.out is not None:
        runs.write_results(result.out, result.data)


def _nested(flow, problem, args):
    from flowq import runs
    from flowq.flow import SearchResult
    from flowq.pareto import leaders
    from problems.base import ACCURACY
    from problems.codesign import nested_search

    started = time.perf_counter()
    out = nested_search(problem, args.gen, args.pop, inner_evals=args.inner_evals, seed=args.seed,
                        verbose=flow.verbose)
    front = []
    for key, F in zip(out["keys"], out["F"]):
        record = problem.records[key]
        front.append({"bits_w": record["bits_w"], "bits_a": record["bits_a"], "metrics": dict(record["metrics"]),
                      "F": F.tolist(), "constraint_violation": 0.0, **problem.solution_extra(key)})
    data = {"run_id": runs.new_run_id(), "complete": True, "level": problem.level,
            "objectives": list(problem.objectives), "constraints": dict(problem.constraints),
            "ref_point": [1.1] * len(problem.objectives), "baseline": dict(problem.baseline),
            "baseline_bits": problem.baseline_bits, "feasible": bool(front), "front": front,
            **leaders(out["F"], list(problem.objectives), ACCURACY), "hypervolume": out["hypervolume"],
            "n_accuracy_evaluations": problem.n_accuracy_evaluations, "n_hw_evaluations": problem.n_hw_evaluations,
            "accuracy_seconds": problem.accuracy_seconds, "seconds": time.perf_counter() - started,
            "config": problem.config(), "algorithm": "nsga2-nested", "seed": args.seed, "pop_size": args.pop,
            "n_gen": args.gen, "inner_evals": args.inner_evals}
    folder = Path(args.out) if args.out else None
    if folder is not None:
        runs.write_results(folder, data)
        from flowq.plots import plot_run

        plot_run(data, folder)
        from flowq.report import report_after_search

        report_after_search(folder, flow.verbose, workload=problem.workload)
    return SearchResult(problem.level, data, problem, folder)


def solution_spec(genome_path, hw_space=None):
    """The accelerator of a co-design solution: a results.json (its HV-leader) or one front entry (JSON).

    Returns None when the file holds no co-design solution (no `hw` genes), so callers fall back on --hw.

    Raises:
        FlowQError: a front entry without a space to decode it (give --hw-space), or an unknown space.
    """
    from hwmodels.space import load_space
    from problems.codesign import IGNORED_FIELDS, searched_space

    path = Path(genome_path)
    try:
        data = json.loads((path / "results.json" if path.is_dir() else path).read_text())
    except (OSError, ValueError):  # incl. JSONDecodeError, UnicodeDecodeError
        return None  # the bits reader reports unreadable files with its own message
    space_source, level = hw_space, None
    if isinstance(data, dict) and "front" in data:
        level = data.get("level")
        config = data.get("config")
        space_source = space_source or (config.get("hw_space") if isinstance(config, dict) else None)
        index, front = data.get("hv_leader"), data["front"]
        valid = isinstance(front, list) and isinstance(index, int) and not isinstance(index, bool) \
            and 0 <= index < len(front)
        data = front[index] if valid else {}  # a bad leader or front: the bits reader says what is wrong
    hw = data.get("hw") if isinstance(data, dict) else None
    genes = hw.get("genes") if isinstance(hw, dict) else None
    if genes is None:
        return None
    if space_source is None:
        raise FlowQError(f"--genome {genome_path}: a co-design solution; give --hw-space (the space it was "
                         f"searched in) to rebuild its accelerator")
    space = load_space(space_source)
    # the search dropped the genes its level ignores (problems.codesign.searched_space): decode in that space
    levels = [level] if isinstance(level, str) and level in IGNORED_FIELDS else list(IGNORED_FIELDS)
    for candidate in [searched_space(space, lv) for lv in levels]:
        if isinstance(genes, list) and len(genes) == candidate.n_genes:
            return candidate.decode(genes)
    return space.decode(genes)
