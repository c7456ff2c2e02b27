"""Mid abstraction level (hw-flowq Sec. 3.1 and 5, Fig. 6): on-chip buffer tiling and off-chip bandwidth.

Adds two hardware parameters to Coarse: the global-buffer capacity (`spec.buffer_size_bits`) and the off-chip
bandwidth (`spec.dram_bw_bits_per_cycle`). The PE array stays ideal (no register files, no dataflow): every PE
busy at its vectorised / bit-serial rate. Per layer, the buffer-level tiling and DRAM loop order with the least
DRAM traffic are searched with the Fine mapper's own kernels (`hwmodels.fine._tiling`, capacities in bits, so
lower precision lets bigger tiles fit; tile extents ceil-divided with their padding counted as Fine counts it; the
spec's bypass and psum width as Fine has them), which guarantees Fine traffic >= Mid traffic >= Coarse traffic.

    latency_cycles = max(ideal compute cycles, DRAM bits / bandwidth)
    throughput     = MACs / latency_cycles
    ctc            = MACs per DRAM byte (computation-to-communication ratio)
    offchip_passes = DRAM traffic / compulsory traffic (how many times each bit crosses the chip boundary on
                     average; 1 = Coarse's floor)
"""

from __future__ import annotations

import numpy as np

from hwmodels import coarse, config
from hwmodels.errors import MappingError
from hwmodels.fine import _tiling
from hwmodels.spec import AcceleratorSpec

# (layer.shape_key, b_w, b_a, b_out, b_max, buffer_bits) -> (traffic_bits, tile tuple (8,), order index)
_TILING_MEMO: dict = {}


def best_tiling(layer, b_w: int, b_a: int, b_out: int, spec: AcceleratorSpec) -> tuple[int, tuple, int]:
    """Minimum DRAM traffic of one layer over buffer tilings x loop orders (memoised).

    Args:
        layer: the `Layer`.
        b_w, b_a, b_out: weight, input and output bitwidths in bits.
        spec: supplies `buffer_size_bits`, `bypass` and the psum width (2*max(b_w, b_a) + ceil(log2(reduction))
            bits, hw-flowq 3.3.1, capped at word_bits under Timeloop accounting as Fine caps it, `_tiling.psum_cap`).

    Returns:
        (traffic_bits, tile extents [N, G, M, C, P, Q, R, S] (ceil-divided: the DRAM loop runs ceil(n / t) times
        and pads its last step), loop-order index into `config.LOOP_ORDERS`).

    Raises:
        MappingError: not even a tile of one element per dimension fits the buffer.
    """
    cap = _tiling.psum_cap(spec)
    key = (layer.shape_key, int(b_w), int(b_a), int(b_out), spec.buffer_size_bits, cap, tuple(spec.bypass))
    found = _TILING_MEMO.get(key)
    if found is None:
        b_psum = int(_tiling._psum_bits(int(b_w), int(b_a), layer.reduction_size, cap))
        status, bits, tile, order, _ = _tiling._best_buffer_tiling(
            _tiling.layer_bounds(layer), _tiling.layer_geometry(layer), int(b_w), int(b_a), int(b_out), b_psum,
            int(spec.buffer_size_bits), int(spec.bypasses("weights")), int(spec.bypasses("inputs")))
        if status != config.STATUS_OK:
            raise MappingError(f"layer {layer.name!r}: no buffer tile fits buffer_size_bits="
                               f"{spec.buffer_size_bits} even with every loop bound tiled to 1; enlarge the buffer")
        found = (int(bits), tuple(int(t) for t in tile), int(order))
        _TILING_MEMO[key] = found
    return found


def describe_tiling(tile: tuple, order: int) -> str:
    """Readable buffer tiling, e.g. "tile N1 G1 M16 C16 P32 Q32 R3 S3; DRAM loops (outer->inner) CRS, M, NPQ"."""
    dims = " ".join(f"{name}{extent}" for name, extent in zip(config.DIM_NAMES, tile))
    groups = ", ".join(config.GROUP_NAMES[g] for g in config.LOOP_ORDERS[order][::-1])
    return f"tile {dims}; DRAM loops (outer->inner) {groups}"


