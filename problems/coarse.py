"""`CoarseProblem`: search against the Coarse level (Frac.OPs, BitOPs, footprints; hw-flowq 3.1, eq. 5)."""

from __future__ import annotations

from problems.base import ACCURACY, QuantProblem


class CoarseProblem(QuantProblem):
    """Quantization search with the Coarse hardware model; default objectives (accuracy, frac_ops) as hw-flowq
    Table 2 "Frac. OPs; Coarse". See `QuantProblem` for the arguments."""

    level = "coarse"
    default_objectives = (ACCURACY, "frac_ops")
