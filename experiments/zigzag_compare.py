"""Cross-check Fine against ZigZag (validation peer, never a dependency): ResNet-20 on spatial-256, RS / WS / OS.

ZigZag runs in its own venv, in a child process of that venv's python; nothing here imports it:

    zz=$(mktemp -d)/zz; python3 -m venv $zz; $zz/bin/pip install zigzag-dse==3.9.1 six
    .venv/bin/python experiments/zigzag_compare.py $zz [--layers conv1,layer1.0.conv1] [--dataflows RS,WS,OS]

Same costs on both sides: per-16-bit-word energies of spatial-256 (RF 1, buffer 13.84, DRAM 200, MAC 1), 16-bit
operands and outputs, 224 / 12 / 16-word RFs, 256 KB buffer, 64-bit DRAM port; FlowQ uses the Timeloop accounting
(fills charged at the level written, as ZigZag counts them). ZigZag has no NoC term, so FlowQ's array energy is
added to ZigZag's total for the comparison. The spatial unrolling is pinned per dataflow (RS: P on columns, R on
rows; WS: M on columns, C on rows; OS: Q on columns, P on rows), each up to 16.

Below the per-layer table it prints the network energy per operand (W, I, O) and level (RF, buffer, DRAM), the array
and the MACs on both sides (FlowQ's split from its access counts, `flowq_operands`). `--precision flowq` gives
ZigZag FlowQ's partial-sum width 2b + ceil(log2 R) (FlowQ then runs its own Eyeriss accounting, the one with
uncapped psums); `--zigzag-rf-reads per-mac` turns off ZigZag's rule that an operand unchanged over the innermost
loops is read from its RF once (held at the RF's output pins), so both tools read an operand per MAC. The issue 18
note in experiments/EXPERIMENTS.md quotes the three runs.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

SPATIAL = {"RS": ("OY", "FY"), "WS": ("K", "C"), "OS": ("OX", "OY")}  # (D1 = 16 columns, D2 = 16 rows)

DRIVER = r'''
import json, sys, logging
logging.disable(logging.CRITICAL)
from zigzag.api import get_hardware_performance_zigzag
job = json.load(open(sys.argv[1]))
if job["rf_reads"] == "per-mac":  # no operand held at the RF output pins: one RF read per MAC, as FlowQ counts
    import zigzag.cost_model.cost_model as cm
    _init = cm.CostModelEvaluation.__init__
    def _per_mac(self, *args, **kwargs):
        kwargs["access_same_data_considered_as_no_access"] = False
        _init(self, *args, **kwargs)
    cm.CostModelEvaluation.__init__ = _per_mac
out = {}
for item in job["layers"]:
    energy, latency, cmes = get_hardware_performance_zigzag(
        [item["layer"]], job["accelerator"], item["mapping"], opt="energy", dump_folder=job["dump"],
        pickle_filename=job["dump"] + "/cmes.pickle", loma_show_progress_bar=False, lpf_limit=6)
    cme = cmes[0][0]
    levels = {str(op): [float(e) for e in values] for op, values in cme.mem_energy_breakdown.items()}
    out[item["name"]] = {"energy": energy, "latency": latency, "mac": float(cme.mac_energy), "levels": levels}
json.dump(out, open(sys.argv[2], "w"))
'''


def _port(name, kind, bw, operands):
    alloc = []
    for op in operands:
        alloc += [f"{op}, fh", f"{op}, tl"] + ([f"{op}, fl", f"{op}, th"] if op == "O" else [])
    return {"name": name, "type": kind, "bandwidth_min": bw, "bandwidth_max": bw, "allocation": alloc}


def accelerator_yaml(spec) -> str:
    """ZigZag accelerator of a FlowQ spec: three per-PE RFs, a shared buffer, DRAM; costs per port word."""
    import yaml

    e, w = spec.energy, spec.word_bits
    buffer_bw = 16 * w  # one word per PE row per cycle; ZigZag counts accesses in port words

    def memory(size, cost_per_word, bw, operands, served):
        return {"size": int(size), "r_cost": cost_per_word * bw / w, "w_cost": cost_per_word * bw / w, "area": 0,
                "latency": 1, "operands": operands, "ports": [_port("rw_port_1", "read_write", bw, operands)],
                "served_dimensions": served}

    data = {"name": spec.name, "memories": {
        "rf_w": memory(spec.rf_filter_words * spec.b_max, e.rf_filter, w, ["I2"], []),
        "rf_i": memory(spec.rf_ifmap_words * spec.b_max, e.rf_ifmap, w, ["I1"], []),
        "rf_o": memory(spec.rf_psum_words * spec.b_max, e.rf_psum, w, ["O"], []),
        "buffer": memory(spec.buffer_size_bits, e.buffer, buffer_bw, ["I1", "I2", "O"], ["D1", "D2"]),
        "dram": memory(10 ** 10, e.dram, int(spec.dram_bw_bits_per_cycle), ["I1", "I2", "O"], ["D1", "D2"])},
        "operational_array": {"unit_energy": e.mac, "unit_area": 0, "dimensions": ["D1", "D2"],
                              "sizes": [spec.pe_cols, spec.pe_rows]}}
    return yaml.safe_dump(data, sort_keys=False)


def psum_bits(layer, bits: int = 16) -> int:
    """FlowQ's partial-sum width, 2b + ceil(log2(reduction)) (hw-flowq 3.3.1, `_tiling._psum_bits` uncapped)."""
    return 2 * bits + max(0, (int(layer.reduction_size) - 1).bit_length())


