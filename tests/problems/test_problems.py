"""Coarse/Mid/Fine problems: normalised objectives, constraints, eq. 1 fitness, caching, pickling, errors."""

import math
import pickle

import numpy as np
import pytest

from flowq.accuracy import AccuracyResult
from flowq.errors import GenomeError
from hwmodels.zoo import get_workload
from problems import CoarseProblem, FineProblem, MidProblem


class CountingSurrogate:
    """Deterministic accuracy: 0.99 minus 0.01 per searched layer below 8 bits (weights or activations)."""

    float_accuracy = 0.99

    def __init__(self):
        self.calls = 0

    def evaluate(self, bits_w, bits_a):
        self.calls += 1
        low = int(np.sum(np.asarray(bits_w) < 8) + np.sum(np.asarray(bits_a) < 8))
        return AccuracyResult(psi=0.99 - 0.01 * low, loss=0.0)


def lenet(**kwargs):
    return CoarseProblem("lenet5", "spatial-256", evaluator=CountingSurrogate(), **kwargs)


def test_coarse_objectives_are_normalised_to_the_16_bit_network():
    problem = lenet(constraints={"frac_ops": 0.6})
    layers = get_workload("lenet5")
    # LeNet-5: conv1, conv2, fc1, fc2, fc3; conv1 and fc3 fixed at 16 bits. Middle layers at 8 bits run
    # V = floor(16 / 8) = 2 MACs per cycle (hw-flowq eq. 3), so Frac.OPs = (m0 + m4 + (m1 + m2 + m3) / 2) / sum m.
    macs = [layer.macs for layer in layers]
    ratio = (macs[0] + macs[4] + (macs[1] + macs[2] + macs[3]) / 2) / sum(macs)
    x = problem.genome.encode([16, 8, 8, 8, 16], [16, 8, 8, 8, 16])
    out = problem.evaluate(x[None, :], return_as_dictionary=True)
    assert out["F"][0, 0] == pytest.approx(1 - 0.99)  # no layer below 8 bits -> psi = 0.99
    assert out["F"][0, 1] == pytest.approx(ratio)
    assert out["G"][0, 0] == pytest.approx(ratio - 0.6)
    x16 = problem.genome.encode([16] * 5, [16] * 5)
    assert problem.evaluate(x16[None, :], return_as_dictionary=True)["F"][0, 1] == pytest.approx(1.0)


def test_accuracy_constraint_and_integer_dtype():
    problem = lenet(constraints={"accuracy": 0.96})
    x = problem.genome.encode([16, 2, 2, 16, 16], [16, 2, 2, 16, 16])  # 4 loci below 8 bits -> psi 0.95
    out = problem.evaluate(x[None, :], return_as_dictionary=True)
    assert out["G"][0, 0] == pytest.approx(0.96 - 0.95)
    assert problem.vtype is int and problem.xl.tolist() == [0] * 6 and problem.xu.tolist() == [4] * 6


def test_soga_fitness_is_hw_flowq_eq_1():
    problem = lenet(objectives=("accuracy", "bitops"), soga_threshold=0.05)
    assert problem.n_obj == 1
    x = problem.genome.encode([16, 4, 4, 4, 16], [16, 4, 4, 4, 16])
    layers = get_workload("lenet5")
    macs = [layer.macs for layer in layers]
    # BitOPs = sum MACs * b_w * b_a: middle layers at 4x4 = 16 instead of 256
    ratio = (256 * (macs[0] + macs[4]) + 16 * (macs[1] + macs[2] + macs[3])) / (256 * sum(macs))
    psi = 0.99 - 0.06  # six loci below 8 bits
    fitness = (1 - (0.99 - psi) / 0.05) * math.log(1 / ratio)  # (1 - (psi* - psi)/t) * log(phi*/phi)
    assert problem.evaluate(x[None, :])[0, 0] == pytest.approx(-fitness)


def test_duplicates_are_evaluated_once_and_accuracy_cache_is_shared():
    evaluator = CountingSurrogate()
    cache = {}
    coarse = CoarseProblem("lenet5", "spatial-256", evaluator=evaluator, accuracy_cache=cache)
    X = np.array([[0, 0, 1, 1, 2, 2], [0, 0, 1, 1, 2, 2], [4, 4, 4, 4, 4, 4]])
    coarse.evaluate(X)
    coarse.evaluate(X)
    assert evaluator.calls == 2 and coarse.n_hw_evaluations == 2
    mid = MidProblem("lenet5", "spatial-256", evaluator=evaluator, accuracy_cache=cache)
    F = mid.evaluate(X)
    assert evaluator.calls == 2  # accuracy does not depend on the level: no new fine-tune
    assert F[0, 0] == pytest.approx(1 - (0.99 - 0.06))


def test_problem_pickles_and_gives_the_same_F():
    problem = lenet(constraints={"weight_bits": 0.5})
    X = np.random.default_rng(0).integers(0, 5, size=(6, problem.n_var))
    clone = pickle.loads(pickle.dumps(problem))
    F, G = problem.evaluate(X)
    F_clone, G_clone = clone.evaluate(X)
    assert np.array_equal(F, F_clone) and np.array_equal(G, G_clone)


def test_bad_objectives_and_bits_raise_genome_error():
    with pytest.raises(GenomeError, match="'energy' is not a metric of the coarse level"):
        lenet(objectives=("accuracy", "energy"))
    with pytest.raises(GenomeError, match=r"\[3\] are not supported"):
        lenet(bitwidths=(3, 8))
    with pytest.raises(GenomeError, match="ONE hardware metric"):
        lenet(objectives=("accuracy", "bitops", "frac_ops"), soga_threshold=0.05)


def test_fine_problem_defaults_and_baseline():
    problem = FineProblem(model="resnet20", hw="spatial-256", evaluator=CountingSurrogate())
    assert problem.objectives == ("accuracy", "energy", "latency_cycles")
    assert problem.n_var == 18 * 2  # 19 convs + fc = 20 layers; conv1 and fc fixed at 16 bits; (b_W, b_A) each
    x16 = problem.genome.uniform(16)
    F = problem.evaluate(x16[None, :])
    assert F[0, 1:] == pytest.approx([1.0, 1.0])  # the 16-bit network is the baseline
    x4 = problem.genome.uniform(4)
    assert np.all(problem.evaluate(x4[None, :])[0, 1:] < 1.0)  # 4-bit packs V = 4 MACs per PE access
