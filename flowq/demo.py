"""`make demo` / `flowq demo`: a Coarse -> Mid -> Fine search of ResNet-20 on digits that really searches, in about
nine minutes on two CPU cores.

    flowq demo --out runs/demo                   # --evaluator shared (default) | proxy | finetune, --budget SECONDS

What it runs, in order (each phase prints a line when it starts and ends):
1. one-off work: the float network, then (evaluator "shared") the weight-sharing any-precision network
   (`flowq.shared_eval`), both trained once and cached for later runs; each level's 16-bit hardware baseline (numba
   compiles the hardware kernels on a machine's first run);
2. Coarse, Mid and Fine NSGA-II searches (hw-flowq 3.1 refinement: Frac.OPs <= 50 % of 16-bit before Mid, DRAM
   traffic <= 60 % before Fine), `DEMO_GENS` generations each, psi read off the shared network; each level has a
   share of the time left after step 1 and fits its generations into it by shrinking the population before it
   skips a generation (`flowq.budget`);
3. the Fine front re-measured with real fine-tuning (`FineTuneEvaluator`, `DEMO_REMEASURE_EPOCHS` epoch per
   solution, the HV-leader first, up to `DEMO_REMEASURE_MAX` solutions while time is left).

Accuracy is measured on digits at `DEMO_IMAGE_SIZE` px (the 8x8 digits upsampled; a quarter of the 32 px cost),
the hardware is the zoo's CIFAR-size ResNet-20 (32x32 input) on Spatial-256 (RS), b_A = b_W in {2, 4, 6, 8, 16}.
Writes one sub-folder per level and, at the top of `out`, results.json (the last level's result, a per-level
summary, the evaluators used, the re-measured front), pareto.png, hypervolume.png, bitwidths.png and report.html.
"""

from __future__ import annotations

import time
from pathlib import Path

from flowq import runs
from flowq.flow import LEVEL_ORDER, Flow, SearchResult, run_levels
from flowq.progress import Phase, duration, quiet, say

DEMO_MODEL, DEMO_HW, DEMO_DATAFLOW = "resnet20", "spatial-256", "RS"
DEMO_POP = 10
#: generations per level (the issue asks for >= 5 per level: one spare for a slow start)
DEMO_GENS = 6
#: seconds the demo plans for, one-off training included (imports, plots and the summary come on top)
DEMO_BUDGET_S = 540.0
#: share of the time left after the one-off training: Coarse, Mid, Fine searches and the Fine re-measure
DEMO_SHARES = {"coarse": 0.28, "mid": 0.25, "fine": 0.27, "remeasure": 0.20}
DEMO_CONSTRAINTS = {"mid": {"frac_ops": 0.5}, "fine": {"dram_accesses_bits": 0.6}}
#: accuracy image side for the CIFAR ResNets (as experiments --quick); other models keep their own input size
DEMO_IMAGE_SIZE = {"resnet20": 16, "resnet32": 16, "resnet44": 16, "resnet56": 16}
DEMO_REMEASURE_EPOCHS = 1.0
DEMO_REMEASURE_MAX = 6
EVALUATOR_TEXT = {"shared": "read off one weight-sharing any-precision network (--evaluator shared)",
                  "proxy": "the loss proxy on one batch (--evaluator proxy)",
                  "finetune": "fine-tuning every candidate (--evaluator finetune)"}


