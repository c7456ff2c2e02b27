"""Kill-safe resume: a `flowq search` subprocess SIGKILLed in the middle of a generation, resumed, stopped with
SIGTERM, resumed again, ends with the front and hypervolume history of a straight run; no candidate finished
before a kill is evaluated again (the result cache has it)."""

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

import flowq.flow
from executor_stubs import StubEvaluator
from flowq.cli import main

HERE = Path(__file__).resolve().parent
SLEEP = 0.25  # seconds per stub evaluation in the subprocess, so that signals land inside a generation
DRIVER = """
import sys
sys.path.insert(0, {here!r})
from executor_stubs import StubEvaluator
import flowq.flow
stub = StubEvaluator(seed=1, sleep={sleep}, cache_path={cache!r}, log={log!r})
flowq.flow.make_evaluator = lambda *args, **kwargs: stub
from flowq.cli import main
sys.exit(main(sys.argv[1:]))
"""


def argv(out):
    return ["search", "--model", "lenet5", "--level", "coarse", "--hw", "spatial-256", "--pop", "6", "--gen", "5",
            "--seed", "7", "--out", str(out), "--quiet"]


def wait_for(path: Path, proc, timeout=180.0):
    end = time.monotonic() + timeout
    while not path.exists():
        assert proc.poll() is None, f"search ended before {path.name} appeared: {proc.communicate()}"
        assert time.monotonic() < end, f"{path} did not appear in {timeout} s"
        time.sleep(0.05)


def logged(log: Path) -> list:
    return [tuple(json.loads(line)["bits_w"] + json.loads(line)["bits_a"]) for line in log.read_text().splitlines()]


def summary(run: Path):
    data = json.loads((run / "results.json").read_text())
    front = sorted((tuple(s["bits_w"]), tuple(s["bits_a"]), tuple(s["F"])) for s in data["front"])
    return data["complete"], front, data["hypervolume"]


def test_sigkill_mid_generation_then_resume_equals_a_straight_run(tmp_path, monkeypatch):
    straight = tmp_path / "straight"
    monkeypatch.setattr(flowq.flow, "make_evaluator",
                        lambda *a, **k: StubEvaluator(seed=1, cache_path=str(tmp_path / "straight.sqlite")))
    assert main(argv(straight)) == 0
    complete, front, hv = summary(straight)
    assert complete and front and len(hv) == 5

    run, log, cache = tmp_path / "killed", tmp_path / "evaluations.log", str(tmp_path / "killed.sqlite")
    script = tmp_path / "driver.py"
    script.write_text(DRIVER.format(here=str(HERE), sleep=SLEEP, cache=cache, log=str(log)))
    command = [sys.executable, str(script)] + argv(run)
    popen = dict(stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=dict(os.environ))

    # 1. SIGKILL in the middle of generation 3
    proc = subprocess.Popen(command, **popen)
    wait_for(run / "generations" / "gen_0002.json", proc)
    time.sleep(2.5 * SLEEP)  # two or three candidates of generation 3 finish
    proc.send_signal(signal.SIGKILL)
    proc.communicate()
    assert not (run / "generations" / "gen_0003.json").exists()
    assert json.loads((run / "results.json").read_text())["complete"] is False
    before = logged(log)

    # 2. resume; SIGTERM in the middle of generation 4: stops after the candidate in flight, prints the command
    proc = subprocess.Popen(command + ["--resume"], **popen)
    wait_for(run / "generations" / "gen_0003.json", proc)
    time.sleep(2.5 * SLEEP)
    proc.send_signal(signal.SIGTERM)
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == 130, err
    assert "resume with: flowq search" in err and "--resume" in err.split("resume with:")[1]
    assert not (run / "generations" / "gen_0004.json").exists()
    assert "Traceback" not in err

    # 3. resume to the end
    proc = subprocess.run(command + ["--resume"], timeout=300, **{k: v for k, v in popen.items()})
    assert proc.returncode == 0, proc.stderr
    assert summary(run) == (True, front, hv)

    evaluated = logged(log)
    assert len(evaluated) == len(set(evaluated)), "a candidate finished before a kill was evaluated again"
    assert len(evaluated) > len(before) > 0
    # the same candidates as the straight run were evaluated (a kill may fall between a cache write and its log line)
    assert set(evaluated) <= cached_genomes(cache) == cached_genomes(tmp_path / "straight.sqlite")


def cached_genomes(path) -> set:
    from flowq.cache import ResultCache

    return {tuple(r["parts"]["bits_w"] + r["parts"]["bits_a"]) for r in ResultCache(path).entries()}
