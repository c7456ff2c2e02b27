"""A weight-conditioned PPO agent: one policy for a whole Pareto front instead of one point.

The RL agents of the papers (HAQ, BenQ, ReLeQ) scalarise the objectives once, so a trained agent proposes one
point. Here the scalarisation weight w (one entry per objective, w >= 0, sum 1) is drawn per episode from a flat
Dirichlet and appended to every state of that episode, and the episode's reward is the augmented Tchebycheff
scalarisation of its normalised objectives under w (conditioned / "preference-conditioned" multi-objective RL):

    r = -(max_j w_j F_j + rho * sum_j w_j F_j),   F the problem's normalised minimised objectives

(rho = 0.05; Tchebycheff reaches non-convex parts of a front, which a weighted sum cannot). A constraint violation
or a failed evaluation gets r = -2 - CV. `greedy_policy(w)` is the genome the trained policy picks for weight w, so
sweeping w reads a front off one policy.
"""

from __future__ import annotations

import numpy as np

from flowq.agents.ppo import PPO

FAILED_CAP = 2.0  # objective values above this (a failed evaluation's 1e6) are capped before scalarising


class MOPPO(PPO):
    """PPO whose state carries the episode's objective weights and whose reward is their Tchebycheff value.

    Args:
        rho: weight of the augmenting weighted sum.
        alpha: Dirichlet concentration of the weight draws (1 = uniform on the simplex).
        **kwargs: `PPO` / `RLAgent` options (hidden, pi_lr, seeds, ...); `reward` is not used for learning.
    """

    def __init__(self, pop_size: int = 8, *, rho: float = 0.05, alpha: float = 1.0, **kwargs):
        super().__init__(pop_size, **kwargs)
        self.rho, self.alpha = float(rho), float(alpha)

    @property
    def n_conditions(self) -> int:
        return len(self.problem.objectives) if self.problem is not None else 0

    def _conditions(self, B: int) -> np.ndarray:
        return self.random_state.dirichlet(np.full(self.n_conditions, self.alpha), size=B).astype(np.float32)

    def scalarise(self, F, W) -> np.ndarray:
        """Augmented Tchebycheff value (higher is better) of objectives F (B, m) under weights W (B, m)."""
        F = np.minimum(np.asarray(F, dtype=float), FAILED_CAP)
        W = np.asarray(W, dtype=float)
        return -((W * F).max(axis=1) + self.rho * (W * F).sum(axis=1))

    def _rewards(self, infills, batch: dict) -> np.ndarray:
        F = np.asarray(infills.get("F"), dtype=float)
        CV = np.asarray(infills.get("CV"), dtype=float).reshape(len(F), -1)[:, 0]
        rewards = self.scalarise(F, batch["C"])
        bad = (CV > 0) | (F.max(axis=1) > FAILED_CAP)
        return np.where(bad, -2.0 - np.maximum(CV, 0.0), rewards)
