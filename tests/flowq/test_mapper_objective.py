"""`--mapper-objective`: what the Fine mapper minimises per layer in a search, recorded and carried by refine and
resume (issue 18 item 4); the default is `problems.fine.DEFAULT_MAPPER_OBJECTIVE`."""

import json

import numpy as np
import pytest

from flowq.cli import main
from hwmodels.errors import GenomeError
from problems.fine import DEFAULT_MAPPER_OBJECTIVE, FineProblem


def _results(folder):
    return json.loads((folder / "results.json").read_text())


def _population(folder):
    data = json.loads((folder / "generations" / "gen_0001.json").read_text())
    return {json.dumps([row["bits_w"], row["bits_a"]]): row["metrics"] for row in data["population"]}


@pytest.mark.slow
def test_search_records_it_and_refine_and_resume_keep_it(tmp_path):
    def search(folder, *extra):
        return main(["search", "--model", "lenet5", "--level", "fine", "--objectives", "energy,latency_cycles",
                     "--pop", "4", "--out", str(folder), "--quiet", *extra])

    run, by_energy = tmp_path / "x", tmp_path / "e"
    assert search(run, "--gen", "1", "--mapper-objective", "latency") == 0
    assert search(by_energy, "--gen", "1", "--mapper-objective", "energy") == 0
    assert _results(run)["config"]["mapper_objective"] == "latency"
    # the same seed draws the same genomes; each costed with its latency- or energy-optimal mappings
    fast, frugal = _population(run), _population(by_energy)
    assert fast.keys() == frugal.keys()
    assert all(fast[k]["latency_cycles"] <= frugal[k]["latency_cycles"] for k in fast)
    assert all(fast[k]["energy"] >= frugal[k]["energy"] * (1 - 1e-12) for k in fast)
    assert any(fast[k]["latency_cycles"] < frugal[k]["latency_cycles"] for k in fast)
    assert search(run, "--gen", "2", "--resume") == 0  # no flag: the checkpoint's problem keeps the run's
    assert _results(run)["config"]["mapper_objective"] == "latency"
    assert main(["refine", str(run), "--level", "fine", "--gen", "1", "--quiet"]) == 0
    assert _results(run / "fine")["config"]["mapper_objective"] == "latency"
    assert main(["refine", str(run), "--level", "fine", "--gen", "1", "--quiet", "--mapper-objective", "edp",
                 "--out", str(tmp_path / "edp")]) == 0
    assert _results(tmp_path / "edp")["config"]["mapper_objective"] == "edp"


def test_the_problem_costs_its_mapper_objectives_mappings():
    fast = FineProblem("lenet5", objectives=("energy", "latency_cycles"), mapper_objective="latency")
    frugal = FineProblem("lenet5", objectives=("energy", "latency_cycles"), mapper_objective="energy")
    genomes = np.random.default_rng(0).integers(0, fast.genome.n_alleles, size=(4, fast.n_var))
    fast.evaluate(genomes)
    frugal.evaluate(genomes)
    assert fast.records.keys() == frugal.records.keys()
    pairs = [(fast.records[k]["metrics"], frugal.records[k]["metrics"]) for k in fast.records]
    assert all(f["latency_cycles"] <= e["latency_cycles"] for f, e in pairs)
    assert any(f["latency_cycles"] < e["latency_cycles"] for f, e in pairs)
    assert all(f["energy"] >= e["energy"] * (1 - 1e-12) for f, e in pairs)
    assert fast.config()["mapper_objective"] == "latency"


def test_default_and_bad_values():
    assert FineProblem("lenet5", objectives=("energy",)).mapper_objective == DEFAULT_MAPPER_OBJECTIVE
    with pytest.raises(GenomeError, match="mapper_objective='power'; allowed: energy, latency, edp"):
        FineProblem("lenet5", objectives=("energy",), mapper_objective="power")
    with pytest.raises(SystemExit) as info:
        main(["search", "--level", "fine", "--mapper-objective", "power", "--out", "x"])
    assert info.value.code == 2
