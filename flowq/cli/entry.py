"""The `flowq` entry point: dispatch, exit statuses, SIGINT / SIGTERM messages."""

from __future__ import annotations

import sys
from pathlib import Path

from flowq.cli.args import _given_options, build_parser
from flowq.cli.cache import cmd_cache
from flowq.cli.common import _STARTED
from flowq.cli.compare import cmd_compare
from flowq.cli.demo import cmd_demo
from flowq.cli.hw import cmd_hw
from flowq.cli.plot import cmd_plot
from flowq.cli.report import cmd_report
from flowq.cli.search import cmd_refine, cmd_search
from flowq.cli.train import cmd_train
from hwmodels.errors import FlowQError


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
