"""hw-flowq Fig. 5: AlexNet CONV1-5 energy by memory level and latency at 16/8/4/2 bit, vectorised and bit-serial.

The paper shows these as bar charts only (no numbers in its text), so the printed table gives ours with the
16-bit-relative savings per bitwidth, plus the one published number set of the same workload: Timeloop's
Eyeriss-like CONV1 mapping (REFERENCES.md 1.4, compared by validate_eyeriss.py). Vectorised runs use
Spatial-168 (Eyeriss' 12 x 14 array and normalised costs, RS), bit-serial runs BS-168 (16 lanes per PE).
Writes fig5.md/.csv, published.md/.csv (Timeloop's CONV1 per level and the Eyeriss chip's batch-4 DRAM accesses
beside FlowQ's), notes.md, fig5.json, fig5.png (stacked energy bars per level, latency lines, the published bars)
and env.json into --out.

    python experiments/fig5_validation.py --quick      # CONV1-5 at 16 and 4 bit
    python experiments/fig5_validation.py --full       # CONV1-5 at 16, 8, 4 and 2 bit
"""

from __future__ import annotations

import common
from hwmodels import api
from hwmodels.spec import load_spec
from hwmodels.zoo import get_workload

LEVELS = common.LEVELS
ENGINES = (("vectorised", "spatial-168"), ("bit-serial", "bs-168"))
FULL_BITS = (16, 8, 4, 2)
QUICK_BITS = (16, 4)


def breakdown(preset: str, bits: int, batch: int = 1) -> list:
    """Per-layer energy by level, total energy and latency of AlexNet CONV1-5 at uniform `bits` on `preset`.

    The last layer's output is written at 16 bit (it feeds the unquantised classifier)."""
    workload = get_workload("alexnet-conv", batch=batch)
    spec = load_spec(preset, dataflow="RS")
    bw = [bits] * len(workload)
    cost = api.evaluate(workload, spec, bw, bw, level="fine")
    rows = []
    for layer, lc in zip(workload, cost.layers):
        row = {"preset": preset, "bits": bits, "layer": layer.name, "macs": layer.macs,
               "energy": lc["energy"], "latency_cycles": lc["latency_cycles"]}
        row.update({f"e_{lv}": lc["energy_by_level"][lv] for lv in LEVELS})
        rows.append(row)
    return rows


def published() -> tuple[list, dict]:
    """The published numbers of this workload beside FlowQ's: CONV1's energy per level on Timeloop's eyeriss_like
    table (pJ/MAC) and the Eyeriss chip's DRAM words per MAC for CONV1-5 at batch 4 (16-bit words).

    Returns (table rows, {"levels": (FlowQ, Timeloop) pJ/MAC per level, "dram": (FlowQ, chip, floor)})."""
    conv1 = common.alexnet_layers("eyeriss-like-timeloop", 1, (16,))[0]
    flowq_levels = {lv: conv1[f"e_{lv}"] / conv1["macs"] for lv in LEVELS}
    batch4 = common.alexnet_layers("spatial-168", common.CHIP_BATCH, (16,))
    macs = sum(r["macs"] for r in batch4)
    words = {"FlowQ": sum(r["dram_bits"] for r in batch4) / 16 / macs,
             "Eyeriss chip": common.CHIP_DRAM_MB * 1e6 / 2 / macs,
             "compulsory floor": sum(r["compulsory_bits"] for r in batch4) / 16 / macs}
    rows = [{"quantity": f"CONV1 {lv.upper()} [pJ/MAC]", "flowq": flowq_levels[lv],
             "published": common.TIMELOOP_CONV1_LEVELS[lv], "source": "Timeloop eyeriss_like (REFERENCES 1.4)"}
            for lv in LEVELS]
    rows.append({"quantity": "CONV1 total [pJ/MAC]", "flowq": conv1["energy_per_mac"],
                 "published": common.TIMELOOP_CONV1["pj_per_mac"], "source": "Timeloop eyeriss_like (REFERENCES 1.4)"})
    rows.append({"quantity": "CONV1-5 batch 4 DRAM words / MAC", "flowq": words["FlowQ"],
                 "published": words["Eyeriss chip"], "source": "Eyeriss chip, JSSC 2017 (RLC feature maps)"})
    return rows, {"levels": (flowq_levels, common.TIMELOOP_CONV1_LEVELS), "dram": words}


