"""Slow, obviously correct loop-nest counter the Fine kernels must match on small layers (STYLE.md 4.8, stumpy N3).

It walks the DRAM-level and buffer-level loop nests of a mapping literally, in the mapping's loop order, and counts
a tile fetch whenever the tile a tensor needs differs from the one it used on the previous iteration (only the last
tile stays resident). No reuse formula appears here: the kernels' group-order counting must agree with this walk.
"""

from __future__ import annotations

import itertools

from hwmodels import config

DIMS = config.DIM_NAMES
RELEVANT = {  # dims each tensor's index depends on
    "weights": ("G", "M", "C", "R", "S"),
    "inputs": ("N", "G", "C", "P", "Q", "R", "S"),
    "outputs": ("N", "G", "M", "P", "Q"),
}
GROUP_DIMS = (("N", "P", "Q"), ("M",), ("C", "R", "S"))


def bounds_of(layer) -> dict:
    return {"N": layer.n, "G": layer.groups, "M": layer.c_out // layer.groups, "C": layer.c_in // layer.groups,
            "P": layer.h_out, "Q": layer.w_out, "R": layer.k_h, "S": layer.k_w}


def tile_elements(layer, tile: dict) -> dict:
    """Elements of each tensor in a tile (input halo (p-1)*stride + r, clipped to the stored input)."""
    full = bounds_of(layer)

    def extent(o, k, in_full):  # really used rows: dense when the taps cover the stride, o*k with gaps otherwise
        used = (o - 1) * layer.stride + k if k >= layer.stride else o * k
        return min(used, in_full)

    h = extent(tile["P"], tile["R"], layer.h_in)
    w = extent(tile["Q"], tile["S"], layer.w_in)
    return {"weights": tile["G"] * tile["M"] * tile["C"] * tile["R"] * tile["S"],
            "inputs": tile["N"] * tile["G"] * tile["C"] * h * w,
            "outputs": tile["N"] * tile["G"] * tile["M"] * tile["P"] * tile["Q"]}


def loop_dims_outer_to_inner(order_name: str) -> list:
    """Dims of a group order ('NPQ<M<CRS', innermost first) from outermost to innermost, G outermost."""
    groups = order_name.split("<")[::-1]
    return ["G"] + [d for g in groups for d in g]


def walk(trips: dict, order_name: str):
    """Yield dicts dim -> index for every iteration of a loop nest, in loop order."""
    dims = loop_dims_outer_to_inner(order_name)
    for values in itertools.product(*[range(trips[d]) for d in dims]):
        yield dict(zip(dims, values))


def fetches(trips: dict, order_name: str, tensor: str) -> int:
    """Tile loads of `tensor` over one full walk: +1 whenever its relevant indices change (the first load too)."""
    count, last = 0, None
    for it in walk(trips, order_name):
        key = tuple(it[d] for d in RELEVANT[tensor])
        if key != last:
            count += 1
            last = key
    return count


def count_accesses(layer, mapping) -> dict:
    """Element accesses of a `hwmodels.fine.mapper.Mapping` by walking its loop nests.

    Returns:
        {"weights"|"inputs": {"dram", "buffer", "array"}, "outputs": {"dram_visits", "pe_visits"}} where the
        outputs' visits are per output element: a (DRAM-level) and v = a*b (how often the output's psum enters
        a PE), the two factors of the Eyeriss psum chain that depend on the loop orders.
    """
    real = bounds_of(layer)
    pe = dict(zip(DIMS, mapping.pe))
    array_tile = {d: mapping.pe[k] * mapping.rows[k] * mapping.cols[k] for k, d in enumerate(DIMS)}
    buf_trips = dict(zip(DIMS, mapping.buffer))
    buffer_tile = {d: array_tile[d] * buf_trips[d] for d in DIMS}
    dram_trips = {d: -(-real[d] // buffer_tile[d]) for d in DIMS}  # ceil: imperfect factors pad the loop
    full = {d: dram_trips[d] * buffer_tile[d] for d in DIMS}
    n_pe = 1
    for k in range(len(DIMS)):
        n_pe *= mapping.rows[k] * mapping.cols[k]
    el_buffer = tile_elements(layer, buffer_tile)
    el_array = tile_elements(layer, array_tile)
    el_pe = tile_elements(layer, pe)
    n_dram_iters = 1
    for d in DIMS:
        n_dram_iters *= dram_trips[d]
    out = {}
    for tensor in ("weights", "inputs"):
        dram_loads = fetches(dram_trips, mapping.order_dram, tensor)
        buffer_loads_per_dram_iter = fetches(buf_trips, mapping.order_buffer, tensor)
        all_inputs = full["N"] * full["G"] * full["C"] * layer.h_in * layer.w_in  # every stored input
        dram = dram_loads * el_buffer[tensor]
        if tensor == "inputs":
            dram = max(dram, all_inputs)
        out[tensor] = {"dram": dram,
                       "buffer": n_dram_iters * buffer_loads_per_dram_iter * el_array[tensor],
                       "array": n_dram_iters * buffer_loads_per_dram_iter * n_pe * el_pe[tensor]}
    distinct_dram = 1
    distinct_buf = 1
    for d in RELEVANT["outputs"]:
        distinct_dram *= dram_trips[d]
        distinct_buf *= buf_trips[d]
    a = fetches(dram_trips, mapping.order_dram, "outputs") // distinct_dram
    v_per_dram_iter = fetches(buf_trips, mapping.order_buffer, "outputs") // distinct_buf
    reduction_dram_trips = dram_trips["C"] * dram_trips["R"] * dram_trips["S"]
    out["outputs"] = {"dram_visits": a, "pe_visits": v_per_dram_iter * reduction_dram_trips}
    return out
