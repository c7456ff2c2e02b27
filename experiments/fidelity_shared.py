"""Fidelity of `--evaluator shared`: its psi ranks random genomes as 1-epoch fine-tuning does, and its fronts hold up.

Part 1 (rank): `--genomes` random genomes per model (first/last layers at 16 bits as the searches fix them, every
other b_W and b_A drawn independently from 2..8), each measured by the shared evaluator and by `finetune` with one
epoch. Reports Kendall tau and Spearman rho of the two psi lists, the top-5 overlap (|top5(shared) & top5(finetune)|
/ 5) and the per-candidate seconds of both (median; the shared one excludes its one-off network training, which is
reported beside the float network's training time).
Part 2 (front, `--front`): a Coarse search (objectives accuracy, frac_ops; `--pop`, `--gens`) with the shared
evaluator; its final front re-measured with `finetune`; against a `finetune` search given the same wall time
(shared search + shared-network training). HV of both with the fixed reference point (1.1, 1.1), and their ratio.
Writes fidelity.md / .csv (the table; the CSV has one row per genome), front.md / .csv, notes.md, fidelity.json and
env.json / env.md into --out (default experiments/results/fidelity_shared/). ResNets run on 16 px digits as in every
--quick experiment (`common.QUICK_IMAGE_SIZE`) unless --image-size says otherwise.

    python experiments/fidelity_shared.py --models lenet5,resnet20 --genomes 40 --front --pop 8 --gens 4
"""

from __future__ import annotations

import random
import statistics
import time

import numpy as np

import common
from hwmodels.errors import FlowQError

LOW_BITS, HIGH_BITS, EDGE_BITS = 2, 8, 16
TOP_K = 5
REF_POINT = (1.1, 1.1)


def random_genomes(n_layers: int, count: int, seed: int) -> list:
    """`count` distinct (bits_w, bits_a): first/last layers at 16 bits, the others uniform in 2..8, independent."""
    rng, seen, genomes = random.Random(seed), set(), []
    while len(genomes) < count:
        bw, ba = ([EDGE_BITS] + [rng.randint(LOW_BITS, HIGH_BITS) for _ in range(n_layers - 2)] + [EDGE_BITS]
                  for _ in range(2))
        if (tuple(bw), tuple(ba)) not in seen:
            seen.add((tuple(bw), tuple(ba)))
            genomes.append((bw, ba))
    return genomes


def graded_genomes(n_layers: int, count: int, seed: int) -> list:
    """`count` genomes with a real quality spread: genome k draws its inner b_W and b_A from {b_k, b_k + 1} with
    b_k = 2, 3, ..., 7 in turn (first/last layers at 16 bits), so psi differs by more than the split's noise."""
    rng, genomes = random.Random(seed), []
    for k in range(count):
        low = LOW_BITS + k % (HIGH_BITS - LOW_BITS)
        genomes.append(tuple([EDGE_BITS] + [rng.randint(low, low + 1) for _ in range(n_layers - 2)] + [EDGE_BITS]
                             for _ in range(2)))
    return genomes


GENOME_SETS = {"random": random_genomes, "graded": graded_genomes}


def rank_agreement(a, b, k: int = TOP_K) -> dict:
    """Kendall tau-b, Spearman rho and top-k overlap (fraction of k) of two score lists (higher = better)."""
    from scipy.stats import kendalltau, spearmanr

    top = lambda values: set(np.argsort(-np.asarray(values), kind="stable")[:k].tolist())  # noqa: E731
    return {"kendall_tau": float(kendalltau(a, b).statistic), "spearman_rho": float(spearmanr(a, b).statistic),
            "top5_overlap": len(top(a) & top(b)) / k}


def evaluators(run, model: str, shared_kwargs: dict | None = None, image_size: int | None = None,
               epochs: float = 1.0):
    """(shared evaluator, `epochs`-epoch fine-tune evaluator) on the same float network (`image_size` px digits)."""
    from flowq.accuracy import FineTuneEvaluator
    from flowq.shared_eval import SharedEvaluator

    options = dict(seed=run.seed, device=run.device, data_root=run.data_dir, image_size=image_size)
    built = (SharedEvaluator(model, run.dataset, **options, **(shared_kwargs or {})),
             FineTuneEvaluator(model, run.dataset, epochs=epochs, **options))
    common._EVALUATORS.extend({"threads": e.threads, "device": e.device} for e in built)  # for env.json
    return built


