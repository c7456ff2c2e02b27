"""benq Tables V-VI and Fig. 4: DDPG / PPO / VPG with benq's reward on two cost predictors, W8A8 baselines, policy
similarity.

Predictors: "NeuroSim tiles" = `problems.reram.ReRAMProblem` on `reram-benq` (DNN+NeuroSim's conventional tile
count, 128x128 arrays, 1 bit/cell, a 4 x 4 grid of arrays per PE, 4 PEs/tile) with the tile count as cost;
"Eyeriss-like energy" = `FineProblem` on Spatial-168 (Eyeriss' array and normalised costs, RS) with energy as
cost (benq used the DNN-Chip Predictor).
Each agent uses benq eq. 1 (reward = accuracy when cost <= th x cost(W8A8), else -1), bits 2..8 per layer and
operand (first and last layer 8 bit), th in {0.8, 0.7, 0.6} for tiles (Table V) and 0.8 for energy (Table VI).
A row reports the most accurate evaluated genome that meets the threshold (mean +- std over seeds). W8A8 rows:
PACT (DoReFa weights, PACT activations) and DoReFa. Fig. 4: cosine similarity and Manhattan distance between the
th = 0.8 tile policies and W8A8. The tile agents are not run when no genome can meet any threshold (LeNet-5 keeps
one tile per layer at any bitwidth; notes.md gives the counts). --quick: LeNet-5 on digits, 4 episodes per agent
and seed; --full: VGG-16 (FlowQ's CIFAR VGG, not benq's pytorch-playground VGG) on CIFAR-10, 600 episodes. Writes
benq_table5.md/.csv, benq_table6.md/.csv, benq.json, notes.md, benq_fig4.png and env.json into --out. Before any
search, Table V's W8A8 tile counts are reproduced on the `reram-benq` preset (benq's own VGG, `benq_vgg`, and
torchvision ResNet-18), hardware only: benq_tiles.md/.csv.

    python experiments/benq_tables.py --quick
    python experiments/benq_tables.py --full --data-dir ~/data/cifar-10-batches-py
"""

from __future__ import annotations

import common
from hwmodels import api
from hwmodels.reram import evaluate_network, load_reram_spec
from hwmodels.spec import load_spec
from hwmodels.zoo import get_workload

AGENT_NAMES = ("ddpg", "ppo", "vpg")
LABEL = {"ddpg": "DDPG+PACT", "ppo": "PPO+PACT", "vpg": "VPG+PACT"}
THRESHOLDS = (0.8, 0.7, 0.6)
EYERISS = "spatial-168"
FIXED_BITS = 8  # benq: W8A8 reference; first / last layers stay at 8 bit
QUICK_MODEL, FULL_MODEL = "lenet5", "vgg16"
FULL_EPISODES = 600  # HAQ's / benq's episode budget
#: benq Table V verbatim (VGG on CIFAR-10): (method, th) -> (top-1 %, #tiles).
PAPER_TABLE5 = {("ddpg", 0.8): (92.56, 66), ("ddpg", 0.7): (91.96, 58), ("ddpg", 0.6): (91.20, 48),
                ("ppo", 0.8): (92.44, 68), ("ppo", 0.7): (91.34, 53), ("ppo", 0.6): (90.50, 45),
                ("vpg", 0.8): (92.28, 68), ("vpg", 0.7): (92.07, 58), ("vpg", 0.6): (90.67, 51),
                ("pact", 1.0): (92.69, 86), ("dorefa", 1.0): (92.59, 86)}
#: benq Table VI verbatim (VGG on CIFAR-10): method -> (top-1 %, energy mJ).
PAPER_TABLE6 = {"ddpg": (90.89, 2.78), "ppo": (90.50, 2.77), "vpg": (89.30, 2.76), "pact": (92.69, 3.50),
                "dorefa": (92.59, 3.50)}
