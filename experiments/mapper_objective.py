"""Which objective should the Fine mapper minimise per layer by default? (issue 18 item 4)

For ResNet-20 and MobileNetV2 on spatial-256 with RS / WS / OS at uniform 16, 8, 6, 4 and 2 bits, every layer is
mapped for energy, latency and EDP (the default 0.5 % tie window), and each choice's network energy and latency are
compared with the per-objective optima (energy-optimal energy, latency-optimal latency, tie window 0):

    .venv/bin/python experiments/mapper_objective.py [--models resnet20,mobilenetv2] [--csv FILE]

prints a markdown table per choice (worst and mean excess over the optima) and writes every configuration to the
CSV. The README quotes the table and the default it led to (`problems.fine.DEFAULT_MAPPER_OBJECTIVE`).
"""

from __future__ import annotations

import argparse
import csv
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

OBJECTIVES = ("energy", "latency", "edp")
BITS = (16, 8, 6, 4, 2)


def network_totals(workload, spec, bits: int, objective: str, tolerance=None) -> tuple[float, float]:
    """(energy, latency cycles) of the network with every layer mapped for `objective` at uniform `bits`."""
    from hwmodels import config
    from hwmodels.fine.mapper import LayerCost, map_layer
    from hwmodels.workload import output_bits_matrix

    import numpy as np

    tol = config.TIE_TOLERANCE if tolerance is None else tolerance
    ba = np.full((1, len(workload)), bits, dtype=np.int64)
    bo = output_bits_matrix(workload, ba, spec.b_max)[0]
    costs = [map_layer(layer, spec, bits, bits, int(bo[k]), objective=objective, tolerance=tol)
             for k, layer in enumerate(workload)]
    total = LayerCost.total_of(costs)
    return total.energy, total.latency_cycles


def measure(models, dataflows=("RS", "WS", "OS"), hw="spatial-256") -> list[dict]:
    """One row per (model, dataflow, bits): each objective's energy / latency over the optima."""
    from hwmodels.spec import load_spec
    from hwmodels.zoo import get_workload

    rows = []
    for model in models:
        workload = get_workload(model)
        for dataflow in dataflows:
            spec = load_spec(hw, dataflow=dataflow)
            for bits in BITS:
                e_opt = network_totals(workload, spec, bits, "energy", tolerance=0.0)[0]
                l_opt = network_totals(workload, spec, bits, "latency", tolerance=0.0)[1]
                row = {"model": model, "dataflow": dataflow, "bits": bits, "energy_opt": e_opt, "latency_opt": l_opt}
                for objective in OBJECTIVES:
                    energy, latency = network_totals(workload, spec, bits, objective)
                    row[f"{objective}_energy"] = energy / e_opt
                    row[f"{objective}_latency"] = latency / l_opt
                rows.append(row)
    return rows


def summary(rows) -> str:
    """Markdown: per mapper objective, the worst and mean energy / latency excess over the optima (%)."""
    lines = ["| mapper objective | energy excess: mean | worst | latency excess: mean | worst | "
             "worst of the two |", "|---|---|---|---|---|---|"]
    for objective in OBJECTIVES:
        e = [100 * (row[f"{objective}_energy"] - 1) for row in rows]
        lat = [100 * (row[f"{objective}_latency"] - 1) for row in rows]
        worst = max(max(e), max(lat))
        lines.append(f"| {objective} | {sum(e) / len(e):.1f} % | {max(e):.1f} % | {sum(lat) / len(lat):.1f} % | "
                     f"{max(lat):.1f} % | {worst:.1f} % |")
    return "\n".join(lines)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", default="resnet20,mobilenetv2")
    parser.add_argument("--csv", default=None, help="write every configuration here")
    args = parser.parse_args(argv)
    rows = measure(args.models.split(","))
    print(summary(rows))
    print()
    print("| model | dataflow | bits | " + " | ".join(f"{o} E | {o} L" for o in OBJECTIVES) + " |")
    print("|---|---|---|" + "---|---|" * len(OBJECTIVES))
    for row in rows:
        cells = " | ".join(f"{row[f'{o}_energy']:.3f} | {row[f'{o}_latency']:.3f}" for o in OBJECTIVES)
        print(f"| {row['model']} | {row['dataflow']} | {row['bits']} | {cells} |")
    if args.csv:
        with open(args.csv, "w", newline="") as handle:
            writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
            writer.writeheader()
            writer.writerows(rows)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
