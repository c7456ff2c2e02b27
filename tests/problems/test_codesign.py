"""Co-design problem: legal genomes under the operators (fuzzed), accuracy reuse across hardware, area, and the
co-design search on ResNet-20 against the three fixed Table-1 presets searched separately.

The comparison runs at the Mid level (ideal compute array, buffer tiling, DRAM bandwidth) with the objectives
(accuracy, latency_cycles, area): the Fine mapper is too slow for a 60 s test budget over tens of hardware points
(benchmarks/bench_codesign.py times Fine). Accuracy comes from a deterministic stub (per-layer sensitivities, the
same for every search), so every search pays for accuracy evaluations in the same currency.

Common normalisation (so that hypervolumes compare): every search's raw metrics are divided by the metrics of the
16-bit ResNet-20 on spatial-256 (the space's base spec) and by spatial-256's area; accuracy is 1 - psi. The
reference point is 1.1 x the worst 16-bit value over the three presets per hardware objective (latency of
spatial-168, area of spatial-1024) and 1.1 for 1 - psi, so that every preset's whole front counts.
"""

import dataclasses

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pymoo.optimize import minimize
from pymoo.termination.collection import TerminationCollection
from pymoo.termination.max_gen import MaximumGenerationTermination

from flowq.accuracy import AccuracyResult
from flowq.flow import make_algorithm
from flowq.operators import IntegerSampling, SeededSampling, SingleLocusMutation, SinglePointCrossover
from flowq.pareto import hv_leader, hypervolume, non_dominated
from hwmodels.area import area_mm2
from hwmodels.errors import GenomeError
from hwmodels.space import load_space
from hwmodels.spec import AcceleratorSpec, load_spec
from hwmodels.zoo import get_workload
from problems import MidProblem
from problems.codesign import (AccuracyBudget, CodesignProblem, common_objectives, front_of, nested_search,
                               searched_space, snap_bits)

OBJECTIVES = ("accuracy", "latency_cycles", "area")
PRESETS = ("spatial-168", "spatial-256", "spatial-1024")


class SensitivityStub:
    """psi = 0.95 minus per-layer penalties of lower bitwidths, early layers more sensitive (deterministic)."""

    float_accuracy = 0.95
    PENALTY = {16: 0.0, 8: 0.0005, 6: 0.002, 4: 0.008, 2: 0.05}

    def __init__(self):
        self.calls = 0

    def evaluate(self, bits_w, bits_a):
        self.calls += 1
        s = np.linspace(2.0, 0.5, len(bits_w))
        loss = sum(s[i] * (self.PENALTY[int(bits_w[i])] + self.PENALTY[int(bits_a[i])]) for i in range(len(s)))
        return AccuracyResult(psi=float(0.95 - loss / 2), loss=0.0)


@pytest.fixture(scope="module")
def small_problem():
    """LeNet-5 on the wide space, hardware objectives only (no accuracy), Mid level: cheap to evaluate."""
    return CodesignProblem("lenet5", "spatial-full", level="mid", objectives=("latency_cycles", "area"),
                           workload=get_workload("lenet5"))


def test_snap_bits_raises_to_next_supported():
    bits = np.array([[2, 4, 6, 8, 16]])
    assert snap_bits(bits, (4, 8, 16)).tolist() == [[4, 4, 8, 8, 16]]
    assert snap_bits(bits, (8, 16)).tolist() == [[8, 8, 8, 8, 16]]


