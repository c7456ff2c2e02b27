"""Loop-nest text notation of a Fine mapping, close to Timeloop's mapping log: parser, printer, user evaluation.

Grammar (levels outermost first, separated by " - "; each level's loops outermost first):

    DRAM[W,I,O] Q55 C3 - GLB[I,O] P55 M12(spatial X) - S11(spatial Y) - ifmap_spad Q1 - weights_spad R11 - psum_spad M8

- A loop is a dimension letter (N G M C P Q R S, `config.DIM_NAMES`) and a factor >= 1, e.g. `Q55`.
  `(spatial X)` unrolls it over PE columns, `(spatial Y)` over PE rows; `(lanes)` / `(lanes L)` marks the
  dimension the in-PE SIMD / bit-serial lanes run along (L lanes; plain `(lanes)` = the loop's factor).
- The first level is DRAM (`DRAM`, `MainMemory`). The global buffer (`GLB`, `shared_glb`, `GlobalBuffer`,
  `buffer`) may follow; its temporal loops are the buffer loops. A level without a name (or `array`, `NoC`,
  `DummyBuffer`) holds spatial loops only. Every later level is inside the PE (`ifmap_spad`, `RF`, `PE`, any
  name): the product of their loops is the PE tile.
- `[W,I,O]` lists the tensors a level keeps (W / weights, I / inputs, O / outputs; default all). A tensor absent
  from the buffer's list bypasses it (Timeloop's eyeriss_like: `GLB[I,O]`).
- FlowQ orders whole relevance groups NPQ / M / CRS at the DRAM and buffer levels (`mapper.order_name`, proof in
  `_tiling` that these orders dominate), so the loops of one group must be adjacent within a level; factor-1 loops
  count for the order. Groups not named at a level sit outside the named ones, in NPQ, M, CRS order (where
  they are does not change any count: their trip count is 1). G loops are outermost.
- With a `layer`, the DRAM factors are checked: each must equal ceil(bound / product of the inner factors).

`parse_mapping(text, layer)` gives a `mapper.Mapping`; `format_mapping(mapping, layer)` prints one;
`read_mapping_file` reads `name: mapping` lines; `evaluate_mappings` costs a network under user mappings.
"""

from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass
from pathlib import Path

from hwmodels import config
from hwmodels.errors import MappingError

DIMS = config.DIM_NAMES
GROUPS = config.GROUP_NAMES  # ("NPQ", "M", "CRS")
TENSORS = ("W", "I", "O")
DRAM_NAMES = ("dram", "mainmemory", "main_memory", "offchip")
BUFFER_NAMES = ("glb", "shared_glb", "globalbuffer", "global_buffer", "buffer", "sram")
ARRAY_NAMES = ("", "array", "noc", "dummybuffer", "dummy_buffer")
_TENSOR_WORDS = {"w": "W", "weights": "W", "weight": "W", "i": "I", "inputs": "I", "input": "I", "ifmap": "I",
                 "o": "O", "outputs": "O", "output": "O", "psum": "O", "psums": "O"}
_BYPASS_NAME = {"W": "weights", "I": "inputs"}
MAX_FACTOR = 10 ** 9  # a written loop factor above this is refused while parsing (kernels count in int64)
_TOKEN = re.compile(r"\s*(?:(?P<sep>-(?=\s|$))|(?P<loop>[A-Za-z]\d+)(?:\s*\((?P<annot>[^)]*)\))?(?![\w\[])"
                    r"|(?P<level>[A-Za-z_][\w.]*)(?:\s*\[(?P<keep>[^\]]*)\])?|(?P<bad>\S+))")


def _group_of(dim: str) -> int:
    return int(config.GROUP_OF_DIM[DIMS.index(dim)])


@dataclass
class ParsedMapping:
    """What the text says: the `Mapping`, and the tensors the buffer keeps / bypasses.

    Attributes:
        mapping: the `hwmodels.fine.mapper.Mapping`.
        bypass: tensors absent from the buffer level's list, as spec names ("weights", "inputs"); None when the
            text lists no tensors there (the spec's `bypass` then decides).
        dram_factors: the DRAM loop factors written (8-tuple over `DIMS`; 1 where none is written).
    """

    mapping: object
    bypass: tuple
    dram_factors: tuple


@dataclass
class _Level:
    name: str
    keep: tuple | None
    loops: list  # (dim, factor, annotation or "")
    position: int  # character offset of the level in the text, for messages


