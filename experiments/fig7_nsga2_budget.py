"""hw-flowq Fig. 7: NSGA-II fronts by generation and hypervolume convergence for three budgets (|P|, n).

ResNet-56 (--full; ResNet-20 in --quick) on Spatial-256 (RS), b_A = b_W in {16, 8, 6, 4, 2}, 3 objectives
(1 - psi, energy, latency). Budgets (25, 25), (25, 50), (50, 50) (--full) or (4, 2), (4, 3), (6, 3) (--quick).
The paper gives no numbers: it reads that more generations make the front more convex and a bigger population
extends it (larger hypervolume), so the table reports final hypervolume, front size and the HV-leader per budget.
Writes fig7.csv (HV per generation), fig7.json, fig7.png into --out.

    python experiments/fig7_nsga2_budget.py --quick
    python experiments/fig7_nsga2_budget.py --full --data-dir ~/data/cifar-10-batches-py
"""

from __future__ import annotations

import numpy as np

import common

PRESET = "spatial-256"
FULL = ("resnet56", ((25, 25), (25, 50), (50, 50)))
QUICK = ("resnet20", ((4, 2), (4, 3), (6, 3)))
REF_POINT = (1.1, 1.1, 1.1)  # fixed, so the three budgets' hypervolumes compare


def main(argv=None) -> int:
    from flowq.flow import Flow

    run, _ = common.parse_args("fig7_nsga2_budget", __doc__.splitlines()[0], argv)
    model, budgets = QUICK if run.quick else FULL
    flow = Flow(model, run.dataset, common.evaluator(run, model), hw=PRESET, dataflow="RS", seed=run.seed,
                verbose=False, tie=True)
    results, rows, summary = {}, [], []
    for pop_size, n_gen in budgets:
        result = flow.search("fine", "nsga2", n_gen, pop_size=pop_size, seed=run.seed, ref_point=REF_POINT,
                             out=run.path(f"runs/P{pop_size}-n{n_gen}"), force=True)
        results[(pop_size, n_gen)] = result
        for gen, (hv, n_eval) in enumerate(zip(result.hypervolume, result.data["n_evaluations"]), start=1):
            rows.append({"mode": run.mode, "model": model, "pop_size": pop_size, "n_gen": n_gen, "gen": gen,
                         "hypervolume": hv, "n_evaluations": n_eval})
        leader = result.leader("hv")["metrics"]
        summary.append({"budget": f"({pop_size}, {n_gen})", "hypervolume": result.hypervolume[-1],
                        "front_size": len(result.front), "evaluations": result.data["n_evaluations"][-1],
                        "leader_psi": 100 * leader["accuracy"], "leader_energy_1e7": leader["energy"] / 1e7,
                        "leader_latency_1e3": leader["latency_cycles"] / 1e3})
    columns = [("(|P|, n)", "budget", "s"), ("final HV", "hypervolume", ".4f"), ("front", "front_size", "d"),
               ("evals", "evaluations", "d"), ("leader psi %", "leader_psi", ".2f"),
               ("leader E 1e7", "leader_energy_1e7", ".2f"), ("leader L 1e3", "leader_latency_1e3", ".1f")]
    common.print_table(f"hw-flowq Fig. 7: NSGA-II budgets, {model} on Spatial-256 RS [{run.mode}: {run.dataset}] "
                       f"(paper: figure only; more generations -> more convex front, bigger |P| -> larger HV)",
                       columns, summary)
    common.write_csv(run.path("fig7.csv"), rows)
    common.write_json(run.path("fig7.json"), {"mode": run.mode, "model": model, "summary": summary,
                                              "front_history": {f"{p}-{n}": r.data["front_history"]
                                                                for (p, n), r in results.items()}})
    plot(results, run.path("fig7.png"), model)
    common.wrote(run, [run.path("fig7.csv"), run.path("fig7.json"), run.path("fig7.png")])
    return 0


def plot(results: dict, path, model: str) -> None:
    """Top row: normalised energy vs 1 - psi per generation (grey old -> black new, red final) per budget;
    bottom: hypervolume per generation of every budget."""
    plt = common.pyplot()
    fig, axes = plt.subplots(2, len(results), figsize=(4.5 * len(results), 7), squeeze=False)
    for ax, ((pop_size, n_gen), result) in zip(axes[0], results.items()):
        history = [np.asarray(F, dtype=float).reshape(-1, 3) for F in result.data["front_history"]]
        for g, F in enumerate(history[:-1]):
            if len(F):
                shade = 0.85 - 0.75 * g / max(len(history) - 1, 1)
                ax.scatter(F[:, 1], F[:, 0], s=8, color=str(shade))
        if history and len(history[-1]):
            ax.scatter(history[-1][:, 1], history[-1][:, 0], s=14, color="red", label="final front")
        ax.set_title(f"{model}: (|P|, n) = ({pop_size}, {n_gen})")
        ax.set_xlabel("energy / 16-bit")
        ax.set_ylabel("1 - psi")
        ax.legend(fontsize=7)
    gs = axes[1][0].get_gridspec()
    for ax in axes[1]:
        ax.remove()
    hv_ax = fig.add_subplot(gs[1, :])
    for (pop_size, n_gen), result in results.items():
        hv_ax.plot(range(1, len(result.hypervolume) + 1), result.hypervolume, marker="o",
                   label=f"(|P|, n) = ({pop_size}, {n_gen})")
    hv_ax.set_xlabel("generation")
    hv_ax.set_ylabel("hypervolume (ref 1.1 per objective)")
    hv_ax.legend(fontsize=7)
    common.save_figure(fig, path)


if __name__ == "__main__":
    raise SystemExit(common.main_guard(main))
