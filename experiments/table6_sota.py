"""hw-flowq Table 6: uniform DoReFa / PACT (4, 2 bit), XNOR (1 bit), HAQ (DDPG) and the HV-leader on Spatial-256.

ResNet-20 (and ResNet-56 with --full --model resnet56) on Spatial-256, RS, with 1-bit support added (hw-flowq
6.5). Uniform rows keep the first and last layer at 16 bit. HAQ is `flowq.agents.DDPG` with HAQ's reward and
resource wall on latency (the paper quotes its latency-optimising agent) on the same Fine model; its pick is the
most accurate genome it evaluated. The HV-leader comes from a 3-objective NSGA-II search (|P| = 50, n = 50 in
--full). Columns: accuracy (psi in --quick, test top-1 after training from scratch in --full), Frac.OPs
(Coarse, eq. 5), normalised energy and latency (Fine); HAQ and the HV-leader run once per seed (mean +- std).
Writes table6.md/.csv, table6.json, notes.md and env.json into --out.

    python experiments/table6_sota.py --quick
    python experiments/table6_sota.py --full --data-dir ~/data/cifar-10-batches-py [--model resnet56]
"""

from __future__ import annotations

import common
from hwmodels import api
from hwmodels.spec import load_spec
from hwmodels.zoo import get_workload

PRESET = "spatial-256"
BITWIDTHS = (1, 2, 4, 6, 8, 16)  # Spatial-256's {2, 4, 6, 8, 16} plus XNOR's 1 bit
#: (row label, quantiser scheme (weights, activations), uniform bits of the inner layers) per model.
UNIFORM = {"resnet20": (("DoReFa-Net (4-bit)", ("dorefa", "dorefa"), 4),
                        ("DoReFa-Net (2-bit)", ("dorefa", "dorefa"), 2), ("XNOR-Net (1-bit)", ("xnor", "pact"), 1)),
           "resnet56": (("PACT (4-bit)", ("dorefa", "pact"), 4), ("PACT (2-bit)", ("dorefa", "pact"), 2),
                        ("XNOR-Net (1-bit)", ("xnor", "pact"), 1))}
#: hw-flowq Table 6 verbatim: {model: {row: (top-1 %, F.Ops 1e6, N. energy 1e7, latency 1e3 cycles)}}.
PAPER = {
    "resnet20": {"Baseline (16-bit)": (92.47, 41, 33, 191), "DoReFa-Net (4-bit)": (89.75, 10, 16, 51),
                 "DoReFa-Net (2-bit)": (87.16, 5, 14, 43), "XNOR-Net (1-bit)": (83.98, 3, 15, 17),
                 "HAQ": (89.75, 17, 19, 83), "HV-Leader": (90.15, 12, 17, 60)},
    "resnet56": {"Baseline (16-bit)": (93.89, 125, 101, 588), "PACT (4-bit)": (90.96, 32, 48, 155),
                 "PACT (2-bit)": (90.43, 16, 42, 80), "XNOR-Net (1-bit)": (85.61, 8, 47, 48),
                 "HAQ": (92.07, 56, 61, 279), "HV-Leader": (92.00, 30, 49, 154)},
}
HV_LEADER_FULL_BUDGET = common.Budget(pop_size=50, n_gen=50)  # hw-flowq 6: |P| = 50 for SoTA comparisons


def hardware(workload, spec, bits_w, bits_a) -> dict:
    """Frac.OPs (Coarse), energy and latency (Fine, the mappings a Fine search costs) of one genome."""
    from problems.fine import DEFAULT_MAPPER_OBJECTIVE

    coarse = api.evaluate(workload, spec, bits_w, bits_a, level="coarse").total
    fine = api.evaluate(workload, spec, bits_w, bits_a, level="fine", objective=DEFAULT_MAPPER_OBJECTIVE).total
    return {"frac_ops": coarse["frac_ops"], "energy": fine["energy"], "latency_cycles": fine["latency_cycles"]}


def accuracy(run, evaluator, bits_w, bits_a) -> float:
    """psi on the validation split (--quick) or test top-1 after training from scratch (--full), in %."""
    if run.quick:
        return 100 * evaluator.evaluate(bits_w, bits_a).psi
    return 100 * evaluator.train_from_scratch(bits_w, bits_a).psi


