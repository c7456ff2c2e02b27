"""hw-flowq Table 5 / Fig. 8(c): ResNet-20 on Spatial-256 with the OS, WS and RS dataflows.

16-bit baselines (normalised energy and latency per frame, Fine level) and the HV-leader of a 3-objective
NSGA-II search per dataflow and seed (1 - psi, energy, latency; b_A = b_W in {16, 8, 6, 4, 2}, first/last 16 bit),
reported as mean +- std over the seeds. The paper's qualitative result, independent of any search budget: at
16 bit RS has the lowest energy and OS the lowest latency, WS the worst energy. Writes table5.md/.csv,
table5_seeds.csv, table5.json, notes.md, fig8c.png and env.json into --out.

    python experiments/table5_dataflows.py --quick --gens 2
    python experiments/table5_dataflows.py --full --data-dir ~/data/cifar-10-batches-py
"""

from __future__ import annotations

import common

PRESET = "spatial-256"
DATAFLOWS = ("OS", "WS", "RS")
#: hw-flowq Table 5 verbatim: {dataflow: (baseline E, baseline L, leader top-1, leader psi, leader E, leader L)};
#: E in 1e7 normalised units, L in 1e3 cycles, per frame; accuracies in %.
PAPER = {"OS": (46.33, 159, 89.99, 93.98, 16.36, 48),
         "WS": (69.40, 166, 89.11, 90.87, 20.54, 97),
         "RS": (32.84, 191, 89.65, 95.19, 17.20, 64)}


def notes(base: dict) -> list:
    """The budget-independent statements of Table 5, computed from the 16-bit baselines."""
    def order(key):
        return " < ".join(sorted(DATAFLOWS, key=lambda d: base[d][key]))

    energy = " / ".join(f"{d} {base[d]['energy'] / 1e7:.2f}" for d in DATAFLOWS)
    latency = " / ".join(f"{d} {base[d]['latency_cycles'] / 1e3:.0f}" for d in DATAFLOWS)
    paper_e = " / ".join(f"{d} {PAPER[d][0]:.2f}" for d in DATAFLOWS)
    paper_l = " / ".join(f"{d} {PAPER[d][1]}" for d in DATAFLOWS)
    return [f"16-bit latency order {order('latency_cycles')} ({latency} k cycles; paper {paper_l}, order OS < WS < "
            f"RS).",
            f"16-bit energy order {order('energy')} ({energy} e7; paper {paper_e}, order RS < OS < WS).",
            "Ours / paper, 16-bit energy: " + ", ".join(f"{d} {base[d]['energy'] / 1e7 / PAPER[d][0]:.2f}x"
                                                         for d in DATAFLOWS) + "."]


def main(argv=None) -> int:
    from flowq.flow import Flow

    run, _ = common.parse_args("table5_dataflows", __doc__.splitlines()[0], argv)
    evaluator = common.evaluator(run, common.MODEL)
    base = {d: common.fine_baseline(PRESET, dataflow=d) for d in DATAFLOWS}
    flow = Flow(common.MODEL, run.dataset, evaluator, hw=PRESET, seed=run.seed, verbose=False, tie=True)
    rows, per_seed, fronts = [], [], {}
    for dataflow in DATAFLOWS:
        p = PAPER[dataflow]
        rows.append({"mode": run.mode, "config": f"Baseline (16-bit); Fine; {dataflow}-256", "kind": "baseline",
                     "dataflow": dataflow, "psi": None, "psi_paper": None,
                     "energy_1e7": base[dataflow]["energy"] / 1e7, "energy_1e7_paper": p[0],
                     "latency_1e3": base[dataflow]["latency_cycles"] / 1e3, "latency_1e3_paper": p[1]})
    for dataflow in DATAFLOWS:
        p = PAPER[dataflow]
        for seed in run.seeds:
            result = common.search_fine(run, flow, seed, dataflow, dataflow=dataflow)
            fronts.setdefault(f"{dataflow}-256", []).append(result.front)
            leader = result.leader("hv")
            m = leader["metrics"]
            top1 = None if run.quick else 100 * evaluator.train_from_scratch(leader["bits_w"], leader["bits_a"]).psi
            per_seed.append({"mode": run.mode, "config": f"HV-Leader; Fine; {dataflow}-256", "kind": "hv_leader",
                             "dataflow": dataflow, "seed": seed, "top1": top1, "top1_paper": p[2],
                             "psi": 100 * m["accuracy"], "psi_paper": p[3], "energy_1e7": m["energy"] / 1e7,
                             "energy_1e7_paper": p[4], "latency_1e3": m["latency_cycles"] / 1e3,
                             "latency_1e3_paper": p[5], "bits_w": " ".join(map(str, leader["bits_w"])),
                             "front_size": len(result.front)})
    keep = ("mode", "kind", "dataflow", "top1_paper", "psi_paper", "energy_1e7_paper", "latency_1e3_paper")
    rows += common.over_seeds(per_seed, "config", ("top1", "psi", "energy_1e7", "latency_1e3"), keep)
    columns = [("configuration", "config", "s")]
    if not run.quick:
        columns += [("top-1 %", "top1", ".2f"), ("paper top-1", "top1_paper", ".2f")]
    columns += [("psi %", "psi", ".2f"), ("paper psi", "psi_paper", ".2f"), ("E [1e7]", "energy_1e7", ".2f"),
                ("paper", "energy_1e7_paper", ".2f"), ("L [1e3 cyc]", "latency_1e3", ".0f"),
                ("paper", "latency_1e3_paper", ".0f")]
    paths = common.write_table(run, "table5", "hw-flowq Table 5 (ResNet-20, Spatial-256 dataflows)", columns, rows)
    paths.append(common.write_csv(run.path("table5_seeds.csv"), per_seed))
    paths.append(common.write_json(run.path("table5.json"), {"mode": run.mode, "rows": rows, "per_seed": per_seed}))
    paths.append(common.write_notes(run, notes(base)))
    common.plot_fronts(fronts, run.path("fig8c.png"), "hw-flowq Fig. 8(c): ResNet-20 per dataflow (Spatial-256)")
    common.finish(run, paths + [run.path("fig8c.png")])
    return 0


if __name__ == "__main__":
    raise SystemExit(common.main_guard(main))
