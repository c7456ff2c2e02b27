"""Repeated genomes in a batch (the monitor's duplicate crash), random search as a pymoo Algorithm, and refining from
a front with every algorithm (agents replay the front; an algorithm that cannot is refused, never silently)."""

import json
import pickle

import numpy as np
import pytest
from pymoo.core.algorithm import Algorithm
from pymoo.core.population import Population
from pymoo.optimize import minimize

from flowq.accuracy import AccuracyResult
from flowq.algorithms import make_algorithm, seed_algorithm
from flowq.cli import main
from flowq.errors import SearchError
from flowq.flow import Flow
from flowq.random_search import RandomSearch

SENSITIVITY = np.linspace(0.12, 0.03, 5)


class Surrogate:
    """psi = 0.99 - sum_l s_l (1/b_W + 1/b_A - 2/16); a genome listed in `fail_once` fails on its first request."""

    float_accuracy = 0.99

    def __init__(self, fail_once=()):
        self.fail_once = {tuple(k) for k in fail_once}
        self.calls: list = []

    def evaluate(self, bits_w, bits_a):
        key = tuple(bits_w) + tuple(bits_a)
        self.calls.append(key)
        if key in self.fail_once and self.calls.count(key) == 1:
            return AccuracyResult(psi=0.0, loss=float("inf"), failed=True, reason="NaN loss")
        bw, ba = np.asarray(bits_w, float), np.asarray(bits_a, float)
        return AccuracyResult(psi=float(0.99 - np.sum(SENSITIVITY * (1 / bw + 1 / ba - 2 / 16))), loss=0.0)


class Scripted(Algorithm):
    """Evaluates the given batches in order, repeats and all (as an RL agent or HAQ's wall may propose them)."""

    def __init__(self, batches, **kwargs):
        super().__init__(**kwargs)
        self.batches = [np.asarray(b, dtype=np.int64) for b in batches]

    def _initialize_infill(self):
        return Population.new("X", self.batches[0])

    def _initialize_advance(self, infills=None, **kwargs):
        self.pop = infills

    def _infill(self):
        return Population.new("X", self.batches[self.n_iter - 1])

    def _advance(self, infills=None, **kwargs):
        self.pop = infills


a, b, c, d = ([k] * 6 for k in range(4))  # LeNet-5, untied: 6 loci with alleles 0..4 (2, 4, 6, 8, 16 bits)
BATCHES = [[a, a, b], [b, c, c, a], [d, d, d, c]]


def _flow(evaluator=None, out=None):
    return Flow("lenet5", "digits", evaluator or Surrogate(), hw="spatial-256", verbose=False, out=out)


def _problem(flow):
    return flow.problem("coarse", objectives=("accuracy", "bitops"))


def test_monitor_archives_repeated_new_genomes_once_within_and_across_batches_and_on_resume(tmp_path):
    flow = _flow()
    straight = flow.search(_problem(flow), Scripted(BATCHES), 3)
    monitor = straight.extra["pymoo"].algorithm.callback
    assert len(straight.hypervolume) == 3 and straight.data["n_evaluations"] == [3, 7, 11]
    assert monitor.keys == list(dict.fromkeys(monitor.keys)) and len(monitor.keys) == 4  # a, b, c, d once each
    assert len(monitor.F) == len(monitor.CV) == len(monitor.failed) == 4
    assert straight.hypervolume[0] < straight.hypervolume[1] < straight.hypervolume[2]  # new genomes still count

    flow = _flow()
    flow.search(_problem(flow), Scripted(BATCHES), 2, out=tmp_path / "resumed")
    resumed = _flow().search(_problem(flow), Scripted(BATCHES), 3, out=tmp_path / "resumed", resume=True)
    assert resumed.hypervolume == straight.hypervolume
    assert [s["F"] for s in resumed.front] == [s["F"] for s in straight.front]


def test_a_failed_genome_repeated_in_a_batch_is_retried_once_and_then_archived():
    flow = _flow(Surrogate(fail_once=[(16, 2, 2, 2, 16) * 2]))  # genome a: 2 bits at every searched locus
    result = flow.search(_problem(flow), Scripted([[a, a, b], [a, a, c]]), 2)
    monitor = result.extra["pymoo"].algorithm.callback
    assert not monitor.failed.any() and len(monitor.keys) == 3
    assert flow.evaluator.calls.count((16, 2, 2, 2, 16) * 2) == 2  # failed once, retried once (not twice)
    assert result.hypervolume[1] > result.hypervolume[0]


