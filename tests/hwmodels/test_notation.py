"""Mapping notation: Timeloop's CONV1 mapping parses into the right factors, errors name the token, round trips."""

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hwmodels import config
from hwmodels.errors import MappingError
from hwmodels.fine.mapper import Mapping, order_name
from hwmodels.fine.notation import (canonical, format_mapping, parse_mapping, parse_mapping_details,
                                    read_mapping_file)
from hwmodels.workload import Layer
from hwmodels.zoo import get_workload

# REFERENCES.md 1.4 / issue 8: Timeloop's final mapping of AlexNet CONV1 on eyeriss_like, outermost level first
TIMELOOP_CONV1 = ("DRAM[W,I,O] Q55 C3 - GLB[I,O] P55 M12(spatial X) - S11(spatial Y) - ifmap_spad Q1 - "
                  "weights_spad R11 - psum_spad M8")
CONV1 = get_workload("alexnet")[0]  # C 3, M 96, P = Q = 55, R = S = 11, stride 4


def _dims(**factors):
    return tuple(factors.get(d, 1) for d in config.DIM_NAMES)


def test_timeloop_conv1_parses_into_its_factors():
    parsed = parse_mapping_details(TIMELOOP_CONV1, CONV1)
    m = parsed.mapping
    assert m.cols == _dims(M=12)              # Spatial-X = the 14 PE columns
    assert m.rows == _dims(S=11)              # Spatial-Y = the 12 PE rows
    assert m.pe == _dims(R=11, M=8)           # ifmap_spad Q1 x weights_spad R11 x psum_spad M8
    assert m.buffer == _dims(P=55)
    assert (m.lanes, m.lane_dim) == (1, "M")
    assert parsed.dram_factors == _dims(Q=55, C=3)
    assert m.dram_factors(CONV1) == parsed.dram_factors  # 96 = 12 x 8, 11 = 11, 55 = 55: nothing left over
    assert parsed.bypass == ("weights",)      # GLB[I,O]: weights go DRAM -> weights_spad
    # DRAM: Q outside C -> CRS innermost, then NPQ; M has no loop there -> outermost
    assert m.order_dram == "CRS<NPQ<M"
    # buffer: only P has a loop; the empty groups M and CRS sit outside it, M outermost (NPQ, M, CRS order)
    assert m.order_buffer == "NPQ<CRS<M"


def test_printer_writes_the_timeloop_mapping_back():
    parsed = parse_mapping_details(TIMELOOP_CONV1, CONV1)
    text = format_mapping(parsed.mapping, CONV1, bypass=parsed.bypass)
    assert text == "DRAM[W,I,O] Q55 C3 - GLB[I,O] P55 M12(spatial X) S11(spatial Y) - PE M8 R11"
    assert parse_mapping(text, CONV1) == parsed.mapping


@pytest.mark.parametrize("text, needles", [
    ("", ("empty",)),
    ("GLB Q5", ("'GLB'", "first level must be DRAM")),
    ("DRAM Q55 Z3", ("'Z3'", "unknown dimension 'Z'", "N G M C P Q R S")),
    ("DRAM Q0", ("'Q0'", ">= 1")),
    ("DRAM Q55 GLB P5", ("'GLB'", "must start a level")),
    ("DRAM Q5 @3", ("'@3'", "expected a level name")),
    ("DRAM - - PE M2", ("'-'", "empty level")),
    ("DRAM Q5(spatial X)", ("'Q5(spatial X)'", "spatial loops belong")),
    ("DRAM - GLB M12(spatial Z)", ("M12(spatial Z)", "(spatial X)", "(spatial Y)", "(lanes)")),
    ("DRAM - GLB - Q3 - PE", ("'Q3'", "spatial loops only")),
    ("DRAM - GLB M2(lanes)", ("'M2(lanes)'", "inside the PE")),
    ("DRAM - PE M2(lanes) C2(lanes)", ("'C2(lanes)'", "only one loop")),
    ("DRAM Q5 C3 P11", ("'P'", "group NPQ", "(Q, P)", "adjacent")),
    ("DRAM M2 G2", ("'G'", "outermost")),
    ("DRAM - GLB[W,X] P5", ("GLB[W,X]", "unknown tensor 'X'", "W (weights)")),
    ("DRAM - GLB[W,I] P5", ("GLB[W,I]", "outputs cannot bypass")),
    ("DRAM[W] - PE", ("DRAM[W]", "DRAM[W,I,O]")),
    ("DRAM - PE M2 - GLB P5", ("'GLB'", "out of place")),
])
def test_errors_name_the_token_and_what_is_allowed(text, needles):
    with pytest.raises(MappingError) as info:
        parse_mapping(text)
    for needle in needles:
        assert needle in str(info.value)


