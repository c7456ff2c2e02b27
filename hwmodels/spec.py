"""Accelerator specification: frozen dataclasses (the schema) and YAML loading with validation.

A spec describes a spatial accelerator (hw-flowq Table 1): a PE array of `pe_rows x pe_cols` PEs, each with
three register files (filter / ifmap / psum, sized in words of `b_max` bits), a global buffer, DRAM, the
dataflow, the PE type (SIMD-vectorised or bit-serial) and the per-access energies.

Units: sizes in bits unless the field name says otherwise; bandwidths in bits per cycle; energies per access
of one `word_bits`-bit word (normalised to one 16-bit MAC, or pJ when `energy.unit == "pJ"`).
The loader (`load_spec`) is filled in by the spec module's loader section below.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

DATAFLOWS = ("RS", "WS", "OS")
PE_TYPES = ("simd", "bitserial")
ENERGY_UNITS = ("normalised", "pJ")


@dataclass(frozen=True)
class EnergyTable:
    """Energy per access of one word (`word_bits` bits) at each level, and per full-width MAC.

    Attributes:
        mac: energy of one b_max x b_max MAC (a SIMD MAC of V packed operands costs the same; a bit-serial
            lane-cycle costs mac / b_max**2).
        rf_filter, rf_ifmap, rf_psum: register-file access energies (Eyeriss: all 1).
        array: one inter-PE (NoC) transfer of a word.
        buffer: one global-buffer access of a word.
        dram: one DRAM access of a word.
        unit: "normalised" (to one 16-bit MAC) or "pJ".
    """

    mac: float = 1.0
    rf_filter: float = 1.0
    rf_ifmap: float = 1.0
    rf_psum: float = 1.0
    array: float = 2.0
    buffer: float = 6.0
    dram: float = 200.0
    unit: str = "normalised"


@dataclass(frozen=True)
class AcceleratorSpec:
    """One accelerator design. Hashable (frozen), so it can key memo tables.

    Attributes:
        name: preset or user name.
        pe_rows, pe_cols: PE array geometry.
        pe_type: "simd" (vectorised, hw-flowq eq. 3) or "bitserial" (eq. 4).
        b_max: SIMD / RF word width in bits (16 in every Table-1 preset).
        lanes: independent bit-serial lanes per PE (1 for SIMD).
        bitwidths: bitwidths the PE supports, ascending (genome alleles).
        dataflow: "RS" (row stationary), "WS" (weight stationary) or "OS" (output stationary).
        rf_filter_words, rf_ifmap_words, rf_psum_words: RF capacities in words of b_max bits.
        buffer_size_bits: global buffer capacity in bits.
        word_bits: width of one buffer / DRAM word in bits (the unit access energies are quoted for).
        dram_bw_bits_per_cycle: off-chip bandwidth in bits per cycle.
        buffer_bw_bits_per_cycle: global-buffer bandwidth in bits per cycle (0 = unlimited).
        energy: per-access energies.
        version: spec file format version.
    """

    name: str
    pe_rows: int
    pe_cols: int
    pe_type: str = "simd"
    b_max: int = 16
    lanes: int = 1
    bitwidths: tuple = (2, 4, 6, 8, 16)
    dataflow: str = "RS"
    rf_filter_words: int = 224
    rf_ifmap_words: int = 12
    rf_psum_words: int = 16
    buffer_size_bits: int = 128 * 1024 * 8
    word_bits: int = 16
    dram_bw_bits_per_cycle: float = 64.0
    buffer_bw_bits_per_cycle: float = 0.0
    energy: EnergyTable = field(default_factory=EnergyTable)
    version: int = 1

    @property
    def n_pes(self) -> int:
        """Number of PEs in the array."""
        return self.pe_rows * self.pe_cols

    def with_dataflow(self, dataflow: str) -> "AcceleratorSpec":
        """The same hardware running another dataflow (validated)."""
        return validate_spec(replace(self, dataflow=str(dataflow).upper()))

    def with_buffer_bits(self, buffer_size_bits: int) -> "AcceleratorSpec":
        """The same hardware with another global-buffer capacity (bits)."""
        return validate_spec(replace(self, buffer_size_bits=int(buffer_size_bits)))

    def with_dram_bandwidth(self, bits_per_cycle: float) -> "AcceleratorSpec":
        """The same hardware with another off-chip bandwidth (bits per cycle)."""
        return validate_spec(replace(self, dram_bw_bits_per_cycle=float(bits_per_cycle)))


def validate_spec(spec: AcceleratorSpec) -> AcceleratorSpec:
    """Cross-field checks; raises `SpecError` listing every problem. Returns the spec unchanged.

    (Placeholder until the loader section implements the full rule set.)
    """
    return spec
