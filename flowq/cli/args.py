"""The `flowq` argument parser: every sub-command's options and their checks."""

from __future__ import annotations

import argparse

from flowq.cli.common import LEVELS
from hwmodels.errors import GenomeError


def _constraints(items) -> dict:
    constraints = {}
    for item in items or []:
        name, sep, value = item.partition("=")
        try:
            constraints[name.strip()] = float(value)
        except ValueError:
            sep = ""
        if not sep:
            raise GenomeError(f"--constraint {item!r}: write METRIC=LIMIT, e.g. frac_ops=0.35 (35 % of the 16-bit "
                              f"baseline) or accuracy=0.9 (psi >= 0.9)")
        limit = constraints[name.strip()]
        if name.strip() == "accuracy" and not 0.0 < limit <= 1.0:
            raise GenomeError(f"--constraint {item!r}: accuracy is a fraction, 0 < psi <= 1 (e.g. accuracy=0.9 for "
                              f"psi >= 90 %)")
        if not 0.0 < limit < float("inf"):
            raise GenomeError(f"--constraint {item!r}: a hardware limit is a positive fraction of the 16-bit network "
                              f"(e.g. frac_ops=0.35)")
    return constraints


def _fixed_bits(text: str):
    if text.lower() == "none":
        return None
    try:
        return int(text)
    except ValueError:
        raise GenomeError(f"--fixed-bits {text!r}: give a bitwidth (e.g. 16) or 'none' to search the first/last "
                          f"layers too") from None


def _int_at_least(minimum: int, what: str):
    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not an integer") from None
        if value < minimum:
            raise argparse.ArgumentTypeError(f"{value}: {what} must be >= {minimum}")
        return value
    return parse


