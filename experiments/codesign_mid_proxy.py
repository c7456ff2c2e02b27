"""Co-design vs the three fixed Table-1 presets at the Mid level with a real accuracy evaluator (issue 14).

The experiment version of `tests/problems/test_codesign.py::test_codesign_beats_each_fixed_preset_on_resnet20`:
the same searches (ResNet-20, b_A = b_W in {2, 4, 8}, objectives 1 - psi / latency_cycles / area at Mid, seeds
uniform 2/4/8-bit, co-design over pe_array x buffer of `hwmodels/spaces/spatial.yaml` with an accuracy budget equal
to the thriftiest preset search's), but psi from the loss-proxy evaluator on digits (--quick) or the fine-tuning
evaluator on CIFAR-10 (--full). Each search keeps its own accuracy cache, so its `n_accuracy_evaluations` counts
every genome it asked for (the evaluator's persistent result cache makes a genome another search already
evaluated cheap to ask again).
Common normalisation and reference point as in the test (16-bit ResNet-20 on spatial-256; 1.1 x the worst preset
16-bit value per objective). One seed (--seed). Writes codesign_mid_proxy.md/.csv/.json, notes.md and env.json into
--out.

    python experiments/codesign_mid_proxy.py --quick [--pop 16 --gens 8]
"""

from __future__ import annotations

import dataclasses

import numpy as np

import common

MODEL = "resnet20"
PRESETS = ("spatial-168", "spatial-256", "spatial-1024")
OBJECTIVES = ("accuracy", "latency_cycles", "area")


def main(argv=None) -> int:
    from pymoo.optimize import minimize
    from pymoo.termination.collection import TerminationCollection
    from pymoo.termination.max_gen import MaximumGenerationTermination

    from flowq.flow import make_algorithm
    from flowq.operators import SeededSampling
    from flowq.pareto import hv_leader, hypervolume, non_dominated
    from hwmodels.space import load_space
    from problems import MidProblem
    from problems.codesign import AccuracyBudget, CodesignProblem, common_objectives, front_of, nested_search

    run, _ = common.parse_args("codesign_mid_proxy", __doc__.splitlines()[0], argv)
    evaluator = common.evaluator(run, MODEL)
    kwargs = dict(tie=True, bitwidths=(2, 4, 8), objectives=OBJECTIVES, evaluator=evaluator, dataset=run.dataset)
    pop, gen, seed = run.budget.pop_size, run.budget.n_gen, run.seed
    space = load_space("spatial")
    space = dataclasses.replace(space, genes=space.genes[:2], name="spatial-mid")  # Mid ignores the dataflow
    probe = CodesignProblem(MODEL, space, level="mid", **kwargs)
    reference = probe.baseline
    seeds = np.stack([probe.genome.bits.uniform(b) for b in (2, 4, 8)])
    fronts, rows = {}, []
    for preset in PRESETS:
        problem = MidProblem(MODEL, preset, **kwargs)
        minimize(problem, make_algorithm("nsga2", pop, sampling=SeededSampling(seeds)), ("n_gen", gen), seed=seed)
        F = common_objectives([r["metrics"] for r in problem.records.values()], OBJECTIVES, reference)
        fronts[preset] = (problem, F[non_dominated(F)])
    budget = min(p.n_accuracy_evaluations for p, _ in fronts.values())
    nested = CodesignProblem(MODEL, space, level="mid", **kwargs)
    nested_search(nested, gen, pop, inner_evals=space.size, seed=seed, seeds=seeds, accuracy_budget=budget)
    joint = CodesignProblem(MODEL, space, level="mid", **kwargs)
    start = np.hstack([np.tile(space.encode(space.base), (len(seeds), 1)), seeds])
    minimize(joint, make_algorithm("nsga2", pop, sampling=SeededSampling(start)),
             TerminationCollection(MaximumGenerationTermination(gen), AccuracyBudget(joint, budget, pop)), seed=seed)
    for name, problem in (("co-design nested", nested), ("co-design joint", joint)):
        keys, _ = front_of(problem)
        fronts[name] = (problem, common_objectives([problem.records[k]["metrics"] for k in keys], OBJECTIVES,
                                                   reference))
    worst = {k: max(p.baseline[k] / reference[k] for p, _ in (fronts[q] for q in PRESETS)) for k in OBJECTIVES[1:]}
    ref_point = np.array([1.1, 1.1 * worst["latency_cycles"], 1.1 * worst["area"]])
    leaders = {p: fronts[p][1][hv_leader(fronts[p][1])] for p in PRESETS}
    for name, (problem, F) in fronts.items():
        row = {"search": name, "hypervolume": hypervolume(F, ref_point), "front": len(F),
               "accuracy_evaluations": problem.n_accuracy_evaluations}
        if name.startswith("co-design"):
            for p in PRESETS:
                row[f"dominates {p} leader"] = bool(any(np.all(f <= leaders[p]) and np.any(f < leaders[p])
                                                        for f in F))
        rows.append(row)
    columns = [("search", "search", "s"), ("HV", "hypervolume", ".4f"), ("front", "front", "d"),
               ("accuracy evals", "accuracy_evaluations", "d")]
    paths = common.write_table(run, "codesign_mid_proxy", f"Co-design vs fixed presets, {MODEL}, Mid, |P|={pop}, "
                               f"n<={gen}, accuracy budget {budget}, seed {seed}", columns, rows)
    best = max(PRESETS, key=lambda p: next(r["hypervolume"] for r in rows if r["search"] == p))
    best_hv = next(r["hypervolume"] for r in rows if r["search"] == best)
    notes = [f"{row['search']}: HV {row['hypervolume']:.4f} vs best preset ({best}) {best_hv:.4f}; dominates the "
             f"HV-leader of " + (", ".join(p for p in PRESETS if row[f"dominates {p} leader"]) or "no preset") + "."
             for row in rows[len(PRESETS):]]
    paths.append(common.write_notes(run, notes))
    paths.append(common.write_json(run.path("codesign_mid_proxy.json"), {"mode": run.mode, "rows": rows,
                                                                         "ref_point": ref_point.tolist(),
                                                                         "budget": budget}))
    common.finish(run, paths)
    return 0


if __name__ == "__main__":
    raise SystemExit(common.main_guard(main))
