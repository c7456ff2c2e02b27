"""hw-flowq Fig. 6: DRAM accesses and throughput vs on-chip buffer size at the Coarse, Mid and Fine levels.

ResNet-18 (ImageNet 224) at uniform 16/8/4/2 bit on eyeriss-256-db with the global buffer swept from 16 KB to
2 MB and an off-chip bandwidth of 8 bytes/cycle (hw-flowq Sec. 5). Coarse lines are flat (no memory hierarchy);
Mid and Fine must never report fewer DRAM accesses or more throughput than Coarse, and approach it as the buffer
grows, lower precisions sooner. Writes fig6_levels.csv/.png, fig6.md/.csv, notes.md and env.json to --out.

    python experiments/fig6_levels.py [--quick | --full] [--out DIR] [--workload resnet18]
    (--quick: buffers 16/64/256/2048 KB; --full: 8 sizes; default out: experiments/results/fig6_levels)
"""

from __future__ import annotations

import csv
import math
from pathlib import Path

from hwmodels import api
from hwmodels.errors import MappingError
from hwmodels.spec import load_spec
from hwmodels.zoo import get_workload

KB_BITS = 1024 * 8
BUFFER_KB = (16, 32, 64, 128, 256, 512, 1024, 2048)
QUICK_BUFFER_KB = (16, 64, 256, 2048)
BITWIDTHS = (16, 8, 4, 2)
LEVEL_COLOURS = {"coarse": "tab:red", "mid": "tab:green", "fine": "tab:blue"}
BIT_MARKERS = {16: "o", 8: "s", 4: "D", 2: "^"}


def compute_curves(workload, spec, buffer_sizes_bits, bitwidths=BITWIDTHS, levels=("coarse", "mid", "fine"), *,
                   dram_bw_bits_per_cycle: float = 64.0, objective: str = "energy") -> list[dict]:
    """DRAM traffic and throughput of uniform-precision genomes for every (level, bitwidth, buffer size).

    Args:
        workload: list of `Layer`.
        spec: base accelerator; its buffer is replaced by each size and its bandwidth by `dram_bw_bits_per_cycle`.
        buffer_sizes_bits: global-buffer capacities to sweep, in bits.
        bitwidths: uniform bitwidths (b_w = b_a for every layer); each must be in `spec.bitwidths`.
        levels: any of "coarse", "mid", "fine".
        dram_bw_bits_per_cycle: off-chip bandwidth in bits per cycle (hw-flowq Fig. 6: 8 bytes = 64 bits).
        objective: the Fine mapper's per-layer objective.

    Returns:
        One row per point: level, bits, buffer_bits, dram_accesses_bits, throughput (MACs/cycle), latency_cycles,
        and note ("" or why Fine found no mapping; its numbers are then NaN).
    """
    base = spec.with_dram_bandwidth(dram_bw_bits_per_cycle)
    n_layers = len(workload)
    rows = []
    for bits in bitwidths:
        genome = [bits] * n_layers
        for buffer_bits in buffer_sizes_bits:
            sized = base.with_buffer_bits(int(buffer_bits))
            for level in levels:
                row = {"level": level, "bits": bits, "buffer_bits": int(buffer_bits), "note": ""}
                try:
                    total = api.evaluate(workload, sized, genome, genome, level=level, objective=objective).total
                    row.update(dram_accesses_bits=float(total["dram_accesses_bits"]),
                               throughput=float(total["throughput"]), latency_cycles=float(total["latency_cycles"]))
                except MappingError as error:
                    row.update(dram_accesses_bits=math.nan, throughput=math.nan, latency_cycles=math.nan,
                               note=str(error).split(" (")[0] + " has no legal mapping")
                rows.append(row)
    return rows


