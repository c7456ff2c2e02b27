"""HTML report: every level visited, the front's points and leaders, each solution's bitwidths and per-layer
hardware cost (summing to the search's own totals), self-contained; `flowq report` errors exit 2."""

import json
import re

import numpy as np
import pytest

from flowq.cli import main
from flowq.flow import Flow
from flowq.report import REPORT_HTML, collect_levels, write_report
from test_flow import Surrogate

pytest.importorskip("plotly")


def page_data(path) -> dict:
    text = path.read_text(encoding="utf-8")
    match = re.search(r'<script type="application/json" id="flowq-data">(.*?)</script>', text, re.S)
    return json.loads(match.group(1).replace("<\\/", "</"))


@pytest.fixture(scope="module")
def refined_run(tmp_path_factory):
    """A Coarse search of LeNet-5 (surrogate accuracy) refined at Mid: runs/coarse and runs/coarse/mid."""
    out = tmp_path_factory.mktemp("runs")
    flow = Flow("lenet5", "digits", Surrogate(), hw="spatial-256", verbose=False, seed=1)
    coarse = flow.search("coarse", "nsga2", n_gen=3, pop_size=8, out=out / "coarse")
    mid = flow.refine(coarse, "mid", n_gen=2, pop_size=8, out=out / "coarse" / "mid")
    return out / "coarse", coarse, mid


def test_search_writes_a_report_with_every_level_and_each_solutions_layers(refined_run):
    folder, coarse, mid = refined_run
    assert (folder / REPORT_HTML).is_file() and (folder / "mid" / REPORT_HTML).is_file()  # written by each search
    assert [data["level"] for _, data in collect_levels(folder)] == ["coarse", "mid"]
    path = write_report(folder)
    text = path.read_text(encoding="utf-8")
    assert "<script src" not in text and "<link" not in text  # nothing is fetched when the page is viewed
    data = page_data(path)
    assert [level["level"] for level in data["levels"]] == ["coarse", "mid"]
    for level, result in zip(data["levels"], (coarse, mid)):
        front = result.data["front"]
        assert len(level["solutions"]) == len(front) > 0
        assert level["leaders"]["hv"] == result.data["hv_leader"]
        # the front trace of every 2-D panel has one point per front solution, each pointing at its solution
        traces = [t for t in level["figures"]["pareto"]["data"] if str(t.get("name", "")).startswith("final front")]
        assert traces and all(len(t["x"]) == len(front) for t in traces)
        assert [c[1] for c in traces[0]["customdata"]] == list(range(len(front)))
        for solution, shown in zip(front, level["solutions"]):
            assert shown["bits_w"] == solution["bits_w"] and shown["bits_a"] == solution["bits_a"]
            rows = shown["breakdown"]["layers"]
            assert [r["name"] for r in rows] == result.data["config"]["layer_names"]
            # per-layer costs (hwmodels.api.evaluate) add up to the totals the search stored for this genome
            for metric in ("bitops", "dram_accesses_bits"):
                assert sum(r[metric] for r in rows) == pytest.approx(solution["metrics"][metric])
                assert shown["breakdown"]["total"][metric] == pytest.approx(solution["metrics"][metric])
    history = [t for t in data["levels"][0]["figures"]["pareto"]["data"]
               if str(t.get("name", "")).startswith("fronts of earlier")][0]
    generation = [int(g.split()[-1]) for g in history["text"]]
    opacity = history["marker"]["opacity"]
    assert np.all(np.diff(np.asarray(opacity)[np.argsort(generation, kind="stable")]) >= 0)  # older: fainter


def test_report_of_a_folder_whose_top_repeats_its_last_level_lists_it_once(refined_run, tmp_path):
    folder, coarse, mid = refined_run
    copy = dict(mid.data, levels=[{"level": "coarse"}, {"level": "mid"}])  # what run_demo writes at the top
    from flowq import runs

    runs.write_results(folder, copy)
    try:
        assert [data["level"] for _, data in collect_levels(folder)] == ["mid"]  # the copy, as one level
    finally:
        runs.write_results(folder, coarse.data)


def test_cli_report_writes_the_file_and_rejects_bad_input(refined_run, tmp_path, capsys):
    folder, _, _ = refined_run
    assert main(["report", str(folder / "mid"), "--out", str(tmp_path / "r.html"), "--no-hardware"]) == 0
    assert page_data(tmp_path / "r.html")["levels"][0]["solutions"][0]["breakdown"] is None
    assert main(["report", str(tmp_path / "nowhere")]) == 2
    assert main(["report", str(folder), "--out", ""]) == 2
    err = capsys.readouterr().err
    assert "does not exist" in err and "--out ''" in err and "Traceback" not in err


def test_codesign_solutions_show_their_hardware_and_are_costed_on_it(tmp_path):
    from problems.codesign import CodesignProblem

    flow = Flow("lenet5", "digits", Surrogate(), hw="spatial-256", verbose=False, seed=1)
    problem = CodesignProblem("lenet5", "spatial", level="mid", evaluator=flow.evaluator, workload=flow.workload(1),
                              dataset="digits")
    result = flow.search(problem, "nsga2", n_gen=2, pop_size=6, out=tmp_path / "cd")
    level = page_data(tmp_path / "cd" / REPORT_HTML)["levels"][0]
    assert level["hardware_note"] is None
    for solution, shown in zip(result.data["front"], level["solutions"]):
        assert shown["hw"]["genes"] == solution["hw"]["genes"]
        # costed on the solution's own accelerator: the same DRAM traffic as the search measured on it
        assert shown["breakdown"]["total"]["dram_accesses_bits"] == pytest.approx(
            solution["metrics"]["dram_accesses_bits"])
