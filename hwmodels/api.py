"""Public entry points of the hardware model: evaluate one genome or a whole population at any level.

Metric glossary (keys of `NetworkCost.total` / per-layer dicts; every level reports the same shape):
    ops                  MACs (batch included)
    frac_ops             fractional OPs (hw-flowq eq. 5; bit-serial analogue with eq. 4)
    bitops               sum of MACs * b_w * b_a
    weight_bits          weight footprint in bits
    activation_bits      input + output activation footprint in bits
    dram_accesses_bits   off-chip traffic in bits (Coarse: compulsory; Mid: best buffer tiling; Fine: mapping)
    latency_cycles       cycles (Coarse: ideal compute; Mid: max(compute, bandwidth); Fine: mapping)
    throughput           MACs per cycle (= ops / latency_cycles)
    energy               normalised energy (Fine only; None at Coarse/Mid)
    energy_by_level      {"mac", "rf", "array", "buffer", "dram"} (Fine only)
    area                 silicon area in mm^2 of a spatial spec at every level (`hwmodels.area`; spec only)
Level "reram" (`hwmodels.reram`, crossbar accelerators; `adc_bits=` per layer) reports the same keys, with
energy_by_level by component {"adc", "dac", "crossbar", "shift_add", "buffer", "control", "inter_tile"}, plus:
    tiles                tiles the mapped weights occupy (benq eq. 3 or DNN+NeuroSim's per-dimension formula)
    crossbars            crossbar arrays used
    adc_conversions      ADC conversions (one per active bitline per OU / crossbar read per input slice)
    ou_activations       operation-unit activations
    adc_share            ADC fraction of the energy
"""

from __future__ import annotations

import importlib
import os
from pathlib import Path

import numpy as np

from hwmodels.cost import LEVELS, NetworkCost
from hwmodels.errors import GenomeError, SpecError


#: every level `evaluate` understands: the digital ones plus the ReRAM crossbar level
ALL_LEVELS = tuple(LEVELS) + ("reram",)


def check_hardware_file(hw) -> None:
    """Raise SpecError when `hw` names a file that is not UTF-8 text (before any reader meets its bytes)."""
    if isinstance(hw, (str, os.PathLike)) and os.path.isfile(hw):
        try:
            Path(hw).read_text(encoding="utf-8")
        except UnicodeDecodeError as error:
            raise SpecError(f"hardware file {str(hw)!r} is not UTF-8 text ({error}); pass a YAML spec or a preset "
                            f"name") from None


def load_hardware(hw, dataflow=None):
    """An `AcceleratorSpec` from a spec, a preset name or a YAML path (a file that is not UTF-8 text -> SpecError)."""
    from hwmodels.reram.spec import is_reram, load_reram_spec
    from hwmodels.spec import AcceleratorSpec, load_spec

    check_hardware_file(hw)
    if is_reram(hw):  # ReRAM crossbar specs (hwmodels.reram): presets, `kind: reram` files, ReRAMSpec objects
        return load_reram_spec(hw)
    if isinstance(hw, AcceleratorSpec):
        return hw.with_dataflow(dataflow) if dataflow else hw
    try:
        return load_spec(str(hw), dataflow=dataflow)
    except UnicodeDecodeError as error:
        raise SpecError(f"hardware file {str(hw)!r} is not UTF-8 text ({error}); pass a YAML spec or a preset "
                        f"name") from None


def _level_module(level: str):
    if level not in ALL_LEVELS:
        raise GenomeError(f"unknown level {level!r}; allowed: {', '.join(ALL_LEVELS)}")
    return importlib.import_module({"coarse": "hwmodels.coarse", "mid": "hwmodels.mid",
                                    "fine": "hwmodels.fine.mapper", "reram": "hwmodels.reram"}[level])


def evaluate(workload, spec, bits_w, bits_a, *, level: str = "fine", objective: str = "energy",
             **options) -> NetworkCost:
    """Cost of one genome (per-layer `bits_w`, `bits_a`) on `spec` at `level` (reram: `adc_bits=` option)."""
    cost = _level_module(level).evaluate_network(workload, spec, np.asarray(bits_w), np.asarray(bits_a),
                                                 objective=objective, **options)
    area = _area(spec)
    if area is not None:
        cost.total["area"] = area
    return cost


def evaluate_population(workload, spec, BW, BA, *, level: str = "fine", objective: str = "energy",
                        **options) -> dict:
    """Network totals for a population: BW, BA of shape (n_individuals, n_layers) -> {metric: (n,) array}."""
    out = _level_module(level).evaluate_population(workload, spec, np.atleast_2d(BW), np.atleast_2d(BA),
                                                   objective=objective, **options)
    area = _area(spec)
    if area is not None:
        out["area"] = np.full(np.atleast_2d(BW).shape[0], area)
    return out


def _area(spec):
    """Area in mm^2 of a spatial `AcceleratorSpec` (`hwmodels.area`; depends on the spec only), else None."""
    from hwmodels.area import area_mm2
    from hwmodels.spec import AcceleratorSpec

    return area_mm2(spec) if isinstance(spec, AcceleratorSpec) else None
