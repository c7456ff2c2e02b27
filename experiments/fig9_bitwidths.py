"""hw-flowq Fig. 9: layer-wise b_W / b_A of the BS-256 Pareto-choices for batch 1 vs batch 4 (ResNet-20).

Two 3-objective NSGA-II searches on BS-256 (b_A != b_W allowed) per seed, batch 1 and batch 4, and the
Pareto-choice of each at the accuracy threshold of Table 3 (`common.PSI_MARGIN`). The paper's reading: with
batch 4 (4x the activation volume) the GA lowers b_A, mostly in the first half of the network, and raises b_W to
keep accuracy; it reports no numbers, so the table gives our mean b_A / b_W over the first and second half of the
layers (mean +- std over seeds). Writes fig9.md/.csv (summary per seed), fig9_layers.csv (bits per layer, batch
and seed), fig9.json, fig9.png (the first seed's choices) and env.json into --out.

    python experiments/fig9_bitwidths.py --quick
    python experiments/fig9_bitwidths.py --full --data-dir ~/data/cifar-10-batches-py
"""

from __future__ import annotations

import common

PRESET = "bs-256"
BATCHES = (1, 4)


def main(argv=None) -> int:
    from flowq.flow import Flow
    from hwmodels.zoo import get_workload

    run, _ = common.parse_args("fig9_bitwidths", __doc__.splitlines()[0], argv)
    evaluator = common.evaluator(run, common.MODEL)
    flow = Flow(common.MODEL, run.dataset, evaluator, seed=run.seed, verbose=False)
    layers = [layer.name for layer in get_workload(common.MODEL)]
    psi16 = evaluator.evaluate([16] * len(layers), [16] * len(layers)).psi
    choices, layer_rows, per_seed = {}, [], []
    half = len(layers) // 2
    inner, first, second = slice(1, len(layers) - 1), slice(1, half), slice(half, len(layers) - 1)
    mean = lambda xs: sum(xs) / len(xs)  # noqa: E731
    for batch in BATCHES:
        for seed in run.seeds:
            result = common.search_fine(run, flow, seed, f"{PRESET}-b{batch}", hw=PRESET, batch=batch, tie=False)
            choice = common.pareto_choice(result.front, psi16 - common.PSI_MARGIN)
            choices[(batch, seed)] = choice
            for name, bw, ba in zip(layers, choice["bits_w"], choice["bits_a"]):
                layer_rows.append({"mode": run.mode, "batch": batch, "seed": seed, "layer": name, "b_w": bw,
                                   "b_a": ba})
            m = choice["metrics"]
            per_seed.append({"batch": batch, "seed": seed, "fallback": choice["fallback"],
                             "psi": 100 * m["accuracy"], "energy_per_frame": m["energy"] / batch,
                             "latency_per_frame": m["latency_cycles"] / batch,
                             "b_a_first_half": mean(choice["bits_a"][first]),
                             "b_a_second_half": mean(choice["bits_a"][second]),
                             "b_w_mean": mean(choice["bits_w"][inner]), "b_a_mean": mean(choice["bits_a"][inner])})
    summary = [dict(r, fallback_note=common.fallback_note(r)) for r in common.over_seeds(
        per_seed, "batch", ("psi", "energy_per_frame", "latency_per_frame", "b_a_first_half", "b_a_second_half",
                            "b_w_mean", "b_a_mean"))]
    columns = [("batch", "batch", "d"), ("psi %", "psi", ".2f"), ("E / frame", "energy_per_frame", ".4g"),
               ("L / frame [cyc]", "latency_per_frame", ".4g"), ("b_A 1st half", "b_a_first_half", ".2f"),
               ("b_A 2nd half", "b_a_second_half", ".2f"), ("mean b_W", "b_w_mean", ".2f"),
               ("mean b_A", "b_a_mean", ".2f"), ("fallback", "fallback_note", "s")]
    paths = common.write_table(run, "fig9", "hw-flowq Fig. 9: BS-256 Pareto-choices, batch 1 vs 4", columns, summary,
                               csv_rows=per_seed)
    paths.append(common.write_csv(run.path("fig9_layers.csv"), layer_rows))
    same = sum(choices[(1, s)]["bits_w"] == choices[(4, s)]["bits_w"] and
               choices[(1, s)]["bits_a"] == choices[(4, s)]["bits_a"] for s in run.seeds)
    paths.append(common.write_notes(run, [f"Seeds on which batch 1 and batch 4 chose the same genome: {same} of "
                                          f"{len(run.seeds)}."]))
    paths.append(common.write_json(run.path("fig9.json"), {"mode": run.mode, "psi_16bit": psi16, "summary": summary,
                                                           "choices": {f"{b}-s{s}": c
                                                                       for (b, s), c in choices.items()}}))
    plot(layers, {b: choices[(b, run.seeds[0])] for b in BATCHES}, run.path("fig9.png"), run.seeds[0])
    common.finish(run, paths + [run.path("fig9.png")])
    return 0


def plot(layers: list, choices: dict, path, seed: int) -> None:
    """Two panels (batch 1, batch 4) of per-layer b_W and b_A bars, as hw-flowq Fig. 9."""
    plt = common.pyplot()
    fig, axes = plt.subplots(1, len(choices), figsize=(7 * len(choices), 4), sharey=True, squeeze=False)
    xs = range(len(layers))
    for ax, (batch, choice) in zip(axes[0], choices.items()):
        ax.bar([x - 0.2 for x in xs], choice["bits_w"], 0.4, label="b_W")
        ax.bar([x + 0.2 for x in xs], choice["bits_a"], 0.4, label="b_A")
        ax.set_xticks(list(xs), layers, rotation=90, fontsize=6)
        ax.set_title(f"BS-256, batch {batch}" + (" (fallback: most accurate)" if choice["fallback"] else ""))
        ax.set_xlabel("layer")
        ax.set_ylabel("bits")
        ax.legend(fontsize=7)
    fig.suptitle(f"hw-flowq Fig. 9: layer-wise bitwidths of the Pareto-choices, seed {seed}")
    common.save_figure(fig, path, rect=(0, 0, 1, 0.95))


if __name__ == "__main__":
    raise SystemExit(common.main_guard(main))