def _err(text: str, token: str, why: str) -> MappingError:
    return MappingError(f"mapping {text.strip()!r}: token {token!r}: {why}")


def _tokens(text: str) -> list[_Level]:
    levels = [_Level("", None, [], 0)]
    fresh = True  # at the start of a level: a name may come
    for match in _TOKEN.finditer(text):
        if not match.group(0).strip():
            continue
        if match.group("sep"):
            if fresh and not levels[-1].loops and not levels[-1].name:
                raise _err(text, "-", "an empty level; write loops or a level name between separators")
            levels.append(_Level("", None, [], match.start()))
            fresh = True
        elif match.group("loop"):
            token = match.group("loop")
            dim, factor = token[0].upper(), int(token[1:])
            if dim not in DIMS:
                if fresh and match.group("annot") is None:  # a level name such as L2
                    levels[-1].name, fresh = token, False
                    continue
                raise _err(text, token, f"unknown dimension {token[0]!r}; allowed: {' '.join(DIMS)}")
            if factor < 1:
                raise _err(text, token, "a loop factor must be an integer >= 1")
            if factor > MAX_FACTOR:
                raise _err(text, token, f"a loop factor must be at most {MAX_FACTOR:.0e} (larger than any layer's "
                                        "loop bound)")
            levels[-1].loops.append((dim, factor, _annotation(text, token, match.group("annot"))))
            fresh = False
        elif match.group("level"):
            token = match.group("level")
            if not fresh:
                raise _err(text, token, "a level name must start a level (after ' - '); a loop is a dimension "
                                        f"letter ({' '.join(DIMS)}) and a factor, e.g. Q55 or M12(spatial X)")
            levels[-1].name = token
            levels[-1].keep = _keep(text, token, match.group("keep"))
            fresh = False
        else:
            token = match.group("bad")
            raise _err(text, token, "expected a level name (DRAM, GLB, ifmap_spad, ...), a loop such as Q55 or "
                                    "M12(spatial X), or ' - ' between levels")
    if len(levels) == 1 and not levels[0].name and not levels[0].loops:
        raise MappingError("mapping is empty; write e.g. 'DRAM[W,I,O] Q55 C3 - GLB[I,O] P55 M12(spatial X) - "
                           "PE R11 M8'")
    return levels


def _annotation(text: str, token: str, annot: str | None) -> str:
    if annot is None:
        return ""
    words = annot.replace("-", " ").lower().split()
    if words in (["spatial", "x"], ["spatial", "y"]):
        return "spatial " + words[1].upper()
    if words and words[0] == "lanes" and (len(words) == 1 or (len(words) == 2 and words[1].isdigit())):
        return " ".join(words)
    raise _err(text, f"{token}({annot})", "annotation allowed: (spatial X) = PE columns, (spatial Y) = PE rows, "
                                          "(lanes) or (lanes L) = in-PE SIMD / bit-serial lanes")


def _keep(text: str, name: str, keep: str | None) -> tuple | None:
    if keep is None:
        return None
    out = []
    for word in (w.strip() for w in keep.split(",")):
        if not word:
            continue
        tensor = _TENSOR_WORDS.get(word.lower())
        if tensor is None:
            raise _err(text, f"{name}[{keep}]", f"unknown tensor {word!r}; allowed: W (weights), I (inputs), "
                                                "O (outputs)")
        out.append(tensor)
    return tuple(t for t in TENSORS if t in out)


def _group_order(text: str, level: _Level) -> str:
    """Innermost-first group order (`mapper.order_name`) of a temporal level's loops."""
    sequence = []
    seen_other = False
    for dim, _, annot in level.loops:
        if annot.startswith("spatial"):
            continue
        group = _group_of(dim)
        if group < 0:  # G: outermost
            if seen_other:
                raise _err(text, f"{dim}", f"at level {level.name or 'DRAM'}: G loops are outermost in FlowQ; "
                                          "move them before the other loops")
            continue
        seen_other = True
        if sequence and sequence[-1] == group:
            continue
        if group in sequence:
            names = [d for d, _, a in level.loops if not a.startswith("spatial") and _group_of(d) == group]
            raise _err(text, f"{dim}", f"at level {level.name or 'DRAM'}: the loops of group {GROUPS[group]} "
                                      f"({', '.join(names)}) must be adjacent; FlowQ orders whole groups "
                                      f"{' / '.join(GROUPS)}")
        sequence.append(group)
    outer_to_inner = [g for g in range(len(GROUPS)) if g not in sequence] + sequence
    return "<".join(GROUPS[g] for g in reversed(outer_to_inner))


