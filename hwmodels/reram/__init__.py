"""ReRAM crossbar level: OU / ADC cost model, tile counts (benq eq. 3, DNN+NeuroSim) and bwq block precision.

    from hwmodels.reram import load_reram_spec, evaluate_network
    cost = evaluate_network(get_workload("resnet18"), load_reram_spec("reram-neurosim"), [8] * 21, [8] * 21)
    cost.total["tiles"], cost.total["energy_by_level"]["adc"]

Metrics (same glossary as the digital levels, see `hwmodels.api`): ops, bitops, weight_bits, activation_bits,
dram_accesses_bits (compulsory traffic), latency_cycles, throughput, energy, energy_by_level (here by component:
adc, dac, crossbar, shift_add, buffer, control, inter_tile), plus tiles, crossbars, adc_conversions,
ou_activations, adc_share (ADC fraction of the energy) and, per layer, adc_bits, input_slices, weight_columns.
The ADC resolution per layer defaults to `spec.default_adc_bits` (lossless for one OU, see
`ReRAMSpec.lossless_adc_bits`). `block_precision_table` and `bwq_layer_counts` give bwq's block-wise precision
view of a layer (Algorithm 2 with precision-aware mapping). The cost model is documented in
`hwmodels.reram.cost`, the spec and ADC laws in `hwmodels.reram.spec`.
"""

from __future__ import annotations

import numpy as np

from hwmodels.cost import NetworkCost
from hwmodels.errors import GenomeError
from hwmodels.reram import cost as _cost
from hwmodels.reram.cost import COMPONENTS, layer_metrics, tile_counts
from hwmodels.reram.spec import (ADC_LAWS, RERAM_PRESETS, ReRAMEnergy, ReRAMSpec, is_reram, load_reram_spec,
                                 reram_spec_from_dict)

LEVEL = "reram"
_LAYER_ONLY = ("adc_bits", "input_slices", "weight_columns")


def _spec(spec) -> ReRAMSpec:
    return spec if isinstance(spec, ReRAMSpec) else load_reram_spec(spec)


def _adc(spec: ReRAMSpec, adc_bits, n_layers: int):
    if adc_bits is None:
        return np.full(n_layers, spec.default_adc_bits, dtype=np.int64)
    if np.isscalar(adc_bits):
        return np.full(n_layers, int(adc_bits), dtype=np.int64)
    return np.asarray(adc_bits)


def evaluate_population(workload, spec, BW, BA, *, adc_bits=None, objective: str = "energy",
                        tile_formula: str | None = None) -> dict:
    """Network totals of a population on a ReRAM accelerator.

    Args:
        workload: list of `Layer`.
        spec: `ReRAMSpec` or preset name / YAML path.
        BW, BA: weight / input-activation bits, (n, n_layers).
        adc_bits: ADC bits (n, n_layers), (n_layers,), one int, or None (the spec's default for every layer).
        objective: accepted for interface symmetry with the Fine level (nothing is searched per layer here).
        tile_formula: "benq" or "neurosim" (None = the spec's).

    Returns:
        metric name -> array (n,) (see the module docstring; energy components as `energy_<component>`).
    """
    spec = _spec(spec)
    ADC = _adc(spec, adc_bits, len(workload))
    per_layer = layer_metrics(workload, spec, BW, BA, ADC, tile_formula=tile_formula)
    return _cost.network_totals(per_layer, spec)


def evaluate_network(workload, spec, bits_w, bits_a, *, adc_bits=None, objective: str = "energy",
                     tile_formula: str | None = None) -> NetworkCost:
    """Cost of one genome: per-layer dicts and the network total (`NetworkCost` with level "reram")."""
    spec = _spec(spec)
    ADC = _adc(spec, adc_bits, len(workload))
    per_layer = layer_metrics(workload, spec, bits_w, bits_a, ADC, tile_formula=tile_formula)
    if next(iter(per_layer.values())).shape[0] != 1:
        raise GenomeError("evaluate_network takes one genome; use evaluate_population for several")
    totals = _cost.network_totals(per_layer, spec)

    def plain(value):
        return value.item() if isinstance(value, np.generic) else value

    def by_component(values):
        return {name: plain(values[f"energy_{name}"]) for name in COMPONENTS}

    layers = []
    for k, layer in enumerate(workload):
        row = {"name": layer.name}
        row.update({key: plain(value[0, k]) for key, value in per_layer.items() if not key.startswith("energy_")})
        row["energy_by_level"] = by_component({key: value[0, k] for key, value in per_layer.items()
                                               if key.startswith("energy_")})
        row["adc_share"] = row["energy_by_level"]["adc"] / row["energy"] if row["energy"] else 0.0
        layers.append(row)
    total = {key: plain(value[0]) for key, value in totals.items() if not key.startswith("energy_")}
    total["energy_by_level"] = by_component({key: value[0] for key, value in totals.items()
                                             if key.startswith("energy_")})
    return NetworkCost(level=LEVEL, total=total, layers=layers)


