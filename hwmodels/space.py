"""Hardware design spaces for co-design: which spec fields vary over which values, decoded to `AcceleratorSpec`s.

A space file (`hwmodels/spaces/*.yaml`, or a user path) looks like:

    version: 1
    name: spatial
    base: spatial-256              # preset or spec YAML: every field no gene sets is inherited from it
    genes:                         # one integer gene per entry, its value an index into `values`
      pe_array:
        fields: [pe_rows, pe_cols] # several fields set together (default: the gene name is the field)
        values: [[8, 8], [12, 14], [16, 16], [32, 32]]
      buffer_size_bits:
        values: [1048576, 2097152, 25165824]
      dataflow:
        values: [RS, WS, OS]
    energy_laws:                   # per-access energies that follow a varied size (optional)
      buffer:                      # an EnergyTable key
        size_field: buffer_size_bits
        interpolation: loglog      # loglog (default) or linear
        points: [[1048576, 6.0], [2097152, 13.84], [25165824, 155.35]]
    area: {sram_bit: 0.25}         # optional per-unit area overrides (hwmodels.area.AreaTable keys, um^2)

Energy laws: the default law (used whenever a gene varies `buffer_size_bits` and the file names no `buffer` law)
is hw-flowq Table 1's SRAM sizes and normalised access energies, 128 KB: 6, 256 KB: 13.84, 3072 KB: 155.35,
interpolated piecewise-linearly in log(size)-log(energy), i.e. a power law between neighbouring points and the
end segments' power laws beyond them: positive and increasing for every size, and exact at the three presets,
so spatial-168/256/1024 decode to their preset energies. `interpolation: linear` interpolates the energies
linearly in size (clamped to the end points' values outside the table).

Validation works like `load_spec`: structure first (unknown, missing and mistyped keys, each with its path and
the recognised keys), then every gene value against the spec schema, then every combination of gene values
(up to `MAX_CHECKED_COMBINATIONS`) is decoded and validated, so that any in-bounds genome is a legal spec.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import asdict, dataclass, field, fields, replace
from pathlib import Path

import numpy as np
import yaml

from hwmodels.area import AreaTable, area_mm2
from hwmodels.errors import SpecError
from hwmodels.spec import AcceleratorSpec, EnergyTable, load_spec, spec_from_dict

SPACE_DIR = Path(__file__).resolve().parent / "spaces"
SPACES = tuple(sorted(p.stem for p in SPACE_DIR.glob("*.yaml")))
SUPPORTED_VERSIONS = (1,)
INTERPOLATIONS = ("loglog", "linear")
MAX_CHECKED_COMBINATIONS = 20000
# hw-flowq Table 1: global-buffer size (bits) -> normalised energy per access
TABLE1_BUFFER_POINTS = ((128 * 1024 * 8, 6.0), (256 * 1024 * 8, 13.84), (3072 * 1024 * 8, 155.35))
_TOP_KEYS = ("version", "name", "base", "genes", "energy_laws", "area")


class SpaceError(SpecError):
    """A hardware design space (YAML) is invalid. The message names the path, the value and what is allowed."""


@dataclass(frozen=True)
class EnergyLaw:
    """Per-access energy of one `EnergyTable` entry as a function of a size field of the spec.

    Attributes:
        energy_key: the `EnergyTable` field it sets, e.g. "buffer".
        size_field: the `AcceleratorSpec` field it reads, e.g. "buffer_size_bits".
        points: ((size, energy), ...) ascending in size, sizes and energies > 0.
        interpolation: "loglog" (power law between points, end laws extended) or "linear" (clamped ends).
    """

    energy_key: str = "buffer"
    size_field: str = "buffer_size_bits"
    points: tuple = TABLE1_BUFFER_POINTS
    interpolation: str = "loglog"

    def __call__(self, size: float) -> float:
        """Energy per access at `size` (units of the table, normalised by default)."""
        sizes = np.asarray([p[0] for p in self.points], dtype=float)
        energies = np.asarray([p[1] for p in self.points], dtype=float)
        exact = np.flatnonzero(sizes == size)
        if len(sizes) == 1 or len(exact):
            return float(energies[exact[0] if len(exact) else 0])
        if self.interpolation == "linear":
            return float(np.interp(size, sizes, energies))
        x, xs, ys = math.log(size), np.log(sizes), np.log(energies)
        k = int(np.clip(np.searchsorted(xs, x) - 1, 0, len(xs) - 2))  # segment (end segments extend outwards)
        slope = (ys[k + 1] - ys[k]) / (xs[k + 1] - xs[k])
        return float(math.exp(ys[k] + slope * (x - xs[k])))

    def outside(self, size: float) -> bool:
        """Whether `size` lies outside the tabulated sizes, i.e. its energy is extrapolated (loglog) or clamped
        (linear) rather than interpolated."""
        sizes = [p[0] for p in self.points]
        return not min(sizes) <= size <= max(sizes)


@dataclass(frozen=True)
class Gene:
    """One hardware gene: an index into `values`, each value setting `fields` of the spec together."""

    name: str
    fields: tuple
    values: tuple  # tuple of tuples, one entry per field

    @property
    def n_values(self) -> int:
        """Number of alleles of this gene."""
        return len(self.values)

    def label(self, index: int) -> str:
        """Readable value, e.g. "16x16" for a two-field gene, "RS" for a one-field gene."""
        value = self.values[index]
        return "x".join(str(v) for v in value) if len(value) > 1 else str(value[0])


@dataclass(frozen=True)
class DesignSpace:
    """A hardware design space: a base spec, its genes, the energy laws and the area table.

    Attributes:
        name: space name.
        base: the spec every decoded point starts from.
        genes: the `Gene`s, in genome order.
        energy_laws: `EnergyLaw`s applied after the genes set the fields.
        area_table: per-unit areas for `area`.
    """

    name: str
    base: AcceleratorSpec
    genes: tuple
    energy_laws: tuple = ()
    area_table: AreaTable = field(default_factory=AreaTable)
    source: str = ""  # packaged space name or YAML path it was loaded from (what `load_space` reads back)

    def __post_init__(self):
        object.__setattr__(self, "_cache", {})

    # ---- genome view -----------------------------------------------------------------------------
    @property
    def n_genes(self) -> int:
        """Number of hardware genes."""
        return len(self.genes)

    @property
    def upper_bounds(self) -> np.ndarray:
        """Largest allele index of every gene, shape (n_genes,)."""
        return np.asarray([g.n_values - 1 for g in self.genes], dtype=np.int64)

    @property
    def size(self) -> int:
        """Number of distinct hardware points."""
        return int(np.prod([g.n_values for g in self.genes], dtype=object))

    def _check_genes(self, genes) -> tuple:
        values = tuple(int(v) for v in np.asarray(genes).reshape(-1))
        if len(values) != self.n_genes:
            raise SpaceError(f"space {self.name!r}: {len(values)} hardware genes given, expected {self.n_genes} "
                             f"({', '.join(g.name for g in self.genes)})")
        for gene, v in zip(self.genes, values):
            if not 0 <= v < gene.n_values:
                raise SpaceError(f"space {self.name!r}: gene {gene.name} = {v} is outside 0..{gene.n_values - 1}")
        return values

    def fields_of(self, genes) -> dict:
        """{spec field: value} set by `genes` (the per-access energies the laws derive are not included)."""
        out = {}
        for gene, v in zip(self.genes, self._check_genes(genes)):
            out.update(dict(zip(gene.fields, gene.values[v])))
        return out

    def decode(self, genes) -> AcceleratorSpec:
        """The validated spec of a hardware genome (integer indices, shape (n_genes,)); memoised.

        The spec's name lists the gene values, so equal hardware gives equal (hashable) specs and shares the
        mapper's memo table.
        """
        key = self._check_genes(genes)
        spec = self._cache.get(key)
        if spec is None:
            spec = self._build(key)
            self._cache[key] = spec
        return spec

    def _build(self, key: tuple) -> AcceleratorSpec:
        values = self.fields_of(key)
        name = f"{self.name}[" + ",".join(f"{g.name}={g.label(v)}" for g, v in zip(self.genes, key)) + "]"
        spec = replace(self.base, name=name, **values)
        energy = {}
        for law in self.energy_laws:
            if law.size_field in values:
                energy[law.energy_key] = law(getattr(spec, law.size_field))
        if energy:
            spec = replace(spec, energy=replace(spec.energy, **energy))
        from hwmodels.spec import validate_spec

        try:
            return validate_spec(spec)
        except SpecError as error:
            raise SpaceError(f"space {self.name!r}: genes {dict(zip((g.name for g in self.genes), key))} decode "
                             f"to an invalid spec:\n{error}") from None

    def encode(self, spec: AcceleratorSpec) -> np.ndarray:
        """Hardware genome of `spec` (e.g. a preset) when every gene's fields match one of its values.

        Raises:
            SpaceError: a gene has no value equal to the spec's fields (the spec is outside the space).
        """
        out = []
        for gene in self.genes:
            current = tuple(getattr(spec, f) for f in gene.fields)
            if current not in gene.values:
                raise SpaceError(f"{spec.name}: {gene.name} = {current} is not a value of space {self.name!r}; "
                                 f"values: {[gene.label(k) for k in range(gene.n_values)]}")
            out.append(gene.values.index(current))
        return np.asarray(out, dtype=np.int64)

    def hw_params(self, genes) -> dict:
        """Plain-JSON hardware parameters of a genome: the gene fields, the law-derived energies, the area, and
        `extrapolated` (the energies priced outside their law's table, `extrapolated`) when there are any."""
        spec = self.decode(genes)
        params = {k: (list(v) if isinstance(v, tuple) else v) for k, v in self.fields_of(genes).items()}
        for law in self.energy_laws:
            if law.size_field in params:
                params[f"energy.{law.energy_key}"] = getattr(spec.energy, law.energy_key)
        params["area_mm2"] = self.area(genes)
        outside = self.extrapolated(genes)
        if outside:
            params["extrapolated"] = outside
        return params

    def extrapolated(self, genes) -> list:
        """Law-derived energies of a genome priced outside the law's tabulated sizes (e.g. a 64 KB buffer below
        hw-flowq Table 1's 128 KB): one "energy.<key>: <field> = <size> outside [<min>, <max>]" per law."""
        values = self.fields_of(genes)
        out = []
        for law in self.energy_laws:
            size = values.get(law.size_field)
            if size is not None and law.outside(size):
                sizes = [p[0] for p in law.points]
                out.append(f"energy.{law.energy_key}: {law.size_field} = {size:g} outside the table's "
                           f"[{min(sizes):g}, {max(sizes):g}] ({law.interpolation} law "
                           f"{'extrapolated' if law.interpolation == 'loglog' else 'clamped'})")
        return out

    def without(self, names) -> "DesignSpace":
        """The space with the genes `names` removed (their fields keep the base spec's values)."""
        keep = tuple(g for g in self.genes if g.name not in set(names))
        if len(keep) == len(self.genes):
            return self
        return replace(self, genes=keep, name=f"{self.name}-without-{'-'.join(sorted(names))}")

    def area(self, genes) -> float:
        """Area (mm^2) of a hardware genome."""
        return area_mm2(self.decode(genes), self.area_table)

    def enumerate(self) -> np.ndarray:
        """Every hardware genome, shape (size, n_genes) (for small spaces)."""
        grids = [range(g.n_values) for g in self.genes]
        return np.asarray(list(itertools.product(*grids)), dtype=np.int64).reshape(-1, self.n_genes)


# ---- loading -------------------------------------------------------------------------------------------------
def _spec_dict(spec: AcceleratorSpec) -> dict:
    data = asdict(spec)
    data["bitwidths"] = list(spec.bitwidths)
    return data


def _parse_law(key, data, path, problems) -> EnergyLaw | None:
    energy_keys = [f.name for f in fields(EnergyTable) if f.name != "unit"]
    spec_int_fields = [f.name for f in fields(AcceleratorSpec) if str(f.type) in ("int", "float")]
    if key not in energy_keys:
        problems.append(f"{path}: unknown energy key; recognised: {', '.join(energy_keys)}")
        return None
    if not isinstance(data, dict):
        problems.append(f"{path}: {data!r} is not a mapping with size_field, points, interpolation")
        return None
    for extra in set(data) - {"size_field", "points", "interpolation"}:
        problems.append(f"{path}.{extra}: unknown key; recognised keys: size_field, points, interpolation")
    size_field = data.get("size_field", "buffer_size_bits")
    if size_field not in spec_int_fields:
        problems.append(f"{path}.size_field: {size_field!r} is not a numeric spec field; allowed: "
                        f"{', '.join(spec_int_fields)}")
    interpolation = data.get("interpolation", "loglog")
    if interpolation not in INTERPOLATIONS:
        problems.append(f"{path}.interpolation: {interpolation!r}; allowed: {', '.join(INTERPOLATIONS)}")
    points = data.get("points", TABLE1_BUFFER_POINTS)
    ok = isinstance(points, (list, tuple)) and len(points) >= 1 and all(
        isinstance(p, (list, tuple)) and len(p) == 2 and all(isinstance(v, (int, float)) and not isinstance(v, bool)
                                                             and v > 0 for v in p) for p in points)
    if not ok:
        problems.append(f"{path}.points: {points!r}; give [[size, energy], ...] with positive numbers")
        return None
    points = tuple((float(s), float(e)) for s, e in points)
    if [s for s, _ in points] != sorted({s for s, _ in points}):
        problems.append(f"{path}.points: sizes {[s for s, _ in points]} must be strictly ascending")
    return EnergyLaw(key, size_field, points, interpolation)


def _parse_gene(name, data, base, path, problems) -> Gene | None:
    schema = {f.name for f in fields(AcceleratorSpec)} - {"name", "version", "energy"}
    if isinstance(data, list):
        data = {"values": data}
    if not isinstance(data, dict):
        problems.append(f"{path}: {data!r} is not a mapping with `values` (and optional `fields`)")
        return None
    for extra in set(data) - {"fields", "values"}:
        problems.append(f"{path}.{extra}: unknown key; recognised keys: fields, values")
    gene_fields = data.get("fields", [name])
    if isinstance(gene_fields, str):
        gene_fields = [gene_fields]
    bad = [f for f in gene_fields if f not in schema]
    if bad or not gene_fields:
        problems.append(f"{path}.fields: {bad or gene_fields!r} not spec fields a gene can vary; allowed: "
                        f"{', '.join(sorted(schema))}")
        return None
    values = data.get("values")
    if not isinstance(values, list) or not values:
        problems.append(f"{path}.values: {values!r}; give a non-empty list of values")
        return None
    multi = len(gene_fields) > 1
    parsed = []
    for k, value in enumerate(values):
        value = tuple(value) if multi and isinstance(value, (list, tuple)) else (value,)
        if len(value) != len(gene_fields):
            problems.append(f"{path}.values[{k}]: {list(value)} has {len(value)} entries for fields {gene_fields}")
            continue
        value = tuple(tuple(v) if isinstance(v, list) else v for v in value)
        try:  # type and cross-field check of this value on the base spec
            checked = spec_from_dict({**_spec_dict(base), **{f: (list(v) if isinstance(v, tuple) else v)
                                                             for f, v in zip(gene_fields, value)}},
                                     source=f"{path}.values[{k}]")
            value = tuple(getattr(checked, f) for f in gene_fields)
        except SpecError as error:
            problems.append(str(error).replace("\n  ", "\n    "))
            continue
        if value in parsed:
            problems.append(f"{path}.values[{k}]: {list(value)} repeats an earlier value")
            continue
        parsed.append(value)
    return Gene(str(name), tuple(gene_fields), tuple(parsed))


def space_from_dict(data, *, source: str = "<dict>") -> DesignSpace:
    """Build and validate a `DesignSpace` from a YAML-like mapping (see the module docstring).

    Raises:
        SpaceError: every problem found, one per line, each naming its path.
    """
    if not isinstance(data, dict):
        raise SpaceError(f"{source}: {data!r} is not a mapping; expected keys: {', '.join(_TOP_KEYS)}")
    problems = [f"{source}.{key}: unknown key; recognised keys: {', '.join(_TOP_KEYS)}"
                for key in data if key not in _TOP_KEYS]
    if data.get("version") not in SUPPORTED_VERSIONS:
        problems.append(f"{source}.version: {data.get('version')!r} is not supported; every space file starts "
                        f"with `version: 1`")
    base = None
    try:
        base = load_spec(str(data.get("base", "spatial-256")))
    except SpecError as error:
        problems.append(f"{source}.base: {error}")
    genes_data = data.get("genes")
    if not isinstance(genes_data, dict) or not genes_data:
        problems.append(f"{source}.genes: {genes_data!r}; give a mapping gene name -> {{values: [...]}}")
        genes_data = {}
    genes = []
    if base is not None:
        for name, gene_data in genes_data.items():
            gene = _parse_gene(name, gene_data, base, f"{source}.genes.{name}", problems)
            if gene is not None:
                genes.append(gene)
    seen = {}
    for gene in genes:
        for f in gene.fields:
            if f in seen:
                problems.append(f"{source}.genes.{gene.name}: field {f} is already set by gene {seen[f]}")
            seen[f] = gene.name
    laws_data = data.get("energy_laws") or {}
    if not isinstance(laws_data, dict):
        problems.append(f"{source}.energy_laws: {laws_data!r} is not a mapping energy key -> law")
        laws_data = {}
    laws = {"buffer": EnergyLaw()}
    for key, law_data in laws_data.items():
        law = _parse_law(key, law_data, f"{source}.energy_laws.{key}", problems)
        if law is not None:
            laws[key] = law
    area_table = AreaTable()
    try:
        area_table = AreaTable.from_dict(data.get("area"), f"{source}.area")
    except (SpecError, TypeError) as error:
        problems.append(str(error))
    if problems:
        raise SpaceError(f"invalid design space {source!r}:\n  " + "\n  ".join(problems))
    space = DesignSpace(str(data.get("name", Path(source).stem)), base, tuple(genes), tuple(laws.values()),
                        area_table, source)
    _check_combinations(space, source)
    return space


def _check_combinations(space: DesignSpace, source: str) -> None:
    """Decode every combination (up to MAX_CHECKED_COMBINATIONS) so that any in-bounds genome is legal."""
    if space.size > MAX_CHECKED_COMBINATIONS:
        raise SpaceError(f"{source}: {space.size} hardware points exceed the {MAX_CHECKED_COMBINATIONS} whose "
                         f"legality can be checked up front; split the space or use fewer values per gene")
    bad = []
    for genes in space.enumerate():
        try:
            space.decode(genes)
        except SpaceError as error:
            bad.append(str(error))
            if len(bad) >= 5:
                break
    if bad:
        raise SpaceError(f"invalid design space {source!r}: some gene combinations are not legal specs "
                         f"(set such fields together in one multi-field gene):\n  " + "\n  ".join(bad))


def load_space(name_or_path) -> DesignSpace:
    """Load a packaged space by name (`SPACES`, e.g. "spatial") or a YAML file, validated.

    Raises:
        SpaceError: unknown name / missing file (lists the packaged spaces), unreadable YAML, invalid content.
    """
    key = str(name_or_path)
    path = SPACE_DIR / f"{key}.yaml" if key in SPACES else Path(key).expanduser()
    if not path.is_file():
        raise SpaceError(f"design space {key!r} is neither a packaged space nor an existing YAML file; packaged: "
                         f"{', '.join(SPACES)}")
    try:
        data = yaml.safe_load(path.read_text())
    except yaml.YAMLError as error:
        raise SpaceError(f"{path}: not valid YAML ({error})") from None
    return space_from_dict(data, source=key if key in SPACES else str(path))


def spec_to_yaml(spec: AcceleratorSpec) -> str:
    """A spec as preset YAML text that `load_spec` reads back to an equal spec (e.g. a co-design solution)."""
    data = {"version": spec.version, **{k: v for k, v in _spec_dict(spec).items() if k != "version"}}
    return f"# {spec.name}\n" + yaml.safe_dump(data, sort_keys=False)