def zigzag_layer(layer, index: int, precision: str = "16") -> dict:
    """ZigZag workload entry of a FlowQ Layer: 16-bit operands and final outputs; partial sums 16 bits
    (`precision="16"`) or FlowQ's psum width (`"flowq"`, `psum_bits`)."""
    precision = {"W": 16, "I": 16, "O": 16 if precision == "16" else psum_bits(layer), "O_final": 16}
    if layer.kind == "fc":
        return {"id": index, "name": layer.name, "operator_type": "Gemm", "equation": "O[b][k]+=W[k][c]*I[b][c]",
                "loop_dims": ["B", "K", "C"], "loop_sizes": [layer.n, layer.c_out, layer.c_in],
                "operand_precision": precision, "operand_source": {"I": index}}
    s = layer.stride
    return {"id": index, "name": layer.name, "operator_type": "Conv",
            "equation": "O[b][k][oy][ox]+=W[k][c][fy][fx]*I[b][c][iy][ix]",
            "dimension_relations": [f"ix={s}*ox+1*fx", f"iy={s}*oy+1*fy"],
            "loop_dims": ["B", "K", "C", "OY", "OX", "FY", "FX"],
            "loop_sizes": [layer.n, layer.c_out, layer.c_in, layer.h_out, layer.w_out, layer.k_h, layer.k_w],
            "operand_precision": precision, "operand_source": {"I": index}}


def mapping_yaml(layer, dataflow: str, spec) -> str:
    import yaml

    sizes = dict(zip(["B", "K", "C", "OY", "OX", "FY", "FX"],
                     [layer.n, layer.c_out, layer.c_in, layer.h_out, layer.w_out, layer.k_h, layer.k_w]))
    if layer.kind == "fc":
        sizes = {"B": layer.n, "K": layer.c_out, "C": layer.c_in}
    d1, d2 = SPATIAL[dataflow]
    spatial = {}
    for axis, dim, size in (("D1", d1, spec.pe_cols), ("D2", d2, spec.pe_rows)):
        if dim in sizes:
            spatial[axis] = [f"{dim}, {min(size, sizes[dim])}"]
    return yaml.safe_dump([{"name": "default", "spatial_mapping": spatial,
                            "memory_operand_links": {"O": "O", "W": "I2", "I": "I1"}}], sort_keys=False)


OPERANDS = ("W", "I", "O")
LEVELS = ("rf", "array", "buffer", "dram")


