"""Reproducible psi: an evaluator runs on its own torch thread count, so serial, a 2-worker pool and a process
pinned to one core train the same float network and measure bit-identical psi (issue 19); the thread count is
part of the evaluator's identity and keys, and the caller's thread count is left as it was."""

import json
import os
import subprocess
import sys

import pytest
import torch

from flowq.accuracy import FineTuneEvaluator
from flowq.environment import DEFAULT_THREADS, environment, torch_threads
from flowq.executor import EvaluateTask, Executor, ProcessExecutor
from flowq.models.training import TrainConfig

TINY = dict(steps=2, train_config=TrainConfig(epochs=1), use_result_cache=False)


def tiny(cache_dir, **kwargs):
    """LeNet-5 on digits: one epoch of float training, two fine-tuning steps per genome."""
    return FineTuneEvaluator("lenet5", "digits", cache_dir=cache_dir, **TINY, **kwargs)


def genomes(n_layers):
    return [([8] * n_layers, [8] * n_layers), ([2, 4, 3, 6, 8][:n_layers], [3, 8, 4, 2, 6][:n_layers]),
            ([4] * n_layers, [2] * n_layers)]


def measured(outcomes):
    assert all(o.ok for o in outcomes), [o.error for o in outcomes]
    return [(o.value.psi, o.value.loss) for o in outcomes]


ONE_CORE = """
import json, os, sys
os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})   # one core, before torch starts its threads
sys.path[:0] = json.loads(sys.argv[2])
from test_threads import genomes, tiny
import torch
evaluator = tiny(sys.argv[1])
rows = [evaluator.evaluate(bw, ba) for bw, ba in genomes(evaluator.n_layers)]
print(json.dumps({"torch_threads": torch.get_num_threads(), "float": evaluator.identity()["float_weights_sha256"],
                  "psi": [[r.psi, r.loss] for r in rows]}))
"""


@pytest.fixture(scope="module")
def serial(tmp_path_factory):
    """(genomes, psi and loss per genome, float weights hash) measured serially in this process, whose own torch
    default is set to 4 threads (the evaluator must not use it)."""
    with torch_threads(4):
        evaluator = tiny(tmp_path_factory.mktemp("serial"))
        rows = genomes(evaluator.n_layers)
        psi = measured(Executor().evaluate(evaluator, rows))
        assert torch.get_num_threads() == 4  # the caller's count is restored
    return rows, psi, evaluator.identity()["float_weights_sha256"]


@pytest.mark.slow
def test_serial_pool_and_one_core_process_give_bit_identical_psi(tmp_path, serial):
    rows, psi_serial, float_serial = serial
    # a pool of 2 workers starting with 2 threads each, each training its own float network in an empty cache
    # (EvaluateTask directly: no driver-side prepare)
    pooled = tiny(tmp_path / "pool")
    with ProcessExecutor(2, threads=2) as pool:
        psi_pool = measured(pool.map(EvaluateTask(pooled), rows))
    # a process pinned to one core (torch would pick 1 thread there)
    tests_dir = os.path.dirname(__file__)
    out = subprocess.run([sys.executable, "-c", ONE_CORE, str(tmp_path / "one"), json.dumps([tests_dir] + sys.path)],
                         capture_output=True, text=True, timeout=600, check=True)
    one = json.loads(out.stdout.strip().splitlines()[-1])
    assert one["torch_threads"] == 1
    assert one["float"] == float_serial == pooled.identity()["float_weights_sha256"]
    assert psi_pool == psi_serial
    assert [tuple(p) for p in one["psi"]] == psi_serial


@pytest.mark.slow
def test_dask_workers_train_the_same_float_network_and_measure_the_same_psi(tmp_path, serial):
    pytest.importorskip("distributed", reason="the `test` extra installs dask[distributed]")
    from flowq.executor import make_executor

    rows, psi_serial, float_serial = serial
    evaluator = tiny(tmp_path / "dask")  # an empty cache: the workers train the float network themselves
    with make_executor(dask="local:2") as executor:
        psi_dask = measured(executor.map(EvaluateTask(evaluator, threads=2), rows))  # workers default to 2 threads
    assert psi_dask == psi_serial
    assert evaluator.identity()["float_weights_sha256"] == float_serial


def test_the_float_network_depends_on_threads_and_the_key_says_so(tmp_path):
    one, two = tiny(tmp_path, threads=1), tiny(tmp_path, threads=2)
    assert one.threads == DEFAULT_THREADS == 1
    assert one._float_key() != two._float_key()  # another file: a key that names what differs
    with torch_threads(3):  # the process's own count does not matter
        hash_one = one.identity()["float_weights_sha256"]
        assert torch.get_num_threads() == 3
    hash_two = two.identity()["float_weights_sha256"]
    assert hash_one != hash_two  # the thread count changes trained weights: why it must be fixed and keyed
    assert one.identity()["threads"] == 1 and two.identity()["threads"] == 2
    assert one.identity()["torch"] == torch.__version__
    assert tiny(tmp_path, threads=1).identity()["float_weights_sha256"] == hash_one  # reloaded from the cache


@pytest.mark.parametrize("bad", [0, -1, 1.5, True, "2", None])
def test_bad_thread_counts_are_refused(tmp_path, bad):
    from flowq.errors import EvaluatorError

    with pytest.raises(EvaluatorError, match="threads"):
        tiny(tmp_path, threads=bad)


def test_environment_records_torch_threads_device_and_commit():
    env = environment(threads=2, device="cpu")
    assert env["threads"] == 2 and env["device"] == "cpu"
    assert env["torch"].split("+")[0] == torch.__version__.split("+")[0]
    assert env["git_commit"] is None or len(env["git_commit"]) == 40
    json.dumps(env)
