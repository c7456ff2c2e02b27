"""Numba kernels of the Fine-level mapper: cost of one loop-nest mapping and the search over mappings (hw-flowq 3.3).

Mapping model (four storage levels, Timeloop/Interstellar style; dims [N, G, M, C, P, Q, R, S] as in `_tiling`):
    for DRAM-level loops (factors D, group order order_d):          buffer holds the buffer tile  e_B = e_A * B
      for buffer-level loops (factors B, group order order_b):      array processes the array tile e_A = e_P * S
        spatial unrolling over PEs (factors S = rows x cols):       each PE holds its PE tile      e_P
          PE loops (factors e_P; Q outermost with a sliding input window; V lanes / bit-serial lanes on M)
Every factor divides its loop bound; bounds = D * B * S * e_P per dim.

Access counting per tensor (elements; hand-checkable against the Eyeriss ISCA'16 reuse-chain formulas):
    weights / inputs   DRAM reads   = tile_B * fetches_D                       (`_tiling._dram_traffic_bits`)
                       buffer reads = tile_A * fetches_B * trips_D             (multicast: one read per unique word)
                       array        = n_pe * tile_P * fetches_B * trips_D      (one NoC delivery per receiving PE)
                       RF reads     = MACs / L                                  (one RF word feeds the L lanes)
    psums, per output  with a = DRAM visits, v = PE visits (= a*b), c = spatial reduction, d = Rtot / (v*c):
                       DRAM (2a-1), buffer 2a(b-1) = 2(v-a), array ab(c-1) = v(c-1), RF 2abc(d-1) = 2(Rtot - v*c)
Energy = sum of accesses x per-access energy, accesses converted to `word_bits` words at their bitwidth (buffer,
array, DRAM) or to RF words (V operands per access, hw-flowq eq. 3). A buffer fill from DRAM is charged as the
DRAM access (Eyeriss convention). MAC: one SIMD op of L lanes costs `mac`; a bit-serial MAC costs
mac * b_w * b_a / b_max**2 (eq. 4).
Latency (cycles) = max(compute, buffer bits / buffer bandwidth, DRAM bits / DRAM bandwidth).

Array layouts (all int64 unless noted):
    bounds (8,), geom (4,) [stride_h, stride_w, h_in, w_in], bits (4,) [b_w, b_a, b_out, b_psum]
    spec_i (11,) see SPEC_* indices below; spec_f (2,) float64 [dram_bw_bits_per_cycle, buffer_bw_bits_per_cycle]
    energy (7,) float64 [mac, rf_filter, rf_ifmap, rf_psum, array, buffer, dram] per word access
    mapping (MAP_LEN,) see MAP_* offsets; metrics (MET_LEN,) float64 see MET_* offsets.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from hwmodels import config
from hwmodels.fine._tiling import (_best_buffer_tiling, _divisor_table, _divisors, _dram_bits_all_orders,
                                   _dram_traffic_bits, _fetch_count, _footprint_bits, _footprint_lb_bits, _group_trips,
                                   _input_extent, _odometer_next, _tile_elems)

# ---- spec_i indices ----
SPEC_ROWS, SPEC_COLS, SPEC_PE_TYPE, SPEC_B_MAX, SPEC_LANES, SPEC_DATAFLOW = 0, 1, 2, 3, 4, 5
SPEC_RF_FILTER, SPEC_RF_IFMAP, SPEC_RF_PSUM, SPEC_BUFFER_BITS, SPEC_WORD_BITS = 6, 7, 8, 9, 10
SPEC_LEN = 11
# ---- energy indices ----
E_MAC, E_RF_FILTER, E_RF_IFMAP, E_RF_PSUM, E_ARRAY, E_BUFFER, E_DRAM = 0, 1, 2, 3, 4, 5, 6
# ---- mapping offsets ----
MAP_ROWS = 0        # (8,) spatial factors along PE rows
MAP_COLS = 8        # (8,) spatial factors along PE columns (OS: replication folded onto free PEs)
MAP_PE = 16         # (8,) PE tile (lanes included)
MAP_LANE_DIM = 24   # dim the in-PE lanes run along (M)
MAP_LANES = 25      # lanes used (<= V for SIMD, <= lanes for bit-serial)
MAP_BUF = 26        # (8,) buffer-level loop factors B
MAP_ORDER_B = 34    # buffer-level group order
MAP_ORDER_D = 35    # DRAM-level group order
MAP_LEN = 36
# ---- metric offsets ----
MET_LEVELS = 0          # (5,) energy by level [mac, rf, array, buffer, dram]
MET_ENERGY = 5
MET_LATENCY = 6
MET_COMPUTE = 7
MET_DRAM_BITS = 8
MET_UTIL = 9
MET_BUFFER_BITS = 10
MET_COUNTS = 11         # (12,) element accesses [W, I, psum] x [dram, buffer, array, rf]
MET_LEN = 23


@njit(cache=True, **config.NJIT_FLAGS)
def _max_lanes(spec_i, b_w, b_a):
    """In-PE parallel MACs: V = floor(b_max / max(b_w, b_a)) for SIMD (eq. 3), `lanes` for bit-serial."""
    if spec_i[SPEC_PE_TYPE] == config.PE_SIMD:
        return spec_i[SPEC_B_MAX] // max(b_w, b_a)
    return spec_i[SPEC_LANES]


# What a PE keeps stationary per dataflow (hw-flowq 6.3.3, Eyeriss ISCA'16 Sec. V), as the PE-tile dims it may loop
# over: RS all; WS weight dims G, M, C, R, S; OS output dims N, G, M, P, Q
PE_DIMS = np.array([[1, 1, 1, 1, 1, 1, 1, 1], [0, 1, 1, 1, 0, 0, 1, 1], [1, 1, 1, 0, 1, 1, 0, 0]], dtype=np.int64)


@njit(cache=True, **config.NJIT_FLAGS)
def _rf_words(elems, b, b_max):
    """RF words of b_max bits needed for `elems` operands of b bits (b_max // b per word)."""
    per_word = b_max // b
    return (elems + per_word - 1) // per_word


@njit(cache=True, **config.NJIT_FLAGS)
def _pe_needs(bounds, geom, pe):
    """Operands a PE must hold: (weights, input window, input row, live psums, all psums of the PE tile).

    The PE loops run Q outermost: the input window is N*G*C*h*S (sliding along Q), the live psums N*G*M*P.
    """
    w, i_row, o_all = _tile_elems(bounds, pe, geom)
    h = _input_extent(pe[4], pe[6], geom[0], bounds[4], bounds[6], geom[2])
    win = pe[0] * pe[1] * pe[3] * h * min(pe[7], geom[3])
    if win > i_row:
        win = i_row
    live = o_all // pe[5]
    return w, win, i_row, live, o_all


@njit(cache=True, **config.NJIT_FLAGS)
def _pe_fits(bounds, geom, bits, spec_i, pe, i_resident, o_resident):
    """Do the PE's RFs hold its tile? i_resident / o_resident: inputs / psums stay across buffer iterations."""
    b_max = spec_i[SPEC_B_MAX]
    w, win, i_row, live, o_all = _pe_needs(bounds, geom, pe)
    if _rf_words(w, bits[0], b_max) > spec_i[SPEC_RF_FILTER]:
        return False
    if _rf_words(i_row if i_resident else win, bits[1], b_max) > spec_i[SPEC_RF_IFMAP]:
        return False
    if _rf_words(o_all if o_resident else live, bits[3], b_max) > spec_i[SPEC_RF_PSUM]:
        return False
    return True


@njit(cache=True, **config.NJIT_FLAGS)
def _evaluate_mapping(bounds, geom, bits, spec_i, spec_f, energy, mapping, metrics):
    """Cost of one full mapping. Fills `metrics` (MET_LEN,) float64; returns a status code.

    Returns `config.STATUS_NO_MAPPING` if a factor does not divide, the array or an RF / the buffer overflows.
    """
    b_w, b_a, b_out, b_psum = bits[0], bits[1], bits[2], bits[3]
    pe = mapping[MAP_PE:MAP_PE + 8]
    buf = mapping[MAP_BUF:MAP_BUF + 8]
    lanes = mapping[MAP_LANES]
    lane_dim = mapping[MAP_LANE_DIM]
    arr = np.empty(8, dtype=np.int64)
    tile_b = np.empty(8, dtype=np.int64)
    trips_d = np.empty(8, dtype=np.int64)
    rows_used = 1
    cols_used = 1
    for d in range(8):
        rows_used *= mapping[MAP_ROWS + d]
        cols_used *= mapping[MAP_COLS + d]
        arr[d] = pe[d] * mapping[MAP_ROWS + d] * mapping[MAP_COLS + d]
        tile_b[d] = arr[d] * buf[d]
        if tile_b[d] < 1 or bounds[d] % tile_b[d] != 0:
            return config.STATUS_NO_MAPPING
        trips_d[d] = bounds[d] // tile_b[d]
        if PE_DIMS[spec_i[SPEC_DATAFLOW], d] == 0 and pe[d] != 1 and not (d == lane_dim and pe[d] == lanes):
            return config.STATUS_NO_MAPPING
    n_pe = rows_used * cols_used
    if lanes < 1 or pe[lane_dim] % lanes != 0 or lanes > _max_lanes(spec_i, b_w, b_a):
        return config.STATUS_NO_MAPPING
    if spec_i[SPEC_DATAFLOW] == config.DATAFLOW_OS:
        if n_pe > spec_i[SPEC_ROWS] * spec_i[SPEC_COLS]:
            return config.STATUS_NO_MAPPING
    elif rows_used > spec_i[SPEC_ROWS] or cols_used > spec_i[SPEC_COLS]:
        return config.STATUS_NO_MAPPING
    if _footprint_bits(bounds, tile_b, geom, b_w, b_a, b_out, b_psum) > spec_i[SPEC_BUFFER_BITS]:
        return config.STATUS_NO_MAPPING
    order_b = mapping[MAP_ORDER_B]
    order_d = mapping[MAP_ORDER_D]
    # ---- buffer-level reuse ----
    gt_b = _group_trips(buf)
    total_b = gt_b[0] * gt_b[1] * gt_b[2] * buf[1]
    f_bw = _fetch_count(gt_b, total_b, order_b, config.TENSOR_W)
    f_bi = _fetch_count(gt_b, total_b, order_b, config.TENSOR_I)
    f_bo = _fetch_count(gt_b, total_b, order_b, config.TENSOR_O)
    i_resident = f_bi < total_b
    o_resident = f_bo < total_b
    if not _pe_fits(bounds, geom, bits, spec_i, pe, i_resident, o_resident):
        return config.STATUS_NO_MAPPING
    metrics[:] = 0.0
    _fill_costs(bounds, geom, bits, spec_i, spec_f, energy, pe, arr, n_pe, lanes, buf, trips_d, order_d,
                f_bw, f_bi, f_bo, metrics)
    return config.STATUS_OK


@njit(cache=True, **config.NJIT_FLAGS)
def _mac_and_rf_costs(spec_i, energy, macs, lanes, b_w, b_a, b_max):
    """Weight / input RF words read, MAC energy and cycles per MAC step (hw-flowq eq. 3 and 4).

    SIMD: one RF word feeds `lanes` packed operands and one full-width MAC does `lanes` products.
    Bit-serial: operands trickle in bit by bit (b_w * b_a cycles per MAC per lane); a lane-cycle costs
    mac / b_max**2. Returns (w_rf_words, i_rf_words, mac_energy, cycles_per_mac).
    """
    if spec_i[SPEC_PE_TYPE] == config.PE_SIMD:
        return macs / lanes, macs / lanes, energy[E_MAC] * macs / lanes, 1
    return (macs * b_w / b_max, macs * b_a / (lanes * b_max),
            energy[E_MAC] * macs * b_w * b_a / (b_max * b_max), b_w * b_a)


@njit(cache=True, **config.NJIT_FLAGS)
def _fill_costs(bounds, geom, bits, spec_i, spec_f, energy, pe, arr, n_pe, lanes, buf, trips_d, order_d,
                f_bw, f_bi, f_bo, metrics):
    """Access counts, energy by level, latency for a legal mapping (see the module docstring for the formulas)."""
    b_w, b_a, b_out, b_psum = bits[0], bits[1], bits[2], bits[3]
    b_max = spec_i[SPEC_B_MAX]
    word = spec_i[SPEC_WORD_BITS]
    macs = 1
    for d in range(8):
        macs *= bounds[d]
    total_d = 1
    for d in range(8):
        total_d *= trips_d[d]
    tile_b = np.empty(8, dtype=np.int64)
    for d in range(8):
        tile_b[d] = arr[d] * buf[d]
    # DRAM level (shared counting with Mid)
    dw, di, do = _dram_traffic_bits(bounds, tile_b, geom, order_d, b_w, b_a, b_out, b_psum)
    gt_d = _group_trips(trips_d)
    o_tiles_d = trips_d[0] * trips_d[1] * trips_d[2] * trips_d[4] * trips_d[5]
    a_visits = _fetch_count(gt_d, total_d, order_d, config.TENSOR_O) // o_tiles_d
    red_d = trips_d[3] * trips_d[6] * trips_d[7]
    o_tiles_b = buf[0] * buf[1] * buf[2] * buf[4] * buf[5]
    v_pe = (f_bo // o_tiles_b) * red_d
    # per-visit tiles
    pw, pi, po = _tile_elems(bounds, pe, geom)
    aw, ai, ao = _tile_elems(bounds, arr, geom)
    c_spatial = (arr[3] // pe[3]) * (arr[6] // pe[6]) * (arr[7] // pe[7])
    r_tot = bounds[3] * bounds[6] * bounds[7]
    n_out = bounds[0] * bounds[1] * bounds[2] * bounds[4] * bounds[5]
    # element counts
    w_dram = dw // b_w
    i_dram = di // b_a
    w_buf = aw * f_bw * total_d
    i_buf = ai * f_bi * total_d
    w_arr = n_pe * pw * f_bw * total_d
    i_arr = n_pe * pi * f_bi * total_d
    w_rf_words, i_rf_words, mac_energy, cyc_per_mac = _mac_and_rf_costs(spec_i, energy, macs, lanes, b_w, b_a, b_max)
    p_dram = n_out * (2 * a_visits - 1)
    p_buf = n_out * 2 * (v_pe - a_visits)
    p_arr = n_out * v_pe * (c_spatial - 1)
    p_rf = n_out * 2 * (r_tot - v_pe * c_spatial)
    psums_per_word = min(lanes, b_max // b_psum)
    if psums_per_word < 1:
        psums_per_word = 1
    lv = metrics[MET_LEVELS:MET_LEVELS + 5]
    lv[0] = mac_energy
    lv[1] = (w_rf_words * energy[E_RF_FILTER] + i_rf_words * energy[E_RF_IFMAP]
             + p_rf / psums_per_word * energy[E_RF_PSUM])
    lv[2] = (w_arr * b_w + i_arr * b_a + p_arr * b_psum) / word * energy[E_ARRAY]
    buffer_bits = w_buf * b_w + i_buf * b_a + p_buf * b_psum
    lv[3] = buffer_bits / word * energy[E_BUFFER]
    dram_bits = dw + di + do
    lv[4] = dram_bits / word * energy[E_DRAM]
    metrics[MET_ENERGY] = lv[0] + lv[1] + lv[2] + lv[3] + lv[4]
    pe_steps = 1
    for d in range(8):
        pe_steps *= pe[d]
    pe_steps //= lanes
    total_b = 1
    for d in range(8):
        total_b *= buf[d]
    compute = float(total_d * total_b * pe_steps * cyc_per_mac)
    latency = compute
    if spec_f[1] > 0:
        latency = max(latency, (buffer_bits + dram_bits) / spec_f[1])
    if spec_f[0] > 0:
        latency = max(latency, dram_bits / spec_f[0])
    metrics[MET_LATENCY] = latency
    metrics[MET_COMPUTE] = compute
    metrics[MET_DRAM_BITS] = dram_bits
    peak = spec_i[SPEC_ROWS] * spec_i[SPEC_COLS] * _max_lanes(spec_i, b_w, b_a) / cyc_per_mac
    metrics[MET_UTIL] = macs / (compute * peak)
    metrics[MET_BUFFER_BITS] = buffer_bits
    cnt = metrics[MET_COUNTS:MET_COUNTS + 12]
    cnt[0], cnt[1], cnt[2], cnt[3] = w_dram, w_buf, w_arr, macs
    cnt[4], cnt[5], cnt[6], cnt[7] = i_dram, i_buf, i_arr, macs
    cnt[8], cnt[9], cnt[10], cnt[11] = p_dram, p_buf, p_arr, p_rf


@njit(cache=True, **config.NJIT_FLAGS)
def _objective_value(objective, energy_value, latency):
    """Primary key of the search; ties are broken by the other metric."""
    if objective == config.OBJ_ENERGY:
        return energy_value
    if objective == config.OBJ_LATENCY:
        return latency
    return energy_value * latency


@njit(cache=True, **config.NJIT_FLAGS)
def _spatial_candidates(bounds, spec_i):
    """Spatial unrollings legal for the dataflow: (k, 16) int64 rows [rows factors (8), cols factors (8)].

    RS (Eyeriss row stationary): kernel rows R along PE rows, output rows P along columns, replicated over one of
    N/G/M/C on the free rows and one on the free columns. WS: input channels (C or G) along rows x output channels
    (M or G) along columns. OS: output rows P x columns Q, replicated over M (or G) on the free PEs.
    """
    rows = spec_i[SPEC_ROWS]
    cols = spec_i[SPEC_COLS]
    flow = spec_i[SPEC_DATAFLOW]
    cap = 4096
    out = np.ones((cap, 16), dtype=np.int64)
    k = 0
    rep_dims = np.array([0, 1, 2, 3], dtype=np.int64)
    if flow == config.DATAFLOW_RS:
        r0 = 1
        for v in _divisors(bounds[6]):
            if v <= rows:
                r0 = v
        for x in rep_dims:
            for fx in _divisors(bounds[x]):
                if fx * r0 > rows:
                    break
                for p0 in _divisors(bounds[4]):
                    if p0 > cols:
                        break
                    for y in rep_dims:
                        rem_y = bounds[y] // fx if y == x else bounds[y]
                        for fy in _divisors(rem_y):
                            if fy * p0 > cols:
                                break
                            if (fx == 1 and x != 0) or (fy == 1 and y != 0):
                                continue
                            if k < cap:
                                out[k, 6] = r0
                                out[k, x] = fx
                                out[k, 8 + 4] = p0
                                out[k, 8 + y] = fy
                                k += 1
    elif flow == config.DATAFLOW_WS:
        for x in (1, 3):
            for fx in _divisors(bounds[x]):
                if fx > rows:
                    break
                for y in (1, 2):
                    rem_y = bounds[y] // fx if y == x else bounds[y]
                    for fy in _divisors(rem_y):
                        if fy > cols:
                            break
                        if (fx == 1 and x != 3) or (fy == 1 and y != 2):
                            continue
                        if k < cap:
                            out[k, x] = fx
                            out[k, 8 + y] = fy
                            k += 1
    else:
        for p0 in _divisors(bounds[4]):
            if p0 > rows:
                break
            for q0 in _divisors(bounds[5]):
                if q0 > cols:
                    break
                free = (rows // p0) * (cols // q0)
                for x in (1, 2):
                    for fx in _divisors(bounds[x]):
                        if fx > free:
                            break
                        if fx == 1 and x != 2:
                            continue
                        if k < cap:
                            out[k, 4] = p0
                            out[k, 8 + 5] = q0
                            out[k, 8 + x] = fx
                            k += 1
    return out[:k]


@njit(cache=True, **config.NJIT_FLAGS)
def _maximal_pe_tiles(bounds, geom, bits, spec_i, rem, lane_dim, lanes):
    """PE tiles (lanes included) over the remaining bounds whose minimal RF needs fit, keeping only maximal ones
    (no factor other than N can grow to its next divisor and still fit): (k, 8) int64.

    N is exempt so that every batch-1 candidate stays a candidate at batch n (batch n never costs more than n x
    batch 1)."""
    allowed = rem.copy()
    for d in range(8):
        if PE_DIMS[spec_i[SPEC_DATAFLOW], d] == 0:
            allowed[d] = 1
    table, counts = _divisor_table(allowed)
    # Q (output columns) enters no minimal RF need (inputs slide along it, live psums exclude it), so a maximal
    # tile always takes all of it: enumerate only that value
    table[config.DIM_Q, 0] = allowed[config.DIM_Q]
    counts[config.DIM_Q] = 1
    idx = np.zeros(8, dtype=np.int64)
    pe_t = np.ones(8, dtype=np.int64)
    grown = np.ones(8, dtype=np.int64)
    cap = 64
    out = np.empty((cap, 8), dtype=np.int64)
    k = 0
    while True:
        for d in range(8):
            pe_t[d] = table[d, idx[d]]
        pe_t[lane_dim] *= lanes
        fits = _pe_fits(bounds, geom, bits, spec_i, pe_t, False, False)
        if fits:
            maximal = True
            for d in range(1, 8):  # growing N alone does not disqualify a tile (batch-1 tiles stay candidates)
                if idx[d] + 1 < counts[d]:
                    grown[:] = pe_t
                    grown[d] = pe_t[d] // table[d, idx[d]] * table[d, idx[d] + 1]
                    if _pe_fits(bounds, geom, bits, spec_i, grown, False, False):
                        maximal = False
                        break
            if maximal:
                if k == cap:
                    cap *= 2
                    bigger = np.empty((cap, 8), dtype=np.int64)
                    bigger[:k] = out[:k]
                    out = bigger
                out[k, :] = pe_t
                k += 1
        if not _odometer_next(idx, counts, fits):
            break
    return out[:k]


@njit(cache=True, **config.NJIT_FLAGS)
def _search_layer(bounds, geom, bits, spec_i, spec_f, energy, objective, best_mapping, stats):
    """Best mapping of one layer for `objective` (config.OBJ_*). Fills best_mapping (MAP_LEN,) and
    stats (2,) [mappings evaluated, legal mappings]; returns a status code.

    Search space: spatial unrollings of the dataflow using >= SPATIAL_UTIL_KEEP of the best PE count among the
    unrollings that do not split the batch (so batch-1 candidates stay candidates at any batch), every lane
    count along M (divisor of the remaining M, <= V or lanes), maximal PE tiles, every buffer tiling that fits,
    every buffer-level x DRAM-level group order (6 x 6). Ties keep the first mapping found (deterministic).
    """
    b_w, b_a = bits[0], bits[1]
    lmax = _max_lanes(spec_i, b_w, b_a)
    spatial = _spatial_candidates(bounds, spec_i)
    n_sp = spatial.shape[0]
    pe_count = np.ones(n_sp, dtype=np.int64)
    best_count = 0
    for s in range(n_sp):
        for d in range(16):
            pe_count[s] *= spatial[s, d]
        if spatial[s, config.DIM_N] * spatial[s, 8 + config.DIM_N] == 1:  # reference ignores batch unrolling
            best_count = max(best_count, pe_count[s])
    best = np.array([np.inf, np.inf])
    counters = np.zeros(2, dtype=np.int64)
    rem = np.empty(8, dtype=np.int64)
    # the buffer-tiling minimum (what Mid reports) bounds every mapping's DRAM traffic from below
    status, dram_min, _, _, _ = _best_buffer_tiling(bounds, geom, b_w, b_a, bits[2], bits[3],
                                                    spec_i[SPEC_BUFFER_BITS])
    if status != config.STATUS_OK:
        dram_min = 0
    # first pass: well-utilised unrollings only; if none of them fits (tiny buffer), retry with every unrolling
    for attempt in range(2):
        keep = config.SPATIAL_UTIL_KEEP if attempt == 0 else 0.0
        if attempt == 1 and best[0] < np.inf:
            break
        _search_spatial(bounds, geom, bits, spec_i, spec_f, energy, objective, spatial, pe_count, keep * best_count,
                        lmax, dram_min, best, best_mapping, counters, rem)
    stats[0] = counters[0]
    stats[1] = counters[1]
    return config.STATUS_OK if best[0] < np.inf else config.STATUS_NO_MAPPING


@njit(cache=True, **config.NJIT_FLAGS)
def _search_spatial(bounds, geom, bits, spec_i, spec_f, energy, objective, spatial, pe_count, min_pes, lmax, dram_min,
                    best, best_mapping, counters, rem):
    """Search every spatial unrolling using >= min_pes PEs (see `_search_layer`), best bound first.

    Branch and bound: every (spatial unrolling, lanes, PE tile) gets a lower bound of the objective
    (`_energy_lower_bound`; latency >= max(compute cycles, DRAM minimum / bandwidth)); they are searched in
    ascending bound order and the search stops at the first bound above the best objective found, so the result
    equals the exhaustive search's (ties within 1e-9 are still searched).
    """
    b_w, b_a = bits[0], bits[1]
    cyc_per_mac = 1 if spec_i[SPEC_PE_TYPE] == config.PE_SIMD else b_w * b_a
    macs = 1
    for d in range(8):
        macs *= bounds[d]
    lat_floor = 0.0
    if spec_f[0] > 0:
        lat_floor = dram_min / spec_f[0]
    cap = 1024
    cands = np.empty((cap, 10), dtype=np.int64)  # [spatial index, lanes, PE tile (8)]
    bounds_lb = np.empty(cap, dtype=np.float64)
    n = 0
    for s in range(spatial.shape[0]):
        if pe_count[s] < min_pes:
            continue
        m_left = bounds[2] // (spatial[s, 2] * spatial[s, 8 + 2])
        for lanes in _divisors(m_left):
            if lanes > lmax:
                break
            lat_lb = max(float(macs // (pe_count[s] * lanes) * cyc_per_mac), lat_floor)
            for d in range(8):
                rem[d] = bounds[d] // (spatial[s, d] * spatial[s, 8 + d])
            rem[2] //= lanes
            pes = _maximal_pe_tiles(bounds, geom, bits, spec_i, rem, 2, lanes)
            for t in range(pes.shape[0]):
                if objective == config.OBJ_LATENCY:
                    lb = lat_lb
                else:
                    lb = _energy_lower_bound(bounds, geom, bits, spec_i, energy, spatial[s], pes[t], pe_count[s],
                                             lanes, dram_min)
                    if objective == config.OBJ_EDP:
                        lb *= lat_lb
                if n == cap:
                    cap *= 2
                    grown = np.empty((cap, 10), dtype=np.int64)
                    grown[:n] = cands[:n]
                    cands = grown
                    grown_lb = np.empty(cap, dtype=np.float64)
                    grown_lb[:n] = bounds_lb[:n]
                    bounds_lb = grown_lb
                cands[n, 0] = s
                cands[n, 1] = lanes
                cands[n, 2:] = pes[t]
                bounds_lb[n] = lb
                n += 1
    order = np.argsort(bounds_lb[:n], kind="mergesort")
    for j in range(n):
        k = order[j]
        if bounds_lb[k] > best[0] * (1 + 1e-9):
            break
        s = cands[k, 0]
        _search_buffer(bounds, geom, bits, spec_i, spec_f, energy, objective, spatial[s], cands[k, 2:],
                       pe_count[s], cands[k, 1], best, best_mapping, counters)


@njit(cache=True, **config.NJIT_FLAGS)
def _energy_lower_bound(bounds, geom, bits, spec_i, energy, spatial, pe, n_pe, lanes, dram_min):
    """Energy no mapping with this spatial unrolling and PE tile can go below.

    MAC and operand RF reads are exact; psum RF accesses use d >= the PE tile's reduction; every distinct array
    tile of weights / inputs is read from the buffer and delivered at least once; psums cross the array at least
    once per spatial reduction step; DRAM traffic is at least the buffer-tiling minimum `dram_min` (bits).
    """
    b_w, b_a, b_psum = bits[0], bits[1], bits[3]
    b_max = spec_i[SPEC_B_MAX]
    word = spec_i[SPEC_WORD_BITS]
    arr = np.empty(8, dtype=np.int64)
    for d in range(8):
        arr[d] = pe[d] * spatial[d] * spatial[8 + d]
    macs = 1
    for d in range(8):
        macs *= bounds[d]
    pw, pi, po = _tile_elems(bounds, pe, geom)
    aw, ai, ao = _tile_elems(bounds, arr, geom)
    t = np.empty(8, dtype=np.int64)
    for d in range(8):
        t[d] = bounds[d] // arr[d]
    n_w_tiles = t[1] * t[2] * t[3] * t[6] * t[7]
    n_i_tiles = t[0] * t[1] * t[3] * t[4] * t[5] * t[6] * t[7]
    c_spatial = (arr[3] // pe[3]) * (arr[6] // pe[6]) * (arr[7] // pe[7])
    r_tot = bounds[3] * bounds[6] * bounds[7]
    pe_red = pe[3] * pe[6] * pe[7]
    n_out = bounds[0] * bounds[1] * bounds[2] * bounds[4] * bounds[5]
    if spec_i[SPEC_PE_TYPE] == config.PE_SIMD:
        rf_wi = macs / lanes * energy[E_RF_FILTER] + macs / lanes * energy[E_RF_IFMAP]
        mac_energy = energy[E_MAC] * macs / lanes
    else:
        rf_wi = macs * b_w / b_max * energy[E_RF_FILTER] + macs * b_a / (lanes * b_max) * energy[E_RF_IFMAP]
        mac_energy = energy[E_MAC] * macs * b_w * b_a / (b_max * b_max)
    psums_per_word = max(1, min(lanes, b_max // b_psum))
    p_rf = n_out * 2 * (r_tot - r_tot // pe_red)
    e_rf = rf_wi + p_rf / psums_per_word * energy[E_RF_PSUM]
    arr_bits = (n_pe * pw * n_w_tiles * b_w + n_pe * pi * n_i_tiles * b_a + n_out * (c_spatial - 1) * b_psum)
    buf_bits = aw * n_w_tiles * b_w + ai * n_i_tiles * b_a
    return (mac_energy + e_rf + arr_bits / word * energy[E_ARRAY] + buf_bits / word * energy[E_BUFFER]
            + dram_min / word * energy[E_DRAM])


@njit(cache=True, **config.NJIT_FLAGS)
def _search_buffer(bounds, geom, bits, spec_i, spec_f, energy, objective, spatial, pe, n_pe, lanes, best,
                   best_mapping, counters):
    """Every buffer tiling x buffer order x DRAM order for a fixed spatial unrolling and PE tile.

    The arithmetic is `_fill_costs` regrouped by loop invariance (PE terms once, DRAM terms once per buffer tile
    and DRAM order, buffer terms once per buffer order); a test checks that both give the same objective.
    best (2,) float64 [objective, tie-break] and best_mapping are updated in place; counters (2,) int64 counts
    evaluated / legal mappings.
    """
    b_w, b_a, b_out, b_psum = bits[0], bits[1], bits[2], bits[3]
    b_max = spec_i[SPEC_B_MAX]
    word = spec_i[SPEC_WORD_BITS]
    arr = np.empty(8, dtype=np.int64)
    rem2 = np.empty(8, dtype=np.int64)
    tile_b = np.empty(8, dtype=np.int64)
    trips_d = np.empty(8, dtype=np.int64)
    for d in range(8):
        arr[d] = pe[d] * spatial[d] * spatial[8 + d]
        rem2[d] = bounds[d] // arr[d]
    # ---- invariants of the PE tile (same expressions as _fill_costs) ----
    macs = 1
    pe_steps = 1
    for d in range(8):
        macs *= bounds[d]
        pe_steps *= pe[d]
    pe_steps //= lanes
    pw, pi, po = _tile_elems(bounds, pe, geom)
    aw, ai, ao = _tile_elems(bounds, arr, geom)
    c_spatial = (arr[3] // pe[3]) * (arr[6] // pe[6]) * (arr[7] // pe[7])
    r_tot = bounds[3] * bounds[6] * bounds[7]
    n_out = bounds[0] * bounds[1] * bounds[2] * bounds[4] * bounds[5]
    w_rf_words, i_rf_words, mac_energy, cyc_per_mac = _mac_and_rf_costs(spec_i, energy, macs, lanes, b_w, b_a, b_max)
    psums_per_word = min(lanes, b_max // b_psum)
    if psums_per_word < 1:
        psums_per_word = 1
    dram_bits = np.empty(config.N_ORDERS, dtype=np.int64)
    a_visits = np.empty(config.N_ORDERS, dtype=np.int64)
    # bound of everything but DRAM for this PE tile; a buffer tile whose cheapest DRAM order cannot beat the best
    # objective even with that bound is skipped (its orders are not evaluated)
    e_lb_no_dram = _energy_lower_bound(bounds, geom, bits, spec_i, energy, spatial, pe, n_pe, lanes, 0)
    table, counts = _divisor_table(rem2)
    idx = np.zeros(8, dtype=np.int64)
    buf = np.ones(8, dtype=np.int64)
    while True:
        total_d = 1
        total_b = 1
        for d in range(8):
            buf[d] = table[d, idx[d]]
            tile_b[d] = arr[d] * buf[d]
            trips_d[d] = bounds[d] // tile_b[d]
            total_d *= trips_d[d]
            total_b *= buf[d]
        fits = _footprint_bits(bounds, tile_b, geom, b_w, b_a, b_out, b_psum) <= spec_i[SPEC_BUFFER_BITS]
        can_grow = fits or (_footprint_lb_bits(bounds, tile_b, geom, b_w, b_a, b_out, b_psum)
                            <= spec_i[SPEC_BUFFER_BITS])
        if fits:
            red_d = trips_d[3] * trips_d[6] * trips_d[7]
            _dram_bits_all_orders(bounds, tile_b, geom, b_w, b_a, b_out, b_psum, dram_bits, a_visits)
            compute = float(total_d * total_b * pe_steps * cyc_per_mac)
            min_dram = dram_bits.min()
            lat_lb = compute
            if spec_f[0] > 0:
                lat_lb = max(lat_lb, min_dram / spec_f[0])
            e_lb = e_lb_no_dram + min_dram / word * energy[E_DRAM]
            lb = _objective_value(objective, e_lb, lat_lb)
            n_orders_b = config.N_ORDERS if lb <= best[0] * (1 + 1e-9) else 0  # 0: bounded out
            gt_b = _group_trips(buf)
            o_tiles_b = buf[0] * buf[1] * buf[2] * buf[4] * buf[5]
            for ob in range(n_orders_b):
                f_bw = _fetch_count(gt_b, total_b, ob, config.TENSOR_W)
                f_bi = _fetch_count(gt_b, total_b, ob, config.TENSOR_I)
                f_bo = _fetch_count(gt_b, total_b, ob, config.TENSOR_O)
                counters[0] += config.N_ORDERS
                if not _pe_fits(bounds, geom, bits, spec_i, pe, f_bi < total_b, f_bo < total_b):
                    continue
                v_pe = (f_bo // o_tiles_b) * red_d
                w_arr = n_pe * pw * f_bw * total_d
                i_arr = n_pe * pi * f_bi * total_d
                p_arr = n_out * v_pe * (c_spatial - 1)
                p_rf = n_out * 2 * (r_tot - v_pe * c_spatial)
                e_rf = (w_rf_words * energy[E_RF_FILTER] + i_rf_words * energy[E_RF_IFMAP]
                        + p_rf / psums_per_word * energy[E_RF_PSUM])
                e_arr = (w_arr * b_w + i_arr * b_a + p_arr * b_psum) / word * energy[E_ARRAY]
                wi_buf_bits = aw * f_bw * total_d * b_w + ai * f_bi * total_d * b_a
                for od in range(config.N_ORDERS):
                    counters[1] += 1
                    buffer_bits = wi_buf_bits + n_out * 2 * (v_pe - a_visits[od]) * b_psum
                    e_total = (mac_energy + e_rf + e_arr + buffer_bits / word * energy[E_BUFFER]
                               + dram_bits[od] / word * energy[E_DRAM])
                    latency = compute
                    if spec_f[1] > 0:
                        latency = max(latency, (buffer_bits + dram_bits[od]) / spec_f[1])
                    if spec_f[0] > 0:
                        latency = max(latency, dram_bits[od] / spec_f[0])
                    key = _objective_value(objective, e_total, latency)
                    key2 = latency if objective == config.OBJ_ENERGY else e_total
                    if key < best[0] or (key == best[0] and key2 < best[1]):
                        best[0] = key
                        best[1] = key2
                        for d in range(8):
                            best_mapping[MAP_ROWS + d] = spatial[d]
                            best_mapping[MAP_COLS + d] = spatial[8 + d]
                            best_mapping[MAP_PE + d] = pe[d]
                            best_mapping[MAP_BUF + d] = buf[d]
                        best_mapping[MAP_LANE_DIM] = config.DIM_M
                        best_mapping[MAP_LANES] = lanes
                        best_mapping[MAP_ORDER_B] = ob
                        best_mapping[MAP_ORDER_D] = od
        if not _odometer_next(idx, counts, can_grow):
            return
