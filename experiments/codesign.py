"""Co-design (issue 14's claim): searching the accelerator with the bitwidths vs the three fixed Table-1 presets.

ResNet-20, b_A = b_W in {16, 8, 6, 4, 2}, objectives (1 - psi, energy, latency), Fine level. Four searches with
the same NSGA-II budget: Spatial-168, Spatial-256 and Spatial-1024 fixed (`FineProblem`), and the joint co-design
search over `hwmodels/spaces/spatial.yaml` (`problems.codesign.CodesignProblem`: PE array, buffer, dataflow, DRAM
bandwidth; the three presets are points of it). Every front is put in ONE objective space (the space's reference
hardware's 16-bit metrics, `problems.codesign.common_objectives`) and its hypervolume computed with one reference
point. The claim: the co-design hypervolume is at least the best fixed preset's, and some co-design solution
dominates each preset's best point at equal or better accuracy. Both are printed, with the chosen hardware.
Writes codesign.csv, codesign.json, codesign.png into --out.

    python experiments/codesign.py --quick
    python experiments/codesign.py --full --data-dir ~/data/cifar-10-batches-py
"""

from __future__ import annotations

import numpy as np

import common

MODEL, SPACE = "resnet20", "spatial"
PRESETS = ("spatial-168", "spatial-256", "spatial-1024")
OBJECTIVES = ("accuracy", "energy", "latency_cycles")
REF_POINT = 1.1  # per normalised objective (worse than the 16-bit reference hardware by 10 %)


def main(argv=None) -> int:
    from flowq.callbacks import hypervolume
    from flowq.flow import Flow
    from problems import FineProblem
    from problems.codesign import CodesignProblem, common_objectives

    run, _ = common.parse_args("codesign", __doc__.splitlines()[0], argv)
    evaluator = common.evaluator(run, MODEL)
    flow = Flow(MODEL, run.dataset, evaluator, seed=run.seed, verbose=False)
    budget = run.budget
    codesign = CodesignProblem(MODEL, SPACE, evaluator=evaluator, dataset=run.dataset, tie=True,
                               objectives=OBJECTIVES, accuracy_cache=flow.accuracy_cache, seed=run.seed)
    reference = codesign.baseline
    fronts, rows = {}, []
    for preset in PRESETS:
        problem = FineProblem(MODEL, preset, evaluator=evaluator, dataset=run.dataset, tie=True,
                              objectives=OBJECTIVES, accuracy_cache=flow.accuracy_cache, seed=run.seed)
        result = flow.search(problem, "nsga2", budget.n_gen, pop_size=budget.pop_size, seed=run.seed,
                             out=run.path(f"runs/{preset}"), force=True)
        fronts[preset] = (result, None)
    result = flow.search(codesign, "nsga2", budget.n_gen, pop_size=budget.pop_size, seed=run.seed,
                         out=run.path("runs/codesign"), force=True)
    fronts["co-design"] = (result, "hw")
    F = {}
    for name, (result, _) in fronts.items():
        F[name] = common_objectives([s["metrics"] for s in result.front], OBJECTIVES, reference)
    best_fixed = {}
    for preset in PRESETS:
        # a preset's "best point": its front solution closest to the origin of the common objective space
        k = int(np.argmin(np.linalg.norm(F[preset], axis=1)))
        best_fixed[preset] = F[preset][k]
    for name, (result, hw_key) in fronts.items():
        hv = hypervolume(F[name], np.full(len(OBJECTIVES), REF_POINT))
        leader = result.leader("hv")
        row = {"mode": run.mode, "search": name, "hypervolume": hv, "front_size": len(result.front),
               "accuracy_evaluations": result.data.get("n_accuracy_evaluations"),
               "evaluations": result.data["n_evaluations"][-1],
               "leader_psi": 100 * leader["metrics"]["accuracy"], "leader_energy": leader["metrics"]["energy"],
               "leader_latency": leader["metrics"]["latency_cycles"]}
        if hw_key:
            row["leader_hw"] = str(leader.get(hw_key, ""))
            for preset in PRESETS:
                dominated = [bool(np.all(f <= best_fixed[preset]) and np.any(f < best_fixed[preset]))
                             for f in F[name]]
                row[f"dominates_best_{preset}"] = any(dominated)
        rows.append(row)
    columns = [("search", "search", "s"), ("HV (common space)", "hypervolume", ".4f"), ("front", "front_size", "d"),
               ("evals", "evaluations", "d"), ("leader psi %", "leader_psi", ".2f"),
               ("leader E", "leader_energy", ".4g"), ("leader L", "leader_latency", ".4g")]
    common.print_table(f"Co-design vs fixed presets: {MODEL}, Fine [{run.mode}: {run.dataset}, |P|="
                       f"{budget.pop_size}, n={budget.n_gen} each] (claim: co-design HV >= best fixed HV)",
                       columns, rows)
    co = rows[-1]
    best = max(rows[:-1], key=lambda r: r["hypervolume"])
    print(f"co-design HV {co['hypervolume']:.4f} vs best fixed ({best['search']}) {best['hypervolume']:.4f}; "
          + ", ".join(f"dominates best {p} point: {co[f'dominates_best_{p}']}" for p in PRESETS)
          + f"; HV-leader hardware: {co.get('leader_hw', '')}")
    common.write_csv(run.path("codesign.csv"), rows)
    common.write_json(run.path("codesign.json"), {"mode": run.mode, "rows": rows, "reference": reference,
                                                  "F": {k: v for k, v in F.items()},
                                                  "codesign_front": fronts["co-design"][0].front})
    plot(F, run.path("codesign.png"))
    common.wrote(run, [run.path("codesign.csv"), run.path("codesign.json"), run.path("codesign.png")])
    return 0


def plot(F: dict, path) -> None:
    """Normalised energy vs 1 - psi and latency vs energy of every front in the common objective space."""
    plt = common.pyplot()
    fig, axes = plt.subplots(1, 2, figsize=(10, 4))
    for name, values in F.items():
        axes[0].scatter(values[:, 1], values[:, 0], s=14, label=name)
        axes[1].scatter(values[:, 1], values[:, 2], s=14, label=name)
    axes[0].set_xlabel("energy / reference 16-bit")
    axes[0].set_ylabel("1 - psi")
    axes[1].set_xlabel("energy / reference 16-bit")
    axes[1].set_ylabel("latency / reference 16-bit")
    axes[0].legend(fontsize=7)
    common.save_figure(fig, path)


if __name__ == "__main__":
    raise SystemExit(common.main_guard(main))