def plot(rows: list, path, published_bars: dict | None = None) -> None:
    """Top: stacked energy bars by level per layer and bitwidth; middle: latency per layer (log scale); bottom (when
    given): the published bars beside FlowQ's (Timeloop's CONV1 per level, the Eyeriss chip's DRAM words / MAC)."""
    plt = common.pyplot()
    presets = list(dict.fromkeys(r["preset"] for r in rows))
    n_rows = 3 if published_bars else 2
    fig, axes = plt.subplots(n_rows, len(presets), figsize=(6.5 * len(presets), 3.6 * n_rows), squeeze=False)
    colors = {"mac": "#4c72b0", "rf": "#55a868", "array": "#c44e52", "buffer": "#8172b2", "dram": "#ccb974"}
    for col, preset in enumerate(presets):
        sub = [r for r in rows if r["preset"] == preset]
        bits = sorted({r["bits"] for r in sub}, reverse=True)
        layers = list(dict.fromkeys(r["layer"] for r in sub))
        width = 0.8 / len(bits)
        ax, ax_l = axes[0][col], axes[1][col]
        for k, b in enumerate(bits):
            xs = [i + k * width for i in range(len(layers))]
            by_layer = {r["layer"]: r for r in sub if r["bits"] == b}
            bottom = [0.0] * len(layers)
            for lv in LEVELS:
                values = [by_layer[name][f"e_{lv}"] for name in layers]
                ax.bar(xs, values, width, bottom=bottom, color=colors[lv], label=lv.upper() if k == 0 else None,
                       edgecolor="black", linewidth=0.3)
                bottom = [x + y for x, y in zip(bottom, values)]
            ax_l.plot(range(len(layers)), [by_layer[name]["latency_cycles"] for name in layers], marker="o",
                      label=f"{b}-bit")
        ax.set_xticks([i + 0.4 - width / 2 for i in range(len(layers))], [n.upper() for n in layers])
        ax.set_title(f"{preset}: energy by level (bars: {', '.join(map(str, bits))} bit)")
        ax.set_xlabel("layer")
        ax.set_ylabel("energy [normalised, 16-bit MAC = 1]")
        ax.legend(fontsize=7)
        ax_l.set_xticks(range(len(layers)), [n.upper() for n in layers])
        ax_l.set_yscale("log")
        ax_l.set_xlabel("layer")
        ax_l.set_ylabel("latency [cycles]")
        ax_l.set_title(f"{preset}: latency per layer")
        ax_l.legend(fontsize=7)
    if published_bars:
        ours, theirs = published_bars["levels"]
        ax = axes[2][0]
        xs = range(len(LEVELS))
        ax.bar([x - 0.2 for x in xs], [ours[lv] for lv in LEVELS], 0.4, label="FlowQ (same cost table)")
        ax.bar([x + 0.2 for x in xs], [theirs[lv] for lv in LEVELS], 0.4, label="Timeloop (published)")
        ax.set_xticks(list(xs), [lv.upper() for lv in LEVELS])
        ax.set_xlabel("level (Timeloop reports no separate array / NoC energy)")
        ax.set_ylabel("energy [pJ / MAC]")
        ax.set_title("CONV1 on Timeloop's eyeriss_like table, 16 bit")
        ax.legend(fontsize=7)
        ax = axes[2][-1]
        words = published_bars["dram"]
        ax.bar(list(words), list(words.values()), color=["#4c72b0", "#c44e52", "0.6"])
        ax.set_ylabel("DRAM accesses [16-bit words / MAC]")
        ax.set_title("AlexNet CONV1-5, batch 4, Spatial-168 vs the Eyeriss chip")
    fig.suptitle("hw-flowq Fig. 5: AlexNet CONV1-5, RS, Eyeriss costs; published numbers beside FlowQ's")
    common.save_figure(fig, path, rect=(0, 0, 1, 0.97))


