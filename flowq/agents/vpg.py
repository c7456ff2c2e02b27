"""VPG: Spinning Up's vanilla policy gradient with a learned value baseline and GAE, as in BenQ (benq III-A4)."""

from __future__ import annotations

import numpy as np
import torch
from torch.nn import functional as F

from flowq.agents.base import RLAgent, gae, sample_categorical
from flowq.agents.nets import init_from, mlp


class VPG(RLAgent):
    """Vanilla policy gradient over discrete bitwidth actions (benq Table III).

    Actor MLP {512, 512, n_alleles}, critic MLP {512, 512, 1}, Adam (0.9, 0.999) with learning rates 3e-4 / 1e-3
    (benq III-A4); the rest are Spinning Up's defaults: gamma 0.99, GAE lambda 0.97, 80 value iterations per
    batch, one policy-gradient step per batch on normalised advantages.

    Args:
        pop_size: episodes per iteration.
        hidden: hidden widths of actor and critic.
        pi_lr, vf_lr: actor / critic learning rates.
        gamma, lam: discount and GAE parameter.
        train_v_iters: critic gradient steps per batch.
        **kwargs: `RLAgent` options (reward, reward_kwargs, cost, wall, dynamic, seed, ...).
    """

    def __init__(self, pop_size: int = 8, *, hidden=(512, 512), pi_lr: float = 3e-4, vf_lr: float = 1e-3,
                 gamma: float = 0.99, lam: float = 0.97, train_v_iters: int = 80, **kwargs):
        super().__init__(pop_size, **kwargs)
        self.hidden, self.pi_lr, self.vf_lr = tuple(hidden), float(pi_lr), float(vf_lr)
        self.gamma, self.lam, self.train_v_iters = float(gamma), float(lam), int(train_v_iters)
        self.actor = self.critic = self.pi_opt = self.vf_opt = None

    # ---- networks -----------------------------------------------------------------------------------------
    def _build(self, n_features: int, n_actions: int) -> None:
        rng = self.random_state
        self.actor = init_from(mlp([n_features, *self.hidden, n_actions]), rng)
        self.critic = init_from(mlp([n_features, *self.hidden, 1]), rng)
        self.pi_opt = torch.optim.Adam(self.actor.parameters(), lr=self.pi_lr, betas=(0.9, 0.999))
        self.vf_opt = torch.optim.Adam(self.critic.parameters(), lr=self.vf_lr, betas=(0.9, 0.999))

    def _step_logits(self, S, memory):
        """Logits (B, K) of states S (B, d) at one step (and the recurrent memory, None for an MLP)."""
        return self.actor(S), None

    def _sequence_logits(self, S):
        """Logits (B, T, K) of whole episodes S (B, T, d)."""
        return self.actor(S)

    def _values(self, S):
        """V(s) (B, T) of whole episodes S (B, T, d)."""
        return self.critic(S).squeeze(-1)

    # ---- acting / learning ---------------------------------------------------------------------------------
    def _act(self, S, t, memory, greedy=False, forced=None):
        logits, memory = self._step_logits(torch.from_numpy(np.ascontiguousarray(S)), memory)
        probs = torch.softmax(logits.double(), dim=-1).numpy()
        alleles = probs.argmax(axis=1) if greedy else sample_categorical(probs, self.random_state)
        if forced is not None:
            alleles = np.where(forced >= 0, forced, alleles)
        logp = np.log(np.maximum(probs[np.arange(len(alleles)), alleles], 1e-300))
        return alleles, alleles.astype(float), memory, logp

    def _log_prob(self, S, A):
        logits = self._sequence_logits(S)
        logp_all = F.log_softmax(logits, dim=-1)
        return logp_all.gather(-1, A.unsqueeze(-1)).squeeze(-1), logp_all

    def _advantages(self, S, rewards):
        with torch.no_grad():
            values = self._values(S).double().numpy()
        adv, ret = gae(rewards, values, self.gamma, self.lam)
        adv = (adv - adv.mean()) / (adv.std() + 1e-8)
        return torch.as_tensor(adv, dtype=torch.float32), torch.as_tensor(ret, dtype=torch.float32)

    def _learn(self, batch, rewards):
        S = torch.from_numpy(batch["S"])
        A = torch.from_numpy(batch["A"])
        logp_old = torch.as_tensor(np.stack(batch["extra"], axis=1), dtype=torch.float32)
        adv, ret = self._advantages(S, rewards)
        self._policy_update(S, A, logp_old, adv)
        for _ in range(self.train_v_iters):
            self.vf_opt.zero_grad()
            loss = ((self._values(S) - ret) ** 2).mean()
            loss.backward()
            self.vf_opt.step()

    def _policy_update(self, S, A, logp_old, adv) -> None:
        """One gradient step on -E[log pi(a|s) * A] (Spinning Up VPG)."""
        self.pi_opt.zero_grad()
        logp, _ = self._log_prob(S, A)
        loss = -(logp * adv).mean()
        loss.backward()
        self.pi_opt.step()
