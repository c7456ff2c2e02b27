"""Brute-force Fine-mapper oracle: plain Python, every mapping of the documented space, no pruning, no kernels.

Written from the space and cost definitions in `hwmodels.fine.mapper.map_layer` and the `_kernels` module
docstring, not from the kernels' code: spatial and lane factors take EVERY value 1..min(bound left, capacity)
(the mapper tries only the minimal factor per trip count), the "fill" space marks every spatial choice no other
one dominates by pairwise comparison (the mapper sorts and compares with a kept front), PE and buffer factors every
divisor, both loop orders all 6 group orders, and fetch counts come from walking the loop nest literally
(`naive.fetches`). `optimum` picks the mapper's result from the costs: in the "fill" space the best filling mapping,
then the best of the whole space no worse in the tie-break metric (never dominated, `_kernels._rescue`). For small
layers only (seconds for a few thousand mappings).
"""

from __future__ import annotations

import itertools
from functools import lru_cache

import naive

DIMS = "NGMCPQRS"
ORDERS = ("NPQ<M<CRS", "NPQ<CRS<M", "M<NPQ<CRS", "M<CRS<NPQ", "CRS<NPQ<M", "CRS<M<NPQ")  # innermost first
DATAFLOWS = {  # (row primary, row replication dims), (col primary, col replication dims), fold, PE temporal dims
    "RS": (("R", "NGMC"), ("P", "NGMC"), False, "NGMCQS"),
    "WS": ((None, "GC"), (None, "GM"), False, "GMCRS"),
    "OS": (("P", ""), ("Q", "GM"), True, "NGMPQ"),
}
W_DIMS, I_DIMS, O_DIMS, RED_DIMS = "GMCRS", "NGCPQRS", "NGMPQ", "CRS"


