"""Progress lines a person can follow in a log file: a line when a long phase starts and ends, and at most one
line every `EVERY_S` seconds in between (done / total, seconds per unit, ETA).

    phase = Phase("[float resnet20/digits]", total=135, unit="step")
    phase.start("training 15 epochs")          # [float resnet20/digits] training 15 epochs
    for step in range(135):
        ...
        phase.step(note=f"epoch {step // 9 + 1}/15")   # ... epoch 5/15: 45/135 steps, 0.52 s/step, ETA 47 s
    phase.end("validation accuracy 97.2 %")     # [float resnet20/digits] done in 70 s: validation accuracy 97.2 %

Lines go to stderr (stdout stays for results), flushed at once, so `make demo > log` shows them as they happen.
`quiet()` silences them (a Flow with verbose=False, `--quiet`); a tqdm bar on a terminal is `flowq.callbacks`'.
"""

from __future__ import annotations

import sys
import time
from contextlib import contextmanager

#: Least seconds between two lines of one phase (a start and an end line are always printed).
EVERY_S = 30.0

_QUIET: list = []  # a stack of quiet() flags, innermost last


def enabled() -> bool:
    """Whether progress lines are printed (not inside `quiet(True)`)."""
    return not (_QUIET and _QUIET[-1])


@contextmanager
def quiet(flag: bool = True):
    """Within the block, print no progress lines when `flag` (and print them when not, even inside an outer
    quiet block)."""
    _QUIET.append(bool(flag))
    try:
        yield
    finally:
        _QUIET.pop()


def say(text: str, stream=None) -> None:
    """Print one progress line to `stream` (default the current sys.stderr) unless quiet."""
    if enabled():
        print(text, file=stream if stream is not None else sys.stderr, flush=True)


def duration(seconds: float) -> str:
    """'42 s', '3 min 05 s' or '1 h 02 min'."""
    seconds = max(0.0, float(seconds))
    if seconds < 90:
        return f"{seconds:.0f} s"
    minutes, secs = divmod(int(round(seconds)), 60)
    if minutes < 90:
        return f"{minutes} min {secs:02d} s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes:02d} min"


class Phase:
    """One long phase (float training, shared-network training, a generation's evaluations).

    Args:
        label: line prefix, e.g. "[coarse] gen 3" or "[float resnet20/digits]".
        total: units the phase runs (steps, candidates); 0 or None when unknown (no ETA).
        unit: what one unit is called in the lines ("step", "candidate").
        every: least seconds between two progress lines (default `EVERY_S`).
        stream: where lines go (default the current sys.stderr).
        clock: seconds, monotonic (tests pass a fake one).
    """

    def __init__(self, label: str, total: int | None = None, unit: str = "step", *, every: float | None = None,
                 stream=None, clock=time.perf_counter):
        self.label, self.total, self.unit = label, int(total or 0), unit
        self.every = EVERY_S if every is None else float(every)
        self.stream, self.clock = stream, clock
        self.done = 0
        self.started = self._last = None

    def start(self, text: str) -> None:
        """The phase begins: a line `label text`."""
        self.started = self._last = self.clock()
        self.done = 0
        say(f"{self.label} {text}", self.stream)

    def step(self, n: int = 1, note: str = "") -> None:
        """`n` more units are done; a line `label note: done/total units, s/unit, ETA` when `every` s have passed
        since the previous line."""
        if self.started is None:
            self.start("started")
        self.done += n
        now = self.clock()
        if now - self._last >= self.every:
            self._last = now
            say(f"{self.label} {note + ': ' if note else ''}{self.status(now)}", self.stream)

    def status(self, now: float | None = None) -> str:
        """'45/135 steps, 0.52 s/step, ETA 47 s' (no ETA when the total is unknown)."""
        now = self.clock() if now is None else now
        elapsed = now - self.started
        rate = elapsed / self.done if self.done else 0.0
        counted = f"{self.done}/{self.total}" if self.total else f"{self.done}"
        text = f"{counted} {self.unit}s, {rate:.2f} s/{self.unit}"
        if self.total and self.done:
            text += f", ETA {duration(rate * max(0, self.total - self.done))}"
        return text

    def end(self, text: str = "") -> float:
        """The phase is over: a line `label done in T: text`; returns its seconds."""
        elapsed = self.clock() - (self.started if self.started is not None else self.clock())
        say(f"{self.label} done in {duration(elapsed)}{': ' + text if text else ''}", self.stream)
        return elapsed
