"""ReRAM layer costs for a whole population: crossbars, tiles, OU activations, ADC conversions, cycles, energy.

Mapping (conventional im2col, DNN+NeuroSim / benq III-C2): layer l's weights form a (R x M) matrix per channel
group, R = C_in/groups * K_h * K_w rows (the reduction), M = C_out/groups outputs, each weight bit-sliced over
n_wc = ceil(b_W / bits_per_cell) adjacent columns, so M * n_wc columns. The matrix is cut into crossbars of
xbar_rows x xbar_cols; each crossbar is read OU by OU (ou_rows x ou_cols cells per activation) for every output
position (P = N * H_o * W_o) and every input slice (S = ceil(b_A / dac_bits)). Per (position, slice):

    OU activations    = groups * sum_blocks ceil(rows_i / ou_rows) * sum_blocks ceil(cols_j / ou_cols)
    ADC conversions   = groups * sum_blocks ceil(rows_i / ou_rows) * M * n_wc   (each active column, per OU row)
    wordline drives   = groups * R * (column OUs)                               (DAC)
    cell reads        = groups * R * M * n_wc
Crossbars run in parallel; the busiest one sets the layer's cycles: P * S * (its row OUs) * sum over its column
OUs of max(xbar_read_cycles, ceil(c / adcs) * adc_latency(r)). Layers run one after another.
Energy = counts x per-event energies (`ReRAMEnergy`), by component: adc, dac, crossbar, shift_add, buffer,
control, inter_tile (partial sums of row-split crossbars, psum_bits each, merged once per output).
"""

from __future__ import annotations

import math

import numpy as np

from hwmodels.errors import GenomeError, WorkloadError
from hwmodels.reram.spec import ReRAMSpec

COMPONENTS = ("adc", "dac", "crossbar", "shift_add", "buffer", "control", "inter_tile")
# summed over layers for network totals
ADDITIVE = ("ops", "bitops", "weight_bits", "activation_bits", "dram_accesses_bits", "latency_cycles", "energy",
            "tiles", "crossbars", "adc_conversions", "ou_activations") + tuple(f"energy_{c}" for c in COMPONENTS)


