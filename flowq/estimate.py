"""Up-front cost of a search: candidates x seconds per candidate, measured in the result cache or expected."""

from __future__ import annotations

#: Expected seconds of one accuracy evaluation when the result cache holds no measurement of the model and kind:
#: ResNet-20 on digits, 1 torch thread, 2 quiet CPU cores (fine-tuning: per epoch, 8.4 s measured; README table).
EXPECTED_SECONDS = {"finetune": 8.0, "proxy": 1.0, "shared": 0.5}
#: A search whose estimate exceeds this many seconds is announced before it starts.
WARN_SECONDS = 3600.0
#: Cached evaluations averaged for the measured rate.
SAMPLE = 20


def seconds_per_candidate(cache, model: str, kind: str, epochs: float | None) -> tuple[float, str]:
    """(seconds, how it was obtained) of one accuracy evaluation of `model` by evaluator `kind`.

    The mean of the newest `SAMPLE` cached evaluations of that model and kind that took time (a result read back
    from the cache costs nothing), else `EXPECTED_SECONDS` (fine-tuning scaled by `epochs`, default 1).
    """
    rows = cache.entries(model=model, limit=200) if cache is not None else []
    seconds = [float(row["value"]["seconds"]) for row in rows if row["kind"] == kind
               and isinstance(row["value"].get("seconds"), (int, float)) and row["value"]["seconds"] > 0][:SAMPLE]
    if seconds:
        return sum(seconds) / len(seconds), f"mean of {len(seconds)} measured in the result cache"
    base = EXPECTED_SECONDS.get(kind, EXPECTED_SECONDS["finetune"])
    if kind == "finetune":
        epochs = 1.0 if epochs is None else float(epochs)
        return base * max(epochs, 0.05), f"expected for {epochs:g} fine-tuning epoch(s) of ResNet-20 on 2 cores"
    return base, f"expected for the {kind} evaluator"


def search_estimate(pop: int, gen: int, seconds: float) -> tuple[int, float]:
    """(candidates, seconds) at most: pop x gen evaluations (duplicates and cached genomes cost nothing)."""
    candidates = int(pop) * int(gen)
    return candidates, candidates * float(seconds)


def format_duration(seconds: float) -> str:
    """`42 s`, `12.5 min`, `3.1 h` or `2.4 days`."""
    if seconds < 120:
        return f"{seconds:.0f} s"
    if seconds < 3600:
        return f"{seconds / 60:.1f} min"
    if seconds < 3 * 86400:
        return f"{seconds / 3600:.1f} h"
    return f"{seconds / 86400:.1f} days"
