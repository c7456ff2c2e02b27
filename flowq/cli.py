"""`flowq` command line: search, refine, plot, hw and demo.

    flowq search --model resnet20 --dataset digits --level fine --hw spatial-256 --dataflow RS --algo nsga2 \
                 --pop 25 --gen 50 --out runs/x [--seed S] [--evaluator finetune|proxy] [--epochs E]
    flowq refine runs/x --level mid [--constraint frac_ops=0.35] [--gen 10] [--out runs/x/mid]
    flowq train runs/x [--pick hv|accuracy|compression|INDEX] [--epochs E] [--finetune]
    flowq plot runs/x
    flowq report runs/x [--out FILE]
    flowq hw resnet20 --hw spatial-256 [--dataflow RS|WS|OS] [--bits 8 | --genome FILE] [--level fine] [--json]
             [--layer NAME] [--mapping FILE]
    flowq demo --out runs/demo
    flowq compare runs/a runs/b ... [--leader accuracy|hv|compression] [--out similarity.png]

Errors on bad input (FlowQError) print their message and exit with status 2, without a traceback.
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
from pathlib import Path

from flowq.hwbreakdown import mapping_store as _mapping_store, mapping_text as _mapping_text
from hwmodels.errors import FlowQError, GenomeError

LEVELS = ("coarse", "mid", "fine", "reram")


# ---- argument helpers ------------------------------------------------------------------------------
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
    from flowq.cli_codesign import add_search_arguments

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


# ---- commands ------------------------------------------------------------------------------------------
def _problem_options(args) -> dict:
    """Per-problem options from the command line (objectives, constraints, SOGA threshold)."""
    options = {}
    if getattr(args, "objectives", None):
        options["objectives"] = tuple(name.strip() for name in args.objectives.split(",") if name.strip())
    if getattr(args, "constraint", None):
        options["constraints"] = _constraints(args.constraint)
    if getattr(args, "mapper_objective", None) is not None:
        options["mapper_objective"] = args.mapper_objective
    if getattr(args, "algo", None) == "soga":
        from flowq.flow import DEFAULT_SOGA_THRESHOLD

        options["soga_threshold"] = DEFAULT_SOGA_THRESHOLD if args.soga_threshold is None else args.soga_threshold
    from flowq.cli_reram import search_options

    options.update(search_options(args))  # --level reram: --adc-bits (ADC genes or fixed bits)
    return options


def _evaluator_options(args) -> dict:
    """Evaluator constructor options given on the command line (only those set)."""
    options = {}
    for name, key in (("quantizer", "quantizer"), ("data_dir", "data_root"), ("device", "device"),
                      ("shared_finetune", "finetune_steps")):
        if getattr(args, name, None) is not None:
            options[key] = getattr(args, name)
    if getattr(args, "threads", None) is not None:
        options["threads"] = args.threads
    if getattr(args, "weights", None) is not None:  # pretrained float weights of --model
        options["weights"] = args.weights
    return options


def build_flow(args, run=None):
    """The `Flow` of a command: from the arguments (search), or from the run folder `run` with the arguments that
    were given overriding its recorded settings (refine, train). Extend HERE for new problem/evaluator options."""
    from flowq.flow import Flow

    common = dict(verbose=not getattr(args, "quiet", False), evaluator_kwargs=_evaluator_options(args))
    if getattr(args, "hv_leader", None) is not None:
        common["hv_rule"] = args.hv_leader
    if run is not None:
        overrides = {}
        if getattr(args, "bitwidths", None):
            overrides["bitwidths"] = _bitwidths(args.bitwidths)
        if getattr(args, "evaluator_seed", None) is not None:
            overrides["evaluator_seed"] = args.evaluator_seed
        return Flow.from_run(run, evaluator=getattr(args, "evaluator", None), hw=getattr(args, "hw", None),
                             dataflow=getattr(args, "dataflow", None), epochs=getattr(args, "epochs", None),
                             seed=getattr(args, "seed", None), **common, **overrides)
    problem_kwargs = {"tie": args.tie, "fixed_bits": _fixed_bits(args.fixed_bits), "batch": args.batch}
    if args.bitwidths:
        problem_kwargs["bitwidths"] = _bitwidths(args.bitwidths)
    return Flow(args.model, args.dataset, args.evaluator, hw=args.hw, dataflow=args.dataflow, epochs=args.epochs,
                seed=args.seed, evaluator_seed=args.evaluator_seed or 0, **common, **problem_kwargs)


#: `flowq search --resume`: options taken from the run when not given (argparse dests); a given one that differs
#: from the run is refused by `flowq.runs` (or applied: --gen, --workers, --dask, --quiet)
RESUME_FROM_RUN = ("model", "dataset", "level", "hw", "dataflow", "tie", "fixed_bits", "batch", "bitwidths", "algo",
                   "pop", "gen", "seed", "objectives", "constraint", "soga_threshold", "hv_leader", "evaluator",
                   "epochs", "quantizer", "data_dir", "device", "evaluator_seed", "weights")


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


def _resume_arguments(args) -> dict:
    """--resume: fill the options not given with the run's (so only given ones are compared); returns the run's
    results.json. A given --model or --dataset other than the run's is refused here (the rest in flowq.runs)."""
    from flowq import runs
    from flowq.models import model_name

    folder = Path(args.out)
    if not (folder / runs.CHECKPOINT).is_file():
        there = "the run finished or never checkpointed" if runs.holds_run(folder) else "no run there"
        raise runs.RunError(f"--resume: {folder} has no {runs.CHECKPOINT} to resume from ({there}); drop --resume "
                            f"to start a new run" + (" with --force" if runs.holds_run(folder) else ""))
    data = runs.read_results(folder)
    config, given = data["config"], args.given
    for dest, option, value in (("model", "--model", model_name(args.model)), ("dataset", "--dataset", args.dataset)):
        if dest in given and value != config.get(dest):
            raise runs.RunError(f"--resume of {folder} cannot change {option} {value!r} (the run's: "
                                f"{config.get(dest)!r}); resume without it, or start a new run with --force or "
                                f"another --out")
    recorded = {"level": data["level"], "algo": data.get("algorithm"), "pop": data.get("pop_size"),
                "gen": data.get("n_gen"), "seed": data.get("seed"), "objectives": ",".join(data["objectives"]),
                "constraint": [f"{k}={v}" for k, v in data["constraints"].items()] or None,
                "soga_threshold": config.get("soga_threshold")}
    for dest in RESUME_FROM_RUN:
        if dest not in given:
            setattr(args, dest, recorded.get(dest))
    return data


