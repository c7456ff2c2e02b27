"""Fine abstraction level (hw-flowq Sec. 3.3): the best loop-nest mapping per layer on a spatial accelerator.

Python API around the numba kernels of `_kernels.py`: it coerces and checks input, calls the kernels, raises on a
status code and wraps results. `map_layer` returns the exact optimum of the space its docstring defines (checked
against the brute force of tests/hwmodels/oracle.py); consequences: a lower bitwidth, a larger RF or buffer never
raise the best energy or latency. Layer results are memoised per (layer shape, b_w, b_a, b_out, spec, objective,
tolerance), so evaluating a population maps each distinct layer configuration once. Output bitwidths follow the
workload's producer -> consumer edges (`hwmodels.workload.output_bits_matrix`).
"""

from __future__ import annotations

import hashlib
import json
import os
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field, replace
from enum import IntEnum
from pathlib import Path

import numpy as np

from hwmodels import coarse, config
from hwmodels.cost import NetworkCost
from hwmodels.errors import GenomeError, MappingError
from hwmodels.fine import layout as L

DIMS = config.DIM_NAMES


class Dataflow(IntEnum):
    """Dataflow codes as the kernels see them."""

    RS = config.DATAFLOW_RS
    WS = config.DATAFLOW_WS
    OS = config.DATAFLOW_OS


class Objective(IntEnum):
    """What the mapper minimises per layer."""

    ENERGY = config.OBJ_ENERGY
    LATENCY = config.OBJ_LATENCY
    EDP = config.OBJ_EDP


def order_name(order: int) -> str:
    """Readable group order, innermost first, e.g. 'NPQ<M<CRS' (NPQ innermost: weights stay resident)."""
    return "<".join(config.GROUP_NAMES[g] for g in config.LOOP_ORDERS[order])


def order_index(name: str) -> int:
    """Inverse of `order_name`."""
    for k in range(config.N_ORDERS):
        if order_name(k) == name:
            return k
    allowed = [order_name(k) for k in range(config.N_ORDERS)]
    raise GenomeError(f"unknown loop order {name!r}; allowed (innermost first): {allowed}")


def _factors(values: dict | None) -> tuple:
    out = [1] * config.N_DIMS
    for key, value in (values or {}).items():
        if key not in DIMS:
            raise GenomeError(f"unknown loop dimension {key!r}; allowed: {list(DIMS)}")
        out[DIMS.index(key)] = int(value)
    return tuple(out)