def _finite_float(*, zero_allowed: bool):
    """argparse type: a finite float > 0, or >= 0 with `zero_allowed` (NaN and inf are rejected)."""
    def parse(text: str) -> float:
        try:
            value = float(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
        if not (value >= 0 if zero_allowed else value > 0) or value == float("inf"):
            raise argparse.ArgumentTypeError(f"{text}: must be a finite number {'>=' if zero_allowed else '>'} 0")
        return value
    return parse


_positive_float = _finite_float(zero_allowed=False)


_nonneg_float = _finite_float(zero_allowed=True)


def _bitwidths(text: str) -> tuple:
    try:
        bits = tuple(int(b) for b in text.split(","))
    except ValueError:
        raise GenomeError(f"--bitwidths {text!r}: write comma-separated integers, e.g. 2,4,8,16") from None
    if not bits or min(bits) < 1:
        raise GenomeError(f"--bitwidths {text!r}: bitwidths are integers >= 1")
    return bits


_positive_int = _int_at_least(1, "this count")


_seed = _int_at_least(0, "a seed")


def _add_search_options(parser, *, defaults: bool):
    """Options shared by `search` and `refine` (refine leaves unset ones to the previous run)."""
    d = (lambda value: value) if defaults else (lambda value: None)
    parser.add_argument("--algo", choices=("nsga2", "soga", "random", "ddpg", "ppo", "vpg", "releq", "moppo"),
                        default=d("nsga2"), help="genetic algorithm, random search (the baseline: --pop uniform "
                        "distinct genomes per generation), or an RL agent (one generation = --pop episodes; moppo: "
                        "one weight-conditioned policy for the whole front)")
    parser.add_argument("--pop", type=_int_at_least(2, "the population"), default=d(25),
                        help="population size |P| (hw-flowq: 25 or 50)")
    parser.add_argument("--gen", type=_positive_int, default=d(50), help="generations n (hw-flowq: 50)")
    parser.add_argument("--seed", type=_seed, default=d(0),
                        help="GA seed: fixes every random choice of the search (not the float network)")
    parser.add_argument("--objectives", default=None,
                        help="comma-separated metric names (default per level, e.g. accuracy,energy,latency_cycles)")
    parser.add_argument("--constraint", action="append", metavar="METRIC=LIMIT",
                        help="e.g. frac_ops=0.35: at most 35%% of the 16-bit baseline; accuracy=0.9: psi >= 0.9")
    parser.add_argument("--soga-threshold", type=_positive_float, default=None,
                        help="accuracy threshold t of hw-flowq eq. 1 for --algo soga (default 0.05)")
    parser.add_argument("--mapper-objective", choices=("energy", "latency", "edp"), default=None,
                        help="what the Fine mapper minimises per layer (default: the Fine problem's, "
                        "problems.fine.DEFAULT_MAPPER_OBJECTIVE; refine and --resume keep the run's)")
    parser.add_argument("--hv-leader", choices=("paper", "rescaled"), default=None,
                        help="HV-leader rule: hw-flowq 6.2's distance on the stored normalised objectives (paper, "
                             "default) or after rescaling each objective to [0, 1] over the front")
    parser.add_argument("--log", nargs=2, metavar=("BACKEND", "DIR"), default=None,
                        help="log every generation (hypervolume, front size, best per objective, the front, the "
                        "config) to an experiment tracker: tensorboard DIR (pip install 'flowq[tensorboard]')")
    parser.add_argument("--force", action="store_true", help="overwrite a run already in the output folder")
    parser.add_argument("--quiet", action="store_true", help="no per-generation progress lines")
    parser.add_argument("--workers", type=int, default=None,
                        help="evaluate candidates in N local worker processes (torch threads = cores // N each)")
    parser.add_argument("--dask", default=None, metavar="ADDRESS",
                        help="evaluate candidates on a Dask cluster: tcp://HOST:8786, or local:N to start N "
                             "local workers (needs pip install 'flowq[distributed]')")


def _add_evaluator_options(parser, *, defaults: bool):
    d = (lambda value: value) if defaults else (lambda value: None)
    parser.add_argument("--evaluator", choices=("finetune", "proxy", "shared"), default=d("finetune"),
                        help="how accuracy is measured: brief fine-tuning (hw-flowq 3.2.1), the loss proxy, or one "
                        "weight-sharing any-precision network trained once (BatchNorm re-estimated per candidate)")
    parser.add_argument("--epochs", type=_nonneg_float, default=None, help="fine-tuning epochs per candidate")
    parser.add_argument("--shared-finetune", type=_int_at_least(0, "--shared-finetune"), default=None,
                        metavar="STEPS", help="--evaluator shared: SGD steps per candidate on top of the shared "
                        "network (default 0)")
    _add_model_options(parser)


def _add_model_options(parser):
    """Options of the accuracy evaluator shared by search, refine and train (None: default / the run's)."""
    parser.add_argument("--quantizer", choices=("pact", "dorefa", "wrpn", "xnor"), default=None,
                        help="quantisation scheme: pact (DoReFa weights + PACT activations, default), dorefa, wrpn, "
                             "xnor (1-bit layers binarised with per-filter scale)")
    parser.add_argument("--data-dir", default=None, help="folder of the cifar10 / imagefolder dataset (recorded "
                        "as an absolute path)")
    parser.add_argument("--weights", default=None, metavar="FILE", help="pretrained float state dict of --model "
                        "(torch.save(model.state_dict(), FILE)): no float training; its accuracy is measured and "
                        "recorded")
    parser.add_argument("--device", default=None, help="evaluator device: cpu, cuda, cuda:N (default: cuda if "
                        "available)")
    parser.add_argument("--threads", type=_positive_int, default=None,
                        help="torch threads of every accuracy evaluation (default 1: the same in serial, --workers "
                             "and Dask workers, so psi does not depend on the executor or machine; another count "
                             "gives other, equally valid numbers under another cache key)")
    parser.add_argument("--evaluator-seed", type=_seed, default=None,
                        help="seed of the float network and fine-tuning (default 0; independent of --seed)")


class _HelpFormatter(argparse.ArgumentDefaultsHelpFormatter):
    """--help shows each option's default (unless it is None or a flag)."""

    def _get_help_string(self, action):
        if action.default in (None, False) or action.default is argparse.SUPPRESS:
            return action.help
        return super()._get_help_string(action)


def build_parser() -> argparse.ArgumentParser:
    """The argparse parser of every sub-command."""
    parser = argparse.ArgumentParser(prog="flowq", description="Hardware-aware mixed-precision quantization "
                                     "(HW-FlowQ): Coarse -> Mid -> Fine genetic search.")
    sub = parser.add_subparsers(dest="command", required=True)
    sub_parser = sub.add_parser
    sub.add_parser = lambda *a, **kw: sub_parser(*a, formatter_class=_HelpFormatter, **kw)

    search = sub.add_parser("search", help="run one genetic search at one abstraction level")
    search.add_argument("--model", default="resnet20", help="zoo name (resnet20, vgg16, lenet5, mobilenetv2, ...), "
                        "or your own network: package.module:factory or path/to/file.py:factory (a callable returning "
                        "an nn.Module, given num_classes and input_size when it accepts them)")
    search.add_argument("--dataset", default="digits", help="digits (bundled), cifar10 or imagefolder (--data-dir)")
    search.add_argument("--level", choices=LEVELS, default="fine")
    search.add_argument("--hw", default="spatial-256", help="preset name or YAML path")
    search.add_argument("--dataflow", choices=("RS", "WS", "OS"), default=None)
    search.add_argument("--out", required=True, help="run folder (results.json, plots, per-generation files)")
    search.add_argument("--tie", action="store_true", help="one locus per layer with b_A = b_W (hw-flowq 6.1)")
    search.add_argument("--fixed-bits", default="16", help="first/last layer bits, or 'none' to search them")
    search.add_argument("--adc-bits", default=None, help="--level reram: 'search' (one ADC gene per layer) or bits "
                        "(default: the spec's lossless resolution); --fixed-bits 16 means the spec's b_max there")
    search.add_argument("--bitwidths", default=None, help="comma-separated alleles (default: the hardware's)")
    search.add_argument("--batch", type=_positive_int, default=1, help="batch size of the hardware workload")
    search.add_argument("--resume", action="store_true", help="continue from OUT/checkpoint.pkl")
    from flowq.cli.codesign import add_search_arguments

    add_search_arguments(search)  # --hw-space, --strategy, --inner-evals (co-design)
    _add_search_options(search, defaults=True)
    _add_evaluator_options(search, defaults=True)

    refine = sub.add_parser("refine", help="search the next level seeded with a run's Pareto set")
    refine.add_argument("run", help="run folder of the previous level")
    refine.add_argument("--level", choices=LEVELS, required=True)
    refine.add_argument("--hw", default=None, help="hardware of the refined level (default: the run's)")
    refine.add_argument("--dataflow", choices=("RS", "WS", "OS"), default=None)
    refine.add_argument("--out", default=None, help="default: RUN/LEVEL")
    refine.add_argument("--bitwidths", default=None, help="comma-separated alleles (default: the run's)")
    _add_search_options(refine, defaults=False)
    _add_evaluator_options(refine, defaults=False)

    train = sub.add_parser("train", help="train a run's chosen genome (from scratch by default), report its TEST "
                           "accuracy, write RUN/trained/ (weights, trained.json, model.onnx)")
    train.add_argument("run", help="run folder")
    train.add_argument("--pick", default="hv", help="hv (default), accuracy, compression or a front index")
    train.add_argument("--epochs", type=_nonneg_float, default=None,
                       help="training epochs (default: the base recipe's, 15)")
    train.add_argument("--finetune", action="store_true",
                       help="fine-tune the pretrained float network longer instead of training from scratch")
    train.add_argument("--out", default=None, help="default: RUN/trained")
    train.add_argument("--export", choices=("qdq", "qonnx", "both"), default=None,
                       help="also write standard quantised ONNX (model_qdq.onnx for ONNX Runtime, model_qonnx.onnx "
                       "with QONNX Quant nodes), each checked on the validation split (pip install 'flowq[export]')")
    _add_model_options(train)

    plot = sub.add_parser("plot", help="(re)draw a run's Pareto, hypervolume and bitwidth plots")
    plot.add_argument("run")
    plot.add_argument("--out", default=None, help="folder for the PNGs (default: the run folder)")

    report = sub.add_parser("report", help="write a run's self-contained HTML report (Pareto fronts of every level, "
                            "hover and click for bitwidths and per-layer hardware cost, HV curves, config)")
    report.add_argument("run", help="run folder (its refined levels in sub-folders are included)")
    report.add_argument("--out", default=None, help="HTML file (default: RUN/report.html)")
    report.add_argument("--no-hardware", action="store_true",
                        help="leave out the per-layer hardware cost of each front solution (faster)")

    hw = sub.add_parser("hw", help="hardware cost of one genome, per layer and total")
    hw.add_argument("model", help="zoo workload name (e.g. resnet20, alexnet), an ONNX file (model.onnx: its "
                    "Conv/Gemm layers, shapes inferred) or your network as package.module:factory / file.py:factory")
    hw.add_argument("--dataset", default=None, help="build MODEL for this dataset's input size and classes (digits, "
                    "cifar10, imagefolder with --data-dir); default: the zoo table, or digits for a factory")
    hw.add_argument("--data-dir", default=None, help="folder of an imagefolder / cifar10 dataset")
    hw.add_argument("--hw", default="spatial-256")
    hw.add_argument("--dataflow", choices=("RS", "WS", "OS", "any"), default=None,
                    help="dataflow (default: the spec's); with --mapping the mappings must follow it, 'any' "
                    "evaluates them as written")
    group = hw.add_mutually_exclusive_group()
    group.add_argument("--bits", type=int, default=None, help="uniform bitwidth (default: the spec's b_max)")
    group.add_argument("--genome", default=None, help="JSON with bits_w/bits_a (e.g. a results.json front entry "
                       "or a whole results.json: its HV-leader)")
    hw.add_argument("--batch", type=_positive_int, default=1)
    hw.add_argument("--level", choices=LEVELS, default="fine")
    hw.add_argument("--objective", choices=("energy", "latency", "edp"), default="energy",
                    help="what the Fine mapper minimises per layer")
    hw.add_argument("--unrolling", choices=("fill", "any"), default=None,
                    help="Fine mapper's spatial space (default: the spec's, 'fill'): fill = each array axis unrolled "
                    "as far as the dataflow allows; any = every factor down to one PE")
    hw.add_argument("--json", action="store_true", help="print {total, layers} as JSON")
    hw.add_argument("--adc-bits", default=None, help="ReRAM specs: ADC bits of every layer (default: lossless)")
    hw.add_argument("--mapping", default=None, help="evaluate these mappings instead of searching: a file of "
                    "'layer: DRAM[W,I,O] Q55 C3 - GLB[I,O] P55 M12(spatial X) - PE R11 M8' lines "
                    "(hwmodels.fine.notation), or one mapping with --layer")
    hw.add_argument("--layer", default=None, help="report only this layer (Fine level)")
    hw.add_argument("--hw-space", default=None, help="co-design: the space a --genome solution was searched in "
                    "(default: the one its results.json names); its own accelerator is then used")
    hw.add_argument("--spec-yaml", action="store_true", help="print the accelerator as a preset YAML (e.g. of a "
                    "co-design --genome solution) and exit")

    compare = sub.add_parser("compare", help="policy similarity (benq IV-C) between runs: cosine and Manhattan "
                             "matrices, benq Fig. 4-style heatmaps")
    compare.add_argument("runs", nargs="+", help="run folders (results.json) of the same network")
    compare.add_argument("--leader", choices=("accuracy", "hv", "compression"), default="accuracy",
                         help="which front solution is a run's policy (benq: best accuracy under the constraint)")
    compare.add_argument("--reference-bits", type=int, default=8,
                         help="add a uniform W<b>A<b> policy row (benq Fig. 4 uses W8A8); 0 leaves it out")
    compare.add_argument("--out", default=None, help="PNG path of the heatmaps (default: similarity.png here)")

    demo = sub.add_parser("demo", help="Coarse -> Mid -> Fine of ResNet-20 on digits in ~9 minutes: searches on the "
                          "shared any-precision network, the Fine front re-measured by fine-tuning")
    demo.add_argument("--out", default="runs/demo")
    demo.add_argument("--seed", type=_seed, default=0)
    demo.add_argument("--pop", type=_int_at_least(2, "the population"), default=None,
                      help="population per level (default 10, shrunk to fit the time budget)")
    demo.add_argument("--gen", type=_positive_int, default=None,
                      help="generations per level (default 6 within the time budget; given: no budget)")
    demo.add_argument("--evaluator", choices=("shared", "proxy", "finetune"), default="shared",
                      help="accuracy during the searches (default shared; the Fine front is re-measured by "
                           "fine-tuning unless finetune)")
    demo.add_argument("--budget", type=_positive_float, default=None,
                      help="seconds the demo plans for, one-off training included (default 540)")
    demo.add_argument("--threads", type=_positive_int, default=None, help="torch threads of the evaluators (default 1)")
    demo.add_argument("--quiet", action="store_true")
    demo.add_argument("--workers", type=int, default=None, help="local worker processes for fine-tuning")
    demo.add_argument("--dask", default=None, metavar="ADDRESS", help="Dask scheduler address or local:N")

    cache = sub.add_parser("cache", help="the shared evaluation cache ($FLOWQ_CACHE_DIR/results.sqlite)")
    cache.add_argument("action", choices=("stats", "list", "clear"))
    cache.add_argument("--model", default=None, help="only the results of this model")
    cache.add_argument("--limit", type=_positive_int, default=50, help="list: at most this many rows (newest first)")
    return parser


def _given_options(argv) -> set:
    """The argparse dests given on the command line `argv` (parsed again with every default suppressed)."""
    parser = build_parser()
    actions = list(parser._actions)
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for subparser in action.choices.values():
                actions.extend(subparser._actions)
    for action in actions:
        if action.dest != "command":
            action.default = argparse.SUPPRESS
    return set(vars(parser.parse_args(argv)))
