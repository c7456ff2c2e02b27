"""SGD training and evaluation loops over tensors already on the device (shared by float training and fine-tuning)."""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass

import torch
import torch.nn.functional as F
from torch import nn

from flowq.data.augment import iterate_batches


@dataclass(frozen=True)
class TrainConfig:
    """Base-model SGD hyperparameters (He et al. CIFAR recipe with a cosine schedule).

    Attributes:
        epochs: passes over the training split for float training / training from scratch.
        batch_size: images per step.
        lr: peak learning rate; momentum, weight_decay: SGD's.
        finetune_lr_scale: fine-tuning starts at lr * this (the tail of the base schedule) and decays by cosine.
    """

    epochs: int = 15
    batch_size: int = 128
    lr: float = 0.1
    momentum: float = 0.9
    weight_decay: float = 5e-4
    finetune_lr_scale: float = 0.1

    def as_dict(self) -> dict:
        return asdict(self)


class Diverged(RuntimeError):
    """Training produced a non-finite loss (PACT at <= 4 bits can, hw-flowq 6.4)."""


def sgd(model: nn.Module, config: TrainConfig, lr: float) -> torch.optim.SGD:
    """SGD with momentum; weight decay on weights and PACT alphas (PACT's L2 on alpha), not on BN / biases."""
    decay, no_decay = [], []
    for p in model.parameters():
        (no_decay if p.dim() == 1 else decay).append(p)
    return torch.optim.SGD([{"params": decay, "weight_decay": config.weight_decay},
                            {"params": no_decay, "weight_decay": 0.0}], lr=lr, momentum=config.momentum)


def train(model: nn.Module, x: torch.Tensor, y: torch.Tensor, *, steps: int, lr: float, config: TrainConfig,
          generator: torch.Generator, padding: int = 0, flip: bool = False, on_step=None) -> float:
    """Train `model` for `steps` SGD steps with a cosine-decayed learning rate; returns the last loss.

    Args:
        x, y: the training split on the model's device.
        steps: optimiser steps (an epoch is ceil(len(x) / batch_size)).
        lr: starting learning rate.
        generator: CPU generator for shuffling and augmentation (the run is deterministic given it on CPU).
        on_step: called as `on_step(step)` after each optimiser step (1-based), e.g. for progress lines.

    Raises:
        Diverged: the loss became NaN or inf.
    """
    optimizer = sgd(model, config, lr)
    schedule = torch.optim.lr_scheduler.LambdaLR(optimizer, lambda s: 0.5 * (1 + math.cos(math.pi * s / steps)))
    model.train()
    step, loss_value = 0, float("nan")
    while step < steps:
        for xb, yb in iterate_batches(x, y, config.batch_size, generator, padding=padding, flip=flip):
            loss = F.cross_entropy(model(xb), yb)
            loss_value = float(loss.detach())
            if not math.isfinite(loss_value):
                raise Diverged(f"training loss became {loss_value} at step {step + 1} of {steps}")
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            schedule.step()
            step += 1
            if on_step is not None:
                on_step(step)
            if step >= steps:
                break
    return loss_value


@torch.no_grad()
def evaluate(model: nn.Module, x: torch.Tensor, y: torch.Tensor, batch_size: int = 512) -> tuple[float, float]:
    """(accuracy in [0, 1], mean cross-entropy) of `model` in eval mode on (x, y); loss is inf if not finite."""
    model.eval()
    correct, total_loss = 0, 0.0
    for start in range(0, x.shape[0], batch_size):
        logits = model(x[start:start + batch_size])
        yb = y[start:start + batch_size]
        total_loss += float(F.cross_entropy(logits, yb, reduction="sum"))
        correct += int((logits.argmax(1) == yb).sum())
    n = x.shape[0]
    loss = total_loss / n
    return correct / n, (loss if math.isfinite(loss) else float("inf"))


def steps_per_epoch(n_images: int, batch_size: int) -> int:
    """Optimiser steps in one pass over `n_images`."""
    return max(1, math.ceil(n_images / batch_size))