@dataclass(frozen=True)
class Mapping:
    """One mapping of a layer (see `_kernels` module docstring). Factors are (8,) tuples over N,G,M,C,P,Q,R,S.

    Attributes:
        rows, cols: spatial factors along PE rows / columns (need not divide the bounds: idle PEs).
        pe: the PE tile (temporal loops inside a PE, lanes included).
        lanes: in-PE parallel MACs used along `lane_dim` (<= V for SIMD, <= lanes for bit-serial).
        buffer: buffer-level loop factors (array tiles per buffer tile).
        order_buffer, order_dram: group orders, innermost first (`order_name`).
        lane_dim: the dim the lanes run along ("M" by default).
    The DRAM-level factor of each dim is ceil(bound / (rows x cols x pe x buffer)).
    """

    rows: tuple
    cols: tuple
    pe: tuple
    lanes: int
    buffer: tuple
    order_buffer: str
    order_dram: str
    lane_dim: str = "M"

    @classmethod
    def build(cls, *, rows=None, cols=None, pe=None, lanes=1, buffer=None, order_buffer="NPQ<M<CRS",
              order_dram="NPQ<M<CRS", lane_dim="M") -> "Mapping":
        """A mapping from dicts such as rows={"R": 3}, pe={"S": 3, "Q": 4}; unnamed dims get factor 1."""
        order_index(order_buffer)
        order_index(order_dram)
        if lane_dim not in DIMS:
            raise GenomeError(f"unknown lane dimension {lane_dim!r}; allowed: {list(DIMS)}")
        return cls(_factors(rows), _factors(cols), _factors(pe), int(lanes), _factors(buffer), order_buffer,
                   order_dram, lane_dim)

    def to_array(self) -> np.ndarray:
        """The kernels' (MAP_LEN,) int64 mapping vector."""
        vec = np.zeros(L.MAP_LEN, dtype=np.int64)
        vec[L.MAP_ROWS:L.MAP_ROWS + 8] = self.rows
        vec[L.MAP_COLS:L.MAP_COLS + 8] = self.cols
        vec[L.MAP_PE:L.MAP_PE + 8] = self.pe
        vec[L.MAP_LANE_DIM] = DIMS.index(self.lane_dim)
        vec[L.MAP_LANES] = self.lanes
        vec[L.MAP_BUF:L.MAP_BUF + 8] = self.buffer
        vec[L.MAP_ORDER_B] = order_index(self.order_buffer)
        vec[L.MAP_ORDER_D] = order_index(self.order_dram)
        return vec

    @classmethod
    def from_array(cls, vec) -> "Mapping":
        """Inverse of `to_array`."""
        def t(offset):
            return tuple(int(x) for x in vec[offset:offset + 8])
        return cls(t(L.MAP_ROWS), t(L.MAP_COLS), t(L.MAP_PE), int(vec[L.MAP_LANES]), t(L.MAP_BUF),
                   order_name(int(vec[L.MAP_ORDER_B])), order_name(int(vec[L.MAP_ORDER_D])),
                   DIMS[int(vec[L.MAP_LANE_DIM])])

    def dram_factors(self, layer) -> tuple:
        """DRAM-level loop factors implied by the layer's bounds."""
        bounds = L.layer_bounds(layer)
        inner = [self.rows[d] * self.cols[d] * self.pe[d] * self.buffer[d] for d in range(config.N_DIMS)]
        return tuple(int(-(-bounds[d] // inner[d])) for d in range(config.N_DIMS))

    def describe(self, layer=None) -> dict:
        """Readable form: only factors > 1, e.g. {"spatial_rows": "R3 M4", ...}."""
        def fmt(factors):
            text = " ".join(f"{DIMS[d]}{f}" for d, f in enumerate(factors) if f != 1)
            return text or "-"
        out = {"spatial_rows": fmt(self.rows), "spatial_cols": fmt(self.cols), "pe_tile": fmt(self.pe),
               "lanes": f"{self.lane_dim}{self.lanes}", "buffer_loops": fmt(self.buffer), "buffer_order": self.order_buffer,
               "dram_order": self.order_dram}
        if layer is not None:
            out["dram_loops"] = fmt(self.dram_factors(layer))
        return out


@dataclass
class LayerCost:
    """Fine cost of one layer (or a sum of layers via `+`).

    Attributes:
        name: layer name ("a+b" for sums).
        energy: total energy (normalised to a 16-bit MAC, or pJ with a pJ energy table).
        energy_by_level: {"mac", "rf", "array", "buffer", "dram"} energies.
        latency_cycles: max(compute, buffer-bandwidth, DRAM-bandwidth) cycles.
        compute_cycles: cycles the PE array computes.
        dram_accesses_bits, buffer_accesses_bits: traffic in bits.
        ops: MACs. utilization: MACs / (compute_cycles * peak MACs per cycle).
        counts: element accesses {"weights"|"inputs"|"psums": {"dram", "buffer", "array", "rf"}}.
        mapping: the `Mapping` (None for sums).
    """

    name: str
    energy: float
    energy_by_level: dict
    latency_cycles: float
    compute_cycles: float
    dram_accesses_bits: float
    buffer_accesses_bits: float
    ops: int
    utilization: float
    counts: dict = field(default_factory=dict)
    mapping: Mapping | None = None

    def __add__(self, other: "LayerCost") -> "LayerCost":
        return LayerCost.total_of([self, other])

    @staticmethod
    def total_of(costs) -> "LayerCost":
        """Sum of layer costs (layers run one after another): energies, cycles, traffic and counts add up;
        utilisation is MACs over the busy PE-cycles of all of them."""
        ops = compute = latency = energy = dram = buffer = busy = 0.0
        levels = dict.fromkeys(config.LEVEL_NAMES, 0.0)
        counts = {t: dict.fromkeys(("dram", "buffer", "array", "rf"), 0.0) for t in ("weights", "inputs", "psums")}
        for cost in costs:
            ops += cost.ops
            compute += cost.compute_cycles
            latency += cost.latency_cycles
            energy += cost.energy
            dram += cost.dram_accesses_bits
            buffer += cost.buffer_accesses_bits
            if cost.utilization:  # peak MACs per cycle x cycles
                busy += cost.ops / cost.utilization
            for k in config.LEVEL_NAMES:
                levels[k] += cost.energy_by_level[k]
            for t, by_level in cost.counts.items():
                for lv, value in by_level.items():
                    counts[t][lv] += value
        return LayerCost(name="+".join(cost.name for cost in costs), energy=energy, energy_by_level=levels,
                         latency_cycles=latency, compute_cycles=compute, dram_accesses_bits=dram,
                         buffer_accesses_bits=buffer, ops=int(ops), utilization=ops / busy if busy else 0.0,
                         counts=counts)


_MEMO: dict = {}
_RENAMED: dict = {}  # (id of a memoised cost, layer name) -> (that cost, the cost renamed)
_STATS = {"searches": 0, "mappings_evaluated": 0, "spatial_candidates": 0, "spatial_opened": 0, "pe_tiles": 0,
          "pe_tiles_opened": 0, "buffer_tiles": 0, "buffer_tiles_opened": 0, "bound_checks": 0,
          "bound_violations": 0, "fill_rescued": 0}
_STAT_INDEX = (("mappings_evaluated", L.ST_COSTED), ("spatial_candidates", L.ST_SPATIAL),
               ("spatial_opened", L.ST_SPATIAL_OPEN), ("pe_tiles", L.ST_PE), ("pe_tiles_opened", L.ST_PE_OPEN),
               ("buffer_tiles", L.ST_BUF), ("buffer_tiles_opened", L.ST_BUF_OPEN), ("bound_checks", L.ST_CHECKED),
               ("bound_violations", L.ST_VIOLATIONS), ("fill_rescued", L.ST_RESCUED))
_CHECK_BOUNDS = os.environ.get("FLOWQ_CHECK_BOUNDS", "") == "1"


def check_bounds(on: bool = True) -> None:
    """Bound check mode (also FLOWQ_CHECK_BOUNDS=1 at import): the search prunes nothing, costs every mapping of
    the space and tests it against the lower bounds of the subtrees holding it; `search_stats()` counts
    "bound_checks" and "bound_violations" (a mapping cheaper than one of its bounds). Layer results are neither
    memoised nor read from the store while it is on, so every call searches. Off by default (no cost then)."""
    global _CHECK_BOUNDS
    _CHECK_BOUNDS = bool(on)


def clear_memo() -> None:
    """Forget every memoised layer result (benchmarks use it for cold timings)."""
    _MEMO.clear()
    _DESCRIBED.clear()
    _RENAMED.clear()


def search_stats() -> dict:
    """Counters since import: searches run, mappings evaluated / legal in the kernels, bound checks and
    violations (`check_bounds`), "fill" results replaced by a dominating mapping outside the fill space."""
    return dict(_STATS)


def _kernels():
    """(kernels module, pack_layer, pack_spec), imported on first use: numba starts only when something is mapped."""
    from hwmodels.fine import _kernels as K
    from hwmodels.fine.pack import pack_layer, pack_spec
    return K, pack_layer, pack_spec


# ---- persistent store of layer results (across processes) ----
_STORE = None
_MODEL_DIGEST = None
_MODEL_FILES = ("_kernels.py", "_tiling.py", "layout.py", "pack.py", "mapper.py")


def use_store(store) -> None:
    """Keep layer results in `store` too, so another process maps a known layer configuration without numba.

    `store` has get(key) -> dict | None and put(key, dict) (e.g. `flowq.cache.MappingStore`); None turns it off.
    Keys digest the layer shape, bitwidths, the whole spec, objective, tolerance and the source of the Fine model
    (`_MODEL_FILES` and `hwmodels/config.py`), so editing the cost model never reads stale results.
    """
    global _STORE
    _STORE = store


@contextmanager
def stored_in(store):
    """`use_store(store)` for the duration of a `with` block (the previous store is restored after it)."""
    previous = _STORE
    use_store(store)
    try:
        yield
    finally:
        use_store(previous)


def _model_digest() -> str:
    global _MODEL_DIGEST
    if _MODEL_DIGEST is None:
        here = Path(__file__).resolve().parent
        h = hashlib.sha256()
        for path in [here / name for name in _MODEL_FILES] + [here.parent / "config.py"]:
            h.update(path.read_bytes())
        _MODEL_DIGEST = h.hexdigest()[:16]
    return _MODEL_DIGEST


def _store_key(key) -> str:
    shape, b_w, b_a, b_out, spec, objective, tolerance = key
    text = json.dumps({"fine_model": _model_digest(), "layer": list(shape), "bits": [b_w, b_a, b_out],
                       "spec": asdict(spec), "objective": objective, "tolerance": tolerance},
                      sort_keys=True, default=str)
    return "fine-" + hashlib.sha256(text.encode()).hexdigest()[:32]


def _stored(key, layer) -> LayerCost | None:
    if _STORE is None:
        return None
    value = _STORE.get(_store_key(key))
    if not value:
        return None
    mapping = Mapping(**{k: tuple(v) if isinstance(v, list) else v for k, v in value.pop("mapping").items()})
    return LayerCost(name=layer.name, mapping=mapping, **value)


def _store(key, cost: LayerCost) -> None:
    if _STORE is not None:
        value = asdict(cost)
        value.pop("name")
        _STORE.put(_store_key(key), value)


def _layer_cost(layer, mapping_vec, metrics) -> LayerCost:
    levels = {name: float(metrics[L.MET_LEVELS + k]) for k, name in enumerate(config.LEVEL_NAMES)}
    c = metrics[L.MET_COUNTS:L.MET_COUNTS + 12]
    counts = {t: {lv: float(c[4 * ti + li]) for li, lv in enumerate(("dram", "buffer", "array", "rf"))}
              for ti, t in enumerate(("weights", "inputs", "psums"))}
    return LayerCost(name=layer.name, energy=float(metrics[L.MET_ENERGY]), energy_by_level=levels,
                     latency_cycles=float(metrics[L.MET_LATENCY]), compute_cycles=float(metrics[L.MET_COMPUTE]),
                     dram_accesses_bits=float(metrics[L.MET_DRAM_BITS]),
                     buffer_accesses_bits=float(metrics[L.MET_BUFFER_BITS]), ops=int(layer.macs),
                     utilization=float(metrics[L.MET_UTIL]), counts=counts,
                     mapping=Mapping.from_array(mapping_vec))


def _check_layer_bits(spec, b_w, b_a, b_out, where="") -> None:
    for label, b in (("b_w", b_w), ("b_a", b_a), ("b_out", b_out)):
        if int(b) not in spec.bitwidths and not (label == "b_out" and int(b) == spec.b_max):
            raise GenomeError(f"{label} = {b}{where} is not supported by {spec.name!r}; allowed: "
                              f"{list(spec.bitwidths)}")


def evaluate_mapping(layer, spec, b_w: int, b_a: int, b_out: int, mapping: Mapping) -> LayerCost:
    """Cost of a given mapping (no search).

    Raises:
        MappingError: the mapping does not tile the layer or overflows the array, an RF or the buffer.
    """
    _check_layer_bits(spec, b_w, b_a, b_out)
    K, pack_layer, pack_spec = _kernels()
    la = pack_layer(layer, b_w, b_a, b_out, spec)
    sa = pack_spec(spec)
    vec = mapping.to_array()
    metrics = np.zeros(L.MET_LEN, dtype=np.float64)
    status = K._evaluate_mapping(la.bounds, la.geom, la.bits, sa.spec_i, sa.spec_f, sa.energy, vec, metrics)
    if status != config.STATUS_OK:
        raise MappingError(f"layer {layer.name!r}: mapping {mapping.describe(None)} is illegal on {spec.name!r} "
                           f"(loop bounds {dict(zip(DIMS, la.bounds.tolist()))}: factors must "
                           f"fit the {spec.pe_rows}x{spec.pe_cols} array, the lanes, the RFs and the buffer)")
    return _layer_cost(layer, vec, metrics)


def map_layer(layer, spec, b_w: int, b_a: int, b_out: int, *, objective: str = "energy",
              tolerance: float = config.TIE_TOLERANCE) -> LayerCost:
    """Best mapping of `layer` on `spec` for `objective` ("energy", "latency" or "edp"), memoised.

    Search space (exact; `_kernels` counts the costs):
        - spatial unrolling per the dataflow table (`config.DF_*`): on rows a primary dim (RS: R, OS: P) times at
          most one replication dim (RS: N/G/M/C, WS: G/C), on columns a primary dim (RS: P, OS: Q) times at most one
          replication dim (RS: N/G/M/C, WS: G/M, OS: G/M over every PE the P x Q block leaves free); any factor
          1..min(bound left, PEs left), ceil-divided (imperfect factors leave PEs idle). With the spec's
          `unrolling: fill` (default) only the unrollings x lane choices that fill the array are kept: those whose
          temporal trip vector no other choice without lanes, or with lanes on the same dim and at most as many,
          matches in every dim and beats in one (the dataflow unrolls as far as the array allows, as in ZigZag and
          hw-flowq 6.3.3; lanes that exhaust a dim free its PEs, hw-flowq 3.3.1; `_kernels._filling`).
          Trip counts ignore padded work and DRAM-bound latency, so each fill search is followed by a rescue over
          every unrolling: the result is replaced by the first mapping of the whole space, in the objective's
          order, whose tie-break metric is no worse (`_kernels._rescue`); a fill result is therefore never
          dominated in both energy and latency by any mapping, and when no filling unrolling maps the layer the
          whole space is searched. `unrolling: any` keeps them all (Timeloop's unconstrained space);
        - L in-PE lanes (SIMD packing, L <= floor(b_max / max(b_w, b_a)); bit-serial, L <= lanes) along any dim,
          also ceil-divided;
        - every PE tile (temporal factors over the dataflow's PE dims dividing the trips left) whose RFs hold its
          weights, input window and live psums; inputs / psums stay resident across buffer loops when the RFs hold
          the whole tile;
        - every buffer tile (divisors of the trips left) that fits the buffer (half of it when double buffered,
          bypassed tensors excluded), every buffer-level and DRAM-level loop order. Loop orders are the 6
          permutations of the relevance groups NPQ / M / CRS (G outermost): a tensor's fetch count only shrinks
          by the trailing run of loops it ignores, so for any of the 8! permutations the group order with that
          run's group innermost has every tensor's fetch count <= (proof in `_tiling`).
        Only exactly dominated choices are skipped: a spatial / lane factor f is tried only if no smaller factor
        has the same trip count ceil(n / f) (equal trips, less padding), and branches whose proven lower bound
        cannot beat the best are cut (`_kernels._bounded_out`; proofs in the bound functions' docstrings;
        `check_bounds` turns the cuts off and tests every costed mapping against its bounds).

    Args:
        objective: the metric minimised; energy and latency return, among mappings within `tolerance` (relative)
            of the best, the one best in the other metric; EDP ties go to the lower energy.
        tolerance: relative tie-break window (0 = exact optimum, ties by the other metric).

    Raises:
        GenomeError: unsupported bitwidth or objective.
        MappingError: no legal mapping (e.g. RFs too small for one operand).
    """
    if objective not in config.OBJECTIVE_CODES:
        raise GenomeError(f"objective={objective!r}; allowed: {list(config.OBJECTIVE_CODES)}")
    key = (layer.shape_key, int(b_w), int(b_a), int(b_out), spec, objective, float(tolerance))
    hit = None if _CHECK_BOUNDS else _MEMO.get(key)
    if hit is not None:
        return hit if hit.name == layer.name else _renamed(hit, layer.name)
    _check_layer_bits(spec, b_w, b_a, b_out)
    stored = None if _CHECK_BOUNDS else _stored(key, layer)
    if stored is not None:
        _MEMO[key] = stored
        return stored
    K, pack_layer, pack_spec = _kernels()
    la = pack_layer(layer, b_w, b_a, b_out, spec)
    sa = pack_spec(spec)
    vec = np.zeros(L.MAP_LEN, dtype=np.int64)
    stats = np.zeros(L.ST_LEN, dtype=np.int64)
    status = K._search_layer(la.bounds, la.geom, la.bits, sa.spec_i, sa.spec_f, sa.energy,
                             config.OBJECTIVE_CODES[objective], float(tolerance), int(_CHECK_BOUNDS), vec, stats)
    _STATS["searches"] += 1
    for name, index in _STAT_INDEX:
        _STATS[name] += int(stats[index])
    if status != config.STATUS_OK:
        raise MappingError(f"layer {layer.name!r} ({dict(zip(DIMS, la.bounds.tolist()))}) has no legal mapping on "
                           f"{spec.name!r} with dataflow {spec.dataflow} at b_w={b_w}, b_a={b_a}: the RFs "
                           f"(filter/ifmap/psum {spec.rf_filter_words}/{spec.rf_ifmap_words}/{spec.rf_psum_words}"
                           f" words) or the buffer ({spec.buffer_size_bits} bits) cannot hold one tile; enlarge them")
    metrics = np.zeros(L.MET_LEN, dtype=np.float64)
    K._evaluate_mapping(la.bounds, la.geom, la.bits, sa.spec_i, sa.spec_f, sa.energy, vec, metrics)
    result = _layer_cost(layer, vec, metrics)
    if not _CHECK_BOUNDS:
        _MEMO[key] = result
        _store(key, result)
    return result


def _renamed(cost: LayerCost, name: str) -> LayerCost:
    """A memoised result under another layer's name (memoised too: a network repeats shapes)."""
    key = (id(cost), name)
    hit = _RENAMED.get(key)
    if hit is None or hit[0] is not cost:
        hit = _RENAMED[key] = (cost, replace(cost, name=name))
    return hit[1]


def _output_bits(workload, spec, BA) -> np.ndarray:
    """Output bitwidths (n, n_layers): the widest reader's (workload edges) when the workload module knows its
    edges, else the next layer's b_a (b_max after the last)."""
    try:
        from hwmodels.workload import output_bits_matrix
    except ImportError:
        return np.concatenate([BA[:, 1:], np.full((BA.shape[0], 1), spec.b_max, dtype=np.int64)], axis=1)
    return output_bits_matrix(workload, BA, spec.b_max)


def _layer_costs(workload, spec, bw, ba, objective, bo=None) -> list:
    if bo is None:
        bo = _output_bits(workload, spec, np.atleast_2d(np.asarray(ba, dtype=np.int64)))[0]
    return [map_layer(layer, spec, int(bw[k]), int(ba[k]), int(bo[k]), objective=objective)
            for k, layer in enumerate(workload)]


def evaluate_network(workload, spec, bits_w, bits_a, *, objective: str = "energy") -> NetworkCost:
    """Fine cost of one genome: per-layer dicts (glossary keys + utilization + mapping) and network totals."""
    BW, BA = coarse.check_bits(workload, spec, bits_w, bits_a)
    base = coarse.coarse_layer_metrics(workload, spec, BW, BA)
    costs = _layer_costs(workload, spec, BW[0], BA[0], objective, _output_bits(workload, spec, BA)[0])
    layers = []
    for k, (layer, cost) in enumerate(zip(workload, costs)):
        row = {"name": layer.name}
        for key in ("ops", "frac_ops", "bitops", "weight_bits", "activation_bits"):
            row[key] = base[key][0, k].item()
        row.update(_fine_metrics(cost))
        row["mapping"] = _described(cost.mapping, layer)
        layers.append(row)
    total_cost = LayerCost.total_of(costs)
    total = {key: float(base[key][0].sum()) for key in ("frac_ops", "bitops", "weight_bits", "activation_bits")}
    total["ops"] = int(base["ops"][0].sum())
    total.update(_fine_metrics(total_cost))
    return NetworkCost(level="fine", total=total, layers=layers)


_DESCRIBED: dict = {}


def _described(mapping: Mapping, layer) -> dict:
    """`mapping.describe(layer)`, memoised per (mapping, layer shape) so a warm genome formats nothing (a copy:
    callers may edit their rows)."""
    key = (mapping, layer.shape_key)
    text = _DESCRIBED.get(key)
    if text is None:
        text = _DESCRIBED[key] = mapping.describe(layer)
    return dict(text)


def _fine_metrics(cost: LayerCost) -> dict:
    return {"dram_accesses_bits": cost.dram_accesses_bits, "latency_cycles": cost.latency_cycles,
            "compute_cycles": cost.compute_cycles, "throughput": cost.ops / cost.latency_cycles,
            "energy": cost.energy, "energy_by_level": dict(cost.energy_by_level), "utilization": cost.utilization,
            "ctc": cost.ops / (cost.dram_accesses_bits / 8.0)}


def evaluate_population(workload, spec, BW, BA, *, objective: str = "energy") -> dict:
    """Fine network totals of a population: BW, BA (n, n_layers) -> {metric: (n,) array}."""
    BW, BA = coarse.check_bits(workload, spec, BW, BA)
    totals = coarse.network_totals(coarse.coarse_layer_metrics(workload, spec, BW, BA))
    n = BW.shape[0]
    keys = ("energy", "latency_cycles", "compute_cycles", "dram_accesses_bits", "utilization")
    fine = {key: np.zeros(n) for key in keys}
    by_level = {name: np.zeros(n) for name in config.LEVEL_NAMES}
    BO = _output_bits(workload, spec, BA)
    for i in range(n):
        total = LayerCost.total_of(_layer_costs(workload, spec, BW[i], BA[i], objective, BO[i]))
        for key in keys:
            fine[key][i] = getattr(total, key)
        for name in config.LEVEL_NAMES:
            by_level[name][i] = total.energy_by_level[name]
    out = {key: totals[key] for key in ("ops", "frac_ops", "bitops", "weight_bits", "activation_bits")}
    out.update(fine)
    out["throughput"] = out["ops"] / out["latency_cycles"]
    out["ctc"] = out["ops"] / (out["dram_accesses_bits"] / 8.0)
    for name in config.LEVEL_NAMES:
        out[f"energy_{name}"] = by_level[name]
    return out
