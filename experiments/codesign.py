"""Co-design (issue 14's claim): searching the accelerator with the bitwidths vs the three fixed Table-1 presets.

ResNet-20, b_A = b_W in {16, 8, 6, 4, 2}, objectives (1 - psi, energy, latency), Fine level. Four searches with
the same NSGA-II budget: Spatial-168, Spatial-256 and Spatial-1024 fixed (`FineProblem`), and the joint co-design
search over `hwmodels/spaces/spatial.yaml` (`problems.codesign.CodesignProblem`: PE array, buffer, dataflow, DRAM
bandwidth; the three presets are points of it). Every front is put in ONE objective space (the space's reference
hardware's 16-bit metrics, `problems.codesign.common_objectives`) and its hypervolume computed with one reference
point. The claim: the co-design hypervolume is at least the best fixed preset's, and some co-design solution
dominates each preset's best point at equal or better accuracy. Both are computed per seed (notes.md), with the
chosen hardware; equal objective vectors on a front are merged (their hardware listed as alternatives). Writes
codesign.md/.csv, codesign.json, notes.md, codesign.png and env.json into --out.

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
    from problems.codesign import CodesignProblem, common_objectives, merge_equal_objectives
    from problems.fine import DEFAULT_MAPPER_OBJECTIVE as MAPPER_OBJECTIVE  # one mapping rule for every search

    run, _ = common.parse_args("codesign", __doc__.splitlines()[0], argv)
    evaluator = common.evaluator(run, MODEL)
    flow = Flow(MODEL, run.dataset, evaluator, seed=run.seed, verbose=False)
    budget = run.budget
    per_seed, fronts = [], {}
    for seed in run.seeds:
        codesign = CodesignProblem(MODEL, SPACE, evaluator=evaluator, dataset=run.dataset, tie=True,
                                   objectives=OBJECTIVES, accuracy_cache=flow.accuracy_cache, seed=run.seed,
                                   mapper_objective=MAPPER_OBJECTIVE)
        reference = codesign.baseline
        results = {}
        for preset in PRESETS:
            problem = FineProblem(MODEL, preset, evaluator=evaluator, dataset=run.dataset, tie=True,
                                  objectives=OBJECTIVES, accuracy_cache=flow.accuracy_cache, seed=run.seed,
                                  mapper_objective=MAPPER_OBJECTIVE)
            results[preset] = flow.search(problem, "nsga2", budget.n_gen, pop_size=budget.pop_size, seed=seed,
                                          out=run.path(f"runs/{preset}-s{seed}"), force=True)
        results["co-design"] = flow.search(codesign, "nsga2", budget.n_gen, pop_size=budget.pop_size, seed=seed,
                                           out=run.path(f"runs/codesign-s{seed}"), force=True)
        F = {name: common_objectives([s["metrics"] for s in r.front], OBJECTIVES, reference)
             for name, r in results.items()}
        # a preset's "best point": its front solution closest to the origin of the common objective space
        best_fixed = {p: F[p][int(np.argmin(np.linalg.norm(F[p], axis=1)))] for p in PRESETS}
        for name, result in results.items():
            front = [dict(s, F=f.tolist()) for s, f in zip(result.front, F[name])]
            merged = merge_equal_objectives(front)
            fronts.setdefault(name, []).extend(merged)
            leader = result.leader("hv")
            row = {"mode": run.mode, "search": name, "seed": seed,
                   "hypervolume": hypervolume(F[name], np.full(len(OBJECTIVES), REF_POINT)),
                   "front_size": len(result.front), "distinct_objectives": len(merged),
                   "evaluations": result.data["n_evaluations"][-1],
                   "leader_psi": 100 * leader["metrics"]["accuracy"], "leader_energy": leader["metrics"]["energy"],
                   "leader_latency": leader["metrics"]["latency_cycles"]}
            if name == "co-design":
                hw = leader.get("hw", {})
                row["leader_hw"] = " ".join(f"{k}={v}" for k, v in hw.items() if k in ("pe_rows", "pe_cols",
                                                                                       "buffer_size_bits", "dataflow"))
                row["extrapolated_on_front"] = sum(bool(s.get("hw", {}).get("extrapolated")) for s in result.front)
                for preset in PRESETS:
                    row[f"dominates_best_{preset}"] = any(
                        bool(np.all(f <= best_fixed[preset]) and np.any(f < best_fixed[preset])) for f in F[name])
            per_seed.append(row)
    rows = common.over_seeds(per_seed, "search", ("hypervolume", "front_size", "distinct_objectives", "evaluations",
                                                  "leader_psi", "leader_energy", "leader_latency"), ("mode",))
    columns = [("search", "search", "s"), ("HV (common space)", "hypervolume", ".4f"), ("front", "front_size", ".1f"),
               ("distinct objective vectors", "distinct_objectives", ".1f"), ("evaluations", "evaluations", ".1f"),
               ("HV-leader psi %", "leader_psi", ".2f"), ("leader energy", "leader_energy", ".3g"),
               ("leader latency [cyc]", "leader_latency", ".3g")]
    paths = common.write_table(run, "codesign", f"Co-design vs fixed presets: {MODEL}, Fine, |P|={budget.pop_size}, "
                               f"n={budget.n_gen} per search", columns, rows, csv_rows=per_seed)
    paths.append(common.write_notes(run, notes(per_seed, run.seeds)))
    paths.append(common.write_json(run.path("codesign.json"), {"mode": run.mode, "rows": rows, "per_seed": per_seed,
                                                               "fronts": fronts}))
    plot(fronts, run.path("codesign.png"), run.seeds)
    common.finish(run, paths + [run.path("codesign.png")])
    return 0


def notes(per_seed: list, seeds) -> list:
    """Per seed: does the co-design HV reach the best fixed preset's, and which preset best points it dominates."""
    lines = []
    for seed in seeds:
        by = {r["search"]: r for r in per_seed if r["seed"] == seed}
        co = by["co-design"]
        best = max(PRESETS, key=lambda p: by[p]["hypervolume"])
        dominated = [p for p in PRESETS if co[f"dominates_best_{p}"]]
        reaches = "reaches it" if co["hypervolume"] >= by[best]["hypervolume"] else "below it"
        dominated = ", ".join(dominated) if dominated else "no preset"
        lines.append(f"Seed {seed}: co-design HV {co['hypervolume']:.4f} vs best preset ({best}) "
                     f"{by[best]['hypervolume']:.4f}, {reaches}; dominates the best point of {dominated}; HV-leader "
                     f"hardware {co['leader_hw']}; front solutions with an extrapolated buffer price: "
                     f"{co['extrapolated_on_front']}.")
    return lines


