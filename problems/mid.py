"""`MidProblem`: search against the Mid level (buffer tiling, DRAM accesses, CTC; hw-flowq 3.1 and 5)."""

from __future__ import annotations

from problems.base import ACCURACY, QuantProblem


class MidProblem(QuantProblem):
    """Quantization search with the Mid hardware model; default objectives (accuracy, dram_accesses_bits) as
    hw-flowq Table 2 "DRAM acc.; Mid". See `QuantProblem` for the arguments."""

    level = "mid"
    default_objectives = (ACCURACY, "dram_accesses_bits")
