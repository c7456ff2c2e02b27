"""Fuzzed inputs: random and mutated YAML specs, genome files, results.json files and CLI argument lists either
work or end with the project's error (FlowQError; exit code 2 from the CLI) -- never an unhandled exception, never
a partly written run folder."""

import copy
import json
import shutil
import tempfile
from pathlib import Path

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from flowq import runs
from flowq.cli import main
from hwmodels.errors import FlowQError
from hwmodels.spec import load_spec

PRESETS = Path(__file__).resolve().parents[2] / "hwmodels" / "presets"
FUZZ = settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])

# JSON-like values of every type, nested a little
scalars = st.one_of(st.none(), st.booleans(), st.integers(-2**40, 2**40), st.floats(allow_nan=True),
                    st.text(max_size=12))
values = st.recursive(scalars, lambda inner: st.one_of(st.lists(inner, max_size=5),
                                                       st.dictionaries(st.text(max_size=8), inner, max_size=4)),
                      max_leaves=12)


def cli(argv) -> int:
    """main(argv) as a user sees it: its return code, or argparse's exit code (2 for a usage error)."""
    try:
        return main([str(a) for a in argv])
    except SystemExit as exit_:  # argparse: usage errors exit 2, --help exits 0
        return exit_.code


def assert_no_partial_run(folder: Path) -> None:
    """A failed command leaves no run files behind (the folder is absent, or holds no search's files)."""
    assert not runs.holds_run(folder), sorted(p.name for p in folder.iterdir())


# ---- YAML specs ------------------------------------------------------------------------------------------
def mutate_mapping(data: dict, draw) -> dict:
    data = copy.deepcopy(data)
    for _ in range(draw(st.integers(1, 3))):
        keys = list(data)
        action = draw(st.sampled_from(["drop", "retype", "add", "nest"]))
        key = draw(st.sampled_from(keys)) if keys else "x"
        if action == "drop" and keys:
            del data[key]
        elif action == "retype":
            data[key] = draw(values)
        elif action == "add":
            data[draw(st.text(min_size=1, max_size=10))] = draw(values)
        elif action == "nest" and isinstance(data.get("energy"), dict):
            data["energy"] = mutate_mapping(data["energy"], draw)
    return data


@FUZZ
@given(data=st.data())
def test_mutated_specs_load_or_raise_spec_errors(tmp_path, data):
    preset = data.draw(st.sampled_from(sorted(PRESETS.glob("*.yaml"))))
    text = preset.read_text()
    kind = data.draw(st.sampled_from(["mutate", "mutate", "garble", "bytes"]))
    path = tmp_path / "spec.yaml"
    if kind == "mutate":
        path.write_text(yaml.safe_dump(mutate_mapping(yaml.safe_load(text), data.draw)))
    elif kind == "garble":
        cut = data.draw(st.integers(0, len(text)))
        path.write_text(text[:cut] + data.draw(st.text(max_size=20)) + text[cut:])
    else:
        path.write_bytes(data.draw(st.binary(max_size=200)))
    try:
        load_spec(str(path))
    except FlowQError:
        pass
    assert cli(["hw", "lenet5", "--hw", path, "--level", "coarse", "--json"]) in (0, 2)


# ---- genome files ----------------------------------------------------------------------------------------
bits = st.one_of(st.integers(-3, 40), st.sampled_from([2, 4, 8, 16]), st.text(max_size=3), st.floats(), st.none())
genomes = st.one_of(
    st.fixed_dictionaries({"bits_w": st.lists(bits, max_size=7)}, optional={"bits_a": st.lists(bits, max_size=7)}),
    st.fixed_dictionaries({"front": st.lists(st.fixed_dictionaries({"bits_w": st.lists(bits, max_size=6)}),
                                             max_size=3), "hv_leader": st.one_of(st.integers(-2, 4), values)}),
    values)


@FUZZ
@given(genome=genomes, raw=st.one_of(st.none(), st.binary(max_size=60)))
def test_genome_files_read_or_raise_genome_errors(tmp_path, genome, raw):
    path = tmp_path / "genome.json"
    if raw is None:
        path.write_text(json.dumps(genome))
    else:
        path.write_bytes(raw)
    try:
        bits_w, bits_a = runs.read_genome(path, 5)
        assert len(bits_w) == len(bits_a) == 5
    except FlowQError:
        pass
    assert cli(["hw", "lenet5", "--genome", path, "--level", "coarse", "--json"]) in (0, 2)


# ---- results.json files ----------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def good_run(tmp_path_factory):
    """A real, hardware-only search result to mutate."""
    out = tmp_path_factory.mktemp("fuzz") / "run"
    assert cli(["search", "--model", "lenet5", "--level", "coarse", "--objectives", "frac_ops,bitops", "--pop", "4",
                "--gen", "1", "--out", out, "--quiet"]) == 0
    return json.loads((out / "results.json").read_text())


def mutate_results(data: dict, draw) -> dict:
    data = copy.deepcopy(data)
    target = data
    if data.get("front") and draw(st.booleans()):
        target = draw(st.sampled_from(data["front"]))
    for _ in range(draw(st.integers(1, 3))):
        key = draw(st.sampled_from(sorted(target)))
        if draw(st.booleans()):
            del target[key]
        else:
            target[key] = draw(values)
    return data


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_mutated_results_read_or_raise_run_errors(tmp_path, good_run, data):
    folder = tmp_path / "run"
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir()
    if data.draw(st.booleans()):
        text = json.dumps(mutate_results(good_run, data.draw))
    else:
        text = json.dumps(good_run)
        cut = data.draw(st.integers(0, len(text)))
        text = text[:cut] + data.draw(st.text(max_size=5))
    (folder / "results.json").write_text(text)
    try:
        runs.read_results(folder)
    except FlowQError:
        pass
    assert cli(["hw", "lenet5", "--genome", folder / "results.json", "--level", "coarse", "--json"]) in (0, 2)
    assert cli(["plot", folder, "--out", tmp_path / "plots"]) in (0, 2)


