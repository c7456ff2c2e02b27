"""NSGA-II, SOGA, DDPG, PPO, VPG and ReLeQ on one problem with one evaluation budget (benq Tables V-VI, Fig. 4).

    python experiments/compare_algorithms.py --quick   # LeNet-5 on digits, loss-proxy accuracy, Coarse: minutes
    python experiments/compare_algorithms.py --full    # ResNet-20 on digits, fine-tuned accuracy, Fine level

Every algorithm searches the same problem definition (one Flow, so one accuracy evaluator and cache) for the
same number of generations of the same size, i.e. the same evaluation budget. Written to --out:
    <algo>/            each run folder (results.json, plots, checkpoint)
    hypervolume.png    hypervolume vs evaluations of every algorithm on one plot
    similarity.png     benq Fig. 4-style cosine / Manhattan heatmaps of the best policies (plus W8A8)
    compare.json       final hypervolume, best accuracy under the cost threshold (benq Table V layout), matrices
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from flowq.agents import AGENTS  # noqa: E402
from flowq.agents.rewards import hardware_metric, reference_genome  # noqa: E402
from flowq.agents.similarity import format_matrix, plot_similarity, policy_vector, similarity_matrices  # noqa: E402
from flowq.callbacks import dumps  # noqa: E402
from flowq.flow import Flow  # noqa: E402

ALGORITHMS = ("nsga2", "soga", "ddpg", "ppo", "vpg", "releq")
PRESETS = {
    # small nets for the agents keep --quick in minutes on 2 CPU cores; --full uses the papers' sizes
    "quick": dict(model="lenet5", evaluator="proxy", level="coarse", objectives=("accuracy", "bitops"),
                  cost="bitops", pop=6, gen=4, agent_options={"ddpg": {"hidden": (64, 64), "warmup": 6},
                                                              "ppo": {"hidden": (64, 64)}, "vpg": {"hidden": (64, 64)},
                                                              "releq": {"lstm_hidden": 32}}),
    "full": dict(model="resnet20", evaluator="finetune", level="fine", objectives=("accuracy", "energy"),
                 cost="energy", pop=25, gen=24, agent_options={}),
}


def make_agent(name: str, pop: int, cost: str, th: float, options: dict):
    """The agent with its paper's reward; the cost threshold th (relative to W8A8) of benq eq. 1 / HAQ's wall."""
    kwargs = dict(options)
    if name == "ddpg":
        kwargs.update(reward="haq", wall=th)
    elif name in ("ppo", "vpg"):
        kwargs.update(reward="benq", reward_kwargs={"th": th})
    return AGENTS[name](pop, cost=cost, **kwargs)


def best_under_threshold(problem, cost: str, reference: float, th: float) -> dict | None:
    """Highest-accuracy genome the search evaluated whose cost <= th * cost_W8A8 (benq Tables V-VI)."""
    best = None
    for record in problem.records.values():
        metrics = record["metrics"]
        ratio = metrics[cost] / reference
        if ratio <= th and "accuracy" in metrics and (best is None or metrics["accuracy"] > best["accuracy"]):
            best = {"accuracy": metrics["accuracy"], "cost_ratio": ratio, "bits_w": record["bits_w"],
                    "bits_a": record["bits_a"]}
    return best


def run(preset: str = "quick", out="runs/compare", *, seed: int = 0, th: float = 0.8, algorithms=ALGORITHMS,
        verbose: bool = True) -> dict:
    """Run every algorithm and write the comparison; returns the compare.json content."""
    cfg = PRESETS[preset]
    out = Path(out)
    flow = Flow(cfg["model"], "digits", cfg["evaluator"], hw="spatial-256", dataflow="RS", seed=seed, out=out,
                verbose=False, tie=False)
    rows, curves = {}, {}
    reference = None
    for name in algorithms:
        start = time.perf_counter()
        extra = {"soga_threshold": 0.05} if name == "soga" else {}
        problem = flow.problem(cfg["level"], objectives=cfg["objectives"], **extra)
        if reference is None:
            reference = float(hardware_metric(problem, reference_genome(problem), cfg["cost"])[0])
            scratch = flow.problem(cfg["level"], objectives=cfg["objectives"])  # keeps W8A8 out of the runs' records
            w8a8 = scratch.evaluate_metrics(reference_genome(scratch)[None, :])[0]
        algorithm = name if name in ("nsga2", "soga") else make_agent(name, cfg["pop"], cfg["cost"], th,
                                                                       cfg["agent_options"].get(name, {}))
        result = flow.search(problem, algorithm, cfg["gen"], pop_size=cfg["pop"], out=out / name, seed=seed,
                             force=True)
        best = best_under_threshold(result.problem, cfg["cost"], reference, th)
        rows[name] = {"final_hypervolume": result.hypervolume[-1], "n_evaluations": result.data["n_evaluations"][-1],
                      "n_distinct_genomes": len(result.problem.records), "best_under_th": best,
                      "seconds": time.perf_counter() - start}
        curves[name] = (result.data["n_evaluations"], result.hypervolume)
        if verbose:
            acc = "-" if best is None else f"{100 * best['accuracy']:.2f}% at {best['cost_ratio']:.3f} x W8A8"
            print(f"{name:6s} HV {result.hypervolume[-1]:.5f}  evals {rows[name]['n_evaluations']:4d}  "
                  f"best under th: {acc}  ({rows[name]['seconds']:.1f} s)", flush=True)
    names = [n for n in algorithms if rows[n]["best_under_th"] is not None]
    policies = [policy_vector(rows[n]["best_under_th"]["bits_w"], rows[n]["best_under_th"]["bits_a"]) for n in names]
    names.append("W8A8")  # every searched layer at 8 bits, the fixed first/last layers as in the runs
    policies.append(policy_vector(*scratch.genome.decode(reference_genome(scratch))))
    cos, man = similarity_matrices(policies)
    _plot_hv(curves, out / "hypervolume.png")
    plot_similarity(names, cos, man, out / "similarity.png")
    data = {"preset": preset, "model": cfg["model"], "level": cfg["level"], "objectives": list(cfg["objectives"]),
            "cost": cfg["cost"], "th": th, "pop": cfg["pop"], "gen": cfg["gen"], "seed": seed,
            "w8a8": {"accuracy": w8a8.get("accuracy"), "cost_ratio": 1.0}, "algorithms": rows,
            "similarity": {"names": names, "cosine": cos, "manhattan": man}}
    (out / "compare.json").write_text(dumps(data))
    if verbose:
        print(f"\nbest accuracy with {cfg['cost']} <= {th} x W8A8 (benq Table V layout)")
        print(f"{'method':8s} {'top-1 [%]':>10s} {'cost / W8A8':>12s}")
        for name in algorithms:
            best = rows[name]["best_under_th"]
            acc = "-" if best is None else f"{100 * best['accuracy']:.2f}"
            ratio = "-" if best is None else f"{best['cost_ratio']:.3f}"
            print(f"{name:8s} {acc:>10s} {ratio:>12s}")
        print(f"{'W8A8':8s} {100 * w8a8['accuracy']:10.2f} {1.0:12.3f}")
        print("\ncosine similarity\n" + format_matrix(names, cos))
        print("\nManhattan distance [bits]\n" + format_matrix(names, man, "{:.0f}"))
        print(f"\nwrote {out / 'compare.json'}, {out / 'hypervolume.png'}, {out / 'similarity.png'}")
    return json.loads(dumps(data))


def _plot_hv(curves: dict, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6, 4))
    for name, (evals, hv) in curves.items():
        ax.plot(evals, hv, marker="o", ms=3, label=name)
    ax.set_xlabel("evaluations")
    ax.set_ylabel("hypervolume")
    ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument("--quick", action="store_true", help="LeNet-5, loss proxy, Coarse (default)")
    mode.add_argument("--full", action="store_true", help="ResNet-20, fine-tuning, Fine level")
    parser.add_argument("--out", default="runs/compare")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--th", type=float, default=0.8, help="cost threshold relative to W8A8 (benq: 0.8)")
    parser.add_argument("--algos", default=",".join(ALGORITHMS), help="comma-separated subset")
    args = parser.parse_args(argv)
    algorithms = tuple(a.strip() for a in args.algos.split(",") if a.strip())
    unknown = [a for a in algorithms if a not in ALGORITHMS]
    if unknown:
        parser.error(f"unknown algorithms {unknown}; allowed: {', '.join(ALGORITHMS)}")
    run("full" if args.full else "quick", args.out, seed=args.seed, th=args.th, algorithms=algorithms)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
