"""Flat-array layouts the Fine kernels and their Python API share, and a `Layer`'s loop bounds.

Pure Python (no numba): the API can build and read kernel arrays, and describe mappings, without importing the
kernels, so a process whose layer results all come from the persistent store never starts numba.
"""

from __future__ import annotations

import numpy as np

# ---- spec_i indices ----
SPEC_ROWS, SPEC_COLS, SPEC_PE_TYPE, SPEC_B_MAX, SPEC_LANES, SPEC_DATAFLOW = 0, 1, 2, 3, 4, 5
SPEC_RF_FILTER, SPEC_RF_IFMAP, SPEC_RF_PSUM, SPEC_BUFFER_BITS, SPEC_WORD_BITS = 6, 7, 8, 9, 10
SPEC_BYPASS_W, SPEC_BYPASS_I, SPEC_ACCOUNTING, SPEC_UNROLLING = 11, 12, 13, 14
SPEC_LEN = 15
# ---- energy indices ----
E_MAC, E_RF_FILTER, E_RF_IFMAP, E_RF_PSUM, E_ARRAY, E_BUFFER, E_DRAM = 0, 1, 2, 3, 4, 5, 6
# ---- mapping offsets ----
MAP_ROWS = 0        # (8,) spatial factors along PE rows
MAP_COLS = 8        # (8,) spatial factors along PE columns (OS: replication folded onto free PEs)
MAP_PE = 16         # (8,) PE tile (lanes included)
MAP_LANE_DIM = 24   # dim the in-PE lanes run along
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
# ---- search counters ----
ST_SPATIAL, ST_SPATIAL_OPEN, ST_PE, ST_PE_OPEN, ST_BUF, ST_BUF_OPEN, ST_COSTED = 0, 1, 2, 3, 4, 5, 6
ST_CHECKED, ST_VIOLATIONS = 7, 8  # bound check mode: mappings costed against their bounds, bounds above the cost
ST_RESCUED = 9  # "fill" searches whose result a mapping outside the fill space dominated (`_kernels._search_layer`)
ST_LEN = 10


def layer_bounds(layer) -> np.ndarray:
    """The (8,) int64 loop bounds [N, G, M, C, P, Q, R, S] of a `Layer`."""
    return np.array([layer.n, layer.groups, layer.c_out // layer.groups, layer.c_in // layer.groups,
                     layer.h_out, layer.w_out, layer.k_h, layer.k_w], dtype=np.int64)


def layer_geometry(layer) -> np.ndarray:
    """The (4,) int64 input geometry [stride_h, stride_w, h_in, w_in] of a `Layer` (h_in, w_in unpadded)."""
    return np.array([layer.stride, layer.stride, layer.h_in, layer.w_in], dtype=np.int64)