def _check_cache() -> None:
    """Open the result cache before any work: a corrupt or unwritable one ends the command with its path."""
    from flowq.cache import ResultCache

    ResultCache.default()


def _announce_cost(args, flow, options: dict) -> None:
    """Say up front (before the hardware baseline and float training) when a search may take more than an hour:
    candidates x measured or expected seconds per candidate."""
    from flowq.cache import ResultCache
    from flowq.estimate import WARN_SECONDS, format_duration, search_estimate, seconds_per_candidate
    from problems import PROBLEMS

    objectives = options.get("objectives") or PROBLEMS[args.level].default_objectives
    if "accuracy" not in objectives and "accuracy" not in (options.get("constraints") or {}):
        return
    kind = flow._evaluator if isinstance(flow._evaluator, str) else getattr(flow._evaluator, "kind", "finetune")
    per, how = seconds_per_candidate(ResultCache.default(), flow.model, kind, args.epochs)
    candidates, total = search_estimate(args.pop, args.gen, per)
    if total > WARN_SECONDS:
        print(f"estimated cost: up to {candidates} candidates ({args.pop} x {args.gen} generations) x {per:.1f} s "
              f"({how}) = {format_duration(total)}, plus float training on first use. Ctrl-C stops after the "
              f"candidates in flight; --resume continues", file=sys.stderr, flush=True)


