"""`flowq plot`: redraw a run's PNGs."""

from __future__ import annotations

def cmd_plot(args) -> int:
    from flowq import runs
    from flowq.plots import plot_run

    runs.read_results(args.run)
    runs.check_output_folder(args.out if args.out is not None else runs.results_path(args.run).parent)
    for path in plot_run(args.run, args.out):
        print(f"wrote {path}")
    return 0
