"""Accelerator specification: frozen dataclasses (the schema) and YAML loading with validation.

A spec describes a spatial accelerator (hw-flowq Table 1): a PE array of `pe_rows x pe_cols` PEs, each with
three register files (filter / ifmap / psum, sized in words of `b_max` bits), a global buffer, DRAM, the
dataflow, the PE type (SIMD-vectorised or bit-serial) and the per-access energies.

Units: sizes in bits unless the field name says otherwise; bandwidths in bits per cycle; energies per access
of one `word_bits`-bit word (normalised to one 16-bit MAC, or pJ when `energy.unit == "pJ"`).
`load_spec(name_or_path)` reads a package preset (`PRESETS`) or a user YAML file; the YAML keys are the
dataclass field names (the fields are the schema: type and default, no default = required), and
`presets/example-custom.yaml` documents the format.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field, replace
from pathlib import Path

import yaml

from hwmodels.errors import SpecError

DATAFLOWS = ("RS", "WS", "OS")
PE_TYPES = ("simd", "bitserial")
ENERGY_UNITS = ("normalised", "pJ")
BYPASS_TENSORS = ("weights", "inputs")
ACCOUNTINGS = ("eyeriss", "timeloop")
UNROLLINGS = ("fill", "any")
SUPPORTED_VERSIONS = (1,)
PRESET_DIR = Path(__file__).resolve().parent / "presets"
PRESETS = ("spatial-168", "spatial-256", "spatial-1024", "eyeriss-1024", "eyeriss-256-db", "bs-168", "bs-256",
           "bs-1024", "eyeriss-like-timeloop")


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
        double_buffer: True reserves half of the global buffer for the next tile so transfers overlap compute
            (a tile may use buffer_size_bits / 2); False models today's perfect overlap with the whole buffer.
        bypass: tensors that go from DRAM straight to the PE array without a global-buffer copy, a subset of
            `BYPASS_TENSORS` ("weights", "inputs"), stored in that order (Timeloop's eyeriss_like: weights).
        accounting: "eyeriss" (a buffer fill is folded into the DRAM access, Eyeriss ISCA'16) or "timeloop"
            (fills and updates are also charged at the level written, as Timeloop counts them).
        unrolling: the Fine mapper's spatial space: "fill" (each array axis unrolled as far as the dataflow's dims
            allow, ZigZag's and hw-flowq 6.3.3's notion of a dataflow; lanes may still replace PEs) or "any"
            (every factor down to one PE, Timeloop's unconstrained map-space; `hwmodels.config.UNROLL_*`).
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
    double_buffer: bool = False
    bypass: tuple[str, ...] = ()
    accounting: str = "eyeriss"
    unrolling: str = "fill"
    version: int = 1

    def __post_init__(self):
        # canonical bypass order so that equal specs hash equal; unknown names are left for validate_spec
        bypass = self.bypass
        if isinstance(bypass, (list, tuple)) and all(isinstance(t, str) and t in BYPASS_TENSORS for t in bypass) \
                and len(set(bypass)) == len(bypass):
            object.__setattr__(self, "bypass", tuple(t for t in BYPASS_TENSORS if t in self.bypass))

    def bypasses(self, tensor: str) -> bool:
        """True when `tensor` ("weights" or "inputs") skips the global buffer."""
        return tensor in self.bypass

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



# ---- loader: structure checks (keys, types), then cross-field rules; every problem in one SpecError --------------

_REQUIRED = object()


def _schema(cls) -> dict:
    """Field name -> (annotation string, default or _REQUIRED) of a spec dataclass: the fields are the schema."""
    schema = {}
    for spec_field in dataclasses.fields(cls):
        if spec_field.default is not dataclasses.MISSING:
            default = spec_field.default
        elif spec_field.default_factory is not dataclasses.MISSING:
            default = spec_field.default_factory()
        else:
            default = _REQUIRED
        schema[spec_field.name] = (str(spec_field.type), default)
    return schema


def _is_int(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _coerce(annotation: str, value):
    """`value` converted to the field's type, or None when it has the wrong type."""
    if annotation == "int":
        return value if _is_int(value) else None
    if annotation == "float":
        return float(value) if _is_int(value) or isinstance(value, float) else None
    if annotation == "str":
        return value if isinstance(value, str) else None
    if annotation == "bool":
        return value if isinstance(value, bool) else None
    if annotation == "tuple[str, ...]":
        ok = isinstance(value, (list, tuple)) and all(isinstance(item, str) for item in value)
        return tuple(value) if ok else None
    if annotation == "tuple":
        ok = isinstance(value, (list, tuple)) and all(_is_int(item) for item in value)
        return tuple(value) if ok else None
    raise TypeError(f"spec schema has no coercion for {annotation}")  # programming error, not user input