def _trackers(args) -> list:
    """The experiment trackers `--log BACKEND DIR` asks for (flowq.tracking; the backend imported only then)."""
    if not getattr(args, "log", None):
        return []
    from flowq.tracking import make_tracker

    return [make_tracker(*args.log)]


def cmd_search(args) -> int:
    from flowq import runs

    if args.resume:
        _resume_arguments(args)  # before the folder check, which would create a missing folder
    _check_cache()
    runs.check_output_folder(args.out)
    flow = build_flow(args, run=args.out if args.resume else None)
    flow.trackers = _trackers(args)
    if args.hw_space:  # co-design: the accelerator is searched too (flowq.cli_codesign)
        from flowq.cli_codesign import codesign_search

        _report(codesign_search(flow, args, _problem_options(args)))
        return 0
    options = _problem_options(args)
    if args.resume:  # the run's genome settings unless given (a differing one is refused by flowq.runs)
        options.update(_resumed_problem_options(args))
    _announce_cost(args, flow, options)
    problem = flow.problem(args.level, **options)
    _check_population(args.pop, problem)
    result = flow.search(problem, args.algo, args.gen, pop_size=args.pop, out=args.out, resume=args.resume,
                         force=args.force)
    return _report(result, flow)


def _resumed_problem_options(args) -> dict:
    """The genome settings given with --resume (the run's otherwise, through `Flow.from_run`)."""
    options = {}
    if "tie" in args.given:
        options["tie"] = args.tie
    if "fixed_bits" in args.given:
        options["fixed_bits"] = _fixed_bits(args.fixed_bits)
    if "batch" in args.given:
        options["batch"] = args.batch
    return options


#: Largest population x genome loci a search accepts (the GA holds a few arrays of this many integers)
MAX_POPULATION_LOCI = 10 ** 7


def _check_population(pop: int, problem) -> None:
    if pop * problem.n_var > MAX_POPULATION_LOCI:
        raise GenomeError(f"--pop {pop}: {pop} x {problem.n_var} genome loci exceeds {MAX_POPULATION_LOCI:.0e}; "
                          f"hw-flowq uses 25 or 50 (every candidate is a network to evaluate)")


def cmd_refine(args) -> int:
    from flowq import runs
    from flowq.flow import SearchResult

    previous = SearchResult.load(args.run)
    runs.check_output_folder(args.out if args.out is not None else previous.out / args.level)
    _check_cache()
    flow = build_flow(args, run=previous.out)
    flow.trackers = _trackers(args)
    flow.preload_accuracy(previous.out)  # only when the same evaluator measured the same float network
    options = _problem_options(args)
    out = Path(args.out) if args.out else previous.out / args.level
    problem = flow.problem(args.level, constraints=dict(previous.data.get("constraints", {}),
                                                        **options.pop("constraints", {})), **options)
    result = flow.refine(previous, problem, algorithm=args.algo or previous.data.get("algorithm", "nsga2"),
                         n_gen=args.gen if args.gen is not None else previous.data.get("n_gen", 50),
                         pop_size=args.pop if args.pop is not None else previous.data.get("pop_size", 25), out=out,
                         force=args.force)
    return _report(result, flow)


def cmd_train(args) -> int:
    from flowq import runs
    from flowq.train import train_run

    runs.read_results(args.run)  # a bad run folder is reported before the output folder is made
    runs.check_output_folder(args.out if args.out is not None else runs.results_path(args.run).parent / runs.TRAINED)
    _check_cache()
    summary = train_run(args.run, pick=args.pick, epochs=args.epochs, from_scratch=not args.finetune,
                        out=args.out, evaluator_kwargs=_evaluator_options(args),
                        evaluator_seed=args.evaluator_seed, verbose=True,
                        export=(args.export,) if args.export else ())
    if summary.get("failed"):
        print(f"training failed: {summary['reason']}", file=sys.stderr)
        return 1
    psi = summary.get("search_accuracy")
    print(f"test accuracy {100 * summary['test_accuracy']:.2f} % (search accuracy psi on the validation split "
          f"{'-' if psi is None else f'{100 * psi:.2f} %'}); wrote {summary['folder']}")
    return 0


