"""The CLI never surprises (issue 21): file-system and resource errors exit 2 naming the path before any work, an
honest --resume (each option applied or refused by name), defaults in --help, readable run files."""

import json
import os
import stat
import subprocess
import sys

import pytest

from flowq.cli import main

HW_SEARCH = ["search", "--model", "lenet5", "--level", "coarse", "--objectives", "frac_ops,bitops", "--gen", "2",
             "--pop", "4", "--quiet"]


def _not_writable_folder(tmp_path):
    """A folder this process cannot write into (root ignores modes, so /proc stands in for it there)."""
    if os.geteuid() == 0:
        return "/proc/flowq-cannot-write-here"
    folder = tmp_path / "read-only"
    folder.mkdir()
    folder.chmod(stat.S_IRUSR | stat.S_IXUSR)
    return str(folder / "run")


@pytest.mark.parametrize("case", ["out-file", "out-proc", "out-empty", "out-read-only", "pop-huge",
                                  "accuracy-constraint", "negative-constraint", "resume-nothing", "cache-file",
                                  "cache-list-unknown-model", "cache-limit", "cache-corrupt"])
def test_former_tracebacks_exit_2_naming_the_path(case, tmp_path, monkeypatch, capsys):
    (tmp_path / "a-file").write_text("x")
    argv, expected = {
        "out-file": (HW_SEARCH + ["--out", str(tmp_path / "a-file")], "is a file, not a folder"),
        "out-proc": (HW_SEARCH + ["--out", "/proc/flowq-x"], "/proc/flowq-x: cannot write there"),
        "out-empty": (HW_SEARCH + ["--out", ""], "give a folder path"),
        "out-read-only": (HW_SEARCH + ["--out", _not_writable_folder(tmp_path)], "cannot write there"),
        "pop-huge": (HW_SEARCH[:-3] + ["--pop", str(10 ** 15), "--out", str(tmp_path / "p")], "--pop 10000000"),
        "accuracy-constraint": (HW_SEARCH + ["--constraint", "accuracy=1.5", "--out", str(tmp_path / "c")],
                                "accuracy is a fraction"),
        "negative-constraint": (HW_SEARCH + ["--constraint", "frac_ops=-1", "--out", str(tmp_path / "c")],
                                "positive fraction"),
        "resume-nothing": (HW_SEARCH + ["--resume", "--out", str(tmp_path / "none")], "no checkpoint.pkl"),
        "cache-file": (["cache", "stats"], "a-file"),
        "cache-list-unknown-model": (["cache", "list", "--model", "nosuch"], "holds no results of it"),
        "cache-limit": (["cache", "list", "--limit", "-1"], "must be >= 1"),
        "cache-corrupt": (["search", "--model", "lenet5", "--level", "coarse", "--evaluator", "finetune", "--out",
                           str(tmp_path / "none")], "results.sqlite is not a FlowQ result cache"),
    }[case]
    if case == "cache-file":
        monkeypatch.setenv("FLOWQ_CACHE_DIR", str(tmp_path / "a-file"))
    elif case == "cache-corrupt":
        (tmp_path / "bad").mkdir()
        (tmp_path / "bad" / "results.sqlite").write_text("not sqlite")
        monkeypatch.setenv("FLOWQ_CACHE_DIR", str(tmp_path / "bad"))
    else:
        monkeypatch.setenv("FLOWQ_CACHE_DIR", str(tmp_path / "cache"))
    try:
        status = main(argv)
    except SystemExit as exit_:  # argparse's own errors (--limit) exit 2 too
        status = exit_.code
    err = capsys.readouterr().err
    assert status == 2 and expected in err and "Traceback" not in err
    assert not (tmp_path / "none").exists()  # a refused --resume creates nothing


def test_plot_and_train_refuse_an_unwritable_out_before_work(tmp_path, capsys):
    run = tmp_path / "run"
    assert main(HW_SEARCH + ["--out", str(run)]) == 0
    capsys.readouterr()
    for argv in (["plot", str(run), "--out", "/proc/flowq-plots"], ["train", str(run), "--out", "/proc/flowq-t"]):
        assert main(argv) == 2
        err = capsys.readouterr().err
        assert "/proc/flowq-" in err and "cannot write there" in err
    assert not (run / "trained").exists()


