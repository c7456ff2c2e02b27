"""Area model: hand-derived areas of the Table-1 presets from the published per-unit areas, monotonicity, errors."""

from dataclasses import replace

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hwmodels.area import AreaTable, area_breakdown, area_mm2
from hwmodels.errors import SpecError
from hwmodels.spec import load_spec

# Per-unit areas (um^2, 40 nm): Aladdin 32x32 multiplier 6350, 32-bit adder 278, register bit 5.98; SRAM bit from
# ISAAC's 64 KB / 0.083 mm^2 at 32 nm scaled by (40/32)^2.
SRAM_BIT = 83000.0 / (64 * 1024 * 8) * (40 / 32) ** 2  # 0.247360...
MAC_16 = 6350.0 * 16 * 16 / 1024 + 278.0 * 32 / 32  # 1587.5 + 278 = 1865.5 um^2 (16x16 multiplier + 32-bit adder)
RF_TABLE1 = (224 + 12 + 16) * 16 * 5.98  # 252 words of 16 bits = 4032 register bits = 24111.36 um^2
PE_TABLE1 = MAC_16 + RF_TABLE1  # 25976.86 um^2


@pytest.mark.parametrize("preset, n_pes, buffer_kb, expected_mm2", [
    ("spatial-168", 168, 128, 4.6235),  # 168 * 25976.86 um^2 = 4.3641 mm^2, + 1 Mbit * 0.24736 = 0.2594 mm^2
    ("spatial-256", 256, 256, 7.1688),  # 6.6501 + 0.5188
    ("spatial-1024", 1024, 3072, 32.825),  # 26.6003 + 6.2250
])
def test_table1_preset_areas_by_hand(preset, n_pes, buffer_kb, expected_mm2):
    spec = load_spec(preset)
    parts = area_breakdown(spec)
    assert parts["pe_array"] == pytest.approx(n_pes * PE_TABLE1 * 1e-6, rel=1e-9)
    assert parts["buffer"] == pytest.approx(buffer_kb * 1024 * 8 * SRAM_BIT * 1e-6, rel=1e-9)
    assert parts["total"] == pytest.approx(expected_mm2, abs=5e-4)
    assert area_mm2(spec) == parts["total"]
    assert parts["mac"] + parts["rf"] == pytest.approx(parts["pe_array"])


def test_bitserial_lanes_scale_the_mac_area():
    # a bit-serial lane: 1 x 16 partial-product row (6350 * 16 / 1024 = 99.22 um^2) + 32-bit shift-adder (278)
    spec = replace(load_spec("bs-168"), lanes=4)
    lane = 6350.0 * 16 / 1024 + 278.0
    assert area_breakdown(spec)["mac"] == pytest.approx(spec.n_pes * 4 * lane * 1e-6)


def test_user_table_overrides_and_errors():
    table = AreaTable.from_dict({"sram_bit": 1.0})
    spec = load_spec("spatial-168")
    assert area_breakdown(spec, table)["buffer"] == pytest.approx(1048576 * 1e-6)
    with pytest.raises(SpecError, match="area.sram_cell: unknown key"):
        AreaTable.from_dict({"sram_cell": 1.0})
    with pytest.raises(SpecError, match="register_bit"):
        AreaTable(register_bit=-1)


@settings(max_examples=60, deadline=None)
@given(rows=st.integers(1, 64), cols=st.integers(1, 64), buf=st.integers(1, 1 << 26), rf=st.integers(1, 512),
       grow=st.sampled_from(["pe_rows", "pe_cols", "buffer_size_bits", "rf_filter_words", "rf_psum_words"]))
def test_area_grows_with_every_resource(rows, cols, buf, rf, grow):
    spec = replace(load_spec("spatial-168"), pe_rows=rows, pe_cols=cols, buffer_size_bits=buf, rf_filter_words=rf)
    bigger = replace(spec, **{grow: getattr(spec, grow) * 2})
    assert area_mm2(bigger) > area_mm2(spec) > 0


def test_area_is_a_metric_at_every_level_and_depends_on_the_spec_only():
    import numpy as np

    from hwmodels.api import evaluate, evaluate_population
    from hwmodels.zoo import get_workload

    workload = get_workload("lenet5")
    spec = load_spec("spatial-168")
    for bits in (4, 16):
        BW = np.full((2, len(workload)), bits)
        out = evaluate_population(workload, spec, BW, BW, level="coarse")
        assert out["area"].tolist() == pytest.approx([4.6235] * 2, abs=5e-4)
    assert evaluate(workload, spec, BW[0], BW[0], level="mid").total["area"] == pytest.approx(4.6235, abs=5e-4)