def main(argv=None) -> int:
    run, _ = common.parse_args("fig5_validation", __doc__.splitlines()[0], argv)
    bits = QUICK_BITS if run.quick else FULL_BITS
    rows = []
    for engine, preset in ENGINES:
        for b in bits:
            rows += [dict(r, engine=engine, mode=run.mode) for r in breakdown(preset, b)]
    summary = []
    for engine, preset in ENGINES:
        ref = [r for r in rows if r["preset"] == preset and r["bits"] == 16]
        e16, l16 = sum(r["energy"] for r in ref), sum(r["latency_cycles"] for r in ref)
        for b in bits:
            sub = [r for r in rows if r["preset"] == preset and r["bits"] == b]
            energy, latency = sum(r["energy"] for r in sub), sum(r["latency_cycles"] for r in sub)
            macs = sum(r["macs"] for r in sub)
            share = {lv: sum(r[f"e_{lv}"] for r in sub) / energy for lv in LEVELS}
            summary.append({"engine": engine, "preset": preset, "bits": b, "energy_per_mac": energy / macs,
                            "energy_vs_16": energy / e16, "latency_cycles": latency, "latency_vs_16": latency / l16,
                            **{f"share_{lv}": share[lv] for lv in LEVELS}})
    columns = [("engine", "engine", "s"), ("bits", "bits", "d"), ("E/MAC", "energy_per_mac", ".3f"),
               ("E/E16", "energy_vs_16", ".3f"), ("latency cyc", "latency_cycles", ".4g"),
               ("L/L16", "latency_vs_16", ".4f")] + [(f"{lv} %", f"share_pct_{lv}", ".1f") for lv in LEVELS]
    shown = [dict(s, **{f"share_pct_{lv}": 100 * s[f"share_{lv}"] for lv in LEVELS}) for s in summary]
    conv1 = next(r for r in rows if r["preset"] == "spatial-168" and r["bits"] == 16 and r["layer"] == "conv1")
    paths = common.write_table(run, "fig5", "hw-flowq Fig. 5: AlexNet CONV1-5, RS, Eyeriss costs (paper: bar charts "
                               "only)", columns, shown, csv_rows=rows)
    pub_rows, bars = published()
    paths += common.write_table(run, "published", "Published numbers of the same workload beside FlowQ's",
                                [("quantity", "quantity", "s"), ("FlowQ", "flowq", ".4g"),
                                 ("published", "published", ".4g"), ("source", "source", "s")], pub_rows)
    vec = {s["bits"]: s for s in summary if s["engine"] == "vectorised"}
    ser = {s["bits"]: s for s in summary if s["engine"] == "bit-serial"}
    low = min(vec)
    notes = [f"CONV1 16-bit on Spatial-168: {conv1['energy'] / conv1['macs']:.2f} normalised energy per MAC, "
             f"{conv1['latency_cycles']:,.0f} cycles (Timeloop's eyeriss_like mapping of the same array: 798,600).",
             f"{low}-bit vs 16-bit: vectorised energy x{vec[low]['energy_vs_16']:.3f}, latency "
             f"x{vec[low]['latency_vs_16']:.3f}; bit-serial energy x{ser[low]['energy_vs_16']:.3f}, latency "
             f"x{ser[low]['latency_vs_16']:.4f} (b_W x b_A alone: x{(low / 16) ** 2:.4f}).",
             f"16-bit energy per MAC: vectorised {vec[16]['energy_per_mac']:.2f}, bit-serial "
             f"{ser[16]['energy_per_mac']:.2f} (a 16-lane bit-serial PE shares one RF read among its lanes)."]
    paths.append(common.write_notes(run, notes))
    paths.append(common.write_json(run.path("fig5.json"), {"mode": run.mode, "summary": summary, "layers": rows,
                                                           "published": pub_rows}))
    plot(rows, run.path("fig5.png"), bars)
    common.finish(run, paths + [run.path("fig5.png")])
    return 0


if __name__ == "__main__":
    raise SystemExit(common.main_guard(main))
