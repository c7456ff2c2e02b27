"""Batched, on-device data augmentation and mini-batch iteration over tensors (no per-image Python pipeline)."""

from __future__ import annotations

from typing import Iterator

import torch
import torch.nn.functional as F


def random_crop(x: torch.Tensor, padding: int, generator: torch.Generator) -> torch.Tensor:
    """Zero-pad a batch by `padding` pixels and crop each image back at its own random offset.

    Args:
        x: images (N, C, H, W) on any device.
        padding: pixels per side (0 returns x unchanged).
        generator: CPU torch.Generator that draws the offsets (deterministic given its seed).
    """
    if padding <= 0:
        return x
    n, c, h, w = x.shape
    padded = F.pad(x, (padding, padding, padding, padding))
    offsets = torch.randint(0, 2 * padding + 1, (2, n), generator=generator).to(x.device)
    rows = (offsets[0][:, None] + torch.arange(h, device=x.device))[:, None, :, None]  # (N, 1, H, 1)
    cols = (offsets[1][:, None] + torch.arange(w, device=x.device))[:, None, None, :]  # (N, 1, 1, W)
    batch = torch.arange(n, device=x.device)[:, None, None, None]
    channel = torch.arange(c, device=x.device)[None, :, None, None]
    return padded[batch, channel, rows, cols]


def random_flip(x: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
    """Mirror each image of (N, C, H, W) horizontally with probability 1/2."""
    flip = (torch.rand(x.shape[0], generator=generator) < 0.5).to(x.device)
    return torch.where(flip[:, None, None, None], x.flip(3), x)


def iterate_batches(x: torch.Tensor, y: torch.Tensor, batch_size: int, generator: torch.Generator, *,
                    shuffle: bool = True, padding: int = 0, flip: bool = False,
                    drop_last: bool = False) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
    """One pass over (x, y) in mini-batches, shuffled and augmented on x's device.

    Args:
        x: images (N, C, H, W); y: labels (N,).
        batch_size: images per batch.
        generator: CPU generator for the permutation and the augmentation.
        shuffle: draw a random permutation first.
        padding: random-crop padding (pixels); flip: random horizontal mirroring.
        drop_last: skip a final incomplete batch.
    """
    n = x.shape[0]
    order = torch.randperm(n, generator=generator) if shuffle else torch.arange(n)
    order = order.to(x.device)
    for start in range(0, n, batch_size):
        index = order[start:start + batch_size]
        if drop_last and index.numel() < batch_size:
            break
        xb = random_crop(x[index], padding, generator)
        if flip:
            xb = random_flip(xb, generator)
        yield xb, y[index]
