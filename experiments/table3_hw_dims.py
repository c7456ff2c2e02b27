"""hw-flowq Table 3 / Fig. 8(a): ResNet-20 quantised for Spatial-168/256/1024 (batch 1) and Spatial-256 (batch 4).

For each configuration: the 16-bit baseline's normalised energy and latency per 4 frames (Fine level, RS), a
3-objective NSGA-II search (1 - psi, energy, latency; b_A = b_W in {16, 8, 6, 4, 2}, first/last layer 16 bit)
and the Pareto-choice at an accuracy threshold (psi within 2.5 points of the 16-bit genome's, as 90 % vs
92.47 % in the paper): lowest energy x latency among the front solutions that reach it. Writes table3.csv,
table3.json, fig8a.png (2-D projections of the 3-D fronts) into --out.

    python experiments/table3_hw_dims.py --quick
    python experiments/table3_hw_dims.py --full --data-dir ~/data/cifar-10-batches-py
"""

from __future__ import annotations

import common
from hwmodels import api
from hwmodels.spec import load_spec
from hwmodels.zoo import get_workload

MODEL = "resnet20"
FRAMES = 4  # Tables 3/4 report energy and latency per 4 frames
#: psi threshold below the 16-bit genome's psi for the Pareto-choice (paper: 90 % top-1 vs 92.47 % baseline).
PSI_MARGIN = 0.025

#: (label, preset, batch) of Table 3 in the paper's row order.
CONFIGS = (("Spatial-168; 1", "spatial-168", 1), ("Spatial-256; 1", "spatial-256", 1),
           ("Spatial-1024; 1", "spatial-1024", 1), ("Spatial-256; 4", "spatial-256", 4))

#: hw-flowq Table 3 verbatim: {label: (baseline E, baseline L, choice top-1, choice psi, choice E, choice L)};
#: E in 1e7 normalised units, L in 1e3 cycles, both per 4 frames; accuracies in %.
PAPER = {
    "Spatial-168; 1": (130.28, 1128, 90.31, 94.22, 64.80, 343),
    "Spatial-256; 1": (131.36, 764, 90.26, 96.31, 72.68, 282),
    "Spatial-1024; 1": (190.40, 204, 90.25, 95.08, 105.41, 68),
    "Spatial-256; 4": (119.94, 764, 90.03, 95.19, 66.09, 259),
}
PAPER_BASELINE_TOP1 = 92.47


def baseline(preset: str, batch: int, model: str = MODEL) -> dict:
    """16-bit energy and latency per `FRAMES` frames of `model` on `preset` at `batch` (Fine level)."""
    workload = get_workload(model, batch=batch)
    spec = load_spec(preset)
    bits = [spec.b_max] * len(workload)
    total = api.evaluate(workload, spec, bits, bits, level="fine").total
    scale = FRAMES / batch
    return {"energy": total["energy"] * scale, "latency_cycles": total["latency_cycles"] * scale}


def search_config(run, flow, preset: str, batch: int, tag: str, *, tie: bool = True, budget=None):
    """One 3-objective Fine NSGA-II search of `flow`'s model on `preset` at `batch` (run files under out/runs)."""
    budget = budget or run.budget
    problem = flow.problem("fine", hw=preset, batch=batch, tie=tie)
    return flow.search(problem, "nsga2", budget.n_gen, pop_size=budget.pop_size, seed=run.seed,
                       out=run.path(f"runs/{tag}"), force=True)


