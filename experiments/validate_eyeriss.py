"""Validate the Fine mapper on AlexNet CONV1-5 with Eyeriss' normalised costs (hw-flowq Sec. 4, Fig. 5 top-left),
and against the Eyeriss chip's published batch-4 totals.

Eyeriss ISCA'16 / hw-flowq Table 1 costs: DRAM 200, buffer 6, array 2, RF 1, MAC 1 per 16-bit access, on the
Spatial-168 preset (12 x 14 PEs, 224/12/16-word RFs, 128 KB buffer, row stationary). Three parts:

1. Per-layer energy by level and DRAM traffic as a multiple of the compulsory floor (16 and 4 bit in --quick,
   16/8/4/2 in --full), batch 1.
2. CONV1 on Timeloop's eyeriss_like cost table (REFERENCES.md 1.4) beside Timeloop's own mapping.
3. Silicon: AlexNet CONV1-5 at batch 4, 16 bit, beside the chip (Chen et al., JSSC 2017: 15.4 MB of DRAM traffic
   and 115.3 ms for CONV1-5 at batch 4, 200 MHz, feature maps run-length coded off-chip). FlowQ's traffic is
   uncompressed, so the table also gives the run-length compression ratio of the feature-map traffic the chip
   would need for FlowQ's mapping to move exactly 15.4 MB (weights uncompressed), and the same for the
   compulsory floor.

Writes eyeriss_breakdown.csv/.md, timeloop_conv1.md, eyeriss_chip.md/.csv, notes.md, eyeriss_breakdown.png and
env.json into --out.

    python experiments/validate_eyeriss.py [--quick | --full] [--out DIR] [--preset spatial-168]
"""

from __future__ import annotations

import common

LEVELS = common.LEVELS
BITS = (16, 8, 4, 2)
QUICK_BITS = (16, 4)
CHIP_BATCH, CHIP_DRAM_MB, CHIP_MS, CHIP_MHZ = common.CHIP_BATCH, common.CHIP_DRAM_MB, common.CHIP_MS, common.CHIP_MHZ
TIMELOOP_CONV1 = common.TIMELOOP_CONV1


def chip_comparison(preset: str) -> tuple[list, list]:
    """AlexNet CONV1-5 at the chip's batch, 16 bit, on `preset` beside the chip's published totals.

    Returns (table rows, notes)."""
    rows = common.alexnet_layers(preset, CHIP_BATCH, (16,))
    mb = lambda bits: bits / 8 / 1e6  # noqa: E731
    dram, weights = mb(sum(r["dram_bits"] for r in rows)), mb(sum(r["dram_weight_bits"] for r in rows))
    floor, floor_w = mb(sum(r["compulsory_bits"] for r in rows)), mb(sum(r["compulsory_weight_bits"] for r in rows))
    cycles = sum(r["latency_cycles"] for r in rows)
    ms = cycles / (CHIP_MHZ * 1e3)
    macs = sum(r["macs"] for r in rows)

    def rlc_needed(total, w):  # feature-map compression ratio r with w + (total - w) / r = CHIP_DRAM_MB
        return (total - w) / (CHIP_DRAM_MB - w) if CHIP_DRAM_MB > w else float("inf")

    table = [
        {"quantity": "DRAM traffic, CONV1-5, batch 4 [MB]", "flowq": dram, "chip": CHIP_DRAM_MB,
         "floor": floor, "ratio": dram / CHIP_DRAM_MB},
        {"quantity": "  of which weights [MB]", "flowq": weights, "chip": None, "floor": floor_w, "ratio": None},
        {"quantity": "DRAM words (16 bit) per MAC", "flowq": dram * 1e6 / 2 / macs,
         "chip": CHIP_DRAM_MB * 1e6 / 2 / macs, "floor": floor * 1e6 / 2 / macs, "ratio": dram / CHIP_DRAM_MB},
        {"quantity": "time per batch of 4 at 200 MHz [ms]", "flowq": ms, "chip": CHIP_MS, "floor": None,
         "ratio": ms / CHIP_MS},
        {"quantity": "frames per second", "flowq": CHIP_BATCH / ms * 1e3, "chip": CHIP_BATCH / CHIP_MS * 1e3,
         "floor": None, "ratio": CHIP_MS / ms},
        {"quantity": "feature-map RLC ratio the chip needs to move 15.4 MB", "flowq": rlc_needed(dram, weights),
         "chip": None, "floor": rlc_needed(floor, floor_w), "ratio": None},
    ]
    r_flowq, r_floor = rlc_needed(dram, weights), rlc_needed(floor, floor_w)
    notes = [
        f"Batch 4, 16 bit, {preset}: FlowQ moves {dram:.2f} MB ({dram / CHIP_DRAM_MB:.2f}x the chip's 15.4 MB; "
        f"compulsory floor {floor:.2f} MB, {CHIP_DRAM_MB / floor:.2f}x below the chip) and takes {ms:.1f} ms at "
        f"200 MHz ({ms / CHIP_MS:.2f}x the chip's 115.3 ms).",
        f"FlowQ's traffic is uncompressed, the chip's feature maps are run-length coded: for FlowQ's mapping to move "
        f"15.4 MB, its {dram - weights:.2f} MB of feature-map traffic would have to shrink {r_flowq:.2f}x "
        f"(weights {weights:.2f} MB uncompressed); the floor's {floor - floor_w:.2f} MB would need {r_floor:.2f}x "
        f"(a ratio below 1 means no compression is needed to reach 15.4 MB).",
    ]
    return table, notes


