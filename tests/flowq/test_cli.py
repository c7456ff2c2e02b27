"""`flowq` CLI: hw tables/JSON, search -> refine -> plot on hardware-only objectives, error exit status 2."""

import json
import subprocess
import sys

from flowq.cli import main


def test_hw_json_has_the_same_shape_at_every_level(capsys):
    for level in ("coarse", "mid", "fine"):
        assert main(["hw", "lenet5", "--hw", "spatial-256", "--level", level, "--bits", "8", "--json"]) == 0
        report = json.loads(capsys.readouterr().out)
        assert {"total", "layers"} <= set(report) and len(report["layers"]) == 5
        for key in ("energy", "latency_cycles", "dram_accesses_bits", "energy_by_level"):
            assert key in report["total"]

    assert report["total"]["energy"] > 0 and set(report["total"]["energy_by_level"]) >= {"mac", "rf", "dram"}


def test_hw_table_prints_layers_total_and_mappings(capsys):
    assert main(["hw", "lenet5", "--level", "fine", "--dataflow", "WS"]) == 0
    text = capsys.readouterr().out
    assert "TOTAL" in text and "conv1" in text and "mappings:" in text and "(WS, fine level" in text


def test_search_refine_plot_and_genome_round_trip(tmp_path, capsys):
    run = tmp_path / "x"
    assert main(["search", "--model", "lenet5", "--level", "coarse", "--objectives", "frac_ops,weight_bits",
                 "--pop", "6", "--gen", "3", "--seed", "4", "--out", str(run), "--quiet"]) == 0
    data = json.loads((run / "results.json").read_text())
    assert len(data["hypervolume"]) == 3 and data["front"] and data["hv_leader"] is not None
    assert main(["refine", str(run), "--level", "mid", "--constraint", "frac_ops=0.9", "--gen", "2", "--pop", "6",
                 "--quiet"]) == 0
    mid = json.loads((run / "mid" / "results.json").read_text())
    assert mid["level"] == "mid" and mid["constraints"] == {"frac_ops": 0.9}
    assert main(["plot", str(run / "mid")]) == 0
    assert (run / "mid" / "pareto.png").stat().st_size > 0
    capsys.readouterr()
    assert main(["hw", "lenet5", "--level", "coarse", "--genome", str(run / "results.json"), "--json"]) == 0
    leader = data["front"][data["hv_leader"]]
    assert json.loads(capsys.readouterr().out)["bits_w"] == leader["bits_w"]


def test_bad_input_exits_2_without_traceback(tmp_path):
    cmd = [sys.executable, "-m", "flowq", "hw", "resnet20", "--hw", "no-such-preset"]
    proc = subprocess.run(cmd, capture_output=True, text=True)
    assert proc.returncode == 2
    assert "no-such-preset" in proc.stderr and "Traceback" not in proc.stderr
    assert main(["search", "--level", "coarse", "--objectives", "frac_ops", "--constraint", "frac_ops", "--out",
                 str(tmp_path / "y")]) == 2
