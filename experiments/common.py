"""Shared plumbing of the experiment scripts: --quick/--full arguments, evaluators, paper-side-by-side tables, files.

Every script in `experiments/` reproduces one table or figure of a paper. It takes
    --quick      (default) the embedded digits data set, the loss-proxy evaluator and tiny search budgets:
                 minutes on a 2-core CPU; `tests/experiments/test_quick.py` runs every script this way
    --full       the paper's data set (CIFAR-10 from --data-dir) and budgets, fine-tuning evaluator (a GPU job)
    --out DIR    output folder (default experiments/results/<script name>/)
and writes CSV / JSON / PNG files there, printing a table laid out like the paper's with the paper's numbers
beside ours. Scripts only compose the public API (`Flow`, `problems.*Problem`, `pymoo.optimize.minimize`,
`hwmodels.api`, `flowq.accuracy`); nothing here models hardware or accuracy itself.
"""

from __future__ import annotations

import argparse
import csv
import json
import math
import os
import platform
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

from hwmodels.errors import FlowQError

RESULTS = Path(__file__).resolve().parent / "results"

#: --quick float-network training length (epochs over the digits training split). Short on purpose: the loss
#: proxy only ranks quantised copies of the float network, and every quick script shares this one float network
#: per model (cached on disk under $FLOWQ_CACHE_DIR), so the test suite trains it once.
QUICK_FLOAT_EPOCHS = 3
#: --quick image side for networks that end in global average pooling (CIFAR ResNets): the 8x8 digits upsampled to
#: 16 instead of 32 px, a quarter of the MACs per training step. The hardware workload stays the zoo's 32x32 one
#: (accuracy only ranks genomes here); LeNet-5 / VGG need their 32 px input and keep it.
QUICK_IMAGE_SIZE = {"resnet20": 16, "resnet32": 16, "resnet44": 16, "resnet56": 16}
#: --quick loss-proxy batch (validation images per genome).
QUICK_PROXY_BATCH = 128
#: --full fine-tuning epochs per candidate (hw-flowq 6: 2 epochs on CIFAR-10).
FULL_FINETUNE_EPOCHS = 2.0


@dataclass(frozen=True)
class Budget:
    """A genetic-search budget: population size |P| and generations n (hw-flowq 6: 25 or 50, and 50)."""

    pop_size: int
    n_gen: int


#: --quick: one generation of 4 (the seeded initial population) keeps the test of every quick run near two minutes;
#: `--gens 2` (as `make experiments` runs them) lets the population evolve once, so that seeds differ.
QUICK_BUDGET = Budget(pop_size=4, n_gen=1)
FULL_BUDGET = Budget(pop_size=25, n_gen=50)
#: search seeds per search row (--seeds): rows report mean +- std over seed, seed + 1, ..., seed + n - 1.
QUICK_SEEDS, FULL_SEEDS = 3, 1


@dataclass(frozen=True)
class Run:
    """How one script invocation runs.

    Attributes:
        name: script name (the default results sub-folder).
        quick: True for --quick, False for --full.
        out: output folder (created).
        data_dir: CIFAR-10 folder (python format) for --full, or None.
        seed: seed of every search and evaluator.
        device: torch device name for evaluators (None: CUDA when available).
        custom_budget: a `Budget` from --pop / --gens, or None (the mode's default).
        n_seeds: search seeds per search row (`seeds`); the evaluator always uses `seed`.
        argv: the command-line arguments (written into env.json).
        started: (wall clock, process CPU time) at parse time, seconds (for env.json).
    """

    name: str
    quick: bool
    out: Path
    data_dir: Path | None
    seed: int
    device: str | None
    custom_budget: Budget | None = None
    n_seeds: int = 1
    argv: tuple = ()
    started: tuple = field(default_factory=lambda: (time.perf_counter(), time.process_time()))

    @property
    def seeds(self) -> list:
        """Search seeds: `seed`, `seed` + 1, ..., `seed` + `n_seeds` - 1 (the accuracy evaluator uses `seed`)."""
        return [self.seed + k for k in range(self.n_seeds)]

    @property
    def dataset(self) -> str:
        """Accuracy data set: "digits" (--quick) or "cifar10" (--full)."""
        return "digits" if self.quick else "cifar10"

    @property
    def mode(self) -> str:
        """ "quick" or "full" (written into every output file)."""
        return "quick" if self.quick else "full"

    @property
    def budget(self) -> Budget:
        """NSGA-II budget: --pop / --gens if given, else the mode's default."""
        if self.custom_budget is not None:
            return self.custom_budget
        return QUICK_BUDGET if self.quick else FULL_BUDGET

    def path(self, filename: str) -> Path:
        """`out/filename`."""
        return self.out / filename


