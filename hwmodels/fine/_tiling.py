"""Buffer-level tiling kernels shared by Mid and Fine: divisor tilings, footprints in bits, DRAM reuse counting.

Mid (`hwmodels/mid.py`) and the Fine mapper's outer level use exactly these functions, so the Fine DRAM traffic
of any mapping is >= the minimum `_best_buffer_tiling` returns for the same buffer and bitwidths.

Conventions (all arrays int64, C-contiguous; dimension indices from `hwmodels.config`):
    bounds  (8,)  loop bounds [N, G, M, C, P, Q, R, S]: batch, groups, output channels per group, input channels
                  per group, output rows, output columns, kernel rows, kernel columns (`layer_bounds`).
    tile    (8,)  buffer-level tile extents; each divides its bound. The DRAM-level loop over tiles of dim d runs
                  `bounds[d] // tile[d]` times.
    order   int   index into `config.LOOP_ORDERS` (6 permutations of the three relevance groups NPQ / M / CRS,
                  innermost first; G is always outermost).
    geom    (4,)  [stride_h, stride_w, h_in, w_in]: input rows/columns actually stored (padding is never fetched).

Reuse counting (Timeloop-style): a tensor's tile is fetched once per iteration of the DRAM-level loop nest, except
that loops *inside* the innermost loop the tensor depends on leave the tile resident. With group orders this means:
the tensor's traffic is divided by the trip count of its irrelevant group exactly when every group inside that one
has trip count 1. Keeping dims of one relevance group together is never worse than interleaving them (exchange
argument), and G outermost is optimal (every tensor depends on G), so the 6 group orders reach the minimum over all
8! loop permutations.

Psums (Eyeriss ISCA'16 access model): if an output tile is visited `a` times at the DRAM level (the reduction C/R/S
is split across DRAM iterations and is not innermost), each output element costs a-1 reads and a-1 writes at the
psum width plus one final write at the output width b_out -- the (2a-1) DRAM term of the Eyeriss psum formula.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from hwmodels import config
from hwmodels.fine.layout import layer_bounds, layer_geometry  # noqa: F401  (re-exported)

GROUP_OF_DIM = config.GROUP_OF_DIM
IRRELEVANT_GROUP = config.IRRELEVANT_GROUP
LOOP_ORDERS = config.LOOP_ORDERS


@njit(cache=True, **config.NJIT_FLAGS)
def _psum_bits(b_w, b_a, reduction_size, cap):
    """Width in bits of a partial sum (hw-flowq 3.3.1, DESIGN.md): 2*max(b_w, b_a) + ceil(log2(reduction)).

    `cap` > 0 saturates the width (Timeloop's eyeriss_like keeps every tensor, psums included, in 16-bit words);
    0 leaves it uncapped, so a 16-bit layer's psums are wider than one 16-bit word and cost more than one.
    """
    log2_red = 0
    while (1 << log2_red) < reduction_size:
        log2_red += 1
    width = 2 * max(b_w, b_a) + log2_red
    if cap > 0:
        return min(width, cap)
    return width


@njit(cache=True, **config.NJIT_FLAGS)
def _divisors(n):
    """All divisors of n >= 1, ascending (int64 array)."""
    count = 0
    for d in range(1, n + 1):
        if n % d == 0:
            count += 1
    out = np.empty(count, dtype=np.int64)
    k = 0
    for d in range(1, n + 1):
        if n % d == 0:
            out[k] = d
            k += 1
    return out


@njit(cache=True, **config.NJIT_FLAGS)
def _divisor_table(bounds):
    """Divisors of each bound as a padded table: (divs (8, max_count) int64, counts (8,) int64)."""
    counts = np.zeros(config.N_DIMS, dtype=np.int64)
    for d in range(config.N_DIMS):
        counts[d] = _divisors(bounds[d]).shape[0]
    width = 1
    for d in range(config.N_DIMS):
        width = max(width, counts[d])
    table = np.ones((config.N_DIMS, width), dtype=np.int64)
    for d in range(config.N_DIMS):
        divs = _divisors(bounds[d])
        for k in range(divs.shape[0]):
            table[d, k] = divs[k]
    return table, counts


@njit(cache=True, **config.NJIT_FLAGS)
def _input_extent(out_tile, k_tile, stride, in_full):
    """Input rows (or columns) a tile of `out_tile` outputs x `k_tile` kernel taps really uses.

    Dense (o-1)*s + k when the taps cover the stride (k >= s); o*k when they leave gaps (k < s: a 1x1 stride-2
    conv reads every other row), clipped to the stored input size (padding is never fetched).
    """
    if k_tile >= stride:
        extent = (out_tile - 1) * stride + k_tile
    else:
        extent = out_tile * k_tile
    return min(extent, in_full)


@njit(cache=True, **config.NJIT_FLAGS)
def _tile_elems(bounds, tile, geom):
    """Elements of each tensor inside a tile: (weights, inputs, outputs), int64.

    weights = G*M*C*R*S, inputs = N*G*C*h*w with h, w the really used input extents (`_input_extent`),
    outputs = N*G*M*P*Q. `bounds` is unused (kept for a stable signature).
    """
    w = tile[config.DIM_G] * tile[config.DIM_M] * tile[config.DIM_C] * tile[config.DIM_R] * tile[config.DIM_S]
    h = _input_extent(tile[config.DIM_P], tile[config.DIM_R], geom[0], geom[2])
    wd = _input_extent(tile[config.DIM_Q], tile[config.DIM_S], geom[1], geom[3])
    i = tile[config.DIM_N] * tile[config.DIM_G] * tile[config.DIM_C] * h * wd
    o = tile[config.DIM_N] * tile[config.DIM_G] * tile[config.DIM_M] * tile[config.DIM_P] * tile[config.DIM_Q]
    return w, i, o


@njit(cache=True, **config.NJIT_FLAGS)
def _stored_inputs(bounds, geom):
    """Every stored input element: N*G*C*h_in*w_in. Each is read from DRAM at least once (DRAM moves whole rows;
    tiles count only the elements they really use, `_input_extent`), which keeps Fine >= Mid >= Coarse."""
    return bounds[config.DIM_N] * bounds[config.DIM_G] * bounds[config.DIM_C] * geom[2] * geom[3]


@njit(cache=True, **config.NJIT_FLAGS)
def _reduction_complete(bounds, tile):
    """True when the tile spans the whole reduction (C, R, S), so its outputs leave it final (b_out), not as psums."""
    return (tile[config.DIM_C] == bounds[config.DIM_C] and tile[config.DIM_R] == bounds[config.DIM_R]
            and tile[config.DIM_S] == bounds[config.DIM_S])


@njit(cache=True, **config.NJIT_FLAGS)
def _footprint_bits(bounds, tile, geom, b_w, b_a, b_out, b_psum):
    """Buffer footprint of a tile in bits: weights at b_w, inputs at b_a, outputs at b_out (psum width if the
    reduction is split across the tiles, since the buffer then holds partial sums)."""
    w, i, o = _tile_elems(bounds, tile, geom)
    b_o = b_out if _reduction_complete(bounds, tile) else b_psum
    return w * b_w + i * b_a + o * b_o


@njit(cache=True, **config.NJIT_FLAGS)
def _footprint_lb_bits(bounds, tile, geom, b_w, b_a, b_out, b_psum):
    """A lower bound of `_footprint_bits` that never decreases when a tile factor grows (outputs at the narrower
    of b_out and b_psum); enumerations prune on it, since the exact footprint can shrink when a tile completes the
    reduction (psums become b_out-bit outputs)."""
    w, i, o = _tile_elems(bounds, tile, geom)
    return w * b_w + i * b_a + o * min(b_out, b_psum)


@njit(cache=True, **config.NJIT_FLAGS)
def _group_trips(trips):
    """Trip-count product of each relevance group (3,) from per-dim trip counts (8,)."""
    g = np.ones(3, dtype=np.int64)
    for d in range(config.N_DIMS):
        if GROUP_OF_DIM[d] >= 0:
            g[GROUP_OF_DIM[d]] *= trips[d]
    return g


@njit(cache=True, **config.NJIT_FLAGS)
def _trip_groups(outer, inner):
    """Products of the trips outer[d] // inner[d]: (all dims, NPQ group, M group, CRS group, the dims outputs
    depend on = output tiles)."""
    total = 1
    g_npq = 1
    g_m = 1
    g_crs = 1
    o_tiles = 1
    for d in range(config.N_DIMS):
        t = outer[d] // inner[d]
        total *= t
        if GROUP_OF_DIM[d] == 0:
            g_npq *= t
        elif GROUP_OF_DIM[d] == 1:
            g_m *= t
        elif GROUP_OF_DIM[d] == 2:
            g_crs *= t
        if config.RELEVANT[config.TENSOR_O, d] == 1:
            o_tiles *= t
    return total, g_npq, g_m, g_crs, o_tiles


@njit(cache=True, **config.NJIT_FLAGS)
def _fetch3(g_npq, g_m, g_crs, total, order, tensor):
    """How many times a tensor's tile is (re)loaded by a loop nest with these group trips and group order.

    Equals total / (trips of the tensor's irrelevant group) when every group inside it has one trip (the tile
    stays resident across its innermost irrelevant loops), else total.
    """
    irrelevant = IRRELEVANT_GROUP[tensor]
    for k in range(3):
        g = LOOP_ORDERS[order, k]
        trips = g_npq if g == 0 else (g_m if g == 1 else g_crs)
        if g == irrelevant:
            return total // trips
        if trips > 1:
            return total
    return total


@njit(cache=True, **config.NJIT_FLAGS)
def _odometer_next(idx, counts, fits):
    """Advance a mixed-radix counter over divisor indices (dim 0 fastest); False when exhausted.

    Footprints grow with every factor, so when the current tile does not fit, every tile that differs only by
    larger indices in dims <= j (j = lowest dim with a non-zero index) does not fit either: those are skipped.
    """
    n = idx.shape[0]
    if not fits:
        j = 0
        while j < n and idx[j] == 0:
            j += 1
        if j == n:
            return False  # the all-ones tile does not fit: nothing does
        for d in range(j + 1):
            idx[d] = counts[d] - 1
    d = 0
    while d < n:
        idx[d] += 1
        if idx[d] < counts[d]:
            return True
        idx[d] = 0
        d += 1
    return False


@njit(cache=True, **config.NJIT_FLAGS)
def _dram_by_order(bounds, tile, geom, bits, out_bits, out_visits):
    """DRAM bits per DRAM order and tensor, out_bits (6, 3), of the DRAM-level loop nest over buffer tiles `tile`
    (module docstring: weights tile * fetches * b_w; inputs max(tile * fetches, all stored inputs) * b_a; outputs
    tile * (tiles * b_out + 2 (visits - tiles) * b_psum)), and a, the DRAM visits per output element, out_visits (6,).
    bits (4,) = [b_w, b_a, b_out, b_psum]. The Fine kernels fill in bypassed tensors themselves."""
    total, g_npq, g_m, g_crs, o_tiles = _trip_groups(bounds, tile)
    w_el, i_el, o_el = _tile_elems(bounds, tile, geom)
    all_inputs = _stored_inputs(bounds, geom)
    tw, ti, to = config.TENSOR_W, config.TENSOR_I, config.TENSOR_O
    for od in range(config.N_ORDERS):
        out_bits[od, tw] = w_el * _fetch3(g_npq, g_m, g_crs, total, od, tw) * bits[0]
        out_bits[od, ti] = max(i_el * _fetch3(g_npq, g_m, g_crs, total, od, ti), all_inputs) * bits[1]
        visits = _fetch3(g_npq, g_m, g_crs, total, od, to)
        out_bits[od, to] = o_el * (o_tiles * bits[2] + 2 * (visits - o_tiles) * bits[3])
        out_visits[od] = visits // o_tiles


@njit(cache=True, **config.NJIT_FLAGS)
def _best_buffer_tiling(bounds, geom, b_w, b_a, b_out, b_psum, buffer_bits):
    """Minimum DRAM traffic over every divisor tiling that fits the buffer x every loop order.

    Args:
        bounds: (8,) int64 loop bounds (`layer_bounds`).
        geom: (4,) int64 [stride_h, stride_w, h_in, w_in] (`layer_geometry`).
        b_w, b_a, b_out, b_psum: weight, input, output and partial-sum widths in bits.
        buffer_bits: global-buffer capacity in bits.

    Returns:
        (status, traffic_bits, tile (8,) int64, order, n_fitting): status `config.STATUS_OK`, or
        `config.STATUS_NO_MAPPING` when not even the 1x..x1 tile fits (traffic -1). Ties keep the first tiling
        found in odometer order (deterministic).
    """
    table, counts = _divisor_table(bounds)
    idx = np.zeros(config.N_DIMS, dtype=np.int64)
    tile = np.ones(config.N_DIMS, dtype=np.int64)
    best_tile = np.ones(config.N_DIMS, dtype=np.int64)
    best_bits = np.int64(-1)
    best_order = 0
    n_fit = 0
    bits = np.array([b_w, b_a, b_out, b_psum], dtype=np.int64)
    by_order = np.empty((config.N_ORDERS, 3), dtype=np.int64)
    visits = np.empty(config.N_ORDERS, dtype=np.int64)
    while True:
        for d in range(config.N_DIMS):
            tile[d] = table[d, idx[d]]
        fits = _footprint_bits(bounds, tile, geom, b_w, b_a, b_out, b_psum) <= buffer_bits
        if fits:
            n_fit += 1
            _dram_by_order(bounds, tile, geom, bits, by_order, visits)
            for order in range(config.N_ORDERS):
                order_bits = by_order[order, 0] + by_order[order, 1] + by_order[order, 2]
                if best_bits < 0 or order_bits < best_bits:
                    best_bits = order_bits
                    best_order = order
                    best_tile[:] = tile
        if not _odometer_next(idx, counts,
                              fits or _footprint_lb_bits(bounds, tile, geom, b_w, b_a, b_out, b_psum) <= buffer_bits):
            break
    status = config.STATUS_OK if best_bits >= 0 else config.STATUS_NO_MAPPING
    return status, best_bits, best_tile, best_order, n_fit


def best_buffer_tiling(layer, b_w: int, b_a: int, b_out: int, buffer_bits: int, b_max: int = 16):
    """Python convenience wrapper: minimum DRAM traffic (bits) of `layer` with a buffer of `buffer_bits`.

    Returns:
        (traffic_bits, tile (8,) ndarray, order index) ; raises `MappingError` when no tile fits.
    """
    from hwmodels.errors import MappingError

    b_psum = int(_psum_bits(int(b_w), int(b_a), layer.reduction_size, 0))
    status, bits, tile, order, _ = _best_buffer_tiling(layer_bounds(layer), layer_geometry(layer), int(b_w),
                                                       int(b_a), int(b_out), b_psum, int(buffer_bits))
    if status != config.STATUS_OK:
        raise MappingError(f"layer {layer.name!r}: no buffer tile fits {buffer_bits} bits even with every loop "
                           f"bound tiled to 1; enlarge buffer_size_bits")
    return int(bits), tile, int(order)