def flowq_costs(layers, spec) -> dict:
    """Fine-mapped 16-bit costs per layer: energy, array energy, cycles and the per-operand energy by level."""
    from hwmodels.fine.mapper import map_layer

    out = {}
    for layer in layers:
        cost = map_layer(layer, spec, 16, 16, 16)
        operands = flowq_operands(cost, spec, psum_width=psum_bits(layer))
        check_operands(cost, operands)
        out[layer.name] = {"energy": cost.energy, "array": cost.energy_by_level["array"],
                           "latency": cost.latency_cycles, "mac": cost.energy_by_level["mac"], "operands": operands}
    return out


def flowq_operands(cost, spec, psum_width: int) -> dict:
    """Energy per operand and level of a 16-bit SIMD Fine mapping, from its access counts (`LayerCost.counts`) and
    the kernels' rules (`_kernels._order_cost`): one word per 16-bit access; psums `psum_width` bits wide, capped at
    word_bits under Timeloop accounting, which also charges each array delivery at the receiving RF and each DRAM
    word at the buffer. DRAM psum bits are the layer's DRAM bits less the weights' and inputs'. The sums equal
    `energy_by_level` (`check_operands`)."""
    e, word, c = spec.energy, spec.word_bits, cost.counts
    timeloop = spec.accounting == "timeloop"
    psum = min(psum_width, word) if timeloop else psum_width
    dram_bits = {"weights": c["weights"]["dram"] * 16, "inputs": c["inputs"]["dram"] * 16}
    dram_bits["psums"] = cost.dram_accesses_bits - dram_bits["weights"] - dram_bits["inputs"]
    out = {}
    for name, tensor in zip(OPERANDS, ("weights", "inputs", "psums")):
        k = c[tensor]
        width = psum if tensor == "psums" else 16
        if tensor == "psums":
            rf = k["rf"] * -(-psum // spec.b_max) * e.rf_psum
        else:
            rf = (k["rf"] + (k["array"] if timeloop else 0.0)) * (e.rf_filter if tensor == "weights" else e.rf_ifmap)
        buffer_words = k["buffer"] * width / word + (dram_bits[tensor] / word if timeloop else 0.0)
        out[name] = {"rf": rf, "array": k["array"] * width / word * e.array, "buffer": buffer_words * e.buffer,
                     "dram": dram_bits[tensor] / word * e.dram}
    return out


def check_operands(cost, operands) -> None:
    """The per-operand split adds up to the kernels' energy by level (relative 1e-9)."""
    for level in LEVELS:
        split = sum(operands[op][level] for op in OPERANDS)
        if abs(split - cost.energy_by_level[level]) > 1e-9 * max(1.0, cost.energy_by_level[level]):
            raise AssertionError(f"{cost.name}: {level} split {split} != {cost.energy_by_level[level]}")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("zigzag_venv", help="venv with zigzag-dse==3.9.1 installed")
    parser.add_argument("--layers", default=None, help="comma-separated layer names (default: all 20)")
    parser.add_argument("--dataflows", default="RS,WS,OS")
    parser.add_argument("--precision", choices=("16", "flowq"), default="16",
                        help="ZigZag's partial-sum precision: 16 bits (as the spec's words), or FlowQ's "
                        "2b + ceil(log2 R) (then FlowQ counts uncapped psums too: Eyeriss accounting)")
    parser.add_argument("--zigzag-rf-reads", choices=("pins", "per-mac"), default="pins",
                        help="pins: ZigZag as shipped (an operand that stays the same over the innermost loops is "
                        "read from its RF once and held at the RF's output pins); per-mac: one RF read per MAC, "
                        "FlowQ's (and Timeloop's) rule")
    parser.add_argument("--json", default=None, help="also write every number to this JSON file")
    args = parser.parse_args(argv)
    from hwmodels.spec import load_spec
    from hwmodels.zoo import get_workload

    layers = get_workload("resnet20")
    if args.layers:
        wanted = args.layers.split(",")
        layers = [layer for layer in layers if layer.name in wanted]
    python = str(Path(args.zigzag_venv) / "bin" / "python")
    accounting = "timeloop" if args.precision == "16" else "eyeriss"
    record = {"precision": args.precision, "flowq_accounting": accounting, "zigzag_rf_reads": args.zigzag_rf_reads,
              "dataflows": {}}
    print("| dataflow | layer | FlowQ energy | ZigZag energy + FlowQ array | ratio | FlowQ cycles | ZigZag cycles |")
    print("|---|---|---|---|---|---|---|")
    for dataflow in args.dataflows.split(","):
        spec = load_spec("spatial-256", dataflow=dataflow, accounting=accounting)
        ours = flowq_costs(layers, spec)
        with tempfile.TemporaryDirectory() as tmp:
            tmp = Path(tmp)
            (tmp / "accelerator.yaml").write_text(accelerator_yaml(spec))
            job = {"accelerator": str(tmp / "accelerator.yaml"), "dump": str(tmp / "dump"), "layers": [],
                   "rf_reads": args.zigzag_rf_reads}
            for index, layer in enumerate(layers):
                mapping = tmp / f"mapping_{index}.yaml"
                mapping.write_text(mapping_yaml(layer, dataflow, spec))
                job["layers"].append({"name": layer.name, "layer": zigzag_layer(layer, 0, args.precision),
                                      "mapping": str(mapping)})
            (tmp / "job.json").write_text(json.dumps(job))
            subprocess.run([python, "-c", DRIVER, str(tmp / "job.json"), str(tmp / "out.json")], check=True)
            theirs = json.loads((tmp / "out.json").read_text())
        for layer in layers:
            a, b = ours[layer.name], theirs[layer.name]
            zz = b["energy"] + a["array"]
            print(f"| {dataflow} | {layer.name} | {a['energy']:.4g} | {zz:.4g} | {a['energy'] / zz:.2f} | "
                  f"{a['latency']:.0f} | {b['latency']:.0f} |", flush=True)
        record["dataflows"][dataflow] = _breakdown(ours, theirs)
    print()
    print(operand_table(record))
    if args.json:
        Path(args.json).write_text(json.dumps(record, indent=1))
    return 0


def _breakdown(ours, theirs) -> dict:
    """Network totals per operand and level, FlowQ against ZigZag (ZigZag's array term is FlowQ's)."""
    flowq = {f"{op} {lv}": sum(a["operands"][op][lv] for a in ours.values()) for op in OPERANDS
             for lv in ("rf", "buffer", "dram")}
    flowq["array"] = sum(a["array"] for a in ours.values())
    flowq["mac"] = sum(a["mac"] for a in ours.values())
    zig = {}
    for op in OPERANDS:  # ZigZag levels per operand, innermost first: RF, buffer, DRAM
        for k, lv in enumerate(("rf", "buffer", "dram")):
            zig[f"{op} {lv}"] = sum(b["levels"][op][k] for b in theirs.values())
    zig["array"] = flowq["array"]
    zig["mac"] = sum(b["mac"] for b in theirs.values())
    flowq["total"] = sum(a["energy"] for a in ours.values())
    zig["total"] = sum(b["energy"] for b in theirs.values()) + zig["array"]
    return {"flowq": flowq, "zigzag": zig}


def operand_table(record) -> str:
    """Markdown table: FlowQ / ZigZag energy per operand and level, one column pair per dataflow."""
    flows = list(record["dataflows"])
    lines = ["| term | " + " | ".join(f"{d} FlowQ | {d} ZigZag | {d} ratio" for d in flows) + " |",
             "|---|" + "---|---|---|" * len(flows)]
    keys = [f"{op} {lv}" for lv in ("rf", "buffer", "dram") for op in OPERANDS] + ["array", "mac", "total"]
    for key in keys:
        cells = []
        for d in flows:
            f, z = record["dataflows"][d]["flowq"][key], record["dataflows"][d]["zigzag"][key]
            cells.append(f"{f:.4g} | {z:.4g} | {f / z:.2f}" if z else f"{f:.4g} | {z:.4g} | -")
        lines.append(f"| {key} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


if __name__ == "__main__":
    raise SystemExit(main())