def parse_args(name: str, description: str, argv=None, extra=None):
    """Parse the common arguments (plus the script's own, added by `extra(parser)`).

    Returns:
        (Run, argparse.Namespace).
    """
    parser = argparse.ArgumentParser(prog=f"experiments/{name}.py", description=description)
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument("--quick", dest="quick", action="store_true", default=True,
                      help="digits, loss proxy, tiny budgets: minutes on a CPU (default)")
    mode.add_argument("--full", dest="quick", action="store_false",
                      help="the paper's data set and budgets (CIFAR-10 from --data-dir; a GPU job)")
    parser.add_argument("--data-dir", default=None, help="CIFAR-10 folder (cifar-10-batches-py) for --full")
    parser.add_argument("--out", default=None, help=f"output folder (default experiments/results/{name})")
    parser.add_argument("--seed", type=int, default=0, help="seed of the evaluator and the first search seed")
    parser.add_argument("--seeds", type=int, default=None,
                        help=f"search seeds per search row (default {QUICK_SEEDS} in --quick, {FULL_SEEDS} in --full)")
    parser.add_argument("--device", default=None, help="torch device for accuracy (default: CUDA if available)")
    parser.add_argument("--pop", type=int, default=None, help="population size |P| (default: the mode's)")
    parser.add_argument("--gens", type=int, default=None, help="generations n (default: the mode's)")
    if extra is not None:
        extra(parser)
    args = parser.parse_args(argv)
    out = Path(args.out) if args.out else RESULTS / name
    out.mkdir(parents=True, exist_ok=True)
    custom = None
    if args.pop is not None or args.gens is not None:
        default = QUICK_BUDGET if args.quick else FULL_BUDGET
        custom = Budget(args.pop or default.pop_size, args.gens or default.n_gen)
        if custom.pop_size < 2 or custom.n_gen < 1:
            parser.error(f"--pop must be >= 2 and --gens >= 1, got {custom.pop_size} and {custom.n_gen}")
    n_seeds = args.seeds if args.seeds is not None else (QUICK_SEEDS if args.quick else FULL_SEEDS)
    if n_seeds < 1:
        parser.error(f"--seeds must be >= 1, got {n_seeds}")
    run = Run(name, bool(args.quick), out, Path(args.data_dir) if args.data_dir else None, int(args.seed),
              args.device, custom, int(n_seeds), tuple(sys.argv[1:] if argv is None else argv))
    return run, args


def evaluator(run: Run, model: str, **kwargs):
    """The accuracy evaluator of a mode (torch is imported here, never by hardware-only scripts).

    --quick: `LossProxyEvaluator` on digits (psum eq. 1) over a float network trained `QUICK_FLOAT_EPOCHS` epochs
    (images of `QUICK_IMAGE_SIZE` px for the CIFAR ResNets), `QUICK_PROXY_BATCH` images per genome, results kept
    in the persistent result cache so that the quick scripts (same seeds, hence often the same genomes) share them.
    --full: `FineTuneEvaluator` on CIFAR-10 from `run.data_dir`, `FULL_FINETUNE_EPOCHS` epochs per candidate.

    Raises:
        FlowQError: --full without --data-dir.
    """
    from flowq.accuracy import FineTuneEvaluator, LossProxyEvaluator
    from flowq.models.training import TrainConfig

    if run.quick:
        kwargs.setdefault("train_config", TrainConfig(epochs=QUICK_FLOAT_EPOCHS))
        if model in QUICK_IMAGE_SIZE:
            kwargs.setdefault("image_size", QUICK_IMAGE_SIZE[model])
        kwargs.setdefault("batch_size", QUICK_PROXY_BATCH)
        kwargs.setdefault("use_result_cache", True)
        built = LossProxyEvaluator(model, "digits", seed=run.seed, device=run.device, **kwargs)
    else:
        if run.data_dir is None:
            raise FlowQError(f"--full needs --data-dir: the CIFAR-10 folder (python format) for {model}'s accuracy")
        kwargs.setdefault("epochs", FULL_FINETUNE_EPOCHS)
        built = FineTuneEvaluator(model, "cifar10", seed=run.seed, device=run.device, data_root=run.data_dir,
                                  **kwargs)
    _EVALUATORS.append({"threads": getattr(built, "threads", None), "device": getattr(built, "device", None)})
    return built


