"""hw-flowq 3.2.2 operators: integers in, integers out; seeded determinism; single locus; layer-boundary cuts."""

import numpy as np
from pymoo.core.population import Population
from pymoo.core.problem import Problem

from flowq.operators import IntegerSampling, SeededSampling, SingleLocusMutation, SinglePointCrossover


class Box(Problem):
    def __init__(self, n_var=8, xu=4, cut_points=None):
        super().__init__(n_var=n_var, n_obj=1, xl=0, xu=xu, vtype=int)
        if cut_points is not None:
            self.cut_points = np.asarray(cut_points)


def test_sampling_is_integer_within_bounds_and_seeded():
    problem = Box()
    a = IntegerSampling()(problem, 50, random_state=np.random.default_rng(3)).get("X")
    b = IntegerSampling()(problem, 50, random_state=np.random.default_rng(3)).get("X")
    assert a.dtype.kind == "i" and a.min() >= 0 and a.max() <= 4
    assert np.array_equal(a, b)


def test_seeded_sampling_starts_with_seeds_then_distinct_random():
    problem = Box(n_var=4)
    seeds = np.array([[0, 0, 0, 0], [4, 4, 4, 4], [0, 0, 0, 0]])
    X = SeededSampling(seeds)(problem, 10, random_state=np.random.default_rng(0)).get("X")
    assert X.shape == (10, 4) and X.dtype.kind == "i"
    assert X[0].tolist() == [0, 0, 0, 0] and X[1].tolist() == [4, 4, 4, 4]
    assert len({tuple(x) for x in X}) == 10  # the duplicate seed was dropped, the rest filled with new genomes


def test_single_point_crossover_swaps_tails_at_layer_boundaries():
    problem = Box(n_var=6, cut_points=[2, 4])  # three layers of (b_W, b_A)
    a, b = np.zeros(6, dtype=np.int64), np.full(6, 3, dtype=np.int64)
    parents = Population.new("X", np.array([a, b]))
    off = SinglePointCrossover()(problem, parents, parents=np.array([[0, 1]] * 20),
                                 random_state=np.random.default_rng(1)).get("X")
    assert off.dtype.kind == "i"
    for child_a, child_b in zip(off[:20], off[20:]):  # pymoo stacks all first children, then all second
        cut = int(np.argmax(child_a != 0))
        assert cut in (2, 4)  # never inside a layer's pair
        assert child_a.tolist() == [0] * cut + [3] * (6 - cut)
        assert child_b.tolist() == [3] * cut + [0] * (6 - cut)


def test_single_locus_mutation_changes_exactly_one_locus():
    problem = Box(n_var=10)
    X = np.random.default_rng(0).integers(0, 5, size=(200, 10))
    pop = Population.new("X", X.copy())
    Xm = SingleLocusMutation(prob=1.0)(problem, pop, random_state=np.random.default_rng(2)).get("X")
    assert Xm.dtype.kind == "i" and Xm.min() >= 0 and Xm.max() <= 4
    assert np.all((Xm != X).sum(axis=1) == 1)


def test_mutation_probability_is_per_individual():
    problem = Box(n_var=10)
    X = np.zeros((2000, 10), dtype=np.int64)
    Xm = SingleLocusMutation(prob=0.4)(problem, Population.new("X", X.copy()),
                                       random_state=np.random.default_rng(5)).get("X")
    changed = (Xm != X).any(axis=1).mean()
    assert 0.35 < changed < 0.45  # p_mut = 0.4 (hw-flowq 6); binomial sd at n=2000 is 0.011
