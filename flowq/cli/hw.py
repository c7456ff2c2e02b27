"""`flowq hw`: hardware cost of one genome (zoo name, ONNX file or your own network)."""

from __future__ import annotations

import dataclasses

from flowq.cli.common import _fmt
from flowq.hwbreakdown import mapping_store as _mapping_store, mapping_text as _mapping_text
from hwmodels.errors import FlowQError


def _read_genome(path, n_layers: int):
    from flowq.runs import read_genome

    return read_genome(path, n_layers)


def _hw_workload(args) -> list:
    """`flowq hw`'s workload: an ONNX file's layers, a network built for --dataset (a factory, or a zoo name with
    --dataset) traced as a search traces it, or the zoo table."""
    if str(args.model).lower().endswith(".onnx"):
        from flowq.models.onnx_workload import onnx_workload

        return onnx_workload(args.model, batch=args.batch)
    if args.dataset is not None or ":" in str(args.model):
        from flowq.data import dataset_shape
        from flowq.models import network_workload

        shape = dataset_shape(args.dataset or "digits", root=args.data_dir)
        return network_workload(args.model, shape, args.batch)
    from hwmodels.zoo import get_workload

    return get_workload(args.model, batch=args.batch)


def _objective_totals(workload, spec, bits_w, bits_a, shown_total: dict, shown_objective: str) -> dict:
    """Fine network totals (energy, latency_cycles, compute_cycles, dram_accesses_bits, utilization) with every layer
    mapped energy-optimally and latency-optimally: the energy-optimal mappings hide the latency low bits can buy
    (issue 18). `shown_total` is the total of `shown_objective`'s mappings (not mapped again)."""
    import numpy as np

    from hwmodels.api import evaluate

    keys = ("energy", "latency_cycles", "compute_cycles", "dram_accesses_bits", "utilization")
    out = {}
    for objective in ("energy", "latency"):
        total = shown_total if objective == shown_objective else evaluate(
            workload, spec, np.asarray(bits_w), np.asarray(bits_a), level="fine", objective=objective).total
        out[objective] = {key: total[key] for key in keys}
    return out


def cmd_hw(args) -> int:
    from flowq.hwbreakdown import genome_cost, with_mapping_text
    from hwmodels.zoo import get_workload
    from flowq.cli.reram import cmd_hw_reram, is_reram_hw
    from hwmodels.api import check_hardware_file, load_hardware

    check_hardware_file(args.hw)

    if is_reram_hw(args.hw):  # ReRAM crossbar level (hwmodels.reram)
        bits = _read_genome(args.genome, len(get_workload(args.model))) if args.genome else (None, None)
        return cmd_hw_reram(args, *bits)
    if args.adc_bits is not None:
        raise FlowQError("--adc-bits applies to ReRAM specs (--hw reram-neurosim, reram-bwq, reram-puma)")
    from flowq.cli.codesign import solution_spec
    from flowq.runs import read_genome

    if args.genome:
        read_genome(args.genome)  # a malformed genome file is reported here, before any reader meets it

    spec = solution_spec(args.genome, args.hw_space) if args.genome else None  # a co-design solution's hardware
    if args.dataflow == "any" and not args.mapping:
        raise FlowQError("--dataflow any applies to --mapping FILE (evaluating mappings as written); a search "
                         "needs RS, WS or OS")
    spec = spec if spec is not None else load_hardware(args.hw, None if args.dataflow == "any" else args.dataflow)
    if args.unrolling is not None:
        if args.level != "fine":
            raise FlowQError(f"--unrolling applies to the Fine level (the {args.level} level has no spatial mapping)")
        from hwmodels.spec import validate_spec

        spec = validate_spec(dataclasses.replace(spec, unrolling=args.unrolling))
    if args.spec_yaml:
        from hwmodels.space import spec_to_yaml

        print(spec_to_yaml(spec), end="")
        return 0
    workload = _hw_workload(args)
    if args.genome:
        bits_w, bits_a = _read_genome(args.genome, len(workload))
    else:
        bits = args.bits if args.bits is not None else spec.b_max
        bits_w = bits_a = [bits] * len(workload)
    with _mapping_store(args.level):
        if args.mapping or args.layer:
            from hwmodels.fine.notation import evaluate_for_cli

            cost = evaluate_for_cli(workload, spec, bits_w, bits_a, mapping_file=args.mapping, layer=args.layer,
                                    level=args.level, objective=args.objective,
                                    dataflow="any" if args.dataflow == "any" else None)
            report = with_mapping_text(cost.to_json(), workload, spec)
        else:
            report = genome_cost(workload, spec, bits_w, bits_a, level=args.level, objective=args.objective)
            if args.level == "fine":
                report["by_mapper_objective"] = _objective_totals(workload, spec, bits_w, bits_a, report["total"],
                                                                  args.objective)
    layer_of = {layer.name: layer for layer in workload}
    if args.json:
        from flowq.runs import dumps

        extra = {"by_mapper_objective": report["by_mapper_objective"]} if "by_mapper_objective" in report else {}
        print(dumps({"level": report["level"], "hw": spec.name, "dataflow": spec.dataflow, "model": args.model,
                     "bits_w": list(bits_w), "bits_a": list(bits_a), "total": report["total"],
                     "layers": report["layers"], **extra}))
        return 0
    columns = ("energy", "mac", "rf", "array", "buffer", "dram", "latency_cycles", "dram_accesses_bits",
               "utilization")
    header = ["layer", "b_w", "b_a"] + list(columns)
    rows = []
    for k, layer in enumerate(list(report["layers"]) + [dict(report["total"], name="TOTAL")]):
        by_level = layer.get("energy_by_level") or {}
        values = {**{c: layer.get(c) for c in columns}, **{c: by_level.get(c) for c in ("mac", "rf", "array",
                                                                                         "buffer", "dram")}}
        is_total = k == len(report["layers"])
        position = list(layer_of).index(layer["name"]) if layer.get("name") in layer_of else k  # --layer
        rows.append([str(layer.get("name", k)), "" if is_total else str(bits_w[position]),
                     "" if is_total else str(bits_a[position])] + [_fmt(values[c]) for c in columns])
    widths = [max(len(header[j]), *(len(r[j]) for r in rows)) for j in range(len(header))]
    print(f"{args.model} on {spec.name} ({spec.dataflow}, {args.level} level, batch {args.batch})")
    print("  ".join(h.rjust(w) for h, w in zip(header, widths)))
    for row in rows:
        print("  ".join(v.rjust(w) for v, w in zip(row, widths)))
    if "by_mapper_objective" in report:
        print(f"\nnetwork totals by mapper objective (the table shows --objective {args.objective}):")
        for objective, total in report["by_mapper_objective"].items():
            print(f"  {objective + '-optimal mappings':<26} energy {_fmt(total['energy']):>10}  latency_cycles "
                  f"{_fmt(total['latency_cycles']):>10}  utilization {_fmt(total['utilization'])}")
    if args.level == "fine":
        print("\nmappings:")
        for layer in report["layers"]:
            print(f"  {layer.get('name')}: {layer.get('mapping_text') or _mapping_text(layer.get('mapping'))}")
    return 0