def pareto_choice(front: list, min_psi: float, key=None) -> dict | None:
    """The Pareto-choice of hw-flowq Tables 3/4: among front solutions with psi >= `min_psi`, the one with the
    lowest energy x latency (or `key(metrics)`); the most accurate solution when none reaches `min_psi`.

    Returns a copy of the chosen solution with `fallback` set: False for a real choice, True when no solution
    reached `min_psi` and the most accurate one stands in (tables and CSVs mark it)."""
    if not front:
        return None
    key = key or (lambda m: m["energy"] * m["latency_cycles"])
    accurate = [s for s in front if s["metrics"].get("accuracy", 0.0) >= min_psi]
    if accurate:
        return dict(min(accurate, key=lambda s: key(s["metrics"])), fallback=False)
    return dict(max(front, key=lambda s: s["metrics"].get("accuracy", 0.0)), fallback=True)


# ---- seeds and spread -----------------------------------------------------------------------------------------
def mean_std(values) -> tuple:
    """(mean, sample standard deviation) of numbers, None entries skipped; std 0 for one value, (None, None) for
    none."""
    xs = [float(v) for v in values if v is not None and not (isinstance(v, float) and math.isnan(v))]
    if not xs:
        return None, None
    mean = sum(xs) / len(xs)
    if len(xs) == 1:
        return mean, 0.0
    return mean, math.sqrt(sum((x - mean) ** 2 for x in xs) / (len(xs) - 1))


def over_seeds(rows: list, group: str, values, keep=()) -> list:
    """Per-seed rows (each with `seed`) folded into one row per `group` value, in first-seen order.

    Each key of `values` becomes its mean with `<key>_std` beside it; keys of `keep` are taken from the first row;
    `seeds` counts the rows, `fallbacks` how many of them have `fallback` true (Pareto-choice fallback)."""
    groups: dict = {}
    for row in rows:
        groups.setdefault(row[group], []).append(row)
    out = []
    for label, members in groups.items():
        folded = {group: label, **{k: members[0].get(k) for k in keep}, "seeds": len(members),
                  "fallbacks": sum(bool(r.get("fallback")) for r in members)}
        for key in values:
            folded[key], folded[f"{key}_std"] = mean_std(r.get(key) for r in members)
        out.append(folded)
    return out