#: benq Table V's W8A8 tile counts: VGG (per layer, total) and ResNet-18 (total).
PAPER_VGG_TILES = (1, 2, 4, 6, 12, 20, 40, 1)
PAPER_TOTAL_TILES = {"vgg (benq)": 86, "resnet18": 121}
TILES_PRESET = RERAM = "reram-benq"
#: benq Fig. 4(b): Manhattan distance of the th = 0.8 policy to W8A8 (DDPG 12, PPO 22, VPG 24).
PAPER_MANHATTAN_TO_W8A8 = {"ddpg": 12, "ppo": 22, "vpg": 24}


def benq_vgg() -> list:
    """benq's VGG (pytorch-playground's CIFAR-10 VGG: conv3x3 128-128-M-256-256-M-512-512-M, a 3x3 conv to 1024
    channels without padding on the 4x4 map, M, fc 1024 -> 10): 7 convs and one fc."""
    from hwmodels.workload import conv, fc

    return [conv("conv1", 3, 128, 32, h_in=32, w_in=32), conv("conv2", 128, 128, 32, h_in=32, w_in=32),
            conv("conv3", 128, 256, 16, h_in=16, w_in=16), conv("conv4", 256, 256, 16, h_in=16, w_in=16),
            conv("conv5", 256, 512, 8, h_in=8, w_in=8), conv("conv6", 512, 512, 8, h_in=8, w_in=8),
            conv("conv7", 512, 1024, 2, h_in=4, w_in=4), fc("fc", 1024, 10)]


def w8a8_tiles(workload, preset: str = TILES_PRESET) -> list:
    """Tiles per layer of `workload` at W8A8 on a ReRAM preset."""
    spec = load_reram_spec(preset)
    n = len(workload)
    return [int(layer["tiles"]) for layer in evaluate_network(workload, spec, [8] * n, [8] * n).layers]


def tiles_table() -> tuple[list, list]:
    """benq Table V's W8A8 tile counts on `TILES_PRESET`: rows per layer of benq's VGG and network totals."""
    vgg = w8a8_tiles(benq_vgg())
    rows = [{"network": "vgg (benq)", "layer": f"layer {k + 1}", "tiles": t, "tiles_paper": p}
            for k, (t, p) in enumerate(zip(vgg, PAPER_VGG_TILES))]
    totals = {"vgg (benq)": sum(vgg), "resnet18": sum(w8a8_tiles(get_workload("resnet18")))}
    rows += [{"network": name, "layer": "total", "tiles": totals[name], "tiles_paper": PAPER_TOTAL_TILES[name]}
             for name in totals]
    exact = all(r["tiles"] == r["tiles_paper"] for r in rows)
    notes = [f"W8A8 tiles on {TILES_PRESET}: VGG {totals['vgg (benq)']} (per layer {', '.join(map(str, vgg))}; "
             f"paper 86), ResNet-18 {totals['resnet18']} (paper 121): "
             f"{'every count equals the paper' if exact else 'NOT all equal to the paper'}."]
    return rows, notes


def best_under(front: list, metric: str, limit: float) -> dict | None:
    """The most accurate front solution with `metric` <= `limit` (None when none meets it)."""
    ok = [s for s in front if s["metrics"][metric] <= limit]
    return max(ok, key=lambda s: s["metrics"]["accuracy"]) if ok else None


