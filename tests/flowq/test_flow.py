"""Flow: NSGA-II reaches the enumerated true front, HV monotone, HV-leader, seeding, determinism, resume."""

import json

import numpy as np
import pytest

from flowq.accuracy import AccuracyResult
from flowq.callbacks import hv_leader, hypervolume, non_dominated
from flowq.flow import Flow, SearchResult


class Surrogate:
    """Deterministic accuracy: each layer loses sensitivity[l] * (1/b_W + 1/b_A) (low bits hurt, more so early)."""

    float_accuracy = 0.99

    def evaluate(self, bits_w, bits_a):
        bits_w, bits_a = np.asarray(bits_w, float), np.asarray(bits_a, float)
        sensitivity = np.linspace(0.12, 0.03, len(bits_w))
        return AccuracyResult(psi=float(0.99 - np.sum(sensitivity * (1 / bits_w + 1 / bits_a - 2 / 16))), loss=0.0)


def lenet_flow(**kwargs):
    return Flow("lenet5", "digits", Surrogate(), hw="spatial-256", verbose=False, **kwargs)


def all_genomes(problem):
    grids = np.meshgrid(*[np.arange(problem.genome.n_alleles)] * problem.n_var, indexing="ij")
    return np.stack([g.ravel() for g in grids], axis=1)


def test_nsga2_reaches_95_percent_of_the_enumerated_front():
    flow = lenet_flow(seed=0)
    problem = flow.problem("coarse", objectives=("accuracy", "bitops"))
    X = all_genomes(problem)  # LeNet-5, conv1/fc3 fixed: 3 layers x (b_W, b_A) = 6 loci, 5^6 = 15,625 genomes
    F = problem.evaluate(X)
    ref = np.full(2, 1.1)
    true_hv = hypervolume(F[non_dominated(F)], ref)
    result = flow.search(problem, "nsga2", n_gen=40, pop_size=24)  # 960 evaluations, ~6 % of the space
    assert result.hypervolume[-1] >= 0.95 * true_hv
    assert result.hypervolume[-1] <= true_hv + 1e-12  # the front cannot beat the true front


def test_hypervolume_never_decreases_and_hv_leader_is_on_the_front(tmp_path):
    flow = lenet_flow(seed=3, out=tmp_path)
    result = flow.search("coarse", "nsga2", n_gen=8, pop_size=10)
    hv = np.asarray(result.hypervolume)
    assert len(hv) == 8 and np.all(np.diff(hv) >= 0)
    F_front = np.asarray([s["F"] for s in result.front])
    assert len(non_dominated(F_front)) == len(F_front)  # the reported front is mutually non-dominated
    leader = result.data["hv_leader"]
    assert 0 <= leader < len(result.front) and leader == hv_leader(F_front)
    data = json.loads((tmp_path / "coarse" / "results.json").read_text())
    assert data["complete"] and data["hypervolume"] == pytest.approx(result.hypervolume)
    for solution in data["front"]:
        assert 0.0 <= solution["metrics"]["accuracy"] <= 1.0
        assert len(solution["bits_w"]) == len(solution["bits_a"]) == 5
    assert sorted(p.name for p in (tmp_path / "coarse" / "generations").iterdir())[-1] == "gen_0008.json"
    for name in ("pareto.png", "hypervolume.png", "bitwidths.png", "progress.csv", "checkpoint.pkl"):
        assert (tmp_path / "coarse" / name).stat().st_size > 0


def test_hv_leader_is_farthest_from_the_polar_reference():
    # front corners (0, 1), (1, 0) and a knee (0.2, 0.2); reference = worst per objective = (1, 1);
    # distances: 1, 1 and sqrt(0.8^2 + 0.8^2) = 1.13 -> the knee leads
    assert hv_leader(np.array([[0.0, 1.0], [1.0, 0.0], [0.2, 0.2]])) == 2
    assert hv_leader(np.zeros((0, 2))) is None


def test_same_seed_same_front_and_refine_seeds_previous_front(tmp_path):
    runs = [lenet_flow(seed=7).search("coarse", "nsga2", n_gen=5, pop_size=8) for _ in range(2)]
    assert [s["F"] for s in runs[0].front] == [s["F"] for s in runs[1].front]
    assert runs[0].hypervolume == runs[1].hypervolume

    flow = lenet_flow(seed=7, out=tmp_path)
    coarse = flow.search("coarse", "nsga2", n_gen=5, pop_size=8)
    mid = flow.refine(coarse, "mid", constraints={"weight_bits": 0.9}, n_gen=2, pop_size=8)
    first = json.loads((tmp_path / "mid" / "generations" / "gen_0001.json").read_text())["population"]
    first_bits = {(tuple(s["bits_w"]), tuple(s["bits_a"])) for s in first}
    for solution in coarse.front:
        assert (tuple(solution["bits_w"]), tuple(solution["bits_a"])) in first_bits
    assert mid.data["constraints"] == {"weight_bits": 0.9}
    assert mid.problem.level == "mid"


def test_constraints_carry_across_and_abstract_steps_back():
    flow = lenet_flow(seed=1)
    coarse = flow.search(flow.problem("coarse", constraints={"frac_ops": 0.9}), "nsga2", n_gen=3, pop_size=8)
    # weight_bits <= 0 % of the 16-bit network is impossible: no Mid candidate is feasible
    mid = flow.refine(coarse, "mid", constraints={"weight_bits": 0.0}, n_gen=2, pop_size=8)
    assert mid.data["constraints"] == {"frac_ops": 0.9, "weight_bits": 0.0}
    assert not mid.feasible and mid.data["hv_leader"] is None and mid.data["least_violation"] is not None
    assert flow.abstract() is coarse and flow.current is coarse


