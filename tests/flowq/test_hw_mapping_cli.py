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
    # Timeloop's R / S are FlowQ's S / R (filter width / height): as written its S11(spatial Y) is not FlowQ's RS
    assert main(["hw", "alexnet", "--hw", str(spec), "--layer", "conv1", "--mapping", str(mapping)]) == 2
    assert "S11(spatial Y) is not a RS unrolling of the PE rows" in capsys.readouterr().err
    out = _json(capsys, ["hw", "alexnet", "--hw", str(spec), "--layer", "conv1", "--mapping", str(mapping), "--json",
                         "--dataflow", "any"])
    row = out["layers"][0]
    macs = 96 * 55 * 55 * 3 * 11 * 11  # 105,415,200
    # REFERENCES.md 1.4 (Timeloop's log): DRAM 3.18 pJ/MAC, MAC 2.20 pJ/MAC, 798,600 cycles
    assert row["energy_by_level"]["dram"] / macs == pytest.approx(3.18, rel=0.05)
    assert row["energy_by_level"]["mac"] / macs == pytest.approx(2.20, rel=0.05)
    assert row["latency_cycles"] == pytest.approx(798_600, rel=0.05)
    assert row["mapping_text"].startswith("DRAM[W,I,O] Q55 C3 - GLB[I,O] P55")


# ---- issue 18 item 5: --mapping is checked against the dataflow, the loop bounds and int64 -------------------------
WS_STYLE = "DRAM[W,I,O] P32 Q32 - GLB[W,I,O] M16(spatial X) C16(spatial Y) - PE R3 S3"  # layer1.0.conv1, 16x16


def _run_mapping(tmp_path, capsys, text, *argv):
    path = tmp_path / "one.map"
    path.write_text(text + "\n")
    status = main(["hw", "resnet20", "--layer", "layer1.0.conv1", "--bits", "8", "--mapping", str(path), *argv])
    return status, capsys.readouterr()


def test_a_mapping_must_follow_the_stated_dataflow(tmp_path, capsys):
    status, out = _run_mapping(tmp_path, capsys, WS_STYLE, "--dataflow", "OS")
    assert status == 2 and "C16(spatial Y) is not a OS unrolling of the PE rows" in out.err
    assert "--dataflow any" in out.err and "Traceback" not in out.err
    status, out = _run_mapping(tmp_path, capsys, WS_STYLE, "--dataflow", "WS", "--json")
    assert status == 0 and json.loads(out.out)["dataflow"] == "WS"
    ws = json.loads(out.out)["total"]
    status, out = _run_mapping(tmp_path, capsys, WS_STYLE, "--dataflow", "any", "--json")
    assert status == 0 and json.loads(out.out)["total"]["energy"] == pytest.approx(ws["energy"], rel=1e-12)
    # a PE loop over a dim the dataflow does not keep in its PEs (WS keeps weights: no output columns)
    status, out = _run_mapping(tmp_path, capsys, WS_STYLE.replace("P32 Q32", "P32 Q8").replace("S3", "S3 Q4"),
                               "--dataflow", "WS")
    assert status == 2 and "PE loop(s) Q4 are not WS" in out.err
    # two replication dims on one axis
    two = "DRAM[W,I,O] P32 Q32 M4 C4 - GLB M4(spatial X) C4(spatial X) - PE R3 S3"
    status, out = _run_mapping(tmp_path, capsys, two, "--dataflow", "RS")
    assert status == 2 and "M4(spatial X) C4(spatial X) is not a RS unrolling of the PE columns" in out.err
    assert main(["hw", "resnet20", "--dataflow", "any"]) == 2
    assert "--dataflow any applies to --mapping" in capsys.readouterr().err


@pytest.mark.parametrize("text, needle", [
    # issue: PE Q64 for Q = 32 was accepted at utilisation 0.002
    ("DRAM[W,I,O] M16 C16 R3 S3 P4 - GLB - P8(spatial Y) Q4(spatial X) - PE Q64", "Q64 at the PE tile exceeds what is "
     "left of dimension Q (bound 32, 8 left"),
    ("DRAM[W,I,O] M16 C16 R3 S3 - GLB - P16(spatial Y) - PE P4 Q32", "P4 at the PE tile exceeds what is left of "
     "dimension P (bound 32, 2 left"),
    ("DRAM[W,I,O] M16 C16 R3 S3 Q32 - GLB - P33(spatial Y)", "P33 at the PE rows (spatial Y) exceeds"),
    # issue: 1e20 ended in an OverflowError traceback
    ("DRAM[W,I,O] M16 C16 R3 S3 Q32 - GLB - P100000000000000000000(spatial Y)", "at most 1e+09"),
])
def test_factors_beyond_the_loop_bounds_exit_2(tmp_path, capsys, text, needle):
    status, out = _run_mapping(tmp_path, capsys, text, "--dataflow", "OS")
    assert status == 2 and needle in out.err and "Traceback" not in out.err


def test_padding_of_one_step_is_accepted(tmp_path, capsys):
    # P = 32 over 12 rows: ceil(32 / 12) = 3 steps, the last one partly idle (36 padded rows) -- what the mapper does
    status, out = _run_mapping(tmp_path, capsys, "DRAM[W,I,O] M16 C16 R3 S3 Q32 - GLB - P12(spatial Y) - PE P3",
                               "--dataflow", "OS", "--json")
    assert status == 0, out.err
    assert json.loads(out.out)["layers"][0]["mapping_text"].endswith("P12(spatial Y) - PE P3")


# ---- issue 18 item 4: the totals of the energy- and the latency-optimal mappings side by side ---------------------
def test_hw_shows_energy_and_latency_optimal_totals(capsys):
    # the case: on spatial-256 WS at 2 bits the energy-optimal mappings hid the latency the bits buy
    out = _json(capsys, ["hw", "resnet20", "--dataflow", "WS", "--bits", "2", "--json"])
    both = out["by_mapper_objective"]
    assert both["energy"]["energy"] == pytest.approx(out["total"]["energy"], rel=1e-12)  # the table's mappings
    assert both["energy"]["latency_cycles"] == pytest.approx(out["total"]["latency_cycles"], rel=1e-12)
    assert both["energy"]["energy"] <= both["latency"]["energy"]
    assert both["latency"]["latency_cycles"] < 0.5 * both["energy"]["latency_cycles"]
    latency_first = _json(capsys, ["hw", "resnet20", "--dataflow", "WS", "--bits", "2", "--json",
                                   "--objective", "latency"])
    assert latency_first["by_mapper_objective"] == both
    assert latency_first["total"]["latency_cycles"] == pytest.approx(both["latency"]["latency_cycles"], rel=1e-12)
    assert main(["hw", "resnet20", "--dataflow", "WS", "--bits", "2"]) == 0
    text = capsys.readouterr().out
    assert "energy-optimal mappings" in text and "latency-optimal mappings" in text
