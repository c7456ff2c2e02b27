"""`flowq hw --mapping FILE / --layer NAME`: user mappings in the loop-nest notation, evaluated instead of searched."""

import json
from pathlib import Path

import pytest

from flowq.cli import main


def _json(capsys, argv):
    assert main(argv) == 0
    return json.loads(capsys.readouterr().out)


def test_printed_mappings_evaluate_to_the_searched_costs(tmp_path, capsys):
    searched = _json(capsys, ["hw", "lenet5", "--hw", "spatial-256", "--bits", "8", "--json"])
    lines = [f"{row['name']}: {row['mapping_text']}" for row in searched["layers"]]
    assert all(text.split(": ", 1)[1].startswith("DRAM[W,I,O]") for text in lines)
    path = tmp_path / "lenet.map"
    path.write_text("\n".join(lines) + "\n")
    given = _json(capsys, ["hw", "lenet5", "--hw", "spatial-256", "--bits", "8", "--mapping", str(path), "--json"])
    for a, b in zip(searched["layers"], given["layers"]):
        assert a["name"] == b["name"] and a["mapping_text"] == b["mapping_text"]
        assert b["energy"] == pytest.approx(a["energy"], rel=1e-12)
        assert b["latency_cycles"] == a["latency_cycles"]
    assert given["total"]["energy"] == pytest.approx(searched["total"]["energy"], rel=1e-12)


def test_one_layer_with_a_bare_mapping(tmp_path, capsys):
    one = _json(capsys, ["hw", "lenet5", "--layer", "conv2", "--bits", "4", "--json"])
    assert [row["name"] for row in one["layers"]] == ["conv2"]
    path = tmp_path / "conv2.map"
    path.write_text(one["layers"][0]["mapping_text"] + "\n")
    again = _json(capsys, ["hw", "lenet5", "--layer", "conv2", "--bits", "4", "--mapping", str(path), "--json"])
    assert again["total"]["energy"] == pytest.approx(one["total"]["energy"], rel=1e-12)
    assert main(["hw", "lenet5", "--layer", "conv2", "--bits", "4", "--mapping", str(path)]) == 0
    assert "conv2: DRAM[W,I,O]" in capsys.readouterr().out


@pytest.mark.parametrize("content, argv, needle", [
    ("conv1: DRAM Q5 Z3 - PE\n", ["--layer", "conv1"], "token 'Z3'"),
    ("DRAM - PE\n", [], "pick its layer with --layer"),
    ("conv1: DRAM - PE\n", [], "no mapping given for layer(s) conv2, fc1"),
    ("conv1: DRAM - PE\n", ["--level", "mid"], "need --level fine"),
    ("conv1: DRAM - PE\n", ["--layer", "conv7"], "--layer 'conv7': no such layer"),
    ("conv1: DRAM - GLB - PE M6\n", ["--layer", "conv1"], "DRAM needs"),
])
def test_bad_mappings_exit_2_with_a_message(tmp_path, capsys, content, argv, needle):
    path = tmp_path / "bad.map"
    path.write_text(content)
    assert main(["hw", "lenet5", "--mapping", str(path), *argv]) == 2
    assert needle in capsys.readouterr().err


def test_timeloop_conv1_mapping_from_a_spec_file(tmp_path, capsys):
    # Timeloop's eyeriss_like conventions as a user spec file: weights bypass the GLB, fills charged where written
    spec = tmp_path / "timeloop.yaml"
    text = (Path(__file__).resolve().parents[2] / "hwmodels" / "presets" / "eyeriss-like-timeloop.yaml").read_text()
    spec.write_text(text.replace("bypass: []", "bypass: [weights]").replace("accounting: eyeriss",
                                                                            "accounting: timeloop"))
    mapping = tmp_path / "conv1.map"
    mapping.write_text("conv1: DRAM[W,I,O] Q55 C3 - GLB[I,O] P55 M12(spatial X) - S11(spatial Y) - ifmap_spad Q1 - "
                       "weights_spad R11 - psum_spad M8\n")
    out = _json(capsys, ["hw", "alexnet", "--hw", str(spec), "--layer", "conv1", "--mapping", str(mapping), "--json"])
    row = out["layers"][0]
    macs = 96 * 55 * 55 * 3 * 11 * 11  # 105,415,200
    # REFERENCES.md 1.4 (Timeloop's log): DRAM 3.18 pJ/MAC, MAC 2.20 pJ/MAC, 798,600 cycles
    assert row["energy_by_level"]["dram"] / macs == pytest.approx(3.18, rel=0.05)
    assert row["energy_by_level"]["mac"] / macs == pytest.approx(2.20, rel=0.05)
    assert row["latency_cycles"] == pytest.approx(798_600, rel=0.05)
    assert row["mapping_text"].startswith("DRAM[W,I,O] Q55 C3 - GLB[I,O] P55")
