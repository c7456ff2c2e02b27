"""ReRAMProblem: genome with ADC genes, hardware objectives by name, CLI, and a LeNet-5 search over all three genes."""

import json

import numpy as np
import pytest

from flowq.accuracy import AccuracyResult
from hwmodels.errors import GenomeError
from problems import PROBLEMS, ReRAMProblem


def test_registered_and_loads_reram_presets():
    assert PROBLEMS["reram"] is ReRAMProblem
    problem = ReRAMProblem("lenet5", "reram-neurosim", objectives=("energy", "tiles"))
    assert problem.spec.name == "reram-neurosim" and problem.fixed_bits == 8  # the spec's b_max
    assert {"energy", "latency_cycles", "tiles", "adc_conversions", "adc_share"} <= set(problem.hw_metrics)


def test_genome_layout_with_adc_genes():
    problem = ReRAMProblem("lenet5", "reram-puma", adc_bits="search", fixed_bits=8, bitwidths=(2, 4, 8),
                           objectives=("energy",))
    genome = problem.genome
    # 3 searched layers (conv2, fc1, fc2) x (b_W, b_A, ADC)
    assert problem.n_var == 9
    assert problem.xu.tolist() == [2, 2, 7] * 3   # 3 bit alleles, ADC 1..8
    assert problem.cut_points.tolist() == [3, 6]
    bw, ba, adc = [8, 2, 4, 8, 8], [8, 4, 2, 2, 8], [8, 1, 5, 3, 8]
    x = genome.encode(bw, ba, adc)
    assert x.tolist() == [0, 1, 0, 1, 0, 4, 2, 0, 2]
    assert [v.tolist() for v in genome.decode(x)] == [bw, ba]
    assert genome.decode_adc(x).tolist() == adc  # fixed layers keep the default (puma: 8 bits)
    assert genome.key(x) == tuple(bw) + tuple(ba) + tuple(adc)
    with pytest.raises(GenomeError, match="ADC locus"):
        genome.decode_adc(np.array([0, 1, 9, 1, 0, 4, 2, 0, 2]))


def test_lower_adc_genes_lower_energy_and_fixed_option():
    problem = ReRAMProblem("lenet5", "reram-puma", adc_bits="search", fixed_bits=8, bitwidths=(2, 4, 8),
                           objectives=("energy", "latency_cycles"))
    X = np.array([problem.genome.uniform(4, r) for r in (8, 4, 2, 1)])
    F = problem.evaluate(X)
    assert np.all(np.diff(F[:, 0]) < 0)   # energy falls with every ADC bit removed
    fixed = ReRAMProblem("lenet5", "reram-puma", adc_bits=2, fixed_bits=8, bitwidths=(2, 4, 8),
                         objectives=("energy",))
    assert fixed.n_var == 6 and fixed.genome.decode_adc(fixed.genome.uniform(4)).tolist() == [2] * 5
    with pytest.raises(GenomeError, match="ADC resolutions"):
        ReRAMProblem("lenet5", "reram-puma", adc_bits=12, objectives=("energy",))
    with pytest.raises(GenomeError, match="search"):
        ReRAMProblem("lenet5", "reram-puma", adc_bits="auto", objectives=("energy",))


class _Stub:
    """Accuracy stub: psi falls as ADC bits fall (records what it was asked)."""

    def __init__(self):
        self.calls = []

    def evaluate(self, bits_w, bits_a, adc_bits=None):
        self.calls.append(list(adc_bits))
        return AccuracyResult(psi=0.5 + 0.05 * float(np.mean(adc_bits)), loss=0.0)


def test_accuracy_gets_the_adc_bits_and_is_cached_by_them():
    stub = _Stub()
    problem = ReRAMProblem("lenet5", "reram-puma", adc_bits="search", fixed_bits=8, bitwidths=(2, 4, 8),
                           evaluator=stub, objectives=("accuracy", "energy"))
    X = np.array([problem.genome.uniform(4, 8), problem.genome.uniform(4, 2), problem.genome.uniform(4, 2)])
    F = problem.evaluate(X)
    assert stub.calls == [[8] * 5, [8, 2, 2, 2, 8]]  # the duplicate is not re-evaluated
    assert F[0, 0] < F[1, 0] and F[0, 1] > F[1, 1]
    key = next(iter(problem.records))
    assert problem.solution_extra(key)["adc_bits"] == [8] * 5


@pytest.mark.slow
def test_lenet_search_with_three_genes_trades_adc_bits_for_energy():
    from flowq.flow import Flow

    flow = Flow("lenet5", "digits", "proxy", hw="reram-puma", seed=0, verbose=False, fixed_bits=4,
                bitwidths=(2, 4), evaluator_kwargs={"batch_size": 128})
    problem = flow.problem("reram", adc_bits="search", objectives=("accuracy", "energy"))
    result = flow.search(problem, "nsga2", 3, pop_size=6)
    front = result.data["front"]
    assert len(front) >= 2
    # front members' records (the problem keeps the ADC bits of every genome it evaluated)
    on_front = {(tuple(s["bits_w"]), tuple(s["bits_a"]), s["metrics"]["energy"]) for s in front}
    adc = [r for r in problem.records.values()
           if (tuple(r["bits_w"]), tuple(r["bits_a"]), r["metrics"]["energy"]) in on_front]
    cheapest = min(adc, key=lambda r: r["metrics"]["energy"])
    best = max(adc, key=lambda r: (r["metrics"]["accuracy"], -r["metrics"]["energy"]))
    print("\nfront (energy, psi, ADC bits):", sorted((round(r["metrics"]["energy"]), r["metrics"]["accuracy"],
                                                    tuple(r["adc_bits"])) for r in adc))
    # the front trades: the cheapest member runs lower ADC bits and is less accurate than the most accurate one
    assert np.mean(cheapest["adc_bits"][1:-1]) < np.mean(best["adc_bits"][1:-1])
    assert cheapest["metrics"]["accuracy"] < best["metrics"]["accuracy"]


def test_cli_hw_reram(capsys):
    from flowq.cli import main

    assert main(["hw", "resnet18", "--hw", "reram-neurosim", "--bits", "8", "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["total"]["tiles"] == 364 and report["adc_bits"][0] == 8  # lossless default for 128 rows
    assert main(["hw", "lenet5", "--hw", "reram-bwq", "--bits", "8", "--adc-bits", "3"]) == 0
    out = capsys.readouterr().out
    assert "reram-bwq" in out and "TOTAL" in out
    assert main(["hw", "lenet5", "--hw", "reram-bwq", "--adc-bits", "9"]) == 2
    assert "adc_bits" in capsys.readouterr().err
    assert main(["hw", "lenet5", "--hw", "spatial-256", "--adc-bits", "4"]) == 2


def test_rl_agents_walk_reram_genomes_with_fixed_adc_and_refuse_searched_adc():
    from flowq.agents.env import QuantMDP

    fixed = ReRAMProblem("lenet5", "reram-neurosim", objectives=("tiles",), bitwidths=(2, 4, 8))
    mdp = QuantMDP(fixed)
    # 3 searched layers (conv2, fc1, fc2) x (b_W, b_A): one step per locus, actions = the 3 bitwidths
    assert (mdp.n_steps, mdp.n_actions) == (6, 3)
    assert mdp.layers.tolist() == [1, 1, 2, 2, 3, 3]
    searched = ReRAMProblem("lenet5", "reram-puma", adc_bits="search", objectives=("energy",), bitwidths=(2, 4, 8))
    with pytest.raises(GenomeError, match="ADC"):
        QuantMDP(searched)