def fidelity(run, model: str, n_genomes: int, shared_kwargs: dict | None = None,
             image_size: int | None = None, retest_epochs: float | None = None,
             genome_set: str = "random") -> tuple[dict, list]:
    """Rank agreement of shared vs 1-epoch fine-tune psi over `n_genomes` random genomes of `model`; with
    `retest_epochs`, also of the 1-epoch fine-tune against a fine-tune of that length (how stable the reference's
    own ranking is).

    Returns:
        (summary row, per-genome rows).
    """
    shared, finetune = evaluators(run, model, shared_kwargs, image_size)
    retest = None if retest_epochs is None else evaluators(run, model, None, image_size, retest_epochs)[1]
    shared.prepare()
    rows = []
    for index, (bw, ba) in enumerate(GENOME_SETS[genome_set](shared.n_layers, n_genomes, run.seed)):
        s, f = shared.evaluate(bw, ba), finetune.evaluate(bw, ba)
        rows.append({"model": model, "set": genome_set, "genome": index, "psi_shared": s.psi, "psi_finetune": f.psi,
                     "loss_shared": s.loss, "loss_finetune": f.loss, "seconds_shared": s.seconds,
                     "seconds_finetune": f.seconds, "failed": s.failed or f.failed,
                     "bits_w": " ".join(map(str, bw)), "bits_a": " ".join(map(str, ba))})
        if retest is not None:
            rows[-1]["psi_finetune_retest"] = retest.evaluate(bw, ba).psi
        print(f"  {model} {genome_set} genome {index + 1}/{n_genomes}: shared {100 * s.psi:.2f} % ({s.seconds:.2f} s), "
              f"finetune {100 * f.psi:.2f} % ({f.seconds:.1f} s)", flush=True)
    ok = [r for r in rows if not r["failed"]]
    per_shared = statistics.median(r["seconds_shared"] for r in ok)
    per_finetune = statistics.median(r["seconds_finetune"] for r in ok)
    shared_train = shared.shared_metrics["train_seconds"]
    float_train = float(shared._state.float_metrics.get("train_seconds", float("nan")))
    summary = {"model": model, "set": genome_set, "image_size": image_size or 32, "genomes": len(ok),
               **rank_agreement([r["psi_shared"] for r in ok], [r["psi_finetune"] for r in ok]),
               "loss_kendall_tau": rank_agreement([-r["loss_shared"] for r in ok],
                                                  [-r["loss_finetune"] for r in ok])["kendall_tau"],
               "distinct_psi_finetune": len({r["psi_finetune"] for r in ok}),
               "psi_shared_mean": statistics.mean(r["psi_shared"] for r in ok),
               "psi_finetune_mean": statistics.mean(r["psi_finetune"] for r in ok),
               "s_per_candidate_shared": per_shared, "s_per_candidate_finetune": per_finetune,
               "speedup": per_finetune / per_shared, "shared_train_s": shared_train, "float_train_s": float_train,
               "shared_over_float_train": shared_train / float_train, "shared": shared.identity(float_weights=False)}
    if retest is not None:
        summary["retest_epochs"] = retest_epochs
        summary["retest_kendall_tau"] = rank_agreement([r["psi_finetune"] for r in ok],
                                                       [r["psi_finetune_retest"] for r in ok])["kendall_tau"]
        summary["shared_vs_retest_tau"] = rank_agreement([r["psi_shared"] for r in ok],
                                                         [r["psi_finetune_retest"] for r in ok])["kendall_tau"]
    return summary, rows