@settings(max_examples=40, deadline=None)
@given(seed=st.integers(0, 2 ** 31 - 1), n=st.integers(2, 12))
def test_operators_only_produce_legal_genomes(small_problem, seed, n):
    problem = small_problem
    rng = np.random.default_rng(seed)
    X = IntegerSampling()._do(problem, n, random_state=rng)
    parents = X[rng.integers(0, n, size=(2, max(1, n // 2)))]
    children = SinglePointCrossover()._do(problem, parents, random_state=rng).reshape(-1, problem.n_var)
    mutated = SingleLocusMutation(prob=1.0)._do(problem, np.vstack([X, children]), random_state=rng)
    xu = problem.genome.upper_bounds
    for x in np.vstack([X, children, mutated]):
        assert x.dtype.kind == "i" and np.all(x >= 0) and np.all(x <= xu)
        H, _ = problem.genome.split(x)
        spec = problem.space.decode(H[0])
        assert isinstance(spec, AcceleratorSpec)  # decode validates: a legal spec or SpaceError
        bw, ba = problem.genome.decode(x)
        assert set(snap_bits(bw, spec.bitwidths).tolist()) <= set(spec.bitwidths)


def test_every_hardware_genome_decodes_and_evaluates(small_problem):
    # the whole wide space: each of its 1728 points is a legal spec; a sample is costed end to end (at Mid without
    # the dataflow gene, which Mid ignores: 576 points searched)
    problem = small_problem
    H = problem.space.enumerate()
    assert len(H) == problem.space.size == 4 * 4 * 3 * 2 * 2 * 3
    assert "dataflow" not in [g.name for g in problem.space.genes]
    rng = np.random.default_rng(0)
    rows = H[rng.choice(len(H), 12, replace=False)]
    bits = np.tile(problem.genome.bits.uniform(2), (len(rows), 1))
    metrics = problem.evaluate_metrics(np.hstack([rows, bits]))
    for h, m in zip(rows, metrics):
        assert m["area"] == pytest.approx(area_mm2(problem.space.decode(h)))
        assert m["latency_cycles"] > 0


def test_accuracy_is_evaluated_once_per_bits_across_hardware():
    stub = SensitivityStub()
    problem = CodesignProblem("lenet5", "spatial", level="mid", workload=get_workload("lenet5"), evaluator=stub,
                              objectives=OBJECTIVES, tie=True)
    b = problem.genome.bits.uniform(4)
    H = problem.space.enumerate()[:9]
    metrics = problem.evaluate_metrics(np.hstack([H, np.tile(b, (9, 1))]))
    assert stub.calls == 1 and problem.n_accuracy_evaluations == 1 and problem.n_hw_evaluations == 9
    assert len({m["accuracy"] for m in metrics}) == 1
    # the first 9 points (Mid searches no dataflow): pe_array 8x8 with its 7 buffers, 12x14 with 2 -> 9 areas
    assert len({m["area"] for m in metrics}) == 9
    problem.evaluate_metrics(np.hstack([H[:2], np.tile(b, (2, 1))]))
    assert stub.calls == 1 and problem.n_hw_evaluations == 9  # both caches hit


def test_normalisation_constraints_and_solution_record():
    problem = CodesignProblem("lenet5", "spatial", level="mid", workload=get_workload("lenet5"),
                              objectives=("latency_cycles", "area"), constraints={"area": 1.0})
    base_area = area_mm2(load_spec("spatial-256"))  # the reference hardware: the space's base
    assert problem.baseline["area"] == pytest.approx(base_area)
    h1024 = problem.space.encode(load_spec("spatial-1024"))
    x = np.concatenate([h1024, problem.genome.bits.uniform(8)])
    out = problem.evaluate(x[None, :], return_as_dictionary=True)
    assert out["F"][0, 1] == pytest.approx(32.8253 / base_area, rel=1e-4)  # area of spatial-1024 / spatial-256
    assert out["G"][0, 0] == pytest.approx(32.8253 / base_area - 1.0, rel=1e-4)  # violates area <= 1.0 x base
    key = problem.genome.key(x)
    extra = problem.solution_extra(key)
    assert extra["hw"]["pe_rows"] == 32 and extra["hw"]["buffer_size_bits"] == 3072 * 8192
    assert extra["hw"]["energy.buffer"] == 155.35 and extra["genome"] == x.tolist()
    assert problem.spec_of(key).pe_cols == 32
    with pytest.raises(GenomeError, match="area"):
        CodesignProblem("lenet5", "spatial", level="mid", workload=get_workload("lenet5"), objectives=("aera",))


def _preset_front(preset, kwargs, reference, seeds, pop, gen, seed):
    problem = MidProblem("resnet20", preset, **kwargs)
    minimize(problem, make_algorithm("nsga2", pop, sampling=SeededSampling(seeds)), ("n_gen", gen), seed=seed)
    F = common_objectives([r["metrics"] for r in problem.records.values()], OBJECTIVES, reference)
    return problem, F[non_dominated(F)]


def test_codesign_beats_each_fixed_preset_on_resnet20():
    """Must show: same accuracy budget, hypervolume >= the best preset's, and each preset's HV-leader dominated.

    Every search starts from the same seeds (uniform 2/4/8-bit genomes; the co-design ones on spatial-256) and
    gets at most as many accuracy evaluations as the thriftiest preset search. The nested strategy must beat the
    best preset's hypervolume and dominate each preset's HV-leader (hw-flowq 6.2 rule) at >= its accuracy; the
    joint strategy must beat the best preset's hypervolume.
    """
    workload = get_workload("resnet20")
    kwargs = dict(workload=workload, tie=True, bitwidths=(2, 4, 8), objectives=OBJECTIVES)
    space = load_space("spatial")
    space = dataclasses.replace(space, genes=space.genes[:2], name="spatial-mid")  # Mid ignores the dataflow
    codesign = CodesignProblem("resnet20", space, level="mid", evaluator=SensitivityStub(), **kwargs)
    seeds = np.stack([codesign.genome.bits.uniform(b) for b in (2, 4, 8)])  # the same seeds for every search
    pop, gen, seed = 16, 8, 1
    reference = codesign.baseline  # 16-bit ResNet-20 on spatial-256: the common normalisation
    fronts = {p: _preset_front(p, dict(kwargs, evaluator=SensitivityStub()), reference, seeds, pop, gen, seed)
              for p in PRESETS}
    budget = min(problem.n_accuracy_evaluations for problem, _ in fronts.values())
    result = nested_search(codesign, gen, pop, inner_evals=space.size, seed=seed, seeds=seeds,
                           accuracy_budget=budget)
    assert codesign.n_accuracy_evaluations <= budget  # no more accuracy evaluations than any preset search
    assert codesign.n_hw_evaluations == space.size * codesign.n_accuracy_evaluations  # each bits on all hardware
    worst = {k: max(problem.baseline[k] / reference[k] for problem, _ in fronts.values()) for k in OBJECTIVES[1:]}
    ref_point = np.array([1.1, 1.1 * worst["latency_cycles"], 1.1 * worst["area"]])
    keys, _ = front_of(codesign)
    F_codesign = common_objectives([codesign.records[k]["metrics"] for k in keys], OBJECTIVES, reference)
    hv = {p: hypervolume(F, ref_point) for p, (_, F) in fronts.items()}
    hv_codesign = hypervolume(F_codesign, ref_point)
    assert hv_codesign >= max(hv.values()), (hv_codesign, hv)
    for preset, (_, F) in fronts.items():
        leader = F[hv_leader(F)]
        dominating = [k for k, f in zip(keys, F_codesign) if np.all(f <= leader) and np.any(f < leader)]
        assert dominating, f"no co-design solution dominates the HV-leader {leader} of {preset}"
        assert all(codesign.records[k]["metrics"]["accuracy"] >= 1 - leader[0] - 1e-12 for k in dominating)
    assert result["hypervolume"] == sorted(result["hypervolume"])  # elitist archive: HV never decreases
    # the joint strategy (one NSGA-II over hardware + bits) on the same accuracy budget also beats every preset's HV
    joint = CodesignProblem("resnet20", space, level="mid", evaluator=SensitivityStub(), **kwargs)
    start = np.hstack([np.tile(space.encode(space.base), (len(seeds), 1)), seeds])
    minimize(joint, make_algorithm("nsga2", pop, sampling=SeededSampling(start)),
             TerminationCollection(MaximumGenerationTermination(gen), AccuracyBudget(joint, budget, pop)), seed=seed)
    assert joint.n_accuracy_evaluations <= budget
    keys, _ = front_of(joint)
    F_joint = common_objectives([joint.records[k]["metrics"] for k in keys], OBJECTIVES, reference)
    assert hypervolume(F_joint, ref_point) >= max(hv.values())


def test_joint_strategy_reuses_accuracy_and_records_hardware():
    stub = SensitivityStub()
    problem = CodesignProblem("lenet5", "spatial", level="mid", workload=get_workload("lenet5"), evaluator=stub,
                              objectives=OBJECTIVES, tie=True, bitwidths=(2, 8))
    minimize(problem, make_algorithm("nsga2", 12), ("n_gen", 4), seed=3)
    assert problem.n_accuracy_evaluations == stub.calls < problem.n_hw_evaluations  # bits repeat across hardware
    keys, F = front_of(problem)
    assert keys and F.shape[1] == 3
    for key in keys:
        record = problem.records[key]
        spec = problem.spec_of(key)
        assert (record["hw"]["pe_rows"], record["hw"]["buffer_size_bits"]) == (spec.pe_rows, spec.buffer_size_bits)


def test_cli_codesign_search_writes_hw_and_area_and_hw_prints_the_spec(tmp_path, capsys):
    import json

    from flowq.cli import main
    from hwmodels.space import load_space

    common = ["search", "--model", "lenet5", "--level", "mid", "--hw-space", "spatial", "--objectives",
              "latency_cycles,area", "--pop", "6", "--gen", "2", "--quiet"]
    for strategy, extra in (("joint", []), ("nested", ["--inner-evals", "3"])):
        out = tmp_path / strategy
        assert main(common + ["--strategy", strategy, "--out", str(out)] + extra) == 0
        data = json.loads((out / "results.json").read_text())
        assert data["config"]["hw_space"] == "spatial" and data["front"]
        for solution in data["front"]:
            hw = solution["hw"]
            spec = searched_space(load_space("spatial"), "mid").decode(hw["genes"])  # Mid searches no dataflow
            assert (hw["pe_rows"], hw["pe_cols"], hw["buffer_size_bits"]) == (spec.pe_rows, spec.pe_cols,
                                                                                spec.buffer_size_bits)
            assert solution["metrics"]["area"] == pytest.approx(area_mm2(spec))
            assert len(solution["bits_w"]) == len(solution["bits_a"]) == len(get_workload("lenet5"))
        assert (out / "hw_frequency.png").exists() and list(out.glob("front_by_*.png"))
    capsys.readouterr()
    assert main(["hw", "lenet5", "--genome", str(tmp_path / "joint" / "results.json"), "--spec-yaml"]) == 0
    path = tmp_path / "leader.yaml"
    path.write_text(capsys.readouterr().out)
    data = json.loads((tmp_path / "joint" / "results.json").read_text())
    leader = data["front"][data["hv_leader"]]
    assert load_spec(str(path)) == searched_space(load_space("spatial"), "mid").decode(leader["hw"]["genes"])
    assert main(common + ["--out", str(tmp_path / "bad"), "--hw-space", "no-such-space"]) == 2
    assert main(common[:4] + ["coarse"] + common[5:] + ["--out", str(tmp_path / "bad2")]) == 2
    assert "no-such-space" in capsys.readouterr().err


def test_codesign_plots_need_a_codesign_front(tmp_path):
    from flowq.plots_codesign import plot_front_by_gene, plot_gene_frequency

    from hwmodels.errors import FlowQError

    plain = {"objectives": ["accuracy", "latency_cycles"], "front": [{"F": [0.1, 0.5], "metrics": {}}]}
    with pytest.raises(FlowQError, match="--hw-space"):
        plot_gene_frequency(plain, tmp_path / "x.png")
    front = [{"F": [0.1 * k, 1 - 0.1 * k], "hw": {"pe_rows": r, "dataflow": d, "genes": [k]}}
             for k, (r, d) in enumerate([(8, "RS"), (16, "RS"), (16, "WS")])]
    data = {"objectives": ["accuracy", "latency_cycles"], "front": front}
    assert plot_front_by_gene(data, tmp_path / "a.png", "pe_rows").stat().st_size > 0
    assert plot_gene_frequency(data, tmp_path / "b.png").stat().st_size > 0
    with pytest.raises(FlowQError, match="available: pe_rows, dataflow"):
        plot_front_by_gene(data, tmp_path / "c.png", "lanes")


def test_failed_accuracy_is_evaluated_once_and_keeps_the_solution_off_the_front():
    class Failing(SensitivityStub):
        def evaluate(self, bits_w, bits_a):
            self.calls += 1
            return AccuracyResult(psi=0.0, loss=float("inf"), failed=True, reason="diverged")

    stub = Failing()
    problem = CodesignProblem("lenet5", "spatial", level="mid", workload=get_workload("lenet5"), evaluator=stub,
                              objectives=OBJECTIVES, tie=True)
    X = np.hstack([problem.space.enumerate()[:6], np.tile(problem.genome.bits.uniform(2), (6, 1))])
    out = problem.evaluate(X, return_as_dictionary=True)
    assert stub.calls == 1 and problem.accuracy_cache == {}
    assert np.all(out["F"] == 1e6)  # problems.base.FAILED_F: ranked last
    assert front_of(problem) == ([], pytest.approx(np.zeros((0, 3))))
