"""hw-flowq Fig. 7: NSGA-II fronts by generation and hypervolume convergence for three budgets (|P|, n).

ResNet-56 (--full; ResNet-20 in --quick) on Spatial-256 (RS), b_A = b_W in {16, 8, 6, 4, 2}, 3 objectives
(1 - psi, energy, latency). Budgets (25, 25), (25, 50), (50, 50) (--full) or (4, 2), (4, 3), (6, 3) (--quick),
each searched once per seed. The paper gives no numbers: it reads that more generations make the front more convex
and a bigger population extends it (larger hypervolume), so the table reports final hypervolume (mean +- std over
seeds), front size and the HV-leader per budget, and notes.md how often a larger budget beat a smaller one on the
same seed. Writes fig7.md/.csv (final values), fig7_hv.csv (HV per generation and seed), fig7.json, notes.md,
fig7.png and env.json into --out.

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


def label(budget) -> str:
    """"(|P|, n)" of a budget tuple."""
    return f"({budget[0]}, {budget[1]})"


def notes(final: dict, budgets, seeds) -> list:
    """Per pair of budgets, on how many seeds the larger one reached a larger final hypervolume."""
    lines = []
    for small, big in ((budgets[0], budgets[1]), (budgets[1], budgets[2]), (budgets[0], budgets[2])):
        wins = sum(final[(big, s)] > final[(small, s)] + 1e-12 for s in seeds)
        ties = sum(abs(final[(big, s)] - final[(small, s)]) <= 1e-12 for s in seeds)
        lines.append(f"{label(big)} vs {label(small)}: larger final hypervolume on {wins} of {len(seeds)} seeds "
                     f"({ties} equal).")
    return lines


def main(argv=None) -> int:
    from flowq.flow import Flow

    run, _ = common.parse_args("fig7_nsga2_budget", __doc__.splitlines()[0], argv)
    model, budgets = QUICK if run.quick else FULL
    flow = Flow(model, run.dataset, common.evaluator(run, model), hw=PRESET, dataflow="RS", seed=run.seed,
                verbose=False, tie=True)
    results, hv_rows, per_seed, final = {}, [], [], {}
    for pop_size, n_gen in budgets:
        for seed in run.seeds:
            result = flow.search("fine", "nsga2", n_gen, pop_size=pop_size, seed=seed, ref_point=REF_POINT,
                                 out=run.path(f"runs/P{pop_size}-n{n_gen}-s{seed}"), force=True)
            results[((pop_size, n_gen), seed)] = result
            final[((pop_size, n_gen), seed)] = result.hypervolume[-1]
            for gen, (hv, n_eval) in enumerate(zip(result.hypervolume, result.data["n_evaluations"]), start=1):
                hv_rows.append({"mode": run.mode, "model": model, "pop_size": pop_size, "n_gen": n_gen, "seed": seed,
                                "gen": gen, "hypervolume": hv, "n_evaluations": n_eval})
            leader = result.leader("hv")["metrics"]
            per_seed.append({"budget": label((pop_size, n_gen)), "pop_size": pop_size, "n_gen": n_gen, "seed": seed,
                             "hypervolume": result.hypervolume[-1], "front_size": len(result.front),
                             "evaluations": result.data["n_evaluations"][-1],
                             "leader_psi": 100 * leader["accuracy"], "leader_energy_1e7": leader["energy"] / 1e7,
                             "leader_latency_1e3": leader["latency_cycles"] / 1e3})
    rows = common.over_seeds(per_seed, "budget", ("hypervolume", "front_size", "evaluations", "leader_psi",
                                                  "leader_energy_1e7", "leader_latency_1e3"), ("pop_size", "n_gen"))
    columns = [("(|P|, n)", "budget", "s"), ("final HV", "hypervolume", ".4f"), ("front", "front_size", ".1f"),
               ("evaluations", "evaluations", ".1f"), ("HV-leader psi %", "leader_psi", ".2f"),
               ("leader E [1e7]", "leader_energy_1e7", ".2f"), ("leader L [1e3 cyc]", "leader_latency_1e3", ".1f")]
    paths = common.write_table(run, "fig7", f"hw-flowq Fig. 7: NSGA-II budgets, {model} on Spatial-256 RS", columns,
                               rows, csv_rows=per_seed)
    paths.append(common.write_csv(run.path("fig7_hv.csv"), hv_rows))
    paths.append(common.write_notes(run, notes(final, budgets, run.seeds)))
    paths.append(common.write_json(run.path("fig7.json"), {
        "mode": run.mode, "model": model, "rows": rows,
        "front_history": {f"{p}-{n}-s{s}": r.data["front_history"] for ((p, n), s), r in results.items()}}))
    plot(results, budgets, run.seeds, run.path("fig7.png"), model)
    common.finish(run, paths + [run.path("fig7.png")])
    return 0


def plot(results: dict, budgets, seeds, path, model: str) -> None:
    """Top row: energy vs 1 - psi per generation of the first seed (grey old -> black new, red final) per budget;
    bottom: hypervolume per generation of every budget and seed (one colour per budget, one line style per seed,
    markers offset so that equal curves stay visible)."""
    plt = common.pyplot()
    fig, axes = plt.subplots(2, len(budgets), figsize=(4.8 * len(budgets), 7.5), squeeze=False)
    for ax, budget in zip(axes[0], budgets):
        result = results[(budget, seeds[0])]
        history = [np.asarray(F, dtype=float).reshape(-1, 3) for F in result.data["front_history"]]
        for g, F in enumerate(history[:-1]):
            if len(F):
                shade = 0.85 - 0.75 * g / max(len(history) - 1, 1)
                common.scatter_counted(ax, F[:, 1], F[:, 0], color=str(shade))
        if history and len(history[-1]):
            common.scatter_counted(ax, history[-1][:, 1], history[-1][:, 0], color="red", label="final front")
        ax.set_title(f"(|P|, n) = {label(budget)}, seed {seeds[0]}")
        ax.set_xlabel("energy / 16-bit energy")
        ax.set_ylabel("1 - psi")
        ax.legend(fontsize=7)
    gs = axes[1][0].get_gridspec()
    for ax in axes[1]:
        ax.remove()
    hv_ax = fig.add_subplot(gs[1, :])
    colours, styles, markers = ("tab:blue", "tab:orange", "tab:green"), ("-", "--", ":", "-."), "os^D"
    for k, budget in enumerate(budgets):
        for j, seed in enumerate(seeds):
            hv = results[(budget, seed)].hypervolume
            offset = (k - 1) * 0.06  # a small x offset per budget: overlapping curves stay distinguishable
            hv_ax.plot([g + offset for g in range(1, len(hv) + 1)], hv, color=colours[k % 3],
                       linestyle=styles[j % 4], marker=markers[k % 4], markersize=5, alpha=0.85,
                       label=f"{label(budget)}, seed {seed}")
    hv_ax.set_xlabel("generation (budgets offset by 0.06 for visibility)")
    hv_ax.set_ylabel("hypervolume (ref. point 1.1 per normalised objective)")
    hv_ax.legend(fontsize=6, ncol=len(budgets))
    fig.suptitle(f"hw-flowq Fig. 7: {model} on Spatial-256 RS, NSGA-II fronts and hypervolume per budget")
    common.save_figure(fig, path, rect=(0, 0, 1, 0.96))


if __name__ == "__main__":
    raise SystemExit(common.main_guard(main))