def _tiling_arrays(workload, spec: AcceleratorSpec, BW, BA, BO) -> tuple[np.ndarray, list]:
    """DRAM traffic (n, L) in bits and, per layer, (unique tilings, row -> tiling index), solving each distinct
    (layer, b_w, b_a, b_out) of the population once."""
    n, n_layers = BW.shape
    traffic = np.empty((n, n_layers), dtype=np.int64)
    tilings = []
    for position, layer in enumerate(workload):
        triples = np.stack([BW[:, position], BA[:, position], BO[:, position]], axis=1)
        unique, inverse = np.unique(triples, axis=0, return_inverse=True)
        solved = [best_tiling(layer, b_w, b_a, b_out, spec) for b_w, b_a, b_out in unique]
        traffic[:, position] = np.array([bits for bits, _, _ in solved], dtype=np.int64)[inverse.reshape(-1)]
        tilings.append((solved, inverse.reshape(-1)))
    return traffic, tilings


def mid_layer_metrics(workload, spec: AcceleratorSpec, BW, BA, *, with_tilings: bool = False):
    """Per-layer Mid metrics of a population: metric name -> array (n, n_layers) (and the tilings if asked).

    ops, frac_ops, bitops, weight_bits, activation_bits and compute_cycles are Coarse's (they do not depend on the
    memory system); dram_accesses_bits comes from the best buffer tiling; latency_cycles is the larger of the ideal
    compute cycles and the DRAM transfer cycles; utilization = compute_cycles / latency_cycles.
    """
    BW, BA = coarse.check_bits(workload, spec, BW, BA)
    metrics = coarse.coarse_layer_metrics(workload, spec, BW, BA)
    traffic, tilings = _tiling_arrays(workload, spec, BW, BA, coarse.output_bits(BA, spec, workload))
    transfer_cycles = traffic / spec.dram_bw_bits_per_cycle  # fractional, as the Fine mapper counts them
    latency = np.maximum(metrics["compute_cycles"], transfer_cycles)
    metrics.update(
        dram_accesses_bits=traffic,
        latency_cycles=latency,
        throughput=metrics["ops"] / latency,
        ctc=metrics["ops"] / (traffic / 8.0),
        offchip_passes=traffic / metrics["compulsory_dram_bits"],
        utilization=metrics["compute_cycles"] / latency,
    )
    return (metrics, tilings) if with_tilings else metrics


def evaluate_population(workload, spec: AcceleratorSpec, BW, BA, *, objective: str = "energy") -> dict:
    """Mid network totals of a population.

    Args:
        workload: list of `Layer`.
        spec: the accelerator; Mid reads b_max, pe_type, lanes, n_pes, bitwidths, buffer_size_bits and
            dram_bw_bits_per_cycle.
        BW, BA: int arrays (n_individuals, n_layers) of weight / input-activation bitwidths.
        objective: accepted for interface symmetry with Fine; Mid always minimises DRAM traffic.

    Returns:
        metric name -> array of shape (n_individuals,) for every scalar glossary metric plus ctc and
        offchip_passes (energy is not modelled at this level and is absent).
    """
    return coarse.network_totals(mid_layer_metrics(workload, spec, BW, BA))


def evaluate_network(workload, spec: AcceleratorSpec, bits_w, bits_a, *, objective: str = "energy"):
    """Mid cost of one genome: per-layer metrics (with a readable "tiling") and network totals."""
    metrics, tilings = mid_layer_metrics(workload, spec, bits_w, bits_a, with_tilings=True)
    cost = coarse.to_network_cost("mid", workload, metrics)
    for row, (solved, inverse) in zip(cost.layers, tilings):
        _, tile, order = solved[inverse[0]]
        row["tiling"] = describe_tiling(tile, order)
    return cost