def run_demo(out="runs/demo", *, seed: int = 0, pop_size: int | None = None, n_gen: int | None = None,
             evaluator: str = "shared", budget_s: float | None = None, threads: int | None = None,
             model: str = DEMO_MODEL, verbose: bool = True) -> SearchResult:
    """Run the demo (module docstring) and return the last level's result.

    Args:
        out: output folder (rewritten: the demo folder is the demo's own).
        seed: GA seed.
        pop_size, n_gen: population and generations per level (default `DEMO_POP`, `DEMO_GENS`); given `n_gen`,
            no time budget applies.
        evaluator: accuracy during the searches: "shared" (default), "proxy" or "finetune" (then the Fine front is
            not re-measured: it already is fine-tuned).
        budget_s: seconds planned for the whole demo (default `DEMO_BUDGET_S`).
        threads: torch threads of the evaluators (default `flowq.environment.DEFAULT_THREADS`).
        model: the network (tests use "lenet5").
        verbose: progress lines and the summary.
    """
    from flowq.executor import current_executor
    from hwmodels.zoo import get_workload

    start = time.perf_counter()
    out = Path(out)
    budget = DEMO_BUDGET_S if budget_s is None else float(budget_s)
    options = {"image_size": DEMO_IMAGE_SIZE[model]} if model in DEMO_IMAGE_SIZE else {}
    if threads is not None:
        options["threads"] = threads
    flow = Flow(model, "digits", evaluator, hw=DEMO_HW, dataflow=DEMO_DATAFLOW, seed=seed, out=out, verbose=verbose,
                evaluator_kwargs=options, tie=True, workload=get_workload(model))  # b_A = b_W as in hw-flowq 6.1
    flow.executor = current_executor()
    remeasure = evaluator != "finetune"
    if verbose:
        size = f"{options['image_size']} px" if "image_size" in options else "its own input size"
        say(f"[demo] {model} on digits ({size}), {DEMO_HW} {DEMO_DATAFLOW}, b_A = b_W in {{2, 4, 6, 8, 16}}, "
            f"budget {duration(budget)}\n[demo] accuracy: Coarse, Mid and Fine searches {EVALUATOR_TEXT[evaluator]}"
            + ("; then the Fine front is re-measured by fine-tuning each solution for "
               f"{DEMO_REMEASURE_EPOCHS:g} epoch (--evaluator finetune)" if remeasure else ""))
    with quiet(not verbose):
        flow.evaluator.prepare()  # one-off: float network (and shared network), each with its own lines
        _warm_hardware(flow)
    one_off = time.perf_counter() - start
    gens = DEMO_GENS if n_gen is None else int(n_gen)
    deadlines = None
    if n_gen is None:
        left, deadlines, at = max(0.0, budget - one_off), [], time.perf_counter()
        for level in LEVEL_ORDER:
            at += DEMO_SHARES[level] * left
            deadlines.append(at)
    final = run_levels(flow, LEVEL_ORDER, constraints=DEMO_CONSTRAINTS, n_gen=gens, pop_size=pop_size or DEMO_POP,
                       deadlines=deadlines, force=True)  # the demo folder is the demo's own: rerunning redoes it
    visited = list(flow.results) + ([] if final in flow.results else [final])
    data = dict(final.data, levels=[_level_summary(r) for r in visited], one_off_seconds=one_off,
                evaluators={"search": evaluator, "fine_front": "finetune" if remeasure else evaluator})
    if remeasure and final.front:
        end = start + budget if n_gen is None else None
        data["remeasured"] = remeasure_front(flow, final, model, options, deadline=end, verbose=verbose)
    data["demo_seconds"] = time.perf_counter() - start
    runs.write_results(out, data)
    from flowq.plots import plot_run
    from flowq.report import report_after_search

    paths = plot_run(data, out)
    report = report_after_search(out, workload=getattr(final.problem, "workload", None))
    paths += [report] if report is not None else []
    if verbose:
        _print_summary(data, [out / "results.json"] + paths)
    return final


def _warm_hardware(flow: Flow) -> None:
    """One-off: every level's 16-bit baseline, so that the hardware models' first-run cost (numba compiles the Mid
    and Fine kernels once per machine: minutes on a loaded machine) is not charged to a level's share of the time."""
    phase = Phase("[demo hardware]")
    phase.start("16-bit baselines of " + ", ".join(LEVEL_ORDER) + " (the first run on a machine compiles the kernels)")
    for level in LEVEL_ORDER:
        flow.problem(level).baseline  # noqa: B018 - computed and kept by the problem
    phase.end()


def _level_summary(result: SearchResult) -> dict:
    data = result.data
    return {"level": result.level, "folder": str(result.out), "generations": len(data["hypervolume"]),
            "hypervolume": list(data["hypervolume"]), "population_sizes": data.get("population_sizes", []),
            "front_size": len(result.front), "constraints": data["constraints"],
            "n_accuracy_evaluations": data["n_accuracy_evaluations"], "seconds": data.get("seconds"),
            "stopped_early": data.get("stopped_early", False)}


def _remeasure_order(front: list, leader) -> list:
    """Front indices to re-measure (at most `DEMO_REMEASURE_MAX`): the HV-leader first, then solutions spread evenly
    over the accuracy range, the most and the least accurate included."""
    ranked = sorted(range(len(front)), key=lambda i: -front[i]["metrics"].get("accuracy", 0.0))
    count = min(DEMO_REMEASURE_MAX, len(ranked))
    positions = list(dict.fromkeys(round(k * (len(ranked) - 1) / max(1, count - 1)) for k in range(count)))
    if leader is not None and leader not in (ranked[p] for p in positions):
        inner = range(1, len(positions) - 1) if len(positions) > 2 else range(len(positions))
        nearest = min(inner, key=lambda k: abs(positions[k] - ranked.index(leader)))
        positions[nearest] = ranked.index(leader)  # the leader replaces the spread pick nearest to it
    spread = [ranked[p] for p in positions]
    return ([leader] if leader is not None else []) + [i for i in spread if i != leader]