def front_quality(run, model: str, shared_kwargs: dict | None = None,
                  image_size: int | None = None) -> tuple[dict, list]:
    """HV of the shared search's front re-measured with fine-tuning vs a fine-tune search of the same wall time.

    Both searches run cold (their evaluators skip the persistent result cache, so earlier runs' fine-tunes cost their
    time again); the re-measurement reads it."""
    import copy

    from flowq.flow import Flow
    from flowq.pareto import hypervolume, non_dominated

    budget = run.budget
    shared, finetune = evaluators(run, model, shared_kwargs, image_size)
    shared.prepare()
    cold_shared, cold_finetune = copy.copy(shared), copy.copy(finetune)
    cold_shared.use_result_cache = cold_finetune.use_result_cache = False
    kwargs = dict(hw="spatial-256", dataflow="RS", seed=run.seed, verbose=False, objectives=("accuracy", "frac_ops"))
    start = time.perf_counter()
    found = Flow(model, run.dataset, cold_shared, **kwargs).search("coarse", "nsga2", budget.n_gen,
                                                             pop_size=budget.pop_size, seed=run.seed)
    wall = time.perf_counter() - start + shared.shared_metrics["train_seconds"]
    rows, remeasured = [], []
    for solution in found.front:
        f = finetune.evaluate(solution["bits_w"], solution["bits_a"])
        remeasured.append([1.0 - f.psi, solution["F"][1]])
        rows.append({"model": model, "search": "shared", "psi_search": solution["metrics"]["accuracy"],
                     "psi_finetune": f.psi, "frac_ops_F": solution["F"][1]})
    start = time.perf_counter()
    baseline = Flow(model, run.dataset, cold_finetune, **kwargs).search(
        "coarse", "nsga2", 10 ** 6, pop_size=budget.pop_size, seed=run.seed, deadline=start + wall)
    baseline_wall = time.perf_counter() - start
    for solution in baseline.front:
        rows.append({"model": model, "search": "finetune", "psi_search": solution["metrics"]["accuracy"],
                     "psi_finetune": solution["metrics"]["accuracy"], "frac_ops_F": solution["F"][1]})
    F_shared = np.asarray(remeasured, dtype=float).reshape(-1, 2)
    F_shared = F_shared[non_dominated(F_shared)] if len(F_shared) else F_shared
    F_base = np.asarray([s["F"][:2] for s in baseline.front], dtype=float).reshape(-1, 2)
    hv_shared, hv_base = hypervolume(F_shared, REF_POINT), hypervolume(F_base, REF_POINT)
    summary = {"model": model, "image_size": image_size or 32, "pop": budget.pop_size, "shared_gens": budget.n_gen,
               "finetune_gens": len(baseline.hypervolume), "shared_wall_s": wall, "finetune_wall_s": baseline_wall,
               "hv_shared_remeasured": hv_shared, "hv_finetune": hv_base,
               "hv_ratio": hv_shared / hv_base if hv_base > 0 else float("nan"),
               "shared_evaluations": found.data["n_accuracy_evaluations"],
               "finetune_evaluations": baseline.data["n_accuracy_evaluations"]}
    return summary, rows