def cmd_plot(args) -> int:
    from flowq import runs
    from flowq.plots import plot_run

    runs.read_results(args.run)
    runs.check_output_folder(args.out if args.out is not None else runs.results_path(args.run).parent)
    for path in plot_run(args.run, args.out):
        print(f"wrote {path}")
    return 0


def cmd_report(args) -> int:
    from flowq.report import write_report

    print(f"wrote {write_report(args.run, args.out, hardware=not args.no_hardware, verbose=True)}")
    return 0


def _read_genome(path, n_layers: int):
    from flowq.runs import read_genome

    return read_genome(path, n_layers)


def _fmt(value) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:.4g}"
    return str(value)


def _hw_workload(args) -> list:
    """`flowq hw`'s workload: an ONNX file's layers, a network built for --dataset (a factory, or a zoo name with
    --dataset) traced as a search traces it, or the zoo table."""
    if str(args.model).lower().endswith(".onnx"):
        from flowq.models.onnx_workload import onnx_workload

        return onnx_workload(args.model, batch=args.batch)
    if args.dataset is not None or ":" in str(args.model):
        from flowq.data import dataset_shape
        from flowq.models import network_workload

        shape = dataset_shape(args.dataset or "digits", root=args.data_dir)
        return network_workload(args.model, shape, args.batch)
    from hwmodels.zoo import get_workload

    return get_workload(args.model, batch=args.batch)


def _objective_totals(workload, spec, bits_w, bits_a, shown_total: dict, shown_objective: str) -> dict:
    """Fine network totals (energy, latency_cycles, compute_cycles, dram_accesses_bits, utilization) with every layer
    mapped energy-optimally and latency-optimally: the energy-optimal mappings hide the latency low bits can buy
    (issue 18). `shown_total` is the total of `shown_objective`'s mappings (not mapped again)."""
    import numpy as np

    from hwmodels.api import evaluate

    keys = ("energy", "latency_cycles", "compute_cycles", "dram_accesses_bits", "utilization")
    out = {}
    for objective in ("energy", "latency"):
        total = shown_total if objective == shown_objective else evaluate(
            workload, spec, np.asarray(bits_w), np.asarray(bits_a), level="fine", objective=objective).total
        out[objective] = {key: total[key] for key in keys}
    return out


