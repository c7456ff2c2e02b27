"""Tests of spec loading: every preset loads with its Table-1 values; each validation rule names its path."""

from pathlib import Path

import pytest
import yaml

from hwmodels.errors import SpecError
from hwmodels.spec import PRESET_DIR, PRESETS, load_spec, spec_from_dict


def _preset_dict(name="spatial-256"):
    return yaml.safe_load((PRESET_DIR / f"{name}.yaml").read_text())


# digital presets only: files with `kind: reram` belong to hwmodels.reram.load_reram_spec
DIGITAL_FILES = [p for p in sorted(PRESET_DIR.glob("*.yaml")) if yaml.safe_load(p.read_text()).get("kind") is None]


def test_digital_preset_files_are_the_presets():
    assert {p.stem for p in DIGITAL_FILES} == set(PRESETS) | {"example-custom"}


@pytest.mark.parametrize("path", DIGITAL_FILES, ids=lambda p: p.stem)
def test_every_preset_file_loads(path):
    spec = load_spec(str(path))
    assert spec.version == 1 and spec.n_pes >= 1


@pytest.mark.parametrize("name", PRESETS)
def test_every_preset_name_loads(name):
    assert load_spec(name).name == name


def test_presets_match_hw_flowq_table1():
    # hw-flowq Table 1: (array, SRAM KB, SRAM cost, array cost, RF filter/fmap/psum words, RF cost)
    table1 = {
        "spatial-168": ((12, 14), 128, 6.0, 2.0, (224, 12, 16), 1.0),
        "spatial-256": ((16, 16), 256, 13.84, 2.0, (224, 12, 16), 1.0),
        "spatial-1024": ((32, 32), 3072, 155.35, 2.0, (224, 12, 16), 1.0),
        "eyeriss-1024": ((32, 32), 3072, 155.35, 2.0, (224, 37, 16), 1.0),
        "eyeriss-256-db": ((16, 16), 128, 7.41, 0.0, (192, 12, 16), 0.99),
    }
    for name, (array, kb, buffer_cost, array_cost, rf_words, rf_cost) in table1.items():
        spec = load_spec(name)
        assert (spec.pe_rows, spec.pe_cols) == array
        assert spec.buffer_size_bits == kb * 1024 * 8
        assert spec.energy.buffer == buffer_cost and spec.energy.array == array_cost and spec.energy.dram == 200
        assert (spec.rf_filter_words, spec.rf_ifmap_words, spec.rf_psum_words) == rf_words
        assert spec.energy.rf_filter == spec.energy.rf_ifmap == spec.energy.rf_psum == rf_cost
        assert spec.pe_type == "simd" and spec.b_max == 16 and spec.bitwidths == (2, 4, 6, 8, 16)


@pytest.mark.parametrize("name,twin", [("bs-168", "spatial-168"), ("bs-256", "spatial-256"),
                                       ("bs-1024", "spatial-1024")])
def test_bitserial_presets(name, twin):
    # Table 1 footnote: same dimensioning for bit-serial; 16 lanes per PE, bitwidths 1..16
    spec, simd = load_spec(name), load_spec(twin)
    assert spec.pe_type == "bitserial" and spec.lanes == 16 and spec.bitwidths == tuple(range(1, 17))
    assert (spec.n_pes, spec.buffer_size_bits, spec.energy.buffer) == (simd.n_pes, simd.buffer_size_bits,
                                                                        simd.energy.buffer)


def test_timeloop_preset_energies():
    # REFERENCES 1.4: 168 PEs, RF 12/192/16 words, 128 KB, pJ MAC 2.20 psum 0.25 weight 1.59 ifmap 0.24 buf 18.80
    spec = load_spec("eyeriss-like-timeloop")
    energy = spec.energy
    assert spec.n_pes == 168 and spec.buffer_size_bits == 128 * 1024 * 8
    assert (spec.rf_ifmap_words, spec.rf_filter_words, spec.rf_psum_words) == (12, 192, 16)
    assert (energy.unit, energy.mac, energy.rf_psum, energy.rf_filter, energy.rf_ifmap, energy.buffer,
            energy.dram, energy.array) == ("pJ", 2.20, 0.25, 1.59, 0.24, 18.80, 128.0, 0.0)


