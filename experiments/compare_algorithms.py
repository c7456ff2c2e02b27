"""Every search algorithm against random search at an equal evaluation budget, over several seeds (benq Tables V-VI,
Fig. 4 and the question they leave open: does any of it beat random?).

    python experiments/compare_algorithms.py --quick   # LeNet-5 on digits, loss-proxy accuracy, Coarse, 3 seeds
    python experiments/compare_algorithms.py --full    # ResNet-20 on digits, fine-tuned accuracy, Fine, 5 seeds

Random search, NSGA-II, SOGA, HAQ's DDPG, BenQ's PPO / VPG, ReLeQ and the weight-conditioned PPO (MOPPO, one policy
for the whole front) search the same problem definition (one Flow: one accuracy evaluator and cache) with the same
population and generations, i.e. the same evaluation budget, each over `--seeds` seeds. A run's seed is derived from
the seed index AND the algorithm's name, so algorithms do not share a first batch (PPO and VPG, NSGA-II and SOGA
would otherwise start from the same genomes); `--common-start` gives every algorithm the same seed instead.

Per algorithm: final hypervolume mean +- std over seeds, a one-sided Mann-Whitney U test against random search's
final hypervolumes and a bootstrap 95 % interval of the mean difference; the verdict "better" / "worse" needs both
(p <= 0.05 and an interval excluding 0), otherwise "not distinguishable from random". With 3 seeds the smallest
possible one-sided U-test p is 0.05. Written to --out:
    <algo>/seed<k>/    each run folder (results.json, plots, checkpoint)
    hypervolume.png    hypervolume vs evaluations: mean line and min-max band per algorithm, one figure
    similarity.png     benq Fig. 4-style cosine / Manhattan heatmaps of the best policies of seed index 0 (plus W8A8)
    compare.json       per algorithm and seed: HV curve, final HV, best accuracy under the cost threshold; summary
    compare.md         the table and the verdict text
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
import zlib
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
for path in (ROOT, ROOT / "experiments"):
    if str(path) not in sys.path:
        sys.path.insert(0, str(path))

from common import mean_std, pyplot, save_figure  # noqa: E402
from flowq.agents import AGENTS  # noqa: E402
from flowq.agents.rewards import hardware_metric, reference_genome  # noqa: E402
from flowq.agents.similarity import format_matrix, plot_similarity, policy_vector, similarity_matrices  # noqa: E402
from flowq.callbacks import dumps  # noqa: E402
from flowq.flow import Flow  # noqa: E402

ALGORITHMS = ("random", "nsga2", "soga", "ddpg", "ppo", "vpg", "releq", "moppo")
BASELINE = "random"
PRESETS = {
    # small nets for the agents keep --quick in minutes on 2 CPU cores; --full uses the papers' sizes
    "quick": dict(model="lenet5", evaluator="proxy", level="coarse", objectives=("accuracy", "bitops"),
                  cost="bitops", th=0.9, pop=6, gen=4, seeds=3,
                  agent_options={"ddpg": {"hidden": (64, 64), "warmup": 6},
                                 "ppo": {"hidden": (64, 64), "train_pi_iters": 20, "train_v_iters": 20},
                                 "vpg": {"hidden": (64, 64), "train_v_iters": 20}, "releq": {"lstm_hidden": 32},
                                 "moppo": {"hidden": (64, 64), "train_pi_iters": 20, "train_v_iters": 20}}),
    "full": dict(model="resnet20", evaluator="finetune", level="fine", objectives=("accuracy", "energy"),
                 cost="energy", th=0.8, pop=25, gen=24, seeds=5, agent_options={}),
}
#: th: cost threshold relative to W8A8 (benq eq. 1, HAQ's wall). benq's 0.8 admits no LeNet-5 genome: its first and
#: last layers stay at 16 bits, so even 2 bits everywhere else costs 0.84 x W8A8 bitops; --quick uses 0.9.
ALPHA = 0.05  # significance level of the verdict
N_BOOTSTRAP = 10000


def run_seed(name: str, index: int, common_start: bool = False) -> int:
    """The search seed of seed index `index` for algorithm `name`: the index itself with a common start, else a
    number derived from both (numpy SeedSequence of the index and a CRC of the name), so algorithms start apart."""
    if common_start:
        return int(index)
    return int(np.random.SeedSequence([int(index), zlib.crc32(name.encode())]).generate_state(1)[0])


def make_algorithm(name: str, pop: int, cost: str, th: float, options: dict):
    """A name for NSGA-II / SOGA / random search; an agent with its paper's reward and the cost threshold th (relative
    to W8A8) of benq eq. 1 / HAQ's wall."""
    if name in ("nsga2", "soga", "random"):
        return name
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


