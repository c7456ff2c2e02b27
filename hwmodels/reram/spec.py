"""ReRAM crossbar accelerator spec: frozen dataclasses (the schema), ADC laws and YAML loading with validation.

A `ReRAMSpec` describes a processing-in-memory accelerator built from `xbar_rows x xbar_cols` crossbars
(benq III-C2, bwq II-IV, psum 2): `bits_per_cell` weight bits per cell (weights are bit-sliced over
ceil(b_W / bits_per_cell) columns, conventional im2col mapping as in DNN+NeuroSim), inputs streamed in
ceil(b_A / dac_bits) slices, an operation unit (OU) of `ou_rows x ou_cols` cells switched on per cycle,
`adcs_per_xbar` ADCs per crossbar (columns of an OU beyond that are converted one after another), crossbars
grouped into PEs and tiles, and per-event energies. The ADC's energy and latency per conversion follow a named
law of its resolution r, quoted at `adc_ref_bits`:

    linear  energy and latency proportional to r (psum 2.3's conservative assumption; PUMA fork: 12.5 ns/bit)
    sar     latency (r + 1) cycles, energy (r + 1)(0.538 r + 4.375) (DNN+NeuroSim SarADC.cpp: power
            (0.538 r + 4.375) uW per column times (r + 1) ns), about quadratic
    flash   energy 2^r - 1 comparators, latency constant (NeuroSim multilevel sense amp)
    table   `adc_table` rows [bits, energy, cycles]; a resolution between rows uses the next row above
            (an r-bit conversion runs on the smallest tabulated ADC with >= r bits), e.g. MNSIM 2.0's entries

Units: energies per event in `energy.unit` ("pJ" or "normalised"), latencies in cycles of `clock_ghz`.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from hwmodels.errors import SpecError
from hwmodels.spec import SUPPORTED_VERSIONS, _coerce, _is_int

ADC_LAWS = ("linear", "sar", "flash", "table")
TILE_FORMULAS = ("benq", "neurosim")
MAPPINGS = ("im2col",)
ENERGY_UNITS = ("pJ", "normalised")
PRESET_DIR = Path(__file__).resolve().parents[1] / "presets"
RERAM_PRESETS = ("reram-neurosim", "reram-benq", "reram-bwq", "reram-puma")
#: keys a ReRAM spec file must give (geometry and per-event energies): without them a file would load with the
#: defaults, i.e. zero energies and an ADC share of 100 %.
REQUIRED_FILE_KEYS = ("xbar_rows", "xbar_cols", "bits_per_cell", "dac_bits", "xbars_per_pe", "pes_per_tile",
                      "adc_law", "energy")
REQUIRED_ENERGY_KEYS = ("unit", "adc", "dac", "crossbar")
# DNN+NeuroSim SarADC.cpp: power per column (0.538 r + 4.375) uW (22 nm LP)
_SAR_SLOPE, _SAR_OFFSET = 0.538, 4.375


@dataclass(frozen=True)
class ReRAMEnergy:
    """Energy per event.

    Attributes:
        adc: one ADC conversion at `adc_ref_bits` (the ADC law scales it to r bits).
        dac: one wordline driven with one input slice for one OU / crossbar activation.
        crossbar: one cell read (a cell of an active row and an active column).
        shift_add: one shift-and-add of an ADC output into its accumulator (one per conversion).
        buffer: one bit moved between the activation buffer and the crossbars' input / output registers.
        buffer_per_ou: buffer energy per OU activation (bwq Table I quotes buffer power at full activity, i.e.
            per bank cycle).
        control: controller / registers per OU activation (bwq Table I "memory controller" + "other digital").
        inter_tile: one partial-sum bit sent to merge the outputs of crossbars that split a layer's rows.
        unit: "pJ" or "normalised".
    """

    adc: float = 1.0
    dac: float = 0.0
    crossbar: float = 0.0
    shift_add: float = 0.0
    buffer: float = 0.0
    buffer_per_ou: float = 0.0
    control: float = 0.0
    inter_tile: float = 0.0
    unit: str = "pJ"


@dataclass(frozen=True)
class ReRAMSpec:
    """One ReRAM crossbar accelerator. Hashable (frozen).

    Attributes:
        name: preset or user name.
        xbar_rows, xbar_cols: crossbar size R_row x R_col (cells).
        bits_per_cell: P_cell, weight bits stored per cell.
        dac_bits: input bits applied per slice (1 = bit-serial inputs).
        ou_rows, ou_cols: operation unit (wordlines x bitlines on per cycle); 0 = the whole crossbar dimension.
        adcs_per_xbar: ADCs per crossbar; 0 = one per OU column. An OU activation with c active columns takes
            ceil(c / adcs_per_xbar) conversion steps.
        xbars_per_pe, pes_per_tile: N_Array and N_PE of benq eq. 3.
        max_tiles: tiles on the chip (0 = unlimited); a genome needing more reports `tiles_over_limit` > 0.
        tile_formula: "benq" (eq. 3) or "neurosim" (DNN+NeuroSim per-dimension form); see `tile_counts`.
        mapping: "im2col" (conventional mapping: a weight's bit slices in adjacent columns).
        adc_law: "linear", "sar", "flash" or "table" (module docstring).
        adc_bits: default ADC resolution; 0 = lossless for one OU (`lossless_adc_bits`), capped at adc_bits_max.
        adc_bits_min, adc_bits_max: resolutions the hardware offers (psum Table 2: 1..8).
        adc_ref_bits: resolution `energy.adc` and `adc_cycles` are quoted at.
        adc_cycles: cycles of one conversion at `adc_ref_bits`.
        adc_table: rows (bits, energy, cycles) for the "table" law, ascending bits.
        xbar_read_cycles: cycles of one OU / crossbar read; it overlaps the conversions of the previous read,
            so an activation takes max(read, conversions) cycles.
        psum_bits: width of a partial sum sent between crossbars (inter_tile traffic).
        bitwidths: weight / activation bitwidths the search may use (genome alleles).
        b_max: the full bitwidth (baseline of normalised objectives).
        clock_ghz: clock frequency (cycles -> seconds).
        energy: per-event energies.
        version: spec file format version.
    """

    name: str
    xbar_rows: int = 128
    xbar_cols: int = 128
    bits_per_cell: int = 1
    dac_bits: int = 1
    ou_rows: int = 0
    ou_cols: int = 0
    adcs_per_xbar: int = 0
    xbars_per_pe: int = 4
    pes_per_tile: int = 4
    max_tiles: int = 0
    tile_formula: str = "benq"
    mapping: str = "im2col"
    adc_law: str = "sar"
    adc_bits: int = 0
    adc_bits_min: int = 1
    adc_bits_max: int = 8
    adc_ref_bits: int = 8
    adc_cycles: float = 1.0
    adc_table: tuple = ()
    xbar_read_cycles: float = 0.0
    psum_bits: int = 16
    bitwidths: tuple = (1, 2, 3, 4, 5, 6, 7, 8)
    b_max: int = 8
    clock_ghz: float = 1.0
    energy: ReRAMEnergy = field(default_factory=ReRAMEnergy)
    version: int = 1

    # ---- derived geometry ------------------------------------------------------------------------------
    @property
    def ou_rows_eff(self) -> int:
        """Wordlines on per activation (the crossbar's rows when `ou_rows` is 0)."""
        return min(self.ou_rows or self.xbar_rows, self.xbar_rows)

    @property
    def ou_cols_eff(self) -> int:
        """Bitlines on per activation (the crossbar's columns when `ou_cols` is 0)."""
        return min(self.ou_cols or self.xbar_cols, self.xbar_cols)

    @property
    def adcs(self) -> int:
        """ADCs per crossbar (one per OU column when `adcs_per_xbar` is 0)."""
        return self.adcs_per_xbar or self.ou_cols_eff

    @property
    def xbars_per_tile(self) -> int:
        """N_Array * N_PE."""
        return self.xbars_per_pe * self.pes_per_tile

    @property
    def dataflow(self) -> str:
        """The mapping, under the name the digital levels use for their dataflow (run configs print it)."""
        return self.mapping

    @property
    def lossless_adc_bits(self) -> int:
        """Resolution that converts every partial sum of one OU exactly:
        r = ceil(log2(ou_rows * (2^dac_bits - 1) * (2^bits_per_cell - 1) + 1)) (largest psum + the zero level)."""
        largest = self.ou_rows_eff * (2 ** self.dac_bits - 1) * (2 ** self.bits_per_cell - 1)
        return int(math.ceil(math.log2(largest + 1)))

    @property
    def default_adc_bits(self) -> int:
        """`adc_bits`, or the lossless resolution capped at `adc_bits_max` when `adc_bits` is 0."""
        if self.adc_bits:
            return self.adc_bits
        return max(self.adc_bits_min, min(self.lossless_adc_bits, self.adc_bits_max))

    @property
    def adc_range(self) -> tuple:
        """Resolutions the ADC offers, ascending."""
        return tuple(range(self.adc_bits_min, self.adc_bits_max + 1))

    # ---- ADC law -----------------------------------------------------------------------------------------
    def adc_energy(self, r):
        """Energy of one r-bit conversion (array-friendly), in `energy.unit`."""
        return self.energy.adc * _law(self, r, "energy")

    def adc_latency(self, r):
        """Cycles of one r-bit conversion (array-friendly)."""
        return self.adc_cycles * _law(self, r, "cycles")

    def with_(self, **changes) -> "ReRAMSpec":
        """The same spec with fields replaced (validated)."""
        return validate_reram_spec(dataclasses.replace(self, **changes))


def _law(spec: ReRAMSpec, r, what: str):
    """Scale factor of an r-bit conversion relative to one at `adc_ref_bits` (table: absolute ratio to ref row)."""
    import numpy as np

    r = np.asarray(r, dtype=np.float64)
    r0 = float(spec.adc_ref_bits)
    law = spec.adc_law
    if law == "linear":
        return r / r0
    if law == "sar":
        if what == "cycles":
            return (r + 1) / (r0 + 1)
        return (r + 1) * (_SAR_SLOPE * r + _SAR_OFFSET) / ((r0 + 1) * (_SAR_SLOPE * r0 + _SAR_OFFSET))
    if law == "flash":
        return (2 ** r - 1) / (2 ** r0 - 1) if what == "energy" else np.ones_like(r)
    table = np.asarray(spec.adc_table, dtype=np.float64)
    column = 1 if what == "energy" else 2
    index = np.searchsorted(table[:, 0], r, side="left")
    if np.any(index >= len(table)):
        raise SpecError(f"{spec.name}.adc_table: no ADC with >= {float(np.max(r)):g} bits; rows: "
                        f"{[int(b) for b in table[:, 0]]}")
    ref = table[np.searchsorted(table[:, 0], r0, side="left"), column]
    return table[index, column] / ref


# ---- loader ---------------------------------------------------------------------------------------------------

_TYPE_WORDS = {"int": "an integer", "float": "a number", "str": "a string", "tuple": "a list",
               "ReRAMEnergy": "a mapping"}


def _fields(cls) -> dict:
    out = {}
    for f in dataclasses.fields(cls):
        if f.default is not dataclasses.MISSING:
            default = f.default
        elif f.default_factory is not dataclasses.MISSING:
            default = f.default_factory()
        else:
            default = None
        out[f.name] = (str(f.type), default, f.default is dataclasses.MISSING and
                       f.default_factory is dataclasses.MISSING)
    return out


def _typed(data, cls, path: str, problems: list) -> dict:
    if not isinstance(data, dict):
        problems.append(f"{path}: {data!r} is not a mapping; expected keys: {', '.join(_fields(cls))}")
        return {}
    schema = _fields(cls)
    for key in data:
        if key not in schema:
            problems.append(f"{path}.{key}: unknown key; recognised keys: {', '.join(schema)}")
    values = {}
    for key, (annotation, default, required) in schema.items():
        if key not in data:
            if required:
                problems.append(f"{path}.{key}: missing required key ({_TYPE_WORDS[annotation]})")
            else:
                values[key] = default
            continue
        value = data[key]
        if annotation == "ReRAMEnergy":
            values[key] = ReRAMEnergy(**_typed(value, ReRAMEnergy, f"{path}.{key}", problems))
            continue
        if key == "adc_table":
            rows = value if isinstance(value, (list, tuple)) else None
            ok = rows is not None and all(isinstance(row, (list, tuple)) and len(row) == 3 and
                                          all(_is_int(v) or isinstance(v, float) for v in row) for row in rows)
            if not ok:
                problems.append(f"{path}.adc_table: {value!r}; expected a list of [bits, energy, cycles] rows")
            else:
                values[key] = tuple((int(b), float(e), float(c)) for b, e, c in rows)
            continue
        typed = _coerce(annotation, value)
        if typed is None:
            problems.append(f"{path}.{key}: {value!r} has the wrong type; expected {_TYPE_WORDS[annotation]}")
        else:
            values[key] = typed
    return values


def _cross_field_problems(spec: ReRAMSpec, path: str) -> list:
    problems = []
    for key in ("xbar_rows", "xbar_cols", "bits_per_cell", "dac_bits", "xbars_per_pe", "pes_per_tile",
                "adc_bits_min", "adc_ref_bits", "psum_bits", "b_max"):
        if getattr(spec, key) < 1:
            problems.append(f"{path}.{key}: {getattr(spec, key)} must be >= 1")
    for key in ("ou_rows", "ou_cols", "adcs_per_xbar", "max_tiles", "adc_bits"):
        if getattr(spec, key) < 0:
            meaning = "unlimited" if key == "max_tiles" else "default"
            problems.append(f"{path}.{key}: {getattr(spec, key)} must be >= 0 (0 = {meaning})")
    if spec.ou_rows > spec.xbar_rows or spec.ou_cols > spec.xbar_cols:
        problems.append(f"{path}.ou_rows/ou_cols: OU {spec.ou_rows}x{spec.ou_cols} does not fit the "
                        f"{spec.xbar_rows}x{spec.xbar_cols} crossbar")
    if spec.adc_bits_max < spec.adc_bits_min:
        problems.append(f"{path}.adc_bits_max: {spec.adc_bits_max} < adc_bits_min={spec.adc_bits_min}")
    if spec.adc_bits and not spec.adc_bits_min <= spec.adc_bits <= spec.adc_bits_max:
        problems.append(f"{path}.adc_bits: {spec.adc_bits} outside adc_bits_min..adc_bits_max = "
                        f"{spec.adc_bits_min}..{spec.adc_bits_max} (0 = lossless default)")
    if spec.adc_law not in ADC_LAWS:
        problems.append(f"{path}.adc_law: {spec.adc_law!r} is unknown; allowed: {', '.join(ADC_LAWS)}")
    elif spec.adc_law == "table":
        bits = [row[0] for row in spec.adc_table]
        if not bits:
            problems.append(f"{path}.adc_table: empty; the table law needs [bits, energy, cycles] rows")
        elif bits != sorted(set(bits)):
            problems.append(f"{path}.adc_table: bits {bits} must be strictly ascending")
        elif spec.adc_ref_bits not in bits:
            problems.append(f"{path}.adc_ref_bits: {spec.adc_ref_bits} must be a row of adc_table (bits {bits})")
        elif bits[-1] < spec.adc_bits_max:
            problems.append(f"{path}.adc_bits_max: {spec.adc_bits_max} bits but adc_table stops at {bits[-1]}")
    if spec.tile_formula not in TILE_FORMULAS:
        problems.append(f"{path}.tile_formula: {spec.tile_formula!r} is unknown; allowed: {', '.join(TILE_FORMULAS)}")
    elif spec.tile_formula == "neurosim" and math.isqrt(spec.xbars_per_tile) ** 2 != spec.xbars_per_tile:
        problems.append(f"{path}.tile_formula: neurosim tiles are square grids of crossbars, but xbars_per_pe * "
                        f"pes_per_tile = {spec.xbars_per_tile} is not a perfect square")
    if spec.mapping not in MAPPINGS:
        problems.append(f"{path}.mapping: {spec.mapping!r} is unknown; allowed: {', '.join(MAPPINGS)}")
    for key in ("adc_cycles", "clock_ghz"):
        if getattr(spec, key) <= 0:
            problems.append(f"{path}.{key}: {getattr(spec, key)} must be > 0")
    if spec.xbar_read_cycles < 0:
        problems.append(f"{path}.xbar_read_cycles: {spec.xbar_read_cycles} must be >= 0")
    bits = list(spec.bitwidths)
    if not bits or bits != sorted(set(bits)) or bits[0] < 1:
        problems.append(f"{path}.bitwidths: {bits} must be non-empty, positive, strictly ascending")
    if spec.energy.unit not in ENERGY_UNITS:
        problems.append(f"{path}.energy.unit: {spec.energy.unit!r} is unknown; allowed: {', '.join(ENERGY_UNITS)}")
    for key in ("adc", "dac", "crossbar", "shift_add", "buffer", "buffer_per_ou", "control", "inter_tile"):
        if getattr(spec.energy, key) < 0:
            problems.append(f"{path}.energy.{key}: {getattr(spec.energy, key)} must be >= 0")
    if spec.version not in SUPPORTED_VERSIONS:
        problems.append(f"{path}.version: {spec.version} is not supported; supported: "
                        f"{', '.join(map(str, SUPPORTED_VERSIONS))}")
    return problems


def validate_reram_spec(spec: ReRAMSpec, path: str | None = None) -> ReRAMSpec:
    """Cross-field checks; raises `SpecError` listing every problem. Returns the spec unchanged."""
    problems = _cross_field_problems(spec, path or spec.name)
    if problems:
        raise SpecError(f"invalid ReRAM spec {spec.name!r}:\n  " + "\n  ".join(problems))
    return spec


def reram_spec_from_dict(data: dict, *, source: str = "<dict>", **overrides) -> ReRAMSpec:
    """Build and validate a `ReRAMSpec` from a YAML-like mapping (keys = field names; `energy` nested).

    Raises:
        SpecError: every structural and cross-field problem, one per line, each naming its path.
    """
    merged = dict(data) if isinstance(data, dict) else data
    if isinstance(merged, dict):
        merged.setdefault("name", source)
        for key, value in overrides.items():
            if key == "energy" and isinstance(value, dict) and isinstance(merged.get("energy"), dict):
                value = {**merged["energy"], **value}
            merged[key] = value
        if "version" not in merged:
            raise SpecError(f"invalid ReRAM spec {source!r}:\n  {source}.version: missing; every spec file starts "
                            f"with `version: 1`")
    problems = []
    values = _typed(merged, ReRAMSpec, source, problems)
    if problems:  # still run the cross-field rules on what is well-typed, so one error lists everything
        defaults = {key: default for key, (_, default, required) in _fields(ReRAMSpec).items() if not required}
        problems += _cross_field_problems(ReRAMSpec(**{**defaults, "name": source, **values}), source)
        raise SpecError(f"invalid ReRAM spec {source!r}:\n  " + "\n  ".join(problems))
    return validate_reram_spec(ReRAMSpec(**values), source)


def reram_only_keys() -> set:
    """Top-level keys only a ReRAM spec has (its fields that the digital `AcceleratorSpec` lacks)."""
    from hwmodels.spec import AcceleratorSpec

    return {f.name for f in dataclasses.fields(ReRAMSpec)} - {f.name for f in dataclasses.fields(AcceleratorSpec)}


def missing_file_keys(data: dict) -> list:
    """The required geometry / energy keys (`REQUIRED_FILE_KEYS`, `energy.` + `REQUIRED_ENERGY_KEYS`) a ReRAM
    spec file lacks."""
    missing = [key for key in REQUIRED_FILE_KEYS if key not in data]
    energy = data.get("energy")
    if isinstance(energy, dict):
        missing += [f"energy.{key}" for key in REQUIRED_ENERGY_KEYS if key not in energy]
    return missing


def is_reram(name_or_path) -> bool:
    """Whether `name_or_path` is a ReRAM spec object, preset name, or a YAML file with `kind: reram` (or without
    `kind` but with keys only a ReRAM spec has, e.g. `xbar_rows`: it is then reported as a ReRAM file)."""
    if isinstance(name_or_path, ReRAMSpec):
        return True
    key = str(name_or_path)
    if key.lower() in RERAM_PRESETS:
        return True
    path = Path(key).expanduser()
    if path.suffix in (".yaml", ".yml") and path.is_file():
        try:
            data = yaml.safe_load(path.read_text(encoding="utf-8"))
        except (yaml.YAMLError, UnicodeDecodeError, OSError):
            return False  # not a readable ReRAM file: the digital loader reports it
        if not isinstance(data, dict):
            return False
        return data.get("kind") == "reram" or ("kind" not in data and bool(reram_only_keys() & set(data)))
    return False


def load_reram_spec(name_or_path, **overrides) -> ReRAMSpec:
    """Load a ReRAM preset (`RERAM_PRESETS`) or a user YAML file (which carries `kind: reram`), validated.

    Args:
        name_or_path: preset name, YAML path or a `ReRAMSpec` (returned with `overrides` applied).
        **overrides: field = value replacing the file's value (an `energy` mapping is merged).

    Raises:
        SpecError: unknown preset / missing file (lists the presets), unreadable YAML, or invalid content.
    """
    if isinstance(name_or_path, ReRAMSpec):
        return name_or_path.with_(**overrides) if overrides else name_or_path
    key = str(name_or_path)
    if key.lower() in RERAM_PRESETS:
        path, source = PRESET_DIR / f"{key.lower()}.yaml", key.lower()
    else:
        path = Path(key).expanduser()
        source = str(path)
        if not path.is_file():
            raise SpecError(f"ReRAM spec {key!r} is neither a preset nor an existing YAML file; presets: "
                            f"{', '.join(RERAM_PRESETS)}")
    try:
        data = yaml.safe_load(path.read_text())
    except yaml.YAMLError as exc:
        raise SpecError(f"{source}: not valid YAML ({exc})") from None
    if isinstance(data, dict):
        data = dict(data)
        if "kind" not in data:
            raise SpecError(f"{source}: the keys {', '.join(sorted(reram_only_keys() & set(data)))} describe a ReRAM "
                            f"crossbar accelerator; add `kind: reram` to the file (digital specs have no such keys)")
        if data.pop("kind") != "reram":
            raise SpecError(f"{source}.kind: only `kind: reram` files describe ReRAM accelerators")
        missing = missing_file_keys(data)
        if missing:
            raise SpecError(f"invalid ReRAM spec {source!r}: missing required keys {', '.join(missing)} (the crossbar "
                            f"geometry and the per-event energies; defaults would cost every event but the ADC at 0)")
        data.setdefault("name", source if key.lower() in RERAM_PRESETS else path.stem)
    return reram_spec_from_dict(data, source=source, **overrides)
