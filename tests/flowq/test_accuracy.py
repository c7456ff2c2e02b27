"""Accuracy evaluators on digits with ResNet-20: float >= 95%, 8/4-bit within 2 points, 2-bit worse, proxy order."""

import pickle

import pytest

from flowq.accuracy import AccuracyResult, FineTuneEvaluator, LossProxyEvaluator
from flowq.cache import ResultCache
from flowq.errors import GenomeError
from flowq.models.training import TrainConfig
from hwmodels.zoo import get_workload

# 8 epochs instead of the default 15 keep the one float training of this module at ~15 s on 2 cores
CONFIG = TrainConfig(epochs=8)


@pytest.fixture(scope="session")
def cache_dir(tmp_path_factory):
    """One cache folder; the first evaluator that needs the float ResNet-20 trains it there, the rest load it."""
    return tmp_path_factory.mktemp("flowq-cache")


@pytest.fixture(scope="session")
def evaluator(cache_dir):
    ev = FineTuneEvaluator("resnet20", "digits", epochs=1.0, seed=0, device="cpu", cache_dir=cache_dir,
                           train_config=CONFIG)
    ev.float_accuracy  # trains and caches the float network once
    return ev


def genome(n_layers, bits, edge=8):
    """Uniform `bits` with the first and last layers at `edge` bits (benq III-B)."""
    return [edge] + [bits] * (n_layers - 2) + [edge]


def test_workload_is_the_zoo_resnet20(evaluator):
    assert evaluator.workload == get_workload("resnet20") and evaluator.n_layers == 20


def test_float_model_accuracy(evaluator):
    assert evaluator.float_test_accuracy >= 0.95
    assert evaluator.float_accuracy >= 0.95


def test_finetuned_accuracy_orders_by_bitwidth(evaluator):
    n = evaluator.n_layers
    psi = {bits: evaluator.evaluate(genome(n, bits), genome(n, bits)) for bits in (8, 4, 2)}
    assert all(isinstance(r, AccuracyResult) and not r.failed for r in psi.values())
    assert psi[8].psi >= evaluator.float_accuracy - 0.02
    assert psi[4].psi >= evaluator.float_accuracy - 0.02
    assert psi[2].psi < psi[4].psi


def test_loss_proxy_ranks_bitwidths(cache_dir):
    proxy = LossProxyEvaluator("resnet20", "digits", batch_size=128, device="cpu", cache_dir=cache_dir,
                               train_config=CONFIG)
    n = proxy.n_layers
    cost = {bits: proxy.evaluate(genome(n, bits), genome(n, bits)).loss for bits in (8, 4, 2)}
    assert cost[2] > cost[4] > cost[8]  # psum eq. 1: more quantisation damage, more extra cross-entropy
    assert abs(proxy.evaluate([16] * n, [16] * n).loss) < 0.05  # a 16-bit network is nearly the float one


def test_same_seed_same_result_and_pickling(evaluator, cache_dir):
    fresh = FineTuneEvaluator("resnet20", "digits", steps=2, device="cpu", cache_dir=cache_dir,
                              train_config=CONFIG, use_result_cache=False)
    g = genome(fresh.n_layers, 6)
    first = fresh.evaluate(g, g)
    clone = pickle.loads(pickle.dumps(fresh))
    assert clone._state is None  # heavy state is rebuilt lazily in the receiving process
    second = clone.evaluate(g, g)
    assert (first.psi, first.loss) == (second.psi, second.loss)


def test_results_are_persisted_and_reused(cache_dir, monkeypatch):
    ev = FineTuneEvaluator("resnet20", "digits", steps=1, device="cpu", cache_dir=cache_dir, train_config=CONFIG)
    g = genome(ev.n_layers, 3)
    stored = ev.evaluate(g, g)
    assert ResultCache(cache_dir / "results.sqlite").get(ev._key(g, g, steps=1, lr_scale=0.1)) is not None

    def no_training(*args, **kwargs):
        raise AssertionError("a cached genome must not be fine-tuned again")

    monkeypatch.setattr(FineTuneEvaluator, "_finetune", no_training)
    again = FineTuneEvaluator("resnet20", "digits", steps=1, device="cpu", cache_dir=cache_dir,
                              train_config=CONFIG).evaluate(g, g)
    assert again == stored