def hv_at(evaluations, n_evals, hypervolumes) -> np.ndarray:
    """A run's hypervolume after each number of `evaluations` (the HV of its last generation that had used no more;
    0 before its first), so runs that evaluate different counts per generation share one axis."""
    n_evals, hypervolumes = np.asarray(n_evals), np.asarray(hypervolumes, dtype=float)
    index = np.searchsorted(n_evals, np.asarray(evaluations), side="right") - 1
    return np.where(index >= 0, hypervolumes[np.maximum(index, 0)], 0.0)


def significance(values, baseline, rng: np.random.Generator) -> dict:
    """One algorithm's final HVs against the baseline's: one-sided Mann-Whitney U p-values (greater / less), the
    bootstrap 95 % interval of the mean difference, and the verdict."""
    from scipy.stats import mannwhitneyu

    a, b = np.asarray(values, dtype=float), np.asarray(baseline, dtype=float)
    p_greater = float(mannwhitneyu(a, b, alternative="greater").pvalue)
    p_less = float(mannwhitneyu(a, b, alternative="less").pvalue)
    diffs = rng.choice(a, (N_BOOTSTRAP, len(a))).mean(axis=1) - rng.choice(b, (N_BOOTSTRAP, len(b))).mean(axis=1)
    low, high = (float(q) for q in np.quantile(diffs, [0.025, 0.975]))
    if p_greater <= ALPHA and low > 0:
        verdict = "better than random"
    elif p_less <= ALPHA and high < 0:
        verdict = "worse than random"
    else:
        verdict = "not distinguishable from random"
    return {"p_greater": p_greater, "p_less": p_less, "diff_ci95": [low, high],
            "mean_diff": float(a.mean() - b.mean()), "verdict": verdict}


def run(preset: str = "quick", out="runs/compare", *, seed: int = 0, n_seeds: int | None = None,
        th: float | None = None, algorithms=ALGORITHMS, common_start: bool = False, pop: int | None = None,
        gen: int | None = None, verbose: bool = True) -> dict:
    """Run every algorithm over the seeds and write the comparison; returns the compare.json content."""
    cfg = PRESETS[preset]
    started, cpu_started = time.perf_counter(), time.process_time()
    pop = cfg["pop"] if pop is None else pop
    gen = cfg["gen"] if gen is None else gen
    n_seeds = cfg["seeds"] if n_seeds is None else n_seeds
    th = cfg["th"] if th is None else th
    algorithms = tuple(algorithms) if BASELINE in algorithms else (BASELINE,) + tuple(algorithms)
    out = Path(out)
    flow = Flow(cfg["model"], "digits", cfg["evaluator"], hw="spatial-256", dataflow="RS", seed=seed, out=out,
                verbose=False, tie=False)
    scratch = flow.problem(cfg["level"], objectives=cfg["objectives"])  # keeps W8A8 out of the runs' records
    reference = float(hardware_metric(scratch, reference_genome(scratch), cfg["cost"])[0])
    w8a8 = scratch.evaluate_metrics(reference_genome(scratch)[None, :])[0]
    runs: dict = {name: [] for name in algorithms}
    for index in range(seed, seed + n_seeds):
        for name in algorithms:
            start = time.perf_counter()
            extra = {"soga_threshold": 0.05} if name == "soga" else {}
            problem = flow.problem(cfg["level"], objectives=cfg["objectives"], **extra)
            algorithm = make_algorithm(name, pop, cfg["cost"], th, cfg["agent_options"].get(name, {}))
            s = run_seed(name, index, common_start)
            result = flow.search(problem, algorithm, gen, pop_size=pop, out=out / name / f"seed{index}", seed=s,
                                 force=True)
            row = {"seed_index": index, "seed": s, "n_evaluations": result.data["n_evaluations"],
                   "hypervolume": result.hypervolume, "final_hypervolume": result.hypervolume[-1],
                   "n_distinct_genomes": len(result.problem.records), "seconds": time.perf_counter() - start,
                   "best_under_th": best_under_threshold(result.problem, cfg["cost"], reference, th)}
            runs[name].append(row)
            if verbose:
                print(f"seed {index} {name:6s} HV {row['final_hypervolume']:.4f}  evals {row['n_evaluations'][-1]:4d}"
                      f"  ({row['seconds']:.1f} s)", flush=True)
    summary = summarise(runs, seed)
    text = report(summary, cfg, pop, gen, n_seeds, th, common_start)
    text += "\n\n" + run_record(preset, pop, gen, n_seeds, seed, time.perf_counter() - started,
                                 time.process_time() - cpu_started)
    names = [n for n in algorithms if runs[n][0]["best_under_th"] is not None]
    policies = [policy_vector(runs[n][0]["best_under_th"]["bits_w"], runs[n][0]["best_under_th"]["bits_a"])
                for n in names]
    names.append("W8A8")  # every searched layer at 8 bits, the fixed first/last layers as in the runs
    policies.append(policy_vector(*scratch.genome.decode(reference_genome(scratch))))
    cos, man = similarity_matrices(policies)
    plot_curves(runs, out / "hypervolume.png", f"{cfg['model']} {cfg['level']}, pop {pop} x {gen} gen, "
                f"{n_seeds} seeds")
    plot_similarity(names, cos, man, out / "similarity.png")
    data = {"preset": preset, "model": cfg["model"], "level": cfg["level"], "objectives": list(cfg["objectives"]),
            "cost": cfg["cost"], "th": th, "pop": pop, "gen": gen, "seeds": list(range(seed, seed + n_seeds)),
            "common_start": common_start, "w8a8": {"accuracy": w8a8.get("accuracy"), "cost_ratio": 1.0},
            "summary": summary, "runs": runs, "similarity": {"names": names, "cosine": cos, "manhattan": man}}
    (out / "compare.json").write_text(dumps(data))
    (out / "compare.md").write_text(text + "\n")
    if verbose:
        print("\n" + text)
        print("\ncosine similarity (seed index 0)\n" + format_matrix(names, cos))
        print("\nManhattan distance [bits]\n" + format_matrix(names, man, "{:.0f}"))
        print(f"\nwrote {out / 'compare.json'}, {out / 'compare.md'}, {out / 'hypervolume.png'}, "
              f"{out / 'similarity.png'}")
    return json.loads(dumps(data))


