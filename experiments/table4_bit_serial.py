"""hw-flowq Table 4 / Fig. 8(b): ResNet-20 on bit-serial BS-168/256/1024 (batch 1) and BS-256 (batch 4).

As table3_hw_dims.py, on the bit-serial presets (16 lanes per PE, hw-flowq eq. 4) with b_A != b_W allowed (one
gene per operand and layer, any bitwidth the PE supports). Writes table4.md/.csv, table4_seeds.csv, table4.json,
notes.md, fig8b.png and env.json into --out.

    python experiments/table4_bit_serial.py --quick --gens 2
    python experiments/table4_bit_serial.py --full --data-dir ~/data/cifar-10-batches-py
"""

from __future__ import annotations

import common

CONFIGS = (("BS-168; 1", "bs-168", 1), ("BS-256; 1", "bs-256", 1), ("BS-1024; 1", "bs-1024", 1),
           ("BS-256; 4", "bs-256", 4))

#: hw-flowq Table 4 verbatim: {label: (baseline E, baseline L, choice top-1, choice psi, choice E, choice L)};
#: E in 1e7 normalised units, L in 1e3 cycles, both per 4 frames; accuracies in %.
PAPER = {
    "BS-168; 1": (141.07, 20365, 90.17, 94.90, 68.36, 2468),
    "BS-256; 1": (147.65, 12296, 90.37, 92.91, 75.58, 1406),
    "BS-1024; 1": (208.26, 3326, 90.19, 96.95, 116.63, 563),
    "BS-256; 4": (137.57, 12296, 90.33, 92.10, 62.01, 1216),
}


def main(argv=None) -> int:
    run, _ = common.parse_args("table4_bit_serial", __doc__.splitlines()[0], argv)
    rows, _, _, paths = common.hw_dims_table(run, CONFIGS, PAPER, tie=False, name="table4",
                                             title="hw-flowq Table 4 (ResNet-20, bit-serial, RS)", figure="fig8b.png")
    paths.append(common.write_notes(run, common.hw_dims_notes(rows, "bs")))
    common.finish(run, paths)
    return 0


if __name__ == "__main__":
    raise SystemExit(common.main_guard(main))
