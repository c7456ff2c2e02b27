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
import sys
from dataclasses import dataclass
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
#: `--gens 2` (as in EXPERIMENTS.md) lets the population evolve once.
QUICK_BUDGET = Budget(pop_size=4, n_gen=1)
FULL_BUDGET = Budget(pop_size=25, n_gen=50)


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
    """

    name: str
    quick: bool
    out: Path
    data_dir: Path | None
    seed: int
    device: str | None
    custom_budget: Budget | None = None

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
    parser.add_argument("--seed", type=int, default=0, help="seed of every search and evaluator")
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
    run = Run(name, bool(args.quick), out, Path(args.data_dir) if args.data_dir else None, int(args.seed),
              args.device, custom)
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
        return LossProxyEvaluator(model, "digits", seed=run.seed, device=run.device, **kwargs)
    if run.data_dir is None:
        raise FlowQError(f"--full needs --data-dir: the CIFAR-10 folder (python format) for {model}'s accuracy")
    kwargs.setdefault("epochs", FULL_FINETUNE_EPOCHS)
    return FineTuneEvaluator(model, "cifar10", seed=run.seed, device=run.device, data_root=run.data_dir, **kwargs)


def pareto_choice(front: list, min_psi: float, key=None) -> dict | None:
    """The Pareto-choice of hw-flowq Tables 3/4: among front solutions with psi >= `min_psi`, the one with the
    lowest energy x latency (or `key(metrics)`); the most accurate solution when none reaches `min_psi`."""
    if not front:
        return None
    key = key or (lambda m: m["energy"] * m["latency_cycles"])
    accurate = [s for s in front if s["metrics"].get("accuracy", 0.0) >= min_psi]
    if accurate:
        return min(accurate, key=lambda s: key(s["metrics"]))
    return max(front, key=lambda s: s["metrics"].get("accuracy", 0.0))


# ---- output ---------------------------------------------------------------------------------------------------
def fmt(value, spec: str = ".4g") -> str:
    """A table cell: '-' for None / NaN, else `format(value, spec)` (strings as they are)."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "-"
    if isinstance(value, str):
        return value
    return format(value, spec)


def print_table(title: str, columns: list, rows: list, file=None) -> str:
    """Print rows as a fixed-width table; columns are (header, key, format spec) and a row is a dict.

    Paper numbers go in their own columns next to ours (headers "... paper"), so one line reads side by side.
    Returns the printed text.
    """
    cells = [[fmt(row.get(key), spec) for _, key, spec in columns] for row in rows]
    widths = [max([len(header)] + [len(c[i]) for c in cells]) for i, (header, _, _) in enumerate(columns)]
    lines = [title, "  ".join(h.rjust(w) for (h, _, _), w in zip(columns, widths))]
    lines.append("  ".join("-" * w for w in widths))
    lines += ["  ".join(c.rjust(w) for c, w in zip(cell, widths)) for cell in cells]
    text = "\n".join(lines)
    print(text, file=file or sys.stdout, flush=True)
    return text


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