def run_table(run, configs, paper, *, tie: bool, name: str, title: str, figure: str, top1_paper: float) -> list:
    """Baselines, searches and Pareto-choices for every configuration; writes <name>.csv/.json and `figure`."""
    from flowq.flow import Flow

    evaluator = common.evaluator(run, MODEL)
    flow = Flow(MODEL, run.dataset, evaluator, seed=run.seed, verbose=False)
    n_layers = len(get_workload(MODEL))
    psi16 = evaluator.evaluate([16] * n_layers, [16] * n_layers).psi
    rows, fronts = [], {}
    for label, preset, batch in configs:
        base = baseline(preset, batch)
        p = paper[label]
        rows.append({"mode": run.mode, "config": f"Baseline (16-bit); {label}", "kind": "baseline", "preset": preset,
                     "batch": batch, "top1": None, "top1_paper": top1_paper, "psi": psi16, "psi_paper": None,
                     "energy_1e7": base["energy"] / 1e7, "energy_1e7_paper": p[0],
                     "latency_1e3": base["latency_cycles"] / 1e3, "latency_1e3_paper": p[1]})
    for label, preset, batch in configs:
        result = search_config(run, flow, preset, batch, f"{preset}-b{batch}", tie=tie)
        fronts[label] = result
        choice = common.pareto_choice(result.front, psi16 - PSI_MARGIN)
        m = choice["metrics"]
        scale = FRAMES / batch
        top1 = None
        if not run.quick:
            top1 = 100 * evaluator.train_from_scratch(choice["bits_w"], choice["bits_a"]).psi
        p = paper[label]
        rows.append({"mode": run.mode, "config": f"Pareto-Choice; {label}", "kind": "choice", "preset": preset,
                     "batch": batch, "top1": top1, "top1_paper": p[2], "psi": m["accuracy"], "psi_paper": p[3],
                     "energy_1e7": m["energy"] * scale / 1e7, "energy_1e7_paper": p[4],
                     "latency_1e3": m["latency_cycles"] * scale / 1e3, "latency_1e3_paper": p[5],
                     "bits_w": " ".join(map(str, choice["bits_w"])), "bits_a": " ".join(map(str, choice["bits_a"])),
                     "front_size": len(result.front), "evaluations": result.data["n_evaluations"][-1]})
    columns = [("configuration", "config", "s"), ("top-1 %", "top1", ".2f"), ("paper", "top1_paper", ".2f"),
               ("psi %", "psi_pct", ".2f"), ("paper", "psi_paper", ".2f"),
               ("E/4fr 1e7", "energy_1e7", ".2f"), ("paper", "energy_1e7_paper", ".2f"),
               ("L/4fr 1e3cyc", "latency_1e3", ".0f"), ("paper", "latency_1e3_paper", ".0f")]
    shown = [dict(r, psi_pct=None if r["kind"] == "baseline" else 100 * r["psi"]) for r in rows]
    common.print_table(f"{title} [{run.mode}: {run.dataset}, |P|={run.budget.pop_size}, n={run.budget.n_gen}]",
                       columns, shown)
    common.write_csv(run.path(f"{name}.csv"), rows)
    common.write_json(run.path(f"{name}.json"), {"mode": run.mode, "psi_16bit": psi16, "rows": rows,
                                                "fronts": {k: r.front for k, r in fronts.items()}})
    plot_fronts(fronts, run.path(figure), title)
    common.wrote(run, [run.path(f"{name}.csv"), run.path(f"{name}.json"), run.path(figure)])
    return rows


def plot_fronts(results: dict, path, title: str) -> None:
    """Three 2-D projections (psi-E, E-L, psi-L) of each configuration's final 3-D front (hw-flowq Fig. 8)."""
    plt = common.pyplot()
    fig, axes = plt.subplots(1, 3, figsize=(14, 4))
    pairs = (("energy", "accuracy"), ("energy", "latency_cycles"), ("latency_cycles", "accuracy"))
    for label, result in results.items():
        front = result.front
        for ax, (x, y) in zip(axes, pairs):
            xs = [s["metrics"][x] * (100 if x == "accuracy" else 1) for s in front]
            ys = [s["metrics"][y] * (100 if y == "accuracy" else 1) for s in front]
            ax.scatter(xs, ys, s=14, label=label)
            ax.set_xlabel("psi [%]" if x == "accuracy" else x)
            ax.set_ylabel("psi [%]" if y == "accuracy" else y)
    axes[0].legend(fontsize=7)
    fig.suptitle(title)
    common.save_figure(fig, path)


def main(argv=None) -> int:
    run, _ = common.parse_args("table3_hw_dims", __doc__.splitlines()[0], argv)
    run_table(run, CONFIGS, PAPER, tie=True, name="table3", title="hw-flowq Table 3 (ResNet-20, vectorised, RS)",
              figure="fig8a.png", top1_paper=PAPER_BASELINE_TOP1)
    return 0


if __name__ == "__main__":
    raise SystemExit(common.main_guard(main))
