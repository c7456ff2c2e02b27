"""Run folders (flowq.runs): schema, unreadable files, stale files of another run, resume/force, picks, leaders."""

import configparser
import glob
import json
from pathlib import Path

import numpy as np
import pytest

from flowq import runs
from flowq.accuracy import AccuracyResult
from flowq.errors import SearchError
from flowq.flow import Flow, SearchResult, make_algorithm
from flowq.pareto import hv_leader, leaders
from flowq.plots import plot_run
from hwmodels.errors import GenomeError

ROOT = Path(__file__).resolve().parents[2]


class Surrogate:
    """psi falls with 1/bits of every layer (deterministic, no torch)."""

    float_accuracy = 0.99

    def __init__(self, tag="a"):
        self.tag = tag

    def identity(self):
        return {"kind": "surrogate", "float_key": self.tag}

    def evaluate(self, bits_w, bits_a):
        bits_w, bits_a = np.asarray(bits_w, float), np.asarray(bits_a, float)
        return AccuracyResult(psi=float(0.99 - 0.02 * np.sum(1 / bits_w + 1 / bits_a - 2 / 16)), loss=0.0)


def small_run(folder, tag="a", force=False, **kwargs):
    flow = Flow("lenet5", "digits", Surrogate(tag), hw="spatial-256", verbose=False, **kwargs)
    return flow.search("coarse", "nsga2", n_gen=2, pop_size=6, out=folder, force=force)


# ---- HV-leader (item 7) -------------------------------------------------------------------------------------
def test_hv_leader_uses_the_papers_distance_on_stored_objectives():
    # worst point of the front: (0.10, 0.60). Euclidean distances on the stored values:
    #   [.02, .60]: (.08, 0)   -> 0.080
    #   [.03, .42]: (.07, .18) -> 0.193
    #   [.10, .30]: (0, .30)   -> 0.300  => the paper's rule picks index 2
    # rescaled to [0, 1] per objective (spans .08 and .30): (1, 0) -> 1, (.875, .6) -> 1.061, (0, 1) -> 1 => index 1
    F = np.array([[.02, .60], [.03, .42], [.10, .30]])
    assert hv_leader(F) == 2
    assert hv_leader(F, "rescaled") == 1
    assert leaders(F, ["accuracy", "energy"])["hv_leader"] == 2
    with pytest.raises(Exception, match="rescaled"):
        hv_leader(F, "nearest")


def test_leaders_break_ties_and_accuracy_leader_is_lowest_one_minus_psi():
    F = np.array([[.05, .50], [.05, .40], [.20, .10]])
    picked = leaders(F, ["accuracy", "frac_ops"])
    assert picked["accuracy_leader"] == 1  # tie on accuracy broken by frac_ops
    assert picked["compression_leader"] == 2


# ---- schema and unreadable files (items 6, 9) ------------------------------------------------------------
def test_results_carry_schema_version_and_run_id(tmp_path):
    result = small_run(tmp_path / "r")
    data = json.loads((tmp_path / "r" / "results.json").read_text())
    assert data["schema_version"] == runs.SCHEMA_VERSION and data["run_id"] == result.data["run_id"]
    assert data["hv_leader_rule"] == "paper"
    for path in (tmp_path / "r" / "generations").iterdir():
        assert json.loads(path.read_text())["run_id"] == data["run_id"]


@pytest.mark.parametrize("content", [b"\xff\xfe\x00 not utf-8", b"{ half written", b"[1, 2]",
                                     b'{"schema_version": 99, "front": []}', b'{"front": []}'])
def test_unreadable_results_raise_a_run_error(tmp_path, content):
    (tmp_path / "results.json").write_bytes(content)
    with pytest.raises(runs.RunError, match="results.json"):
        runs.read_results(tmp_path)
    with pytest.raises(runs.RunError):
        SearchResult.load(tmp_path)
    with pytest.raises(runs.RunError):
        plot_run(tmp_path)


def test_out_of_range_leader_and_bad_bits_are_rejected(tmp_path):
    small_run(tmp_path / "r")
    data = json.loads((tmp_path / "r" / "results.json").read_text())
    data["hv_leader"] = len(data["front"]) + 3
    (tmp_path / "r" / "results.json").write_text(json.dumps(data))
    with pytest.raises(runs.RunError, match="hv_leader"):
        runs.read_results(tmp_path / "r")
    with pytest.raises(GenomeError, match="hv_leader"):
        runs.read_genome(tmp_path / "r" / "results.json")
    (tmp_path / "g.json").write_text(json.dumps({"bits_w": ["a"], "bits_a": [8]}))
    with pytest.raises(GenomeError, match=r"bits_w\[0\]"):
        runs.read_genome(tmp_path / "g.json")
    (tmp_path / "g.json").write_bytes(b"\xff\xfe")
    with pytest.raises(GenomeError, match="UTF-8"):
        runs.read_genome(tmp_path / "g.json")


