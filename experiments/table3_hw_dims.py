"""hw-flowq Table 3 / Fig. 8(a): ResNet-20 quantised for Spatial-168/256/1024 (batch 1) and Spatial-256 (batch 4).

For each configuration: the 16-bit baseline's normalised energy and latency per 4 frames (Fine level, RS), a
3-objective NSGA-II search per seed (1 - psi, energy, latency; b_A = b_W in {16, 8, 6, 4, 2}, first/last layer
16 bit) and its Pareto-choice at an accuracy threshold (psi within 2.5 points of the 16-bit genome's, as 90 % vs
92.47 % in the paper): lowest energy x latency among the front solutions that reach it, else the most accurate
solution (a fallback, counted in the table). Writes table3.md/.csv (means +- std over seeds), table3_seeds.csv,
table3.json, notes.md, fig8a.png (2-D projections of the 3-D fronts, per frame) and env.json into --out.

    python experiments/table3_hw_dims.py --quick --gens 2
    python experiments/table3_hw_dims.py --full --data-dir ~/data/cifar-10-batches-py
"""

from __future__ import annotations

import common

#: (label, preset, batch) of Table 3 in the paper's row order.
CONFIGS = (("Spatial-168; 1", "spatial-168", 1), ("Spatial-256; 1", "spatial-256", 1),
           ("Spatial-1024; 1", "spatial-1024", 1), ("Spatial-256; 4", "spatial-256", 4))

#: hw-flowq Table 3 verbatim: {label: (baseline E, baseline L, choice top-1, choice psi, choice E, choice L)};
#: E in 1e7 normalised units, L in 1e3 cycles, both per 4 frames; accuracies in %.
PAPER = {
    "Spatial-168; 1": (130.28, 1128, 90.31, 94.22, 64.80, 343),
    "Spatial-256; 1": (131.36, 764, 90.26, 96.31, 72.68, 282),
    "Spatial-1024; 1": (190.40, 204, 90.25, 95.08, 105.41, 68),
    "Spatial-256; 4": (119.94, 764, 90.03, 95.19, 66.09, 259),
}


def main(argv=None) -> int:
    run, _ = common.parse_args("table3_hw_dims", __doc__.splitlines()[0], argv)
    rows, _, _, paths = common.hw_dims_table(run, CONFIGS, PAPER, tie=True, name="table3",
                                             title="hw-flowq Table 3 (ResNet-20, vectorised, RS)", figure="fig8a.png")
    paths.append(common.write_notes(run, common.hw_dims_notes(rows, "spatial")))
    common.finish(run, paths)
    return 0


if __name__ == "__main__":
    raise SystemExit(common.main_guard(main))
