"""Per-layer hardware cost of one genome as plain JSON: what `flowq hw --json` prints and the HTML report shows.

    genome_cost(workload, spec, bits_w, bits_a, level=...)  {"level", "total", "layers"} of `hwmodels.api.evaluate`,
                                                            Fine rows with their mapping in loop-nest notation
    solution_spec(config, solution)                         the accelerator a results.json solution was costed on
                                                            (a co-design solution's own, decoded from its genes)
    mapping_store(level)                                    Fine layer results persist in the result cache
"""

from __future__ import annotations

import contextlib

from hwmodels.errors import FlowQError


def mapping_text(mapping, layer=None, bypass=()) -> str:
    """A Fine row's mapping in the loop-nest notation of `hwmodels.fine.notation` ("-" when there is none)."""
    if mapping is None:
        return "-"
    if isinstance(mapping, dict):
        from hwmodels.fine.notation import format_mapping, from_description
        try:
            return format_mapping(from_description(mapping), layer, bypass=tuple(bypass))
        except (KeyError, ValueError, IndexError, FlowQError):  # a mapping dict of another shape
            return "; ".join(f"{k}={v}" for k, v in mapping.items())
    return str(mapping)


@contextlib.contextmanager
def mapping_store(level: str):
    """Fine layer results persist in the result cache while the block runs (`hwmodels.fine.mapper.stored_in`), so
    a later query of a known configuration maps without starting numba."""
    if level != "fine":
        yield
        return
    from flowq.cache import MappingStore, ResultCache
    from hwmodels.fine import mapper

    with mapper.stored_in(MappingStore(ResultCache.default())):
        yield


def with_mapping_text(report: dict, workload, spec) -> dict:
    """Add `mapping_text` to every Fine-level layer row of a `NetworkCost.to_json()` report (in place)."""
    if report.get("level") == "fine":
        layer_of = {layer.name: layer for layer in workload}
        for row in report["layers"]:
            row.setdefault("mapping_text", mapping_text(row.get("mapping"), layer_of.get(row.get("name")),
                                                        getattr(spec, "bypass", ())))
    return report


def genome_cost(workload, spec, bits_w, bits_a, *, level: str = "fine", objective: str = "energy",
                **options) -> dict:
    """Per-layer and total cost of one genome: {"level", "total", "layers"} (`hwmodels.api` metric glossary).

    Args:
        workload: list of `hwmodels.workload.Layer`.
        spec: the accelerator (`hwmodels.api.load_hardware`).
        bits_w, bits_a: per-layer weight / input-activation bitwidths (bits).
        level: "coarse", "mid", "fine" or "reram".
        objective: what the Fine mapper minimises per layer ("energy", "latency", "edp").
        options: level options (reram: adc_bits).
    """
    import numpy as np

    from hwmodels.api import evaluate

    cost = evaluate(workload, spec, np.asarray(bits_w), np.asarray(bits_a), level=level, objective=objective,
                    **options)
    return with_mapping_text(cost.to_json(), workload, spec)


def solution_spec(config: dict, solution: dict):
    """The accelerator a results.json solution was costed on: a co-design solution's own (decoded from its
    `hw.genes` in the run's `config.hw_space` less the genes its level ignores), else the run's `config.hw` with
    `config.dataflow`.

    Raises:
        FlowQError: the hardware cannot be rebuilt (unknown preset or space, a moved spec file).
    """
    from hwmodels.api import load_hardware

    genes = (solution.get("hw") or {}).get("genes") if isinstance(solution.get("hw"), dict) else None
    if genes is not None:
        from hwmodels.space import load_space
        from problems.codesign import searched_space

        if not config.get("hw_space"):
            raise FlowQError("a co-design solution without config.hw_space: its accelerator cannot be rebuilt")
        # the search dropped the genes its level ignores: decode in the space it searched
        return searched_space(load_space(config["hw_space"]), config.get("level")).decode(genes)
    return load_hardware(config["hw"], config.get("dataflow"))
