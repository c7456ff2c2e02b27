"""The weight-sharing any-precision evaluator (`--evaluator shared`) on a tiny ResNet-20 (8 px digits, short recipes):
deterministic psi, lower bits lower psi, the shared network cached and reused, BatchNorm re-estimated per genome."""

import pickle
import random

import pytest
import torch

from flowq.accuracy import AccuracyResult
from flowq.errors import EvaluatorError, GenomeError
from flowq.models.training import TrainConfig
from flowq.shared_eval import SharedEvaluator
from problems import make_evaluator

# 8 px digits (the data's native size) and 2 float epochs + 1 shared epoch: a few seconds on 2 loaded cores
TINY = dict(image_size=8, train_config=TrainConfig(epochs=2), shared_epochs=1.0, device="cpu")


@pytest.fixture(scope="module")
def cache_dir(tmp_path_factory):
    return tmp_path_factory.mktemp("shared-cache")


@pytest.fixture(scope="module")
def shared(cache_dir):
    ev = SharedEvaluator("resnet20", "digits", cache_dir=cache_dir, use_result_cache=False, **TINY)
    ev.prepare()  # float network and shared network, trained once for the module
    return ev


def genome(n, bits, edge=16):
    return [edge] + [bits] * (n - 2) + [edge]


def random_genome(n, rng, low=2, high=8):
    return [16] + [rng.randint(low, high) for _ in range(n - 2)] + [16]


def test_psi_is_deterministic_for_a_genome(shared):
    rng = random.Random(1)
    bw, ba = random_genome(shared.n_layers, rng), random_genome(shared.n_layers, rng)
    first = shared.evaluate(bw, ba)
    shared.evaluate(genome(shared.n_layers, 2), genome(shared.n_layers, 2))  # another genome in between
    second = shared.evaluate(bw, ba)
    assert isinstance(first, AccuracyResult) and not first.failed
    assert (first.psi, first.loss) == (second.psi, second.loss)
    clone = pickle.loads(pickle.dumps(shared))  # a worker's copy loads the cached network and agrees
    assert clone._net is None and (clone.evaluate(bw, ba).psi, clone.evaluate(bw, ba).loss) == (first.psi, first.loss)


def test_lower_bits_give_lower_psi_on_average(shared):
    n, rng = shared.n_layers, random.Random(2)
    high = shared.evaluate(genome(n, 8), genome(n, 8))
    low = [shared.evaluate(random_genome(n, rng, 2, 3), random_genome(n, rng, 2, 3)) for _ in range(3)]
    assert sum(r.loss for r in low) / 3 > high.loss
    assert sum(r.psi for r in low) / 3 < high.psi


def test_batchnorm_statistics_are_reestimated_at_the_genome_bits(shared):
    n = shared.n_layers
    model = shared._shared()[0]
    stored = {k: v.clone() for k, v in model.state_dict().items() if k.endswith("running_var")}
    shared.evaluate(genome(n, 8), genome(n, 8))
    at8 = {k: v.clone() for k, v in model.state_dict().items() if k in stored}
    shared.evaluate(genome(n, 2), genome(n, 2))
    at2 = {k: v.clone() for k, v in model.state_dict().items() if k in stored}
    assert any(not torch.allclose(at8[k], stored[k]) for k in stored)  # not the trained network's statistics
    assert any(not torch.allclose(at8[k], at2[k], rtol=1e-3) for k in stored)  # they follow the bits


def test_a_second_instance_loads_the_shared_network_instead_of_training(shared, cache_dir, monkeypatch):
    g = genome(shared.n_layers, 4)
    expected = shared.evaluate(g, g)

    def no_training(*args, **kwargs):
        raise AssertionError("the shared network was trained again")

    monkeypatch.setattr(SharedEvaluator, "_train_shared", no_training)
    again = SharedEvaluator("resnet20", "digits", cache_dir=cache_dir, use_result_cache=False, **TINY)
    assert (again.evaluate(g, g).psi, again.shared_key()) == (expected.psi, shared.shared_key())
    other = SharedEvaluator("resnet20", "digits", cache_dir=cache_dir, **dict(TINY, shared_epochs=2.0))
    assert other.shared_key() != shared.shared_key()  # the key names the recipe: another one is another network
    assert other.identity(float_weights=False) != shared.identity(float_weights=False)