def cmd_hw(args) -> int:
    from flowq.hwbreakdown import genome_cost, with_mapping_text
    from hwmodels.zoo import get_workload
    from flowq.cli_reram import cmd_hw_reram, is_reram_hw
    from hwmodels.api import check_hardware_file, load_hardware

    check_hardware_file(args.hw)

    if is_reram_hw(args.hw):  # ReRAM crossbar level (hwmodels.reram)
        bits = _read_genome(args.genome, len(get_workload(args.model))) if args.genome else (None, None)
        return cmd_hw_reram(args, *bits)
    if args.adc_bits is not None:
        raise FlowQError("--adc-bits applies to ReRAM specs (--hw reram-neurosim, reram-bwq, reram-puma)")
    from flowq.cli_codesign import solution_spec
    from flowq.runs import read_genome

    if args.genome:
        read_genome(args.genome)  # a malformed genome file is reported here, before any reader meets it

    spec = solution_spec(args.genome, args.hw_space) if args.genome else None  # a co-design solution's hardware
    if args.dataflow == "any" and not args.mapping:
        raise FlowQError("--dataflow any applies to --mapping FILE (evaluating mappings as written); a search "
                         "needs RS, WS or OS")
    spec = spec if spec is not None else load_hardware(args.hw, None if args.dataflow == "any" else args.dataflow)
    if args.unrolling is not None:
        if args.level != "fine":
            raise FlowQError(f"--unrolling applies to the Fine level (the {args.level} level has no spatial mapping)")
        from hwmodels.spec import validate_spec

        spec = validate_spec(dataclasses.replace(spec, unrolling=args.unrolling))
    if args.spec_yaml:
        from hwmodels.space import spec_to_yaml

        print(spec_to_yaml(spec), end="")
        return 0
    workload = _hw_workload(args)
    if args.genome:
        bits_w, bits_a = _read_genome(args.genome, len(workload))
    else:
        bits = args.bits if args.bits is not None else spec.b_max
        bits_w = bits_a = [bits] * len(workload)
    with _mapping_store(args.level):
        if args.mapping or args.layer:
            from hwmodels.fine.notation import evaluate_for_cli

            cost = evaluate_for_cli(workload, spec, bits_w, bits_a, mapping_file=args.mapping, layer=args.layer,
                                    level=args.level, objective=args.objective,
                                    dataflow="any" if args.dataflow == "any" else None)
            report = with_mapping_text(cost.to_json(), workload, spec)
        else:
            report = genome_cost(workload, spec, bits_w, bits_a, level=args.level, objective=args.objective)
            if args.level == "fine":
                report["by_mapper_objective"] = _objective_totals(workload, spec, bits_w, bits_a, report["total"],
                                                                  args.objective)
    layer_of = {layer.name: layer for layer in workload}
    if args.json:
        from flowq.runs import dumps

        extra = {"by_mapper_objective": report["by_mapper_objective"]} if "by_mapper_objective" in report else {}
        print(dumps({"level": report["level"], "hw": spec.name, "dataflow": spec.dataflow, "model": args.model,
                     "bits_w": list(bits_w), "bits_a": list(bits_a), "total": report["total"],
                     "layers": report["layers"], **extra}))
        return 0
    columns = ("energy", "mac", "rf", "array", "buffer", "dram", "latency_cycles", "dram_accesses_bits",
               "utilization")
    header = ["layer", "b_w", "b_a"] + list(columns)
    rows = []
    for k, layer in enumerate(list(report["layers"]) + [dict(report["total"], name="TOTAL")]):
        by_level = layer.get("energy_by_level") or {}
        values = {**{c: layer.get(c) for c in columns}, **{c: by_level.get(c) for c in ("mac", "rf", "array",
                                                                                         "buffer", "dram")}}
        is_total = k == len(report["layers"])
        position = list(layer_of).index(layer["name"]) if layer.get("name") in layer_of else k  # --layer
        rows.append([str(layer.get("name", k)), "" if is_total else str(bits_w[position]),
                     "" if is_total else str(bits_a[position])] + [_fmt(values[c]) for c in columns])
    widths = [max(len(header[j]), *(len(r[j]) for r in rows)) for j in range(len(header))]
    print(f"{args.model} on {spec.name} ({spec.dataflow}, {args.level} level, batch {args.batch})")
    print("  ".join(h.rjust(w) for h, w in zip(header, widths)))
    for row in rows:
        print("  ".join(v.rjust(w) for v, w in zip(row, widths)))
    if "by_mapper_objective" in report:
        print(f"\nnetwork totals by mapper objective (the table shows --objective {args.objective}):")
        for objective, total in report["by_mapper_objective"].items():
            print(f"  {objective + '-optimal mappings':<26} energy {_fmt(total['energy']):>10}  latency_cycles "
                  f"{_fmt(total['latency_cycles']):>10}  utilization {_fmt(total['utilization'])}")
    if args.level == "fine":
        print("\nmappings:")
        for layer in report["layers"]:
            print(f"  {layer.get('name')}: {layer.get('mapping_text') or _mapping_text(layer.get('mapping'))}")
    return 0