def test_random_search_draws_distinct_uniform_genomes_and_resumes_exactly(tmp_path):
    flow = _flow()
    problem = _problem(flow)
    res = minimize(problem, RandomSearch(25), ("n_gen", 12), seed=3)
    X = np.asarray(sorted(res.algorithm.drawn), dtype=np.int64)
    assert len(X) == 300 and res.algorithm.evaluator.n_eval == 300  # 300 of 5^6 = 15,625 genomes, none twice
    counts = np.stack([np.bincount(X[:, j], minlength=5) for j in range(6)])
    assert counts.min() > 35 and counts.max() < 85  # uniform: 60 per allele and locus (binomial sd 6.9)
    F = res.opt.get("F")
    for f in F:  # opt is non-dominated
        assert not np.any(np.all(F <= f, axis=1) & np.any(F < f, axis=1))
    tied = _flow().problem("coarse", objectives=("accuracy", "bitops"), tie=True)  # 5^3 = 125 genomes
    small = RandomSearch(4)
    minimize(tied, small, ("n_gen", 40), seed=0, copy_algorithm=False)
    assert small.evaluator.n_eval == 160 and len(small.drawn) == 125  # all 125 first, then repeats keep the budget
    with pytest.raises(SearchError, match="pop_size"):
        RandomSearch(0)

    straight = _flow().search(_problem(_flow()), "random", 4, pop_size=5, seed=7)
    _flow().search(_problem(_flow()), "random", 2, pop_size=5, seed=7, out=tmp_path / "resumed")
    resumed = _flow().search(_problem(_flow()), "random", 4, pop_size=5, seed=7, out=tmp_path / "resumed",
                             resume=True)
    assert resumed.hypervolume == straight.hypervolume and len(straight.hypervolume) == 4
    assert isinstance(pickle.loads((tmp_path / "resumed" / "checkpoint.pkl").read_bytes()), RandomSearch)
    other = _flow().search(_problem(_flow()), "random", 4, pop_size=5, seed=8)
    assert other.hypervolume != straight.hypervolume  # another seed, other genomes


@pytest.mark.parametrize("name", ["random", "ppo", "ddpg", "nsga2"])
def test_refine_starts_every_algorithm_from_the_front(name):
    front = np.array([[0, 1, 2, 3, 4, 0], [4, 4, 4, 4, 4, 4], [1, 1, 1, 1, 1, 1], [2, 0, 3, 1, 4, 2]])
    flow = _flow()
    problem = _problem(flow)
    options = {"hidden": (16, 16), "train_v_iters": 2, "train_pi_iters": 2} if name == "ppo" else \
        {"hidden": (16, 16), "warmup": 2} if name == "ddpg" else {}
    algorithm = make_algorithm(name, 3, **options) if options else name  # a configured agent or a name
    result = flow.search(problem, algorithm, 3, pop_size=3, seeds=front)
    evaluated = {tuple(problem.genome.encode(r["bits_w"], r["bits_a"])) for r in problem.records.values()}
    assert {tuple(x) for x in front} <= evaluated  # all 4 front genomes, though a batch holds 3
    assert result.data["n_evaluations"][-1] <= 9 + 1  # NSGA-II's first population keeps every seed (4)


def test_an_algorithm_that_cannot_start_from_a_front_is_refused():
    with pytest.raises(SearchError, match="cannot start from"):
        seed_algorithm(object(), np.zeros((1, 6), dtype=np.int64))


@pytest.mark.slow  # trains LeNet-5's float network for the proxy (~35 s on 2 loaded cores)
def test_cli_refine_with_an_agent_evaluates_the_previous_front(tmp_path, capsys):
    run = tmp_path / "coarse"
    common = ["--objectives", "accuracy,bitops", "--pop", "3", "--gen", "2", "--seed", "1", "--evaluator", "proxy",
              "--quiet"]
    assert main(["search", "--model", "lenet5", "--level", "coarse", "--algo", "random", "--out", str(run),
                 *common]) == 0
    front = json.loads((run / "results.json").read_text())["front"]
    assert main(["refine", str(run), "--level", "mid", "--algo", "vpg", "--out", str(tmp_path / "mid"),
                 "--pop", "3", "--gen", "2", "--quiet"]) == 0
    refined = json.loads((tmp_path / "mid" / "results.json").read_text())
    assert refined["algorithm"] == "vpg"
    genomes = [json.loads(p.read_text())["population"] for p in sorted((tmp_path / "mid" / "generations").glob("*"))]
    seen = {(tuple(s["bits_w"]), tuple(s["bits_a"])) for gen in genomes for s in gen}
    assert {(tuple(s["bits_w"]), tuple(s["bits_a"])) for s in front} <= seen
