"""Silicon area of a spatial accelerator spec: PE array (MACs, lanes, register files) plus the global buffer.

The model counts components and multiplies by per-unit areas; it depends only on the spec (never on the
workload or the bitwidths), so it is cheap and hashable-cacheable. Areas are in mm^2 at 40 nm.

Default per-unit areas (`AreaTable`), all at 40 nm, from the Aladdin tables (Shao et al., ISCA 2014) as packaged
in Accelergy's component library (hwcomponents-library, `AladdinMultiplier`, `AladdinAdder`, `AladdinRegister`):
    multiplier 32 x 32 bit      6350 um^2    (scaled by width_a * width_b / 32**2: a partial-product array)
    adder 32 bit                 278 um^2    (scaled linearly in width)
    register, per bit           5.98 um^2    (register-file storage: filter / ifmap / psum RFs)
and, for the global-buffer SRAM, the on-chip buffer density of ISAAC (Shafiee et al., ISCA 2016, Table 1:
64 KB in 0.083 mm^2 at 32 nm, the `IsaacEDRAM` entry of the same library), scaled to 40 nm by (40/32)^2:
    0.083e6 um^2 / (64 * 1024 * 8 bit) * (40 / 32)**2 = 0.24736 um^2 per bit
(within 2 % of a 40 nm high-density 6T SRAM cell, so it stands in for SRAM here).

Component counts per PE (hw-flowq 3.3 PE types):
    SIMD PE (eq. 3)        one b_max x b_max multiplier (packing V operands reuses it) + one 2*b_max-bit adder
    bit-serial PE (eq. 4)  `lanes` x (one 1 x b_max partial-product row + one 2*b_max-bit shift-adder)
    RFs                    (rf_filter_words + rf_ifmap_words + rf_psum_words) * b_max bits of registers
Global buffer: buffer_size_bits of SRAM. DRAM and the NoC are off the accounted area.

Worked example (spatial-168, hand-derived): MAC 6350/4 + 278 = 1865.5 um^2; RF 252 * 16 * 5.98 = 24111.36 um^2;
PE array 168 * 25976.86 um^2 = 4.3641 mm^2; buffer 1048576 * 0.24736 um^2 = 0.2594 mm^2; total 4.6235 mm^2.
"""

from __future__ import annotations

from dataclasses import dataclass, fields

from hwmodels.errors import SpecError

ISAAC_BUFFER_UM2 = 0.083e6  # 64 KB on-chip buffer at 32 nm (ISAAC Table 1)
ISAAC_BUFFER_BITS = 64 * 1024 * 8


@dataclass(frozen=True)
class AreaTable:
    """Per-unit areas in um^2 (defaults: 40 nm, sources in the module docstring).

    Attributes:
        multiplier_32x32: one 32 x 32-bit integer multiplier; scaled by (w_a * w_b) / 32**2.
        adder_32: one 32-bit adder; scaled by width / 32.
        register_bit: one bit of register-file storage.
        sram_bit: one bit of global-buffer SRAM (array plus periphery).
    """

    multiplier_32x32: float = 6350.0
    adder_32: float = 278.0
    register_bit: float = 5.98
    sram_bit: float = ISAAC_BUFFER_UM2 / ISAAC_BUFFER_BITS * (40.0 / 32.0) ** 2

    def __post_init__(self):
        for f in fields(self):
            value = getattr(self, f.name)
            if not isinstance(value, (int, float)) or isinstance(value, bool) or not value > 0:
                raise SpecError(f"area.{f.name}: {value!r} must be a positive number of um^2")
            object.__setattr__(self, f.name, float(value))

    @classmethod
    def from_dict(cls, data: dict | None, path: str = "area") -> "AreaTable":
        """An `AreaTable` from a YAML mapping (missing keys keep their defaults); unknown keys raise `SpecError`."""
        data = dict(data or {})
        known = [f.name for f in fields(cls)]
        unknown = [key for key in data if key not in known]
        if unknown:
            raise SpecError(f"{path}.{unknown[0]}: unknown key; recognised keys: {', '.join(known)}")
        return cls(**data)


DEFAULT_AREAS = AreaTable()


def _multiplier(table: AreaTable, width_a: int, width_b: int) -> float:
    return table.multiplier_32x32 * width_a * width_b / 32.0 ** 2


def _adder(table: AreaTable, width: int) -> float:
    return table.adder_32 * width / 32.0


def area_breakdown(spec, table: AreaTable = DEFAULT_AREAS) -> dict:
    """Area of `spec` by component, in mm^2.

    Args:
        spec: an `AcceleratorSpec`.
        table: per-unit areas (um^2).

    Returns:
        {"mac", "rf", "pe_array", "buffer", "total"} in mm^2; "mac" and "rf" are whole-array sums.
    """
    b = spec.b_max
    if spec.pe_type == "bitserial":
        mac_um2 = spec.lanes * (_multiplier(table, 1, b) + _adder(table, 2 * b))
    else:
        mac_um2 = _multiplier(table, b, b) + _adder(table, 2 * b)
    rf_bits = (spec.rf_filter_words + spec.rf_ifmap_words + spec.rf_psum_words) * b
    rf_um2 = rf_bits * table.register_bit
    n = spec.pe_rows * spec.pe_cols
    mac, rf = n * mac_um2 * 1e-6, n * rf_um2 * 1e-6
    buffer = spec.buffer_size_bits * table.sram_bit * 1e-6
    return {"mac": mac, "rf": rf, "pe_array": mac + rf, "buffer": buffer, "total": mac + rf + buffer}


def area_mm2(spec, table: AreaTable = DEFAULT_AREAS) -> float:
    """Total area of `spec` in mm^2 (PE array + global buffer; see `area_breakdown`)."""
    return area_breakdown(spec, table)["total"]