# ---- output ---------------------------------------------------------------------------------------------------
def fmt(value, spec: str = ".4g") -> str:
    """A table cell: '-' for None / NaN, else `format(value, spec)` (strings as they are)."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "-"
    if isinstance(value, str):
        return value
    return format(value, spec)


def cell(row: dict, key: str, spec: str) -> str:
    """One table cell: `fmt(row[key])`, with " ± <std>" when the row holds `<key>_std` (a mean over seeds)."""
    text = fmt(row.get(key), spec)
    std = row.get(f"{key}_std")
    if std is not None and text != "-" and not isinstance(row.get(key), str):
        text += " ± " + fmt(std, spec)
    return text


def print_table(title: str, columns: list, rows: list, file=None) -> str:
    """Print rows as a fixed-width table; columns are (header, key, format spec) and a row is a dict.

    Paper numbers go in their own columns next to ours (headers "... paper"), so one line reads side by side.
    Returns the printed text.
    """
    cells = [[cell(row, key, spec) for _, key, spec in columns] for row in rows]
    widths = [max([len(header)] + [len(c[i]) for c in cells]) for i, (header, _, _) in enumerate(columns)]
    lines = [title, "  ".join(h.rjust(w) for (h, _, _), w in zip(columns, widths))]
    lines.append("  ".join("-" * w for w in widths))
    lines += ["  ".join(c.rjust(w) for c, w in zip(cell, widths)) for cell in cells]
    text = "\n".join(lines)
    print(text, file=file or sys.stdout, flush=True)
    return text


def markdown_table(columns: list, rows: list) -> str:
    """Rows as a markdown table (same columns as `print_table`); "|" in cells escaped."""
    lines = ["| " + " | ".join(h.replace("|", "\\|") for h, _, _ in columns) + " |",
             "|" + "---|" * len(columns)]
    for row in rows:
        lines.append("| " + " | ".join(cell(row, key, spec).replace("|", "\\|") for _, key, spec in columns)
                     + " |")
    return "\n".join(lines) + "\n"


def write_table(run: "Run", name: str, title: str, columns: list, rows: list, csv_rows: list | None = None) -> list:
    """Print a table and write it as `<name>.md` (what EXPERIMENTS.md includes) and `<name>.csv`.

    Args:
        columns: (header, key, format spec) per column; a key with `<key>_std` in the row prints "mean ± std".
        rows: the table's rows (dicts).
        csv_rows: rows for the CSV (default `rows`), e.g. the per-seed rows behind a table of means.

    Returns:
        The paths written.
    """
    print_table(f"{title} [{run.mode}]", columns, rows)
    md = run.path(f"{name}.md")
    md.write_text(markdown_table(columns, rows))
    return [md, write_csv(run.path(f"{name}.csv"), rows if csv_rows is None else csv_rows)]


def write_notes(run: "Run", lines: list, name: str = "notes") -> Path:
    """Computed statements about the results (each a sentence with its numbers) as a markdown bullet list."""
    path = run.path(f"{name}.md")
    path.write_text("".join(f"- {line}\n" for line in lines))
    return path


def write_csv(path: Path, rows: list, fields=None) -> Path:
    """Rows (dicts) as CSV; the header is `fields` or the union of keys in first-seen order."""
    if fields is None:
        fields = []
        for row in rows:
            fields += [k for k in row if k not in fields]
    with open(path, "w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=fields, extrasaction="ignore")
        writer.writeheader()
        writer.writerows(rows)
    return path


def read_csv(path: Path) -> list:
    """CSV rows as dicts, numbers converted to float where they parse."""
    def convert(value: str):
        try:
            return float(value)
        except ValueError:
            return value

    with open(path, newline="") as handle:
        return [{k: convert(v) for k, v in row.items()} for row in csv.DictReader(handle)]


def write_json(path: Path, data) -> Path:
    """JSON with numpy scalars/arrays converted."""
    def default(obj):
        if hasattr(obj, "tolist"):
            return obj.tolist()
        if isinstance(obj, Path):
            return str(obj)
        raise TypeError(f"{type(obj).__name__} is not JSON serialisable")

    path.write_text(json.dumps(data, indent=1, default=default))
    return path


def pyplot():
    """matplotlib.pyplot on the Agg backend (no display needed)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def save_figure(fig, path, dpi: int = 110, rect=None) -> None:
    """Lay out (`tight_layout`, within `rect` when given), write and close a matplotlib figure."""
    if rect is None:
        fig.tight_layout()
    else:
        fig.tight_layout(rect=rect)
    fig.savefig(path, dpi=dpi)
    pyplot().close(fig)