def ceil_div(a, b):
    return -(-a // b)


def prod(values):
    out = 1
    for v in values:
        out *= v
    return out


def divisors(n):
    return [d for d in range(1, n + 1) if n % d == 0]


def words(elems, b, b_max):
    if b <= b_max:
        return ceil_div(elems, b_max // b)
    return elems * ceil_div(b, b_max)


def extent(o, k, s, full):
    return min(full, (o - 1) * s + k if k >= s else o * k)


def elems(t, geom):
    sh, sw, h_in, w_in = geom
    w = t["G"] * t["M"] * t["C"] * t["R"] * t["S"]
    i = t["N"] * t["G"] * t["C"] * extent(t["P"], t["R"], sh, h_in) * extent(t["Q"], t["S"], sw, w_in)
    o = t["N"] * t["G"] * t["M"] * t["P"] * t["Q"]
    return w, i, o


@lru_cache(maxsize=None)
def walk_fetches(trips: tuple, order: str, tensor: str) -> int:
    return naive.fetches(dict(zip(DIMS, trips)), order, tensor)


def factor_values(n, lo, hi, minimal):
    """Unrolling factors lo..min(n, hi) of a loop of n iterations; `minimal`: only the smallest factor of each trip
    count ceil(n / f) (a larger one with the same trips only pads more; for full-size arrays, where every factor
    is too many to enumerate in Python)."""
    values = range(lo, min(n, hi) + 1)
    if minimal:
        values = sorted({ceil_div(n, ceil_div(n, f)) for f in values})
    return values


def axis_options(rem, primary, repl, cap, repl_cap=None, minimal=False):
    """(factors dict, rem after, PEs used by the primary) for every unrolling of one array axis."""
    for fp in (factor_values(rem[primary], 1, cap, minimal) if primary else [1]):
        rem1 = dict(rem)
        if primary:
            rem1[primary] = ceil_div(rem[primary], fp)
        base = {primary: fp} if primary else {}
        yield base, rem1, fp
        for x in repl:
            limit = (cap // fp) if repl_cap is None else repl_cap(fp)
            for fx in factor_values(rem1[x], 2, limit, minimal):
                rem2 = dict(rem1)
                rem2[x] = ceil_div(rem1[x], fx)
                yield {**base, x: fx}, rem2, fp


def all_mappings_costs(bounds: dict, geom, bits, spec, minimal=False, vectorised=None):
    """Yield (energy, latency, fills) of every legal mapping of the whole ("any") space; fills: its spatial choice
    is one of the "fill" space (always True with `unrolling: any`). bits = (b_w, b_a, b_out, b_psum).
    `minimal`: spatial and lane factors only the smallest per trip count (`factor_values`); `vectorised` (default:
    as `minimal`): the buffer level in numpy, each PE tile's Pareto front only (`_buffer_level_np`)."""
    vectorised = minimal if vectorised is None else vectorised
    b_w, b_a, b_out, b_psum = bits
    b_max, word = spec.b_max, spec.word_bits
    e = spec.energy
    (rp, rrep), (cp, crep), fold, pe_dims = DATAFLOWS[spec.dataflow]
    simd = spec.pe_type == "simd"
    lmax = b_max // max(b_w, b_a) if simd else spec.lanes
    cap_bits = spec.buffer_size_bits // 2 if spec.double_buffer else spec.buffer_size_bits
    byp_w, byp_i = "weights" in spec.bypass, "inputs" in spec.bypass
    timeloop = spec.accounting == "timeloop"
    spatial = []  # (rows, cols, lane dim, lanes, temporal trips)
    for rows, rem_r, _ in axis_options(bounds, rp, rrep, spec.pe_rows, minimal=minimal):
        rows_used = prod(rows.values())
        if rows_used > spec.pe_rows:
            continue
        col_cap = spec.pe_cols
        for cols, rem_c, fc in axis_options(
                rem_r, cp, crep, col_cap,
                (lambda fc_: (spec.pe_rows // rows_used) * (spec.pe_cols // fc_)) if fold else None, minimal):
            cols_used = prod(cols.values())
            if fold:
                if rows_used * cols_used > spec.pe_rows * spec.pe_cols:
                    continue
            elif cols_used > spec.pe_cols:
                continue
            lane_opts = [("M", 1)] + [(d, L) for d in DIMS for L in factor_values(rem_c[d], 2, lmax, minimal)]
            for ld, lanes in lane_opts:
                t = dict(rem_c)
                t[ld] = ceil_div(rem_c[ld], lanes)
                spatial.append((rows, cols, ld, lanes, t))
    filling = fill_flags(spatial) if spec.unrolling == "fill" else [True] * len(spatial)
    for s, fills in zip(spatial, filling):
        rows, cols, ld, lanes, t = s
        sig = {d: rows.get(d, 1) * cols.get(d, 1) * (lanes if d == ld else 1) for d in DIMS}
        pb = {d: sig[d] * t[d] for d in DIMS}
        for energy, latency in _pe_and_below(pb, t, rows, cols, ld, lanes, geom, bits, spec, pe_dims, simd, b_max,
                                             word, e, cap_bits, byp_w, byp_i, timeloop, vectorised):
            yield energy, latency, fills


def fill_flags(spatial) -> list:
    """`dominates` of every pair (numpy, in chunks): True for the spatial choices no other one dominates."""
    import numpy as np

    trips = np.array([[s[4][d] for d in DIMS] for s in spatial])
    lanes = np.array([s[3] for s in spatial])
    dims = np.array([DIMS.index(s[2]) for s in spatial])
    keep = np.ones(len(spatial), dtype=bool)
    for start in range(0, len(spatial), 64):
        a = np.arange(start, min(start + 64, len(spatial)))
        may = (lanes[None, :] == 1) | ((dims[None, :] == dims[a, None]) & (lanes[None, :] <= lanes[a, None]))
        covers = np.all(trips[None, :, :] <= trips[a, None, :], axis=2)
        strict = np.any(trips[None, :, :] < trips[a, None, :], axis=2)
        keep[a] = ~np.any(may & covers & strict, axis=1)
    return keep.tolist()


def dominates(other, cand) -> bool:
    """The "fill" space (spec.unrolling): `other` uses no lanes, or lanes on `cand`'s lane dim and at most as many,
    and has no more temporal trips than `cand` in any dim and fewer in one."""
    if other[3] > 1 and (other[2] != cand[2] or other[3] > cand[3]):
        return False
    t_o, t_c = other[4], cand[4]
    return all(t_o[d] <= t_c[d] for d in DIMS) and any(t_o[d] < t_c[d] for d in DIMS)


def _pe_and_below(pb, t, rows, cols, ld, lanes, geom, bits, spec, pe_dims, simd, b_max, word, e, cap_bits, byp_w,
                  byp_i, timeloop, vectorised=False):
    b_w, b_a, b_out, b_psum = bits
    s = {d: rows.get(d, 1) * cols.get(d, 1) for d in DIMS}
    n_pe = prod(s.values())
    c_sp = prod(s[d] for d in RED_DIMS)
    macs = prod(pb.values())
    w_all, _, n_out = elems(pb, geom)
    i_all = pb["N"] * pb["G"] * pb["C"] * geom[2] * geom[3]  # every stored input leaves DRAM once
    r_tot = prod(pb[d] for d in RED_DIMS)
    l_red = lanes if ld in RED_DIMS else 1
    l_out = lanes // l_red
    psum_wf = words(l_out, b_psum, b_max) / l_out
    if simd:
        w_rf = i_rf = macs / lanes
        mac_e = e.mac * macs / lanes
        cyc = 1
    else:
        w_rf = macs * b_w / (b_max * (1 if ld in W_DIMS else lanes))
        i_rf = macs * b_a / (b_max * (1 if ld in I_DIMS else lanes))
        mac_e = e.mac * macs * b_w * b_a / b_max ** 2
        cyc = b_w * b_a
    pe_choices = [divisors(t[d]) if d in pe_dims else [1] for d in DIMS]
    for pe_t in itertools.product(*pe_choices):
        pe = {d: pe_t[k] * (lanes if d == ld else 1) for k, d in enumerate(DIMS)}
        pw, pi, po = elems(pe, geom)
        q_l = lanes if ld == "Q" else 1
        window = min(pe["N"] * pe["G"] * pe["C"] * extent(pe["P"], pe["R"], geom[0], geom[2])
                     * extent(q_l, pe["S"], geom[1], geom[3]), pi)
        live = po // (pe["Q"] // q_l)
        if (words(pw, b_w, b_max) > spec.rf_filter_words or words(window, b_a, b_max) > spec.rf_ifmap_words
                or words(live, b_psum, b_max) > spec.rf_psum_words):
            continue
        res_i = words(pi, b_a, b_max) <= spec.rf_ifmap_words
        res_o = words(po, b_psum, b_max) <= spec.rf_psum_words
        arr = {d: s[d] * pe[d] for d in DIMS}
        aw, ai, _ = elems(arr, geom)
        steps = prod(pe_t)
        buf_choices = [divisors(t[d] // pe_t[k]) for k, d in enumerate(DIMS)]
        if vectorised:
            yield from _buffer_level_np(buf_choices, pb, arr, geom, bits, spec, e, cap_bits, byp_w, byp_i, timeloop,
                                        res_i, res_o, n_pe, pw, pi, aw, ai, c_sp, n_out, i_all, r_tot, l_red, psum_wf,
                                        w_rf, i_rf, mac_e, steps * cyc, word, b_max)
            continue
        for buf_t in itertools.product(*buf_choices):
            buf = dict(zip(DIMS, buf_t))
            tile = {d: arr[d] * buf[d] for d in DIMS}
            trips = {d: pb[d] // tile[d] for d in DIMS}
            tw, ti, to = elems(tile, geom)
            complete = trips["C"] == trips["R"] == trips["S"] == 1
            foot = (0 if byp_w else tw * b_w) + (0 if byp_i else ti * b_a) + to * (b_out if complete else b_psum)
            if foot > cap_bits:
                continue
            total_d = prod(trips.values())
            total_b = prod(buf_t)
            compute = total_d * total_b * steps * cyc
            trips_key = tuple(trips[d] for d in DIMS)
            o_tiles = prod(trips[d] for d in O_DIMS)
            red_d = prod(trips[d] for d in RED_DIMS)
            o_tiles_b = prod(buf[d] for d in O_DIMS)
            for ob in ORDERS:
                f_bw = walk_fetches(buf_t, ob, "weights")
                f_bi = walk_fetches(buf_t, ob, "inputs") if res_i else total_b
                f_bo = walk_fetches(buf_t, ob, "outputs") if res_o else total_b
                v = (f_bo // o_tiles_b) * red_d
                w_arr = n_pe * pw * f_bw * total_d
                i_arr = n_pe * pi * f_bi * total_d
                w_buf = 0 if byp_w else aw * f_bw * total_d
                i_buf = 0 if byp_i else ai * f_bi * total_d
                p_arr = n_out * v * (c_sp - 1)
                if timeloop:
                    p_rf = 2 * n_out * r_tot / l_red + n_out * v * c_sp
                else:
                    p_rf = 2 * n_out * (r_tot / l_red - v * c_sp)
                rf = w_rf * e.rf_filter + i_rf * e.rf_ifmap + p_rf * psum_wf * e.rf_psum
                if timeloop:
                    rf += w_arr * b_w / b_max * e.rf_filter + i_arr * b_a / b_max * e.rf_ifmap
                arr_e = (w_arr * b_w + i_arr * b_a + p_arr * b_psum) / word * e.array
                for od in ORDERS:
                    f_dw = walk_fetches(trips_key, od, "weights")
                    f_di = walk_fetches(trips_key, od, "inputs")
                    f_do = walk_fetches(trips_key, od, "outputs")
                    a = f_do // o_tiles
                    dram_w = (aw * f_bw * total_d if byp_w else tw * f_dw) * b_w
                    dram_i = max(ai * f_bi * total_d if byp_i else ti * f_di, i_all) * b_a
                    dram_o = to * (o_tiles * b_out + 2 * (f_do - o_tiles) * b_psum)
                    dram_bits = dram_w + dram_i + dram_o
                    p_buf = 2 * n_out * (v - a)
                    buffer_bits = w_buf * b_w + i_buf * b_a + p_buf * b_psum
                    buf_e = buffer_bits / word * e.buffer
                    if timeloop:
                        buf_e += (dram_o + (0 if byp_w else dram_w) + (0 if byp_i else dram_i)) / word * e.buffer
                    energy = mac_e + rf + arr_e + buf_e + dram_bits / word * e.dram
                    latency = float(compute)
                    if spec.buffer_bw_bits_per_cycle > 0:
                        latency = max(latency, (buffer_bits + dram_bits) / spec.buffer_bw_bits_per_cycle)
                    latency = max(latency, dram_bits / spec.dram_bw_bits_per_cycle)
                    yield energy, latency


def optimum(costs, objective: str, tolerance: float):
    """(energy, latency) the mapper must return from `all_mappings_costs`: objective optimum, ties / tolerance window
    by the other metric. Among the filling mappings when any fills (then: `_rescue`d, below), else among all."""
    every = [(c[0], c[1]) for c in costs]
    filling = [(c[0], c[1]) for c in costs if c[2]]
    rescue = len(filling) < len(every)
    space = filling or every
    key1 = (lambda c: c[0] * c[1]) if objective == "edp" else (lambda c: c[0]) if objective == "energy" else (
        lambda c: c[1])
    key2 = (lambda c: c[1]) if objective == "energy" else (lambda c: c[0])
    best = min(space, key=lambda c: (key1(c), key2(c)))
    if rescue and filling:
        best = _rescued(every, best, key1, key2)
    if objective == "edp" or tolerance <= 0:
        return best
    window = [c for c in space if key1(c) <= key1(best) * (1 + tolerance)] + [best]
    best2 = min(window, key=lambda c: (key2(c), key1(c)))
    if rescue and filling:
        best2 = _rescued(every, best2, key2, key1)
    return best2


def _rescued(every, best, key1, key2):
    """The first of every mapping in (key1, key2) order whose key2 is <= best's (best itself is one of them)."""
    return min((c for c in every if key2(c) <= key2(best)), key=lambda c: (key1(c), key2(c)))


@lru_cache(maxsize=None)
def walk_table(trips: tuple):
    """naive.fetches of (weights, inputs, outputs) for each of the 6 orders: a (6, 3) list of lists."""
    return [[walk_fetches(trips, order, tensor) for tensor in ("weights", "inputs", "outputs")] for order in ORDERS]


def _buffer_level_np(buf_choices, pb, arr, geom, bits, spec, e, cap_bits, byp_w, byp_i, timeloop, res_i, res_o,
                     n_pe, pw, pi, aw, ai, c_sp, n_out, i_all, r_tot, l_red, psum_wf, w_rf, i_rf, mac_e, cycles_per_buf,
                     word, b_max):
    """The buffer-tile x buffer-order x DRAM-order loops of `_pe_and_below` as numpy arrays (the same formulas,
    term by term; fetch counts from the literal walks). For full-size arrays, where the Python loops take minutes.
    Yields only the (energy, latency) Pareto front of the PE tile's mappings: every result `optimum` picks is
    Pareto-optimal within the set it is picked from (a lexicographic minimum, also under a cap on one metric),
    and such a set is a union of PE tiles, so it lies on the front of its PE tile."""
    import numpy as np

    b_w, b_a, b_out, b_psum = bits
    grids = np.meshgrid(*[np.array(c) for c in buf_choices], indexing="ij")
    buf = np.stack([g.ravel() for g in grids], axis=1)  # (n, 8) in DIMS order
    a = np.array([arr[d] for d in DIMS])
    p = np.array([pb[d] for d in DIMS])
    tile = buf * a
    trips = p // tile
    ix = {d: k for k, d in enumerate(DIMS)}

    def ext(o, k, s, full):
        return np.minimum(full, np.where(k >= s, (o - 1) * s + k, o * k))

    def col(x, names):
        return np.prod(x[:, [ix[d] for d in names]], axis=1)

    tw = col(tile, W_DIMS)
    ti = col(tile, "NGC") * ext(tile[:, ix["P"]], tile[:, ix["R"]], geom[0], geom[2]) * ext(
        tile[:, ix["Q"]], tile[:, ix["S"]], geom[1], geom[3])
    to = col(tile, O_DIMS)
    complete = col(trips, RED_DIMS) == 1
    foot = (0 if byp_w else tw * b_w) + (0 if byp_i else ti * b_a) + to * np.where(complete, b_out, b_psum)
    fit = foot <= cap_bits
    buf, trips, tw, ti, to = buf[fit], trips[fit], tw[fit], ti[fit], to[fit]
    if len(buf) == 0:
        return
    total_d = np.prod(trips, axis=1).astype(float)
    total_b = np.prod(buf, axis=1)
    compute = total_d * total_b * cycles_per_buf
    o_tiles = col(trips, O_DIMS)
    red_d = col(trips, RED_DIMS)
    o_tiles_b = col(buf, O_DIMS)
    fb = np.array([walk_table(tuple(int(x) for x in row)) for row in buf])  # (n, 6, 3)
    fd = np.array([walk_table(tuple(int(x) for x in row)) for row in trips])
    f_bw = fb[:, :, 0]
    f_bi = fb[:, :, 1] if res_i else np.repeat(total_b[:, None], 6, axis=1)
    f_bo = fb[:, :, 2] if res_o else np.repeat(total_b[:, None], 6, axis=1)
    td = total_d[:, None]
    v = (f_bo // o_tiles_b[:, None]) * red_d[:, None]  # (n, ob)
    w_arr = n_pe * pw * f_bw * td
    i_arr = n_pe * pi * f_bi * td
    w_buf = 0 if byp_w else aw * f_bw * td
    i_buf = 0 if byp_i else ai * f_bi * td
    p_arr = n_out * v * (c_sp - 1)
    p_rf = 2 * n_out * r_tot / l_red + n_out * v * c_sp if timeloop else 2 * n_out * (r_tot / l_red - v * c_sp)
    rf = w_rf * e.rf_filter + i_rf * e.rf_ifmap + p_rf * psum_wf * e.rf_psum
    if timeloop:
        rf = rf + w_arr * b_w / b_max * e.rf_filter + i_arr * b_a / b_max * e.rf_ifmap
    arr_e = (w_arr * b_w + i_arr * b_a + p_arr * b_psum) / word * e.array
    # DRAM level: (n, od); combine as (n, ob, od)
    f_do = fd[:, :, 2]
    a_vis = f_do // o_tiles[:, None]
    dram_w = (aw * f_bw * td)[:, :, None] * b_w if byp_w else (tw[:, None] * fd[:, :, 0])[:, None, :] * b_w
    if byp_i:
        dram_i = np.maximum((ai * f_bi * td)[:, :, None], i_all) * b_a + np.zeros((1, 1, 6))
    else:
        dram_i = np.maximum(ti[:, None] * fd[:, :, 1], i_all)[:, None, :] * b_a + np.zeros((1, 6, 1))
    dram_o = (to[:, None] * (o_tiles[:, None] * b_out + 2 * (f_do - o_tiles[:, None]) * b_psum))[:, None, :]
    dram_bits = dram_w + dram_i + dram_o
    p_buf = 2 * n_out * (v[:, :, None] - a_vis[:, None, :])
    buffer_bits = (w_buf * b_w + i_buf * b_a)[:, :, None] if not (byp_w and byp_i) else 0
    buffer_bits = buffer_bits + p_buf * b_psum
    buf_e = buffer_bits / word * e.buffer
    if timeloop:
        staged = dram_o + (0 if byp_w else dram_w) + (0 if byp_i else dram_i)
        buf_e = buf_e + staged / word * e.buffer
    energy = mac_e + rf[:, :, None] + arr_e[:, :, None] + buf_e + dram_bits / word * e.dram
    latency = np.broadcast_to(compute[:, None, None], energy.shape).astype(float)
    if spec.buffer_bw_bits_per_cycle > 0:
        latency = np.maximum(latency, (buffer_bits + dram_bits) / spec.buffer_bw_bits_per_cycle)
    latency = np.maximum(latency, dram_bits / spec.dram_bw_bits_per_cycle)
    e_flat, l_flat = energy.ravel(), latency.ravel()
    order = np.lexsort((l_flat, e_flat))  # by energy, then latency
    e_flat, l_flat = e_flat[order], l_flat[order]
    best_before = np.minimum.accumulate(np.concatenate([[np.inf], l_flat[:-1]]))
    front = l_flat < best_before  # the (energy, latency) Pareto front of this PE tile, duplicates once
    yield from zip(e_flat[front].tolist(), l_flat[front].tolist())
