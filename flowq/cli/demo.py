"""`flowq demo`: Coarse -> Mid -> Fine of ResNet-20 on digits."""

from __future__ import annotations

def cmd_demo(args) -> int:
    from flowq.demo import run_demo

    run_demo(args.out, seed=args.seed, pop_size=args.pop, n_gen=args.gen, evaluator=args.evaluator,
             budget_s=args.budget, threads=args.threads, verbose=not args.quiet)
    return 0