# ---- environment record ------------------------------------------------------------------------------------
#: the evaluators this process built ({"threads", "device"} of each): env.json records what psi depended on
_EVALUATORS: list = []


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def environment(run: "Run") -> dict:
    """What produced a result: `flowq.environment.environment` (torch build, the evaluators' torch threads and
    device, git commit and dirty flag, Python, numpy, platform, cores) plus the CPU model, GPU, seeds, budget, wall
    and CPU time and the load.

    Times are seconds since `parse_args` (wall: `time.perf_counter`; CPU: this process's user + system time, all
    threads); `load_1min` is the 1-minute load average at the end (the machine may be shared)."""
    from flowq.environment import environment as flowq_environment

    threads = sorted({e["threads"] for e in _EVALUATORS if e["threads"] is not None}) or [None]
    devices = sorted({str(e["device"]) for e in _EVALUATORS}) or [None]
    gpu = None
    if "torch" in sys.modules and sys.modules["torch"].cuda.is_available():  # never import torch for this
        gpu = sys.modules["torch"].cuda.get_device_name(0)
    budget = run.budget
    env = flowq_environment(threads[0] if len(threads) == 1 else None, devices[0] if len(devices) == 1 else None)
    env.update({"script": run.name, "mode": run.mode, "argv": list(run.argv), "evaluator_threads": threads,
                "cpu": _cpu_model(), "gpu": gpu, "seed": run.seed, "seeds": run.seeds,
                "pop_size": budget.pop_size, "n_gen": budget.n_gen,
                "wall_seconds": round(time.perf_counter() - run.started[0], 1),
                "cpu_seconds": round(time.process_time() - run.started[1], 1),
                "load_1min": round(os.getloadavg()[0], 2) if hasattr(os, "getloadavg") else None,
                "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())})
    return env


def environment_line(env: dict) -> str:
    """env.json as one markdown line (the line EXPERIMENTS.md shows under each section)."""
    commit = (env.get("git_commit") or "unknown")[:10] + (" + uncommitted changes" if env.get("git_dirty") else "")
    threads = ", ".join(str(t) for t in env.get("evaluator_threads") or [] if t is not None)
    torch = f"torch {env['torch']}, evaluator {threads} thread(s)" if threads else "hardware only (no evaluator)"
    seeds = ", ".join(map(str, env.get("seeds") or []))
    search = (f" evaluator seed {env['seed']}, search seeds {seeds}; |P| = {env['pop_size']}, n = {env['n_gen']};"
              if threads else "")  # hardware-only scripts search nothing
    return (f"*Run {env['date']}: `{env['script']}.py {' '.join(env['argv'])}`; commit {commit}; {torch}; "
            f"{env['cores']} x {env['cpu']}; GPU {env.get('gpu') or 'none'};{search} wall {env['wall_seconds']} s, "
            f"CPU {env['cpu_seconds']} s, load {env['load_1min']}.*\n")


def finish(run: "Run", paths=()) -> None:
    """Write env.json / env.md (the environment record) and print every file written."""
    env = environment(run)
    write_json(run.path("env.json"), env)
    run.path("env.md").write_text(environment_line(env))
    wrote(run, list(paths) + [run.path("env.json"), run.path("env.md")])


def main_guard(main, argv=None) -> int:
    """Run `main(argv)`; a FlowQError (bad input, missing data) prints its message and exits 2, no traceback."""
    try:
        return int(main(argv) or 0)
    except FlowQError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2


def wrote(run: Run, paths) -> None:
    """Print the files a script wrote."""
    for path in paths:
        print(f"wrote {path}")


# ---- Fine-level ResNet-20 searches shared by Tables 3-5 and Figs. 8-9 -------------------------------------------
#: the network of hw-flowq Tables 2-6 and Figs. 7-9.
MODEL = "resnet20"
#: psi threshold below the 16-bit genome's psi for the Pareto-choice (paper: 90 % top-1 vs 92.47 % baseline).
PSI_MARGIN = 0.025
#: hw-flowq's 16-bit ResNet-20 top-1 on CIFAR-10 (Tables 3-6), %.
PAPER_BASELINE_TOP1 = 92.47
#: Tables 3/4 report energy and latency per 4 frames.
FRAMES = 4
ENERGY_LABEL = "energy [normalised units, 16-bit MAC = 1]"
LATENCY_LABEL = "latency [cycles]"


def fine_baseline(preset: str, batch: int = 1, dataflow: str | None = None, frames: int = 1,
                  model: str = MODEL) -> dict:
    """16-bit energy (normalised units) and latency (cycles) per `frames` frames of `model` on `preset` at `batch`
    (Fine level), each at its own optimum: the energy of the energy-optimal mappings and the latency of the
    latency-optimal ones, i.e. the best the hardware does on each metric (the papers' baselines compare presets;
    which mapping rule reproduces their orders is in each script's notes)."""
    from hwmodels import api
    from hwmodels.spec import load_spec
    from hwmodels.zoo import get_workload

    workload = get_workload(model, batch=batch)
    spec = load_spec(preset) if dataflow is None else load_spec(preset, dataflow=dataflow)
    bits = [spec.b_max] * len(workload)
    scale = frames / batch
    energy = api.evaluate(workload, spec, bits, bits, level="fine", objective="energy").total["energy"]
    latency = api.evaluate(workload, spec, bits, bits, level="fine", objective="latency").total["latency_cycles"]
    return {"energy": energy * scale, "latency_cycles": latency * scale}


def search_fine(run: Run, flow, seed: int, tag: str, budget: Budget | None = None, **problem_kwargs):
    """One 3-objective Fine NSGA-II search of `flow`'s model (run folder out/runs/<tag>-s<seed>)."""
    budget = budget or run.budget
    problem = flow.problem("fine", **problem_kwargs)
    return flow.search(problem, "nsga2", budget.n_gen, pop_size=budget.pop_size, seed=seed,
                       out=run.path(f"runs/{tag}-s{seed}"), force=True)


def hw_dims_table(run: Run, configs, paper, *, tie: bool, name: str, title: str, figure: str) -> list:
    """hw-flowq Tables 3 / 4: 16-bit baselines and Pareto-choices over `run.seeds` per (label, preset, batch).

    `paper[label]` = (baseline E, baseline L, choice top-1, choice psi, choice E, choice L) per 4 frames. Writes
    <name>.md / .csv (means +- std over seeds, fallback count), <name>_seeds.csv (one row per seed), <name>.json
    and `figure`.

    Returns:
        (table rows, per-seed choice rows, psi of the 16-bit genome, paths written).
    """
    from flowq.flow import Flow
    from hwmodels.zoo import get_workload

    evaluator_ = evaluator(run, MODEL)
    flow = Flow(MODEL, run.dataset, evaluator_, seed=run.seed, verbose=False)
    n_layers = len(get_workload(MODEL))
    psi16 = evaluator_.evaluate([16] * n_layers, [16] * n_layers).psi
    rows, per_seed, fronts = [], [], {}
    for label, preset, batch in configs:
        base = fine_baseline(preset, batch, frames=FRAMES)
        p = paper[label]
        rows.append({"mode": run.mode, "config": f"Baseline (16-bit); {label}", "kind": "baseline", "preset": preset,
                     "batch": batch, "psi": None, "psi_paper": None,
                     "energy_1e7": base["energy"] / 1e7, "energy_1e7_paper": p[0],
                     "latency_1e3": base["latency_cycles"] / 1e3, "latency_1e3_paper": p[1]})
    for label, preset, batch in configs:
        p = paper[label]
        for seed in run.seeds:
            result = search_fine(run, flow, seed, f"{preset}-b{batch}", hw=preset, batch=batch, tie=tie)
            fronts.setdefault(label, {"batch": batch, "fronts": []})["fronts"].append(result.front)
            choice = pareto_choice(result.front, psi16 - PSI_MARGIN)
            m = choice["metrics"]
            scale = FRAMES / batch
            top1 = None
            if not run.quick:
                top1 = 100 * evaluator_.train_from_scratch(choice["bits_w"], choice["bits_a"]).psi
            per_seed.append({"mode": run.mode, "config": f"Pareto-Choice; {label}", "kind": "choice",
                             "preset": preset, "batch": batch, "seed": seed, "fallback": choice["fallback"],
                             "top1": top1, "top1_paper": p[2], "psi": 100 * m["accuracy"], "psi_paper": p[3],
                             "energy_1e7": m["energy"] * scale / 1e7, "energy_1e7_paper": p[4],
                             "latency_1e3": m["latency_cycles"] * scale / 1e3, "latency_1e3_paper": p[5],
                             "bits_w": " ".join(map(str, choice["bits_w"])),
                             "bits_a": " ".join(map(str, choice["bits_a"])), "front_size": len(result.front),
                             "evaluations": result.data["n_evaluations"][-1]})
    keep = ("mode", "kind", "preset", "batch", "top1_paper", "psi_paper", "energy_1e7_paper", "latency_1e3_paper")
    rows += [dict(r, fallback_note=fallback_note(r)) for r in
             over_seeds(per_seed, "config", ("top1", "psi", "energy_1e7", "latency_1e3"), keep)]
    columns = [("configuration", "config", "s")]
    if not run.quick:
        columns += [("top-1 %", "top1", ".2f"), ("paper top-1", "top1_paper", ".2f")]
    columns += [("psi %", "psi", ".2f"), ("paper psi", "psi_paper", ".2f"),
                ("E / 4 frames [1e7]", "energy_1e7", ".2f"), ("paper", "energy_1e7_paper", ".2f"),
                ("L / 4 frames [1e3 cyc]", "latency_1e3", ".0f"), ("paper", "latency_1e3_paper", ".0f"),
                ("fallback", "fallback_note", "s")]
    paths = write_table(run, name, f"{title} (psi16 = {100 * psi16:.2f} %)", columns, rows)
    paths.append(write_csv(run.path(f"{name}_seeds.csv"), per_seed))
    paths.append(write_json(run.path(f"{name}.json"), {"mode": run.mode, "psi_16bit": psi16, "rows": rows,
                                                       "per_seed": per_seed}))
    plot_fronts({k: v["fronts"] for k, v in fronts.items()}, run.path(figure), title,
                batches={k: v["batch"] for k, v in fronts.items()})
    return rows, per_seed, psi16, paths + [run.path(figure)]


def hw_dims_notes(rows: list, prefix: str) -> list:
    """The budget-independent statements of Tables 3 / 4, computed from the baseline rows."""
    base = {(r["preset"], r["batch"]): r for r in rows if r["kind"] == "baseline"}
    small, mid, big = (base[(f"{prefix}-{n}", 1)] for n in (168, 256, 1024))
    b4 = base[(f"{prefix}-256", 4)]
    holds = lambda ok: "holds" if ok else "does NOT hold"  # noqa: E731
    lat = [r["latency_1e3"] for r in (small, mid, big)]
    energy = [r["energy_1e7"] for r in (small, mid, big)]
    paper_l = [r["latency_1e3_paper"] for r in (small, mid, big)]
    paper_e = [r["energy_1e7_paper"] for r in (small, mid, big)]
    choices = [r for r in rows if r["kind"] == "choice"]
    fallbacks = sum(r["fallbacks"] for r in choices)
    return [
        f"16-bit latency falls with the array ({lat[0]:.0f} > {lat[1]:.0f} > {lat[2]:.0f} k cycles per 4 frames; "
        f"paper {paper_l[0]:.0f} > {paper_l[1]:.0f} > {paper_l[2]:.0f}): {holds(lat[0] > lat[1] > lat[2])}.",
        f"16-bit energy rises with the array ({energy[0]:.2f} < {energy[1]:.2f} < {energy[2]:.2f} e7; paper "
        f"{paper_e[0]:.2f} < {paper_e[1]:.2f} < {paper_e[2]:.2f}): {holds(energy[0] < energy[1] < energy[2])}.",
        f"Batch 4 lowers the energy per frame on {prefix}-256 ({b4['energy_1e7']:.2f} vs {mid['energy_1e7']:.2f} e7 "
        f"per 4 frames; paper {b4['energy_1e7_paper']:.2f} vs {mid['energy_1e7_paper']:.2f}): "
        f"{holds(b4['energy_1e7'] < mid['energy_1e7'])}.",
        f"Ours / paper, batch-1 baselines: energy {', '.join(f'{e / p:.2f}x' for e, p in zip(energy, paper_e))}; "
        f"latency {', '.join(f'{x / p:.2f}x' for x, p in zip(lat, paper_l))}.",
        f"Pareto-choices that fell back on the most accurate solution (no front solution within "
        f"{100 * PSI_MARGIN:.1f} points of psi16): {fallbacks} of {sum(r['seeds'] for r in choices)}.",
    ]


def fallback_note(row: dict) -> str:
    """The Pareto-choice fallback column: "k / n seeds" when k of n choices fell back on the most accurate
    solution (none reached psi16 - PSI_MARGIN), "-" when none did."""
    return f"{row['fallbacks']} / {row['seeds']} seeds" if row.get("fallbacks") else "-"


def distinct_points(xs, ys) -> tuple:
    """(x, y, count) per distinct point (rounded to 6 significant digits), so a figure draws one marker per
    distinct objective vector with its multiplicity."""
    counts: dict = {}
    for x, y in zip(xs, ys):
        key = (float(f"{x:.6g}"), float(f"{y:.6g}"))
        counts[key] = counts.get(key, 0) + 1
    return [k[0] for k in counts], [k[1] for k in counts], list(counts.values())


def scatter_counted(ax, xs, ys, **style) -> None:
    """One marker per distinct (x, y), its area growing with the count, the count written beside it when > 1."""
    px, py, counts = distinct_points(xs, ys)
    ax.scatter(px, py, s=[18 + 10 * (c - 1) for c in counts], alpha=0.75, edgecolor="black", linewidth=0.4,
               **style)
    for x, y, c in zip(px, py, counts):
        if c > 1:
            ax.annotate(f"x{c}", (x, y), fontsize=6, xytext=(3, 3), textcoords="offset points")


def plot_fronts(fronts: dict, path, title: str, batches: dict | None = None) -> None:
    """Three 2-D projections (psi-E, E-L, psi-L) of each configuration's final 3-D fronts (all seeds), energy and
    latency per frame (a batch-b front divided by b), one marker per distinct point with its count (hw-flowq
    Fig. 8)."""
    plt = pyplot()
    fig, axes = plt.subplots(1, 3, figsize=(15, 4.4))
    batches = batches or {}
    per_frame = any(b > 1 for b in batches.values())
    frame = " per frame" if per_frame else ""
    labels = {"accuracy": "psi [%]", "energy": f"energy{frame} [normalised, 16-bit MAC = 1]",
              "latency_cycles": f"latency{frame} [cycles]"}
    pairs = (("energy", "accuracy"), ("energy", "latency_cycles"), ("latency_cycles", "accuracy"))
    markers = "osD^vP*X"
    for k, (label, seeds_fronts) in enumerate(fronts.items()):
        batch = batches.get(label, 1)
        front = [s for f in seeds_fronts for s in f]

        def value(s, key):
            return 100 * s["metrics"][key] if key == "accuracy" else s["metrics"][key] / batch

        for ax, (x, y) in zip(axes, pairs):
            scatter_counted(ax, [value(s, x) for s in front], [value(s, y) for s in front],
                            label=label, marker=markers[k % len(markers)])
            ax.set_xlabel(labels[x])
            ax.set_ylabel(labels[y])
    axes[0].legend(fontsize=7)
    fig.suptitle(f"{title}: final fronts of every seed (marker per distinct point, xN = N solutions)")
    save_figure(fig, path)


# ---- AlexNet on Eyeriss costs and the published numbers beside it (validate_eyeriss.py, fig5_validation.py) --------
LEVELS = ("mac", "rf", "array", "buffer", "dram")
#: Eyeriss chip, JSSC 2017 (Chen, Krishna, Emer, Sze), AlexNet CONV1-5 at batch 4: DRAM traffic (MB = 1e6 bytes,
#: feature maps run-length coded), processing time per batch (ms) and core clock (MHz).
CHIP_BATCH, CHIP_DRAM_MB, CHIP_MS, CHIP_MHZ = 4, 15.4, 115.3, 200.0
#: Timeloop's eyeriss_like CONV1 (REFERENCES.md 1.4): pJ/MAC, DRAM traffic / compulsory, cycles.
TIMELOOP_CONV1 = {"pj_per_mac": 8.22, "dram_over_compulsory": 5.46, "cycles": 798_600}
#: ... and its pJ/MAC per level (MAC 2.20; psum, weight and ifmap spads 0.52 + 1.61 + 0.25; GLB 0.46; DRAM 3.18;
#: Timeloop reports no separate network-on-chip energy).
TIMELOOP_CONV1_LEVELS = {"mac": 2.20, "rf": 0.52 + 1.61 + 0.25, "array": 0.0, "buffer": 0.46, "dram": 3.18}


def alexnet_layers(preset: str = "spatial-168", batch: int = 1, bits=(16,)) -> list[dict]:
    """AlexNet CONV1-5 (Eyeriss shapes) on `preset` (RS, energy-optimal Fine mappings), one row per (bitwidth,
    layer): energy by level (`e_<level>`), total and per MAC (the preset's energy unit), latency (cycles), DRAM
    traffic in bits (total, weights, feature maps) and as a multiple of the compulsory traffic.

    The last layer's output is written at 16 bit (it feeds the unquantised classifier)."""
    from hwmodels.fine import mapper
    from hwmodels.spec import load_spec
    from hwmodels.zoo import get_workload

    spec = load_spec(preset, dataflow="RS")
    workload = get_workload("alexnet-conv", batch=batch)
    rows = []
    for b in bits:
        for k, layer in enumerate(workload):
            b_out = b if k + 1 < len(workload) else spec.b_max
            cost = mapper.map_layer(layer, spec, b, b, b_out, objective="energy")
            compulsory = layer.n_weights * b + layer.n_inputs * b + layer.n_outputs * b_out
            weights_bits = cost.counts["weights"]["dram"] * b
            row = {"bits": b, "batch": batch, "layer": layer.name, "macs": layer.macs, "energy": cost.energy,
                   "energy_per_mac": cost.energy / layer.macs, "latency_cycles": cost.latency_cycles,
                   "utilization": cost.utilization, "dram_bits": cost.dram_accesses_bits,
                   "dram_weight_bits": weights_bits, "dram_fmap_bits": cost.dram_accesses_bits - weights_bits,
                   "compulsory_bits": compulsory, "compulsory_weight_bits": layer.n_weights * b,
                   "dram_over_compulsory": cost.dram_accesses_bits / compulsory}
            row.update({f"e_{lv}": cost.energy_by_level[lv] for lv in LEVELS})
            rows.append(row)
    return rows
