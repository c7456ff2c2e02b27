"""Buffer-level tiling kernels shared by Mid and Fine: tilings, footprints in bits, DRAM reuse counting.

Mid (`hwmodels/mid.py`) and the Fine mapper's outer level use exactly these functions, and Mid's tiler tries every
tile extent Fine can reach (ceil-divided, padding counted as Fine counts it), so the Fine DRAM traffic of any
mapping is >= the minimum `_best_buffer_tiling` returns for the same buffer, bitwidths, psum width and bypass.

Conventions (all arrays int64, C-contiguous; dimension indices from `hwmodels.config`):
    bounds  (8,)  loop bounds [N, G, M, C, P, Q, R, S]: batch, groups, output channels per group, input channels
                  per group, output rows, output columns, kernel rows, kernel columns (`layer_bounds`).
    tile    (8,)  buffer-level tile extents. The DRAM-level loop over tiles of dim d runs `bounds[d] // tile[d]`
                  times; with imperfect extents `bounds` are the padded bounds (tile x trips).
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


def psum_cap(spec) -> int:
    """Psum width cap in bits: word_bits under Timeloop accounting (its eyeriss_like keeps psums in 16-bit words),
    0 (uncapped, 2b + ceil(log2(reduction))) otherwise."""
    return int(spec.word_bits) if spec.accounting == "timeloop" else 0


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
def _ceil_values(n, lo, cap):
    """Distinct ceil(n / t), t = 1..n, within [lo, cap], ascending: the only factors (unrolling or tile extents)
    worth trying for a loop of n iterations. Any other factor f has a smaller one with the same trip count
    ceil(n / f), which pads the loop less; every cost term is non-decreasing in the padded bound at a fixed trip
    count."""
    out = np.empty(2 * int(np.sqrt(n)) + 3, dtype=np.int64)
    k = 0
    last = -1
    for t in range(n, 0, -1):  # ascending f
        f = (n + t - 1) // t
        if f != last and lo <= f <= cap:
            out[k] = f
            k += 1
        last = f
    return out[:k]


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
def _once_bits(padded, geom, bits):
    """DRAM bits if every tensor of the padded nest crossed once: weights and outputs padded, every stored input
    of the padded N, G, C (a lower bound of `_dram_by_order` in every order)."""
    w = 1
    o = 1
    for d in range(config.N_DIMS):
        if config.RELEVANT[config.TENSOR_W, d] == 1:
            w *= padded[d]
        if config.RELEVANT[config.TENSOR_O, d] == 1:
            o *= padded[d]
    return w * bits[0] + _stored_inputs(padded, geom) * bits[1] + o * bits[2]


@njit(cache=True, **config.NJIT_FLAGS)
def _tiling_search(bounds, table, counts, geom, bits, f_w, f_a, buffer_bits, state, best_tile):
    """Odometer over the tile extents of `table` (ascending per dim): every tile that fits x every loop order.

    state (3,) int64 [best bits (-1: none yet), best order, fitting tiles] and best_tile (8,) are updated in place;
    only a strictly smaller traffic replaces the best. f_w, f_a: footprint widths of weights / inputs (0 when
    bypassed)."""
    idx = np.zeros(config.N_DIMS, dtype=np.int64)
    tile = np.ones(config.N_DIMS, dtype=np.int64)
    padded = np.ones(config.N_DIMS, dtype=np.int64)
    by_order = np.empty((config.N_ORDERS, 3), dtype=np.int64)
    visits = np.empty(config.N_ORDERS, dtype=np.int64)
    while True:
        for d in range(config.N_DIMS):
            tile[d] = table[d, idx[d]]
            padded[d] = tile[d] * ((bounds[d] + tile[d] - 1) // tile[d])
        fits = _footprint_bits(padded, tile, geom, f_w, f_a, bits[2], bits[3]) <= buffer_bits
        if fits:
            state[2] += 1
            if state[0] < 0 or _once_bits(padded, geom, bits) < state[0]:
                _dram_by_order(padded, tile, geom, bits, by_order, visits)
                for order in range(config.N_ORDERS):
                    order_bits = by_order[order, 0] + by_order[order, 1] + by_order[order, 2]
                    if state[0] < 0 or order_bits < state[0]:
                        state[0] = order_bits
                        state[1] = order
                        best_tile[:] = tile
        if not _odometer_next(idx, counts, fits or _footprint_lb_bits(padded, tile, geom, f_w, f_a, bits[2],
                                                                       bits[3]) <= buffer_bits):
            break


@njit(cache=True, **config.NJIT_FLAGS)
def _padded_table(bounds, geom, bits, best_bits):
    """Per dim, the ceil-divided tile extents t = ceil(n / k) (`_ceil_values`) that can still beat `best_bits`.

    Padding a dim d by rho = (padded bound) / n >= 1 multiplies the once-through size of every tensor indexed by d
    (weights and outputs; inputs through N, G, C only) by rho, and prod(rho) >= 1 + sum(rho - 1) over the dims, so
    any tile's traffic is >= `_once_bits(bounds)` + sum_d (rho_d - 1) S_d, S_d the once-through bits of the tensors
    indexed by d. An extent whose own term already reaches `best_bits` cannot give a smaller traffic: dropped.
    Divisors (rho = 1) are always kept. Returns (table (8, width), counts (8,)) like `_divisor_table`."""
    base = _once_bits(bounds, geom, bits)
    w_el, i_el, o_el = _tile_elems(bounds, bounds, geom)
    i_all = _stored_inputs(bounds, geom)
    width = 1
    for d in range(config.N_DIMS):
        width = max(width, 2 * int(np.sqrt(bounds[d])) + 3)
    table = np.ones((config.N_DIMS, width), dtype=np.int64)
    counts = np.zeros(config.N_DIMS, dtype=np.int64)
    for d in range(config.N_DIMS):
        share = 0.0
        if config.RELEVANT[config.TENSOR_W, d] == 1:
            share += w_el * bits[0]
        if config.RELEVANT[config.TENSOR_O, d] == 1:
            share += o_el * bits[2]
        if d == config.DIM_N or d == config.DIM_G or d == config.DIM_C:
            share += i_all * bits[1]
        n = bounds[d]
        for t in _ceil_values(n, 1, n):
            rho = t * ((n + t - 1) // t) / n
            if n % t == 0 or base + (rho - 1.0) * share < best_bits:
                table[d, counts[d]] = t
                counts[d] += 1
    return table, counts


@njit(cache=True, **config.NJIT_FLAGS)
def _best_buffer_tiling(bounds, geom, b_w, b_a, b_out, b_psum, buffer_bits, bypass_w, bypass_i):
    """Minimum DRAM traffic over every buffer tiling that fits the buffer x every loop order (Mid's tiler).

    Tile extents are any 1..bound, ceil-divided as the Fine mapper's buffer tile may be (its tile is a product of
    spatial, PE and buffer factors, imperfect ones included): the DRAM loop of dim d runs ceil(n / t) times over the
    padded bound t * ceil(n / t), and padded elements are counted as Fine counts them (`_dram_by_order` on padded
    bounds). Only t = ceil(n / k) are tried (`_ceil_values`): a larger extent with the same k trips has more
    elements per tile and a larger padded bound, hence no smaller footprint and no smaller traffic of any tensor.
    So over the same capacity, bitwidths and bypass, this minimum is <= the DRAM traffic of every Fine mapping.
    Divisor tilings are searched first; their best bounds which padded extents are tried (`_padded_table`) and
    every padded tile whose once-through traffic (`_once_bits`) cannot beat it is not costed (both exact).

    Args:
        bounds: (8,) int64 loop bounds (`layer_bounds`).
        geom: (4,) int64 [stride_h, stride_w, h_in, w_in] (`layer_geometry`).
        b_w, b_a, b_out, b_psum: weight, input, output and partial-sum widths in bits.
        buffer_bits: global-buffer capacity in bits.
        bypass_w, bypass_i: 1 when weights / inputs skip the buffer (no footprint; their DRAM traffic is still at
            least the tile count, which the Fine kernels' bypass count never goes below).

    Returns:
        (status, traffic_bits, tile (8,) int64, order, n_fitting): status `config.STATUS_OK`, or
        `config.STATUS_NO_MAPPING` when not even the 1x..x1 tile fits (traffic -1). Ties keep the first tiling
        found (divisor tilings first, then odometer order: deterministic).
    """
    bits = np.array([b_w, b_a, b_out, b_psum], dtype=np.int64)
    f_w = 0 if bypass_w else b_w  # footprint widths: a bypassed tensor takes no buffer space
    f_a = 0 if bypass_i else b_a
    state = np.array([-1, 0, 0], dtype=np.int64)
    best_tile = np.ones(config.N_DIMS, dtype=np.int64)
    table, counts = _divisor_table(bounds)
    _tiling_search(bounds, table, counts, geom, bits, f_w, f_a, buffer_bits, state, best_tile)
    if state[0] < 0:
        return config.STATUS_NO_MAPPING, np.int64(-1), best_tile, 0, 0
    table, counts = _padded_table(bounds, geom, bits, state[0])
    _tiling_search(bounds, table, counts, geom, bits, f_w, f_a, buffer_bits, state, best_tile)
    return config.STATUS_OK, state[0], best_tile, state[1], state[2]


def best_buffer_tiling(layer, b_w: int, b_a: int, b_out: int, buffer_bits: int, b_max: int = 16):
    """Python convenience wrapper: minimum DRAM traffic (bits) of `layer` with a buffer of `buffer_bits`.

    Returns:
        (traffic_bits, tile (8,) ndarray, order index) ; raises `MappingError` when no tile fits.
    """
    from hwmodels.errors import MappingError

    b_psum = int(_psum_bits(int(b_w), int(b_a), layer.reduction_size, 0))
    status, bits, tile, order, _ = _best_buffer_tiling(layer_bounds(layer), layer_geometry(layer), int(b_w),
                                                       int(b_a), int(b_out), b_psum, int(buffer_bits), 0, 0)
    if status != config.STATUS_OK:
        raise MappingError(f"layer {layer.name!r}: no buffer tile fits {buffer_bits} bits even with every loop "
                           f"bound tiled to 1; enlarge buffer_size_bits")
    return int(bits), tile, int(order)
