"""Design spaces: loading, validation error contract, Table-1 energy law, decode/encode of the presets."""

import math

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from hwmodels.space import SPACES, EnergyLaw, SpaceError, load_space, space_from_dict, spec_to_yaml
from hwmodels.spec import load_spec

KB = 1024 * 8  # bits


def _space(**overrides):
    data = {"version": 1, "name": "t", "base": "spatial-256",
            "genes": {"pe_array": {"fields": ["pe_rows", "pe_cols"], "values": [[8, 8], [16, 16]]},
                      "buffer_size_bits": {"values": [128 * KB, 256 * KB]}}}
    data.update(overrides)
    return space_from_dict(data, source="t.yaml")


def test_every_packaged_space_loads():
    assert "spatial" in SPACES
    for name in SPACES:
        space = load_space(name)
        assert space.size >= 2 and space.n_genes >= 2


@pytest.mark.parametrize("kb, energy", [(128, 6.0), (256, 13.84), (3072, 155.35)])
def test_table1_points_are_exact(kb, energy):
    assert EnergyLaw()(kb * KB) == energy


def test_table1_loglog_law_between_and_beyond_points_by_hand():
    law = EnergyLaw()
    # 192 KB lies between 128 KB (6) and 256 KB (13.84): power law 6 * (192/128)^(log(13.84/6)/log 2)
    assert law(192 * KB) == pytest.approx(6 * 1.5 ** (math.log(13.84 / 6) / math.log(2)), rel=1e-12)
    # 1024 KB between 256 KB and 3072 KB: 13.84 * 4^(log(155.35/13.84)/log 12)
    assert law(1024 * KB) == pytest.approx(13.84 * 4 ** (math.log(155.35 / 13.84) / math.log(12)), rel=1e-12)
    # below the table the first segment's power law continues: 64 KB -> 6 / 2^(log2(13.84/6)) = 6 * 6 / 13.84
    assert law(64 * KB) == pytest.approx(6 * 6 / 13.84, rel=1e-12)
    linear = EnergyLaw(interpolation="linear")
    assert linear(192 * KB) == pytest.approx((6 + 13.84) / 2)
    assert linear(64 * KB) == 6.0  # clamped


@settings(max_examples=80, deadline=None)
@given(a=st.integers(1, 1 << 28), b=st.integers(1, 1 << 28))
def test_energy_law_is_positive_and_monotone(a, b):
    law = EnergyLaw()
    lo, hi = sorted((a, b))
    assert 0 < law(lo) <= law(hi)


def test_presets_decode_to_their_own_spec():
    space = load_space("spatial")
    for name in ("spatial-168", "spatial-256", "spatial-1024"):
        preset = load_spec(name)
        spec = space.decode(space.encode(preset))
        for field in ("pe_rows", "pe_cols", "buffer_size_bits", "dataflow", "dram_bw_bits_per_cycle",
                      "rf_filter_words", "rf_ifmap_words", "rf_psum_words", "bitwidths"):
            assert getattr(spec, field) == getattr(preset, field), (name, field)
        assert spec.energy == preset.energy  # the law reproduces Table 1 at 128 / 256 / 3072 KB


def test_decode_is_memoised_and_named_by_genes():
    space = _space()
    a, b = space.decode([1, 0]), space.decode([1, 0])
    assert a is b and a.name == "t[pe_array=16x16,buffer_size_bits=1048576]"
    assert (a.pe_rows, a.pe_cols, a.buffer_size_bits, a.energy.buffer) == (16, 16, 128 * KB, 6.0)
    params = space.hw_params([1, 0])
    assert params["pe_rows"] == 16 and params["energy.buffer"] == 6.0 and params["area_mm2"] > 0


def test_user_energy_table_replaces_the_default():
    space = _space(energy_laws={"buffer": {"points": [[128 * KB, 1.0], [256 * KB, 2.0]], "interpolation": "linear"}})
    assert space.decode([0, 1]).energy.buffer == 2.0


def test_spec_yaml_round_trip(tmp_path):
    space = load_space("spatial")
    spec = space.decode([3, 2, 1])
    path = tmp_path / "mine.yaml"
    path.write_text(spec_to_yaml(spec))
    back = load_spec(str(path))
    assert back == spec


@pytest.mark.parametrize("override, where", [
    ({"version": 2}, "t.yaml.version"),
    ({"colour": 1}, "t.yaml.colour: unknown key"),
    ({"base": "no-such-preset"}, "t.yaml.base"),
    ({"genes": {"pe_rows": {"values": [0, 4]}}}, "t.yaml.genes.pe_rows.values[0]"),
    ({"genes": {"pe_rows": {"values": ["x"]}}}, "wrong type"),
    ({"genes": {"warp": {"values": [1]}}}, "t.yaml.genes.warp.fields"),
    ({"genes": {"dataflow": {"values": ["RS", "RS"]}}}, "repeats"),
    ({"genes": {"dataflow": {"vals": ["RS"]}}}, "t.yaml.genes.dataflow.vals: unknown key"),
    ({"genes": {"a": {"fields": ["pe_rows"], "values": [4]}, "b": {"fields": ["pe_rows"], "values": [8]}}},
     "already set by gene a"),
    ({"energy_laws": {"buffer": {"points": [[2, 1.0], [1, 2.0]]}}}, "strictly ascending"),
    ({"energy_laws": {"buffer": {"points": [[1, -1.0]]}}}, "positive numbers"),
    ({"energy_laws": {"sram": {}}}, "t.yaml.energy_laws.sram: unknown energy key"),
    ({"energy_laws": {"buffer": {"interpolation": "cubic"}}}, "interpolation"),
    ({"area": {"sram_cell": 1}}, "t.yaml.area.sram_cell"),
])
def test_error_contract_names_the_path(override, where):
    with pytest.raises(SpaceError, match=None) as info:
        _space(**override)
    assert where in str(info.value)


def test_illegal_combination_is_rejected_up_front(tmp_path):
    # each value is legal on the base alone (bitwidths up to 8 fit b_max 8; 16 fits b_max 16), but b_max = 8
    # together with bitwidths [4, 16] is not: the loader decodes every combination and says so
    base = tmp_path / "base.yaml"
    base.write_text(spec_to_yaml(load_spec("spatial-256", bitwidths=[2, 4, 8])))
    data = {"version": 1, "base": str(base),
            "genes": {"b_max": {"values": [16, 8]}, "bitwidths": {"values": [[2, 4, 8], [4, 16]]}}}
    with pytest.raises(SpaceError, match="not legal specs") as info:
        space_from_dict(data, source="x.yaml")
    assert "b_max=8,bitwidths=(4, 16)" in str(info.value) or "'b_max': 1, 'bitwidths': 1" in str(info.value)


def test_unknown_space_lists_packaged(tmp_path):
    with pytest.raises(SpaceError, match="spatial"):
        load_space("nope")
    bad = tmp_path / "bad.yaml"
    bad.write_text("version: [1\n")
    with pytest.raises(SpaceError, match="not valid YAML"):
        load_space(str(bad))
    good = tmp_path / "good.yaml"
    good.write_text(yaml.safe_dump({"version": 1, "genes": {"dataflow": {"values": ["RS", "OS"]}}}))
    assert load_space(str(good)).size == 2


def test_out_of_range_genes_raise():
    space = _space()
    with pytest.raises(SpaceError, match="outside"):
        space.decode([2, 0])
    with pytest.raises(SpaceError, match="expected 2"):
        space.decode([0])
