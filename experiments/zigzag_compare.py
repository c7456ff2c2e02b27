"""Cross-check Fine against ZigZag (validation peer, never a dependency): ResNet-20 on spatial-256, RS / WS / OS.

ZigZag runs in its own venv, in a child process of that venv's python; nothing here imports it:

    zz=$(mktemp -d)/zz; python3 -m venv $zz; $zz/bin/pip install zigzag-dse==3.9.1 six
    .venv/bin/python experiments/zigzag_compare.py $zz [--layers conv1,layer1.0.conv1] [--dataflows RS,WS,OS]

Same costs on both sides: per-16-bit-word energies of spatial-256 (RF 1, buffer 13.84, DRAM 200, MAC 1), 16-bit
operands and outputs, 224 / 12 / 16-word RFs, 256 KB buffer, 64-bit DRAM port; FlowQ uses the Timeloop accounting
(fills charged at the level written, as ZigZag counts them). ZigZag has no NoC term, so FlowQ's array energy is
added to ZigZag's total for the comparison. The spatial unrolling is pinned per dataflow (RS: P on columns, R on
rows; WS: M on columns, C on rows; OS: Q on columns, P on rows), each up to 16.
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
out = {}
for item in job["layers"]:
    energy, latency, cmes = get_hardware_performance_zigzag(
        [item["layer"]], job["accelerator"], item["mapping"], opt="energy", dump_folder=job["dump"],
        pickle_filename=job["dump"] + "/cmes.pickle", loma_show_progress_bar=False, lpf_limit=6)
    out[item["name"]] = {"energy": energy, "latency": latency}
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


def zigzag_layer(layer, index: int) -> dict:
    """ZigZag workload entry of a FlowQ Layer (16-bit operands and outputs)."""
    precision = {"W": 16, "I": 16, "O": 16, "O_final": 16}
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


def flowq_costs(layers, spec) -> dict:
    from hwmodels.fine.mapper import map_layer

    out = {}
    for layer in layers:
        cost = map_layer(layer, spec, 16, 16, 16)
        out[layer.name] = {"energy": cost.energy, "array": cost.energy_by_level["array"],
                           "latency": cost.latency_cycles}
    return out


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("zigzag_venv", help="venv with zigzag-dse==3.9.1 installed")
    parser.add_argument("--layers", default=None, help="comma-separated layer names (default: all 20)")
    parser.add_argument("--dataflows", default="RS,WS,OS")
    args = parser.parse_args(argv)
    from hwmodels.spec import load_spec
    from hwmodels.zoo import get_workload

    layers = get_workload("resnet20")
    if args.layers:
        wanted = args.layers.split(",")
        layers = [layer for layer in layers if layer.name in wanted]
    python = str(Path(args.zigzag_venv) / "bin" / "python")
    print("| dataflow | layer | FlowQ energy | ZigZag energy + FlowQ array | ratio | FlowQ cycles | ZigZag cycles |")
    print("|---|---|---|---|---|---|---|")
    for dataflow in args.dataflows.split(","):
        spec = load_spec("spatial-256", dataflow=dataflow, accounting="timeloop")
        ours = flowq_costs(layers, spec)
        with tempfile.TemporaryDirectory() as tmp:
            tmp = Path(tmp)
            (tmp / "accelerator.yaml").write_text(accelerator_yaml(spec))
            job = {"accelerator": str(tmp / "accelerator.yaml"), "dump": str(tmp / "dump"), "layers": []}
            for index, layer in enumerate(layers):
                mapping = tmp / f"mapping_{index}.yaml"
                mapping.write_text(mapping_yaml(layer, dataflow, spec))
                job["layers"].append({"name": layer.name, "layer": zigzag_layer(layer, 0), "mapping": str(mapping)})
            (tmp / "job.json").write_text(json.dumps(job))
            subprocess.run([python, "-c", DRIVER, str(tmp / "job.json"), str(tmp / "out.json")], check=True)
            theirs = json.loads((tmp / "out.json").read_text())
        for layer in layers:
            a, b = ours[layer.name], theirs[layer.name]
            zz = b["energy"] + a["array"]
            print(f"| {dataflow} | {layer.name} | {a['energy']:.4g} | {zz:.4g} | {a['energy'] / zz:.2f} | "
                  f"{a['latency']:.0f} | {b['latency']:.0f} |", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