def main(argv=None) -> int:
    def extra(parser):
        parser.add_argument("--models", default="lenet5,resnet20", help="comma-separated model names")
        parser.add_argument("--genomes", type=int, default=40, help="random genomes per model (>= 6)")
        parser.add_argument("--graded", type=int, default=0,
                            help="also this many graded genomes per model (inner bits in {b, b+1}, b = 2..7)")
        parser.add_argument("--front", action="store_true", help="also run the front-quality comparison")
        parser.add_argument("--front-models", default=None, help="models of the front comparison (default --models)")
        parser.add_argument("--shared-epochs", type=float, default=None, help="shared-network training epochs")
        parser.add_argument("--shared-finetune", type=int, default=None, help="SGD steps per shared candidate")
        parser.add_argument("--calibration-images", type=int, default=None, help="BatchNorm re-estimation images")
        parser.add_argument("--retest-epochs", type=float, default=None,
                            help="also fine-tune each genome this many epochs: tau of the reference against itself")
        parser.add_argument("--image-size", type=int, default=None,
                            help="digits image side in px for every model (default: 16 for ResNets, else 32)")

    run, args = common.parse_args("fidelity_shared", __doc__.splitlines()[0], argv, extra)
    if args.genomes < 6 or args.graded and args.graded < 6:
        raise FlowQError(f"--genomes {args.genomes} / --graded {args.graded}: give >= 6 (top-5 overlap and rank "
                         f"statistics need a few)")
    shared_kwargs = {key: value for key, value in (("shared_epochs", args.shared_epochs),
                                                   ("finetune_steps", args.shared_finetune),
                                                   ("calibration_images", args.calibration_images))
                     if value is not None}
    summaries, rows, fronts, front_rows = [], [], [], []
    models = [m.strip() for m in args.models.split(",") if m.strip()]
    size = lambda model: args.image_size or common.QUICK_IMAGE_SIZE.get(model)  # noqa: E731 (16 px ResNets)
    for model in models:
        for genome_set, count in (("random", args.genomes), ("graded", args.graded)):
            if count:
                retest = args.retest_epochs if genome_set == "random" else None  # the set only
                summary, model_rows = fidelity(run, model, count, shared_kwargs, size(model), retest, genome_set)
                summaries.append(summary)
                rows += model_rows
    columns = [("model", "model", "s"), ("px", "image_size", "d"), ("genomes", "set", "s"), ("n", "genomes", "d"),
               ("Kendall tau", "kendall_tau", ".3f"), ("Spearman rho", "spearman_rho", ".3f"),
               ("top-5 overlap", "top5_overlap", ".2f"), ("tau on loss", "loss_kendall_tau", ".3f"),
               ("distinct finetune psi", "distinct_psi_finetune", "d"),
               ("finetune 1 vs 2 epochs tau", "retest_kendall_tau", ".3f"),
               ("s/cand shared", "s_per_candidate_shared", ".3f"),
               ("s/cand finetune", "s_per_candidate_finetune", ".2f"), ("speed-up", "speedup", ".1f"),
               ("float training s", "float_train_s", ".0f"), ("shared training s", "shared_train_s", ".0f"),
               ("shared / float training", "shared_over_float_train", ".2f")]
    paths = common.write_table(run, "fidelity", "shared vs 1-epoch fine-tune psi on random genomes (bits 2-8, "
                               "first/last 16)", columns, summaries, rows)
    if args.front:
        for model in [m.strip() for m in (args.front_models or args.models).split(",") if m.strip()]:
            summary, model_rows = front_quality(run, model, shared_kwargs, size(model))
            fronts.append(summary)
            front_rows += model_rows
        paths += common.write_table(run, "front", "front quality: shared search re-measured by fine-tuning vs a "
                                    "fine-tune search of the same wall time (HV, ref 1.1)", [
                                        ("model", "model", "s"), ("px", "image_size", "d"), ("pop", "pop", "d"),
                                        ("shared gens", "shared_gens", "d"), ("finetune gens", "finetune_gens", "d"),
                                        ("wall s (incl. shared training)", "shared_wall_s", ".0f"),
                                        ("HV shared, re-measured", "hv_shared_remeasured", ".4f"),
                                        ("HV finetune", "hv_finetune", ".4f"), ("ratio", "hv_ratio", ".3f")],
                                    fronts, front_rows)
    paths.append(common.write_notes(run, notes(summaries, fronts)))
    paths.append(common.write_json(run.path("fidelity.json"), {"mode": run.mode, "fidelity": summaries,
                                                               "front": fronts}))
    common.finish(run, paths)
    return 0


def notes(summaries: list, fronts: list) -> list:
    """Computed statements on the fidelity and front tables."""
    lines = []
    for s in summaries:
        name = f"{s['model']}, {s['set']} genomes"
        line = (f"{name}: Kendall tau {s['kendall_tau']:.3f} (target 0.7), Spearman rho {s['spearman_rho']:.3f}, "
                f"top-5 overlap {s['top5_overlap']:.2f} over {s['genomes']} genomes; the 1-epoch fine-tune psi "
                f"takes {s['distinct_psi_finetune']} distinct values (mean {100 * s['psi_finetune_mean']:.2f} %, "
                f"shared mean {100 * s['psi_shared_mean']:.2f} %)")
        if "retest_kendall_tau" in s:
            line += (f"; the reference against itself ({s['retest_epochs']:g}-epoch fine-tune) reaches tau "
                     f"{s['retest_kendall_tau']:.3f}, shared against that one {s['shared_vs_retest_tau']:.3f}")
        lines.append(line + ".")
        lines.append(f"{name}: a shared candidate costs {s['s_per_candidate_shared']:.3f} s, a 1-epoch fine-tune "
                     f"{s['s_per_candidate_finetune']:.2f} s (median): {s['speedup']:.1f}x (target 20x); the shared "
                     f"network trained in {s['shared_train_s']:.0f} s = {s['shared_over_float_train']:.2f}x the "
                     f"float network's {s['float_train_s']:.0f} s (target <= 5x).")
    for f in fronts:
        lines.append(f"{f['model']}: the shared search's front re-measured by fine-tuning has HV "
                     f"{f['hv_shared_remeasured']:.4f}, {100 * f['hv_ratio']:.1f} % of the fine-tune search's "
                     f"{f['hv_finetune']:.4f} in the same {f['shared_wall_s']:.0f} s ({f['shared_gens']} vs "
                     f"{f['finetune_gens']} generations of {f['pop']}; target 95 %).")
    return lines


if __name__ == "__main__":
    raise SystemExit(common.main_guard(main))
