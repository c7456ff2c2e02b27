"""hw-flowq Table 5 / Fig. 8(c): ResNet-20 on Spatial-256 with the OS, WS and RS dataflows.

16-bit baselines (normalised energy and latency per frame, Fine level) and the HV-leader of a 3-objective
NSGA-II search per dataflow (1 - psi, energy, latency; b_A = b_W in {16, 8, 6, 4, 2}, first/last 16 bit).
The paper's qualitative result, independent of any search budget: at 16 bit RS has the lowest energy and OS the
lowest latency, WS the worst energy. Writes table5.csv, table5.json, fig8c.png into --out.

    python experiments/table5_dataflows.py --quick
    python experiments/table5_dataflows.py --full --data-dir ~/data/cifar-10-batches-py
"""

from __future__ import annotations

import common
from hwmodels import api
from hwmodels.spec import load_spec
from hwmodels.zoo import get_workload
from table3_hw_dims import MODEL, PAPER_BASELINE_TOP1, plot_fronts

PRESET = "spatial-256"
DATAFLOWS = ("OS", "WS", "RS")
#: hw-flowq Table 5 verbatim: {dataflow: (baseline E, baseline L, leader top-1, leader psi, leader E, leader L)};
#: E in 1e7 normalised units, L in 1e3 cycles, per frame; accuracies in %.
PAPER = {"OS": (46.33, 159, 89.99, 93.98, 16.36, 48),
         "WS": (69.40, 166, 89.11, 90.87, 20.54, 97),
         "RS": (32.84, 191, 89.65, 95.19, 17.20, 64)}


def baselines(model: str = MODEL, preset: str = PRESET) -> dict:
    """{dataflow: {"energy", "latency_cycles"}} of the 16-bit network on `preset` (Fine level, batch 1)."""
    workload = get_workload(model)
    out = {}
    for dataflow in DATAFLOWS:
        spec = load_spec(preset, dataflow=dataflow)
        bits = [spec.b_max] * len(workload)
        total = api.evaluate(workload, spec, bits, bits, level="fine").total
        out[dataflow] = {"energy": total["energy"], "latency_cycles": total["latency_cycles"]}
    return out


def main(argv=None) -> int:
    from flowq.flow import Flow

    run, _ = common.parse_args("table5_dataflows", __doc__.splitlines()[0], argv)
    evaluator = common.evaluator(run, MODEL)
    base = baselines()
    flow = Flow(MODEL, run.dataset, evaluator, hw=PRESET, seed=run.seed, verbose=False, tie=True)
    rows, fronts = [], {}
    for dataflow in DATAFLOWS:
        p = PAPER[dataflow]
        rows.append({"mode": run.mode, "config": f"Baseline (16-bit); Fine; {dataflow}-256", "kind": "baseline",
                     "dataflow": dataflow, "top1": None, "top1_paper": PAPER_BASELINE_TOP1, "psi": None,
                     "psi_paper": None, "energy_1e7": base[dataflow]["energy"] / 1e7, "energy_1e7_paper": p[0],
                     "latency_1e3": base[dataflow]["latency_cycles"] / 1e3, "latency_1e3_paper": p[1]})
    for dataflow in DATAFLOWS:
        problem = flow.problem("fine", dataflow=dataflow)
        result = flow.search(problem, "nsga2", run.budget.n_gen, pop_size=run.budget.pop_size, seed=run.seed,
                             out=run.path(f"runs/{dataflow}"), force=True)
        fronts[f"{dataflow}-256"] = result
        leader = result.leader("hv")
        m = leader["metrics"]
        top1 = None if run.quick else 100 * evaluator.train_from_scratch(leader["bits_w"], leader["bits_a"]).psi
        p = PAPER[dataflow]
        rows.append({"mode": run.mode, "config": f"HV-Leader; Fine; {dataflow}-256", "kind": "hv_leader",
                     "dataflow": dataflow, "top1": top1, "top1_paper": p[2], "psi": 100 * m["accuracy"],
                     "psi_paper": p[3], "energy_1e7": m["energy"] / 1e7, "energy_1e7_paper": p[4],
                     "latency_1e3": m["latency_cycles"] / 1e3, "latency_1e3_paper": p[5],
                     "bits_w": " ".join(map(str, leader["bits_w"])), "front_size": len(result.front)})
    columns = [("configuration", "config", "s"), ("top-1 %", "top1", ".2f"), ("paper", "top1_paper", ".2f"),
               ("psi %", "psi", ".2f"), ("paper", "psi_paper", ".2f"),
               ("E 1e7", "energy_1e7", ".2f"), ("paper", "energy_1e7_paper", ".2f"),
               ("L 1e3cyc", "latency_1e3", ".0f"), ("paper", "latency_1e3_paper", ".0f")]
    common.print_table(f"hw-flowq Table 5 (ResNet-20, Spatial-256 dataflows) [{run.mode}: {run.dataset}, "
                       f"|P|={run.budget.pop_size}, n={run.budget.n_gen}]", columns, rows)
    lowest_e = min(DATAFLOWS, key=lambda d: base[d]["energy"])
    lowest_l = min(DATAFLOWS, key=lambda d: base[d]["latency_cycles"])
    highest_e = max(DATAFLOWS, key=lambda d: base[d]["energy"])
    print(f"16-bit: lowest energy {lowest_e} (paper RS), lowest latency {lowest_l} (paper OS), "
          f"highest energy {highest_e} (paper WS)")
    common.write_csv(run.path("table5.csv"), rows)
    common.write_json(run.path("table5.json"), {"mode": run.mode, "rows": rows,
                                                "fronts": {k: r.front for k, r in fronts.items()}})
    plot_fronts(fronts, run.path("fig8c.png"), "hw-flowq Fig. 8(c): ResNet-20 fronts per dataflow (Spatial-256)")
    common.wrote(run, [run.path("table5.csv"), run.path("table5.json"), run.path("fig8c.png")])
    return 0


if __name__ == "__main__":
    raise SystemExit(common.main_guard(main))
