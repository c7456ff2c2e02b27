"""hw-flowq Fig. 5: AlexNet CONV1-5 energy by memory level and latency at 16/8/4/2 bit, vectorised and bit-serial.

The paper shows these as bar charts only (no numbers in its text), so the printed table gives ours with the
16-bit-relative savings per bitwidth, plus the one published number set of the same workload: Timeloop's
Eyeriss-like CONV1 mapping (REFERENCES.md 1.4, compared by validate_eyeriss.py). Vectorised runs use
Spatial-168 (Eyeriss' 12 x 14 array and normalised costs, RS), bit-serial runs BS-168 (16 lanes per PE).
Writes fig5.csv, fig5.json, fig5.png (stacked energy bars per level and latency lines) into --out.

    python experiments/fig5_validation.py --quick      # CONV1-5 at 16 and 4 bit
    python experiments/fig5_validation.py --full       # CONV1-5 at 16, 8, 4 and 2 bit
"""

from __future__ import annotations

import common
from hwmodels import api
from hwmodels.spec import load_spec
from hwmodels.zoo import get_workload

LEVELS = ("mac", "rf", "array", "buffer", "dram")
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


def plot(rows: list, path) -> None:
    """Top: stacked energy bars by level per layer and bitwidth; bottom: latency per layer (log scale)."""
    plt = common.pyplot()
    presets = list(dict.fromkeys(r["preset"] for r in rows))
    fig, axes = plt.subplots(2, len(presets), figsize=(6.5 * len(presets), 7), squeeze=False)
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
        ax.set_ylabel("normalised energy")
        ax.legend(fontsize=7)
        ax_l.set_xticks(range(len(layers)), [n.upper() for n in layers])
        ax_l.set_yscale("log")
        ax_l.set_ylabel("latency [cycles]")
        ax_l.legend(fontsize=7)
    common.save_figure(fig, path)


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
    common.print_table(f"hw-flowq Fig. 5: AlexNet CONV1-5, RS, Eyeriss costs [{run.mode}] (paper: bar charts only; "
                       f"expected: lower bits never cost more, bit-serial latency ~ b_W*b_A)", columns, shown)
    conv1 = next(r for r in rows if r["preset"] == "spatial-168" and r["bits"] == 16 and r["layer"] == "conv1")
    print(f"CONV1 16-bit on Spatial-168: {conv1['energy'] / conv1['macs']:.2f} normalised energy per MAC, "
          f"{conv1['latency_cycles']:,.0f} cycles; Timeloop's Eyeriss-like mapping (168 PEs, its own pJ costs): "
          f"798,600 cycles (REFERENCES.md 1.4; validate_eyeriss.py compares on that cost table)")
    common.write_csv(run.path("fig5.csv"), rows)
    common.write_json(run.path("fig5.json"), {"mode": run.mode, "summary": summary, "layers": rows})
    plot(rows, run.path("fig5.png"))
    common.wrote(run, [run.path("fig5.csv"), run.path("fig5.json"), run.path("fig5.png")])
    return 0


if __name__ == "__main__":
    raise SystemExit(common.main_guard(main))