def test_run_files_are_readable_like_the_pngs(tmp_path):
    run = tmp_path / "run"
    assert main(HW_SEARCH + ["--out", str(run)]) == 0
    umask = os.umask(0)
    os.umask(umask)
    for name in ("results.json", "checkpoint.pkl", "progress.csv", "pareto.png", "generations/gen_0001.json"):
        assert stat.S_IMODE((run / name).stat().st_mode) == 0o666 & ~umask, name


def test_resume_applies_gen_refuses_changed_options_and_resumes_a_moved_folder(tmp_path, capsys):
    run = tmp_path / "run"
    assert main(HW_SEARCH + ["--seed", "1", "--out", str(run)]) == 0
    capsys.readouterr()
    refused = {"--pop": ["--pop", "6"], "--seed": ["--seed", "9"], "--algo": ["--algo", "random"],
               "--objectives": ["--objectives", "frac_ops,weight_bits"], "--constraint": ["--constraint", "bitops=0.9"],
               "--level": ["--level", "mid"], "--model": ["--model", "vgg16"], "--tie": ["--tie"],
               "--batch": ["--batch", "2"]}
    for option, extra in refused.items():
        assert main(["search", "--out", str(run), "--resume", "--gen", "3", "--quiet", *extra]) == 2, option
        err = capsys.readouterr().err
        assert f"cannot change" in err and option in err, (option, err)
    assert len(json.loads((run / "results.json").read_text())["hypervolume"]) == 2  # nothing ran
    moved = tmp_path / "moved"
    run.rename(moved)
    assert main(["search", "--out", str(moved), "--resume", "--gen", "3", "--quiet"]) == 0
    data = json.loads((moved / "results.json").read_text())
    assert len(data["hypervolume"]) == 3 and (moved / "generations" / "gen_0003.json").is_file()
    assert (data["seed"], data["pop_size"], data["n_gen"], data["algorithm"]) == (1, 4, 3, "nsga2")
    assert not run.exists()  # the old location is not re-created


def test_search_help_shows_defaults():
    out = subprocess.run([sys.executable, "-m", "flowq", "search", "--help"], capture_output=True, text=True).stdout
    assert "(default: 25)" in out and "(default: 50)" in out and "(default: resnet20)" in out


def test_a_search_over_an_hour_is_announced_with_its_estimate(capsys):
    from argparse import Namespace

    from flowq.cli import _announce_cost
    from flowq.flow import Flow

    flow = Flow("resnet20", "digits", "finetune", verbose=False)  # nothing is built or trained here
    _announce_cost(Namespace(level="fine", pop=25, gen=50, epochs=None), flow, {})
    err = capsys.readouterr().err
    assert "up to 1250 candidates (25 x 50 generations)" in err and " h," in err
    _announce_cost(Namespace(level="fine", pop=4, gen=2, epochs=None), flow, {})
    _announce_cost(Namespace(level="fine", pop=25, gen=50, epochs=None), flow, {"objectives": ("energy", "latency")})
    assert capsys.readouterr().err == ""  # short, or no accuracy to measure


def test_every_candidate_failed_exits_1_with_the_first_reason(capsys):
    from types import SimpleNamespace

    from flowq.cli import _report

    failed = [{"metrics": {"accuracy_reason": f"training loss became nan at step {k}"}} for k in (3, 5)]
    data = {"front": [], "failed": failed, "n_distinct_genomes": 2, "hypervolume": [0.0], "objectives": ["accuracy"],
            "n_accuracy_evaluations": 2, "accuracy_seconds": 1.0, "seconds": 2.0, "constraints": {}}
    result = SimpleNamespace(level="coarse", data=data, out=None, leader=lambda kind: None)
    assert _report(result) == 1
    assert "every candidate's accuracy evaluation failed (2); the first: training loss became nan at step 3" in \
        capsys.readouterr().err
    assert _report(SimpleNamespace(level="coarse", data=dict(data, n_distinct_genomes=3), out=None,
                                   leader=lambda kind: None)) == 0  # one candidate did not fail
