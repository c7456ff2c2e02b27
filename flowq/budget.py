"""Fitting a search into a time budget: shrink the population first, skip generations last.

A search with a deadline (`Flow.search(deadline=...)`, the demo's levels) measures after every generation what a
candidate cost in wall time (the generation's seconds over the candidates it evaluated: accuracy, hardware and
bookkeeping together, so machine load is in it) and sizes the next generations so that all the generations still
asked for fit before the deadline: the population shrinks (down to `min_pop`) before any generation is skipped, and
grows back (up to the size asked for) when candidates get cheaper again. Only when not even one generation of
`min_pop` fits does the search stop early.
"""

from __future__ import annotations

#: Smallest population a budget shrinks a search to (a smaller asked-for population is kept as it is).
MIN_POP = 4


def plan_population(remaining_s: float, gens_left: int, s_per_candidate: float, full_pop: int,
                    min_pop: int = MIN_POP) -> int:
    """Population of the next generations: the largest up to `full_pop` whose `gens_left` generations fit in
    `remaining_s` seconds at `s_per_candidate`, at least `min(min_pop, full_pop)`; 0 when not even one generation of
    that many fits (stop now).

    Args:
        remaining_s: seconds left before the deadline.
        gens_left: generations still asked for (>= 1).
        s_per_candidate: wall seconds one candidate costs (as measured by the last generation).
        full_pop: the population asked for.
        min_pop: the population below which generations are skipped instead.
    """
    floor = min(int(min_pop), int(full_pop))
    if s_per_candidate <= 0:
        return int(full_pop)
    affordable = int(remaining_s / (max(1, gens_left) * s_per_candidate))
    if affordable >= floor:
        return min(int(full_pop), affordable)
    return floor if remaining_s >= floor * s_per_candidate else 0


def resize_population(algorithm, pop: int) -> bool:
    """Set a genetic algorithm's population and offspring count to `pop` for its next generations (pymoo's
    `GeneticAlgorithm`: survival keeps `pop_size`, mating makes `n_offsprings`); False when `algorithm` has no
    such sizes (an RL agent), which then keeps its own."""
    if not (hasattr(algorithm, "pop_size") and hasattr(algorithm, "n_offsprings")):
        return False
    algorithm.pop_size = algorithm.n_offsprings = int(pop)
    return True
