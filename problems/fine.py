"""`FineProblem`: search against the Fine level (loop-nest mapper: energy, latency; hw-flowq 3.3 and 6.2)."""

from __future__ import annotations

from hwmodels.config import OBJECTIVE_CODES
from hwmodels.errors import GenomeError
from problems.base import ACCURACY, QuantProblem

#: What the Fine mapper minimises per layer unless `mapper_objective` (`--mapper-objective`) says otherwise. Chosen
#: by measurement (experiments/mapper_objective.py, README "Which mappings a Fine search costs"): over ResNet-20 and
#: MobileNetV2 on spatial-256 RS/WS/OS at 16..2 bits, EDP mappings lie 5.6 % (worst 88 %) above the optimal energy
#: and 1.2 % (worst 20 %) above the optimal latency; energy mappings 0 / 23.8 % (worst 339 % in latency), latency
#: mappings 8.2 % (worst 128 % in energy) / 0. A Fine front trades energy against latency, so neither is hidden.
DEFAULT_MAPPER_OBJECTIVE = "edp"


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
