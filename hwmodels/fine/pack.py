"""Build the flat int64 / float64 arrays the Fine kernels take from `Layer` and `AcceleratorSpec` objects."""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from hwmodels import config
from hwmodels.fine import _kernels as K
from hwmodels.fine._tiling import _psum_bits, psum_cap
from hwmodels.fine.layout import layer_bounds, layer_geometry


class LayerArrays(NamedTuple):
    """One layer at one bitwidth assignment.

    Attributes:
        bounds: (8,) int64 loop bounds [N, G, M, C, P, Q, R, S].
        geom: (4,) int64 [stride_h, stride_w, h_in, w_in].
        bits: (4,) int64 [b_w, b_a, b_out, b_psum] in bits.
    """

    bounds: np.ndarray
    geom: np.ndarray
    bits: np.ndarray


class SpecArrays(NamedTuple):
    """One accelerator: spec_i (SPEC_LEN,) int64, spec_f (2,) float64 bandwidths, energy (7,) float64 per word."""

    spec_i: np.ndarray
    spec_f: np.ndarray
    energy: np.ndarray


def pack_layer(layer, b_w: int, b_a: int, b_out: int, spec) -> LayerArrays:
    """Arrays for `layer` with weights at b_w, inputs at b_a, outputs at b_out bits (psum width derived)."""
    b_psum = int(_psum_bits(int(b_w), int(b_a), layer.reduction_size, psum_cap(spec)))
    bits = np.array([b_w, b_a, b_out, b_psum], dtype=np.int64)
    return LayerArrays(layer_bounds(layer), layer_geometry(layer), bits)


def pack_spec(spec) -> SpecArrays:
    """Arrays for an `AcceleratorSpec` (RF sizes stay in words of b_max bits; buffer in bits, halved when double
    buffered: the other half holds the next tile)."""
    spec_i = np.zeros(K.SPEC_LEN, dtype=np.int64)
    spec_i[K.SPEC_ROWS] = spec.pe_rows
    spec_i[K.SPEC_COLS] = spec.pe_cols
    spec_i[K.SPEC_PE_TYPE] = config.PE_CODES[spec.pe_type]
    spec_i[K.SPEC_B_MAX] = spec.b_max
    spec_i[K.SPEC_LANES] = spec.lanes
    spec_i[K.SPEC_DATAFLOW] = config.DATAFLOW_CODES[spec.dataflow]
    spec_i[K.SPEC_RF_FILTER] = spec.rf_filter_words
    spec_i[K.SPEC_RF_IFMAP] = spec.rf_ifmap_words
    spec_i[K.SPEC_RF_PSUM] = spec.rf_psum_words
    spec_i[K.SPEC_BUFFER_BITS] = spec.buffer_size_bits // 2 if spec.double_buffer else spec.buffer_size_bits
    spec_i[K.SPEC_WORD_BITS] = spec.word_bits
    spec_i[K.SPEC_BYPASS_W] = int(spec.bypasses("weights"))
    spec_i[K.SPEC_BYPASS_I] = int(spec.bypasses("inputs"))
    spec_i[K.SPEC_ACCOUNTING] = config.ACCOUNTING_CODES[spec.accounting]
    spec_i[K.SPEC_UNROLLING] = config.UNROLLING_CODES[spec.unrolling]
    spec_f = np.array([spec.dram_bw_bits_per_cycle, spec.buffer_bw_bits_per_cycle], dtype=np.float64)
    e = spec.energy
    energy = np.array([e.mac, e.rf_filter, e.rf_ifmap, e.rf_psum, e.array, e.buffer, e.dram], dtype=np.float64)
    return SpecArrays(spec_i, spec_f, energy)
