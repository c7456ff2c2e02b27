"""Random search: the baseline every search algorithm has to beat at an equal evaluation budget.

    res = minimize(problem, RandomSearch(8), ("n_eval", 400), seed=1, callback=SearchMonitor())

A pymoo `Algorithm` like NSGA-II and the RL agents (`--algo random`): each iteration evaluates `pop_size` genomes
drawn uniformly from the problem's integer bounds, distinct from every genome it drew before (NSGA-II removes
duplicates too, so a budget of N evaluations is N distinct genomes for both). `opt` is the non-dominated archive of
everything evaluated (`archive_optimum`). Every draw comes from the algorithm's `random_state`, so a seed fixes the
run and a pickled checkpoint resumes it exactly.
"""

from __future__ import annotations

import numpy as np
from pymoo.core.algorithm import Algorithm
from pymoo.core.population import Population
from pymoo.util.optimum import filter_optimum

from flowq.errors import SearchError

MAX_ATTEMPTS = 100  # draws per wanted genome before repeats are allowed (an exhausted space)


def archive_optimum(opt, pop):
    """The non-dominated (least infeasible when nothing is feasible) set of `opt` merged with `pop`, one individual
    per distinct genome: the archive of everything an iterative algorithm evaluated."""
    merged = pop if opt is None else Population.merge(opt, pop)
    X = np.asarray(merged.get("X"))
    _, first = np.unique(X, axis=0, return_index=True)
    return filter_optimum(merged[np.sort(first)], least_infeasible=True)


class RandomSearch(Algorithm):
    """Uniform random genomes, `pop_size` per iteration, never one drawn before.

    Args:
        pop_size: genomes per iteration (FlowQ's `--pop`), so budgets compare with the GA in evaluations.
        sampling: pymoo Sampling of the first iteration (e.g. `SeededSampling(front)` when refining); its
            genomes count as drawn.
        **kwargs: pymoo `Algorithm` options (termination, seed, callback, ...).
    """

    def __init__(self, pop_size: int = 25, *, sampling=None, **kwargs):
        super().__init__(**kwargs)
        if isinstance(pop_size, bool) or not isinstance(pop_size, (int, np.integer)) or pop_size < 1:
            raise SearchError(f"pop_size={pop_size!r}: random search needs at least one genome per iteration")
        self.pop_size = int(pop_size)
        self.sampling = sampling
        self.drawn: set = set()

    def draw(self, n: int) -> np.ndarray:
        """`n` uniform genomes (n, n_var), distinct from each other and from every earlier draw while the space
        allows (after `MAX_ATTEMPTS` * n draws, repeats are accepted)."""
        xl, xu = (np.asarray(b, dtype=np.int64) for b in self.problem.bounds())
        rows, attempts = [], 0
        while len(rows) < n:
            x = self.random_state.integers(xl, xu + 1, size=self.problem.n_var, dtype=np.int64)
            attempts += 1
            key = tuple(int(v) for v in x)
            if key in self.drawn and attempts < MAX_ATTEMPTS * n:
                continue
            self.drawn.add(key)
            rows.append(x)
        return np.asarray(rows, dtype=np.int64).reshape(n, self.problem.n_var)

    # ---- pymoo hooks -------------------------------------------------------------------------------------
    def _initialize_infill(self):
        if self.sampling is None:
            return Population.new("X", self.draw(self.pop_size))
        pop = self.sampling.do(self.problem, self.pop_size, random_state=self.random_state)
        X = np.asarray(pop.get("X"), dtype=np.int64)
        self.drawn.update(tuple(int(v) for v in x) for x in X)
        return Population.new("X", X)

    def _initialize_advance(self, infills=None, **kwargs):
        self.pop = infills

    def _infill(self):
        return Population.new("X", self.draw(self.pop_size))

    def _advance(self, infills=None, **kwargs):
        self.pop = infills

    def _set_optimum(self):
        self.opt = archive_optimum(self.opt, self.pop)