def summarise(runs: dict, seed: int) -> dict:
    """Per algorithm: final HV mean / std / values, evaluations, best accuracy under th, and the test against random."""
    rng = np.random.default_rng(seed)
    baseline = [r["final_hypervolume"] for r in runs[BASELINE]]
    summary = {}
    for name, rows in runs.items():
        finals = [r["final_hypervolume"] for r in rows]
        mean, std = mean_std(finals)
        accuracy = mean_std([r["best_under_th"]["accuracy"] if r["best_under_th"] else None for r in rows])
        summary[name] = {"hv_mean": mean, "hv_std": std, "hv": finals,
                         "n_evaluations": max(r["n_evaluations"][-1] for r in rows),
                         "best_accuracy_under_th_mean": accuracy[0], "best_accuracy_under_th_std": accuracy[1]}
        if name != BASELINE:
            summary[name].update(significance(finals, baseline, rng))
    return summary


def report(summary: dict, cfg: dict, pop: int, gen: int, n_seeds: int, th: float, common_start: bool) -> str:
    """The comparison table (markdown) and the plain verdict."""
    lines = [f"{cfg['model']} at {cfg['level']}, objectives {', '.join(cfg['objectives'])}, {cfg['evaluator']} "
             f"accuracy, pop {pop} x {gen} generations (<= {pop * gen} evaluations), {n_seeds} seeds"
             f"{' (common start)' if common_start else ''}; U test one-sided, alpha {ALPHA}.", "",
             f"| algorithm | final HV mean +- std | evals | best top-1 with {cfg['cost']} <= {th} x W8A8 [%] | "
             f"p (better) | p (worse) | mean diff [95 % CI] | verdict |", "|---|---|---|---|---|---|---|---|"]
    for name, row in summary.items():
        acc = "-" if row["best_accuracy_under_th_mean"] is None else \
            f"{100 * row['best_accuracy_under_th_mean']:.2f} +- {100 * row['best_accuracy_under_th_std']:.2f}"
        if name == BASELINE:
            test = "- | - | - | baseline"
        else:
            low, high = row["diff_ci95"]
            test = (f"{row['p_greater']:.3f} | {row['p_less']:.3f} | {row['mean_diff']:+.3f} [{low:+.3f}, "
                    f"{high:+.3f}] | {row['verdict']}")
        lines.append(f"| {name} | {row['hv_mean']:.3f} +- {row['hv_std']:.3f} | {row['n_evaluations']} | {acc} | "
                     f"{test} |")
    better = [n for n, r in summary.items() if r.get("verdict") == "better than random"]
    worse = [n for n, r in summary.items() if r.get("verdict") == "worse than random"]
    lines.append("")
    if better:
        lines.append(f"Better than random search at this budget: {', '.join(better)}.")
    else:
        lines.append("Nothing beats random search at this budget: no algorithm's hypervolume is significantly "
                     "higher than random search's.")
    if worse:
        lines.append(f"Significantly worse than random search: {', '.join(worse)}.")
    if n_seeds <= 3:
        lines.append(f"With {n_seeds} seeds a one-sided U test cannot go below p = "
                     f"{1 / _n_orderings(n_seeds):.3f}: use more seeds (--seeds) to separate algorithms.")
    return "\n".join(lines)