def parse_mapping_details(text: str, layer=None) -> ParsedMapping:
    """Parse the notation (module docstring) into a `ParsedMapping`.

    Args:
        text: one mapping, levels outermost first.
        layer: when given, the DRAM factors are checked against the layer's loop bounds.

    Raises:
        MappingError: naming the offending token and what is allowed there.
    """
    from hwmodels.fine.layout import layer_bounds
    from hwmodels.fine.mapper import Mapping

    levels = _tokens(text)
    dram = levels[0]
    if dram.name.lower() not in DRAM_NAMES:
        raise _err(text, dram.name or (dram.loops[0][0] + str(dram.loops[0][1])),
                   f"the first level must be DRAM (one of {', '.join(DRAM_NAMES)})")
    if dram.keep is not None and dram.keep != TENSORS:
        raise _err(text, f"{dram.name}[{','.join(dram.keep)}]", "DRAM keeps every tensor: write DRAM[W,I,O]")
    factors = {key: [1] * config.N_DIMS for key in ("dram", "buffer", "rows", "cols", "pe")}
    lanes, lane_dim, lanes_seen = 1, "M", False
    stage = "dram"  # dram -> buffer -> array -> pe, never back
    buffer_level, bypass = None, None
    for level in levels:
        name = level.name.lower()
        if level is dram:
            kind = "dram"
        elif name in BUFFER_NAMES and stage == "dram":
            kind, buffer_level = "buffer", level
            if level.keep is not None:
                bypass = tuple(_BYPASS_NAME[t] for t in ("W", "I") if t not in level.keep)
                if "O" not in level.keep:
                    raise _err(text, f"{level.name}[{','.join(level.keep)}]", "outputs cannot bypass the buffer; "
                                                                              "FlowQ bypasses W and/or I only")
        elif name in ARRAY_NAMES and stage in ("dram", "buffer", "array"):
            kind = "array"
        elif name in DRAM_NAMES + BUFFER_NAMES + ARRAY_NAMES:
            raise _err(text, level.name or "-", f"level {level.name or '(unnamed)'} out of place; order: DRAM, "
                                                "the buffer, spatial-only levels, then the PE's register files")
        else:
            kind = "pe"
        stage = kind
        for dim, factor, annot in level.loops:
            token = f"{dim}{factor}" + (f"({annot})" if annot else "")
            d = DIMS.index(dim)
            if annot.startswith("spatial"):
                if kind not in ("buffer", "array"):
                    raise _err(text, token, f"spatial loops belong to the buffer or a spatial-only level, not to "
                                            f"{level.name or 'this level'}")
                factors["cols" if annot.endswith("X") else "rows"][d] *= factor
                continue
            if annot.startswith("lanes"):
                if kind != "pe":
                    raise _err(text, token, "lanes run inside the PE: put (lanes) on a PE-level loop")
                if lanes_seen:
                    raise _err(text, token, "only one loop may carry (lanes)")
                lanes = int(annot.split()[1]) if " " in annot else factor
                lane_dim, lanes_seen = dim, True
            if kind == "array":
                raise _err(text, token, "a level without a name holds spatial loops only; put temporal loops at "
                                        "DRAM, the buffer or a PE register file")
            factors[kind][d] *= factor
    order_dram = _group_order(text, dram)
    order_buffer = _group_order(text, buffer_level) if buffer_level is not None else "NPQ<M<CRS"
    if layer is not None:
        bounds = [int(b) for b in layer_bounds(layer)]
        for d in range(config.N_DIMS):
            inner = factors["rows"][d] * factors["cols"][d] * factors["pe"][d] * factors["buffer"][d]
            implied = -(-bounds[d] // inner)
            if factors["dram"][d] != implied:
                raise MappingError(
                    f"mapping {text.strip()!r}: dimension {DIMS[d]} of layer {layer.name!r} has bound {bounds[d]}; "
                    f"the inner levels cover {inner} per step, so DRAM needs {DIMS[d]}{implied}, not "
                    f"{DIMS[d]}{factors['dram'][d]}")
    kwargs = dict(rows=tuple(factors["rows"]), cols=tuple(factors["cols"]), pe=tuple(factors["pe"]), lanes=lanes,
                  buffer=tuple(factors["buffer"]), order_buffer=order_buffer, order_dram=order_dram,
                  lane_dim=lane_dim)
    if "bypass" in {f.name for f in dataclasses.fields(Mapping)}:
        kwargs["bypass"] = bypass or ()
    return ParsedMapping(Mapping(**kwargs), bypass, tuple(factors["dram"]))


def parse_mapping(text: str, layer=None):
    """The `hwmodels.fine.mapper.Mapping` a notation string describes (see the module docstring).

    Raises:
        MappingError: naming the offending token and what is allowed there.
    """
    return parse_mapping_details(text, layer).mapping


def _dims_text(mask) -> str:
    return " ".join(d for d, on in zip(DIMS, mask) if on) or "none"


def _check_dataflow(mapping, layer, dataflow: str) -> None:
    """The spatial and PE loops of `mapping` are ones `dataflow` has (`config.DF_*`, the mapper's space): per array
    axis its primary dim and at most one replication dim; PE temporal loops over the dims the dataflow keeps in a
    PE (`DF_PE_DIMS`); lanes may run along any dim."""
    flow = config.DATAFLOW_CODES[dataflow]
    axes = (("rows", "(spatial Y)", mapping.rows, config.DF_ROW_PRIMARY[flow], config.DF_ROW_REPL[flow]),
            ("columns", "(spatial X)", mapping.cols, config.DF_COL_PRIMARY[flow], config.DF_COL_REPL[flow]))
    for axis, annot, factors, primary, repl in axes:
        allowed = [d == primary or repl[d] == 1 for d in range(config.N_DIMS)]
        used = [d for d in range(config.N_DIMS) if factors[d] > 1]
        wrong = [d for d in used if not allowed[d]]
        replicated = [d for d in used if d != primary]
        if wrong or len(replicated) > 1:
            token = " ".join(f"{DIMS[d]}{factors[d]}{annot}" for d in (wrong or replicated))
            primary_text = DIMS[primary] if primary >= 0 else "none"
            raise MappingError(
                f"layer {layer.name!r}: {token} is not a {dataflow} unrolling of the PE {axis}: {dataflow} unrolls "
                f"its primary dim ({primary_text}) times at most one of {_dims_text(repl)} there; give "
                f"--dataflow to match the mapping, or --dataflow any to evaluate it as written")
    lane_dim = DIMS.index(mapping.lane_dim)
    temporal = [mapping.pe[d] // (mapping.lanes if d == lane_dim else 1) for d in range(config.N_DIMS)]
    wrong = [d for d in range(config.N_DIMS) if temporal[d] > 1 and config.DF_PE_DIMS[flow, d] == 0]
    if wrong:
        token = " ".join(f"{DIMS[d]}{temporal[d]}" for d in wrong)
        raise MappingError(
            f"layer {layer.name!r}: PE loop(s) {token} are not {dataflow}: its PEs loop over "
            f"{_dims_text(config.DF_PE_DIMS[flow])} only (what they keep stationary; lanes may run along any "
            f"dim); give --dataflow to match the mapping, or --dataflow any to evaluate it as written")


def check_mapping(mapping, layer, spec, *, dataflow: str | None = None) -> None:
    """Refuse a mapping that the Fine mapper's space (`mapper.map_layer`) could not contain for `layer`.

    - Dataflow: `dataflow` (default `spec.dataflow`; "any" skips this check) must unroll the mapping's spatial dims
      and keep its PE loops (`_check_dataflow`).
    - Padding at most one step: taking each dim's factors in the order the mapper divides its bound (PE rows, PE
      columns, lanes, PE temporal loop, buffer), each factor is at most what is left of the bound,
      f <= ceil(n / product of the factors before it). Equivalently, with that nesting (rows innermost), no
      iteration of any loop is padding only; a factor above its loop bound (`PE Q64` for Q = 32) is refused.
    - Cover: the DRAM factor is ceil(n / inner product) (`Mapping.dram_factors`; the parser checks a written one),
      so the product of all factors covers every loop bound.
    Array, lane, RF and buffer capacities are the kernels' checks (`mapper.evaluate_mapping`).

    Raises:
        MappingError: naming the layer, the offending loop and what is allowed.
    """
    from hwmodels.fine.layout import layer_bounds

    dataflow = spec.dataflow if dataflow is None else dataflow
    if dataflow != "any":
        _check_dataflow(mapping, layer, dataflow)
    lane_dim = DIMS.index(mapping.lane_dim)
    if mapping.lanes < 1 or mapping.pe[lane_dim] % mapping.lanes:
        raise MappingError(f"layer {layer.name!r}: {mapping.lanes} lanes along {mapping.lane_dim} must divide its PE "
                           f"loop {mapping.lane_dim}{mapping.pe[lane_dim]}")
    bounds = [int(b) for b in layer_bounds(layer)]
    for d in range(config.N_DIMS):
        lanes = mapping.lanes if d == lane_dim else 1
        steps = (("PE rows (spatial Y)", mapping.rows[d]), ("PE columns (spatial X)", mapping.cols[d]),
                 ("lanes", lanes), ("PE tile", mapping.pe[d] // lanes), ("buffer", mapping.buffer[d]))
        left = bounds[d]
        for where, factor in steps:
            if factor > left:
                raise MappingError(
                    f"layer {layer.name!r}: {DIMS[d]}{factor} at the {where} exceeds what is left of dimension "
                    f"{DIMS[d]} (bound {bounds[d]}, {left} left after the loops inside it): a loop may pad at "
                    f"most one step; use {DIMS[d]}{left} or less there")
            left = -(-left // factor)


def _loops(factors, order: str) -> list[str]:
    """Loop tokens outermost first: G, then the groups of `order` (innermost first) reversed; factor-1 loops are
    left out (a group without real loops has no effect on any fetch count, see `canonical`)."""
    out = [f"G{factors[DIMS.index('G')]}"] if factors[DIMS.index("G")] != 1 else []
    for group in order.split("<")[::-1]:
        out += [f"{d}{factors[DIMS.index(d)]}" for d in group if factors[DIMS.index(d)] != 1]
    return out


def _canonical_order(factors, order: str) -> str:
    """`order` with the groups whose factors are all 1 moved outermost, in NPQ, M, CRS order (the parser's rule)."""
    real = [g for g in order.split("<")[::-1] if any(factors[DIMS.index(d)] != 1 for d in g)]
    outer_to_inner = [g for g in GROUPS if g not in real] + real
    return "<".join(reversed(outer_to_inner))


def canonical(mapping, layer=None):
    """`mapping` with trivial groups (all factors 1 at a level) placed as the parser places them.

    A loop of trip count 1 multiplies every fetch count by 1 wherever it sits, so the result costs the same;
    `parse_mapping(format_mapping(m, layer), layer) == canonical(m, layer)`. Without `layer` the DRAM factors are
    unknown and the DRAM order is kept.
    """
    order_dram = mapping.order_dram
    if layer is not None:
        order_dram = _canonical_order(mapping.dram_factors(layer), order_dram)
    return dataclasses.replace(mapping, order_buffer=_canonical_order(mapping.buffer, mapping.order_buffer),
                               order_dram=order_dram)


def format_mapping(mapping, layer=None, *, bypass: tuple = ()) -> str:
    """The notation of `mapping`: `DRAM[W,I,O] ... - GLB[...] ... (spatial X/Y) - PE ...`.

    Args:
        mapping: a `hwmodels.fine.mapper.Mapping`.
        layer: gives the DRAM factors (ceil(bound / inner factors)); without it DRAM lists only its order.
        bypass: tensors ("weights", "inputs") absent from the buffer (default: `mapping.bypass` if it has one).
    """
    bypass = tuple(getattr(mapping, "bypass", ()) or bypass)
    dram = mapping.dram_factors(layer) if layer is not None else (1,) * config.N_DIMS
    keep = [t for t in TENSORS if not (t in _BYPASS_NAME and _BYPASS_NAME[t] in bypass)]
    buffer = _loops(mapping.buffer, mapping.order_buffer)
    buffer += [f"{d}{f}(spatial X)" for d, f in zip(DIMS, mapping.cols) if f != 1]
    buffer += [f"{d}{f}(spatial Y)" for d, f in zip(DIMS, mapping.rows) if f != 1]
    pe = []
    for d, f in zip(DIMS, mapping.pe):
        if d == mapping.lane_dim and (mapping.lanes != 1 or d != "M"):
            pe.append(f"{d}{f}(lanes {mapping.lanes})")
        elif f != 1:
            pe.append(f"{d}{f}")
    return " - ".join([" ".join(["DRAM[W,I,O]"] + _loops(dram, mapping.order_dram)),
                       " ".join([f"GLB[{','.join(keep)}]"] + buffer),
                       " ".join(["PE"] + pe)])


def from_description(description: dict):
    """The `Mapping` behind `Mapping.describe()`'s dict (the per-layer "mapping" of a Fine `NetworkCost`)."""
    from hwmodels.fine.mapper import Mapping

    def factors(text):
        out = [1] * config.N_DIMS
        for token in (text or "-").split():
            if token != "-":
                out[DIMS.index(token[0])] = int(token[1:])
        return out

    lane = description.get("lanes", "M1")
    return Mapping.build(rows=dict(zip(DIMS, factors(description["spatial_rows"]))),
                         cols=dict(zip(DIMS, factors(description["spatial_cols"]))),
                         pe=dict(zip(DIMS, factors(description["pe_tile"]))), lanes=int(lane[1:]),
                         buffer=dict(zip(DIMS, factors(description["buffer_loops"]))),
                         order_buffer=description["buffer_order"], order_dram=description["dram_order"],
                         lane_dim=lane[0])


def read_mapping_file(path, layer_names=None) -> dict:
    """Mappings of a file: `layer_name: mapping` per line (`#` comments, blank lines ignored).

    A file with a single line and no `name:` prefix is one mapping, returned under the key None (for one layer).

    Raises:
        MappingError: unreadable file, a line without a name in a multi-line file, an unknown or repeated name.
    """
    try:
        lines = Path(path).read_text().splitlines()
    except OSError as error:
        raise MappingError(f"--mapping {path}: cannot read it ({error.strerror or error})") from None
    entries = [(n, line.split("#", 1)[0].strip()) for n, line in enumerate(lines, start=1)]
    entries = [(n, line) for n, line in entries if line]
    if not entries:
        raise MappingError(f"--mapping {path}: no mapping in the file; write 'layer_name: DRAM[W,I,O] ... - PE ...'")
    out = {}
    for n, line in entries:
        name, sep, rest = line.partition(":")
        if not sep or " " in name.strip() or name.strip().upper().startswith("DRAM"):
            if len(entries) == 1:
                return {None: line}
            raise MappingError(f"--mapping {path}:{n}: expected 'layer_name: mapping' (one line per layer)")
        name = name.strip()
        if layer_names is not None and name not in layer_names:
            raise MappingError(f"--mapping {path}:{n}: unknown layer {name!r}; layers: {', '.join(layer_names)}")
        if name in out:
            raise MappingError(f"--mapping {path}:{n}: layer {name!r} appears twice")
        out[name] = rest.strip()
    return out


def evaluate_mappings(workload, spec, bits_w, bits_a, mappings: dict, *, only=None, dataflow: str | None = None):
    """Fine `NetworkCost` of user mappings instead of searched ones (`flowq hw --mapping FILE`).

    Args:
        workload: list of `Layer`; output bitwidths follow its edges (`hwmodels.workload.output_bits`).
        spec: the accelerator.
        bits_w, bits_a: per-layer bitwidths of the whole workload.
        mappings: layer name -> `Mapping` or notation string; every reported layer needs one.
        only: layer names to report (default: all); `None` as a key of `mappings` maps the single reported layer.
        dataflow: the dataflow the mappings must follow (default `spec.dataflow`; "any": none), `check_mapping`.

    Raises:
        MappingError: a missing, unparsable or illegal mapping (names the layer).
        GenomeError: unsupported bitwidths.
    """
    import numpy as np

    from hwmodels import coarse
    from hwmodels.cost import NetworkCost
    from hwmodels.fine.mapper import evaluate_mapping
    from hwmodels.workload import output_bits_matrix

    BW, BA = coarse.check_bits(workload, spec, bits_w, bits_a)
    BO = output_bits_matrix(workload, BA, spec.b_max)
    base = coarse.coarse_layer_metrics(workload, spec, BW, BA)
    names = [layer.name for layer in workload]
    chosen = list(only) if only is not None else names
    for name in chosen:
        if name not in names:
            raise MappingError(f"unknown layer {name!r}; layers: {', '.join(names)}")
    if None in mappings:
        if len(chosen) != 1:
            raise MappingError("a mapping file without layer names holds one mapping; pick its layer with "
                               "--layer NAME, or write 'layer_name: mapping' lines")
        mappings = {chosen[0]: mappings[None]}
    missing = [name for name in chosen if name not in mappings]
    if missing:
        raise MappingError(f"no mapping given for layer(s) {', '.join(missing)}; write one line per layer "
                           "('layer_name: DRAM[W,I,O] ... - PE ...') or pick one layer with --layer NAME")
    rows, total_cost = [], None
    for name in chosen:
        k = names.index(name)
        layer, mapping = workload[k], mappings[name]
        if isinstance(mapping, str):
            parsed = parse_mapping_details(mapping, layer)
            if parsed.bypass is not None and parsed.bypass != tuple(spec.bypass):
                raise MappingError(f"layer {name!r}: the mapping's buffer level bypasses {list(parsed.bypass)} but "
                                   f"{spec.name!r} bypasses {list(spec.bypass)}; bypass is a spec option "
                                   f"(load_spec(..., bypass=[...])): make the GLB tensor list match it")
            mapping = parsed.mapping
        check_mapping(mapping, layer, spec, dataflow=dataflow)
        cost = evaluate_mapping(layer, spec, int(BW[0, k]), int(BA[0, k]), int(BO[0, k]), mapping)
        row = {"name": name}
        row.update({key: base[key][0, k].item() for key in ("ops", "frac_ops", "bitops", "weight_bits",
                                                            "activation_bits")})
        row.update(_fine_metrics(cost))
        row["mapping"] = mapping.describe(layer)
        row["mapping_text"] = format_mapping(mapping, layer, bypass=tuple(spec.bypass))
        rows.append(row)
        total_cost = cost if total_cost is None else total_cost + cost
    index = [names.index(name) for name in chosen]
    total = {key: float(base[key][0, index].sum()) for key in ("frac_ops", "bitops", "weight_bits",
                                                              "activation_bits")}
    total["ops"] = int(np.asarray(base["ops"][0, index]).sum())
    total.update(_fine_metrics(total_cost))
    return NetworkCost(level="fine", total=total, layers=rows)


def _fine_metrics(cost) -> dict:
    """Glossary keys of one `LayerCost` (as `mapper.evaluate_network` reports them)."""
    return {"dram_accesses_bits": cost.dram_accesses_bits, "latency_cycles": cost.latency_cycles,
            "compute_cycles": cost.compute_cycles, "throughput": cost.ops / cost.latency_cycles,
            "energy": cost.energy, "energy_by_level": dict(cost.energy_by_level), "utilization": cost.utilization,
            "ctc": cost.ops / (cost.dram_accesses_bits / 8.0)}


def evaluate_for_cli(workload, spec, bits_w, bits_a, *, mapping_file=None, layer=None, level="fine",
                     objective="energy", dataflow=None):
    """`flowq hw --mapping FILE [--layer NAME]`: user mappings from a file, or one searched layer.

    With `layer`, only that layer is reported (its output bitwidth still follows the whole network's edges);
    without `mapping_file` its mapping is searched for `objective`. `dataflow` ("any" or None) as in
    `evaluate_mappings`.

    Raises:
        MappingError: a level other than fine, an unknown layer, or any `read_mapping_file` /
            `evaluate_mappings` problem.
    """
    if level != "fine":
        raise MappingError(f"--mapping and --layer need --level fine (mappings exist at the Fine level), got "
                           f"--level {level}")
    names = [item.name for item in workload]
    if layer is not None and layer not in names:
        raise MappingError(f"--layer {layer!r}: no such layer; layers: {', '.join(names)}")
    only = [layer] if layer is not None else None
    if mapping_file is not None:
        mappings = read_mapping_file(mapping_file, names)
    else:
        import numpy as np

        from hwmodels import coarse
        from hwmodels.fine.mapper import map_layer
        from hwmodels.workload import output_bits_matrix

        BW, BA = coarse.check_bits(workload, spec, bits_w, bits_a)
        k = names.index(layer)
        b_out = output_bits_matrix(workload, BA, spec.b_max)[0, k]
        mappings = {layer: map_layer(workload[k], spec, int(BW[0, k]), int(BA[0, k]), int(np.int64(b_out)),
                                     objective=objective).mapping}
    return evaluate_mappings(workload, spec, bits_w, bits_a, mappings, only=only, dataflow=dataflow)
