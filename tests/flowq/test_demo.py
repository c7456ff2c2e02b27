"""The demo searches (issue 19): every level runs its generations with the shared evaluator, the Fine front is
re-measured by fine-tuning (HV-leader first), results.json says which evaluator measured what; under a budget too
small for the one-off training the levels stop after one generation instead of overrunning."""

import json

import numpy as np
import pytest

from flowq.demo import DEMO_REMEASURE_MAX, _remeasure_order, run_demo


def test_remeasure_order_puts_the_leader_first_and_spreads_the_rest():
    front = [{"metrics": {"accuracy": a}} for a in (0.5, 0.9, 0.7, 0.95, 0.6, 0.8, 0.85, 0.55, 0.65)]
    order = _remeasure_order(front, leader=2)
    assert order[0] == 2 and len(order) == len(set(order)) == DEMO_REMEASURE_MAX
    assert 3 in order and 0 in order  # the most and the least accurate
    assert _remeasure_order(front[:2], leader=None) == [1, 0]


@pytest.mark.slow
def test_the_demo_searches_every_level_and_remeasures_the_fine_front(tmp_path):
    out = tmp_path / "demo"
    run_demo(out, model="lenet5", evaluator="shared", n_gen=5, pop_size=6, verbose=False)
    data = json.loads((out / "results.json").read_text())
    assert [level["level"] for level in data["levels"]] == ["coarse", "mid", "fine"]
    for level in data["levels"]:
        assert level["generations"] == 5 and np.all(np.diff(level["hypervolume"]) >= 0)
    assert data["evaluators"] == {"search": "shared", "fine_front": "finetune"}
    assert data["evaluator"]["kind"] == "shared" and data["environment"]["threads"] == 1
    remeasured = data["remeasured"]
    assert remeasured["evaluator"]["kind"] == "finetune" and remeasured["epochs"] == 1.0
    rows = remeasured["solutions"]
    assert rows and rows[0]["front_index"] == data["hv_leader"]
    for row in rows:
        assert 0.0 < row["accuracy_finetune"] <= 1.0
        assert data["front"][row["front_index"]]["metrics"]["accuracy_finetune"] == row["accuracy_finetune"]
    assert (out / "hypervolume.png").is_file() and (out / "fine" / "results.json").is_file()
    # a budget the (now cached) one-off work already spends: one generation per level, the front still re-measured
    run_demo(out, model="lenet5", evaluator="shared", budget_s=1e-3, verbose=False)
    data = json.loads((out / "results.json").read_text())
    assert [level["generations"] for level in data["levels"]] == [1, 1, 1]
    assert all(level["stopped_early"] for level in data["levels"])
    assert len(data["remeasured"]["solutions"]) >= 1