def block_precision_table(weight_codes, ou_rows: int, ou_cols: int) -> np.ndarray:
    """bwq-A block-wise precision of a quantised layer: precision of each OU-sized weight block.

    Like bwq-A's precision adjustment (bwq III-A, Fig. 3(b)), a block drops the leading bit planes that are zero
    for every weight in it: its precision is the bit length of its largest |code| (0 = the block is all zero).

    Args:
        weight_codes: integer weight codes (sign-magnitude: the magnitude is used), shape (c_out, R) or
            (c_out, C_in/groups, K_h, K_w) (flattened to R as the im2col mapping does).
        ou_rows, ou_cols: OU height (rows of R) and width (output channels).

    Returns:
        int64 (ceil(c_out / ou_cols), ceil(R / ou_rows)): BW_Table of bwq Algorithm 2, [H-block][V-block].
    """
    codes = np.asarray(weight_codes)
    if codes.ndim < 2 or not np.all(np.mod(codes, 1) == 0):
        raise GenomeError(f"weight_codes must be integer codes of shape (c_out, R, ...); got {codes.shape}")
    if ou_rows < 1 or ou_cols < 1:
        raise GenomeError(f"OU {ou_rows}x{ou_cols}: both sides must be >= 1")
    from hwmodels.reram._kernels import block_precisions  # numba starts on first use only

    return block_precisions(np.abs(codes.reshape(codes.shape[0], -1)).astype(np.int64), ou_rows, ou_cols)


def bwq_layer_counts(layer, table, bits_a: int, spec) -> dict:
    """bwq Algorithm 2 counts of one layer with a block-precision table and precision-aware mapping.

    Each nonzero block (i, j) of precision p occupies p OUs (one per bit plane, bwq Fig. 5(c)); one OU is active
    per cycle and spare OUs are skipped, so cycles = sum(table) per input slice and output position.

    Args:
        layer: the `Layer` (its c_out / groups and reduction size must match the table's shape).
        table: int (ceil(M / ou_cols), ceil(R / ou_rows)) block precisions in bits.
        bits_a: input-activation bits (ceil(bits_a / dac_bits) slices).
        spec: `ReRAMSpec` or preset name (its OU size).

    Returns:
        {"cycles", "ou_activations", "adc_conversions", "ous_allocated", "spare_ous"} for the whole layer.
    """
    spec = _spec(spec)
    table = np.asarray(table, dtype=np.int64)
    m = layer.c_out // layer.groups
    expected = (-(-m // spec.ou_cols_eff), -(-layer.reduction_size // spec.ou_rows_eff))
    if table.shape != expected:
        raise GenomeError(f"block table of layer {layer.name!r} has shape {table.shape}; expected {expected} "
                          f"(ceil(C_out / OU width), ceil(C_in K_h K_w / OU height)) for OU "
                          f"{spec.ou_rows_eff}x{spec.ou_cols_eff}")
    if np.any(table < 0):
        raise GenomeError("block precisions must be >= 0 bits")
    from hwmodels.reram._kernels import bwq_counts  # numba starts on first use only

    active, allocated, spare = (int(v) for v in bwq_counts(table))
    work = layer.n * layer.h_out * layer.w_out * -(-int(bits_a) // spec.dac_bits) * layer.groups
    # columns actually holding weights: each block's width (last H-block may be narrower) times its precision
    widths = np.minimum(spec.ou_cols_eff, m - np.arange(table.shape[0]) * spec.ou_cols_eff)
    conversions = int((table * widths[:, None]).sum())
    return {"cycles": active * work, "ou_activations": active * work, "adc_conversions": conversions * work,
            "ous_allocated": allocated * layer.groups, "spare_ous": spare * layer.groups}


def adc_share(workload, spec, bits_w, bits_a, adc_bits=None) -> float:
    """ADC fraction of the total energy of one genome."""
    return float(evaluate_network(workload, spec, bits_w, bits_a, adc_bits=adc_bits).total["adc_share"])


__all__ = ["LEVEL", "ReRAMSpec", "ReRAMEnergy", "ADC_LAWS", "RERAM_PRESETS", "COMPONENTS", "load_reram_spec",
           "reram_spec_from_dict", "is_reram", "evaluate_network", "evaluate_population", "tile_counts",
           "block_precision_table", "bwq_layer_counts", "adc_share"]