def test_dataflow_argument_switches_dataflow():
    assert load_spec("spatial-256", dataflow="ws").dataflow == "WS"
    assert load_spec("spatial-256").with_dataflow("OS").dataflow == "OS"


def test_overrides_replace_fields():
    spec = load_spec("spatial-256", buffer_size_bits=8192, energy={"dram": 100.0})
    assert spec.buffer_size_bits == 8192 and spec.energy.dram == 100.0 and spec.energy.buffer == 13.84


# ---- error contract: one test per rule, each asserting the path is named ----------------------------------------

def _error(**changes) -> str:
    data = _preset_dict()
    data.update(changes)
    with pytest.raises(SpecError) as info:
        spec_from_dict(data, source="my.yaml")
    return str(info.value)


def test_unknown_preset_lists_presets():
    with pytest.raises(SpecError) as info:
        load_spec("spatial-512")
    assert "spatial-256" in str(info.value) and "eyeriss-like-timeloop" in str(info.value)


def test_unknown_key_lists_recognised_keys():
    message = _error(pe_row=4)
    assert "my.yaml.pe_row" in message and "recognised keys" in message and "pe_rows" in message


def test_unknown_energy_key():
    message = _error(energy={"dram": 200.0, "sram": 6.0})
    assert "my.yaml.energy.sram" in message and "buffer" in message


def test_missing_required_key():
    data = _preset_dict()
    del data["pe_cols"]
    with pytest.raises(SpecError, match=r"my\.yaml\.pe_cols: missing"):
        spec_from_dict(data, source="my.yaml")


def test_missing_version():
    data = _preset_dict()
    del data["version"]
    with pytest.raises(SpecError, match=r"my\.yaml\.version"):
        spec_from_dict(data, source="my.yaml")


def test_unsupported_version_names_supported():
    message = _error(version=2)
    assert "my.yaml.version: 2" in message and "supported: 1" in message


def test_mistyped_value():
    message = _error(pe_rows="sixteen")
    assert "my.yaml.pe_rows: 'sixteen'" in message and "integer" in message


def test_mistyped_bitwidths():
    assert "my.yaml.bitwidths" in _error(bitwidths="2,4")


def test_non_positive_dims():
    message = _error(pe_rows=0, pe_cols=-2)
    assert "my.yaml.pe_rows: 0" in message and "my.yaml.pe_cols: -2" in message


def test_negative_buffer_size():
    assert "my.yaml.buffer_size_bits: -8" in _error(buffer_size_bits=-8)


def test_unknown_dataflow():
    message = _error(dataflow="NLR")
    assert "my.yaml.dataflow: 'NLR'" in message and "RS, WS, OS" in message


def test_unknown_pe_type():
    message = _error(pe_type="analog")
    assert "my.yaml.pe_type: 'analog'" in message and "simd, bitserial" in message


def test_bitwidth_above_b_max():
    message = _error(bitwidths=[4, 8, 32])
    assert "my.yaml.bitwidths: [32]" in message and "b_max=16" in message


def test_bitwidth_below_one():
    assert "my.yaml.bitwidths: [0]" in _error(bitwidths=[0, 4])


def test_bitwidths_unsorted():
    assert "ascending" in _error(bitwidths=[8, 4])


def test_bitwidths_empty():
    assert "my.yaml.bitwidths: empty" in _error(bitwidths=[])


def test_psum_rf_must_hold_one_psum():
    message = _error(rf_psum_words=0)
    assert "my.yaml.rf_psum_words: 0" in message and "psum" in message


