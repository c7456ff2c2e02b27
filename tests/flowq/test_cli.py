"""`flowq` CLI: hw tables/JSON, search -> refine -> plot on hardware-only objectives, error exit status 2."""

import json
import subprocess
import sys

import pytest

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


def test_hw_unrolling_flag_switches_the_fine_spatial_space(capsys):
    # `--unrolling any` lets WS run ResNet-20's 4-bit layers on a few PEs (slower, never dearer in energy);
    # the default (the spec's "fill") unrolls each array axis as far as the dataflow allows.
    totals = {}
    for flag in ([], ["--unrolling", "any"]):
        assert main(["hw", "resnet20", "--dataflow", "WS", "--bits", "4", "--json", *flag]) == 0
        totals[bool(flag)] = json.loads(capsys.readouterr().out)["total"]
    assert totals[True]["energy"] <= totals[False]["energy"]
    assert totals[True]["latency_cycles"] > 2 * totals[False]["latency_cycles"]
    assert main(["hw", "resnet20", "--level", "mid", "--unrolling", "any"]) == 2
    assert "--unrolling applies to the Fine level" in capsys.readouterr().err


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


# ---- issue 13: settings carried by refine, rejected input, the whole flow on a cold cache -----------------------
def _exit_code(argv) -> int:
    """main()'s status, or argparse's SystemExit code for input it rejects while parsing."""
    try:
        return main(argv)
    except SystemExit as stop:
        return stop.code


def test_refine_rejects_zero_and_carries_bitwidths_and_objectives(tmp_path, capsys):
    run = tmp_path / "x"
    assert main(["search", "--model", "lenet5", "--level", "coarse", "--objectives", "frac_ops,weight_bits",
                 "--bitwidths", "4,8,16", "--pop", "4", "--gen", "1", "--out", str(run), "--quiet"]) == 0
    for flag in ("--gen", "--pop"):
        assert _exit_code(["refine", str(run), "--level", "mid", flag, "0", "--quiet"]) == 2
        assert "must be >=" in capsys.readouterr().err
    assert not (run / "mid").exists()
    assert main(["refine", str(run), "--level", "mid", "--gen", "1", "--quiet"]) == 0
    mid = json.loads((run / "mid" / "results.json").read_text())
    assert mid["config"]["bitwidths"] == [4, 8, 16] and mid["objectives"] == ["frac_ops", "weight_bits"]
    assert mid["pop_size"] == 4  # the run's population, not a built-in 25


def test_every_bad_input_exits_2(tmp_path, capsys):
    run = tmp_path / "x"
    assert main(["search", "--model", "lenet5", "--level", "coarse", "--objectives", "frac_ops,weight_bits",
                 "--pop", "4", "--gen", "1", "--out", str(run), "--quiet"]) == 0
    bad_hw = tmp_path / "hw.yaml"
    bad_hw.write_bytes(b"\xff\xfe\x00 name: x")
    genome = tmp_path / "genome.json"
    genome.write_text(json.dumps({"bits_w": ["a"] * 5, "bits_a": [8] * 5}))
    results = json.loads((run / "results.json").read_text())
    leader_file = tmp_path / "leader.json"
    leader_file.write_text(json.dumps(dict(results, hv_leader=42)))
    corrupt = tmp_path / "corrupt"
    corrupt.mkdir()
    (corrupt / "results.json").write_text('{"front": [')
    search = ["search", "--model", "lenet5", "--level", "coarse", "--objectives", "frac_ops", "--quiet", "--out"]
    cases = [
        ["hw", "lenet5", "--hw", str(bad_hw)],
        ["hw", "lenet5", "--level", "coarse", "--genome", str(genome)],
        ["hw", "lenet5", "--level", "coarse", "--genome", str(leader_file)],
        search + [str(tmp_path / "a"), "--bitwidths", "4,x"],
        search + [str(tmp_path / "b"), "--seed", "-1"],
        search + [str(tmp_path / "c"), "--algo", "soga", "--soga-threshold", "0"],
        ["refine", str(corrupt), "--level", "mid"],
        ["plot", str(corrupt)],
        ["train", str(corrupt)],
        ["train", str(run), "--pick", "7"],
        search + [str(run)],  # a folder that holds a run, without --resume / --force
        ["search", "--model", "lenet5", "--level", "mid", "--objectives", "frac_ops", "--quiet", "--out", str(run),
         "--resume"],  # resuming a coarse run as a mid one
    ]
    for argv in cases:
        assert _exit_code(argv) == 2, argv
        err = capsys.readouterr().err
        assert "Traceback" not in err and ("error" in err), (argv, err)
    assert json.loads((run / "results.json").read_text())["level"] == "coarse"


def test_search_records_batch_and_evaluator_options(tmp_path):
    from flowq.cli import build_flow, build_parser

    args = build_parser().parse_args(["search", "--model", "lenet5", "--out", str(tmp_path), "--batch", "4",
                                      "--data-dir", str(tmp_path / "data"), "--device", "cpu", "--quantizer",
                                      "wrpn", "--evaluator", "proxy", "--seed", "9"])
    flow = build_flow(args)
    problem = flow.problem("coarse")
    assert problem.config()["batch"] == 4 and problem.workload[0].n == 4
    evaluator = problem.evaluator
    assert str(evaluator.data_root) == str(tmp_path / "data") and evaluator.device.type == "cpu"
    assert (evaluator.weight_quantizer, evaluator.act_quantizer) == ("wrpn", "wrpn")
    assert evaluator.seed == 0 and flow.seed == 9  # the GA seed never seeds the float network


@pytest.mark.slow  # trains the float LeNet-5 into an empty cache, then a short training of the pick
def test_search_refine_train_on_a_cold_private_cache(tmp_path, monkeypatch, capsys):
    """The whole flow as a new user runs it: real proxy evaluator, nothing cached, then train the HV-leader."""
    cache = tmp_path / "cold-cache"
    monkeypatch.setenv("FLOWQ_CACHE_DIR", str(cache))
    run = tmp_path / "px"
    assert main(["search", "--model", "lenet5", "--level", "coarse", "--evaluator", "proxy", "--pop", "4",
                 "--gen", "1", "--out", str(run), "--quiet"]) == 0
    assert any((cache / "models").iterdir())  # the float network was trained into the private cache
    assert main(["refine", str(run), "--level", "mid", "--gen", "1", "--quiet"]) == 0
    assert main(["train", str(run / "mid"), "--pick", "hv", "--epochs", "0.3"]) == 0
    trained = run / "mid" / "trained"
    summary = json.loads((trained / "trained.json").read_text())
    mid = json.loads((run / "mid" / "results.json").read_text())
    leader = mid["front"][mid["hv_leader"]]
    assert 0.0 <= summary["test_accuracy"] <= 1.0
    assert summary["bits_w"] == leader["bits_w"] and summary["bits_a"] == leader["bits_a"]
    assert summary["metrics"]["dram_accesses_bits"] == leader["metrics"]["dram_accesses_bits"] > 0
    import torch

    saved = torch.load(trained / "model.pt", weights_only=True)
    assert saved["bits_w"] == leader["bits_w"] and any(k.endswith("weight") for k in saved["state_dict"])
    onnx = pytest.importorskip("onnx", reason="onnx not installed: pip install onnx (it is in the test extra)")
    model = onnx.load(str(trained / "model.onnx"))
    onnx.checker.check_model(model)
    meta = {p.key: json.loads(p.value) for p in model.metadata_props}
    assert [row[1] for row in meta["flowq.layer_bits"]] == leader["bits_w"]
    assert [row[2] for row in meta["flowq.layer_bits"]] == leader["bits_a"]