def _ceil_div(a, b):
    return -(-a // b)


def _split_sum(total, block, unit):
    """sum over the blocks of `total` items cut into chunks of `block` of ceil(chunk / unit) (array-friendly)."""
    full, rest = total // block, total % block
    return full * _ceil_div(block, unit) + _ceil_div(rest, unit)


def check_population(workload, spec: ReRAMSpec, BW, BA, ADC) -> tuple:
    """Population arrays (n, n_layers) int64 of weight, input and ADC bits, checked.

    Raises:
        GenomeError: wrong shape, a bitwidth < 1, or an ADC resolution outside adc_bits_min..adc_bits_max.
    """
    if len(workload) == 0:
        raise WorkloadError("the workload has no layers; pass a list of hwmodels.workload.Layer")
    n_layers = len(workload)
    out = []
    for label, bits in (("bits_w", BW), ("bits_a", BA), ("adc_bits", ADC)):
        array = np.atleast_2d(np.asarray(bits))
        if array.ndim != 2 or array.shape[1] != n_layers:
            raise GenomeError(f"{label} has shape {np.shape(bits)}; expected ({n_layers},) or (n, {n_layers}) for "
                              f"a workload of {n_layers} layers")
        if array.size and not np.all(np.mod(array, 1) == 0):
            raise GenomeError(f"{label} must hold integer bitwidths")
        array = array.astype(np.int64)
        low, high = (spec.adc_bits_min, spec.adc_bits_max) if label == "adc_bits" else (1, 64)
        bad = np.argwhere((array < low) | (array > high))
        if len(bad):
            row, layer = bad[0]
            raise GenomeError(f"{label}[{layer}] = {array[row, layer]} (layer {workload[layer].name!r}) is outside "
                              f"{low}..{high}" + (f" (the ADC resolutions of {spec.name!r})" if label == "adc_bits"
                                                  else ""))
        out.append(array)
    n = max(a.shape[0] for a in out)
    return tuple(np.broadcast_to(a, (n, n_layers)).copy() for a in out)


def layer_geometry(workload) -> dict:
    """Per-layer int64 (n_layers,) arrays: groups, rows R, outputs per group M, positions P, macs, counts."""
    get = lambda attr: np.array([getattr(layer, attr) for layer in workload], dtype=np.int64)  # noqa: E731
    return {"groups": get("groups"), "rows": get("reduction_size"),
            "m": get("c_out") // get("groups"), "positions": get("n") * get("h_out") * get("w_out"),
            "macs": get("macs"), "n_weights": get("n_weights"), "n_inputs": get("n_inputs"),
            "n_outputs": get("n_outputs")}


def tile_counts(spec: ReRAMSpec, rows, cols, groups, formula: str | None = None):
    """Tiles a layer occupies (array-friendly), by a named formula.

    Args:
        rows: reduction rows R = C_in/groups * K_h * K_w.
        cols: weight columns per group = M * ceil(b_W / bits_per_cell) (= c_out * a / P_cell of benq eq. 3).
        groups: channel groups (each mapped separately).
        formula: "benq" (eq. 3: ceil(ceil(R / R_row) * ceil(cols / R_col) / (N_Array * N_PE)) per layer) or
            "neurosim" (DNN+NeuroSim Chip.cpp, conventional mapping: ceil(R / T) * ceil(cols / T) with a tile
            a square grid of sqrt(N_Array * N_PE) crossbars per side, T = that many crossbars' rows / columns);
            None = `spec.tile_formula`.
    """
    formula = formula or spec.tile_formula
    if formula == "benq":
        xbars = _ceil_div(rows, spec.xbar_rows) * _ceil_div(cols, spec.xbar_cols) * groups
        return _ceil_div(xbars, spec.xbars_per_tile)
    if formula == "neurosim":
        side = math.isqrt(spec.xbars_per_tile)
        if side * side != spec.xbars_per_tile:
            raise GenomeError(f"the neurosim tile formula needs a square tile; xbars_per_pe * pes_per_tile = "
                              f"{spec.xbars_per_tile}")
        return _ceil_div(rows, spec.xbar_rows * side) * _ceil_div(cols, spec.xbar_cols * side) * groups
    raise GenomeError(f"tile formula {formula!r} is unknown; allowed: benq, neurosim")


def output_bits(BA: np.ndarray, spec: ReRAMSpec) -> np.ndarray:
    """Bits each layer's output is written at: the next layer's input bits, b_max after the last layer."""
    return np.concatenate([BA[:, 1:], np.full((BA.shape[0], 1), spec.b_max, dtype=np.int64)], axis=1)


def layer_metrics(workload, spec: ReRAMSpec, BW, BA, ADC, *, tile_formula: str | None = None) -> dict:
    """Per-layer metrics of a population: name -> array (n, n_layers) (see the module docstring).

    Args:
        BW, BA, ADC: weight, input-activation and ADC bits, int arrays (n, n_layers).
        tile_formula: "benq" or "neurosim" (None = the spec's).
    """
    BW, BA, ADC = check_population(workload, spec, BW, BA, ADC)
    g = layer_geometry(workload)
    groups, rows, m, positions = g["groups"], g["rows"], g["m"], g["positions"]
    n_wc = _ceil_div(BW, spec.bits_per_cell)
    slices = _ceil_div(BA, spec.dac_bits)
    cols = m * n_wc                                             # (n, L) weight columns per group
    ou_r, ou_c = spec.ou_rows_eff, spec.ou_cols_eff
    row_blocks = _ceil_div(rows, spec.xbar_rows)                # (L,)
    col_blocks = _ceil_div(cols, spec.xbar_cols)                # (n, L)
    row_ous = _split_sum(rows, spec.xbar_rows, ou_r)            # (L,)
    col_ous = _split_sum(cols, spec.xbar_cols, ou_c)            # (n, L)
    crossbars = groups * row_blocks * col_blocks
    tiles = tile_counts(spec, rows, cols, groups, tile_formula)
    work = positions * slices                                   # (position, slice) pairs
    ou_acts = groups * row_ous * col_ous * work
    conversions = groups * row_ous * cols * work
    drives = groups * rows * col_ous * work
    cells = groups * rows * cols * work
    # busiest crossbar: min(R, xbar_rows) rows, min(cols, xbar_cols) columns
    busy_row_ous = _ceil_div(np.minimum(rows, spec.xbar_rows), ou_r)
    busy_cols = np.minimum(cols, spec.xbar_cols)
    full_ous, rest = busy_cols // ou_c, busy_cols % ou_c
    t_adc = spec.adc_latency(ADC)
    t_read = spec.xbar_read_cycles
    per_full = np.maximum(t_read, _ceil_div(ou_c, spec.adcs) * t_adc)
    per_rest = np.where(rest > 0, np.maximum(t_read, _ceil_div(rest, spec.adcs) * t_adc), 0.0)
    latency = work * busy_row_ous * (full_ous * per_full + per_rest)
    BO = output_bits(BA, spec)
    e = spec.energy
    buffer_bits = groups * rows * positions * BA + g["n_outputs"] * BO
    energy = {
        "adc": conversions * spec.adc_energy(ADC),
        "dac": drives * e.dac,
        "crossbar": cells * e.crossbar,
        "shift_add": conversions * e.shift_add,
        "buffer": buffer_bits * e.buffer + ou_acts * e.buffer_per_ou,
        "control": ou_acts * e.control,
        "inter_tile": (row_blocks - 1) * groups * m * positions * spec.psum_bits * e.inter_tile
                      * np.ones_like(BW),
    }
    total_energy = sum(energy.values())
    weight_bits = g["n_weights"] * BW
    activation_bits = g["n_inputs"] * BA + g["n_outputs"] * BO
    ops = np.broadcast_to(g["macs"], BW.shape).astype(np.int64)
    out = {
        "ops": ops, "bitops": ops * BW * BA, "weight_bits": weight_bits, "activation_bits": activation_bits,
        "dram_accesses_bits": weight_bits + activation_bits, "latency_cycles": latency.astype(np.float64),
        "throughput": ops / latency, "energy": total_energy.astype(np.float64),
        "tiles": tiles.astype(np.int64), "crossbars": crossbars.astype(np.int64),
        "adc_conversions": conversions.astype(np.int64), "ou_activations": ou_acts.astype(np.int64),
        "adc_bits": ADC, "input_slices": slices, "weight_columns": cols * groups,
    }
    out.update({f"energy_{name}": value.astype(np.float64) for name, value in energy.items()})
    return out


def network_totals(per_layer: dict, spec: ReRAMSpec) -> dict:
    """Network totals (n,) from per-layer arrays (n, n_layers)."""
    totals = {key: per_layer[key].sum(axis=1) for key in ADDITIVE}
    totals["throughput"] = totals["ops"] / totals["latency_cycles"]
    totals["adc_share"] = totals["energy_adc"] / totals["energy"]
    if spec.max_tiles:
        totals["tiles_over_limit"] = np.maximum(totals["tiles"] - spec.max_tiles, 0)
    return totals
