"""Small torch networks of the agents (MLPs, ReLeQ's LSTM heads), initialised from a numpy Generator.

Initial weights come from the agent's numpy `random_state` (PyTorch's default ranges: U(-1/sqrt(fan_in),
1/sqrt(fan_in)) for Linear, U(-1/sqrt(hidden), 1/sqrt(hidden)) for LSTM), so no global torch RNG is touched and a
seed fixes the whole run.
"""

from __future__ import annotations

import contextlib
import math

import numpy as np
import torch
from torch import nn


@contextlib.contextmanager
def one_thread():
    """Run the agents' tiny networks on one torch thread (restored afterwards): with the default of one thread per
    core they spent 0.4 s per backward pass of a 64 x 64 MLP on a loaded 2-core machine (oversubscription), and one
    thread also makes their floating-point results independent of the core count."""
    old = torch.get_num_threads()
    if old != 1:
        torch.set_num_threads(1)
    try:
        yield
    finally:
        if old != 1:
            torch.set_num_threads(old)


def init_from(module: nn.Module, rng: np.random.Generator) -> nn.Module:
    """Re-draw every parameter of `module` uniformly from PyTorch's default range, using `rng`."""
    with torch.no_grad():
        for sub in module.modules():
            if isinstance(sub, nn.Linear):
                bound = 1.0 / math.sqrt(sub.in_features)
                params = [sub.weight] + ([sub.bias] if sub.bias is not None else [])
            elif isinstance(sub, (nn.LSTM, nn.LSTMCell)):
                bound = 1.0 / math.sqrt(sub.hidden_size)
                params = list(sub.parameters(recurse=False))
            else:
                continue
            for p in params:
                values = rng.uniform(-bound, bound, size=tuple(p.shape)).astype(np.float32)
                p.copy_(torch.from_numpy(values))
    return module


def mlp(sizes, activation=nn.Tanh, output=None) -> nn.Sequential:
    """Linear layers of `sizes` (in, hidden..., out) with `activation` between them and an optional output one."""
    layers = []
    for j in range(len(sizes) - 1):
        layers.append(nn.Linear(sizes[j], sizes[j + 1]))
        if j < len(sizes) - 2:
            layers.append(activation())
        elif output is not None:
            layers.append(output())
    return nn.Sequential(*layers)


class LSTMHead(nn.Module):
    """ReLeQ 2.7: an LSTM over the layer sequence as first hidden layer, then fully connected layers.

    Args:
        n_in: state features.
        hidden: LSTM width.
        sizes: widths of the fully connected layers after the LSTM, last = output size.
    """

    def __init__(self, n_in: int, hidden: int, sizes):
        super().__init__()
        self.lstm = nn.LSTM(n_in, hidden, batch_first=True)
        self.head = mlp([hidden] + list(sizes), activation=nn.ReLU)

    def forward(self, S, memory=None):
        """S (B, T, d) -> (outputs (B, T, out), memory)."""
        out, memory = self.lstm(S, memory)
        return self.head(out), memory


def soft_update(target: nn.Module, source: nn.Module, tau: float) -> None:
    """target <- (1 - tau) target + tau source."""
    with torch.no_grad():
        for t, s in zip(target.parameters(), source.parameters()):
            t.mul_(1.0 - tau).add_(s, alpha=tau)