def main(argv=None) -> int:
    from flowq.agents import DDPG
    from flowq.flow import Flow

    def extra(parser):
        parser.add_argument("--model", default="resnet20", choices=sorted(UNIFORM), help="network (paper: both)")

    run, args = common.parse_args("table6_sota", __doc__.splitlines()[0], argv, extra)
    model = args.model
    spec = load_spec(PRESET, dataflow="RS", bitwidths=list(BITWIDTHS))
    workload = get_workload(model)
    n = len(workload)
    pact = common.evaluator(run, model)  # default scheme: DoReFa weights, PACT activations
    rows = []

    def add(label, bits_w, bits_a, evaluator, **extra_fields):
        hw = hardware(workload, spec, bits_w, bits_a)
        p = PAPER[model][label.split(" [")[0]]
        rows.append({"mode": run.mode, "model": model, "method": label, "accuracy": accuracy(run, evaluator, bits_w,
                                                                                             bits_a),
                     "accuracy_paper": p[0], "frac_ops_1e6": hw["frac_ops"] / 1e6, "frac_ops_1e6_paper": p[1],
                     "energy_1e7": hw["energy"] / 1e7, "energy_1e7_paper": p[2],
                     "latency_1e3": hw["latency_cycles"] / 1e3, "latency_1e3_paper": p[3],
                     "bits_w": " ".join(map(str, bits_w)), "bits_a": " ".join(map(str, bits_a)), **extra_fields})

    add("Baseline (16-bit)", [16] * n, [16] * n, pact)
    for label, (wq, aq), b in UNIFORM[model]:
        bits = [16] + [b] * (n - 2) + [16]
        add(label, bits, bits, common.evaluator(run, model, weight_quantizer=wq, act_quantizer=aq))

    flow = Flow(model, run.dataset, pact, hw=spec, seed=run.seed, verbose=False, tie=True,
                bitwidths=[b for b in BITWIDTHS if b > 1])
    budget = run.budget if run.quick or run.custom_budget else HV_LEADER_FULL_BUDGET
    # HAQ: the DDPG agent, HAQ reward and resource wall on latency, same episode budget as NSGA-II's evaluations;
    # both searches once per seed, their rows the mean +- std over seeds
    searched = []
    for seed in run.seeds:
        agent = DDPG(budget.pop_size, cost="latency_cycles", warmup=min(20, budget.pop_size * budget.n_gen // 2))
        haq = flow.search(flow.problem("fine"), agent, budget.n_gen, seed=seed, out=run.path(f"runs/haq-s{seed}"),
                          force=True)
        pick = max(haq.front, key=lambda s: s["metrics"]["accuracy"])
        add("HAQ", pick["bits_w"], pick["bits_a"], pact, episodes=haq.data["n_evaluations"][-1], seed=seed)
        searched.append(rows.pop())
        nsga = flow.search("fine", "nsga2", budget.n_gen, pop_size=budget.pop_size, seed=seed,
                           out=run.path(f"runs/nsga2-s{seed}"), force=True)
        leader = nsga.leader("hv")
        add("HV-Leader", leader["bits_w"], leader["bits_a"], pact, episodes=nsga.data["n_evaluations"][-1], seed=seed)
        searched.append(rows.pop())
    keep = ("mode", "model", "accuracy_paper", "frac_ops_1e6_paper", "energy_1e7_paper", "latency_1e3_paper")
    rows += common.over_seeds(searched, "method", ("accuracy", "frac_ops_1e6", "energy_1e7", "latency_1e3"), keep)
    acc = "psi %" if run.quick else "top-1 %"
    columns = [("method", "method", "s"), (acc, "accuracy", ".2f"), ("paper top-1", "accuracy_paper", ".2f"),
               ("F.Ops [1e6]", "frac_ops_1e6", ".1f"), ("paper", "frac_ops_1e6_paper", ".0f"),
               ("E [1e7]", "energy_1e7", ".2f"), ("paper", "energy_1e7_paper", ".0f"),
               ("L [1e3 cyc]", "latency_1e3", ".1f"), ("paper", "latency_1e3_paper", ".0f")]
    paths = common.write_table(run, "table6", f"hw-flowq Table 6 ({model}, Spatial-256 RS + 1 bit, "
                               f"|P|={budget.pop_size}, n={budget.n_gen})", columns, rows,
                               csv_rows=rows[:1 + len(UNIFORM[model])] + searched)
    uniform = [r for r in rows[1:1 + len(UNIFORM[model])]]
    notes = ["Frac.OPs of the uniform rows vs the paper's (rounded to 1e6 there): " + ", ".join(
        f"{r['method']} {r['frac_ops_1e6']:.2f} vs {r['frac_ops_1e6_paper']}" for r in [rows[0]] + uniform) + "."]
    paths.append(common.write_notes(run, notes))
    paths.append(common.write_json(run.path("table6.json"), {"mode": run.mode, "model": model, "rows": rows,
                                                             "per_seed": searched}))
    common.finish(run, paths)
    return 0


if __name__ == "__main__":
    raise SystemExit(common.main_guard(main))
