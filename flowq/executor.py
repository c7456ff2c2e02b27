"""Executors that run one candidate's accuracy evaluation per task: serial, a local process pool, or Dask.

    with make_executor(workers=2) as executor:             # or dask="tcp://host:8786" / dask="local:2"
        outcomes = executor.evaluate(evaluator, [(bits_w, bits_a), ...])

Every executor returns one `Outcome` per item, in item order, whatever order the tasks finished in. A task that
raises is an `Outcome` with `error` set (the search records that candidate as failed and goes on); a worker that
dies is replaced and its task retried on another worker (`retries` times, then the candidate is failed). Workers
receive the evaluator's configuration only (it pickles without its data or networks) and build the heavy state
once per process, on first use. `graceful_stop()` turns SIGINT / SIGTERM into "finish the candidates in flight,
then raise `SearchInterrupted`".

Threads: FlowQ's evaluators set their own torch thread count for everything they compute (`threads`, default
`flowq.environment.DEFAULT_THREADS`), so psi is the same whichever executor runs them. A worker starts with
`cores // n_workers` threads, which only evaluators that do not manage their own threads use. Before parallel
executors ship an evaluator, its `prepare()` (when it has one) runs in the driver: the float network is trained
(or loaded) once there instead of by every worker at the same time.
"""

from __future__ import annotations

import hashlib
import os
import pickle
import signal
import sys
import threading
import time
import traceback
import warnings
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, Callable, Sequence

from flowq.environment import cores as _cores
from hwmodels.errors import FlowQError

#: Times a task whose worker died is resubmitted before the candidate is recorded as failed.
DEFAULT_RETRIES = 2
_THREAD_VARS = ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS")
DASK_MISSING = ("--dask needs the optional Dask dependency: pip install 'flowq[distributed]' "
                "(or pip install 'dask[distributed]')")


class SearchInterrupted(KeyboardInterrupt):
    """SIGINT / SIGTERM arrived: the candidates in flight were finished, the rest of the generation was not run."""


@dataclass(frozen=True)
class Outcome:
    """Result of one task.

    Attributes:
        value: what the task returned (None when it raised).
        error: "" on success, else "ExceptionType: message" of what the task raised (or why its worker died).
        detail: the worker-side traceback text of a raised exception ("" otherwise).
    """

    value: Any = None
    error: str = ""
    detail: str = ""

    @property
    def ok(self) -> bool:
        """True when the task returned normally."""
        return not self.error


def run_task(fn: Callable, item) -> Outcome:
    """Call `fn(item)` and wrap the result, or the exception it raised, in an `Outcome` (runs in the worker)."""
    try:
        return Outcome(fn(item))
    except Exception as error:  # noqa: BLE001 - any failure of one candidate must not end the search
        return Outcome(None, f"{type(error).__name__}: {error}", traceback.format_exc())


# ---- stopping on SIGINT / SIGTERM ------------------------------------------------------------------------
_STOP = threading.Event()


def stop_requested() -> bool:
    """Whether a graceful stop was asked for (a signal inside `graceful_stop`, or `request_stop`)."""
    return _STOP.is_set()


def request_stop() -> None:
    """Ask running executors to finish the tasks in flight and raise `SearchInterrupted` (what a signal does)."""
    _STOP.set()


@contextmanager
def graceful_stop():
    """Within the block, the first SIGINT or SIGTERM requests a stop after the candidates in flight; a second
    SIGINT interrupts at once. Handlers are installed only in the main thread and restored afterwards."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    _STOP.clear()

    def handler(signum, frame):
        if _STOP.is_set() and signum == signal.SIGINT:
            raise KeyboardInterrupt
        _STOP.set()
        print(f"\n{signal.Signals(signum).name}: stopping after the candidate(s) in flight "
              f"(Ctrl-C again to stop at once)", file=sys.stderr, flush=True)

    previous = {sig: signal.signal(sig, handler) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    finally:
        for sig, old in previous.items():
            signal.signal(sig, old)
        _STOP.clear()


# ---- worker side -------------------------------------------------------------------------------------------
_WORKER_EVALUATORS: dict = {}  # per worker process: payload digest -> evaluator (heavy state built once)
_WORKER_THREADS: int | None = None


def _set_threads(threads: int | None) -> None:
    """Limit this process's torch / BLAS threads (before torch is imported, through the environment)."""
    global _WORKER_THREADS
    if not threads:
        return
    _WORKER_THREADS = int(threads)
    for var in _THREAD_VARS:
        os.environ[var] = str(threads)
    if "torch" in sys.modules:
        sys.modules["torch"].set_num_threads(int(threads))


#: Seconds between a worker's checks that its driver is still alive.
PARENT_CHECK_S = 0.5


