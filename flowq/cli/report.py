"""`flowq report`: a run's HTML report."""

from __future__ import annotations

def cmd_report(args) -> int:
    from flowq.report import write_report

    print(f"wrote {write_report(args.run, args.out, hardware=not args.no_hardware, verbose=True)}")
    return 0
