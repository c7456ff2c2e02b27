"""EXPERIMENTS.md is assembled from the committed results (issue 23): every generated block equals its file under
experiments/results/, so a table typed by hand or left stale after a re-run fails here. Fast: nothing is re-run."""

from __future__ import annotations

import importlib
from pathlib import Path

import pytest

EXPERIMENTS = Path(__file__).resolve().parents[2] / "experiments"


@pytest.fixture(scope="module")
def assemble(experiments_on_path):
    return importlib.import_module("assemble")


def test_committed_document_equals_what_the_committed_results_assemble(assemble):
    text = (EXPERIMENTS / "EXPERIMENTS.md").read_text()
    assert assemble.included(text), "EXPERIMENTS.md has no generated blocks"
    assert assemble.stale_blocks(text) == []  # `python experiments/assemble.py` refills them
    assert assemble.assemble(text) == text


def test_every_generated_script_result_is_shown_with_its_run_record(assemble):
    text = (EXPERIMENTS / "EXPERIMENTS.md").read_text()
    shown = set(assemble.included(text))
    for env in sorted(assemble.common.RESULTS.glob("*/env.md")):
        folder = env.parent.name
        assert f"{folder}/env.md" in shown, f"{folder}'s run record is not in EXPERIMENTS.md"
        for table in env.parent.glob("*.md"):
            assert f"{folder}/{table.name}" in shown, f"{folder}/{table.name} is generated but not shown"


def test_a_hand_edited_number_is_detected(assemble, tmp_path):
    results = tmp_path / "results"
    (results / "demo").mkdir(parents=True)
    (results / "demo" / "t.md").write_text("| a |\n|---|\n| 1.00 |\n")
    text = "prose\n<!-- generated: demo/t.md -->\n| a |\n|---|\n| 1.00 |\n<!-- end generated -->\nmore prose\n"
    assert assemble.stale_blocks(text, results) == []
    edited = text.replace("| 1.00 |", "| 1.01 |")
    assert assemble.stale_blocks(edited, results) == ["demo/t.md"]
    assert assemble.assemble(edited, results) == text  # refilling restores the file's number, prose untouched
    with pytest.raises(assemble.MissingResult):
        assemble.assemble(text.replace("demo/t.md", "demo/missing.md"), results)
