"""DDPG as in HAQ (mit-han-lab/haq `lib/rl/ddpg.py`, `rl_quantize.py`): continuous action mapped to a bitwidth."""

from __future__ import annotations

import copy

import numpy as np
import torch
from scipy.stats import truncnorm
from torch import nn

from flowq.agents.base import RLAgent
from flowq.agents.env import continuous_to_allele
from flowq.agents.nets import init_from, mlp, soft_update


class ReplayBuffer:
    """Fixed-capacity ring buffer of transitions (s, a, r, s', done) in numpy arrays (pickles with the agent).

    Args:
        capacity: transitions kept (oldest overwritten).
        n_features: state size.
    """

    def __init__(self, capacity: int, n_features: int):
        self.capacity = int(capacity)
        self.s = np.zeros((self.capacity, n_features), dtype=np.float32)
        self.s2 = np.zeros((self.capacity, n_features), dtype=np.float32)
        self.a = np.zeros(self.capacity, dtype=np.float32)
        self.r = np.zeros(self.capacity, dtype=np.float64)
        self.done = np.zeros(self.capacity, dtype=np.float32)
        self.ptr = self.size = 0

    def add(self, s, a, r, s2, done) -> None:
        """Append a batch of transitions (n, ...)."""
        for row in zip(s, a, r, s2, done):
            self.s[self.ptr], self.a[self.ptr], self.r[self.ptr], self.s2[self.ptr], self.done[self.ptr] = row
            self.ptr = (self.ptr + 1) % self.capacity
            self.size = min(self.size + 1, self.capacity)

    def sample(self, n: int, rng: np.random.Generator):
        """`n` transitions drawn with `rng` (without replacement when the buffer holds enough)."""
        index = rng.choice(self.size, size=n, replace=self.size < n)
        return self.s[index], self.a[index], self.r[index].copy(), self.s2[index], self.done[index]