def cmd_compare(args) -> int:
    from flowq.agents.similarity import format_matrix, plot_similarity, policy_vector, result_policy, \
        similarity_matrices
    from flowq.flow import SearchResult

    names, policies = [], []
    for run in args.runs:
        result = SearchResult.load(run)
        names.append(f"{result.data.get('algorithm', '?')}:{Path(run).name}")
        policies.append(result_policy(result.data, args.leader))
        n_layers = len(result.data["config"]["layer_names"])
    if len({len(p) for p in policies}) > 1:
        raise GenomeError("the runs search networks of different depths; compare runs of one network")
    if args.reference_bits:
        reference = [args.reference_bits] * n_layers
        fixed = result.data["config"].get("fixed_bits")
        if fixed is not None and n_layers > 2:  # the first/last layers stay at the runs' fixed bitwidth
            reference[0] = reference[-1] = int(fixed)
        names.append(f"W{args.reference_bits}A{args.reference_bits}")
        policies.append(policy_vector(reference))
    cos, man = similarity_matrices(policies)
    print("cosine similarity\n" + format_matrix(names, cos) + "\n")
    print("Manhattan distance [bits]\n" + format_matrix(names, man, "{:.0f}"))
    path = plot_similarity(names, cos, man, args.out or "similarity.png")
    print(f"wrote {path}")
    return 0


def cmd_demo(args) -> int:
    from flowq.demo import run_demo

    run_demo(args.out, seed=args.seed, pop_size=args.pop, n_gen=args.gen, evaluator=args.evaluator,
             budget_s=args.budget, threads=args.threads, verbose=not args.quiet)
    return 0


def _metric_text(name: str, value) -> str:
    """A metric as a person reads it: accuracy psi in %, the rest as stored."""
    if name == "accuracy" and isinstance(value, (int, float)):
        return f"accuracy={100 * value:.2f} %"
    return f"{name}={_fmt(value)}"


def _report(result, flow=None) -> int:
    """Print a search's summary (every phase with its wall time); returns the exit status: 1 when every candidate
    failed (with the first failure's reason), else 0."""
    import time

    data = result.data
    resumed = data.get("resumed_sessions", 0)
    print(f"{result.level}: {len(data['front'])} Pareto solutions, final hypervolume {data['hypervolume'][-1]:.5f}, "
          f"{data['n_accuracy_evaluations']} accuracy evaluations ({data['accuracy_seconds']:.1f} s of evaluation"
          f"{' over all sessions of the run' if resumed else ''})")
    evaluator = getattr(flow, "_evaluator", None) if flow is not None else None
    float_phase = getattr(evaluator, "float_phase", lambda: None)() if evaluator is not None else None
    phases = [] if float_phase is None else [float_phase]
    phases.append(f"search {data['seconds']:.1f} s" + (" (this session)" if resumed else ""))
    print(f"wall time {time.perf_counter() - _STARTED[0]:.1f} s: " + ", ".join(phases) + "; the rest is set-up, "
          f"plots and files")
    leader = result.leader("hv")
    if leader is not None:
        print("HV-leader: " + ", ".join(_metric_text(k, v) for k, v in leader["metrics"].items()
                                        if k in data["objectives"]))
    elif data.get("constraints"):
        print(f"no candidate meets the constraints {data['constraints']}: relax them, or step back a level")
    if result.out is not None:
        print(f"results: {result.out / 'results.json'}")
    failed = data.get("failed") or []
    if failed and not data["front"] and len(failed) >= data.get("n_distinct_genomes", len(failed)):
        reason = failed[0].get("metrics", {}).get("accuracy_reason") or "no reason recorded"
        print(f"every candidate's accuracy evaluation failed ({len(failed)}); the first: {reason}", file=sys.stderr)
        return 1
    return 0