def write_csv(rows: list[dict], path: Path) -> None:
    """The curve rows as CSV (one line per level x bits x buffer size)."""
    fields = ["level", "bits", "buffer_bits", "dram_accesses_bits", "throughput", "latency_cycles", "note"]
    with open(path, "w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=fields)
        writer.writeheader()
        writer.writerows(rows)


def plot(rows: list[dict], path: Path, title: str) -> None:
    """Two panels as hw-flowq Fig. 6: DRAM accesses (Mbit) and throughput (MACs/cycle) vs buffer size (KB)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, (ax_dram, ax_tput) = plt.subplots(1, 2, figsize=(12, 4.5))
    keys = sorted({(row["level"], row["bits"]) for row in rows}, key=lambda k: (-k[1], k[0]))
    for level, bits in keys:
        points = sorted((r for r in rows if r["level"] == level and r["bits"] == bits), key=lambda r: r["buffer_bits"])
        kb = [r["buffer_bits"] / KB_BITS for r in points]
        style = dict(color=LEVEL_COLOURS[level], marker=BIT_MARKERS.get(bits, "x"), label=f"{level} {bits}-bit",
                     linestyle="--" if level == "coarse" else "-")
        ax_dram.plot(kb, [r["dram_accesses_bits"] / 1e6 for r in points], **style)
        ax_tput.plot(kb, [r["throughput"] for r in points], **style)
    for axis, label in ((ax_dram, "DRAM accesses (Mbit)"), (ax_tput, "throughput (MACs / cycle)")):
        axis.set_xscale("log", base=2)
        axis.set_yscale("log", base=2)
        axis.set_xlabel("on-chip buffer (KB)")
        axis.set_ylabel(label)
        axis.grid(True, which="both", alpha=0.3)
    handles, labels = ax_tput.get_legend_handles_labels()
    figure.legend(handles, labels, loc="lower center", ncol=6, fontsize=7)
    figure.suptitle(title)
    figure.tight_layout(rect=(0, 0.1, 1, 1))
    figure.savefig(path, dpi=120)
    plt.close(figure)


def table(rows: list[dict]) -> list[dict]:
    """One row per (bits, level): DRAM Mbit and MACs/cycle at every buffer size (the markdown table)."""
    sizes = sorted({r["buffer_bits"] for r in rows})
    out = []
    for bits in sorted({r["bits"] for r in rows}, reverse=True):
        for level in ("coarse", "mid", "fine"):
            points = {r["buffer_bits"]: r for r in rows if r["bits"] == bits and r["level"] == level}
            if not points:
                continue
            row = {"bits": bits, "level": level}
            for size in sizes:
                row[f"dram_{size}"] = points[size]["dram_accesses_bits"] / 1e6
                row[f"tput_{size}"] = points[size]["throughput"]
            out.append(row)
    return out


def notes(rows: list[dict]) -> list[str]:
    """The budget-independent checks of Fig. 6 on every point, and the Fine / Mid throughput gap."""
    coarse = {(r["bits"], r["buffer_bits"]): r for r in rows if r["level"] == "coarse"}
    others = [r for r in rows if r["level"] != "coarse" and not r["note"]]
    below = [r for r in others if r["dram_accesses_bits"] < coarse[(r["bits"], r["buffer_bits"])]
             ["dram_accesses_bits"] * (1 - 1e-9)]
    above = [r for r in others if r["throughput"] > coarse[(r["bits"], r["buffer_bits"])]["throughput"] * (1 + 1e-9)]
    biggest = max(r["buffer_bits"] for r in rows)
    at = {(r["level"], r["bits"]): r for r in rows if r["buffer_bits"] == biggest}
    lines = [f"Mid / Fine DRAM traffic below Coarse's: {len(below)} of {len(others)} points; throughput above "
             f"Coarse's: {len(above)} of {len(others)} points.",
             f"Throughput at {biggest // KB_BITS} KB, 16 bit: Coarse {at[('coarse', 16)]['throughput']:.1f}, Mid "
             f"{at[('mid', 16)]['throughput']:.1f}, Fine {at[('fine', 16)]['throughput']:.1f} MACs/cycle."]
    for level in ("mid", "fine"):
        for bits in sorted({r["bits"] for r in rows}, reverse=True):
            series = [r["dram_accesses_bits"] for r in sorted(rows, key=lambda r: r["buffer_bits"])
                      if r["level"] == level and r["bits"] == bits and not r["note"]]
            if any(b > a * (1 + 1e-9) for a, b in zip(series, series[1:])):
                lines.append(f"{level} {bits}-bit DRAM traffic rises somewhere as the buffer grows.")
    return lines


def main(argv=None) -> int:
    import common  # experiments/ is on the path when the script runs (tests load this module by file)

    def extra(parser):
        parser.add_argument("--workload", default="resnet18", help="zoo workload (default resnet18, as Fig. 6)")
        parser.add_argument("--hw", default="eyeriss-256-db", help="preset or YAML (Fine level's accelerator)")

    run, args = common.parse_args("fig6_levels", __doc__.splitlines()[0], argv, extra)
    sizes = [kb * KB_BITS for kb in (QUICK_BUFFER_KB if run.quick else BUFFER_KB)]
    rows = compute_curves(get_workload(args.workload), load_spec(args.hw), sizes)
    write_csv(rows, run.path("fig6_levels.csv"))
    plot(rows, run.path("fig6_levels.png"), f"hw-flowq Fig. 6: {args.workload} on {args.hw}, 8 bytes/cycle off-chip")
    columns = [("bits", "bits", "d"), ("level", "level", "s")]
    columns += [(f"DRAM {s // KB_BITS} KB [Mbit]", f"dram_{s}", ".1f") for s in sizes]
    columns += [(f"{s // KB_BITS} KB [MACs/cyc]", f"tput_{s}", ".1f") for s in sizes]
    paths = common.write_table(run, "fig6", f"hw-flowq Fig. 6: {args.workload} on {args.hw}", columns, table(rows))
    paths.append(common.write_notes(run, notes(rows)))
    common.finish(run, paths + [run.path("fig6_levels.csv"), run.path("fig6_levels.png")])
    return 0


if __name__ == "__main__":
    import common

    raise SystemExit(common.main_guard(main))