class DDPG(RLAgent):
    """HAQ's DDPG agent (benq Table III: off-policy, continuous action).

    The actor outputs a in [0, 1] (sigmoid), mapped to an allele by HAQ's rounding (`continuous_to_allele`).
    Exploration: `warmup` episodes of uniform random actions, then truncated-normal noise on [0, 1] around the
    actor's action with sigma = 0.5 * 0.99^(episode - warmup). Every transition of an episode gets the episode's
    final reward, minus a moving-average baseline (alpha 0.5) of the sampled batch's mean; after the warm-up, each
    new transition triggers one update (batch 64): critic to r + discount * (1 - done) * Q'(s', mu'(s')), actor
    up Q(s, mu(s)), soft target updates with tau. Defaults are HAQ's: actor/critic 2 x 300 hidden units, lr 1e-4 /
    1e-3, tau 0.01, discount 1.0, replay of 128 episodes, 20 warm-up episodes; reward "haq" with the resource wall;
    HAQ's layer embedding as state (`state="benq"` for benq Table II).

    Args:
        pop_size: episodes per iteration.
        hidden: hidden widths of actor and critic.
        actor_lr, critic_lr: Adam learning rates.
        tau: soft target-update rate.
        discount: gamma.
        batch_size: transitions per update.
        replay_episodes: replay capacity in episodes (times the steps per episode).
        warmup: episodes of uniform random actions before learning starts.
        init_delta, delta_decay: exploration sigma and its per-episode decay.
        moving_alpha: rate of the moving-average reward baseline.
        **kwargs: `RLAgent` options.
    """

    default_reward = "haq"
    default_state = "haq"

    def __init__(self, pop_size: int = 8, *, hidden=(300, 300), actor_lr: float = 1e-4, critic_lr: float = 1e-3,
                 tau: float = 0.01, discount: float = 1.0, batch_size: int = 64, replay_episodes: int = 128,
                 warmup: int = 20, init_delta: float = 0.5, delta_decay: float = 0.99, moving_alpha: float = 0.5,
                 **kwargs):
        super().__init__(pop_size, **kwargs)
        self.hidden, self.actor_lr, self.critic_lr = tuple(hidden), float(actor_lr), float(critic_lr)
        self.tau, self.discount, self.batch_size = float(tau), float(discount), int(batch_size)
        self.replay_episodes, self.warmup = int(replay_episodes), int(warmup)
        self.init_delta, self.delta_decay, self.moving_alpha = float(init_delta), float(delta_decay), moving_alpha
        self.moving_average = None
        self.actor = self.critic = self.actor_target = self.critic_target = self.replay = None

    def _build(self, n_features: int, n_actions: int) -> None:
        rng = self.random_state
        self.actor = init_from(mlp([n_features, *self.hidden, 1], activation=nn.ReLU, output=nn.Sigmoid), rng)
        self.critic = init_from(mlp([n_features + 1, *self.hidden, 1], activation=nn.ReLU), rng)
        self.actor_target, self.critic_target = copy.deepcopy(self.actor), copy.deepcopy(self.critic)
        self.actor_opt = torch.optim.Adam(self.actor.parameters(), lr=self.actor_lr)
        self.critic_opt = torch.optim.Adam(self.critic.parameters(), lr=self.critic_lr)
        self.replay = ReplayBuffer(self.replay_episodes * self.mdp.n_steps, n_features)

    def sigma(self, episode: int) -> float:
        """Exploration sigma of episode `episode` (0-based)."""
        return self.init_delta * self.delta_decay ** max(episode - self.warmup, 0)

    def _act(self, S, t, memory, greedy=False, forced=None):
        mu = self.actor(torch.from_numpy(np.ascontiguousarray(S))).squeeze(-1).double().numpy()
        if greedy:
            a = mu
        else:
            episodes = self.n_episodes + np.arange(len(S))
            sigma = np.asarray([self.sigma(e) for e in episodes])
            lo, hi = (0.0 - mu) / sigma, (1.0 - mu) / sigma
            noisy = truncnorm.rvs(lo, hi, loc=mu, scale=sigma, size=len(S), random_state=self.random_state)
            uniform = self.random_state.random(len(S))
            a = np.where(episodes < self.warmup, uniform, noisy)
        a = np.clip(a, 0.0, 1.0)
        if forced is not None:  # a seed's allele as the centre of its action bin
            a = np.where(forced >= 0, (forced + 0.5) / self.mdp.n_actions, a)
        return continuous_to_allele(a, self.mdp.n_actions), a, memory, None

    def _learn(self, batch, rewards):
        S, raw = batch["S"], batch["raw"]
        B, T = raw.shape
        S2 = np.concatenate([S[:, 1:], S[:, -1:]], axis=1)
        done = np.zeros(T, dtype=np.float32)
        done[-1] = 1.0
        first = self.n_episodes - B
        for b in range(B):
            self.replay.add(S[b], raw[b], np.full(T, rewards[b]), S2[b], done)
            if first + b >= self.warmup:
                for _ in range(T):
                    self._update()

    def _update(self) -> None:
        s, a, r, s2, done = self.replay.sample(self.batch_size, self.random_state)
        mean = float(r.mean())
        self.moving_average = mean if self.moving_average is None else \
            self.moving_average + self.moving_alpha * (mean - self.moving_average)
        s, s2 = torch.from_numpy(s), torch.from_numpy(s2)
        a = torch.from_numpy(a).unsqueeze(-1)
        r = torch.as_tensor(r - self.moving_average, dtype=torch.float32).unsqueeze(-1)
        done = torch.from_numpy(done).unsqueeze(-1)
        with torch.no_grad():
            q_next = self.critic_target(torch.cat([s2, self.actor_target(s2)], dim=-1))
            target = r + self.discount * (1.0 - done) * q_next
        self.critic_opt.zero_grad()
        critic_loss = ((self.critic(torch.cat([s, a], dim=-1)) - target) ** 2).mean()
        critic_loss.backward()
        self.critic_opt.step()
        self.actor_opt.zero_grad()
        actor_loss = -self.critic(torch.cat([s, self.actor(s)], dim=-1)).mean()
        actor_loss.backward()
        self.actor_opt.step()
        soft_update(self.actor_target, self.actor, self.tau)
        soft_update(self.critic_target, self.critic, self.tau)