_TYPE_WORDS = {"int": "an integer", "float": "a number", "str": "a string", "tuple": "a list of integers",
               "bool": "true or false", "tuple[str, ...]": "a list of strings", "EnergyTable": "a mapping"}


def _check_structure(data, cls, path: str, problems: list) -> dict:
    """Typed values of `data` for dataclass `cls`: unknown, missing and mistyped keys go to `problems`."""
    if not isinstance(data, dict):
        problems.append(f"{path}: {data!r} is not a mapping; expected keys: {', '.join(_schema(cls))}")
        return {}
    schema = _schema(cls)
    values = {}
    for key in data:
        if key not in schema:
            problems.append(f"{path}.{key}: unknown key; recognised keys: {', '.join(schema)}")
    for key, (annotation, default) in schema.items():
        if key not in data:
            if default is _REQUIRED:
                problems.append(f"{path}.{key}: missing required key ({_TYPE_WORDS[annotation]})")
            else:
                values[key] = default
            continue
        if annotation == "EnergyTable":
            values[key] = EnergyTable(**_check_structure(data[key], EnergyTable, f"{path}.{key}", problems))
            continue
        typed = _coerce(annotation, data[key])
        if typed is None:
            problems.append(f"{path}.{key}: {data[key]!r} has the wrong type; expected {_TYPE_WORDS[annotation]}")
        else:
            values[key] = typed
    return values


def _cross_field_problems(spec: AcceleratorSpec, path: str) -> list:
    """Cross-field rules (STYLE 4.3); one message per violated rule: path, value, what is allowed."""
    problems = []
    for key in ("pe_rows", "pe_cols", "b_max", "lanes", "word_bits"):
        if getattr(spec, key) < 1:
            problems.append(f"{path}.{key}: {getattr(spec, key)} must be >= 1")
    for key in ("rf_filter_words", "rf_ifmap_words", "rf_psum_words"):
        if getattr(spec, key) < 1:
            problems.append(f"{path}.{key}: {getattr(spec, key)} words cannot hold one operand of b_max="
                            f"{spec.b_max} bits; needs >= 1 word (the psum RF must hold one psum)")
    if spec.buffer_size_bits < 1:
        problems.append(f"{path}.buffer_size_bits: {spec.buffer_size_bits} must be > 0 bits")
    if spec.dram_bw_bits_per_cycle <= 0:
        problems.append(f"{path}.dram_bw_bits_per_cycle: {spec.dram_bw_bits_per_cycle} must be > 0 bits/cycle")
    if spec.buffer_bw_bits_per_cycle < 0:
        problems.append(f"{path}.buffer_bw_bits_per_cycle: {spec.buffer_bw_bits_per_cycle} must be >= 0 "
                        "(0 = unlimited)")
    if spec.dataflow not in DATAFLOWS:
        problems.append(f"{path}.dataflow: {spec.dataflow!r} is unknown; allowed: {', '.join(DATAFLOWS)}")
    if spec.pe_type not in PE_TYPES:
        problems.append(f"{path}.pe_type: {spec.pe_type!r} is unknown; allowed: {', '.join(PE_TYPES)}")
    if spec.pe_type == "simd" and spec.lanes != 1:
        problems.append(f"{path}.lanes: {spec.lanes}; a simd PE packs operands instead (hw-flowq eq. 3), "
                        "set lanes: 1 or pe_type: bitserial")
    bypass = list(spec.bypass)
    unknown = [t for t in bypass if t not in BYPASS_TENSORS]
    if unknown or len(set(bypass)) != len(bypass):
        problems.append(f"{path}.bypass: {bypass} must list each of {', '.join(BYPASS_TENSORS)} at most once "
                        f"(tensors that skip the global buffer; [] = none)")
    if spec.accounting not in ACCOUNTINGS:
        problems.append(f"{path}.accounting: {spec.accounting!r} is unknown; allowed: {', '.join(ACCOUNTINGS)}")
    if spec.unrolling not in UNROLLINGS:
        problems.append(f"{path}.unrolling: {spec.unrolling!r} is unknown; allowed: {', '.join(UNROLLINGS)}")
    if not isinstance(spec.double_buffer, bool):
        problems.append(f"{path}.double_buffer: {spec.double_buffer!r} must be true or false")
    if spec.version not in SUPPORTED_VERSIONS:
        problems.append(f"{path}.version: {spec.version} is not supported; supported: "
                        f"{', '.join(map(str, SUPPORTED_VERSIONS))}")
    bits = spec.bitwidths
    if not bits:
        problems.append(f"{path}.bitwidths: empty; list the supported bitwidths, e.g. [2, 4, 6, 8, 16]")
    elif list(bits) != sorted(set(bits)):
        problems.append(f"{path}.bitwidths: {list(bits)} must be strictly ascending without repeats")
    bad_bits = [b for b in bits if not 1 <= b <= spec.b_max]
    if bad_bits:
        problems.append(f"{path}.bitwidths: {bad_bits} not supported by the PE; allowed 1..b_max={spec.b_max}")
    energy = spec.energy
    if energy.unit not in ENERGY_UNITS:
        problems.append(f"{path}.energy.unit: {energy.unit!r} is unknown; allowed: {', '.join(ENERGY_UNITS)}")
    for key in ("mac", "rf_filter", "rf_ifmap", "rf_psum", "array", "buffer", "dram"):
        if getattr(energy, key) < 0:
            problems.append(f"{path}.energy.{key}: {getattr(energy, key)} must be >= 0")
    return problems