def run_record(preset: str, pop: int, gen: int, n_seeds: int, seed: int, wall: float, cpu: float) -> str:
    """One italic line: when, what, on which commit, how long, at which load (timings on a shared machine)."""
    try:
        commit = subprocess.run(["git", "rev-parse", "--short=10", "HEAD"], cwd=ROOT, capture_output=True,
                                text=True, timeout=10).stdout.strip() or "unknown"
    except (OSError, subprocess.SubprocessError):
        commit = "unknown"
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    return (f"*Run {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}: `compare_algorithms.py --{preset} --pop {pop} "
            f"--gen {gen} --seeds {n_seeds} --seed {seed}`; commit {commit}; {os.cpu_count()} cores; "
            f"wall {wall:.0f} s, CPU {cpu:.0f} s (this process), load {load:.1f}.*")


def _n_orderings(n: int) -> int:
    from math import comb

    return comb(2 * n, n)


def plot_curves(runs: dict, path: Path, title: str) -> None:
    """Hypervolume vs evaluations: per algorithm the mean over seeds (line) and the min-max band."""
    plt = pyplot()
    fig, ax = plt.subplots(figsize=(7, 4.5))
    top = max(max(r["n_evaluations"]) for rows in runs.values() for r in rows)
    grid = np.arange(1, top + 1)
    for name, rows in runs.items():
        first = min(r["n_evaluations"][0] for r in rows)
        x = grid[grid >= first]
        curves = np.stack([hv_at(x, r["n_evaluations"], r["hypervolume"]) for r in rows])
        style = dict(color="black", lw=2.2) if name == BASELINE else dict(lw=1.4)
        line, = ax.plot(x, curves.mean(axis=0), label=name, **style)
        ax.fill_between(x, curves.min(axis=0), curves.max(axis=0), color=line.get_color(), alpha=0.15)
    ax.set_xlabel("evaluations")
    ax.set_ylabel("hypervolume (mean, min-max band over seeds)")
    ax.set_title(title, fontsize=9)
    ax.legend(fontsize=8, ncol=2)
    save_figure(fig, path, dpi=120)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument("--quick", action="store_true", help="LeNet-5, loss proxy, Coarse, 3 seeds (default)")
    mode.add_argument("--full", action="store_true", help="ResNet-20, fine-tuning, Fine level, 5 seeds")
    parser.add_argument("--out", default="runs/compare")
    parser.add_argument("--seed", type=int, default=0, help="first seed index")
    parser.add_argument("--seeds", type=int, default=None, help="seeds per algorithm (quick 3, full 5)")
    parser.add_argument("--pop", type=int, default=None, help="population / episodes per generation")
    parser.add_argument("--gen", type=int, default=None, help="generations")
    parser.add_argument("--th", type=float, default=None,
                        help="cost threshold relative to W8A8 (benq: 0.8; default quick 0.9, full 0.8)")
    parser.add_argument("--algos", default=",".join(ALGORITHMS), help="comma-separated subset (random is always run)")
    parser.add_argument("--common-start", action="store_true",
                        help="every algorithm gets the same seed (same first batch where they sample alike)")
    args = parser.parse_args(argv)
    algorithms = tuple(a.strip() for a in args.algos.split(",") if a.strip())
    unknown = [a for a in algorithms if a not in ALGORITHMS]
    if unknown:
        parser.error(f"unknown algorithms {unknown}; allowed: {', '.join(ALGORITHMS)}")
    for name in ("seeds", "pop", "gen"):
        value = getattr(args, name)
        if value is not None and value < (2 if name == "pop" else 1):
            parser.error(f"--{name} {value}: too small")
    if args.seed < 0:
        parser.error("--seed must be >= 0")
    run("full" if args.full else "quick", args.out, seed=args.seed, n_seeds=args.seeds, th=args.th,
        algorithms=algorithms, common_start=args.common_start, pop=args.pop, gen=args.gen)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
