"""hw-flowq Fig. 9: layer-wise b_W / b_A of the BS-256 Pareto-choices for batch 1 vs batch 4 (ResNet-20).

Two 3-objective NSGA-II searches on BS-256 (b_A != b_W allowed), batch 1 and batch 4, and the Pareto-choice of
each at the accuracy threshold of table3_hw_dims.py. The paper's reading: with batch 4 (4x the activation volume)
the GA lowers b_A, mostly in the first half of the network, and raises b_W to keep accuracy; it reports no numbers,
so the table gives our mean b_A / b_W over the first and second half of the layers. Writes fig9.csv, fig9.json,
fig9.png into --out.

    python experiments/fig9_bitwidths.py --quick
    python experiments/fig9_bitwidths.py --full --data-dir ~/data/cifar-10-batches-py
"""

from __future__ import annotations

import common
from hwmodels.zoo import get_workload
from table3_hw_dims import MODEL, PSI_MARGIN, search_config

PRESET = "bs-256"
BATCHES = (1, 4)


def main(argv=None) -> int:
    from flowq.flow import Flow

    run, _ = common.parse_args("fig9_bitwidths", __doc__.splitlines()[0], argv)
    evaluator = common.evaluator(run, MODEL)
    flow = Flow(MODEL, run.dataset, evaluator, seed=run.seed, verbose=False)
    layers = [layer.name for layer in get_workload(MODEL)]
    psi16 = evaluator.evaluate([16] * len(layers), [16] * len(layers)).psi
    choices, rows, summary = {}, [], []
    for batch in BATCHES:
        result = search_config(run, flow, PRESET, batch, f"{PRESET}-b{batch}", tie=False)
        choice = common.pareto_choice(result.front, psi16 - PSI_MARGIN)
        choices[batch] = choice
        for name, bw, ba in zip(layers, choice["bits_w"], choice["bits_a"]):
            rows.append({"mode": run.mode, "batch": batch, "layer": name, "b_w": bw, "b_a": ba})
        half = len(layers) // 2
        inner = slice(1, len(layers) - 1)  # first and last layers are fixed at 16 bit
        first, second = slice(1, half), slice(half, len(layers) - 1)
        mean = lambda xs: sum(xs) / len(xs)  # noqa: E731
        m = choice["metrics"]
        summary.append({"batch": batch, "psi": 100 * m["accuracy"], "energy_per_frame": m["energy"] / batch,
                        "latency_per_frame": m["latency_cycles"] / batch,
                        "b_a_first_half": mean(choice["bits_a"][first]),
                        "b_a_second_half": mean(choice["bits_a"][second]),
                        "b_w_mean": mean(choice["bits_w"][inner]), "b_a_mean": mean(choice["bits_a"][inner])})
    columns = [("batch", "batch", "d"), ("psi %", "psi", ".2f"), ("E/frame", "energy_per_frame", ".4g"),
               ("L/frame", "latency_per_frame", ".4g"), ("b_A 1st half", "b_a_first_half", ".2f"),
               ("b_A 2nd half", "b_a_second_half", ".2f"), ("mean b_W", "b_w_mean", ".2f"),
               ("mean b_A", "b_a_mean", ".2f")]
    common.print_table(f"hw-flowq Fig. 9: BS-256 Pareto-choices, batch 1 vs 4 [{run.mode}: {run.dataset}, "
                       f"|P|={run.budget.pop_size}, n={run.budget.n_gen}] (paper: batch 4 lowers b_A in the first "
                       f"half and raises b_W, at ~90.3 % top-1 for both)", columns, summary)
    common.write_csv(run.path("fig9.csv"), rows)
    common.write_json(run.path("fig9.json"), {"mode": run.mode, "psi_16bit": psi16, "summary": summary,
                                              "choices": {str(b): c for b, c in choices.items()}})
    plot(layers, choices, run.path("fig9.png"))
    common.wrote(run, [run.path("fig9.csv"), run.path("fig9.json"), run.path("fig9.png")])
    return 0


def plot(layers: list, choices: dict, path) -> None:
    """Two panels (batch 1, batch 4) of per-layer b_W and b_A bars, as hw-flowq Fig. 9."""
    plt = common.pyplot()
    fig, axes = plt.subplots(1, len(choices), figsize=(7 * len(choices), 3.8), sharey=True, squeeze=False)
    xs = range(len(layers))
    for ax, (batch, choice) in zip(axes[0], choices.items()):
        ax.bar([x - 0.2 for x in xs], choice["bits_w"], 0.4, label="b_W")
        ax.bar([x + 0.2 for x in xs], choice["bits_a"], 0.4, label="b_A")
        ax.set_xticks(list(xs), layers, rotation=90, fontsize=6)
        ax.set_title(f"BS-256, batch {batch}")
        ax.set_ylabel("bits")
        ax.legend(fontsize=7)
    common.save_figure(fig, path)


if __name__ == "__main__":
    raise SystemExit(common.main_guard(main))