def test_resume_from_checkpoint_reproduces_the_straight_run(tmp_path):
    straight = lenet_flow(seed=11).search("coarse", "nsga2", n_gen=6, pop_size=8)
    lenet_flow(seed=11, out=tmp_path).search("coarse", "nsga2", n_gen=3, pop_size=8)
    resumed = lenet_flow(seed=11, out=tmp_path).search("coarse", "nsga2", n_gen=6, pop_size=8, resume=True)
    assert resumed.hypervolume == pytest.approx(straight.hypervolume)
    assert [s["F"] for s in resumed.front] == [s["F"] for s in straight.front]
    assert SearchResult.load(tmp_path / "coarse").data["complete"]


def test_soga_runs_with_eq_1_fitness_and_reports_a_front():
    flow = lenet_flow(seed=2)
    problem = flow.problem("coarse", objectives=("accuracy", "frac_ops"), soga_threshold=0.05)
    result = flow.search(problem, "soga", n_gen=5, pop_size=8)
    assert result.problem.n_obj == 1
    assert len(result.front) >= 1 and np.all(np.diff(result.hypervolume) >= 0)


def test_a_passed_deadline_stops_after_the_first_generation():
    import time

    result = lenet_flow(seed=5).search("coarse", "nsga2", n_gen=10, pop_size=8, deadline=time.perf_counter())
    assert len(result.hypervolume) == 1 and result.data["stopped_early"]


# ---- issue 13 ----------------------------------------------------------------------------------------------------
class FailsOnTwoBits(Surrogate):
    """The surrogate, but any genome with a 2-bit layer 'diverges' (failed, psi = 0), as a NaN fine-tune would."""

    def evaluate(self, bits_w, bits_a):
        if 2 in list(bits_w) + list(bits_a):
            return AccuracyResult(psi=0.0, loss=float("inf"), failed=True, reason="NaN loss")
        return super().evaluate(bits_w, bits_a)


def test_failed_candidates_are_reported_but_never_on_the_front_or_a_leader():
    flow = Flow("lenet5", "digits", FailsOnTwoBits(), hw="spatial-256", verbose=False, seed=0)
    problem = flow.problem("coarse", objectives=("accuracy", "bitops"))
    result = flow.search(problem, "nsga2", n_gen=3, pop_size=10)
    assert result.data["failed"], "2-bit genomes are sampled, so some evaluations fail"
    for solution in result.front:
        assert 2 not in solution["bits_w"] + solution["bits_a"] and not solution["metrics"]["accuracy_failed"]
    for kind in ("hv", "accuracy", "compression"):
        assert 2 not in result.leader(kind)["bits_w"] + result.leader(kind)["bits_a"]
    failed = result.data["failed"][0]
    F = problem.evaluate(np.asarray([failed["genome"]]))
    assert np.all(F >= 1e6)  # worst rank for the GA
    assert not any(2 in k for k in flow.accuracy_cache)  # a failure is not cached as truth


def test_the_ga_seed_does_not_seed_the_float_network():
    flows = [Flow("lenet5", "digits", "proxy", hw="spatial-256", verbose=False, seed=s) for s in (1, 2)]
    evaluators = [f.problem("coarse").evaluator for f in flows]
    assert [e.seed for e in evaluators] == [0, 0]
    assert evaluators[0]._float_key() == evaluators[1]._float_key()
    own = Flow("lenet5", "digits", "proxy", hw="spatial-256", verbose=False, seed=1, evaluator_seed=3)
    assert own.problem("coarse").evaluator.seed == 3


def test_soga_records_its_best_individual_by_eq_1(tmp_path):
    flow = lenet_flow(seed=2, out=tmp_path)
    problem = flow.problem("coarse", objectives=("accuracy", "frac_ops"), soga_threshold=0.05)
    result = flow.search(problem, "soga", n_gen=4, pop_size=8)
    best = result.data["soga_best"]
    # eq. 1 by hand for every evaluated genome: (1 - (psi* - psi) / t) * ln(phi* / phi)
    fitness = []
    for record in problem.records.values():
        m = record["metrics"]
        fitness.append((1 - (0.99 - m["accuracy"]) / 0.05) * np.log(problem.baseline["frac_ops"] / m["frac_ops"]))
    assert best["fitness"] == pytest.approx(max(fitness))
    assert json.loads((tmp_path / "coarse" / "results.json").read_text())["soga_best"]["bits_w"] == best["bits_w"]


def test_progress_bar_on_a_terminal_and_lines_otherwise():
    import io

    from flowq.callbacks import EvaluationProgress

    class Terminal(io.StringIO):
        def isatty(self):
            return True

    tty, pipe = Terminal(), io.StringIO()
    for stream in (tty, pipe):
        bar = EvaluationProgress("[fine] gen 1", stream=stream)
        bar.start(3)
        for _ in range(3):
            bar.step(2.0)
        bar.close()
        assert bar.done == 3 and bar.seconds == 6.0
    assert "3/3" in tty.getvalue() and "2.0 s/cand" in tty.getvalue()
    # not a terminal: a start line, then lines at most every 30 s (test_progress.py), never a bar
    assert pipe.getvalue() == "[fine] gen 1 evaluating 3 candidate(s)\n"
