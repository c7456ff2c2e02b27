"""What a measured number depends on besides its inputs: torch threads, torch build, device and code version.

psi of a genome depends on the torch intra-op thread count (reductions are split per thread, so float training,
fine-tuning and even a 16-bit evaluation differ in the last bits, and the differences grow through training).
FlowQ's evaluators therefore set their own thread count, `DEFAULT_THREADS` unless told otherwise (`--threads N`),
whichever executor runs them, and restore the caller's afterwards (`torch_threads`). The thread count is part of
every evaluator identity and cache key; `environment()` is what results.json and the experiment scripts record.

    with torch_threads(1):
        ...                        # torch ops here run on exactly one intra-op thread
    environment(threads=1, device="cpu")   # {"torch": "2.13.0", "threads": 1, "device": "cpu", "git_commit": ...}
"""

from __future__ import annotations

import os
import platform
from importlib import metadata
import subprocess
import sys
from contextlib import contextmanager
from functools import lru_cache
from pathlib import Path

from hwmodels.errors import FlowQError

#: torch intra-op threads of an accuracy evaluation unless `--threads` says otherwise. One thread gives the same
#: psi on every machine and executor, and it is the fastest choice on a loaded machine (OpenMP threads that wait
#: for a busy core stall the whole step: ResNet-20 fine-tuning took 0.51 s per step with 1 thread and 2.5 s with
#: 2 on 2 cores at load 2.3). Use more cores through `--workers N` (one candidate per worker), or `--threads N`
#: for one large network (a different N gives slightly different, equally valid numbers, under another key).
DEFAULT_THREADS = 1


def check_threads(threads) -> int:
    """`threads` as an int >= 1; FlowQError otherwise (0 and None are not 'default' here)."""
    if isinstance(threads, bool) or not isinstance(threads, int) or threads < 1:
        raise FlowQError(f"threads={threads!r}: give the torch intra-op thread count, an integer >= 1 "
                         f"(default {DEFAULT_THREADS})")
    return threads


@contextmanager
def torch_threads(threads: int):
    """Run the block with exactly `threads` torch intra-op threads, then restore the previous count."""
    import torch

    threads = check_threads(threads)
    previous = torch.get_num_threads()
    if previous != threads:
        torch.set_num_threads(threads)
    try:
        yield
    finally:
        if torch.get_num_threads() != previous:
            torch.set_num_threads(previous)


@lru_cache(maxsize=None)
def git_commit() -> dict:
    """{"git_commit": HEAD's hash or None, "git_dirty": True when tracked files differ from it (None unknown)}
    of the checkout FlowQ runs from (None outside a git checkout, e.g. an installed wheel). Memoised."""
    root = Path(__file__).resolve().parent.parent
    if not (root / ".git").exists():
        return {"git_commit": None, "git_dirty": None}
    try:
        commit = subprocess.run(["git", "-C", str(root), "rev-parse", "HEAD"], capture_output=True, text=True,
                                timeout=10, check=True).stdout.strip()
        status = subprocess.run(["git", "-C", str(root), "status", "--porcelain", "--untracked-files=no"],
                                capture_output=True, text=True, timeout=10, check=True).stdout
    except (OSError, subprocess.SubprocessError):
        return {"git_commit": None, "git_dirty": None}
    return {"git_commit": commit or None, "git_dirty": bool(status.strip())}


def _version(package: str) -> str | None:
    module = sys.modules.get(package)
    if module is not None and hasattr(module, "__version__"):
        return str(module.__version__)  # the build actually loaded (e.g. 2.13.0+cpu)
    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        return None


def cores() -> int:
    """CPU cores this process may run on (its affinity mask on Linux)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return os.cpu_count() or 1


def environment(threads: int | None = None, device=None) -> dict:
    """The software and machine context of a measurement, as plain JSON (results.json "environment").

    Args:
        threads: torch intra-op threads the evaluator used (None: no evaluator, e.g. a hardware-only search).
        device: the evaluator's device ("cpu", "cuda:0", ...) or None.

    Returns:
        {"torch", "threads", "device", "git_commit", "git_dirty", "python", "numpy", "platform", "cores"}; the
        versions come from the installed packages' metadata (torch is not imported for this).
    """
    return {"torch": _version("torch"), "threads": threads,
            "device": None if device is None else str(device), **git_commit(),
            "python": platform.python_version(), "numpy": _version("numpy"),
            "platform": platform.platform(terse=True), "cores": cores()}
