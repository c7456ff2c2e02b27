"""Numba kernels of the Fine-level mapper: cost of one loop-nest mapping and the exact search over mappings (hw-flowq 3.3).

Mapping model (four storage levels, Timeloop/Interstellar style; dims [N, G, M, C, P, Q, R, S] as in `_tiling`):
    for DRAM-level loops (factors D, group order order_d):          buffer holds the buffer tile  e_B = e_A * B
      for buffer-level loops (factors B, group order order_b):      array processes the array tile e_A = e_P * S
        spatial unrolling over PEs (factors S = rows x cols):       each PE holds its PE tile      e_P
          PE loops (temporal factors; Q outermost with a sliding input window) x L lanes along one dim
Spatial and lane factors may be imperfect: a loop of n iterations unrolled f-wide runs ceil(n / f) times and the
last time leaves PEs / lanes idle. Costs are counted on the padded loop nest (bounds pb = factor products >= n):
an idle PE or lane is charged like a busy one (no clock gating), utilisation counts only the real MACs. Temporal
factors (PE tile, buffer, DRAM) multiply to the padded trip count; `_evaluate_mapping` takes the DRAM factor as
ceil(bound / inner factors), so any user mapping is legal if it fits.

Access counting per tensor (elements of the padded nest; hand-checkable against the Eyeriss ISCA'16 reuse chain):
    weights / inputs   DRAM reads   = tile_B * fetches_D  (`_tiling` reuse counting; a tensor that bypasses the
                                      buffer is read from DRAM as often as the array asks for it)
                       buffer reads = tile_A * fetches_B * trips_D             (multicast: one read per unique word)
                       array        = n_pe * tile_P * fetches_B * trips_D      (one NoC delivery per receiving PE)
                       RF reads     = one word per lane step (SIMD packs the lanes' operands in one word; a
                                      bit-serial lane reads b bits of an operand, shared operands once per step)
    psums, per output  with a = DRAM visits, v = PE visits, c = spatial reduction, Rtot = reduction size:
                       DRAM (2a-1), buffer 2(v-a), array v(c-1), RF 2(Rtot/L_red - v*c)
    fetches_B of inputs / psums count the reuse of the buffer order only when the PE's RF holds the PE tile's
    whole input / psum set (residency, decided per PE tile); weights always stay (the PE tile's weights are held).
Energy = sum of accesses x per-access energy, accesses converted to `word_bits` words at their bitwidth (buffer,
array, DRAM) or to RF words of b_max bits. Psums are 2*max(b_w, b_a) + ceil(log2(Rtot)) bits wide. Accounting
"eyeriss": a buffer fill from DRAM is folded into the DRAM access; "timeloop": every word moved between DRAM and
the buffer is also charged at the buffer, every operand delivered into a PE at its RF, the psum RF is read and
updated at every MAC step and filled once per visit (2 Rtot/L_red + v*c per output), psums are word_bits wide.
Latency (cycles) = max(compute, buffer bits / buffer bandwidth, DRAM bits / DRAM bandwidth).

Array layouts (all int64 unless noted):
    bounds (8,), geom (4,) [stride_h, stride_w, h_in, w_in], bits (4,) [b_w, b_a, b_out, b_psum]
    spec_i (SPEC_LEN,) see SPEC_* indices; spec_f (2,) float64 [dram_bw_bits_per_cycle, buffer_bw_bits_per_cycle]
    energy (7,) float64 [mac, rf_filter, rf_ifmap, rf_psum, array, buffer, dram] per word access
    mapping (MAP_LEN,) see MAP_* offsets; metrics (MET_LEN,) float64 see MET_* offsets.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from hwmodels import config
from hwmodels.fine.layout import (SPEC_ROWS, SPEC_COLS, SPEC_PE_TYPE, SPEC_B_MAX, SPEC_LANES, SPEC_DATAFLOW,
                                   SPEC_RF_FILTER, SPEC_RF_IFMAP, SPEC_RF_PSUM, SPEC_BUFFER_BITS, SPEC_WORD_BITS,
                                   SPEC_BYPASS_W, SPEC_BYPASS_I, SPEC_ACCOUNTING, SPEC_UNROLLING, SPEC_LEN, E_MAC,
                                   E_RF_FILTER, E_RF_IFMAP, E_RF_PSUM, E_ARRAY, E_BUFFER, E_DRAM, MAP_ROWS, MAP_COLS,
                                   MAP_PE, MAP_LANE_DIM, MAP_LANES, MAP_BUF, MAP_ORDER_B, MAP_ORDER_D, MAP_LEN,
                                   MET_LEVELS, MET_ENERGY, MET_LATENCY, MET_COMPUTE, MET_DRAM_BITS, MET_UTIL,
                                   MET_BUFFER_BITS, MET_COUNTS, MET_LEN, ST_SPATIAL, ST_SPATIAL_OPEN, ST_PE,
                                   ST_PE_OPEN, ST_BUF, ST_BUF_OPEN, ST_COSTED, ST_CHECKED, ST_VIOLATIONS,
                                   ST_RESCUED, ST_LEN)
from hwmodels.fine._tiling import (_ceil_values, _divisor_table, _dram_by_order, _fetch3, _group_trips,
                                   _input_extent, _odometer_next, _stored_inputs, _tile_elems, _trip_groups)

N_, G_, M_, C_, P_, Q_, R_, S_ = (config.DIM_N, config.DIM_G, config.DIM_M, config.DIM_C, config.DIM_P, config.DIM_Q,
                                  config.DIM_R, config.DIM_S)
TW, TI, TO = config.TENSOR_W, config.TENSOR_I, config.TENSOR_O

# ---- PE-tile invariants (`_pe_terms`), float64 ----
PT_NPE, PT_C, PT_PW, PT_PI, PT_AW, PT_AI, PT_NOUT, PT_RTOT, PT_MACS = 0, 1, 2, 3, 4, 5, 6, 7, 8
PT_MAC_E, PT_W_RF, PT_I_RF, PT_PSUM_WF, PT_LRED, PT_STEPS, PT_CYC, PT_RES_I, PT_RES_O, PT_LEGAL = (
    9, 10, 11, 12, 13, 14, 15, 16, 17, 18)
PT_LEN = 19
# ---- spatial candidate rows (`_spatial_candidates`) ----
SC_ROWS, SC_COLS, SC_LANE_DIM, SC_LANES, SC_PB, SC_TRIPS = 0, 8, 16, 17, 18, 26
SC_LEN = 34
# ---- search state (best) ----
B_KEY1, B_KEY2, B_ENERGY, B_LATENCY = 0, 1, 2, 3
NO_LANES = config.N_DIMS  # `_filling`'s group of the candidates without lanes (after the 8 lane dims)
SLACK = 1e-9  # bounds are compared with this relative slack so that float rounding never prunes a tie
# ---- search mode (`_bounded_out`) ----
MODE_OBJ, MODE_TIE, MODE_CAPPED, MODE_CAP, MODE_CHECK = 0, 1, 2, 3, 4
MODE_LEN = 5
# ---- bounds of the enclosing subtrees, checked in check mode: spatial (energy, latency), PE tile (energy, latency)
CHK_E_SP, CHK_LAT_SP, CHK_E_PE, CHK_LAT_PE = 0, 1, 2, 3
CHK_LEN = 4


@njit(cache=True, **config.NJIT_FLAGS)
def _max_lanes(spec_i, b_w, b_a):
    """In-PE parallel MACs: V = floor(b_max / max(b_w, b_a)) for SIMD (eq. 3), `lanes` for bit-serial."""
    if spec_i[SPEC_PE_TYPE] == config.PE_SIMD:
        return spec_i[SPEC_B_MAX] // max(b_w, b_a)
    return spec_i[SPEC_LANES]


@njit(cache=True, **config.NJIT_FLAGS)
def _words(elems, b, b_max):
    """RF words of b_max bits holding `elems` values of b bits (b_max // b per word; a wider value spans words)."""
    if b <= b_max:
        per = b_max // b
        return (elems + per - 1) // per
    return elems * ((b + b_max - 1) // b_max)


@njit(cache=True, **config.NJIT_FLAGS)
def _lane_terms(spec_i, energy, macs, lanes, lane_dim, b_w, b_a, b_psum):
    """The SIMD / bit-serial cost terms (hw-flowq eq. 3 and 4), defined once for costing and bounding.

    SIMD: one RF word feeds the `lanes` packed (or one shared) operands, one b_max-wide MAC does `lanes` products.
    Bit-serial: each lane reads an operand's bits (b / b_max words per MAC; an operand the lanes share is read once
    per step) and needs b_w * b_a cycles per MAC; a lane-cycle costs mac / b_max**2.
    Returns (weight RF words, input RF words, MAC energy, cycles per step, reduction lanes L_red, RF words per
    psum element access).
    """
    b_max = spec_i[SPEC_B_MAX]
    l_red = lanes if config.REDUCTION_DIM[lane_dim] == 1 else 1
    l_out = lanes // l_red
    psum_wf = _words(l_out, b_psum, b_max) / l_out
    if spec_i[SPEC_PE_TYPE] == config.PE_SIMD:
        return macs / lanes, macs / lanes, energy[E_MAC] * macs / lanes, 1, l_red, psum_wf
    w_share = 1 if config.RELEVANT[TW, lane_dim] == 1 else lanes
    i_share = 1 if config.RELEVANT[TI, lane_dim] == 1 else lanes
    return (macs * b_w / (b_max * w_share), macs * b_a / (b_max * i_share),
            energy[E_MAC] * macs * b_w * b_a / (b_max * b_max), b_w * b_a, l_red, psum_wf)


@njit(cache=True, **config.NJIT_FLAGS)
def _pe_needs(geom, pe, lane_dim, lanes):
    """Operands a PE holds: (weights, input window, all inputs, live psums, all psums) of its tile (lanes included).

    The PE loops run Q outermost: the input window is N*G*C*h*w with w the columns of one lane step, the live psums
    N*G*M*P (times the Q lanes).
    """
    w, i_all, o_all = _tile_elems(pe, pe, geom)
    q_lanes = lanes if lane_dim == Q_ else 1
    h = _input_extent(pe[P_], pe[R_], geom[0], geom[2])
    wd = _input_extent(q_lanes, pe[S_], geom[1], geom[3])
    win = min(pe[N_] * pe[G_] * pe[C_] * h * wd, i_all)
    live = o_all // (pe[Q_] // q_lanes)
    return w, win, i_all, live, o_all


@njit(cache=True, **config.NJIT_FLAGS)
def _pe_legal(spec_i, bits, geom, pe, lane_dim, lanes):
    """The PE's RFs hold its weights, its input window and its live psums (monotone in every PE factor)."""
    b_max = spec_i[SPEC_B_MAX]
    w, win, i_all, live, o_all = _pe_needs(geom, pe, lane_dim, lanes)
    return (_words(w, bits[0], b_max) <= spec_i[SPEC_RF_FILTER] and _words(win, bits[1], b_max) <= spec_i[SPEC_RF_IFMAP]
            and _words(live, bits[3], b_max) <= spec_i[SPEC_RF_PSUM])


@njit(cache=True, **config.NJIT_FLAGS)
def _footprint(tile, geom, bits, spec_i, complete):
    """Buffer bits of a buffer tile: non-bypassed weights and inputs, outputs at b_out when `complete` (the tile
    spans the reduction) else at the psum width. complete = -1 asks for the monotone lower bound (narrower width)."""
    w, i, o = _tile_elems(tile, tile, geom)
    total = 0
    if spec_i[SPEC_BYPASS_W] == 0:
        total += w * bits[0]
    if spec_i[SPEC_BYPASS_I] == 0:
        total += i * bits[1]
    if complete == 1:
        total += o * bits[2]
    elif complete == 0:
        total += o * bits[3]
    else:
        total += o * min(bits[2], bits[3])
    return total


@njit(cache=True, **config.NJIT_FLAGS)
def _pe_terms(pb, geom, bits, spec_i, energy, rows, cols, pe, lanes, lane_dim, out):
    """Invariants of one (spatial unrolling, lanes, PE tile) on padded bounds `pb`: fills out (PT_LEN,) float64."""
    b_max = spec_i[SPEC_B_MAX]
    arr = np.empty(8, dtype=np.int64)
    n_pe = 1
    c_sp = 1
    steps = 1
    macs = 1
    r_tot = 1
    for d in range(8):
        s = rows[d] * cols[d]
        n_pe *= s
        arr[d] = s * pe[d]
        steps *= pe[d]
        macs *= pb[d]
        if config.REDUCTION_DIM[d] == 1:
            c_sp *= s
            r_tot *= pb[d]
    pw, pi, po = _tile_elems(pe, pe, geom)
    aw, ai, ao = _tile_elems(arr, arr, geom)
    n_out = _tile_elems(pb, pb, geom)[2]
    w_rf, i_rf, mac_e, cyc, l_red, psum_wf = _lane_terms(spec_i, energy, macs, lanes, lane_dim, bits[0], bits[1],
                                                         bits[3])
    w, win, i_all, live, o_all = _pe_needs(geom, pe, lane_dim, lanes)
    out[PT_NPE] = n_pe
    out[PT_C] = c_sp
    out[PT_PW] = pw
    out[PT_PI] = pi
    out[PT_AW] = aw
    out[PT_AI] = ai
    out[PT_NOUT] = n_out
    out[PT_RTOT] = r_tot
    out[PT_MACS] = macs
    out[PT_MAC_E] = mac_e
    out[PT_W_RF] = w_rf
    out[PT_I_RF] = i_rf
    out[PT_PSUM_WF] = psum_wf
    out[PT_LRED] = l_red
    out[PT_STEPS] = steps // lanes
    out[PT_CYC] = cyc
    out[PT_RES_I] = 1.0 if _words(i_all, bits[1], b_max) <= spec_i[SPEC_RF_IFMAP] else 0.0
    out[PT_RES_O] = 1.0 if _words(o_all, bits[3], b_max) <= spec_i[SPEC_RF_PSUM] else 0.0
    out[PT_LEGAL] = 1.0 if _pe_legal(spec_i, bits, geom, pe, lane_dim, lanes) else 0.0


@njit(cache=True, **config.NJIT_FLAGS)
def _order_cost(pt, bits, spec_i, spec_f, energy, total_d, total_b, f_bw, f_bi, f_bo, o_tiles_b, red_d,
                dram_w, dram_i, dram_o, a_visits, lv, cnt):
    """Energy by level lv (5,), counts cnt (12,) and (energy, latency, compute, buffer bits, DRAM bits) of one mapping
    from its PE-tile invariants `pt`, buffer fetch counts and DRAM traffic (see the module docstring)."""
    b_w, b_a, b_psum = bits[0], bits[1], bits[3]
    b_max = spec_i[SPEC_B_MAX]
    word = spec_i[SPEC_WORD_BITS]
    n_out = pt[PT_NOUT]
    w_arr = pt[PT_NPE] * pt[PT_PW] * f_bw * total_d
    i_arr = pt[PT_NPE] * pt[PT_PI] * f_bi * total_d
    w_buf = 0.0 if spec_i[SPEC_BYPASS_W] == 1 else pt[PT_AW] * f_bw * total_d
    i_buf = 0.0 if spec_i[SPEC_BYPASS_I] == 1 else pt[PT_AI] * f_bi * total_d
    v = (f_bo // o_tiles_b) * red_d
    p_dram = n_out * (2 * a_visits - 1)
    p_buf = 2.0 * n_out * (v - a_visits)
    p_arr = n_out * v * (pt[PT_C] - 1)
    if spec_i[SPEC_ACCOUNTING] == config.ACCOUNTING_TIMELOOP:  # every MAC reads and updates, every visit fills
        p_rf = 2.0 * n_out * pt[PT_RTOT] / pt[PT_LRED] + n_out * v * pt[PT_C]
    else:  # Eyeriss chain: the first MAC of a visit takes its psum from the array or buffer
        p_rf = 2.0 * n_out * (pt[PT_RTOT] / pt[PT_LRED] - v * pt[PT_C])
    dram_bits = dram_w + dram_i + dram_o
    buffer_bits = w_buf * b_w + i_buf * b_a + p_buf * b_psum
    lv[0] = pt[PT_MAC_E]
    lv[1] = (pt[PT_W_RF] * energy[E_RF_FILTER] + pt[PT_I_RF] * energy[E_RF_IFMAP]
             + p_rf * pt[PT_PSUM_WF] * energy[E_RF_PSUM])
    lv[2] = (w_arr * b_w + i_arr * b_a + p_arr * b_psum) / word * energy[E_ARRAY]
    lv[3] = buffer_bits / word * energy[E_BUFFER]
    lv[4] = dram_bits / word * energy[E_DRAM]
    if spec_i[SPEC_ACCOUNTING] == config.ACCOUNTING_TIMELOOP:
        # fills charged where written: operands delivered into the PEs at their RF, buffer <-> DRAM words at the buffer
        lv[1] += w_arr * b_w / b_max * energy[E_RF_FILTER] + i_arr * b_a / b_max * energy[E_RF_IFMAP]
        staged = dram_o
        if spec_i[SPEC_BYPASS_W] == 0:
            staged += dram_w
        if spec_i[SPEC_BYPASS_I] == 0:
            staged += dram_i
        lv[3] += staged / word * energy[E_BUFFER]
    e_total = lv[0] + lv[1] + lv[2] + lv[3] + lv[4]
    compute = total_d * total_b * pt[PT_STEPS] * pt[PT_CYC]
    latency = compute
    if spec_f[1] > 0:
        latency = max(latency, (buffer_bits + dram_bits) / spec_f[1])
    if spec_f[0] > 0:
        latency = max(latency, dram_bits / spec_f[0])
    cnt[0], cnt[1], cnt[2], cnt[3] = dram_w / b_w, w_buf, w_arr, pt[PT_MACS]
    cnt[4], cnt[5], cnt[6], cnt[7] = dram_i / b_a, i_buf, i_arr, pt[PT_MACS]
    cnt[8], cnt[9], cnt[10], cnt[11] = p_dram, p_buf, p_arr, p_rf
    return e_total, latency, compute, buffer_bits, dram_bits


@njit(cache=True, **config.NJIT_FLAGS)
def _buffer_fetches(buf, total_b, ob, pt):
    """Buffer-level fetch counts (weights, inputs, psums) of order `ob`; inputs / psums get the order's reuse only
    when the PE tile is resident in the RF (`PT_RES_I`, `PT_RES_O`)."""
    g = _group_trips(buf)
    f_bw = _fetch3(g[0], g[1], g[2], total_b, ob, TW)
    f_bi = _fetch3(g[0], g[1], g[2], total_b, ob, TI) if pt[PT_RES_I] > 0 else total_b
    f_bo = _fetch3(g[0], g[1], g[2], total_b, ob, TO) if pt[PT_RES_O] > 0 else total_b
    return f_bw, f_bi, f_bo


@njit(cache=True, **config.NJIT_FLAGS)
def _bypass_dram(pt, spec_i, bits, dram_w, dram_i, f_bw, f_bi, total_d, all_inputs):
    """DRAM bits of weights / inputs after bypass: a bypassed tensor is read as often as the array fetches it."""
    if spec_i[SPEC_BYPASS_W] == 1:
        dram_w = pt[PT_AW] * f_bw * total_d * bits[0]
    if spec_i[SPEC_BYPASS_I] == 1:
        dram_i = max(pt[PT_AI] * f_bi * total_d, all_inputs) * bits[1]
    return dram_w, dram_i


@njit(cache=True, **config.NJIT_FLAGS)
def _evaluate_mapping(bounds, geom, bits, spec_i, spec_f, energy, mapping, metrics):
    """Cost of one full mapping. Fills `metrics` (MET_LEN,) float64; returns a status code.

    The DRAM factor of each dim is ceil(bound / (spatial x PE x buffer factors)), so factors need not divide.
    Returns `config.STATUS_NO_MAPPING` if the array, the lanes, an RF or the buffer overflows.
    """
    rows = mapping[MAP_ROWS:MAP_ROWS + 8]
    cols = mapping[MAP_COLS:MAP_COLS + 8]
    pe = mapping[MAP_PE:MAP_PE + 8]
    buf = mapping[MAP_BUF:MAP_BUF + 8]
    lanes = mapping[MAP_LANES]
    lane_dim = mapping[MAP_LANE_DIM]
    if lanes < 1 or lane_dim < 0 or lane_dim > 7 or pe[lane_dim] % lanes != 0:
        return config.STATUS_NO_MAPPING
    if lanes > _max_lanes(spec_i, bits[0], bits[1]):
        return config.STATUS_NO_MAPPING
    pb = np.empty(8, dtype=np.int64)
    tile_b = np.empty(8, dtype=np.int64)
    trips_d = np.empty(8, dtype=np.int64)
    rows_used = 1
    cols_used = 1
    total_d = 1
    total_b = 1
    for d in range(8):
        if rows[d] < 1 or cols[d] < 1 or pe[d] < 1 or buf[d] < 1:
            return config.STATUS_NO_MAPPING
        rows_used *= rows[d]
        cols_used *= cols[d]
        tile_b[d] = rows[d] * cols[d] * pe[d] * buf[d]
        trips_d[d] = (bounds[d] + tile_b[d] - 1) // tile_b[d]
        pb[d] = tile_b[d] * trips_d[d]
        total_d *= trips_d[d]
        total_b *= buf[d]
    if config.DF_FOLD[spec_i[SPEC_DATAFLOW]] == 1:
        if rows_used * cols_used > spec_i[SPEC_ROWS] * spec_i[SPEC_COLS]:
            return config.STATUS_NO_MAPPING
    elif rows_used > spec_i[SPEC_ROWS] or cols_used > spec_i[SPEC_COLS]:
        return config.STATUS_NO_MAPPING
    complete = 1 if (tile_b[C_] == pb[C_] and tile_b[R_] == pb[R_] and tile_b[S_] == pb[S_]) else 0
    if _footprint(tile_b, geom, bits, spec_i, complete) > spec_i[SPEC_BUFFER_BITS]:
        return config.STATUS_NO_MAPPING
    pt = np.empty(PT_LEN, dtype=np.float64)
    _pe_terms(pb, geom, bits, spec_i, energy, rows, cols, pe, lanes, lane_dim, pt)
    if pt[PT_LEGAL] == 0:
        return config.STATUS_NO_MAPPING
    f_bw, f_bi, f_bo = _buffer_fetches(buf, total_b, mapping[MAP_ORDER_B], pt)
    dram = np.empty((config.N_ORDERS, 3), dtype=np.int64)
    visits = np.empty(config.N_ORDERS, dtype=np.int64)
    _dram_by_order(pb, tile_b, geom, bits, dram, visits)
    od = mapping[MAP_ORDER_D]
    all_inputs = _stored_inputs(pb, geom)
    dram_w, dram_i = _bypass_dram(pt, spec_i, bits, float(dram[od, TW]), float(dram[od, TI]), f_bw, f_bi, total_d,
                                  all_inputs)
    o_tiles_b = buf[N_] * buf[G_] * buf[M_] * buf[P_] * buf[Q_]
    red_d = trips_d[C_] * trips_d[R_] * trips_d[S_]
    metrics[:] = 0.0
    lv = metrics[MET_LEVELS:MET_LEVELS + config.N_LEVELS]
    cnt = metrics[MET_COUNTS:MET_COUNTS + 12]
    e_total, latency, compute, buffer_bits, dram_bits = _order_cost(
        pt, bits, spec_i, spec_f, energy, float(total_d), float(total_b), f_bw, f_bi, f_bo, o_tiles_b, red_d,
        dram_w, dram_i, float(dram[od, TO]), visits[od], lv, cnt)
    metrics[MET_ENERGY] = e_total
    metrics[MET_LATENCY] = latency
    metrics[MET_COMPUTE] = compute
    metrics[MET_DRAM_BITS] = dram_bits
    real_macs = 1
    for d in range(8):
        real_macs *= bounds[d]
    peak = spec_i[SPEC_ROWS] * spec_i[SPEC_COLS] * _max_lanes(spec_i, bits[0], bits[1]) / pt[PT_CYC]
    metrics[MET_UTIL] = real_macs / (compute * peak)
    metrics[MET_BUFFER_BITS] = buffer_bits
    return config.STATUS_OK


# ---------------------------------------------------------------- search ----------------------------------------


@njit(cache=True, **config.NJIT_FLAGS)
def _metric(which, e, lat):
    if which == config.OBJ_ENERGY:
        return e
    if which == config.OBJ_LATENCY:
        return lat
    return e * lat


@njit(cache=True, **config.NJIT_FLAGS)
def _bounded_out(e_lb, lat_lb, best, mode):
    """True when a subtree with energy / latency lower bounds (e_lb, lat_lb) cannot hold a better mapping.

    mode (MODE_LEN,) float64: [objective, tie-break metric, capped metric (-1 none), cap value, check]; in check
    mode (`MODE_CHECK` > 0) nothing is cut: the search costs every mapping and tests it against its bounds."""
    if mode[MODE_CHECK] > 0:
        return False
    key_lb = _metric(int(mode[0]), e_lb, lat_lb)
    if key_lb > best[B_KEY1] * (1 + SLACK):
        return True
    if mode[2] >= 0 and _metric(int(mode[2]), e_lb, lat_lb) > mode[3] * (1 + SLACK):
        return True
    return False


@njit(cache=True, **config.NJIT_FLAGS)
def _filling(cands):
    """The candidates that fill the array (`config.UNROLL_FILL`): a spatial unrolling x lane choice is kept unless
    another one with no lanes, or with lanes on the same dim and at most as many, has no more temporal trips in any
    dim and fewer in one (no other unrolling of the dataflow does every loop in as few steps and one in fewer).
    Lanes are part of the trips, so a dim the lanes exhaust frees its PEs (hw-flowq 3.3.1). A candidate's
    dominators never use more lanes than it does, so its fate does not depend on the bitwidths (which only add
    lane counts), and a lane count that pads more than the minimal one for the same trips is dominated exactly
    when the minimal one is (so listing minimal lane factors only loses no optimum)."""
    k = cands.shape[0]
    trips = np.ascontiguousarray(cands[:, SC_TRIPS:SC_TRIPS + 8])
    lanes = cands[:, SC_LANES].copy()
    group = np.empty(k, dtype=np.int64)  # lane dim, or NO_LANES
    total = np.zeros(k, dtype=np.int64)
    for a in range(k):
        group[a] = cands[a, SC_LANE_DIM] if lanes[a] > 1 else NO_LANES
        for d in range(8):
            total[a] += trips[a, d]
    # By ascending trip sum (a dominator has a strictly smaller sum, and a chain of dominations ends at a kept
    # candidate), each candidate is compared with the kept ones of its lane dim and the kept lane-less ones.
    order = np.argsort(total, kind="mergesort")
    keep = np.zeros(k, dtype=np.bool_)
    kept = np.empty((NO_LANES + 1, k), dtype=np.int64)
    n_kept = np.zeros(NO_LANES + 1, dtype=np.int64)
    for j in range(k):
        a = order[j]
        own = group[a]
        dominated = False
        for g in (NO_LANES, own):
            for i in range(n_kept[g]):
                b = kept[g, i]
                if lanes[b] > lanes[a]:
                    continue
                strict = False  # b dominates a: no trip above a's, one below
                for d in range(8):
                    if trips[b, d] > trips[a, d]:
                        strict = False
                        break
                    if trips[b, d] < trips[a, d]:
                        strict = True
                if strict:
                    dominated = True
                    break
            if dominated or own == NO_LANES:
                break
        if not dominated:
            keep[a] = True
            kept[own, n_kept[own]] = a
            n_kept[own] += 1
    return cands[keep]


@njit(cache=True, **config.NJIT_FLAGS)
def _trips_cut(bound, sig_other, f_old_trips, f_new):
    """True when unrolling a loop of `bound` iterations f_new-wide (times sig_other, the dim's other spatial and
    lane factors) leaves fewer than f_old_trips temporal trips."""
    return (bound + sig_other * f_new - 1) // (sig_other * f_new) < f_old_trips


@njit(cache=True, **config.NJIT_FLAGS)
def _repl_factor(x, used_dim, used_factor, allowed):
    """Replication factor of dim x on an axis whose replication is (used_dim, used_factor): its factor if x is the
    one used, 1 if the axis has none and the dataflow allows x there (it could be added), 0 otherwise."""
    if used_dim >= 0:
        return used_factor if x == used_dim else 0
    return 1 if allowed == 1 else 0


@njit(cache=True, **config.NJIT_FLAGS)
def _rows_cut(bounds, sig, d, f_old, other, n_rows, n_cols, fc, fxc, fold):
    """True when dim d's row factor can grow from f_old (beside `other` on the rows) and cut d's trips, leaving room
    for the OS fold of fxc on the PEs the rows leave free (fc columns of the primary)."""
    t = (bounds[d] + sig[d] - 1) // sig[d]
    for f in range(n_rows // other, f_old, -1):  # the largest legal factor cuts the most
        if fold and (n_rows // (f * other)) * (n_cols // fc) < fxc:
            continue
        return _trips_cut(bounds[d], sig[d] // f_old, t, f)
    return False


@njit(cache=True, **config.NJIT_FLAGS)
def _growable(bounds, spec_i, fr, xr, fxr, fc, xc, fxc, ld, lanes, sig):
    """Bit mask of the dims whose temporal trips one larger spatial factor would cut while the unrolling stays
    legal (rows: primary or replication, or a replication dim added to an axis without one; columns likewise,
    within the OS fold). A candidate with such a dim is dominated in the "fill" space (`_filling`); the mask
    prunes them before they are listed. Lanes (ld, lanes) count in the lane dim's trips; sig (8,) is scratch."""
    flow = spec_i[SPEC_DATAFLOW]
    n_rows = spec_i[SPEC_ROWS]
    n_cols = spec_i[SPEC_COLS]
    rp = config.DF_ROW_PRIMARY[flow]
    cp = config.DF_COL_PRIMARY[flow]
    fold = config.DF_FOLD[flow] == 1
    sig[:] = 1
    if rp >= 0:
        sig[rp] *= fr
    if xr >= 0:
        sig[xr] *= fxr
    if cp >= 0:
        sig[cp] *= fc
    if xc >= 0:
        sig[xc] *= fxc
    if ld >= 0:
        sig[ld] *= lanes
    rows_used = fr * fxr
    mask = 0
    # rows: the primary (times the replication), then the replication (or any allowed one when none is)
    if rp >= 0 and _rows_cut(bounds, sig, rp, fr, fxr, n_rows, n_cols, fc, fxc, fold):
        mask |= 1 << rp
    for x in range(8):
        f_old = _repl_factor(x, xr, fxr, config.DF_ROW_REPL[flow, x])
        if f_old > 0 and _rows_cut(bounds, sig, x, f_old, fr, n_rows, n_cols, fc, fxc, fold):
            mask |= 1 << x
    # columns primary: f in (fc, n_cols // fxc] (OS: f <= n_cols with room for the fold)
    if cp >= 0:
        t = (bounds[cp] + sig[cp] - 1) // sig[cp]
        hi = n_cols if fold else n_cols // fxc
        for f in range(hi, fc, -1):
            if fold and (n_rows // rows_used) * (n_cols // f) < fxc:
                continue
            if _trips_cut(bounds[cp], sig[cp] // fc, t, f):
                mask |= 1 << cp
            break
    cap_c = (n_rows // rows_used) * (n_cols // fc) if fold else n_cols // fc
    for x in range(8):  # columns replication
        f_old = _repl_factor(x, xc, fxc, config.DF_COL_REPL[flow, x])
        if f_old == 0:
            continue
        t = (bounds[x] + sig[x] - 1) // sig[x]
        if t > 1 and cap_c > f_old and _trips_cut(bounds[x], sig[x] // f_old, t, cap_c):
            mask |= 1 << x
    return mask


@njit(cache=True, **config.NJIT_FLAGS)
def _trips_product(rem):
    """Product of the trips left (float64: no overflow)."""
    p = 1.0
    for d in range(8):
        p *= rem[d]
    return p


@njit(cache=True, **config.NJIT_FLAGS)
def _spatial_candidates(bounds, spec_i, lmax):
    """Every spatial unrolling x lane choice of the search space (module docstring of `mapper`), minimal factors only
    (`unrolling: fill`: only those `_filling` keeps, most of them pruned by `_growable` before they are listed).

    Returns (k, SC_LEN) int64 rows [rows (8), cols (8), lane dim, lanes, padded bounds (8), temporal trips (8)].
    """
    return _spatial_within(bounds, spec_i, lmax, np.inf)


@njit(cache=True, **config.NJIT_FLAGS)
def _spatial_within(bounds, spec_i, lmax, trip_limit):
    """`_spatial_candidates` whose temporal trip product (compute cycles / cycles per step) is <= trip_limit: a
    subtree of the enumeration is skipped when prod(trips left) / (the largest product of the factors still to
    choose: PEs left x lmax) exceeds it (prod ceil(r / f) >= prod r / prod f)."""
    flow = spec_i[SPEC_DATAFLOW]
    n_rows = spec_i[SPEC_ROWS]
    n_cols = spec_i[SPEC_COLS]
    fill = spec_i[SPEC_UNROLLING] == config.UNROLL_FILL
    rp = config.DF_ROW_PRIMARY[flow]
    cp = config.DF_COL_PRIMARY[flow]
    cap = 256
    out = np.ones((cap, SC_LEN), dtype=np.int64)
    k = 0
    rem0 = bounds.copy()
    one = np.ones(1, dtype=np.int64)
    rem1 = np.empty(8, dtype=np.int64)
    rem2 = np.empty(8, dtype=np.int64)
    rem3 = np.empty(8, dtype=np.int64)
    rem4 = np.empty(8, dtype=np.int64)
    sig = np.empty(8, dtype=np.int64)
    limit = trip_limit * (1 + SLACK)
    for fr in (_ceil_values(rem0[rp], 1, n_rows) if rp >= 0 else one):
        rem1[:] = rem0
        if rp >= 0:
            rem1[rp] = (rem0[rp] + fr - 1) // fr
        if _trips_product(rem1) > limit * (n_rows / fr) * n_cols * lmax:
            continue
        for xr in range(-1, 8):
            if xr >= 0 and (config.DF_ROW_REPL[flow, xr] == 0 or rem1[xr] == 1):
                continue
            for fxr in (_ceil_values(rem1[xr], 2, n_rows // fr) if xr >= 0 else one):
                rem2[:] = rem1
                if xr >= 0:
                    rem2[xr] = (rem1[xr] + fxr - 1) // fxr
                rows_used = fr * fxr
                cols_left = (n_rows // rows_used) * n_cols if config.DF_FOLD[flow] == 1 else n_cols
                if _trips_product(rem2) > limit * cols_left * lmax:
                    continue
                for fc in (_ceil_values(rem2[cp], 1, n_cols) if cp >= 0 else one):
                    rem3[:] = rem2
                    if cp >= 0:
                        rem3[cp] = (rem2[cp] + fc - 1) // fc
                    if config.DF_FOLD[flow] == 1:
                        cap_c = (n_rows // rows_used) * (n_cols // fc)
                    else:
                        cap_c = n_cols // fc
                    if _trips_product(rem3) > limit * cap_c * lmax:
                        continue
                    for xc in range(-1, 8):
                        if xc >= 0 and (config.DF_COL_REPL[flow, xc] == 0 or rem3[xc] == 1):
                            continue
                        for fxc in (_ceil_values(rem3[xc], 2, cap_c) if xc >= 0 else one):
                            rem4[:] = rem3
                            if xc >= 0:
                                rem4[xc] = (rem3[xc] + fxc - 1) // fxc
                            if _trips_product(rem4) > limit * lmax:
                                continue
                            grow = 0
                            if fill:
                                grow = _growable(bounds, spec_i, fr, xr, fxr, fc, xc, fxc, -1, 1, sig)
                                if grow & (grow - 1):
                                    continue  # two dims can grow: dominated whatever the lanes
                            for ld in range(-1, 8):
                                if ld >= 0 and rem4[ld] == 1:
                                    continue
                                if grow != 0 and (ld < 0 or grow != (1 << ld)):
                                    continue  # a dim the lanes leave alone can grow
                                for lanes in (_ceil_values(rem4[ld], 2, lmax) if ld >= 0 else one):
                                    if _trips_product(rem4) / rem4[max(ld, 0)] * ((rem4[max(ld, 0)] + lanes - 1)
                                                                               // lanes) > limit:
                                        continue
                                    if grow != 0 and _growable(bounds, spec_i, fr, xr, fxr, fc, xc, fxc, ld,
                                                               lanes, sig) != 0:
                                        continue
                                    if k == cap:
                                        cap *= 2
                                        grown = np.ones((cap, SC_LEN), dtype=np.int64)
                                        grown[:k] = out[:k]
                                        out = grown
                                    row = out[k]
                                    for d in range(8):
                                        row[SC_ROWS + d] = 1
                                        row[SC_COLS + d] = 1
                                    if rp >= 0:
                                        row[SC_ROWS + rp] *= fr
                                    if xr >= 0:
                                        row[SC_ROWS + xr] *= fxr
                                    if cp >= 0:
                                        row[SC_COLS + cp] *= fc
                                    if xc >= 0:
                                        row[SC_COLS + xc] *= fxc
                                    row[SC_LANE_DIM] = ld if ld >= 0 else M_
                                    row[SC_LANES] = lanes
                                    for d in range(8):
                                        t = rem4[d]
                                        if d == ld:
                                            t = (rem4[d] + lanes - 1) // lanes
                                        sigma = row[SC_ROWS + d] * row[SC_COLS + d] * (lanes if d == ld else 1)
                                        row[SC_TRIPS + d] = t
                                        row[SC_PB + d] = sigma * t
                                    k += 1
    if fill:
        return _filling(out[:k])
    return out[:k]


@njit(cache=True, **config.NJIT_FLAGS)
def _psum_energy(n_out, rtot_steps, c_sp, v, a, psum_wf, b_psum, word, energy, timeloop):
    """Energy of the psum chain of `n_out` outputs at v PE-array visits and a DRAM visits per output, beyond the
    compulsory final write of each output (module docstring; `_order_cost` counts the same terms):
        RF      eyeriss 2 (Rtot/L_red - v c), timeloop 2 Rtot/L_red + v c   (words x psum_wf x rf_psum)
        array   v (c - 1);  buffer 2 (v - a);  DRAM 2 (a - 1), also at the buffer under timeloop (staged)
    rtot_steps = Rtot / L_red. Linear in (v, a), so its minimum over a polygon of (v, a) is at a vertex."""
    if timeloop:
        rf = 2.0 * rtot_steps + v * c_sp
        stage = energy[E_BUFFER]
    else:
        rf = 2.0 * (rtot_steps - v * c_sp)
        stage = 0.0
    moved = v * (c_sp - 1) * energy[E_ARRAY] + 2.0 * (v - a) * energy[E_BUFFER] + 2.0 * (a - 1) * (energy[E_DRAM]
                                                                                                  + stage)
    return n_out * (rf * psum_wf * energy[E_RF_PSUM] + b_psum / word * moved)


@njit(cache=True, **config.NJIT_FLAGS)
def _psum_floor(n_out, rtot_steps, c_sp, v_lo, v_hi, psum_wf, b_psum, word, energy, timeloop):
    """Minimum of `_psum_energy` over v_lo <= v <= v_hi, 1 <= a <= v (a is 1 or the DRAM-level reduction trips,
    which divide v): the smallest value at the four corners (v_lo, 1), (v_lo, v_lo), (v_hi, 1), (v_hi, v_hi)."""
    e = _psum_energy(n_out, rtot_steps, c_sp, v_lo, 1.0, psum_wf, b_psum, word, energy, timeloop)
    e = min(e, _psum_energy(n_out, rtot_steps, c_sp, v_lo, v_lo, psum_wf, b_psum, word, energy, timeloop))
    e = min(e, _psum_energy(n_out, rtot_steps, c_sp, v_hi, 1.0, psum_wf, b_psum, word, energy, timeloop))
    return min(e, _psum_energy(n_out, rtot_steps, c_sp, v_hi, v_hi, psum_wf, b_psum, word, energy, timeloop))


@njit(cache=True, **config.NJIT_FLAGS)
def _compulsory(w_all, i_all, o_all, bits, spec_i, energy):
    """(DRAM bits every mapping moves at least, their energy at DRAM and, under timeloop, at the buffer): every
    weight and used input read once, every output written once at b_out. Bypassed tensors count at DRAM only
    (their real reads, `_bypass_dram`, are >= one per element too)."""
    b_w, b_a, b_out = bits[0], bits[1], bits[2]
    word = spec_i[SPEC_WORD_BITS]
    dram = float(w_all * b_w + i_all * b_a + o_all * b_out)
    staged = float(o_all * b_out)
    if spec_i[SPEC_BYPASS_W] == 0:
        staged += w_all * b_w
    if spec_i[SPEC_BYPASS_I] == 0:
        staged += i_all * b_a
    e = dram / word * energy[E_DRAM]
    if spec_i[SPEC_ACCOUNTING] == config.ACCOUNTING_TIMELOOP:
        e += staged / word * energy[E_BUFFER]
    return dram, e


@njit(cache=True, **config.NJIT_FLAGS)
def _spatial_lower_bound(geom, bits, spec_i, energy, spec_f, row):
    """(energy, latency) no mapping with this spatial unrolling and lane choice can go below. Per term:

    - MAC energy and operand RF reads: exact (`_lane_terms` depends only on the padded MACs, lanes and bits).
    - Psum chain (`_psum_floor`): with a PE tile of reduction factor p (>= L_red: the lanes are in the PE tile) the
      visits per output are v = Rtot / (c p) <= Rtot / (c L_red) =: v_max without reuse, fewer with it, and >= 1;
      DRAM visits a satisfy 1 <= a <= v. The cost is linear in (v, a), so its minimum over that triangle is at a
      corner. (The old bound took v = Rtot / (c p_max), the FEWEST visits, i.e. the MOST Eyeriss psum RF traffic:
      an upper bound of that term, issue 18.)
    - Array: every PE receives each weight of its tile at least once per weight tile, and the union of the
      PEs' tiles that differ in a weight dim is the array tile, so deliveries >= |W| x (PEs sharing no weight dim);
      inputs likewise >= |I| x (PEs that differ only in M) (the union of input windows is no larger than their sum).
      Under timeloop each delivery is also written into the RF.
    - Buffer: every non-bypassed weight and input leaves it at least once; DRAM: `_compulsory`.
    - Latency: the compute cycles are exact for the unrolling (MACs / (PEs x lanes) x cycles per step); DRAM
      latency >= compulsory bits / bandwidth; the buffer-bandwidth term is >= 0.
    """
    b_w, b_a, b_psum = bits[0], bits[1], bits[3]
    word = spec_i[SPEC_WORD_BITS]
    b_max = spec_i[SPEC_B_MAX]
    timeloop = spec_i[SPEC_ACCOUNTING] == config.ACCOUNTING_TIMELOOP
    pb = row[SC_PB:SC_PB + 8]
    lanes = row[SC_LANES]
    lane_dim = row[SC_LANE_DIM]
    n_pe = 1
    s_not_w = 1
    s_m = 1
    c_sp = 1
    macs = 1
    r_tot = 1
    for d in range(8):
        s = row[SC_ROWS + d] * row[SC_COLS + d]
        n_pe *= s
        macs *= pb[d]
        if config.RELEVANT[TW, d] == 0:
            s_not_w *= s
        if config.RELEVANT[TI, d] == 0:
            s_m *= s
        if config.REDUCTION_DIM[d] == 1:
            c_sp *= s
            r_tot *= pb[d]
    w_all, i_all, o_all = _tile_elems(pb, pb, geom)
    w_rf, i_rf, mac_e, cyc, l_red, psum_wf = _lane_terms(spec_i, energy, macs, lanes, lane_dim, b_w, b_a, b_psum)
    e = mac_e + w_rf * energy[E_RF_FILTER] + i_rf * energy[E_RF_IFMAP]
    e += _psum_floor(o_all, r_tot / l_red, c_sp, 1.0, r_tot / (c_sp * l_red), psum_wf, b_psum, word, energy,
                     timeloop)
    w_del = float(w_all * s_not_w * b_w)
    i_del = float(i_all * s_m * b_a)
    e += (w_del + i_del) / word * energy[E_ARRAY]
    if timeloop:
        e += w_del / b_max * energy[E_RF_FILTER] + i_del / b_max * energy[E_RF_IFMAP]
    buf = 0.0
    if spec_i[SPEC_BYPASS_W] == 0:
        buf += w_all * b_w
    if spec_i[SPEC_BYPASS_I] == 0:
        buf += i_all * b_a
    e += buf / word * energy[E_BUFFER]
    dram, e_dram = _compulsory(w_all, i_all, o_all, bits, spec_i, energy)
    e += e_dram
    compute = float(macs // (n_pe * lanes) * cyc)
    lat = compute
    if spec_f[0] > 0:
        lat = max(lat, dram / spec_f[0])
    return e, lat


@njit(cache=True, **config.NJIT_FLAGS)
def _pe_lower_bound(pt, pb, geom, bits, spec_i, spec_f, energy, arr):
    """(energy, latency) no buffer tiling / order can go below for a fixed PE tile. Per term:

    - MAC, operand RF reads: exact (`_pe_terms`).
    - Weights / inputs, array + buffer (+ timeloop RF fill): above the array tile the loops run T = prod(pb / arr)
      times; a tensor's array-level fetch count is T unless its irrelevant group is the innermost buffer group
      with more than one trip (`_fetch3`; for inputs only when the PE holds its whole tile), and then T / b >=
      T / g, with b <= g that group's trips above the array. Only one group is innermost, so at most one of
      weights, inputs, psums gets reuse: traffic >= full refetch minus the largest single saving.
    - Psums (`_psum_floor`): without psum reuse v = Rtot / (array reduction) =: v_max exactly and 1 <= a <= v;
      with it (psums resident, CRS innermost) 1 <= v <= v_max, and then weights and inputs get none.
    - DRAM: `_compulsory`. Latency: exact compute cycles; compulsory DRAM bits / bandwidth.
    """
    b_w, b_a, b_psum = bits[0], bits[1], bits[3]
    word = spec_i[SPEC_WORD_BITS]
    b_max = spec_i[SPEC_B_MAX]
    timeloop = spec_i[SPEC_ACCOUNTING] == config.ACCOUNTING_TIMELOOP
    t_all, g_npq, g_m, _, _ = _trip_groups(pb, arr)
    arr_red = 1.0
    for d in range(8):
        if config.REDUCTION_DIM[d] == 1:
            arr_red *= arr[d]
    w_all, i_all, o_all = _tile_elems(pb, pb, geom)
    n_out = pt[PT_NOUT]
    v_max = pt[PT_RTOT] / arr_red
    steps = pt[PT_RTOT] / pt[PT_LRED]
    e = pt[PT_MAC_E] + pt[PT_W_RF] * energy[E_RF_FILTER] + pt[PT_I_RF] * energy[E_RF_IFMAP]
    # per array-level fetch of each tensor: array + buffer energy (+ the RF fill under timeloop)
    w_unit = pt[PT_NPE] * pt[PT_PW] * b_w / word * energy[E_ARRAY]
    i_unit = pt[PT_NPE] * pt[PT_PI] * b_a / word * energy[E_ARRAY]
    if timeloop:
        w_unit += pt[PT_NPE] * pt[PT_PW] * b_w / b_max * energy[E_RF_FILTER]
        i_unit += pt[PT_NPE] * pt[PT_PI] * b_a / b_max * energy[E_RF_IFMAP]
    if spec_i[SPEC_BYPASS_W] == 0:
        w_unit += pt[PT_AW] * b_w / word * energy[E_BUFFER]
    if spec_i[SPEC_BYPASS_I] == 0:
        i_unit += pt[PT_AI] * b_a / word * energy[E_BUFFER]
    save_w = w_unit * (t_all - t_all / g_npq)
    save_i = i_unit * (t_all - t_all / g_m) if pt[PT_RES_I] > 0 else 0.0
    p_none = _psum_floor(n_out, steps, pt[PT_C], v_max, v_max, pt[PT_PSUM_WF], b_psum, word, energy, timeloop)
    p_reuse = p_none
    if pt[PT_RES_O] > 0:
        p_reuse = _psum_floor(n_out, steps, pt[PT_C], 1.0, v_max, pt[PT_PSUM_WF], b_psum, word, energy, timeloop)
    e += w_unit * t_all + i_unit * t_all + min(p_none - max(save_w, save_i), p_reuse)
    dram, e_dram = _compulsory(w_all, i_all, o_all, bits, spec_i, energy)
    e += e_dram
    compute = t_all * pt[PT_STEPS] * pt[PT_CYC]
    lat = compute
    if spec_f[0] > 0:
        lat = max(lat, dram / spec_f[0])
    return e, lat


@njit(cache=True, **config.NJIT_FLAGS)
def _record(best, best_mapping, key1, key2, e_total, latency, row, pe, buf, ob, od):
    best[B_KEY1] = key1
    best[B_KEY2] = key2
    best[B_ENERGY] = e_total
    best[B_LATENCY] = latency
    for d in range(8):
        best_mapping[MAP_ROWS + d] = row[SC_ROWS + d]
        best_mapping[MAP_COLS + d] = row[SC_COLS + d]
        best_mapping[MAP_PE + d] = pe[d]
        best_mapping[MAP_BUF + d] = buf[d]
    best_mapping[MAP_LANE_DIM] = row[SC_LANE_DIM]
    best_mapping[MAP_LANES] = row[SC_LANES]
    best_mapping[MAP_ORDER_B] = ob
    best_mapping[MAP_ORDER_D] = od


@njit(cache=True, **config.NJIT_FLAGS)
def _group_subtiles(rem, d0, d1, d2):
    """Every buffer factor triple of dims d0, d1, d2 (divisors of rem), sorted by their product:
    (k, 4) int64 rows [f0, f1, f2, product]."""
    n0 = 0
    n1 = 0
    n2 = 0
    for f in range(1, rem[d0] + 1):
        if rem[d0] % f == 0:
            n0 += 1
    for f in range(1, rem[d1] + 1):
        if rem[d1] % f == 0:
            n1 += 1
    for f in range(1, rem[d2] + 1):
        if rem[d2] % f == 0:
            n2 += 1
    out = np.empty((n0 * n1 * n2, 4), dtype=np.int64)
    k = 0
    for f0 in range(1, rem[d0] + 1):
        if rem[d0] % f0 != 0:
            continue
        for f1 in range(1, rem[d1] + 1):
            if rem[d1] % f1 != 0:
                continue
            for f2 in range(1, rem[d2] + 1):
                if rem[d2] % f2 != 0:
                    continue
                out[k, 0] = f0
                out[k, 1] = f1
                out[k, 2] = f2
                out[k, 3] = f0 * f1 * f2
                k += 1
    order = np.argsort(out[:, 3], kind="mergesort")
    return out[order]


@njit(cache=True, **config.NJIT_FLAGS)
def _x_orders(pt, bits, spec_i, energy, g_npq, g_m, g_crs, g_g, t_all, t_crs, all_inputs, x_e, x_buf_bits,
              x_dram_bits):
    """X(order_b) for every buffer order: energy, buffer bits, bypassed DRAM bits of a buffer tile with these
    buffer-level group trips (everything that depends on the buffer order; see `_search_buffer`). Returns min X."""
    b_w, b_a, b_psum = bits[0], bits[1], bits[3]
    b_max = spec_i[SPEC_B_MAX]
    word = spec_i[SPEC_WORD_BITS]
    total_b = g_npq * g_m * g_crs * g_g
    td = float(t_all // total_b)
    red_d = t_crs // g_crs
    o_tiles_b = g_npq * g_m * g_g
    n_out = pt[PT_NOUT]
    c_sp = pt[PT_C]
    base = (pt[PT_MAC_E] + pt[PT_W_RF] * energy[E_RF_FILTER] + pt[PT_I_RF] * energy[E_RF_IFMAP]
            + 2.0 * n_out * pt[PT_RTOT] / pt[PT_LRED] * pt[PT_PSUM_WF] * energy[E_RF_PSUM])
    v_rf = 1.0 if spec_i[SPEC_ACCOUNTING] == config.ACCOUNTING_TIMELOOP else -2.0  # psum RF accesses per v*c
    x_min = np.inf
    for ob in range(config.N_ORDERS):
        f_bw = _fetch3(g_npq, g_m, g_crs, total_b, ob, TW)
        f_bi = _fetch3(g_npq, g_m, g_crs, total_b, ob, TI) if pt[PT_RES_I] > 0 else total_b
        f_bo = _fetch3(g_npq, g_m, g_crs, total_b, ob, TO) if pt[PT_RES_O] > 0 else total_b
        v = float((f_bo // o_tiles_b) * red_d)
        w_arr = pt[PT_NPE] * pt[PT_PW] * f_bw * td
        i_arr = pt[PT_NPE] * pt[PT_PI] * f_bi * td
        wi_buf = 0.0
        byp_bits = 0.0
        if spec_i[SPEC_BYPASS_W] == 0:
            wi_buf += pt[PT_AW] * f_bw * td * b_w
        else:
            byp_bits += pt[PT_AW] * f_bw * td * b_w
        if spec_i[SPEC_BYPASS_I] == 0:
            wi_buf += pt[PT_AI] * f_bi * td * b_a
        else:
            byp_bits += max(pt[PT_AI] * f_bi * td, all_inputs) * b_a
        buf_bits = wi_buf + 2.0 * n_out * v * b_psum
        e = (base + v_rf * n_out * v * c_sp * pt[PT_PSUM_WF] * energy[E_RF_PSUM]
             + (w_arr * b_w + i_arr * b_a + n_out * v * (c_sp - 1) * b_psum) / word * energy[E_ARRAY]
             + buf_bits / word * energy[E_BUFFER] + byp_bits / word * energy[E_DRAM])
        if spec_i[SPEC_ACCOUNTING] == config.ACCOUNTING_TIMELOOP:
            e += w_arr * b_w / b_max * energy[E_RF_FILTER] + i_arr * b_a / b_max * energy[E_RF_IFMAP]
        x_e[ob] = e
        x_buf_bits[ob] = buf_bits
        x_dram_bits[ob] = byp_bits
        x_min = min(x_min, e)
    return x_min


@njit(cache=True, **config.NJIT_FLAGS)
def _search_buffer(geom, bits, spec_i, spec_f, energy, row, pe, pt, mode, best, best_mapping, counters, ws_i, ws_f,
                   dram, visits, chk):
    """Every buffer tiling x buffer order x DRAM order for a fixed spatial unrolling, lanes and PE tile.

    Energy splits exactly into X(order_b) + Y(order_d): the buffer order fixes the array / buffer / RF traffic (and
    a bypassed tensor's DRAM reads), the DRAM order the other DRAM traffic and the psum chain's a (the buffer's
    2(v - a) psum accesses are 2v under X minus 2a under Y). X depends on the buffer tile only through its
    buffer-level group trips (NPQ, M, CRS, G), so buffer tiles are visited in blocks of equal group trips and a
    block is skipped when min X + a lower bound of Y (compulsory DRAM, psum chain at its cheapest a) and the exact
    compute cycles cannot beat the best. In a live block, each fitting tile's Y is exact per DRAM order and its 36
    order pairs are compared. The arithmetic is `_order_cost` regrouped; the oracle test checks the result.
    ws_i (4, 8) int64, ws_f (6, N_ORDERS) float64, dram (N_ORDERS, 3) int64, visits (N_ORDERS,) int64: scratch.
    chk (CHK_LEN,): the spatial and PE-tile bounds above this call, tested in check mode with the block and tile
    bounds here (`_check_bounds`).

    Bounds (proofs): X >= min over the three reuse cases of K + cw F_w + ci F_i + cv v, each case exact for its
    tensor's reuse and full refetch of the other two (one group is innermost; cv may be negative, so v is taken
    exactly per case, not bounded); Y >= compulsory DRAM (and its timeloop staging) + the psum DRAM / buffer terms,
    linear in a in [1, red_d], at its cheaper end (the positive timeloop staging of 2 (a - 1) psums dropped);
    x_min = min over buffer orders of exact X; y_min = min over DRAM orders of exact Y. Latency >= exact compute
    and the DRAM bits of the cheapest DRAM order (the buffer-bandwidth term only adds).
    """
    b_w, b_a, b_out, b_psum = bits[0], bits[1], bits[2], bits[3]
    pb = row[SC_PB:SC_PB + 8]
    word = spec_i[SPEC_WORD_BITS]
    timeloop = spec_i[SPEC_ACCOUNTING] == config.ACCOUNTING_TIMELOOP
    byp_w = spec_i[SPEC_BYPASS_W] == 1
    byp_i = spec_i[SPEC_BYPASS_I] == 1
    arr = ws_i[0]
    rem = ws_i[1]
    tile_b = ws_i[2]
    buf = ws_i[3]
    buf[:] = 1
    t_all = 1
    t_crs = 1
    for d in range(8):
        arr[d] = row[SC_ROWS + d] * row[SC_COLS + d] * pe[d]
        rem[d] = pb[d] // arr[d]
        t_all *= rem[d]
        if config.REDUCTION_DIM[d] == 1:
            t_crs *= rem[d]
    x_e, x_buf_bits, x_dram_bits = ws_f[0], ws_f[1], ws_f[2]
    y_e, y_buf_bits, y_dram_bits = ws_f[3], ws_f[4], ws_f[5]
    w_all, i_all, o_all = _tile_elems(pb, pb, geom)
    stored_i = _stored_inputs(pb, geom)
    n_out = pt[PT_NOUT]
    comp_bits = float(o_all * b_out)
    if not byp_w:
        comp_bits += w_all * b_w
    if not byp_i:
        comp_bits += i_all * b_a
    y_floor = comp_bits / word * energy[E_DRAM]
    if timeloop:
        y_floor += comp_bits / word * energy[E_BUFFER]
    compute = float(t_all) * pt[PT_STEPS] * pt[PT_CYC]
    lat_floor = compute
    if spec_f[0] > 0:
        lat_floor = max(lat_floor, comp_bits / spec_f[0])
    cap_bits = spec_i[SPEC_BUFFER_BITS]
    # X as a linear function of the array-level fetch counts F_w = f_bw * trips_D, F_i, and the psum visits v
    b_max = spec_i[SPEC_B_MAX]
    c_sp = pt[PT_C]
    x_k = (pt[PT_MAC_E] + pt[PT_W_RF] * energy[E_RF_FILTER] + pt[PT_I_RF] * energy[E_RF_IFMAP]
           + 2.0 * n_out * pt[PT_RTOT] / pt[PT_LRED] * pt[PT_PSUM_WF] * energy[E_RF_PSUM])
    cw = pt[PT_NPE] * pt[PT_PW] * b_w / word * energy[E_ARRAY]
    cw += pt[PT_AW] * b_w / word * (energy[E_DRAM] if byp_w else energy[E_BUFFER])
    ci = pt[PT_NPE] * pt[PT_PI] * b_a / word * energy[E_ARRAY]
    ci += pt[PT_AI] * b_a / word * (energy[E_DRAM] if byp_i else energy[E_BUFFER])  # bypass: max(.) dropped, a bound
    if timeloop:
        cw += pt[PT_NPE] * pt[PT_PW] * b_w / b_max * energy[E_RF_FILTER]
        ci += pt[PT_NPE] * pt[PT_PI] * b_a / b_max * energy[E_RF_IFMAP]
    cv = n_out * ((1.0 if timeloop else -2.0) * c_sp * pt[PT_PSUM_WF] * energy[E_RF_PSUM] + (c_sp - 1) * b_psum / word * energy[E_ARRAY]
                  + 2.0 * b_psum / word * energy[E_BUFFER])
    res_i = pt[PT_RES_I] > 0
    res_o = pt[PT_RES_O] > 0
    npq = _group_subtiles(rem, N_, P_, Q_)
    crs = _group_subtiles(rem, C_, R_, S_)
    n_npq = npq.shape[0]
    n_crs = crs.shape[0]
    i0 = 0
    while i0 < n_npq:
        i1 = i0
        while i1 < n_npq and npq[i1, 3] == npq[i0, 3]:
            i1 += 1
        g_npq = npq[i0, 3]
        for g_m in range(1, rem[M_] + 1):
            if rem[M_] % g_m != 0:
                continue
            for g_g in range(1, rem[G_] + 1):
                if rem[G_] % g_g != 0:
                    continue
                j0 = 0
                while j0 < n_crs:
                    j1 = j0
                    while j1 < n_crs and crs[j1, 3] == crs[j0, 3]:
                        j1 += 1
                    g_crs = crs[j0, 3]
                    red_d = t_crs // g_crs
                    y_lb = y_floor + 2.0 * n_out * b_psum / word * min(
                        -energy[E_BUFFER], (red_d - 1) * energy[E_DRAM] - red_d * energy[E_BUFFER])
                    # O(1) bound: X = K + cw * F_w + ci * F_i + cv * v, and one tensor at most gets buffer reuse
                    x_w = cw * (t_all / g_npq) + ci * t_all + cv * t_crs
                    x_i = cw * t_all + ci * (t_all / g_m if res_i else t_all) + cv * t_crs
                    x_o = cw * t_all + ci * t_all + cv * (t_crs / g_crs if res_o else t_crs)
                    x_lb = x_k + min(x_w, min(x_i, x_o))
                    if _bounded_out(x_lb + y_lb, lat_floor, best, mode):
                        j0 = j1
                        continue
                    x_min = _x_orders(pt, bits, spec_i, energy, g_npq, g_m, g_crs, g_g, t_all, t_crs, stored_i, x_e,
                                      x_buf_bits, x_dram_bits)
                    if not _bounded_out(x_min + y_lb, lat_floor, best, mode):
                        for i in range(i0, i1):
                            for j in range(j0, j1):
                                buf[N_], buf[P_], buf[Q_] = npq[i, 0], npq[i, 1], npq[i, 2]
                                buf[C_], buf[R_], buf[S_] = crs[j, 0], crs[j, 1], crs[j, 2]
                                buf[M_] = g_m
                                buf[G_] = g_g
                                for d in range(8):
                                    tile_b[d] = arr[d] * buf[d]
                                complete = 1 if red_d == 1 else 0
                                if _footprint(tile_b, geom, bits, spec_i, complete) > cap_bits:
                                    continue
                                counters[ST_BUF] += 1
                                _dram_by_order(pb, tile_b, geom, bits, dram, visits)
                                y_min = np.inf
                                y_dram_min = np.inf
                                for od in range(config.N_ORDERS):
                                    nb_bits = float(dram[od, TO])
                                    if not byp_w:
                                        nb_bits += dram[od, TW]
                                    if not byp_i:
                                        nb_bits += dram[od, TI]
                                    p_buf_bits = -2.0 * n_out * visits[od] * b_psum
                                    e = nb_bits / word * energy[E_DRAM] + p_buf_bits / word * energy[E_BUFFER]
                                    if timeloop:
                                        e += nb_bits / word * energy[E_BUFFER]
                                    y_e[od] = e
                                    y_buf_bits[od] = p_buf_bits
                                    y_dram_bits[od] = nb_bits
                                    y_min = min(y_min, e)
                                    y_dram_min = min(y_dram_min, nb_bits)
                                lat_lb = compute
                                if spec_f[0] > 0:
                                    lat_lb = max(lat_lb, y_dram_min / spec_f[0])
                                if _bounded_out(x_min + y_min, lat_lb, best, mode):
                                    continue
                                counters[ST_BUF_OPEN] += 1
                                for ob in range(config.N_ORDERS):
                                    for od in range(config.N_ORDERS):
                                        counters[ST_COSTED] += 1
                                        e_total = x_e[ob] + y_e[od]
                                        dram_bits = x_dram_bits[ob] + y_dram_bits[od]
                                        latency = compute
                                        if spec_f[1] > 0:
                                            latency = max(latency, (x_buf_bits[ob] + y_buf_bits[od] + dram_bits)
                                                          / spec_f[1])
                                        if spec_f[0] > 0:
                                            latency = max(latency, dram_bits / spec_f[0])
                                        if mode[MODE_CHECK] > 0:
                                            e_lb = max(max(chk[CHK_E_SP], chk[CHK_E_PE]),
                                                       max(x_lb + y_lb, max(x_min + y_lb, x_min + y_min)))
                                            lat_b = max(max(chk[CHK_LAT_SP], chk[CHK_LAT_PE]),
                                                        max(lat_floor, lat_lb))
                                            _check_bounds(e_total, latency, e_lb, lat_b, counters)
                                        if mode[2] >= 0 and _metric(int(mode[2]), e_total, latency) > mode[3]:
                                            continue
                                        key1 = _metric(int(mode[0]), e_total, latency)
                                        key2 = _metric(int(mode[1]), e_total, latency)
                                        if key1 < best[B_KEY1] or (key1 == best[B_KEY1] and key2 < best[B_KEY2]):
                                            _record(best, best_mapping, key1, key2, e_total, latency, row, pe, buf,
                                                    ob, od)
                    j0 = j1
        i0 = i1


@njit(cache=True, **config.NJIT_FLAGS)
def _search_pe(geom, bits, spec_i, spec_f, energy, row, mode, best, best_mapping, counters, chk):
    """Every legal PE tile of one spatial unrolling + lanes, best bound first (branch and bound). chk (CHK_LEN,)
    holds the spatial bound (check mode); this fills in each tile's bound before it searches the tile."""
    pb = row[SC_PB:SC_PB + 8]
    rows = row[SC_ROWS:SC_ROWS + 8]
    cols = row[SC_COLS:SC_COLS + 8]
    lanes = row[SC_LANES]
    lane_dim = row[SC_LANE_DIM]
    flow = spec_i[SPEC_DATAFLOW]
    allowed = np.ones(8, dtype=np.int64)
    for d in range(8):
        if config.DF_PE_DIMS[flow, d] == 1:
            allowed[d] = row[SC_TRIPS + d]
    table, counts = _divisor_table(allowed)
    idx = np.zeros(8, dtype=np.int64)
    pe = np.ones(8, dtype=np.int64)
    arr = np.empty(8, dtype=np.int64)
    cap = 64
    tiles = np.empty((cap, 8), dtype=np.int64)
    terms = np.empty((cap, PT_LEN), dtype=np.float64)  # each listed tile's `_pe_terms`
    lbs = np.empty(cap, dtype=np.float64)
    lat_lbs = np.empty(cap, dtype=np.float64)  # latency bound of each listed tile (check mode)
    e_lbs = np.empty(cap, dtype=np.float64)  # energy bound of each listed tile (check mode)
    n = 0
    while True:
        for d in range(8):
            pe[d] = table[d, idx[d]]
        pe[lane_dim] *= lanes
        legal = _pe_legal(spec_i, bits, geom, pe, lane_dim, lanes)
        if legal:
            counters[ST_PE] += 1
            if n == cap:
                cap *= 2
                t2 = np.empty((cap, 8), dtype=np.int64)
                t2[:n] = tiles[:n]
                tiles = t2
                p2 = np.empty((cap, PT_LEN), dtype=np.float64)
                p2[:n] = terms[:n]
                terms = p2
                l2 = np.empty(cap, dtype=np.float64)
                l2[:n] = lbs[:n]
                lbs = l2
                l3 = np.empty(cap, dtype=np.float64)
                l3[:n] = lat_lbs[:n]
                lat_lbs = l3
                l4 = np.empty(cap, dtype=np.float64)
                l4[:n] = e_lbs[:n]
                e_lbs = l4
            pt = terms[n]
            _pe_terms(pb, geom, bits, spec_i, energy, rows, cols, pe, lanes, lane_dim, pt)
            for d in range(8):
                arr[d] = rows[d] * cols[d] * pe[d]
            e_lb, lat_lb = _pe_lower_bound(pt, pb, geom, bits, spec_i, spec_f, energy, arr)
            if not _bounded_out(e_lb, lat_lb, best, mode):
                tiles[n] = pe
                lbs[n] = _metric(int(mode[0]), e_lb, lat_lb)
                e_lbs[n] = e_lb
                lat_lbs[n] = lat_lb
                n += 1
        if not _odometer_next(idx, counts, legal):
            break
    order = np.argsort(lbs[:n], kind="mergesort")
    ws_i = np.empty((4, 8), dtype=np.int64)
    ws_f = np.empty((6, config.N_ORDERS), dtype=np.float64)
    dram = np.empty((config.N_ORDERS, 3), dtype=np.int64)
    visits = np.empty(config.N_ORDERS, dtype=np.int64)
    for j in range(n):
        k = order[j]
        if lbs[k] > best[B_KEY1] * (1 + SLACK) and mode[MODE_CHECK] == 0:
            break
        counters[ST_PE_OPEN] += 1
        chk[CHK_E_PE] = e_lbs[k]
        chk[CHK_LAT_PE] = lat_lbs[k]
        _search_buffer(geom, bits, spec_i, spec_f, energy, row, tiles[k], terms[k], mode, best, best_mapping,
                       counters, ws_i, ws_f, dram, visits, chk)


@njit(cache=True, **config.NJIT_FLAGS)
def _branch_and_bound(bounds, geom, bits, spec_i, spec_f, energy, spatial, mode, best, best_mapping, counters):
    """Search the spatial candidates best bound first; stop at the first bound that cannot beat the best."""
    n = spatial.shape[0]
    lbs = np.empty(n, dtype=np.float64)
    bound = np.empty((n, 2), dtype=np.float64)
    for s in range(n):
        e_lb, lat_lb = _spatial_lower_bound(geom, bits, spec_i, energy, spec_f, spatial[s])
        bound[s, 0] = e_lb
        bound[s, 1] = lat_lb
        lbs[s] = _metric(int(mode[0]), e_lb, lat_lb)
        if _bounded_out(e_lb, lat_lb, best, mode):
            lbs[s] = np.inf
    order = np.argsort(lbs, kind="mergesort")
    counters[ST_SPATIAL] += n
    chk = np.zeros(CHK_LEN, dtype=np.float64)
    for j in range(n):
        s = order[j]
        if _bounded_out(bound[s, 0], bound[s, 1], best, mode):
            break  # sorted by the objective's bound: no later one can beat the best either
        counters[ST_SPATIAL_OPEN] += 1
        chk[CHK_E_SP] = bound[s, 0]
        chk[CHK_LAT_SP] = bound[s, 1]
        _search_pe(geom, bits, spec_i, spec_f, energy, spatial[s], mode, best, best_mapping, counters, chk)


@njit(cache=True, **config.NJIT_FLAGS)
def _check_bounds(e_total, latency, e_lb, lat_lb, counters):
    """Check mode: count one costed mapping, and a violation when its energy or latency lies below a bound of a
    subtree that holds it (beyond the relative float slack `SLACK` the search itself allows)."""
    counters[ST_CHECKED] += 1
    if e_total < e_lb * (1 - SLACK) or latency < lat_lb * (1 - SLACK):
        counters[ST_VIOLATIONS] += 1


@njit(cache=True, **config.NJIT_FLAGS)
def _rescue(bounds, geom, bits, spec_i, spec_f, energy, lmax, mode, best, best_mapping, counters):
    """Replace `best` (found in the "fill" space) by the best mapping of the whole ("any") space for the same
    (objective, tie-break) order among those whose tie-break metric is <= best's: a branch and bound with best as
    the incumbent and that metric capped. The result X is Pareto-optimal in (energy, latency) over the whole space:
    a Y dominating X would have objective <= X's and tie-break metric <= X's <= the cap, one of them strictly
    lower (EDP: strictly lower EDP), so Y would come before X in the search's order. Counts ST_RESCUED.

    Only unrollings whose compute cycles can stay within a latency limit L are listed (`_spatial_within`): L is
    best's latency when latency is the objective or the capped metric, else (EDP) best's EDP over an energy floor
    no mapping goes below (MAC energy at the most lanes + compulsory DRAM of the unpadded layer). Every mapping
    of an unrolling has latency >= its compute cycles = trip product x cycles per step, so none of those skipped
    can be within the cap (or, for EDP, beat best's EDP)."""
    b_w, b_a = bits[0], bits[1]
    mode_r = mode.copy()
    mode_r[MODE_CAPPED] = mode[MODE_TIE]
    mode_r[MODE_CAP] = best[B_KEY2]
    if mode_r[MODE_OBJ] == config.OBJ_LATENCY or mode_r[MODE_CAPPED] == config.OBJ_LATENCY:
        lat_limit = best[B_LATENCY]
    else:
        macs = _trips_product(bounds)
        if spec_i[SPEC_PE_TYPE] == config.PE_SIMD:
            e_floor = energy[E_MAC] * macs / lmax
        else:
            e_floor = energy[E_MAC] * macs * b_w * b_a / (spec_i[SPEC_B_MAX] * spec_i[SPEC_B_MAX])
        w_all, i_all, o_all = _tile_elems(bounds, bounds, geom)
        e_floor += _compulsory(w_all, i_all, o_all, bits, spec_i, energy)[1]
        lat_limit = best[B_ENERGY] * best[B_LATENCY] / e_floor
    if mode[MODE_CHECK] > 0:
        lat_limit = np.inf  # check mode: nothing pruned, the limit included
    cyc = 1 if spec_i[SPEC_PE_TYPE] == config.PE_SIMD else b_w * b_a
    spec_any = spec_i.copy()
    spec_any[SPEC_UNROLLING] = config.UNROLL_ANY
    every = _spatial_within(bounds, spec_any, lmax, lat_limit / cyc)
    before = best[B_KEY1]
    before2 = best[B_KEY2]
    _branch_and_bound(bounds, geom, bits, spec_any, spec_f, energy, every, mode_r, best, best_mapping, counters)
    if best[B_KEY1] < before or best[B_KEY2] < before2:
        counters[ST_RESCUED] += 1


@njit(cache=True, **config.NJIT_FLAGS)
def _search_layer(bounds, geom, bits, spec_i, spec_f, energy, objective, tolerance, check, best_mapping, stats):
    """Best mapping of one layer for `objective` (config.OBJ_*) over the whole search space (see `mapper`).

    Energy / latency objectives: pass 1 finds the optimum E* of the objective (exact ties broken by the other
    metric); pass 2 returns, among mappings whose objective is <= E* * (1 + tolerance), the one best in the other
    metric (ties by the objective). EDP: one pass, ties by energy. Fills best_mapping (MAP_LEN,) and stats
    (ST_LEN,); returns a status code. check = 1 turns on the bound check mode (nothing pruned, every costed
    mapping tested against the bounds of its subtrees: ST_CHECKED, ST_VIOLATIONS).

    "fill" space (`unrolling: fill`): each pass searches the filling unrollings (`_filling`) and then `_rescue`s
    its result over every unrolling, so the result is never dominated in both energy and latency by a mapping of
    the "any" space (trip counts alone ignore padded work and DRAM-bound latency, issue 18). When no filling
    unrolling maps the layer, the whole space is searched (fill maps whatever any maps).
    """
    lmax = _max_lanes(spec_i, bits[0], bits[1])
    spatial = _spatial_candidates(bounds, spec_i, lmax)
    fill = spec_i[SPEC_UNROLLING] == config.UNROLL_FILL
    best = np.array([np.inf, np.inf, np.inf, np.inf])
    mode = np.array([float(objective), 0.0, -1.0, 0.0, float(check)])
    mode[MODE_TIE] = config.OBJ_LATENCY if objective == config.OBJ_ENERGY else config.OBJ_ENERGY
    _branch_and_bound(bounds, geom, bits, spec_i, spec_f, energy, spatial, mode, best, best_mapping, stats)
    if best[B_KEY1] == np.inf and fill:
        fill = False  # nothing fills: search every unrolling
        spec_i = spec_i.copy()
        spec_i[SPEC_UNROLLING] = config.UNROLL_ANY
        spatial = _spatial_candidates(bounds, spec_i, lmax)
        _branch_and_bound(bounds, geom, bits, spec_i, spec_f, energy, spatial, mode, best, best_mapping, stats)
    if best[B_KEY1] == np.inf:
        return config.STATUS_NO_MAPPING
    if fill:
        _rescue(bounds, geom, bits, spec_i, spec_f, energy, lmax, mode, best, best_mapping, stats)
    if objective != config.OBJ_EDP and tolerance > 0:
        cap_value = best[B_KEY1] * (1 + tolerance)
        mode2 = np.array([mode[MODE_TIE], float(objective), float(objective), cap_value, float(check)])
        best2 = np.array([best[B_KEY2], best[B_KEY1], best[B_ENERGY], best[B_LATENCY]])
        _branch_and_bound(bounds, geom, bits, spec_i, spec_f, energy, spatial, mode2, best2, best_mapping, stats)
        if fill:
            _rescue(bounds, geom, bits, spec_i, spec_f, energy, lmax, mode2, best2, best_mapping, stats)
    return config.STATUS_OK
