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

# ---- search limits ----
# Spatial unrollings whose PE utilisation is below this fraction of the best unrolling's are not searched
# (they cannot win on latency and, with fewer PEs sharing each fetched word, rarely on energy).
SPATIAL_UTIL_KEEP = 0.5