def test_dram_factors_are_checked_against_the_layer():
    # the inner levels cover Q 1 per step, so DRAM needs Q55; Q50 would leave 5 output columns unmapped
    with pytest.raises(MappingError, match=r"dimension Q of layer 'conv1' has bound 55.*DRAM needs Q55, not Q50"):
        parse_mapping(TIMELOOP_CONV1.replace("Q55", "Q50"), CONV1)
    # without a layer nothing is checked
    assert parse_mapping(TIMELOOP_CONV1.replace("Q55", "Q50")).buffer == _dims(P=55)


def test_buffer_tensor_list_follows_the_spec():
    from hwmodels.spec import load_spec
    from hwmodels.fine.notation import evaluate_mappings

    assert parse_mapping_details("DRAM - GLB P5 - PE").bypass is None  # no list: the spec decides
    assert parse_mapping_details("DRAM - GLB[W,I,O] P5 - PE").bypass == ()
    layers = get_workload("alexnet")
    bits = [16] * len(layers)
    with pytest.raises(MappingError, match=r"bypasses \['weights'\] but 'eyeriss-like-timeloop' bypasses \[\]"):
        evaluate_mappings(layers, load_spec("eyeriss-like-timeloop"), bits, bits, {"conv1": TIMELOOP_CONV1},
                          only=["conv1"])


def test_lanes_annotation_and_aliases():
    m = parse_mapping("MainMemory - shared_glb[inputs, outputs] M4 - DummyBuffer P7(spatial-x) - RF C8(lanes 4) R3")
    assert (m.lanes, m.lane_dim, m.pe) == (4, "C", _dims(C=8, R=3))
    assert m.cols == _dims(P=7) and m.buffer == _dims(M=4)
    assert parse_mapping("DRAM - PE Q4(lanes)").lanes == 4


def test_read_mapping_file(tmp_path):
    path = tmp_path / "maps.txt"
    path.write_text("# ResNet layers\nconv1: DRAM - GLB P4 - PE M2\n\nfc: DRAM C4 - PE  # the classifier\n")
    assert read_mapping_file(path, ["conv1", "fc"]) == {"conv1": "DRAM - GLB P4 - PE M2", "fc": "DRAM C4 - PE"}
    single = tmp_path / "one.txt"
    single.write_text(TIMELOOP_CONV1 + "\n")
    assert read_mapping_file(single) == {None: TIMELOOP_CONV1}
    path.write_text("conv1: DRAM - PE\nDRAM - PE\n")
    with pytest.raises(MappingError, match=r"maps.txt:2: expected 'layer_name: mapping'"):
        read_mapping_file(path)
    path.write_text("conv9: DRAM - PE\nfc: DRAM - PE\n")
    with pytest.raises(MappingError, match=r"unknown layer 'conv9'; layers: conv1, fc"):
        read_mapping_file(path, ["conv1", "fc"])
    with pytest.raises(MappingError, match="cannot read"):
        read_mapping_file(tmp_path / "missing.txt")


# ---- round trip over random mappings -----------------------------------------------------------------------------

FACTOR = st.sampled_from([1, 1, 1, 2, 3, 5])


@st.composite
def _mappings(draw):
    vec = lambda: tuple(draw(FACTOR) for _ in config.DIM_NAMES)  # noqa: E731
    lane_dim = draw(st.sampled_from(config.DIM_NAMES))
    mapping = Mapping(rows=vec(), cols=vec(), pe=vec(), lanes=draw(st.sampled_from([1, 2, 4])),
                      buffer=vec(), order_buffer=order_name(draw(st.integers(0, config.N_ORDERS - 1))),
                      order_dram=order_name(draw(st.integers(0, config.N_ORDERS - 1))), lane_dim=lane_dim)
    dram = vec()
    n, g, m, c, p, q, r, s = (dram[d] * mapping.rows[d] * mapping.cols[d] * mapping.pe[d] * mapping.buffer[d]
                              for d in range(config.N_DIMS))
    layer = Layer("x", "conv", g * c, g * m, p, q, r, s, 1, g, n)
    return mapping, layer


@settings(max_examples=300, deadline=None)
@given(_mappings())
def test_print_then_parse_gives_the_mapping_back(case):
    mapping, layer = case
    text = format_mapping(mapping, layer)
    assert parse_mapping(text, layer) == canonical(mapping, layer)
    # canonical only moves loops of trip count 1: the factors are untouched
    assert canonical(mapping, layer).pe == mapping.pe and canonical(mapping, layer).buffer == mapping.buffer