def timeloop_conv1() -> tuple[list, list]:
    """CONV1 on Timeloop's eyeriss_like cost table (pJ) beside Timeloop's mapping."""
    conv1 = common.alexnet_layers("eyeriss-like-timeloop", 1, (16,))[0]
    flowq = {"pj_per_mac": conv1["energy_per_mac"], "dram_over_compulsory": conv1["dram_over_compulsory"],
             "cycles": conv1["latency_cycles"]}
    labels = {"pj_per_mac": "energy [pJ/MAC]", "dram_over_compulsory": "DRAM traffic / compulsory",
              "cycles": "cycles"}
    rows = [{"quantity": labels[k], "flowq": flowq[k], "timeloop": TIMELOOP_CONV1[k]} for k in labels]
    notes = [f"CONV1 on Timeloop's eyeriss_like table: {flowq['pj_per_mac']:.2f} pJ/MAC vs Timeloop's 8.22, DRAM "
             f"{flowq['dram_over_compulsory']:.2f}x compulsory vs 5.46x, {flowq['cycles']:,.0f} vs 798,600 cycles."]
    return rows, notes


def plot(rows: list[dict], path) -> None:
    """Stacked bars of energy by level per layer, one panel per bitwidth (hw-flowq Fig. 5 style)."""
    plt = common.pyplot()
    bits = sorted({r["bits"] for r in rows}, reverse=True)
    fig, axes = plt.subplots(1, len(bits), figsize=(3.4 * len(bits), 3.8), sharey=True, squeeze=False)
    colors = {"mac": "#4c72b0", "rf": "#55a868", "array": "#c44e52", "buffer": "#8172b2", "dram": "#ccb974"}
    for ax, b in zip(axes[0], bits):
        sub = [r for r in rows if r["bits"] == b]
        bottom = [0.0] * len(sub)
        for lv in LEVELS:
            values = [r[f"e_{lv}"] for r in sub]
            ax.bar([r["layer"].upper() for r in sub], values, bottom=bottom, color=colors[lv], label=lv.upper())
            bottom = [x + y for x, y in zip(bottom, values)]
        ax.set_title(f"{b}-bit")
        ax.set_xlabel("layer")
        ax.tick_params(axis="x", rotation=45)
    axes[0][0].set_ylabel("energy [normalised, 16-bit MAC = 1]")
    axes[0][-1].legend(fontsize=7)
    fig.suptitle("AlexNet CONV1-5, Fine level, Eyeriss costs (RS), batch 1")
    common.save_figure(fig, path, dpi=120, rect=(0, 0, 1, 0.94))


def main(argv=None) -> int:
    def extra(parser):
        parser.add_argument("--preset", default="spatial-168", help="accelerator preset (default: Eyeriss costs)")

    run, args = common.parse_args("validate_eyeriss", __doc__.splitlines()[0], argv, extra)
    rows = common.alexnet_layers(args.preset, 1, QUICK_BITS if run.quick else BITS)
    columns = [("bits", "bits", "d"), ("layer", "layer", "s")] + [
        (f"E {lv}", f"e_{lv}", ".4g") for lv in LEVELS] + [
        ("E/MAC", "energy_per_mac", ".3f"), ("DRAM / compulsory", "dram_over_compulsory", ".2f"),
        ("utilisation", "utilization", ".2f")]
    paths = common.write_table(run, "eyeriss_breakdown", f"AlexNet CONV1-5 on {args.preset}, batch 1, energy by "
                               f"level (normalised)", columns, rows)
    tl_rows, tl_notes = timeloop_conv1()
    paths += common.write_table(run, "timeloop_conv1", "CONV1 on Timeloop's eyeriss_like cost table",
                                [("quantity", "quantity", "s"), ("FlowQ", "flowq", ".4g"),
                                 ("Timeloop", "timeloop", ".4g")], tl_rows)
    chip_rows, chip_notes = chip_comparison(args.preset)
    paths += common.write_table(run, "eyeriss_chip", "AlexNet CONV1-5, batch 4, 16 bit vs the Eyeriss chip "
                                "(JSSC 2017)", [("quantity", "quantity", "s"), ("FlowQ", "flowq", ".4g"),
                                                ("chip", "chip", ".4g"), ("compulsory floor", "floor", ".4g"),
                                                ("FlowQ / chip", "ratio", ".2f")], chip_rows)
    dram16 = [r["dram_over_compulsory"] for r in rows if r["bits"] == 16]
    e16 = ", ".join(f"{r['layer'].upper()} {r['energy_per_mac']:.2f}" for r in rows if r["bits"] == 16)
    paths.append(common.write_notes(run, [f"16-bit energy per MAC by layer: {e16}; DRAM traffic "
                                          f"{min(dram16):.2f}-{max(dram16):.2f}x the compulsory floor."]
                                    + tl_notes + chip_notes))
    plot(rows, run.path("eyeriss_breakdown.png"))
    common.finish(run, paths + [run.path("eyeriss_breakdown.png")])
    return 0


if __name__ == "__main__":
    raise SystemExit(common.main_guard(main))