def test_divergence_is_a_failed_result_not_an_exception(cache_dir):
    exploding = TrainConfig(epochs=8, finetune_lr_scale=1e30)  # same float network, absurd fine-tuning rate
    ev = FineTuneEvaluator("resnet20", "digits", steps=3, device="cpu", cache_dir=cache_dir,
                           train_config=exploding, use_result_cache=False)
    result = ev.evaluate(genome(ev.n_layers, 4), genome(ev.n_layers, 4))
    assert result.failed and result.psi == 0.0 and result.loss == float("inf")
    assert "diverge" in result.reason or "not finite" in result.reason


def test_train_from_scratch_reports_test_accuracy(cache_dir):
    # LeNet-5 (5 layers) keeps this cheap; training from scratch needs no pretrained float network
    ev = FineTuneEvaluator("lenet5", "digits", device="cpu", cache_dir=cache_dir, train_config=CONFIG)
    result = ev.train_from_scratch(genome(5, 4), genome(5, 4), epochs=10)
    assert ev._state.float_model is None
    # 10 epochs of 4-bit LeNet-5 from random weights (no BatchNorm, so it starts slowly): far above 10% guessing
    assert not result.failed and result.psi > 0.8


def test_wrong_genome_length(evaluator):
    with pytest.raises(GenomeError, match="20 conv/linear layers"):
        evaluator.evaluate([8] * 19, [8] * 19)


# ---- issue 13 ----------------------------------------------------------------------------------------------------
def test_proxy_on_a_cold_cache_trains_its_float_network_and_measures_psi_star_on_its_batch(tmp_path):
    """Failure 1: the proxy trained the float network inside torch.no_grad() on a cold cache."""
    import torch

    proxy = LossProxyEvaluator("lenet5", "digits", batch_size=64, device="cpu", cache_dir=tmp_path,
                               train_config=TrainConfig(epochs=2))
    result = proxy.evaluate([16] * 5, [16] * 5)
    assert not result.failed and any((tmp_path / "models").iterdir())
    x, y, _, _ = proxy._fixed_batch()
    with torch.no_grad():
        on_batch = float((proxy._float()(x).argmax(1) == y).float().mean())
    assert proxy.float_accuracy == on_batch  # psi* on the same 64 images as psi, not on the whole validation split
    assert abs(result.psi - proxy.float_accuracy) <= 2 / 64  # a 16-bit network is the float one


def test_a_failed_evaluation_is_retried_once_then_returned_from_the_cache(tmp_path):
    """Failure 5: a failure was cached forever after the first try."""
    ev = LossProxyEvaluator("lenet5", "digits", device="cpu", cache_dir=tmp_path, use_result_cache=True)
    ev._key_parts = {}
    calls = []

    def flaky():
        calls.append(1)
        return AccuracyResult(psi=0.0, loss=float("inf"), failed=True, reason="NaN")

    first = ev._cached("k", flaky)
    second = ev._cached("k", flaky)  # the next request computes again instead of trusting the failure
    third = ev._cached("k", flaky)  # two failed attempts: now the failure is the answer
    assert first.failed and second.failed and third.failed and len(calls) == 2
    ok = ev._cached("k2", flaky)
    assert ok.failed
    fixed = ev._cached("k2", lambda: AccuracyResult(psi=0.9, loss=0.1))
    assert not fixed.failed and ev._cached("k2", flaky) == fixed and len(calls) == 3


def test_evaluator_settings_raise_evaluator_error():
    from flowq.errors import EvaluatorError

    for kwargs in ({"epochs": -1}, {"steps": 1.5}, {"quantizer": "ternary"}, {"device": "tpu:9"}):
        with pytest.raises(EvaluatorError):
            FineTuneEvaluator("lenet5", "digits", **kwargs)
    with pytest.raises(EvaluatorError):
        LossProxyEvaluator("lenet5", "digits", batch_size=0)
