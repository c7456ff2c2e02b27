"""`FineProblem`: search against the Fine level (loop-nest mapper: energy, latency; hw-flowq 3.3 and 6.2)."""

from __future__ import annotations

from problems.base import ACCURACY, QuantProblem


class FineProblem(QuantProblem):
    """Quantization search with the Fine mapper; default objectives (accuracy, energy, latency_cycles) as the
    3-D fronts of hw-flowq 6.2. `FineProblem(model="resnet20", hw="spatial-256")` works as is.
    See `QuantProblem` for the arguments."""

    level = "fine"
    default_objectives = (ACCURACY, "energy", "latency_cycles")
