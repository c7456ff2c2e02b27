"""Numba kernels of the ReRAM model: bwq Algorithm 2 OU counting over a block-precision table."""

from __future__ import annotations

import numpy as np
from numba import njit

from hwmodels import config


@njit(cache=True, **config.NJIT_FLAGS)
def _bwq_counts(table, out):
    """OU activations and allocated OUs of one layer under bwq's precision-aware mapping (Algorithm 2).

    Args:
        table: int64 (n_hblock, n_vblock), weight-block precisions in bits (0 = block pruned): block (i, j) holds
            output columns [i * OU_Width, ...) and reduction rows [j * OU_Height, ...).
        out: int64 (3,), filled with [OU activations per input slice and output position (= cycles: one OU per
            cycle, spare OUs skipped), OUs allocated on the crossbar (per H-block row of OUs as wide as its
            widest block, times the V-blocks), spare OUs].
    """
    n_h, n_v = table.shape
    active = 0
    allocated = 0
    for i in range(n_h):
        widest = 0
        for j in range(n_v):
            precision = table[i, j]
            if precision != 0:
                active += precision  # one OU per bit plane, Col_Start_Idx advances by OU_Width per plane
                if precision > widest:
                    widest = precision
        allocated += widest * n_v
    out[0] = active
    out[1] = allocated
    out[2] = allocated - active


@njit(cache=True, **config.NJIT_FLAGS)
def _block_precisions(magnitude, ou_rows, ou_cols, table):
    """bwq-A precision adjustment: a block's precision is the bit length of its largest |weight code|
    (leading bit planes that are zero for every weight of the block are dropped).

    Args:
        magnitude: int64 (c_out, reduction), |integer weight codes|.
        ou_rows, ou_cols: OU height (reduction rows) and width (output columns).
        table: int64 (ceil(c_out / ou_cols), ceil(reduction / ou_rows)), filled with precisions in bits.
    """
    c_out, reduction = magnitude.shape
    for i in range(table.shape[0]):
        for j in range(table.shape[1]):
            largest = 0
            for m in range(i * ou_cols, min((i + 1) * ou_cols, c_out)):
                for r in range(j * ou_rows, min((j + 1) * ou_rows, reduction)):
                    if magnitude[m, r] > largest:
                        largest = magnitude[m, r]
            bits = 0
            while largest > 0:
                bits += 1
                largest >>= 1
            table[i, j] = bits


def bwq_counts(table: np.ndarray) -> np.ndarray:
    """Typed wrapper of `_bwq_counts` (returns int64 (3,))."""
    out = np.zeros(3, dtype=np.int64)
    _bwq_counts(np.ascontiguousarray(table, dtype=np.int64), out)
    return out


def block_precisions(magnitude: np.ndarray, ou_rows: int, ou_cols: int) -> np.ndarray:
    """Typed wrapper of `_block_precisions`."""
    magnitude = np.ascontiguousarray(magnitude, dtype=np.int64)
    c_out, reduction = magnitude.shape
    table = np.zeros((-(-c_out // ou_cols), -(-reduction // ou_rows)), dtype=np.int64)
    _block_precisions(magnitude, int(ou_rows), int(ou_cols), table)
    return table