def validate_spec(spec: AcceleratorSpec, path: str | None = None) -> AcceleratorSpec:
    """Cross-field checks of a spec object; raises `SpecError` listing every problem. Returns the spec unchanged."""
    problems = _cross_field_problems(spec, path or spec.name)
    if problems:
        raise SpecError(f"invalid accelerator spec {spec.name!r}:\n  " + "\n  ".join(problems))
    return spec


def spec_from_dict(data: dict, *, source: str = "<dict>", dataflow: str | None = None, **overrides) -> AcceleratorSpec:
    """Build and validate a spec from a YAML-like mapping (keys = `AcceleratorSpec` field names).

    Args:
        data: the mapping; `name` defaults to `source`, `energy` is a nested mapping of `EnergyTable` fields.
        source: where the mapping came from (preset name or file path), used in error paths.
        dataflow: "RS", "WS" or "OS" overriding the file's dataflow (hw-flowq 6.3.3).
        **overrides: field = value replacing the file's value (e.g. `buffer_size_bits=2**20`); an `energy`
            override is a mapping merged into the file's energy table.

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
        if dataflow is not None:
            merged["dataflow"] = str(dataflow).upper()
    problems = []
    values = _check_structure(merged, AcceleratorSpec, source, problems)
    if "version" in values and isinstance(merged, dict) and "version" not in merged:
        problems.append(f"{source}.version: missing; every spec file starts with `version: 1`")
    if problems or len(values) < len(_schema(AcceleratorSpec)):
        # still run the cross-field rules on what is well-typed, so that one error lists everything
        defaults = {key: default for key, (_, default) in _schema(AcceleratorSpec).items() if default is not _REQUIRED}
        partial = AcceleratorSpec(**{"name": source, "pe_rows": 1, "pe_cols": 1, **defaults, **values})
        problems += _cross_field_problems(partial, source)
        raise SpecError(f"invalid accelerator spec {source!r}:\n  " + "\n  ".join(problems))
    return validate_spec(AcceleratorSpec(**values), source)


def load_spec(name_or_path: str, *, dataflow: str | None = None, **overrides) -> AcceleratorSpec:
    """Load a preset by name (`PRESETS`) or a user YAML file, validated.

    Args:
        name_or_path: a preset name such as "spatial-256", or a path to a YAML file.
        dataflow: "RS", "WS" or "OS" overriding the file's dataflow.
        **overrides: field = value replacing the file's value (see `spec_from_dict`).

    Returns:
        The frozen, validated `AcceleratorSpec`.

    Raises:
        SpecError: unknown preset / missing file (lists the presets), unreadable YAML, or invalid content.
    """
    key = str(name_or_path)
    if key.lower() in PRESETS:
        path = PRESET_DIR / f"{key.lower()}.yaml"
        source = key.lower()
    else:
        path = Path(key).expanduser()
        source = str(path)
        if not path.is_file():
            raise SpecError(f"spec {key!r} is neither a preset nor an existing YAML file; presets: "
                            f"{', '.join(PRESETS)}")
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise SpecError(f"{source}: not valid YAML ({exc})") from None
    except UnicodeDecodeError as exc:
        raise SpecError(f"{source}: not UTF-8 text ({exc}); pass a YAML spec or a preset name") from None
    if isinstance(data, dict) and "name" not in data:
        data["name"] = source if key.lower() in PRESETS else path.stem
    return spec_from_dict(data, source=source, dataflow=dataflow, **overrides)
