"""Progress a person can follow when stdout is not a terminal (issue 19): a line when a phase starts and ends, at
most one line per 30 s in between (done / total, s per unit, ETA); a tqdm bar instead on a terminal; quiet runs
print nothing. And time budgets: a search with a deadline shrinks its population before it skips generations."""

import io
import re
from types import SimpleNamespace

import pytest
from pymoo.termination.max_gen import MaximumGenerationTermination

from flowq import progress
from flowq.budget import plan_population
from flowq.callbacks import EvaluationProgress, SearchMonitor


class Clock:
    """A fake monotonic clock the test moves by hand."""

    def __init__(self):
        self.now = 1000.0

    def __call__(self):
        return self.now


class Terminal(io.StringIO):
    def isatty(self):
        return True


def test_phase_prints_start_throttled_progress_and_end_lines():
    clock, out = Clock(), io.StringIO()
    phase = progress.Phase("[float lenet5/digits]", total=20, unit="step", stream=out, clock=clock)
    phase.start("training 2 epochs")
    for step in range(20):
        clock.now += 4.0  # 4 s per step: a progress line every 8th step at most (30 s apart)
        phase.step(note=f"epoch {step // 10 + 1}/2")
    phase.end("validation accuracy 90.00 %")
    lines = out.getvalue().splitlines()
    assert lines[0] == "[float lenet5/digits] training 2 epochs"
    assert lines[-1] == "[float lenet5/digits] done in 80 s: validation accuracy 90.00 %"
    middle = lines[1:-1]
    assert middle[0] == "[float lenet5/digits] epoch 1/2: 8/20 steps, 4.00 s/step, ETA 48 s"
    assert len(middle) == 2 and middle[1].startswith("[float lenet5/digits] epoch 2/2: 16/20 steps")


def test_generation_lines_when_not_a_terminal_at_most_every_30_s():
    clock, out, gen = Clock(), io.StringIO(), [3]
    bar = EvaluationProgress("[coarse]", stream=out, generation=lambda: gen[0], clock=clock)
    bar.start(10)
    for seconds in (5, 5, 5, 5, 5, 5, 5, 5, 20, 5):  # candidates finishing at 5, 10, ..., 40, 60, 65 s
        clock.now += seconds
        bar.step(seconds)
    bar.close()
    lines = out.getvalue().splitlines()
    assert lines[0] == "[coarse] gen 3 evaluating 10 candidate(s)"
    assert re.fullmatch(r"\[coarse\] gen 3 6/10 candidates, 5\.00 s/candidate, ETA 20 s", lines[1])
    assert re.fullmatch(r"\[coarse\] gen 3 9/10 candidates, 6\.67 s/candidate, ETA 7 s", lines[2])
    assert len(lines) == 3  # 30 s apart at least; the monitor's generation line ends the generation


def test_a_terminal_gets_the_bar_and_quiet_gets_nothing():
    terminal = Terminal()
    bar = EvaluationProgress("[mid]", stream=terminal, clock=Clock())
    bar.start(2)
    assert bar._bar is not None and bar._phase is None  # tqdm, no lines
    bar.step(1.0)
    bar.close()
    out = io.StringIO()
    with progress.quiet():
        phase = progress.Phase("[x]", 1, stream=out)
        phase.start("begins")
        phase.end()
        with progress.quiet(False):
            progress.say("inner", out)
    assert out.getvalue() == "inner\n"
    silent = io.StringIO()
    EvaluationProgress("[fine]", stream=silent, enabled=False).start(5)
    assert silent.getvalue() == ""


def test_float_training_says_when_it_starts_and_ends(tmp_path, capsys):
    from flowq.accuracy import FineTuneEvaluator
    from flowq.models.training import TrainConfig

    recipe = TrainConfig(epochs=1, batch_size=600)  # two steps
    evaluator = FineTuneEvaluator("lenet5", "digits", steps=0, train_config=recipe, cache_dir=tmp_path,
                                  use_result_cache=False)
    evaluator.prepare()
    err = capsys.readouterr().err.splitlines()
    assert err[0].startswith("[float lenet5/digits] training the float network: 1 epochs (2 steps) on cpu, 1 thread")
    assert re.match(r"\[float lenet5/digits\] done in \d+ s: validation accuracy \d+\.\d\d %", err[-1])
    FineTuneEvaluator("lenet5", "digits", steps=0, train_config=recipe, cache_dir=tmp_path).prepare()
    assert capsys.readouterr().err == ""  # loaded from the cache: nothing to report


@pytest.mark.parametrize("remaining, gens_left, per_candidate, expected", [
    (1000.0, 4, 2.0, 10),  # everything fits: the population asked for
    (48.0, 4, 2.0, 6),     # 4 generations of 6 fit, of 10 not: shrink
    (20.0, 4, 2.0, 4),     # not even 4 x 4: the smallest population, generations go later
    (7.0, 4, 2.0, 0),      # not one generation of 4: stop
    (50.0, 1, 0.0, 10),    # nothing measured yet
])
def test_plan_population_shrinks_before_it_stops(remaining, gens_left, per_candidate, expected):
    assert plan_population(remaining, gens_left, per_candidate, full_pop=10) == expected


def _monitor_after(gen, seconds, deadline_in, pop=10, n_gen=6):
    monitor = SearchMonitor(deadline=1000.0 + deadline_in)
    monitor.problem = SimpleNamespace(level="coarse")
    monitor.hypervolume = [0.5] * gen
    monitor._last_notify = 1000.0 - seconds
    algorithm = SimpleNamespace(pop_size=pop, n_offsprings=pop, off=[None] * pop, pop=[None] * pop,
                                termination=MaximumGenerationTermination(n_gen))
    monitor._fit_deadline(algorithm, 1000.0)
    return monitor, algorithm


def test_a_deadline_shrinks_the_population_then_regrows_it_then_stops():
    monitor, algorithm = _monitor_after(gen=2, seconds=20.0, deadline_in=60.0)  # 2 s/cand, 4 gens left, 60 s
    assert (algorithm.pop_size, algorithm.n_offsprings) == (7, 7) and not monitor.stopped_early
    monitor._last_notify, algorithm.off = 1000.0 - 2.0, [None] * 7  # candidates got cheap: back to 10
    monitor.hypervolume.append(0.6)
    monitor._fit_deadline(algorithm, 1000.0)
    assert algorithm.pop_size == 10 and not monitor.stopped_early
    monitor, algorithm = _monitor_after(gen=2, seconds=20.0, deadline_in=5.0)  # not one generation of 4 fits
    assert monitor.stopped_early and algorithm.termination.has_terminated() and algorithm.pop_size == 10


def test_a_search_runs_with_the_population_its_budget_gives(monkeypatch):
    import time

    from test_flow import lenet_flow

    monkeypatch.setattr("flowq.callbacks.plan_population", lambda *args, **kwargs: 4)
    result = lenet_flow(seed=1).search("coarse", "nsga2", n_gen=4, pop_size=8, deadline=time.perf_counter() + 1e6)
    assert result.data["population_sizes"] == [8, 4, 4, 4]
    assert len(result.hypervolume) == 4 and not result.data["stopped_early"]
    assert all(b - a <= 4 for a, b in zip(result.data["n_evaluations"], result.data["n_evaluations"][1:]))
