"""Shared bits of the `flowq` command line: value formatting, the abstraction levels, the start time."""

from __future__ import annotations

LEVELS = ("coarse", "mid", "fine", "reram")


def _fmt(value) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:.4g}"
    return str(value)


def _metric_text(name: str, value) -> str:
    """A metric as a person reads it: accuracy psi in %, the rest as stored."""
    if name == "accuracy" and isinstance(value, (int, float)):
        return f"accuracy={100 * value:.2f} %"
    return f"{name}={_fmt(value)}"


_STARTED = [0.0]  # time.perf_counter() when the command started (summaries give the whole wall time)
