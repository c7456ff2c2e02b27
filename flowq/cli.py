"""`flowq` command line: search, refine, plot, hw and demo.

    flowq search --model resnet20 --dataset digits --level fine --hw spatial-256 --dataflow RS --algo nsga2 \
                 --pop 25 --gen 50 --out runs/x [--seed S] [--evaluator finetune|proxy] [--epochs E]
    flowq refine runs/x --level mid [--constraint frac_ops=0.35] [--gen 10] [--out runs/x/mid]
    flowq plot runs/x
    flowq hw resnet20 --hw spatial-256 [--dataflow RS|WS|OS] [--bits 8 | --genome FILE] [--level fine] [--json]
    flowq demo --out runs/demo

Errors on bad input (FlowQError) print their message and exit with status 2, without a traceback.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

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
    return constraints


def _fixed_bits(text: str):
    if text.lower() == "none":
        return None
    try:
        return int(text)
    except ValueError:
        raise GenomeError(f"--fixed-bits {text!r}: give a bitwidth (e.g. 16) or 'none' to search the first/last "
                          f"layers too") from None


def _add_search_options(parser, *, defaults: bool):
    """Options shared by `search` and `refine` (refine leaves unset ones to the previous run)."""
    d = (lambda value: value) if defaults else (lambda value: None)
    parser.add_argument("--algo", choices=("nsga2", "soga"), default=d("nsga2"), help="genetic algorithm")
    parser.add_argument("--pop", type=int, default=d(25), help="population size |P| (hw-flowq: 25 or 50)")
    parser.add_argument("--gen", type=int, default=d(50), help="generations n (hw-flowq: 50)")
    parser.add_argument("--seed", type=int, default=d(0), help="fixes every random choice")
    parser.add_argument("--objectives", default=None,
                        help="comma-separated metric names (default per level, e.g. accuracy,energy,latency_cycles)")
    parser.add_argument("--constraint", action="append", metavar="METRIC=LIMIT",
                        help="e.g. frac_ops=0.35: at most 35%% of the 16-bit baseline; accuracy=0.9: psi >= 0.9")
    parser.add_argument("--soga-threshold", type=float, default=None,
                        help="accuracy threshold t of hw-flowq eq. 1 for --algo soga (default 0.05)")
    parser.add_argument("--quiet", action="store_true", help="no per-generation progress lines")
    parser.add_argument("--workers", type=int, default=None,
                        help="evaluate candidates in N local worker processes (torch threads = cores // N each)")
    parser.add_argument("--dask", default=None, metavar="ADDRESS",
                        help="evaluate candidates on a Dask cluster: tcp://HOST:8786, or local:N to start N "
                             "local workers (needs pip install 'flowq[distributed]')")


def _add_evaluator_options(parser, *, defaults: bool):
    d = (lambda value: value) if defaults else (lambda value: None)
    parser.add_argument("--evaluator", choices=("finetune", "proxy"), default=d("finetune"),
                        help="how accuracy is measured: brief fine-tuning (hw-flowq 3.2.1) or the loss proxy")
    parser.add_argument("--epochs", type=float, default=None, help="fine-tuning epochs per candidate")


def build_parser() -> argparse.ArgumentParser:
    """The argparse parser of every sub-command."""
    parser = argparse.ArgumentParser(prog="flowq", description="Hardware-aware mixed-precision quantization "
                                     "(HW-FlowQ): Coarse -> Mid -> Fine genetic search.")
    sub = parser.add_subparsers(dest="command", required=True)

    search = sub.add_parser("search", help="run one genetic search at one abstraction level")
    search.add_argument("--model", default="resnet20")
    search.add_argument("--dataset", default="digits")
    search.add_argument("--level", choices=LEVELS, default="fine")
    search.add_argument("--hw", default="spatial-256", help="preset name or YAML path")
    search.add_argument("--dataflow", choices=("RS", "WS", "OS"), default=None)
    search.add_argument("--out", required=True, help="run folder (results.json, plots, per-generation files)")
    search.add_argument("--tie", action="store_true", help="one locus per layer with b_A = b_W (hw-flowq 6.1)")
    search.add_argument("--fixed-bits", default="16", help="first/last layer bits, or 'none' to search them")
    search.add_argument("--adc-bits", default=None, help="--level reram: 'search' (one ADC gene per layer) or bits "
                        "(default: the spec's lossless resolution); --fixed-bits 16 means the spec's b_max there")
    search.add_argument("--bitwidths", default=None, help="comma-separated alleles (default: the hardware's)")
    search.add_argument("--resume", action="store_true", help="continue from OUT/checkpoint.pkl")
    _add_search_options(search, defaults=True)
    _add_evaluator_options(search, defaults=True)

    refine = sub.add_parser("refine", help="search the next level seeded with a run's Pareto set")
    refine.add_argument("run", help="run folder of the previous level")
    refine.add_argument("--level", choices=LEVELS, required=True)
    refine.add_argument("--hw", default=None, help="hardware of the refined level (default: the run's)")
    refine.add_argument("--dataflow", choices=("RS", "WS", "OS"), default=None)
    refine.add_argument("--out", default=None, help="default: RUN/LEVEL")
    _add_search_options(refine, defaults=False)
    _add_evaluator_options(refine, defaults=False)

    plot = sub.add_parser("plot", help="(re)draw a run's Pareto, hypervolume and bitwidth plots")
    plot.add_argument("run")
    plot.add_argument("--out", default=None, help="folder for the PNGs (default: the run folder)")

    hw = sub.add_parser("hw", help="hardware cost of one genome, per layer and total")
    hw.add_argument("model", help="zoo workload name, e.g. resnet20, alexnet")
    hw.add_argument("--hw", default="spatial-256")
    hw.add_argument("--dataflow", choices=("RS", "WS", "OS"), default=None)
    group = hw.add_mutually_exclusive_group()
    group.add_argument("--bits", type=int, default=None, help="uniform bitwidth (default: the spec's b_max)")
    group.add_argument("--genome", default=None, help="JSON with bits_w/bits_a (e.g. a results.json front entry "
                       "or a whole results.json: its HV-leader)")
    hw.add_argument("--batch", type=int, default=1)
    hw.add_argument("--level", choices=LEVELS, default="fine")
    hw.add_argument("--objective", choices=("energy", "latency", "edp"), default="energy",
                    help="what the Fine mapper minimises per layer")
    hw.add_argument("--json", action="store_true", help="print {total, layers} as JSON")
    hw.add_argument("--adc-bits", default=None, help="ReRAM specs: ADC bits of every layer (default: lossless)")

    demo = sub.add_parser("demo", help="Coarse -> Mid -> Fine of ResNet-20 on digits with real fine-tuning")
    demo.add_argument("--out", default="runs/demo")
    demo.add_argument("--seed", type=int, default=0)
    demo.add_argument("--pop", type=int, default=None, help="population per level (default: budgeted)")
    demo.add_argument("--gen", type=int, default=None, help="generations per level (default: budgeted)")
    demo.add_argument("--evaluator", choices=("finetune", "proxy"), default="finetune")
    demo.add_argument("--quiet", action="store_true")
    demo.add_argument("--workers", type=int, default=None, help="local worker processes for fine-tuning")
    demo.add_argument("--dask", default=None, metavar="ADDRESS", help="Dask scheduler address or local:N")

    cache = sub.add_parser("cache", help="the shared evaluation cache ($FLOWQ_CACHE_DIR/results.sqlite)")
    cache.add_argument("action", choices=("stats", "list", "clear"))
    cache.add_argument("--model", default=None, help="only the results of this model")
    cache.add_argument("--limit", type=int, default=50, help="list: at most this many rows (newest first)")
    return parser


# ---- commands ------------------------------------------------------------------------------------------
def _problem_options(args) -> dict:
    options = {}
    if getattr(args, "objectives", None):
        options["objectives"] = tuple(name.strip() for name in args.objectives.split(",") if name.strip())
    if getattr(args, "constraint", None):
        options["constraints"] = _constraints(args.constraint)
    if getattr(args, "algo", None) == "soga":
        from flowq.flow import DEFAULT_SOGA_THRESHOLD

        options["soga_threshold"] = args.soga_threshold or DEFAULT_SOGA_THRESHOLD
    from flowq.cli_reram import search_options

    options.update(search_options(args))  # --level reram: --adc-bits (ADC genes or fixed bits)
    return options


def cmd_search(args) -> int:
    from flowq.flow import Flow

    problem_kwargs = {"tie": args.tie, "fixed_bits": _fixed_bits(args.fixed_bits)}
    if args.bitwidths:
        problem_kwargs["bitwidths"] = tuple(int(b) for b in args.bitwidths.split(","))
    flow = Flow(args.model, args.dataset, args.evaluator, hw=args.hw, dataflow=args.dataflow, epochs=args.epochs,
                seed=args.seed, verbose=not args.quiet, **problem_kwargs)
    problem = flow.problem(args.level, **_problem_options(args))
    result = flow.search(problem, args.algo, args.gen, pop_size=args.pop, out=args.out, resume=args.resume)
    _report(result)
    return 0


def cmd_refine(args) -> int:
    from flowq.flow import Flow, SearchResult

    previous = SearchResult.load(args.run)
    config = previous.data["config"]
    meta = previous.data.get("evaluator", {})
    evaluator = args.evaluator or meta.get("kind", "finetune")
    epochs = args.epochs if args.epochs is not None else meta.get("epochs")
    seed = args.seed if args.seed is not None else previous.data.get("seed", 0)
    flow = Flow(config["model"], config["dataset"], evaluator, hw=args.hw or config["hw"],
                dataflow=args.dataflow or (None if args.hw else config["dataflow"]), epochs=epochs, seed=seed,
                verbose=not args.quiet, tie=config["tie"], fixed_bits=config["fixed_bits"], batch=config["batch"])
    if evaluator == meta.get("kind") and epochs == meta.get("epochs"):
        flow.preload_accuracy(previous.out)
    options = _problem_options(args)
    constraints = options.pop("constraints", None)
    out = Path(args.out) if args.out else previous.out / args.level
    problem = flow.problem(args.level, constraints=dict(previous.data.get("constraints", {}), **(constraints or {})),
                           **options)
    result = flow.refine(previous, problem, algorithm=args.algo or "nsga2", n_gen=args.gen or 50,
                         pop_size=args.pop or 25, out=out)
    _report(result)
    return 0


def cmd_plot(args) -> int:
    from flowq.plots import plot_run

    for path in plot_run(args.run, args.out):
        print(f"wrote {path}")
    return 0


def _read_genome(path, n_layers: int):
    try:
        data = json.loads(Path(path).read_text())
    except FileNotFoundError:
        raise GenomeError(f"--genome {path}: no such file") from None
    except json.JSONDecodeError as error:
        raise GenomeError(f"--genome {path}: not valid JSON ({error})") from None
    if isinstance(data, dict) and "front" in data and "bits_w" not in data:
        index = data.get("hv_leader")
        if index is None:
            raise GenomeError(f"--genome {path}: this results.json has an empty front; pick one genome file")
        data = data["front"][index]
    if not isinstance(data, dict) or "bits_w" not in data:
        raise GenomeError(f"--genome {path}: expected a JSON object with 'bits_w' (and 'bits_a') lists of "
                          f"{n_layers} bitwidths, e.g. an entry of a results.json 'front'")
    bits_w = [int(b) for b in data["bits_w"]]
    bits_a = [int(b) for b in data.get("bits_a", bits_w)]
    if len(bits_w) != n_layers or len(bits_a) != n_layers:
        raise GenomeError(f"--genome {path}: {len(bits_w)} bits_w / {len(bits_a)} bits_a entries, but the workload "
                          f"has {n_layers} layers")
    return bits_w, bits_a


def _fmt(value) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:.4g}"
    return str(value)


def _mapping_text(mapping) -> str:
    if mapping is None:
        return "-"
    if isinstance(mapping, dict):
        return "; ".join(f"{k}={v}" for k, v in mapping.items())
    return str(mapping)


def cmd_hw(args) -> int:
    import numpy as np

    from hwmodels.api import evaluate
    from hwmodels.spec import load_spec
    from hwmodels.zoo import get_workload

    from flowq.cli_reram import cmd_hw_reram, is_reram_hw

    if is_reram_hw(args.hw):  # ReRAM crossbar level (hwmodels.reram)
        bits = _read_genome(args.genome, len(get_workload(args.model))) if args.genome else (None, None)
        return cmd_hw_reram(args, *bits)
    if args.adc_bits is not None:
        raise FlowQError("--adc-bits applies to ReRAM specs (--hw reram-neurosim, reram-bwq, reram-puma)")
    spec = load_spec(args.hw, dataflow=args.dataflow)
    workload = get_workload(args.model, batch=args.batch)
    if args.genome:
        bits_w, bits_a = _read_genome(args.genome, len(workload))
    else:
        bits = args.bits if args.bits is not None else spec.b_max
        bits_w = bits_a = [bits] * len(workload)
    cost = evaluate(workload, spec, np.asarray(bits_w), np.asarray(bits_a), level=args.level,
                    objective=args.objective)
    report = cost.to_json()
    if args.json:
        from flowq.callbacks import dumps

        print(dumps({"level": report["level"], "hw": spec.name, "dataflow": spec.dataflow, "model": args.model,
                     "bits_w": list(bits_w), "bits_a": list(bits_a), "total": report["total"],
                     "layers": report["layers"]}))
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
        rows.append([str(layer.get("name", k)), "" if is_total else str(bits_w[k]),
                     "" if is_total else str(bits_a[k])] + [_fmt(values[c]) for c in columns])
    widths = [max(len(header[j]), *(len(r[j]) for r in rows)) for j in range(len(header))]
    print(f"{args.model} on {spec.name} ({spec.dataflow}, {args.level} level, batch {args.batch})")
    print("  ".join(h.rjust(w) for h, w in zip(header, widths)))
    for row in rows:
        print("  ".join(v.rjust(w) for v, w in zip(row, widths)))
    if args.level == "fine":
        print("\nmappings:")
        for layer in report["layers"]:
            print(f"  {layer.get('name')}: {_mapping_text(layer.get('mapping'))}")
    return 0


def cmd_demo(args) -> int:
    from flowq.flow import run_demo

    run_demo(args.out, seed=args.seed, pop_size=args.pop, n_gen=args.gen, evaluator=args.evaluator,
             verbose=not args.quiet)
    return 0


def _report(result) -> None:
    data = result.data
    print(f"{result.level}: {len(data['front'])} Pareto solutions, final hypervolume "
          f"{data['hypervolume'][-1]:.5f}, {data['n_accuracy_evaluations']} accuracy evaluations "
          f"({data['accuracy_seconds']:.1f} s) in {data['seconds']:.1f} s")
    leader = result.leader("hv")
    if leader is not None:
        print("HV-leader: " + ", ".join(f"{k}={_fmt(v)}" for k, v in leader["metrics"].items()
                                        if k in data["objectives"]))
    elif data.get("constraints"):
        print(f"no candidate meets the constraints {data['constraints']}: relax them, or step back a level")
    if result.out is not None:
        print(f"results: {result.out / 'results.json'}")


def cmd_cache(args) -> int:
    from flowq.cache import ResultCache

    cache = ResultCache.default()
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


COMMANDS = {"search": cmd_search, "refine": cmd_refine, "plot": cmd_plot, "hw": cmd_hw, "demo": cmd_demo,
            "cache": cmd_cache}


def main(argv=None) -> int:
    """Entry point of the `flowq` console script; returns the exit status."""
    args = build_parser().parse_args(argv)
    try:
        from flowq.executor import make_executor, using

        with using(make_executor(getattr(args, "workers", None), getattr(args, "dask", None))):
            return COMMANDS[args.command](args)
    except FlowQError as error:
        print(f"flowq {args.command}: error: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted; finished generations are in the run folder (results.json, checkpoint.pkl) and every "
              "finished evaluation is in the result cache", file=sys.stderr)
        if args.command == "search":
            print(f"resume with: {_resume_command(argv)}", file=sys.stderr)
        return 130


if __name__ == "__main__":
    raise SystemExit(main())
