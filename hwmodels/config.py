"""Numba flags, integer codes and search limits shared by the hardware-model kernels (STYLE.md 4.2).

Kernels see only int codes; the Python API mirrors them with `IntEnum`s (see `hwmodels/fine/mapper.py`).
"""

from __future__ import annotations

import numpy as np

# Every @njit in hwmodels takes `cache=True, **NJIT_FLAGS` (no hard-coded fastmath; counts must be exact).
NJIT_FLAGS = {"fastmath": False, "nogil": True}

# ---- loop dimensions (hw-flowq eq. 2 plus batch and groups); index into every (8,) bounds / tile array ----
DIM_N = 0  # batch
DIM_G = 1  # channel groups
DIM_M = 2  # output channels per group (C_o / groups)
DIM_C = 3  # input channels per group (C_i / groups)
DIM_P = 4  # output rows (H_o)
DIM_Q = 5  # output columns (W_o)
DIM_R = 6  # kernel rows (K_h)
DIM_S = 7  # kernel columns (K_w)
N_DIMS = 8
DIM_NAMES = ("N", "G", "M", "C", "P", "Q", "R", "S")

# ---- tensors ----
TENSOR_W = 0
TENSOR_I = 1
TENSOR_O = 2
TENSOR_NAMES = ("weights", "inputs", "outputs")

# ---- loop-order groups ----
# Dims with the same relevance signature are interchangeable in reuse counting, so a loop order is a permutation
# of three groups (G is relevant to every tensor and always outermost):
#   group 0 "NPQ": irrelevant to weights      -> innermost means weights stay resident (weight reuse)
#   group 1 "M":   irrelevant to inputs       -> innermost means inputs stay resident
#   group 2 "CRS": irrelevant to outputs      -> innermost means psums stay resident (output stationary)
GROUP_OF_DIM = np.array([0, -1, 1, 2, 0, 0, 2, 2], dtype=np.int64)
IRRELEVANT_GROUP = np.array([0, 1, 2], dtype=np.int64)  # indexed by tensor code
# The 6 loop orders, each listed innermost group first.
LOOP_ORDERS = np.array([[0, 1, 2], [0, 2, 1], [1, 0, 2], [1, 2, 0], [2, 0, 1], [2, 1, 0]], dtype=np.int64)
N_ORDERS = 6
GROUP_NAMES = ("NPQ", "M", "CRS")

# ---- dataflows / PE types / objectives ----
DATAFLOW_RS = 0
DATAFLOW_WS = 1
DATAFLOW_OS = 2
DATAFLOW_CODES = {"RS": DATAFLOW_RS, "WS": DATAFLOW_WS, "OS": DATAFLOW_OS}
PE_SIMD = 0
PE_BITSERIAL = 1
PE_CODES = {"simd": PE_SIMD, "bitserial": PE_BITSERIAL}
OBJ_ENERGY = 0
OBJ_LATENCY = 1
OBJ_EDP = 2
OBJECTIVE_CODES = {"energy": OBJ_ENERGY, "latency": OBJ_LATENCY, "edp": OBJ_EDP}

# ---- energy levels (columns of the kernels' energy output) ----
LEVEL_MAC = 0
LEVEL_RF = 1
LEVEL_ARRAY = 2
LEVEL_BUFFER = 3
LEVEL_DRAM = 4
N_LEVELS = 5
LEVEL_NAMES = ("mac", "rf", "array", "buffer", "dram")

# ---- kernel status codes ----
STATUS_OK = 0
STATUS_NO_MAPPING = 1

# ---- dataflow table (hw-flowq 6.3.3; Eyeriss ISCA'16 Sec. V) -- a new dataflow is one new row in each array ----
# Per array axis (rows, columns): an optional primary dim (-1 = none) and the replication dims, of which a spatial
# unrolling uses at most one besides the primary. DF_FOLD: the column replication may use every PE left free by
# the primary unrolling (OS replicates whole P x Q blocks over the array). DF_PE_DIMS: the dims a PE may loop over
# temporally (what it keeps stationary). In-PE lanes (SIMD packing / bit-serial lanes) may run along any dim.
#                      RS      WS     OS
DF_ROW_PRIMARY = np.array([DIM_R, -1, DIM_P], dtype=np.int64)
DF_COL_PRIMARY = np.array([DIM_P, -1, DIM_Q], dtype=np.int64)
DF_ROW_REPL = np.array([[1, 1, 1, 1, 0, 0, 0, 0],    # RS: N, G, M, C
                        [0, 1, 0, 1, 0, 0, 0, 0],    # WS: G or C (input channels) along rows
                        [0, 0, 0, 0, 0, 0, 0, 0]],   # OS: P only
                       dtype=np.int64)
DF_COL_REPL = np.array([[1, 1, 1, 1, 0, 0, 0, 0],    # RS: N, G, M, C
                        [0, 1, 1, 0, 0, 0, 0, 0],    # WS: G or M (output channels) along columns
                        [0, 1, 1, 0, 0, 0, 0, 0]],   # OS: G or M replicated over the free PEs
                       dtype=np.int64)
DF_FOLD = np.array([0, 0, 1], dtype=np.int64)
DF_PE_DIMS = np.array([[1, 1, 1, 1, 0, 1, 0, 1],     # RS: 1-D row primitives (S, sliding Q) x N, G, M, C
                       [0, 1, 1, 1, 0, 0, 1, 1],     # WS: weight dims G, M, C, R, S
                       [1, 1, 1, 0, 1, 1, 0, 0]],    # OS: output dims N, G, M, P, Q
                      dtype=np.int64)
# dims whose loops reduce into one output (psum accumulation); lanes along them feed an adder tree
REDUCTION_DIM = np.array([0, 0, 0, 1, 0, 0, 1, 1], dtype=np.int64)
# relevance of each dim to weights / inputs / outputs (inputs depend on P, Q through the sliding window)
RELEVANT = np.array([[0, 1, 1, 1, 0, 0, 1, 1],
                     [1, 1, 0, 1, 1, 1, 1, 1],
                     [1, 1, 1, 0, 1, 1, 0, 0]], dtype=np.int64)

# ---- accounting conventions ----
ACCOUNTING_EYERISS = 0   # a buffer fill is folded into the DRAM access (Eyeriss ISCA'16)
ACCOUNTING_TIMELOOP = 1  # fills and updates are charged at the level written; psums in word_bits words
ACCOUNTING_CODES = {"eyeriss": ACCOUNTING_EYERISS, "timeloop": ACCOUNTING_TIMELOOP}

# ---- spatial unrolling space ----
# "fill": a spatial unrolling x lane choice is kept unless another one (without lanes, or with lanes on the same dim
# and at most as many) has no more temporal trips in any dim and fewer in one: the dataflow fills the array, as
# ZigZag's spatial mapping and hw-flowq 6.3.3 ("WS unrolls C_o x C_i over the PE array") define it; lanes may still
# take part of a dim, so the 3.3.1 trade of fewer PEs for more lanes stays in the space (`_kernels._filling`). "any": every factor down to 1 (Timeloop's unconstrained spatial map-space),
# where the normalised cost tables, which charge nothing for idle PEs, favour running a layer on a few PEs.
UNROLL_FILL = 0
UNROLL_ANY = 1
UNROLLING_CODES = {"fill": UNROLL_FILL, "any": UNROLL_ANY}

# ---- objective tie-break ----
# The energy objective returns, among mappings within this relative tolerance of the best energy, the one with the
# lowest latency; the latency objective the reverse (EDP: exact ties only, broken by energy).
TIE_TOLERANCE = 0.005
