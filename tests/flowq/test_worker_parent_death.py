"""Workers die with their driver (issue 21): a local worker pool outlives neither kill -9 nor SIGTERM of the process
that started it (each worker watches its parent, `flowq.executor._exit_with_parent`)."""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow

DRIVER = '''
import os, sys, time
from flowq.executor import ProcessExecutor

if __name__ == "__main__":
    pool = ProcessExecutor(2)._ensure_pool()
    for future in [pool.submit(time.sleep, 0.2) for _ in range(4)]:
        future.result()
    print(" ".join(str(pid) for pid in pool._processes), flush=True)
    time.sleep(600)
'''


def _alive(pid: int) -> bool:
    """Running (a zombie left for a non-reaping init counts as dead)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().split(")")[-1].split()[0]
    except (FileNotFoundError, ProcessLookupError):
        return False
    return state != "Z"


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="reads process states from /proc")
@pytest.mark.parametrize("sig", [signal.SIGKILL, signal.SIGTERM])
def test_workers_exit_when_their_driver_is_killed(sig, tmp_path):
    script = tmp_path / "driver.py"
    script.write_text(DRIVER)
    driver = subprocess.Popen([sys.executable, str(script)], stdout=subprocess.PIPE, text=True,
                              cwd=tmp_path, env=dict(os.environ, PYTHONPATH=str(Path(__file__).parents[2])))
    pids = [int(p) for p in driver.stdout.readline().split()]
    assert len(pids) == 2 and all(_alive(pid) for pid in pids)
    os.kill(driver.pid, sig)
    driver.wait(timeout=30)
    deadline = time.monotonic() + 20
    while any(_alive(pid) for pid in pids) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not any(_alive(pid) for pid in pids)
