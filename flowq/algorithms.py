"""The algorithm registry: NSGA-II, SOGA, random search and the RL agents by name (`--algo`).

    algorithm = make_algorithm("nsga2", 25, sampling=SeededSampling(front))

Imports pymoo and FlowQ's operators only (never `problems` or `flowq.flow`), so problems (e.g. the co-design
problem's nested search) can build algorithms without an import circle; the agents (torch) load on first use.
"""

from __future__ import annotations

import numpy as np
from pymoo.algorithms.moo.nsga2 import NSGA2
from pymoo.algorithms.soo.nonconvex.ga import GA
from pymoo.operators.selection.tournament import TournamentSelection, compare

from flowq.errors import SearchError
from flowq.operators import IntegerSampling, SinglePointCrossover, SingleLocusMutation


def _soga_tournament(pop, P, random_state=None, **kwargs):
    """Binary tournament for SOGA: the feasible / less violating, then the fitter individual wins."""
    S = np.full(P.shape[0], -1, dtype=np.int64)
    for i, (a, b) in enumerate(P):
        if pop[a].CV[0] > 0.0 or pop[b].CV[0] > 0.0:
            S[i] = compare(a, pop[a].CV[0], b, pop[b].CV[0], method="smaller_is_better",
                           return_random_if_equal=True, random_state=random_state)
        else:
            S[i] = compare(a, pop[a].F[0], b, pop[b].F[0], method="smaller_is_better",
                           return_random_if_equal=True, random_state=random_state)
    return S[:, None]


def _genetic_operators(pop_size, sampling, crossover_prob, mutation_prob) -> dict:
    return dict(pop_size=int(pop_size), sampling=sampling or IntegerSampling(),
                crossover=SinglePointCrossover(prob=crossover_prob),
                mutation=SingleLocusMutation(prob=mutation_prob), eliminate_duplicates=True)


def _nsga2(pop_size, *, sampling=None, crossover_prob=1.0, mutation_prob=0.4, **kwargs):
    return NSGA2(**_genetic_operators(pop_size, sampling, crossover_prob, mutation_prob))


def _soga(pop_size, *, sampling=None, crossover_prob=1.0, mutation_prob=0.4, **kwargs):
    return GA(selection=TournamentSelection(func_comp=_soga_tournament, pressure=2),
              **_genetic_operators(pop_size, sampling, crossover_prob, mutation_prob))


def _random(pop_size, *, sampling=None, **kwargs):
    from flowq.random_search import RandomSearch

    return RandomSearch(pop_size, sampling=sampling)


def _rl_agent(name: str):
    def factory(pop_size, *, sampling=None, crossover_prob=1.0, mutation_prob=0.4, **kwargs):
        from flowq.agents import AGENTS  # torch is imported only when an agent is asked for

        seeds = getattr(sampling, "seeds", None)  # SeededSampling (refine): the first episodes replay them
        if sampling is not None and seeds is None:
            raise SearchError(f"agent {name!r} starts from given genomes (SeededSampling) only, not from a "
                              f"{type(sampling).__name__}")
        return AGENTS[name](pop_size, seeds=seeds, **kwargs)  # one iteration = pop_size episodes

    factory.__doc__ = f"The {name} RL agent of `flowq.agents` (pop_size episodes per iteration)."
    return factory


#: Algorithm registry: name -> factory(pop_size, *, sampling=None, crossover_prob, mutation_prob, **kwargs) ->
#: pymoo Algorithm. Adding an algorithm is one entry here and one `--algo` choice.
ALGORITHMS = {"nsga2": _nsga2, "soga": _soga, "random": _random}
AGENT_NAMES = ("ddpg", "ppo", "vpg", "releq", "moppo")
ALGORITHMS.update({name: _rl_agent(name) for name in AGENT_NAMES})
#: Algorithms that need the single-objective hw-flowq eq. 1 problem (`soga_threshold`).
SINGLE_OBJECTIVE = {"soga"}


def make_algorithm(name: str = "nsga2", pop_size: int = 25, *, sampling=None, crossover_prob: float = 1.0,
                   mutation_prob: float = 0.4, **kwargs):
    """A registered algorithm with hw-flowq's operators (3.2.2, 6: crossover p = 1.0, mutation p = 0.4).

    Args:
        name: a key of `ALGORITHMS`: "nsga2" (crowded-comparison selection), "soga" (pymoo GA with binary
            tournament selection; the problem must carry the eq. 1 fitness, i.e. `soga_threshold`), "random"
            (`flowq.random_search.RandomSearch`), or an RL agent of `flowq.agents` ("ddpg", "ppo", ...).
        pop_size: |P| (episodes per iteration for an agent, genomes per iteration for random search).
        sampling: initial-population operator (default uniform integers; `SeededSampling` to seed; an agent
            replays the seeds in its first episodes).
        **kwargs: options of an RL agent (reward, cost, hidden, ...).

    Raises:
        SearchError: unknown name or a population below 2.
    """
    if name not in ALGORITHMS:
        raise SearchError(f"algorithm {name!r}; allowed: {', '.join(ALGORITHMS)}")
    if isinstance(pop_size, bool) or not isinstance(pop_size, (int, np.integer)) or pop_size < 2:
        raise SearchError(f"pop_size={pop_size!r}: a genetic search needs a population of at least 2")
    return ALGORITHMS[name](int(pop_size), sampling=sampling, crossover_prob=crossover_prob,
                            mutation_prob=mutation_prob, **kwargs)


def seed_algorithm(algorithm, seeds) -> None:
    """Make a configured algorithm start from `seeds` (n, n_var) (refining from a previous front): a genetic
    algorithm's or random search's first population holds them (`SeededSampling`), an RL agent replays them in its
    first episodes. Raises SearchError for an algorithm that cannot start from given genomes, rather than
    dropping them."""
    from flowq.operators import SeededSampling

    if hasattr(algorithm, "seeds") and hasattr(algorithm, "n_seeded"):  # flowq.agents.RLAgent
        algorithm.seeds = np.atleast_2d(np.asarray(seeds, dtype=np.int64))
    elif hasattr(getattr(algorithm, "initialization", None), "sampling"):  # pymoo GeneticAlgorithm
        algorithm.initialization.sampling = SeededSampling(seeds)
    elif hasattr(algorithm, "sampling") and hasattr(algorithm, "drawn"):  # flowq.random_search.RandomSearch
        algorithm.sampling = SeededSampling(seeds)
    else:
        raise SearchError(f"{type(algorithm).__name__} cannot start from the previous front's genomes; pass the "
                          f"algorithm by name or one of FlowQ's algorithms")