def main(argv=None) -> int:
    from flowq.agents import AGENTS
    from flowq.agents.similarity import manhattan_distance, plot_similarity, policy_vector, similarity_matrices
    from flowq.flow import Flow
    from problems import FineProblem
    from problems.reram import ReRAMProblem

    def extra(parser):
        parser.add_argument("--predictors", nargs="+", default=["tiles", "energy"], choices=["tiles", "energy"],
                            help="cost predictors to run (default both)")

    run, args = common.parse_args("benq_tables", __doc__.splitlines()[0], argv, extra)
    tile_rows, tile_notes = tiles_table()
    paths = common.write_table(run, "benq_tiles", f"benq Table V W8A8 tile counts on {TILES_PRESET}",
                               [("network", "network", "s"), ("layer", "layer", "s"), ("tiles", "tiles", "d"),
                                ("paper", "tiles_paper", "d")], tile_rows)
    model = QUICK_MODEL if run.quick else FULL_MODEL
    budget = run.budget if run.quick or run.custom_budget else common.Budget(8, FULL_EPISODES // 8)
    pact = common.evaluator(run, model)
    dorefa = common.evaluator(run, model, weight_quantizer="dorefa", act_quantizer="dorefa")
    workload = get_workload(model)
    n = len(workload)
    w8 = [FIXED_BITS] * n
    bits = (2, 3, 4, 5, 6, 7, 8)
    reram = load_reram_spec(RERAM)
    eyeriss = load_spec(EYERISS)
    w8a8_tiles = evaluate_network(workload, reram, w8, w8).total["tiles"]
    lowest = [FIXED_BITS] + [min(bits)] * (n - 2) + [FIXED_BITS]
    fewest_tiles = evaluate_network(workload, reram, lowest, lowest).total["tiles"]
    skipped = []
    if fewest_tiles > max(THRESHOLDS) * w8a8_tiles and "tiles" in args.predictors:
        # no genome can meet any threshold: the agents would only ever earn benq's -1, so they are not run
        skipped.append(f"Tile agents not run for {model}: on {RERAM} it occupies {w8a8_tiles} tiles at W8A8 and "
                       f"still {fewest_tiles} at {min(bits)} bits (inner layers), above th x {w8a8_tiles} for every "
                       f"th in {THRESHOLDS}; benq's VGG needs --full.")
    w8a8_energy = api.evaluate(workload, eyeriss, w8, w8, level="fine").total["energy"]
    flow = Flow(model, run.dataset, pact, seed=run.seed, verbose=False)
    cache = flow.accuracy_cache
    predictors = {"tiles": (lambda: ReRAMProblem(model, reram, evaluator=pact, dataset=run.dataset,
                                                 objectives=("accuracy", "tiles"), bitwidths=bits,
                                                 fixed_bits=FIXED_BITS, accuracy_cache=cache, seed=run.seed),
                            w8a8_tiles, THRESHOLDS),
                  "energy": (lambda: FineProblem(model, eyeriss, evaluator=pact, dataset=run.dataset,
                                                 objectives=("accuracy", "energy"),
                                                 bitwidths=[b for b in bits if b in eyeriss.bitwidths],
                                                 fixed_bits=FIXED_BITS, accuracy_cache=cache, seed=run.seed),
                             w8a8_energy, (0.8,))}
    rows = {"tiles": [], "energy": []}
    per_seed = {"tiles": [], "energy": []}
    policies = {}
    for metric, (make_problem, reference, thresholds) in predictors.items():
        if metric not in args.predictors or (metric == "tiles" and skipped):
            continue
        for th in thresholds:
            for name in AGENT_NAMES:
                paper = PAPER_TABLE5.get((name, th), (None, None)) if metric == "tiles" else PAPER_TABLE6[name]
                for seed in run.seeds:
                    agent = AGENTS[name](budget.pop_size, reward="benq", reward_kwargs={"th": th}, cost=metric)
                    result = flow.search(make_problem(), agent, budget.n_gen, seed=seed,
                                         out=run.path(f"runs/{metric}-{name}-th{th}-s{seed}"), force=True)
                    pick = best_under(result.front, metric, th * reference)
                    row = {"mode": run.mode, "model": model, "method": LABEL[name], "th": th, "seed": seed,
                           "config": f"{LABEL[name]} th {th}",
                           "accuracy": None if pick is None else 100 * pick["metrics"]["accuracy"],
                           "accuracy_paper": paper[0], "cost": None if pick is None else pick["metrics"][metric],
                           "cost_vs_w8a8": None if pick is None else pick["metrics"][metric] / reference,
                           "cost_paper": paper[1], "episodes": result.data["n_evaluations"][-1],
                           "pick_found": pick is not None}
                    if metric == "tiles" and th == 0.8 and pick is not None:
                        vector = policy_vector(pick["bits_w"], pick["bits_a"])
                        policies.setdefault(name, vector)  # Fig. 4: the first seed's policy
                        row["manhattan_to_w8a8"] = manhattan_distance(vector, policy_vector(w8, w8))
                        row["manhattan_to_w8a8_paper"] = PAPER_MANHATTAN_TO_W8A8[name]
                    per_seed[metric].append(row)
        keep = ("mode", "model", "method", "th", "accuracy_paper", "cost_paper", "manhattan_to_w8a8_paper")
        rows[metric] += common.over_seeds(per_seed[metric], "config", ("accuracy", "cost", "cost_vs_w8a8",
                                                                       "manhattan_to_w8a8"), keep)
        for label, evaluator, key in (("PACT [W8A8]", pact, "pact"), ("DoReFa-Net [W8A8]", dorefa, "dorefa")):
            paper = PAPER_TABLE5[(key, 1.0)] if metric == "tiles" else PAPER_TABLE6[key]
            rows[metric].append({"mode": run.mode, "model": model, "method": label, "th": 1.0,
                                 "accuracy": 100 * evaluator.evaluate(w8, w8).psi, "accuracy_paper": paper[0],
                                 "cost": reference, "cost_vs_w8a8": 1.0, "cost_paper": paper[1]})
    acc = "psi %" if run.quick else "top-1 %"
    columns = [("method", "method", "s"), ("th", "th", ".1f"), (acc, "accuracy", ".2f"),
               ("paper top-1", "accuracy_paper", ".2f"), ("cost/W8A8", "cost_vs_w8a8", ".3f")]
    paths += common.write_table(run, "benq_table5", f"benq Table V layout: {model} on {RERAM}, #tiles (ours) vs "
                                f"#tiles (paper, VGG), {budget.pop_size} x {budget.n_gen} episodes per agent and seed",
                                columns + [("#tiles", "cost", ".1f"), ("paper", "cost_paper", ".0f"),
                                           ("L1 to W8A8", "manhattan_to_w8a8", ".1f"),
                                           ("paper", "manhattan_to_w8a8_paper", ".0f")], rows["tiles"],
                                csv_rows=per_seed["tiles"] + rows["tiles"][-2:])
    paths += common.write_table(run, "benq_table6", f"benq Table VI layout: {model} on {EYERISS} (normalised energy;"
                                f" paper: DNN-Chip Predictor, mJ)", columns + [("energy", "cost", ".4g"),
                                                                               ("paper mJ", "cost_paper", ".2f")],
                                rows["energy"], csv_rows=per_seed["energy"] + rows["energy"][-2:])
    names = [LABEL[k] for k in policies] + ["W8A8"]
    cos, man = similarity_matrices(list(policies.values()) + [policy_vector(w8, w8)])
    if len(names) > 1:
        plot_similarity(names, cos, man, run.path("benq_fig4.png"))
        paths.append(run.path("benq_fig4.png"))
    no_pick = sum(not r["pick_found"] for m in per_seed.values() for r in m)
    notes = tile_notes + skipped + [f"Agent runs whose evaluated genomes never met the threshold (no pick): "
                                    f"{no_pick} of {sum(len(m) for m in per_seed.values())}."]
    paths.append(common.write_notes(run, notes))
    paths.append(common.write_json(run.path("benq.json"), {
        "mode": run.mode, "model": model, "w8a8_tiles": w8a8_tiles, "w8a8_energy": w8a8_energy,
        "table5": rows["tiles"], "table6": rows["energy"], "per_seed": per_seed, "similarity_names": names,
        "cosine": cos, "manhattan": man, "tiles_reproduction": tile_rows}))
    common.finish(run, paths)
    return 0


if __name__ == "__main__":
    raise SystemExit(common.main_guard(main))