def test_pick_by_leader_or_index(tmp_path):
    data = small_run(tmp_path / "r").data
    assert runs.pick(data, "hv") == (data["hv_leader"], data["front"][data["hv_leader"]])
    assert runs.pick(data, "0")[0] == 0
    for bad in ("99", "best", "-1"):
        with pytest.raises(runs.RunError):
            runs.pick(data, bad)


# ---- stale files, other runs, resume and force (item 3) --------------------------------------------------
def test_a_folder_holding_a_run_is_refused_without_resume_or_force(tmp_path):
    small_run(tmp_path / "r")
    with pytest.raises(runs.RunError, match="--resume .* --force"):
        small_run(tmp_path / "r")
    stale = tmp_path / "r" / "generations" / "gen_0002.json"
    assert stale.exists()
    result = small_run(tmp_path / "r", force=True)
    assert json.loads(stale.read_text())["run_id"] == result.data["run_id"]


def test_resume_refuses_another_level_or_hardware(tmp_path):
    small_run(tmp_path / "r")
    flow = Flow("lenet5", "digits", Surrogate(), hw="spatial-256", verbose=False)
    with pytest.raises(runs.RunError, match=r"--level 'mid' \(the run's: 'coarse'\)"):
        flow.search("mid", "nsga2", n_gen=3, pop_size=6, out=tmp_path / "r", resume=True)
    other_hw = Flow("lenet5", "digits", Surrogate(), hw="spatial-1024", verbose=False)
    with pytest.raises(runs.RunError, match="hw"):
        other_hw.search("coarse", "nsga2", n_gen=3, pop_size=6, out=tmp_path / "r", resume=True)
    other_genome = Flow("lenet5", "digits", Surrogate(), hw="spatial-256", verbose=False, bitwidths=(4, 8, 16))
    with pytest.raises(runs.RunError, match="bitwidths"):
        other_genome.search("coarse", "nsga2", n_gen=3, pop_size=6, out=tmp_path / "r", resume=True)


def test_preload_reads_only_this_runs_files_of_the_same_float_network(tmp_path):
    result = small_run(tmp_path / "r", tag="net-a")
    folder = tmp_path / "r"
    # a generation file left by an earlier run in the same folder, with a genome this run never saw
    foreign = {"bits_w": [16, 2, 2, 2, 16], "bits_a": [16, 2, 2, 2, 16], "metrics": {"accuracy": 0.123}}
    runs.write_generation(folder, 7, "an-earlier-run", {"population": [foreign], "front": []})
    same = Flow("lenet5", "digits", Surrogate("net-a"), hw="spatial-256", verbose=False)
    assert same.preload_accuracy(folder) > 0
    assert tuple(foreign["bits_w"]) + tuple(foreign["bits_a"]) not in same.accuracy_cache
    for solution in result.front:
        key = tuple(solution["bits_w"]) + tuple(solution["bits_a"])
        assert same.accuracy_cache[key]["accuracy"] == solution["metrics"]["accuracy"]
    other_network = Flow("lenet5", "digits", Surrogate("net-b"), hw="spatial-256", verbose=False)
    assert other_network.preload_accuracy(folder) == 0 and not other_network.accuracy_cache


def test_atomic_write_leaves_no_temporary_files(tmp_path):
    runs.write_atomic(tmp_path / "a.json", "x")
    runs.write_atomic(tmp_path / "a.json", b"y")
    assert [p.name for p in tmp_path.iterdir()] == ["a.json"] and (tmp_path / "a.json").read_bytes() == b"y"


# ---- error types and packaging (item 9) ----------------------------------------------------------------
def test_search_settings_raise_search_error_not_genome_error():
    for call in (lambda: make_algorithm("annealing", 10), lambda: make_algorithm("nsga2", 1),
                 lambda: Flow("lenet5", "digits", Surrogate(), seed=-1),
                 lambda: Flow("lenet5", "digits", Surrogate(), verbose=False).search("coarse", n_gen=0)):
        with pytest.raises(SearchError) as info:
            call()
        assert not isinstance(info.value, GenomeError)


def test_package_data_patterns_name_existing_files():
    config = configparser.ConfigParser()
    config.read(ROOT / "setup.cfg")
    for package, patterns in config["options.package_data"].items():
        for pattern in patterns.split(","):
            assert glob.glob(str(ROOT / package / pattern.strip())), f"{package}: {pattern} matches nothing"


def test_the_test_session_has_its_own_cache_folder():
    """tests/conftest.py: no test reads or writes the user's ~/.cache/flowq (failure 1 hid behind a warm one)."""
    import os

    from flowq.cache import default_cache_dir

    folder = default_cache_dir()
    assert os.environ["FLOWQ_CACHE_DIR"] == str(folder)
    assert Path.home() / ".cache" / "flowq" not in [folder, *folder.parents]
