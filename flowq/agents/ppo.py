"""PPO: Spinning Up's clipped proximal policy optimisation over discrete bitwidths, as in BenQ (benq III-A4)."""

from __future__ import annotations

import torch

from flowq.agents.vpg import VPG


class PPO(VPG):
    """PPO-clip (benq Table III): VPG's networks and value fitting with the clipped surrogate objective.

    Actor {512, 512, n_alleles} / critic {512, 512, 1}, learning rates 3e-4 / 1e-3 (benq III-A4); Spinning Up's
    defaults for the rest: clip ratio 0.2, up to 80 policy steps per batch stopped early once the approximate KL
    exceeds 1.5 * target_kl (0.01), gamma 0.99, GAE lambda 0.97, 80 value steps.

    Args:
        clip_ratio: epsilon of the clipped objective.
        train_pi_iters: maximum policy steps per batch.
        target_kl: early-stopping KL target.
        **kwargs: `VPG` options.
    """

    def __init__(self, pop_size: int = 8, *, clip_ratio: float = 0.2, train_pi_iters: int = 80,
                 target_kl: float = 0.01, **kwargs):
        super().__init__(pop_size, **kwargs)
        self.clip_ratio, self.train_pi_iters, self.target_kl = float(clip_ratio), int(train_pi_iters), float(target_kl)

    def _clipped_loss(self, S, A, logp_old, adv):
        logp, logp_all = self._log_prob(S, A)
        ratio = torch.exp(logp - logp_old)
        clipped = torch.clamp(ratio, 1.0 - self.clip_ratio, 1.0 + self.clip_ratio) * adv
        loss = -(torch.min(ratio * adv, clipped)).mean()
        approx_kl = float((logp_old - logp).mean().detach())
        return loss, approx_kl, logp_all

    def _policy_update(self, S, A, logp_old, adv) -> None:
        for _ in range(self.train_pi_iters):
            self.pi_opt.zero_grad()
            loss, approx_kl, _ = self._clipped_loss(S, A, logp_old, adv)
            if approx_kl > 1.5 * self.target_kl:
                break
            loss.backward()
            self.pi_opt.step()