def test_few_step_finetune_on_top_leaves_the_shared_weights_alone(shared, cache_dir):
    tuned = SharedEvaluator("resnet20", "digits", cache_dir=cache_dir, use_result_cache=False, finetune_steps=2,
                            **TINY)
    before = [t.clone() for t in tuned._shared()[0].state_dict().values() if t.dtype.is_floating_point]
    g = genome(tuned.n_layers, 3)
    result = tuned.evaluate(g, g)
    after = [t for t in tuned._shared()[0].state_dict().values() if t.dtype.is_floating_point]
    assert not result.failed and 0 <= result.psi <= 1
    assert all(torch.equal(a, b) for a, b in zip(before[:4], after[:4]))  # conv weights untouched
    assert tuned.identity(float_weights=False)["finetune_steps"] == 2


def test_bad_genomes_and_settings(shared):
    n = shared.n_layers
    with pytest.raises(GenomeError, match="trained for bits"):
        shared.evaluate(genome(n, 1), genome(n, 4))
    with pytest.raises(GenomeError):
        shared.evaluate([4] * (n - 1), [4] * (n - 1))
    for bad in (dict(bits=()), dict(shared_epochs=0), dict(n_random=-1), dict(finetune_steps=1.5),
                dict(calibration_images=0), dict(bits=(2, "x"))):
        with pytest.raises(EvaluatorError):
            SharedEvaluator("lenet5", "digits", **bad)
    with pytest.raises(EvaluatorError, match="shared-finetune"):
        make_evaluator("shared", "lenet5", epochs=1.0)
    with pytest.raises(EvaluatorError, match="finetune_steps"):
        make_evaluator("finetune", "lenet5", finetune_steps=3)
    assert isinstance(make_evaluator("shared", "lenet5", finetune_steps=3), SharedEvaluator)


@pytest.mark.slow
def test_rank_fidelity_on_lenet5_graded_genomes():
    """Shared psi against 1-epoch fine-tune psi on 12 LeNet-5 genomes with a real quality spread (inner bits in
    {b, b+1}, b = 2..7; default recipes). Measured 2026-12-04 (torch 2.13 CPU, 1 thread): Kendall tau 0.330,
    Spearman rho 0.388, and both evaluators put the all-2/3-bit genome last. The fine-tune saturates at 97.9 % from
    5 bits on (6 of 12 genomes tie there), which caps any agreement; the thresholds leave room for other CPUs."""
    from scipy.stats import kendalltau, spearmanr

    from flowq.accuracy import FineTuneEvaluator

    shared = SharedEvaluator("lenet5", "digits", device="cpu")
    finetune = FineTuneEvaluator("lenet5", "digits", epochs=1.0, device="cpu")
    n, rng, genomes = shared.n_layers, random.Random(0), []
    for k in range(12):
        low = 2 + k % 6
        genomes.append(tuple([16] + [rng.randint(low, low + 1) for _ in range(n - 2)] + [16] for _ in range(2)))
    psi_shared = [shared.evaluate(*g).psi for g in genomes]
    psi_finetune = [finetune.evaluate(*g).psi for g in genomes]
    assert kendalltau(psi_shared, psi_finetune).statistic >= 0.2
    assert spearmanr(psi_shared, psi_finetune).statistic >= 0.25
    worst = min(range(12), key=lambda i: psi_finetune[i])
    assert psi_shared[worst] == min(psi_shared)


def test_cli_refuses_shared_options_on_another_evaluator(tmp_path, capsys):
    from flowq.cli import main

    args = ["search", "--model", "lenet5", "--level", "coarse", "--pop", "2", "--gen", "1",
            "--out", str(tmp_path / "r")]
    assert main(args + ["--evaluator", "finetune", "--shared-finetune", "3"]) == 2
    assert "--shared-finetune" in capsys.readouterr().err
    assert main(args + ["--evaluator", "shared", "--epochs", "1"]) == 2
    assert "--shared-finetune STEPS" in capsys.readouterr().err
