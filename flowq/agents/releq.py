"""ReLeQ: PPO with LSTM policy and value networks, dynamic state features and the asymmetric reward (releq 2.4-2.7)."""

from __future__ import annotations

import numpy as np
import torch

from flowq.agents.nets import LSTMHead, init_from
from flowq.agents.ppo import PPO


class ReLeQ(PPO):
    """ReLeQ's agent (releq 2.7, 4.7 Table 3).

    An LSTM over the layer sequence is the first hidden layer of both networks; the policy adds two fully connected
    layers of 128 and an output per bitwidth, the value two of 128 and 64 and one output. PPO with Adam lr 1e-4,
    GAE parameter 0.99, 3 epochs per batch, clip 0.1 (Table 3), gamma 1, value coefficient c1 = 1 and entropy
    coefficient c2 = 0.01 (ReLeQ's code); the state carries the dynamic features (State of Quantization / Relative
    Accuracy, weight std) and the default reward is ReLeQ's shaping.

    Args:
        lstm_hidden: LSTM width.
        lr: Adam step size of the joint policy + value loss.
        epochs: gradient steps per batch.
        c1, c2: value-loss and entropy coefficients.
        **kwargs: `PPO` / `RLAgent` options.
    """

    default_reward = "releq"
    default_dynamic = True

    def __init__(self, pop_size: int = 8, *, lstm_hidden: int = 128, lr: float = 1e-4, epochs: int = 3,
                 clip_ratio: float = 0.1, gamma: float = 1.0, lam: float = 0.99, c1: float = 1.0, c2: float = 0.01,
                 **kwargs):
        super().__init__(pop_size, clip_ratio=clip_ratio, gamma=gamma, lam=lam, train_pi_iters=epochs,
                         target_kl=float("inf"), **kwargs)
        self.lstm_hidden, self.lr, self.epochs, self.c1, self.c2 = int(lstm_hidden), float(lr), int(epochs), c1, c2
        self.optimizer = None

    def _build(self, n_features: int, n_actions: int) -> None:
        rng = self.random_state
        self.actor = init_from(LSTMHead(n_features, self.lstm_hidden, (128, 128, n_actions)), rng)
        self.critic = init_from(LSTMHead(n_features, self.lstm_hidden, (128, 64, 1)), rng)
        params = list(self.actor.parameters()) + list(self.critic.parameters())
        self.optimizer = torch.optim.Adam(params, lr=self.lr, eps=1e-5)

    def _step_logits(self, S, memory):
        out, memory = self.actor(S.unsqueeze(1), memory)
        return out[:, 0], memory

    def _sequence_logits(self, S):
        return self.actor(S)[0]

    def _values(self, S):
        return self.critic(S)[0].squeeze(-1)

    def _learn(self, batch, rewards):
        S = torch.from_numpy(batch["S"])
        A = torch.from_numpy(batch["A"])
        logp_old = torch.as_tensor(np.stack(batch["extra"], axis=1), dtype=torch.float32)
        adv, ret = self._advantages(S, rewards)
        for _ in range(self.epochs):
            self.optimizer.zero_grad()
            pi_loss, _, logp_all = self._clipped_loss(S, A, logp_old, adv)
            entropy = -(logp_all.exp() * logp_all).sum(-1).mean()
            v_loss = ((self._values(S) - ret) ** 2).mean()
            (pi_loss + self.c1 * v_loss - self.c2 * entropy).backward()
            self.optimizer.step()
