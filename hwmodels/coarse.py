"""Coarse abstraction level (hw-flowq Sec. 3.1, eq. 3-5): operation counts, footprints and compulsory DRAM traffic.

No memory hierarchy and no dataflow: every PE is busy at its vectorised (eq. 3) or bit-serial (eq. 4) rate, and
every weight, input and output crosses the chip boundary exactly once at its bitwidth. All metrics are computed
for a whole population at once with numpy: `BW`, `BA` of shape (n_individuals, n_layers) in, arrays out.
Bit convention (shared contract): `BA[:, l]` is layer l's input bitwidth; its output is written at the bitwidth
its readers need (`hwmodels.workload.output_bits`: the max over the layers that read it along the workload's
producer -> consumer edges), a network output at `spec.b_max`.
"""

from __future__ import annotations

import numpy as np

from hwmodels.cost import NetworkCost
from hwmodels.errors import GenomeError, WorkloadError
from hwmodels.spec import AcceleratorSpec
from hwmodels.workload import output_bits_matrix

# metrics summed over layers to get the network total; ratios are recomputed from the sums
ADDITIVE_METRICS = ("ops", "frac_ops", "bitops", "weight_bits", "activation_bits", "dram_accesses_bits",
                    "latency_cycles", "compulsory_dram_bits", "compute_cycles")


_COUNTS: dict = {}  # layer shapes -> counts: a search asks once per genome


def layer_counts(workload) -> dict:
    """Per-layer element counts as int64 arrays of shape (n_layers,): macs, n_weights, n_inputs, n_outputs.

    n_inputs counts the inputs the layer really reads (`Layer.n_inputs_used`): a strided layer whose kernel
    leaves gaps never fetches the skipped rows, so they are not compulsory traffic.
    """
    if len(workload) == 0:
        raise WorkloadError("the workload has no layers; pass a list of hwmodels.workload.Layer")
    shapes = tuple(layer.shape_key for layer in workload)
    counts = _COUNTS.get(shapes)
    if counts is None:
        if len(_COUNTS) > 256:
            _COUNTS.clear()
        counts = _COUNTS[shapes] = {
            key: np.array([getattr(layer, attr) for layer in workload], dtype=np.int64)
            for key, attr in (("macs", "macs"), ("n_weights", "n_weights"), ("n_inputs", "n_inputs_used"),
                              ("n_outputs", "n_outputs"))}
    return {key: value.copy() for key, value in counts.items()}



def check_bits(workload, spec: AcceleratorSpec, BW, BA) -> tuple[np.ndarray, np.ndarray]:
    """Population bitwidths as int64 arrays of shape (n, n_layers), checked against the workload and the PE.

    Raises:
        GenomeError: wrong shape, or a bitwidth the spec does not support (names the layer index and value).
    """
    n_layers = len(workload)
    arrays = []
    for label, bits in (("bits_w", BW), ("bits_a", BA)):
        array = np.atleast_2d(np.asarray(bits))
        if array.ndim != 2 or array.shape[1] != n_layers:
            raise GenomeError(f"{label} has shape {np.shape(bits)}; expected ({n_layers},) or (n, {n_layers}) "
                              f"for a workload of {n_layers} layers")
        if not np.issubdtype(array.dtype, np.integer):
            if not np.all(np.mod(array, 1) == 0):
                raise GenomeError(f"{label} must hold integer bitwidths, got {array.dtype} values")
        array = array.astype(np.int64)
        allowed = np.zeros(max(spec.bitwidths) + 2, dtype=bool)
        allowed[list(spec.bitwidths)] = True
        unsupported = ~allowed[np.clip(array, 0, len(allowed) - 1)]
        if unsupported.any():
            row, layer = np.argwhere(unsupported)[0]
            raise GenomeError(f"{label}[{layer}] = {array[row, layer]} (layer {workload[layer].name!r}) is not "
                              f"supported by {spec.name!r}; allowed: {list(spec.bitwidths)}")
        arrays.append(array)
    BW_checked, BA_checked = arrays
    if BW_checked.shape[0] != BA_checked.shape[0]:
        raise GenomeError(f"bits_w has {BW_checked.shape[0]} individuals but bits_a {BA_checked.shape[0]}")
    return BW_checked, BA_checked


def output_bits(BA: np.ndarray, spec: AcceleratorSpec, workload=None) -> np.ndarray:
    """Bitwidth each layer's output is written at, int64 (n, n_layers), from the input bitwidths `BA`.

    With `workload`: along its edges (`hwmodels.workload.output_bits_matrix`). Without (deprecated): the next
    layer's input bitwidth, `b_max` after the last -- correct only for a plain chain.
    """
    if workload is not None:
        return output_bits_matrix(workload, BA, spec.b_max)
    return np.concatenate([BA[:, 1:], np.full((BA.shape[0], 1), spec.b_max, dtype=np.int64)], axis=1)