def remeasure_front(flow: Flow, result: SearchResult, model: str, options: dict, *, deadline: float | None = None,
                    verbose: bool = True) -> dict:
    """Fine-tune the front solutions of `result` (`_remeasure_order`) with `FineTuneEvaluator` on the same float
    network and record psi beside the searched one; batches of the executor's width, no new batch after
    `deadline`. Front solutions get `metrics["accuracy_finetune"]`.

    Returns:
        {"evaluator": its identity, "epochs", "solutions": [{front_index, bits_w, bits_a, accuracy_search,
        accuracy_finetune, failed, seconds}], "not_measured": front solutions left out, "skipped_for_time": those
        of them left out because the deadline came (the others: beyond `DEMO_REMEASURE_MAX`)}.
    """
    from flowq.accuracy import FineTuneEvaluator
    from flowq.executor import Executor

    evaluator = FineTuneEvaluator(model, "digits", epochs=DEMO_REMEASURE_EPOCHS, seed=flow.evaluator_seed, **options)
    executor = flow.executor or Executor()
    front, order = result.front, _remeasure_order(result.front, result.data.get("hv_leader"))
    phase = Phase("[demo fine-tune]", len(order), "solution")
    rows, width, batch_seconds = [], max(1, executor.n_workers), 0.0
    with quiet(not verbose):
        phase.start(f"re-measuring {len(order)} of {len(front)} {result.level} front solutions by "
                    f"{DEMO_REMEASURE_EPOCHS:g} epoch of fine-tuning each")
        for at in range(0, len(order), width):
            if deadline is not None and rows and time.perf_counter() + batch_seconds > deadline:
                break  # the next batch would end after the budget (the first one always runs)
            began = time.perf_counter()
            batch = order[at:at + width]
            outcomes = executor.evaluate(evaluator, [(front[i]["bits_w"], front[i]["bits_a"]) for i in batch])
            batch_seconds = time.perf_counter() - began
            for i, outcome in zip(batch, outcomes):
                value = outcome.value if outcome.ok else None
                psi = None if value is None or value.failed else float(value.psi)
                front[i]["metrics"]["accuracy_finetune"] = psi
                rows.append({"front_index": i, "bits_w": front[i]["bits_w"], "bits_a": front[i]["bits_a"],
                             "accuracy_search": front[i]["metrics"].get("accuracy"), "accuracy_finetune": psi,
                             "failed": psi is None, "seconds": None if value is None else value.seconds})
                phase.step()
        phase.end(f"{len(rows)} solution(s) re-measured")
    return {"evaluator": evaluator.identity(), "epochs": DEMO_REMEASURE_EPOCHS, "solutions": rows,
            "not_measured": len(front) - len(rows), "skipped_for_time": len(order) - len(rows)}


def _print_summary(data: dict, paths: list) -> None:
    search = data["evaluators"]["search"]
    print(f"demo finished in {duration(data['demo_seconds'])} (one-off work {duration(data['one_off_seconds'])}); "
          f"accuracy during the searches: {EVALUATOR_TEXT[search]}")
    for level in data["levels"]:
        hv = " ".join(f"{v:.4f}" for v in level["hypervolume"])
        pops = ",".join(str(p) for p in level["population_sizes"])
        early = ", stopped early by the time budget" if level["stopped_early"] else ""
        print(f"  {level['level']:6s} {level['generations']} generations (population {pops}){early}: "
              f"HV {hv}; front {level['front_size']}")
    remeasured = data.get("remeasured")
    if remeasured:
        print(f"  {data['level']} front re-measured by {remeasured['epochs']:g} epoch of fine-tuning "
              f"(--evaluator finetune), psi searched -> fine-tuned:")
        for row in remeasured["solutions"]:
            tuned = "failed" if row["failed"] else f"{100 * row['accuracy_finetune']:.2f} %"
            print(f"    #{row['front_index']:<3d} bits {row['bits_w']}: {100 * row['accuracy_search']:.2f} % -> "
                  f"{tuned}")
        if remeasured["not_measured"]:
            print(f"    ({remeasured['not_measured']} front solution(s) not re-measured: "
                  f"{remeasured['skipped_for_time']} for time, the rest beyond the {DEMO_REMEASURE_MAX} re-measured "
                  f"at most)")
    for path in paths:
        print(f"  wrote {path}")