def test_results_fields_the_plots_read_are_validated(tmp_path, good_run):
    # cases the fuzzer found in CI: a malformed or missing ref_point, non-numeric metrics, odd layer names
    folder = tmp_path / "run"
    folder.mkdir()
    for key, value in (("ref_point", ["a", "b"]), ("ref_point", [True, None]), ("ref_point", [1.0]),
                       ("least_violation", {"bits_w": 3}), ("config", {**good_run["config"], "layer_names": [1]})):
        (folder / "results.json").write_text(json.dumps({**good_run, key: value}))
        with pytest.raises(FlowQError, match=key.split(".")[0] if key != "config" else "layer_names"):
            runs.read_results(folder)
        assert cli(["plot", folder, "--out", tmp_path / "plots"]) == 2
    data = {k: v for k, v in good_run.items() if k != "ref_point"}
    data["front"] = [dict(data["front"][0], metrics={**data["front"][0]["metrics"], "frac_ops": None})]
    data["hv_leader"] = 0
    data["config"] = {**data["config"], "layer_names": ["only-one"]}
    (folder / "results.json").write_text(json.dumps(data))
    assert cli(["plot", folder, "--out", tmp_path / "plots"]) == 0


# ---- CLI argument lists ----------------------------------------------------------------------------------
# hardware-only searches (no accuracy objective), so a successful one takes a fraction of a second
OPTION_VALUES = {
    "--model": st.sampled_from(["lenet5", "nope", ""]),
    "--level": st.sampled_from(["coarse", "x"]),  # Mid / Fine would JIT-compile mappers: slow, same parsing
    "--hw": st.sampled_from(["spatial-256", "bs-256", "no-such-hw", "/dev/null", "."]),
    "--objectives": st.sampled_from(["frac_ops,bitops", "frac_ops", "bitops,frac_ops", "energy", "", ",", "nope",
                                     "frac_ops,frac_ops"]),
    "--constraint": st.sampled_from(["frac_ops=0.5", "bitops=2", "frac_ops", "=", "x=1", "frac_ops=-1",
                                     "frac_ops=nan", "bitops=inf"]),
    "--pop": st.sampled_from(["-1", "0", "1", "2", "3", "x", "1e3"]),
    "--gen": st.sampled_from(["-1", "0", "1", "x"]),
    "--seed": st.sampled_from(["0", "-1", "7", "x", str(2**70)]),
    "--bitwidths": st.sampled_from(["2,4,8", "4,x", "3,5", "", "16", "0,2"]),
    "--fixed-bits": st.sampled_from(["16", "none", "3", "x", "8"]),
    "--algo": st.sampled_from(["nsga2", "soga", "bogus"]),
    "--soga-threshold": st.sampled_from(["0", "0.05", "-1", "x"]),
    "--workers": st.sampled_from(["0", "1", "-3", "x"]),
    "--dask": st.sampled_from(["local:0", "local:x", "nonsense"]),
}
FLAGS = ["--tie", "--quiet", "--resume", "--force"]


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_random_search_command_lines_never_crash_or_leave_partial_runs(tmp_path, data):
    out = Path(tempfile.mkdtemp(dir=tmp_path)) / "run"  # a fresh folder for every example
    argv = ["search", "--out", out, "--objectives", "frac_ops,bitops", "--level", "coarse", "--model", "lenet5",
            "--gen", "1", "--pop", "2", "--quiet"]  # drawn options below override these (the last one wins)
    for option in data.draw(st.lists(st.sampled_from(sorted(OPTION_VALUES) + FLAGS), max_size=5, unique=True)):
        argv.append(option)
        if option in OPTION_VALUES:
            argv.append(data.draw(OPTION_VALUES[option]))
    if data.draw(st.booleans()):  # a stray token somewhere
        argv.insert(data.draw(st.integers(1, len(argv))), data.draw(st.text(max_size=6)))
    code = cli(argv)
    assert code in (0, 2), argv
    if code == 2 and out.exists():
        assert_no_partial_run(out)
    if code == 0:
        assert runs.read_results(out)["complete"] is True


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(words=st.lists(st.one_of(st.sampled_from(["search", "refine", "plot", "cache", "stats", "list",
                                                 "clear", "--model", "--out", "--level", "--hw", "lenet5", "-h",
                                                 "--genome", "--bits", "--json", "--limit", "coarse"]),
                                st.text(max_size=8)), max_size=6))
def test_random_argument_lists_end_in_0_or_2(words, tmp_path, monkeypatch):
    monkeypatch.setenv("FLOWQ_CACHE_DIR", str(tmp_path / "cache"))  # `cache clear` must not touch the session's
    monkeypatch.chdir(tmp_path)  # a parsed --out lands here
    if words and words[0] in ("refine", "demo", "train"):
        words = words[1:]  # these start long searches or training when they parse; covered elsewhere
    if words and words[0] == "search":  # last options win: keep a search that parses hardware-only and tiny
        words = words + ["--objectives", "frac_ops,bitops", "--level", "coarse", "--model", "lenet5", "--gen", "1",
                         "--pop", "2", "--quiet"]
    assert cli(words) in (0, 2), words
