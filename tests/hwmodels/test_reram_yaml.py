"""ReRAM spec files (issue 23): a file missing the crossbar geometry or the per-event energies exits 2 naming the
keys (it used to load with zero energies and a 100 % ADC share); a file with ReRAM keys but no `kind` gets a
ReRAM message instead of the digital loader's unknown-key list."""

from __future__ import annotations

import pytest
import yaml

from hwmodels.errors import SpecError
from hwmodels.reram import RERAM_PRESETS, load_reram_spec
from hwmodels.reram.spec import PRESET_DIR, missing_file_keys


def test_every_preset_gives_the_required_keys():
    for name in RERAM_PRESETS:
        assert missing_file_keys(yaml.safe_load((PRESET_DIR / f"{name}.yaml").read_text())) == []
        assert load_reram_spec(name).energy.adc > 0


def test_a_file_with_only_version_and_kind_names_the_missing_keys(tmp_path):
    path = tmp_path / "bare.yaml"
    path.write_text("version: 1\nkind: reram\n")
    with pytest.raises(SpecError, match="xbar_rows.*energy"):
        load_reram_spec(str(path))
    path.write_text("version: 1\nkind: reram\nxbar_rows: 128\nxbar_cols: 128\nbits_per_cell: 1\ndac_bits: 1\n"
                    "xbars_per_pe: 4\npes_per_tile: 4\nadc_law: sar\nenergy: {unit: pJ, adc: 0.1}\n")
    with pytest.raises(SpecError, match="energy.dac, energy.crossbar"):
        load_reram_spec(str(path))


def test_cli_exits_2_naming_the_keys_and_reports_a_kindless_reram_file(tmp_path, capsys):
    from flowq.cli import main

    bare = tmp_path / "bare.yaml"
    bare.write_text("version: 1\nkind: reram\n")
    assert main(["hw", "lenet5", "--hw", str(bare)]) == 2
    assert "missing required keys" in capsys.readouterr().err
    kindless = tmp_path / "kindless.yaml"
    data = yaml.safe_load((PRESET_DIR / "reram-puma.yaml").read_text())
    data.pop("kind")
    kindless.write_text(yaml.safe_dump(data))
    assert main(["hw", "lenet5", "--hw", str(kindless)]) == 2
    err = capsys.readouterr().err
    assert "kind: reram" in err and "xbar_rows" in err
