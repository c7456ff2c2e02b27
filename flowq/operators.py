"""Integer genetic operators of hw-flowq 3.2.2: random sampling, single-point crossover, single-locus mutation.

Every operator draws each random number from the `random_state` Generator pymoo passes to `_do`, so a seed
reproduces a run exactly, and genomes stay int64 end to end (the integers-become-floats pitfall of
pymoo #13/#35/#516 cannot happen: no operator ever produces a float).
"""

from __future__ import annotations

import numpy as np
from pymoo.core.crossover import Crossover
from pymoo.core.mutation import Mutation
from pymoo.core.population import Population
from pymoo.core.sampling import Sampling


def _bounds(problem) -> tuple[np.ndarray, np.ndarray]:
    xl, xu = problem.bounds()
    return np.asarray(xl, dtype=np.int64), np.asarray(xu, dtype=np.int64)


class IntegerSampling(Sampling):
    """Uniform random integer genomes within the problem bounds (hw-flowq 3.2: random initial population)."""

    def _do(self, problem, n_samples, *args, random_state=None, **kwargs):
        xl, xu = _bounds(problem)
        return random_state.integers(xl, xu + 1, size=(n_samples, problem.n_var), dtype=np.int64)


class SeededSampling(Sampling):
    """An initial population that starts with given genomes (e.g. the previous level's Pareto set), filled up
    with distinct random genomes (hw-flowq 3.1 refinement; DESIGN.md "Level switch").

    Args:
        seeds: genomes to include first, shape (k, n_var), integer allele indices. Duplicates are dropped;
            more than `n_samples` seeds are all kept (the population then starts larger).
    """

    def __init__(self, seeds) -> None:
        super().__init__()
        self.seeds = np.atleast_2d(np.asarray(seeds, dtype=np.int64))

    def _do(self, problem, n_samples, *args, random_state=None, **kwargs):
        xl, xu = _bounds(problem)
        rows, seen = [], set()
        for x in self.seeds:
            if x.shape[0] == problem.n_var and tuple(x) not in seen:
                seen.add(tuple(x))
                rows.append(x)
        space = int(np.prod((xu - xl + 1).astype(float))) if problem.n_var < 60 else n_samples + len(rows) + 1
        target = min(max(n_samples, len(rows)), space)
        attempts = 0
        while len(rows) < target and attempts < 100 * n_samples:
            attempts += 1
            x = random_state.integers(xl, xu + 1, size=problem.n_var, dtype=np.int64)
            if tuple(x) not in seen:
                seen.add(tuple(x))
                rows.append(x)
        return np.asarray(rows, dtype=np.int64).reshape(-1, problem.n_var)


class SinglePointCrossover(Crossover):
    """Single-point crossover of two parents into two children (hw-flowq 3.2.2, Fig. 4), p = 1.0 by default.

    The cut falls between layers (`problem.cut_points` when the problem defines it), so a layer's (b_W, b_A)
    pair is inherited together; with no legal cut (one searched layer) the children copy the parents.
    """

    def __init__(self, prob: float = 1.0, **kwargs) -> None:
        super().__init__(2, 2, prob=prob, **kwargs)

    def _do(self, problem, X, *args, random_state=None, **kwargs):
        _, n_matings, n_var = X.shape
        X = X.astype(np.int64)
        cuts = np.asarray(getattr(problem, "cut_points", np.arange(1, n_var)), dtype=np.int64)
        children = np.array(X, copy=True)
        if len(cuts) == 0:
            return children
        cut = cuts[random_state.integers(0, len(cuts), size=n_matings)]
        tail = np.arange(n_var)[None, :] >= cut[:, None]  # (n_matings, n_var): loci after the cut swap
        children[0][tail] = X[1][tail]
        children[1][tail] = X[0][tail]
        return children


class SingleLocusMutation(Mutation):
    """With probability `prob` per individual, one randomly chosen locus takes another allele (hw-flowq 3.2.2).

    The new allele is drawn uniformly from the locus's other alleles, so a mutation always changes the genome.
    """

    def __init__(self, prob: float = 0.4, **kwargs) -> None:
        super().__init__(prob=prob, **kwargs)

    def _do(self, problem, X, *args, random_state=None, **kwargs):
        X = np.array(X, dtype=np.int64, copy=True)
        n, n_var = X.shape
        if n == 0 or n_var == 0:
            return X
        xl, xu = _bounds(problem)
        locus = random_state.integers(0, n_var, size=n)
        span = (xu - xl + 1)[locus]
        shift = random_state.integers(1, np.maximum(span, 2), size=n)  # 1..span-1: never the same allele
        rows = np.arange(n)
        current = X[rows, locus] - xl[locus]
        X[rows, locus] = np.where(span > 1, xl[locus] + (current + shift) % span, X[rows, locus])
        return X


def seeded_population(X) -> Population:
    """A pymoo Population of integer genomes (for algorithms that accept a Population as sampling)."""
    return Population.new("X", np.atleast_2d(np.asarray(X, dtype=np.int64)))
