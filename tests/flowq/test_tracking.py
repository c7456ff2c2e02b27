"""Tracking: a search logs per generation to TensorBoard, and the logged values read back equal the run's."""

import json

import pytest

from flowq.errors import FlowQError
from flowq.flow import Flow
from flowq.tracking import make_tracker, read_scalars, read_texts
from test_flow import Surrogate

pytest.importorskip("tensorboard")


def test_tensorboard_log_reads_back_hypervolume_front_best_and_config(tmp_path):
    flow = Flow("lenet5", "digits", Surrogate(), hw="spatial-256", verbose=False, seed=4)
    flow.trackers = [make_tracker("tensorboard", tmp_path / "tb")]
    problem = flow.problem("coarse", objectives=("accuracy", "bitops"))
    result = flow.search(problem, "nsga2", n_gen=4, pop_size=8)  # no run folder: the tracker alone
    data = result.data
    (log_dir,) = list((tmp_path / "tb").iterdir())
    assert log_dir.name == f"coarse-{data['run_id']}"
    scalars = read_scalars(log_dir)
    assert [step for step, _ in scalars["hypervolume"]] == [1, 2, 3, 4]
    assert [v for _, v in scalars["hypervolume"]] == pytest.approx(data["hypervolume"], rel=1e-6)  # float32
    assert [int(v) for _, v in scalars["front_size"]] == [len(F) for F in data["front_history"]]
    best_accuracy = max(s["metrics"]["accuracy"] for s in data["front"])
    best_bitops = min(s["metrics"]["bitops"] for s in data["front"])
    assert scalars["best/accuracy"][-1][1] == pytest.approx(best_accuracy, rel=1e-6)
    assert scalars["best/bitops"][-1][1] == pytest.approx(best_bitops, rel=1e-6)
    texts = read_texts(log_dir)
    step, table = texts["front"][-1]
    rows = table.splitlines()[2:]
    assert step == 4 and len(rows) == len(data["front"])
    assert {row.split("|")[-3].strip() for row in rows} == {str(s["bits_w"]) for s in data["front"]}
    config = json.loads(texts["config"][0][1].strip("`").removeprefix("json"))
    assert config["config"]["model"] == "lenet5" and config["config"]["objectives"] == ["accuracy", "bitops"]


def test_unknown_backend_is_refused():
    with pytest.raises(FlowQError, match="allowed backends: tensorboard"):
        make_tracker("wandb", "x")
