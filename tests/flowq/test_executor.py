"""Executors: serial, process pool and an in-process Dask LocalCluster give the same results as serial, survive a
dead worker, record a raising evaluation as failed, stop gracefully, and ship evaluators cheaply."""

import os
import pickle
import sys

import numpy as np
import pytest
from pymoo.optimize import minimize

from executor_stubs import StubEvaluator, always_die, die_once, fail_on_three, square, stub_psi
from flowq.callbacks import SearchMonitor
from flowq.executor import (DASK_MISSING, EvaluateTask, Executor, ProcessExecutor, SearchInterrupted,
                            make_executor, request_stop)
from flowq.flow import make_algorithm
from hwmodels.errors import FlowQError
from problems import CoarseProblem


@pytest.fixture(scope="module")
def dask_local():
    pytest.importorskip("distributed", reason="the `test` extra installs dask[distributed]")
    with make_executor(dask="local:2") as executor:
        yield executor


@pytest.fixture(scope="module")
def pool():
    with make_executor(workers=2) as executor:
        yield executor


def run_search(executor, seed=3, n_gen=3, pop=8, **stub):
    problem = CoarseProblem("lenet5", "spatial-256", evaluator=StubEvaluator(seed=1, **stub))
    problem.executor = executor
    monitor = SearchMonitor()
    minimize(problem, make_algorithm("nsga2", pop), ("n_gen", n_gen), seed=seed, callback=monitor,
             copy_algorithm=False)
    return monitor.results(complete=True), problem


def front_of(data):
    return sorted((tuple(s["bits_w"]), tuple(s["bits_a"]), tuple(s["F"])) for s in data["front"])


def test_serial_map_keeps_item_order_and_records_raising_items():
    outcomes = Executor().map(fail_on_three, range(5))
    assert [o.value for o in outcomes] == [0, -1, -2, None, -4]
    assert not outcomes[3].ok and outcomes[3].error == "ValueError: three is not allowed"
    assert "fail_on_three" in outcomes[3].detail


def test_process_pool_results_in_item_order_and_thread_split(pool):
    assert [o.value for o in pool.map(square, range(7))] == [x * x for x in range(7)]
    cores = len(os.sched_getaffinity(0))
    assert pool.threads == max(1, cores // 2)
    assert [o.value for o in pool.map(os.getenv, ["OMP_NUM_THREADS"] * 2)] == [str(pool.threads)] * 2
    assert pool.map(fail_on_three, [3])[0].error.startswith("ValueError")


def test_process_pool_retries_a_dead_worker_and_fails_a_killer(pool, tmp_path):
    assert [o.value for o in pool.map(die_once, [(str(tmp_path), i) for i in range(2)])] == [0, 1]
    outcomes = pool.map(always_die, [1])
    assert outcomes[0].error.startswith("WorkerDied") and "died 3 times" in outcomes[0].error
    assert [o.value for o in pool.map(square, [4])] == [16]  # the pool came back


def test_dask_local_cluster_same_front_as_serial(dask_local):
    serial, _ = run_search(Executor())
    parallel, problem = run_search(dask_local)
    assert dask_local.n_workers == 2
    assert front_of(parallel) == front_of(serial) and len(serial["front"]) > 0
    assert parallel["hypervolume"] == serial["hypervolume"]
    for s in parallel["front"]:
        assert s["metrics"]["accuracy"] == stub_psi(s["bits_w"], s["bits_a"], 1)


def test_dask_retries_a_dead_worker_and_records_raising_evaluations(dask_local, tmp_path):
    assert [o.value for o in dask_local.map(die_once, [(str(tmp_path), 5)])] == [5]
    outcomes = dask_local.map(fail_on_three, range(5))
    assert [o.ok for o in outcomes] == [True, True, True, False, True]


def test_raising_evaluations_are_failed_candidates_and_the_search_goes_on(pool):
    data, problem = run_search(pool, n_gen=2, raise_below=4)
    failed = [r for r in problem.records.values() if r["metrics"].get("accuracy_failed")]
    assert failed, "the stub raises for 2-bit weights: 16 draws must include some"
    assert all("RuntimeError: stub refuses" in r["metrics"]["accuracy_reason"] for r in failed)
    front = {tuple(s["bits_w"]) for s in data["front"]}
    assert not front & {tuple(r["bits_w"]) for r in failed}
    assert len(data["hypervolume"]) == 2


def test_stop_request_finishes_the_candidate_in_flight_then_raises(tmp_path):
    seen = []

    def on_done(index, outcome):
        seen.append(index)
        if index == 1:
            request_stop()

    with pytest.raises(SearchInterrupted):
        Executor().map(square, range(5), on_done=on_done)
    assert seen == [0, 1]
    from flowq import executor as module

    module._STOP.clear()


def test_evaluators_ship_their_configuration_not_their_state():
    from flowq.accuracy import LossProxyEvaluator

    evaluator = LossProxyEvaluator("lenet5")
    light = len(pickle.dumps(evaluator))
    evaluator._state = np.zeros(10_000_000)  # stands for data and networks built in a worker
    evaluator._batch = np.zeros(1_000_000)
    assert len(pickle.dumps(evaluator)) == light < 20_000
    task = EvaluateTask(evaluator)
    assert len(pickle.dumps(task)) < 2 * light + 1_000
    problem = CoarseProblem("lenet5", "spatial-256", evaluator=StubEvaluator())
    problem.executor = ProcessExecutor(2)
    assert pickle.loads(pickle.dumps(problem)).executor is None  # checkpoints drop worker processes


def test_make_executor_rejects_bad_requests(monkeypatch):
    assert type(make_executor()) is Executor and type(make_executor(workers=1)) is Executor
    with pytest.raises(FlowQError, match="exclude each other"):
        make_executor(workers=2, dask="local:2")
    for bad in (0, -1, 1.5):
        with pytest.raises(FlowQError, match="--workers"):
            make_executor(workers=bad)
    pytest.importorskip("distributed")
    for bad in ("local:0", "local:x", "nonsense"):
        with pytest.raises(FlowQError, match="--dask"):
            make_executor(dask=bad)
    monkeypatch.setitem(sys.modules, "distributed", None)  # as if dask were not installed
    with pytest.raises(FlowQError) as error:
        make_executor(dask="local:2")
    assert str(error.value) == DASK_MISSING and "pip install" in DASK_MISSING


def test_dask_asks_for_a_gpu_only_when_a_worker_advertises_one(dask_local, monkeypatch):
    info = dask_local.client.scheduler_info()
    assert dask_local._gpu_resources() is None  # LocalCluster workers advertise no GPU
    gpu_info = dict(info, workers={address: dict(w, resources={"GPU": 1}) for address, w in info["workers"].items()})
    monkeypatch.setattr(dask_local.client, "scheduler_info", lambda *a, **k: gpu_info)
    assert dask_local._gpu_resources() == {"GPU": 1}