def macs_per_pe_cycle(spec: AcceleratorSpec, BW: np.ndarray, BA: np.ndarray) -> np.ndarray:
    """Ideal MACs one PE completes per cycle.

    SIMD: V_speedup = floor(b_max / max(b_w, b_a)) (hw-flowq eq. 3). Bit-serial: each of `lanes` lanes needs
    b_w * b_a cycles per MAC (eq. 4 and Sec. 3.3), so lanes / (b_w * b_a).
    """
    if spec.pe_type == "bitserial":
        return spec.lanes / (BW * BA).astype(np.float64)
    return (spec.b_max // np.maximum(BW, BA)).astype(np.float64)


def speedup(spec: AcceleratorSpec, BW: np.ndarray, BA: np.ndarray) -> np.ndarray:
    """Per-MAC speed-up over a b_max x b_max operation: V_speedup (eq. 3) or BS_speedup = b_max^2/(b_w b_a) (eq. 4)."""
    if spec.pe_type == "bitserial":
        return spec.b_max ** 2 / (BW * BA).astype(np.float64)
    return (spec.b_max // np.maximum(BW, BA)).astype(np.float64)


def coarse_layer_metrics(workload, spec: AcceleratorSpec, BW, BA) -> dict:
    """Per-layer Coarse metrics of a population: metric name -> array of shape (n, n_layers).

    Returns:
        ops (MACs), frac_ops (OPs / speed-up, eq. 5), bitops (MACs * b_w * b_a), weight_bits,
        activation_bits (inputs at b_a + outputs at `output_bits`), dram_accesses_bits (compulsory: weights +
        activations, each moved once), compute_cycles = latency_cycles (ceil(MACs / (n_pes * MACs per PE-cycle))),
        throughput (MACs / cycle), ctc (MACs per DRAM byte), compulsory_dram_bits, offchip_passes (DRAM traffic /
        compulsory traffic: how many times each bit crosses the chip boundary on average; 1 here),
        utilization (1: the ideal array is always busy).
    """
    BW, BA = check_bits(workload, spec, BW, BA)
    counts = layer_counts(workload)
    BO = output_bits(BA, spec, workload)
    ops = np.broadcast_to(counts["macs"], BW.shape).astype(np.int64)
    weight_bits = counts["n_weights"] * BW
    activation_bits = counts["n_inputs"] * BA + counts["n_outputs"] * BO
    dram_bits = weight_bits + activation_bits
    compute_cycles = np.ceil(ops / (spec.n_pes * macs_per_pe_cycle(spec, BW, BA)))
    return {
        "ops": ops,
        "frac_ops": ops / speedup(spec, BW, BA),
        "bitops": ops * BW * BA,
        "weight_bits": weight_bits,
        "activation_bits": activation_bits,
        "dram_accesses_bits": dram_bits,
        "compulsory_dram_bits": dram_bits,
        "compute_cycles": compute_cycles,
        "latency_cycles": compute_cycles,
        "throughput": ops / compute_cycles,
        "ctc": ops / (dram_bits / 8.0),
        "offchip_passes": np.ones(BW.shape),
        "utilization": np.ones(BW.shape),
    }


def network_totals(per_layer: dict) -> dict:
    """Network totals (shape (n,)) from per-layer arrays (n, n_layers): sums, then ratios of the sums."""
    totals = {key: per_layer[key].sum(axis=1) for key in ADDITIVE_METRICS if key in per_layer}
    totals["throughput"] = totals["ops"] / totals["latency_cycles"]
    totals["ctc"] = totals["ops"] / (totals["dram_accesses_bits"] / 8.0)
    totals["utilization"] = totals["compute_cycles"] / totals["latency_cycles"]
    totals["offchip_passes"] = totals["dram_accesses_bits"] / totals["compulsory_dram_bits"]
    return totals


def to_network_cost(level: str, workload, per_layer: dict, index: int = 0) -> NetworkCost:
    """`NetworkCost` of individual `index`: plain-Python per-layer dicts and totals, energy keys set to None."""
    totals = network_totals({key: value[index:index + 1] for key, value in per_layer.items()})

    def plain(value):
        return value.item() if isinstance(value, np.generic) else value

    layers = []
    for position, layer in enumerate(workload):
        row = {"name": layer.name}
        row.update({key: plain(value[index, position]) for key, value in per_layer.items()})
        row.update(energy=None, energy_by_level=None)
        layers.append(row)
    total = {key: plain(value[0]) for key, value in totals.items()}
    total.update(energy=None, energy_by_level=None)
    return NetworkCost(level=level, total=total, layers=layers)


def evaluate_population(workload, spec: AcceleratorSpec, BW, BA, *, objective: str = "energy") -> dict:
    """Coarse network totals of a population.

    Args:
        workload: list of `Layer`.
        spec: the accelerator (only b_max, pe_type, lanes, n_pes and bitwidths matter at this level).
        BW, BA: int arrays (n_individuals, n_layers) of weight / input-activation bitwidths.
        objective: accepted for interface symmetry with Fine; Coarse has nothing to optimise.

    Returns:
        metric name -> float/int array of shape (n_individuals,) for every scalar glossary metric
        (energy is not modelled at this level and is absent).
    """
    return network_totals(coarse_layer_metrics(workload, spec, BW, BA))


def evaluate_network(workload, spec: AcceleratorSpec, bits_w, bits_a, *, objective: str = "energy") -> NetworkCost:
    """Coarse cost of one genome: per-layer and total metrics (see `coarse_layer_metrics`)."""
    return to_network_cost("coarse", workload, coarse_layer_metrics(workload, spec, bits_w, bits_a))