def plot(fronts: dict, path, seeds) -> None:
    """Normalised energy vs 1 - psi and latency vs energy of every search's fronts (all seeds) in the common
    objective space; one marker per distinct objective vector with its count; co-design points coloured by PE array
    (the gene that varies most on its front), the fixed presets in grey shades."""
    plt = common.pyplot()
    fig, axes = plt.subplots(1, 2, figsize=(12, 4.6))
    shades = {"spatial-168": "0.75", "spatial-256": "0.5", "spatial-1024": "0.2"}
    markers = {"spatial-168": "s", "spatial-256": "D", "spatial-1024": "^"}
    for name, front in fronts.items():
        groups = {}
        for s in front:
            hw = s.get("hw") or {}
            key = f"co-design PE {hw.get('pe_rows')}x{hw.get('pe_cols')}" if name == "co-design" else name
            groups.setdefault(key, []).append(s["F"])
        for k, (key, values) in enumerate(sorted(groups.items())):
            values = np.asarray(values, dtype=float).reshape(-1, 3)
            style = ({"color": shades[name], "marker": markers[name]} if name in shades
                     else {"color": f"C{k}", "marker": "o"})
            common.scatter_counted(axes[0], values[:, 1], values[:, 0], label=key, **style)
            common.scatter_counted(axes[1], values[:, 1], values[:, 2], **style)
    axes[0].set_xlabel("energy / reference 16-bit energy (spatial-256)")
    axes[0].set_ylabel("1 - psi")
    axes[1].set_xlabel("energy / reference 16-bit energy (spatial-256)")
    axes[1].set_ylabel("latency / reference 16-bit latency")
    axes[0].legend(fontsize=7)
    fig.suptitle(f"Co-design vs fixed presets ({MODEL}, Fine): final fronts of seeds {', '.join(map(str, seeds))}; "
                 f"marker per distinct objective vector, xN = N solutions")
    common.save_figure(fig, path, rect=(0, 0, 1, 0.94))


if __name__ == "__main__":
    raise SystemExit(common.main_guard(main))
