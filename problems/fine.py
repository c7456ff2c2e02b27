"""`FineProblem`: search against the Fine level (loop-nest mapper: energy, latency; hw-flowq 3.3 and 6.2)."""

from __future__ import annotations

from hwmodels.config import OBJECTIVE_CODES
from hwmodels.errors import GenomeError
from problems.base import ACCURACY, QuantProblem

#: What the Fine mapper minimises per layer unless `mapper_objective` (`--mapper-objective`) says otherwise; chosen
#: by measurement (experiments/mapper_objective.py, README "Which mappings the Fine level costs").
DEFAULT_MAPPER_OBJECTIVE = "energy"


class FineProblem(QuantProblem):
    """Quantization search with the Fine mapper; default objectives (accuracy, energy, latency_cycles) as the
    3-D fronts of hw-flowq 6.2. `FineProblem(model="resnet20", hw="spatial-256")` works as is.

    `mapper_objective` ("energy", "latency" or "edp", default `DEFAULT_MAPPER_OBJECTIVE`) picks the mapping each
    layer is costed with; see `QuantProblem` for the other arguments.

    Raises:
        GenomeError: an unknown mapper objective.
    """

    level = "fine"
    default_objectives = (ACCURACY, "energy", "latency_cycles")

    def __init__(self, *args, mapper_objective: str = DEFAULT_MAPPER_OBJECTIVE, **kwargs):
        if mapper_objective not in OBJECTIVE_CODES:
            raise GenomeError(f"mapper_objective={mapper_objective!r}; allowed: {', '.join(OBJECTIVE_CODES)}")
        super().__init__(*args, mapper_objective=mapper_objective, **kwargs)
