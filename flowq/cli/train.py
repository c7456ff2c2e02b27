"""`flowq train`: train a run's chosen genome and report its test accuracy."""

from __future__ import annotations

import sys

from flowq.cli.search import _check_cache, _evaluator_options


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
