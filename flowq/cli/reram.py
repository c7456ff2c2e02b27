"""ReRAM parts of the `flowq` command line: `flowq hw MODEL --hw reram-*` and the `--adc-bits` search option."""

from __future__ import annotations

from flowq.cli.common import _fmt
from hwmodels.errors import FlowQError, GenomeError

COLUMNS = ("energy", "adc", "dac", "crossbar", "shift_add", "buffer", "control", "inter_tile", "adc_share",
           "latency_cycles", "tiles", "crossbars", "adc_conversions")


def is_reram_hw(hw) -> bool:
    """Whether --hw names a ReRAM spec (preset or a `kind: reram` YAML file)."""
    from hwmodels.reram.spec import is_reram

    return is_reram(hw)


def parse_adc_bits(text):
    """--adc-bits value: "search" (ADC genes), an integer, or None."""
    if text is None or str(text).lower() == "search":
        return None if text is None else "search"
    try:
        return int(text)
    except ValueError:
        raise GenomeError(f"--adc-bits {text!r}: give 'search' or an integer number of bits") from None


def search_options(args) -> dict:
    """Problem options of `flowq search --level reram` (--adc-bits; --fixed-bits left at its digital default 16
    means the spec's b_max); --adc-bits on another level is an error."""
    adc = parse_adc_bits(getattr(args, "adc_bits", None))
    if getattr(args, "level", None) != "reram":
        if adc is not None:
            raise FlowQError("--adc-bits belongs to --level reram (ReRAM crossbar hardware)")
        return {}
    options = {"adc_bits": adc}
    if getattr(args, "fixed_bits", None) == "16":
        options["fixed_bits"] = "b_max"
    return options


def cmd_hw_reram(args, bits_w, bits_a) -> int:
    """`flowq hw MODEL --hw <reram spec>`: per-layer crossbar costs (energy by component, tiles, ADC)."""
    import numpy as np

    from hwmodels.reram import evaluate_network, load_reram_spec
    from hwmodels.zoo import get_workload

    if getattr(args, "level", "reram") not in ("reram", "fine"):
        raise FlowQError(f"--hw {args.hw} is a ReRAM crossbar spec; use --level reram (not {args.level})")
    spec = load_reram_spec(args.hw)
    workload = get_workload(args.model, batch=args.batch)
    if bits_w is None:
        bits = args.bits if args.bits is not None else spec.b_max
        bits_w = bits_a = [bits] * len(workload)
    adc = parse_adc_bits(getattr(args, "adc_bits", None))
    if adc == "search":
        raise GenomeError("--adc-bits search belongs to `flowq search`; `flowq hw` takes a number of bits")
    cost = evaluate_network(workload, spec, np.asarray(bits_w), np.asarray(bits_a), adc_bits=adc)
    report = cost.to_json()
    if args.json:
        from flowq.callbacks import dumps

        print(dumps({"level": "reram", "hw": spec.name, "model": args.model, "bits_w": list(bits_w),
                     "bits_a": list(bits_a), "adc_bits": [layer["adc_bits"] for layer in report["layers"]],
                     "tile_formula": spec.tile_formula, "total": report["total"], "layers": report["layers"]}))
        return 0
    header = ["layer", "b_w", "b_a", "adc"] + list(COLUMNS)
    rows = []
    for k, layer in enumerate(list(report["layers"]) + [dict(report["total"], name="TOTAL")]):
        total = k == len(report["layers"])
        values = {**layer, **(layer.get("energy_by_level") or {})}
        rows.append([str(layer.get("name")), "" if total else str(bits_w[k]), "" if total else str(bits_a[k]),
                     "" if total else str(layer["adc_bits"])] + [_fmt(values.get(c)) for c in COLUMNS])
    widths = [max(len(header[j]), *(len(r[j]) for r in rows)) for j in range(len(header))]
    print(f"{args.model} on {spec.name} (ReRAM {spec.xbar_rows}x{spec.xbar_cols}, {spec.bits_per_cell} bit/cell, "
          f"OU {spec.ou_rows_eff}x{spec.ou_cols_eff}, {spec.adc_law} ADC, tiles by {spec.tile_formula}, "
          f"energy in {spec.energy.unit}, batch {args.batch})")
    print("  ".join(h.rjust(w) for h, w in zip(header, widths)))
    for row in rows:
        print("  ".join(v.rjust(w) for v, w in zip(row, widths)))
    return 0