def test_filter_rf_must_hold_one_operand():
    assert "my.yaml.rf_filter_words: 0" in _error(rf_filter_words=0)


def test_lanes_at_least_one():
    assert "my.yaml.lanes: 0" in _error(pe_type="bitserial", lanes=0, bitwidths=[1, 2])


def test_simd_with_lanes_rejected():
    assert "my.yaml.lanes: 4" in _error(lanes=4)


def test_non_positive_bandwidth():
    assert "my.yaml.dram_bw_bits_per_cycle: 0.0" in _error(dram_bw_bits_per_cycle=0)


def test_negative_energy_and_unknown_unit():
    message = _error(energy={"dram": -1.0, "unit": "J"})
    assert "my.yaml.energy.dram: -1.0" in message and "my.yaml.energy.unit: 'J'" in message


def test_every_problem_collected_in_one_error():
    message = _error(pe_rows=0, dataflow="XY", colour="red", bitwidths=[64])
    assert message.count("\n") == 4  # header + 4 problem lines


def test_yaml_file_errors_name_the_file(tmp_path: Path):
    path = tmp_path / "mine.yaml"
    path.write_text("version: 1\npe_rows: 4\npe_cols: 4\ndataflow: XS\n")
    with pytest.raises(SpecError, match=r"mine\.yaml\.dataflow"):
        load_spec(str(path))
    assert load_spec(str(path), dataflow="OS").name == "mine"


def test_invalid_yaml_is_spec_error(tmp_path: Path):
    path = tmp_path / "broken.yaml"
    path.write_text("version: [1\n")
    with pytest.raises(SpecError, match="broken.yaml"):
        load_spec(str(path))


def test_with_buffer_bits_validates():
    with pytest.raises(SpecError, match="buffer_size_bits"):
        load_spec("spatial-168").with_buffer_bits(0)


# ---- double buffering, bypass and accounting options (issue 8 item 3) ---------------------------------------------

def test_option_defaults_keep_todays_model():
    # no preset turns an option on: perfect overlap, every tensor through the buffer, Eyeriss accounting
    for name in PRESETS:
        spec = load_spec(name)
        assert (spec.double_buffer, spec.bypass, spec.accounting) == (False, (), "eyeriss")


def test_options_load_and_bypass_is_canonical():
    spec = load_spec("eyeriss-like-timeloop", bypass=["inputs", "weights"], accounting="timeloop",
                     double_buffer=True)
    assert spec.bypass == ("weights", "inputs") and spec.accounting == "timeloop" and spec.double_buffer
    assert spec.bypasses("weights") and spec.bypasses("inputs")
    # the order a user lists the tensors in does not change the spec (it keys memo tables)
    assert spec == load_spec("eyeriss-like-timeloop", bypass=["weights", "inputs"], accounting="timeloop",
                             double_buffer=True)
    assert not load_spec("spatial-256").bypasses("weights")


def test_example_custom_documents_every_field():
    text = (PRESET_DIR / "example-custom.yaml").read_text()
    for key in ("double_buffer:", "bypass:", "accounting:"):
        assert key in text


@pytest.mark.parametrize("changes,needles", [
    ({"bypass": ["psums"]}, ("my.yaml.bypass", "psums", "weights, inputs")),
    ({"bypass": ["weights", "weights"]}, ("my.yaml.bypass", "at most once")),
    ({"bypass": "weights"}, ("my.yaml.bypass", "list of strings")),
    ({"accounting": "zigzag"}, ("my.yaml.accounting: 'zigzag'", "eyeriss, timeloop")),
    ({"double_buffer": 1}, ("my.yaml.double_buffer: 1", "true or false")),
    ({"double_buffer": "yes"}, ("my.yaml.double_buffer", "true or false")),
])
def test_option_errors_name_field_value_and_allowed(changes, needles):
    message = _error(**changes)
    for needle in needles:
        assert needle in message
