"""Validate the Fine mapper on AlexNet CONV1-5 with Eyeriss' normalised costs (hw-flowq Sec. 4, Fig. 5 top-left).

Eyeriss ISCA'16 / hw-flowq Table 1 costs: DRAM 200, buffer 6, array 2, RF 1, MAC 1 per 16-bit access, on the
Spatial-168 preset (12 x 14 PEs, 224/12/16-word RFs, 128 KB buffer, row stationary). Prints the per-layer energy
breakdown by level and DRAM traffic as a multiple of the compulsory floor for 16/8/4/2-bit vectorised execution,
compares CONV1 with Timeloop's Eyeriss-like mapping (REFERENCES.md 1.4) and writes `eyeriss_breakdown.csv` and `eyeriss_breakdown.png` (stacked bars like hw-flowq Fig. 5) into --out.

    python experiments/validate_eyeriss.py [--quick | --full] [--out DIR] [--batch 1] [--preset spatial-168]

--quick maps 16 and 4 bit only; --full (default) all of 16/8/4/2. The default --out is
experiments/results/validate_eyeriss/.
"""

from __future__ import annotations

import argparse
import csv
from pathlib import Path

from hwmodels.fine import mapper
from hwmodels.spec import load_spec
from hwmodels.zoo import get_workload

LEVELS = ("mac", "rf", "array", "buffer", "dram")
BITS = (16, 8, 4, 2)
QUICK_BITS = (16, 4)
DEFAULT_OUT = Path(__file__).resolve().parent / "results" / "validate_eyeriss"


def breakdown(preset: str = "spatial-168", batch: int = 1, bits=BITS) -> list[dict]:
    """One row per (bitwidth, layer): energy by level, total, latency, DRAM traffic / compulsory."""
    spec = load_spec(preset, dataflow="RS")
    workload = get_workload("alexnet-conv", batch=batch)
    rows = []
    for b in bits:
        for k, layer in enumerate(workload):
            b_out = b if k + 1 < len(workload) else spec.b_max
            cost = mapper.map_layer(layer, spec, b, b, b_out, objective="energy")
            compulsory = layer.n_weights * b + layer.n_inputs * b + layer.n_outputs * b_out
            row = {"bits": b, "layer": layer.name, "macs": layer.macs, "energy": cost.energy,
                   "latency_cycles": cost.latency_cycles, "utilization": cost.utilization,
                   "dram_over_compulsory": cost.dram_accesses_bits / compulsory}
            row.update({f"e_{lv}": cost.energy_by_level[lv] for lv in LEVELS})
            rows.append(row)
    return rows


def plot(rows: list[dict], path: Path) -> None:
    """Stacked bars of energy by level per layer, one group per bitwidth (hw-flowq Fig. 5 style)."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    bits = sorted({r["bits"] for r in rows}, reverse=True)
    fig, axes = plt.subplots(1, len(bits), figsize=(3.2 * len(bits), 3.6), sharey=True)
    axes = axes if len(bits) > 1 else [axes]
    colors = {"mac": "#4c72b0", "rf": "#55a868", "array": "#c44e52", "buffer": "#8172b2", "dram": "#ccb974"}
    for ax, b in zip(axes, bits):
        sub = [r for r in rows if r["bits"] == b]
        bottom = [0.0] * len(sub)
        for lv in LEVELS:
            values = [r[f"e_{lv}"] for r in sub]
            ax.bar([r["layer"].upper() for r in sub], values, bottom=bottom, color=colors[lv], label=lv.upper())
            bottom = [x + y for x, y in zip(bottom, values)]
        ax.set_title(f"{b}-bit")
        ax.tick_params(axis="x", rotation=45)
    axes[0].set_ylabel("normalised energy (16-bit MAC = 1)")
    axes[-1].legend(fontsize=7)
    fig.suptitle("AlexNet CONV1-5, Fine level, Eyeriss costs (RS)")
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=str(DEFAULT_OUT), help="output folder for the CSV and PNG")
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument("--quick", action="store_true", help=f"bitwidths {QUICK_BITS} only")
    mode.add_argument("--full", action="store_true", help=f"bitwidths {BITS} (default)")
    parser.add_argument("--preset", default="spatial-168", help="accelerator preset (default: Eyeriss costs)")
    parser.add_argument("--batch", type=int, default=1)
    args = parser.parse_args(argv)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    rows = breakdown(args.preset, args.batch, QUICK_BITS if args.quick else BITS)
    header = ["bits", "layer"] + [f"e_{lv}" for lv in LEVELS] + ["energy", "e/MAC", "DRAM/compulsory", "util"]
    print(" ".join(f"{h:>12}" for h in header))
    for r in rows:
        values = [r["bits"], r["layer"]] + [f"{r[f'e_{lv}']:.4g}" for lv in LEVELS]
        values += [f"{r['energy']:.4g}", f"{r['energy'] / r['macs']:.3f}", f"{r['dram_over_compulsory']:.2f}",
                   f"{r['utilization']:.2f}"]
        print(" ".join(f"{v:>12}" for v in values))
    with open(out / "eyeriss_breakdown.csv", "w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    plot(rows, out / "eyeriss_breakdown.png")
    conv1 = get_workload("alexnet-conv", batch=args.batch)[0]
    timeloop = mapper.map_layer(conv1, load_spec("eyeriss-like-timeloop"), 16, 16, 16, objective="energy")
    compulsory_bits = (conv1.n_weights + conv1.n_inputs + conv1.n_outputs) * 16
    print(f"CONV1 on eyeriss-like-timeloop (pJ table of REFERENCES.md 1.4): {timeloop.energy / conv1.macs:.2f} pJ/MAC"
          f" (Timeloop's mapping: 8.22), DRAM {timeloop.dram_accesses_bits / compulsory_bits:.2f}x compulsory "
          f"(Timeloop: 5.46x), {timeloop.latency_cycles:,.0f} cycles (Timeloop: 798,600)")
    print(f"wrote {out / 'eyeriss_breakdown.csv'} and {out / 'eyeriss_breakdown.png'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
