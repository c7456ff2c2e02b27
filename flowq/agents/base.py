"""`RLAgent`: an RL agent as a pymoo `Algorithm` (one iteration = `pop_size` episodes = one evaluated Population).

    res = minimize(problem, PPO(pop_size=8), ("n_eval", 400), seed=1, callback=SearchMonitor())

`_infill` rolls out `pop_size` episodes of the quantisation MDP (`flowq.agents.env.QuantMDP`) into a Population of
genomes (HAQ's resource wall applied when asked), pymoo's Evaluator scores them on the problem (hardware metrics,
accuracy cache and constraints shared with the GA), `_advance` turns the evaluated individuals into rewards
(`flowq.agents.rewards`) and updates the networks, and `opt` is the non-dominated archive of everything evaluated,
so fronts and hypervolumes compare with NSGA-II's on equal evaluation budgets. Every random draw comes from the
algorithm's numpy `random_state` (network initialisation included), so a seed fixes the run and a pickled agent
(networks, optimisers, replay buffer, Generator) resumes exactly.
"""

from __future__ import annotations

import numpy as np
import torch
from pymoo.core.algorithm import Algorithm
from pymoo.core.population import Population

from flowq.agents.env import QuantMDP
from flowq.agents.nets import one_thread
from flowq.agents.rewards import ResourceWall, RewardModel, reward_function
from flowq.random_search import archive_optimum
from hwmodels.errors import GenomeError


def gae(final_reward, values, gamma: float, lam: float) -> tuple[np.ndarray, np.ndarray]:
    """Generalised advantage estimation for episodes whose only reward is the last step's.

    Args:
        final_reward: (B,) reward of each episode, paid at its last step.
        values: (B, T) value estimates V(s_t); V after the last step is 0 (terminal).
        gamma, lam: discount and GAE parameter.

    Returns:
        (advantages (B, T), rewards-to-go (B, T)).
    """
    values = np.asarray(values, dtype=float)
    B, T = values.shape
    rewards = np.zeros((B, T))
    rewards[:, -1] = final_reward
    next_values = np.concatenate([values[:, 1:], np.zeros((B, 1))], axis=1)
    delta = rewards + gamma * next_values - values
    adv, ret = np.zeros((B, T)), np.zeros((B, T))
    running_adv, running_ret = np.zeros(B), np.zeros(B)
    for t in range(T - 1, -1, -1):
        running_adv = delta[:, t] + gamma * lam * running_adv
        running_ret = rewards[:, t] + gamma * running_ret
        adv[:, t], ret[:, t] = running_adv, running_ret
    return adv, ret


def sample_categorical(probs, rng: np.random.Generator) -> np.ndarray:
    """One index per row of probs (B, K), drawn with `rng` (inverse CDF)."""
    cdf = np.cumsum(np.asarray(probs, dtype=np.float64), axis=1)
    u = rng.random(len(cdf))[:, None] * cdf[:, -1:]
    return np.minimum((cdf <= u).sum(axis=1), cdf.shape[1] - 1).astype(np.int64)