def _exit_with_parent(parent: int, interval: float = PARENT_CHECK_S) -> threading.Thread:
    """Start a daemon thread that ends this worker process as soon as its parent `parent` is gone (re-parented:
    the driver was killed, even by SIGKILL, which runs no cleanup), so no worker outlives its search."""
    def watch():
        while os.getppid() == parent:
            time.sleep(interval)
        os._exit(1)

    thread = threading.Thread(target=watch, name="flowq-parent-watch", daemon=True)
    thread.start()
    return thread


def _init_pool_worker(threads: int | None, gpus: tuple, counter) -> None:
    """ProcessPoolExecutor initializer: ignore SIGINT (the driver decides), die with the driver, set threads, pick
    a GPU."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    _exit_with_parent(os.getppid())
    if gpus:
        with counter.get_lock():
            index = counter.value
            counter.value += 1
        os.environ["CUDA_VISIBLE_DEVICES"] = str(gpus[index % len(gpus)])
    _set_threads(threads)


class EvaluateTask:
    """Picklable task `(bits_w, bits_a) -> evaluator.evaluate(bits_w, bits_a)` that ships the evaluator's
    configuration once per task and rebuilds it at most once per worker process.

    Args:
        evaluator: object with `.evaluate(bits_w, bits_a)`; its pickle must be cheap (configuration only).
        threads: torch threads in the worker (None: leave as is).
    """

    def __init__(self, evaluator, threads: int | None = None):
        self.payload = pickle.dumps(evaluator)
        self.token = hashlib.sha256(self.payload).hexdigest()
        self.threads = threads

    def __call__(self, item):
        if self.threads and _WORKER_THREADS != self.threads:
            _set_threads(self.threads)
        evaluator = _WORKER_EVALUATORS.get(self.token)
        if evaluator is None:
            evaluator = _WORKER_EVALUATORS[self.token] = pickle.loads(self.payload)
        bits_w, bits_a = item
        return evaluator.evaluate(bits_w, bits_a)


# ---- executors ---------------------------------------------------------------------------------------------
class Executor:
    """Serial execution in the calling process (the default); base of the parallel executors.

    Subclasses override `_map`; `map` and `evaluate` are the public entry points.
    """

    name = "serial"
    n_workers = 1
    _warned_threads = False

    def map(self, fn: Callable, items: Sequence, *, on_done: Callable | None = None) -> list[Outcome]:
        """`fn(item)` for every item, one task each, as `Outcome`s in item order.

        Args:
            fn: picklable callable (for parallel executors).
            items: task arguments.
            on_done: called as `on_done(index, outcome)` in the driver as each task finishes (progress display).

        Raises:
            SearchInterrupted: a stop was requested; tasks in flight were finished, the others not started.
        """
        return self._map(fn, list(items), on_done or (lambda index, outcome: None))

    def evaluate(self, evaluator, genomes: Sequence, *, on_done: Callable | None = None) -> list[Outcome]:
        """`evaluator.evaluate(bits_w, bits_a)` for each (bits_w, bits_a) in `genomes` (see `map`)."""
        genomes = list(genomes)
        if genomes and self.n_workers > 1:
            self._prepare(evaluator)
        return self.map(self._task(evaluator), genomes, on_done=on_done)

    def _prepare(self, evaluator) -> None:
        """In the driver, before tasks ship: `evaluator.prepare()` (one-off state such as the float network, which
        every worker would otherwise build at the same time), and a warning when the workers' threads
        (`evaluator.threads` each) exceed the cores."""
        prepare = getattr(evaluator, "prepare", None)
        if callable(prepare):
            prepare()
        threads = getattr(evaluator, "threads", None)
        if isinstance(threads, int) and self.n_workers * threads > _cores() and not self._warned_threads:
            self._warned_threads = True
            warnings.warn(f"{self.n_workers} workers x {threads} torch threads each > {_cores()} cores: the "
                          f"workers slow each other down (use --threads 1 with --workers)", stacklevel=3)

    def _task(self, evaluator) -> Callable:
        return lambda item: evaluator.evaluate(*item)  # serial: keep the driver's evaluator and its warm state

    def _map(self, fn, items, on_done) -> list[Outcome]:
        outcomes = []
        for index, item in enumerate(items):
            if stop_requested():
                raise SearchInterrupted(f"stopped after {index} of {len(items)} candidates")
            outcome = run_task(fn, item)
            on_done(index, outcome)
            outcomes.append(outcome)
        return outcomes

    def describe(self) -> str:
        """One line for logs and results.json."""
        return self.name

    def close(self) -> None:
        """Release workers (no-op for serial)."""

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def __getstate__(self):
        raise TypeError(f"{type(self).__name__} does not pickle (it holds worker processes); problems drop it "
                        f"when they are checkpointed")


SerialExecutor = Executor


def _visible_gpus() -> tuple:
    if "torch" not in sys.modules:
        return ()
    torch = sys.modules["torch"]
    return tuple(range(torch.cuda.device_count())) if torch.cuda.is_available() else ()


class ProcessExecutor(Executor):
    """A local pool of `n_workers` spawned processes and, on a multi-GPU host, one GPU each (CUDA_VISIBLE_DEVICES,
    round robin). FlowQ's evaluators run with their own `threads`; other callables with `threads` each.

    Args:
        n_workers: worker processes (>= 1).
        retries: resubmissions of a task whose worker died (the pool is rebuilt), then the candidate fails.
        threads: torch threads a worker starts with (default cores // n_workers, at least 1).
    """

    name = "processes"

    def __init__(self, n_workers: int, *, retries: int = DEFAULT_RETRIES, threads: int | None = None):
        if isinstance(n_workers, bool) or int(n_workers) != n_workers or n_workers < 1:
            raise FlowQError(f"--workers {n_workers!r}: give a number of worker processes >= 1")
        self.n_workers = int(n_workers)
        self.retries = int(retries)
        self.threads = int(threads) if threads else max(1, _cores() // self.n_workers)
        self._pool = None

    def describe(self) -> str:
        return f"processes:{self.n_workers}"

    def _ensure_pool(self) -> ProcessPoolExecutor:
        if self._pool is None:
            import multiprocessing

            ctx = multiprocessing.get_context("spawn")  # fork after torch/OpenMP started can deadlock
            self._pool = ProcessPoolExecutor(self.n_workers, mp_context=ctx, initializer=_init_pool_worker,
                                             initargs=(self.threads, _visible_gpus(), ctx.Value("i", 0)))
        return self._pool

    def _discard_pool(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=False, cancel_futures=True)
            self._pool = None

    def _task(self, evaluator) -> Callable:
        return EvaluateTask(evaluator)  # threads are set once per worker by the initializer

    def _map(self, fn, items, on_done) -> list[Outcome]:
        """All items at once; after a worker death the unfinished ones are resubmitted once at full width, and
        after a second death in the same call one at a time, so that the item that kills its worker is known
        (it gets `retries` more attempts, then fails) and no other item is charged for it."""
        outcomes: list = [None] * len(items)
        attempts = [0] * len(items)
        todo, breaks = list(range(len(items))), 0
        while todo:
            width = len(todo) if breaks < 2 else 1
            batch, todo = todo[:width], todo[width:]
            if self._run_batch(fn, items, batch, outcomes, on_done):
                unfinished = [i for i in batch if outcomes[i] is None]
                breaks += 1
                self._discard_pool()
                if breaks >= 2 and len(unfinished) == 1:  # alone in the pool: this item killed its worker
                    i = unfinished[0]
                    attempts[i] += 1
                    if attempts[i] > self.retries:
                        outcomes[i] = Outcome(None, f"WorkerDied: the worker evaluating this candidate died "
                                                    f"{attempts[i]} times")
                        on_done(i, outcomes[i])
                        unfinished = []
                todo = unfinished + todo
        return outcomes

    def _run_batch(self, fn, items, batch, outcomes, on_done) -> bool:
        """Run `batch` (item indices) in the pool, filling `outcomes`; True when the pool broke."""
        pool, futures, broken = self._ensure_pool(), {}, False
        for i in batch:
            try:
                futures[pool.submit(run_task, fn, items[i])] = i
            except BrokenProcessPool:  # a worker died while the batch was being submitted
                broken = True
                break
        pending = set(futures)
        while pending:
            if stop_requested():
                for future in pending:
                    future.cancel()  # not started yet: dropped; running ones finish (their results are cached)
                wait(pending)
                raise SearchInterrupted(f"stopped with {sum(o is not None for o in outcomes)} of {len(items)} "
                                        f"candidates evaluated")
            done, pending = wait(pending, timeout=0.2, return_when=FIRST_COMPLETED)
            for future in done:
                try:
                    outcome = future.result()
                except BrokenProcessPool:
                    broken = True
                    continue
                outcomes[futures[future]] = outcome
                on_done(futures[future], outcome)
        return broken

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None


class DaskExecutor(Executor):
    """Tasks on a Dask `distributed` cluster: one candidate per task; `resources={"GPU": 1}` when any worker
    advertises a GPU resource (start GPU workers with `--resources GPU=1`). The scheduler moves the tasks of a
    worker that dies to other workers; a task that kills `retries + 1` workers is recorded as failed.

    Args:
        address: scheduler address ("tcp://host:8786") or "local:N" to start an in-process LocalCluster of N
            single-task worker processes (starting with cores // N torch threads; FlowQ's evaluators use their own).
        retries: extra attempts for a task whose worker died.
    """

    name = "dask"

    def __init__(self, address: str, *, retries: int = DEFAULT_RETRIES):
        try:
            import dask
            from distributed import Client, LocalCluster
        except ImportError:
            raise FlowQError(DASK_MISSING) from None
        address = str(address).strip()
        self.address, self.retries, self.threads, self._cluster = address, int(retries), None, None
        # a dead worker also counts against the tasks queued on it: allow a few deaths per requested retry
        with dask.config.set({"distributed.scheduler.allowed-failures": 2 * self.retries + 1}):
            if address.startswith("local:"):
                count = address.partition(":")[2]
                if not count.isdigit() or int(count) < 1:
                    raise FlowQError(f"--dask {address!r}: write local:N with N >= 1 workers, or a scheduler "
                                     f"address such as tcp://10.0.0.5:8786")
                self.n_workers = int(count)
                self.threads = max(1, _cores() // self.n_workers)
                self._cluster = LocalCluster(n_workers=self.n_workers, threads_per_worker=1, processes=True,
                                             dashboard_address=None, silence_logs=40)
                self.client = Client(self._cluster)
            else:
                if "://" not in address and ":" not in address:
                    raise FlowQError(f"--dask {address!r}: give a scheduler address (tcp://HOST:8786) or local:N")
                try:
                    self.client = Client(address, timeout="20s")
                except (OSError, TimeoutError) as error:
                    raise FlowQError(f"--dask {address}: cannot reach the scheduler ({error}); start it with "
                                     f"`dask scheduler` and workers with `dask worker {address}`") from None
                self.n_workers = max(1, len(self.client.scheduler_info()["workers"]))

    def describe(self) -> str:
        return f"dask:{self.address} ({self.n_workers} worker(s){', GPU' if self._gpu_resources() else ''})"

    def _gpu_resources(self) -> dict | None:
        workers = self.client.scheduler_info().get("workers", {})
        has_gpu = any(float(w.get("resources", {}).get("GPU", 0)) >= 1 for w in workers.values())
        return {"GPU": 1} if has_gpu else None

    def _task(self, evaluator) -> Callable:
        return EvaluateTask(evaluator, threads=self.threads)

    def _map(self, fn, items, on_done) -> list[Outcome]:
        from distributed import as_completed
        from distributed.scheduler import KilledWorker

        resources = self._gpu_resources()
        futures = [self.client.submit(run_task, fn, item, pure=False, resources=resources) for item in items]
        index = {future.key: i for i, future in enumerate(futures)}
        outcomes: list = [None] * len(items)
        try:
            for future in as_completed(futures):
                i = index[future.key]
                try:
                    outcome = future.result()
                except KilledWorker as error:
                    outcome = Outcome(None, f"WorkerDied: {error}")
                except Exception as error:  # noqa: BLE001 - e.g. a task that could not be deserialised
                    outcome = Outcome(None, f"{type(error).__name__}: {error}")
                outcomes[i] = outcome
                on_done(i, outcome)
                if stop_requested() and any(o is None for o in outcomes):
                    running = [f for f in futures if f.status == "pending"]
                    self.client.cancel(running)
                    raise SearchInterrupted(f"stopped with {sum(o is not None for o in outcomes)} of "
                                            f"{len(items)} candidates evaluated")
        finally:
            for future in futures:
                future.release()
        return outcomes

    def close(self) -> None:
        self.client.close()
        if self._cluster is not None:
            self._cluster.close()


_CURRENT: list = []  # executors made current by `using`, innermost last


@contextmanager
def using(executor: Executor):
    """Make `executor` the one searches use when they were given none (`current_executor`); the CLI wraps a
    command in it. The executor is closed on exit."""
    _CURRENT.append(executor)
    try:
        yield executor
    finally:
        _CURRENT.remove(executor)
        executor.close()


def current_executor() -> Executor | None:
    """The executor of the innermost `using` block, or None."""
    return _CURRENT[-1] if _CURRENT else None


def make_executor(workers: int | None = None, dask: str | None = None, *,
                  retries: int = DEFAULT_RETRIES) -> Executor:
    """The executor the CLI options ask for: `dask` wins, then `workers` > 1, else serial.

    Raises:
        FlowQError: both given, a bad worker count or address, or `dask` without Dask installed.
    """
    if dask is not None and workers not in (None, 1):
        raise FlowQError("--workers and --dask exclude each other: --dask local:N starts N local Dask workers")
    if dask is not None:
        return DaskExecutor(dask, retries=retries)
    if workers is None or workers == 1:
        if workers is not None and (isinstance(workers, bool) or int(workers) != workers):
            raise FlowQError(f"--workers {workers!r}: give a number of worker processes >= 1")
        return Executor()
    return ProcessExecutor(workers, retries=retries)