def cmd_cache(args) -> int:
    from flowq.cache import ResultCache

    cache = ResultCache.default()
    if args.model is not None and args.action in ("stats", "list") and args.model not in cache.stats()["models"]:
        known = ", ".join(sorted(m for m in cache.stats()["models"] if m)) or "none"
        raise FlowQError(f"--model {args.model!r}: the cache {cache.path} holds no results of it (models: {known})")
    if args.action == "stats":
        stats = cache.stats()
        if args.model is not None:
            stats["models"] = {m: v for m, v in stats["models"].items() if m == args.model}
            stats["rows"] = sum(sum(kinds.values()) for kinds in stats["models"].values())
        print(f"{stats['path']}: {stats['rows']} results, {stats['bytes'] / 1e6:.2f} MB")
        for model, kinds in stats["models"].items():
            print(f"  {model or '-'}: " + ", ".join(f"{kind or '-'} {n}" for kind, n in kinds.items()))
    elif args.action == "list":
        for row in cache.entries(model=args.model, limit=args.limit):
            value, parts = row["value"], row["parts"]
            print(f"{row['key']}  {row['model'] or '-'}  {row['kind'] or '-'}  psi={_fmt(value.get('psi'))}  "
                  f"bits_w={parts.get('bits_w', '-')}  bits_a={parts.get('bits_a', '-')}")
    else:
        removed = cache.clear(model=args.model)
        print(f"removed {removed} results from {cache.path}" + (f" (model {args.model})" if args.model else ""))
    return 0


def _resume_command(argv) -> str:
    import shlex

    words = list(sys.argv[1:] if argv is None else argv)
    if "--resume" not in words:
        words.append("--resume")
    return "flowq " + shlex.join(str(w) for w in words)


COMMANDS = {"search": cmd_search, "refine": cmd_refine, "train": cmd_train, "plot": cmd_plot, "report": cmd_report,
            "hw": cmd_hw,
            "demo": cmd_demo,
            "compare": cmd_compare, "cache": cmd_cache}


_STARTED = [0.0]  # time.perf_counter() when the command started (summaries give the whole wall time)


class Terminated(KeyboardInterrupt):
    """SIGTERM outside a search's own graceful stop (e.g. during float training): ends the command like Ctrl-C."""


def _on_sigterm(signum, frame):
    raise Terminated()


def _interrupted(args, argv, error) -> int:
    """The message of a command stopped by SIGINT / SIGTERM: what is kept and how to continue; 130 or 143."""
    from flowq import runs

    what = "terminated (SIGTERM)" if isinstance(error, Terminated) else "interrupted"
    out = getattr(args, "out", None) if args.command in ("search", "refine") else None
    if out is not None and (Path(out) / runs.CHECKPOINT).is_file():
        print(f"{what}; finished generations are in {out} (results.json, checkpoint.pkl) and every finished "
              f"evaluation is in the result cache", file=sys.stderr)
        if args.command == "search":
            print(f"resume with: {_resume_command(argv)}", file=sys.stderr)
    else:
        print(f"{what} before a generation was finished (float training or the first candidates): no run to resume"
              f"; finished evaluations and a finished float network are in the result cache, so rerunning the "
              f"command reuses them", file=sys.stderr)
    return 143 if isinstance(error, Terminated) else 130


def main(argv=None) -> int:
    """Entry point of the `flowq` console script; returns the exit status."""
    import signal
    import time

    _STARTED[0] = time.perf_counter()
    args = build_parser().parse_args(argv)
    if args.command == "search":
        args.given = _given_options(argv)
    previous = signal.signal(signal.SIGTERM, _on_sigterm)
    try:
        from flowq.executor import make_executor, using

        with using(make_executor(getattr(args, "workers", None), getattr(args, "dask", None))):
            return COMMANDS[args.command](args)
    except FlowQError as error:
        print(f"flowq {args.command}: error: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt as error:
        return _interrupted(args, argv, error)
    finally:
        signal.signal(signal.SIGTERM, previous)


if __name__ == "__main__":
    raise SystemExit(main())