class RLAgent(Algorithm):
    """Base of the RL agents (subclasses build networks, act and learn).

    Args:
        pop_size: episodes per iteration (FlowQ's `--pop`), so budgets compare with the GA in evaluations.
        reward: key of `flowq.agents.rewards.REWARDS` (default per agent, from its paper).
        reward_kwargs: the reward's parameters (e.g. {"th": 0.8}); defaults are the papers'.
        cost: hardware metric of the reward's cost (default: the problem's first hardware objective).
        wall: HAQ's resource wall budget (cost relative to W8A8); default 0.8 for reward "haq", else off;
            False turns it off.
        dynamic: add ReLeQ's dynamic state features (default per agent).
        reference_bits: bitwidth of the "W8A8" reference network of cost ratios.
        state: static state of the MDP, "haq" (HAQ's layer embedding) or "benq" (benq Table II); default per
            agent (DDPG: "haq", the others "benq"). See `flowq.agents.env`.
        seeds: genomes (k, n_var) the first k episodes replay instead of sampling (e.g. the previous level's front
            when refining): their actions are the seeds' alleles, they are evaluated as given (no resource wall)
            and the agent learns from them like from its own episodes.
        **kwargs: pymoo `Algorithm` options (termination, seed, callback, ...).
    """

    default_reward = "benq"
    default_dynamic = False
    default_state = "benq"

    def __init__(self, pop_size: int = 8, *, reward: str | None = None, reward_kwargs: dict | None = None,
                 cost: str | None = None, wall=None, dynamic: bool | None = None, reference_bits: int = 8,
                 state: str | None = None, seeds=None, **kwargs):
        super().__init__(**kwargs)
        if isinstance(pop_size, bool) or not isinstance(pop_size, (int, np.integer)) or pop_size < 1:
            raise GenomeError(f"pop_size={pop_size!r}: an agent needs at least one episode per iteration")
        self.pop_size = int(pop_size)
        self.reward = reward or self.default_reward
        reward_function(self.reward)  # fail early on an unknown name
        self.reward_kwargs = dict(reward_kwargs or {})
        self.cost = cost
        if wall is None:
            wall = 0.8 if self.reward == "haq" else False
        self.wall_budget = None if wall is False else float(wall)
        self.dynamic = self.default_dynamic if dynamic is None else bool(dynamic)
        self.reference_bits = int(reference_bits)
        self.state = state or self.default_state
        self.seeds = None if seeds is None else np.atleast_2d(np.asarray(seeds, dtype=np.int64))
        self.n_seeded = 0  # seeds replayed so far
        self.mdp = self.reward_model = self.wall = None
        self.curve: list = []  # per iteration: {"n_eval", "mean", "best", "best_so_far"} of the rewards
        self.n_episodes = 0
        self.accuracy_state = 1.0
        self._pending = None

    # ---- pymoo hooks -------------------------------------------------------------------------------------
    def _setup(self, problem, **kwargs):
        if not hasattr(problem, "genome") or not hasattr(problem, "records"):
            raise GenomeError(f"{type(self).__name__} searches a FlowQ QuantProblem (problems.*), got "
                              f"{type(problem).__name__}")
        self.mdp = QuantMDP(problem, dynamic=self.dynamic, state=self.state)
        if self.seeds is not None and len(self.seeds):
            xl, xu = problem.bounds()
            if self.seeds.shape[1] != problem.n_var or np.any(self.seeds < xl) or np.any(self.seeds > xu):
                raise GenomeError(f"seeds of shape {self.seeds.shape} do not fit the problem's genome "
                                  f"({problem.n_var} loci, alleles {np.min(xl)}..{np.max(xu)})")
        self.reward_model = RewardModel(problem, self.reward, self.reward_kwargs, cost=self.cost,
                                        reference_bits=self.reference_bits)
        if self.wall_budget is not None:
            self.wall = ResourceWall(problem, self.reward_model.cost, self.wall_budget, self.reference_bits)
        with one_thread():
            self._build(self.mdp.n_features + self.n_conditions, self.mdp.n_actions)

    def _initialize_infill(self):
        return self._infill()

    def _initialize_advance(self, infills=None, **kwargs):
        self._advance(infills=infills, **kwargs)

    def _infill(self):
        with one_thread():
            return self._rollout()

    def _rollout(self):
        B, T, mdp = self.pop_size, self.mdp.n_steps, self.mdp
        A = np.zeros((B, T), dtype=np.int64)
        C = self._conditions(B)
        S = np.zeros((B, T, mdp.n_features + C.shape[1]), dtype=np.float32)
        raw = np.zeros((B, T), dtype=np.float64)
        forced = self._next_seeds(B)
        memory, extras = None, []
        for t in range(T):
            S[:, t, :mdp.n_features] = mdp.observe(t, A[:, :t], self.accuracy_state)
            S[:, t, mdp.n_features:] = C
            with torch.no_grad():
                alleles, actions, memory, extra = self._act(S[:, t], t, memory, forced=forced[:, t])
            A[:, t], raw[:, t] = alleles, actions
            extras.append(extra)
        X = A.copy()
        free = forced[:, 0] < 0
        if self.wall is not None and free.any():
            X[free] = self.wall(A[free])
        self._pending = {"S": S, "A": A, "raw": raw, "extra": extras, "C": C}
        self.n_episodes += B
        return Population.new("X", X)

    def _next_seeds(self, B: int) -> np.ndarray:
        """Alleles (B, T) the episodes of this batch must take: the next seeds in the first rows, -1 elsewhere."""
        forced = np.full((B, self.mdp.n_steps), -1, dtype=np.int64)
        if self.seeds is not None and self.n_seeded < len(self.seeds):
            rows = self.seeds[self.n_seeded:self.n_seeded + B]
            forced[:len(rows)] = rows
            self.n_seeded += len(rows)
        return forced

    def _advance(self, infills=None, **kwargs):
        rewards = self._rewards(infills, self._pending)
        with one_thread():
            self._learn(self._pending, rewards)
        self._pending = None
        outcomes = self.reward_model.outcomes(infills)
        relative = [o.accuracy / o.float_accuracy for o in outcomes
                    if o.float_accuracy > 0 and np.isfinite(o.accuracy)]
        if relative:
            self.accuracy_state = float(np.mean(relative))
        best_so_far = max([float(rewards.max())] + [c["best_so_far"] for c in self.curve[-1:]])
        self.curve.append({"n_eval": int(self.evaluator.n_eval), "mean": float(rewards.mean()),
                           "best": float(rewards.max()), "best_so_far": best_so_far})
        self.pop = infills

    def _set_optimum(self):
        self.opt = archive_optimum(self.opt, self.pop)

    # ---- subclass hooks ------------------------------------------------------------------------------------
    n_conditions = 0  # features appended to every state of an episode (e.g. a scalarisation weight)

    def _conditions(self, B: int) -> np.ndarray:
        """Per-episode features (B, n_conditions) appended to each state of the batch (drawn from random_state)."""
        return np.zeros((B, self.n_conditions), dtype=np.float32)

    def _rewards(self, infills, batch: dict) -> np.ndarray:
        """Rewards (B,) of the evaluated episodes (default: the named reward, `self.reward_model`)."""
        return self.reward_model(infills)

    def _build(self, n_features: int, n_actions: int) -> None:
        """Create networks and optimisers (initialised from `self.random_state`)."""
        raise NotImplementedError

    def _act(self, S, t: int, memory, greedy: bool = False, forced=None):
        """Actions for the states S (B, d) of step t -> (alleles (B,), raw actions (B,), memory, extra); `greedy`
        picks the most likely (or deterministic) action without exploration; `forced` (B,) alleles >= 0 replace
        the policy's choice in their rows (seed replay), -1 leaves it."""
        raise NotImplementedError

    def _learn(self, batch: dict, rewards: np.ndarray) -> None:
        """Update from a batch of episodes: S (B, T, d), A (B, T), raw (B, T), extra, and rewards (B,)."""
        raise NotImplementedError

    # ---- inspection ---------------------------------------------------------------------------------------
    def greedy_policy(self, condition=None) -> np.ndarray:
        """The genome the current policy picks without exploration (most likely / deterministic action per step),
        shape (n_var,), before any resource wall; `condition` (n_conditions,) for a conditioned agent (e.g. the
        scalarisation weight). Draws no random number."""
        A = np.zeros((1, self.mdp.n_steps), dtype=np.int64)
        C = np.zeros((1, self.n_conditions), np.float32) if condition is None else \
            np.asarray(condition, dtype=np.float32).reshape(1, self.n_conditions)
        memory = None
        for t in range(self.mdp.n_steps):
            S = np.concatenate([self.mdp.observe(t, A[:, :t], self.accuracy_state), C], axis=1)
            with torch.no_grad(), one_thread():
                alleles, _, memory, _ = self._act(S, t, memory, greedy=True)
            A[:, t] = alleles
        return A[0]
