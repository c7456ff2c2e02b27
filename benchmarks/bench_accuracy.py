"""Benchmark of the PyTorch side: quantised fine-tuning throughput and seconds per candidate evaluation.

Target (issue 4): a candidate evaluation in the demo configuration (ResNet-20 on digits 3x32x32, one-epoch
fine-tune = 9 SGD steps of 128 images) costs ~2-4 s on 2 CPU cores; uniform 8/4-bit psi within 2 points of float.
"""

from __future__ import annotations

import copy
import tempfile
import time

import torch

from flowq.accuracy import CALIBRATION_IMAGES, FineTuneEvaluator, LossProxyEvaluator
from flowq.models.training import train

N_STEPS = 9  # one epoch of the 1,150 digits training images at batch 128
BITS = (8, 4, 2)


def _genome(n_layers: int, bits: int) -> list[int]:
    return [8] + [bits] * (n_layers - 2) + [8]


def _throughput(ev: FineTuneEvaluator, bits: int | None) -> float:
    """Training images per second of SGD steps on the float (bits None) or uniformly quantised ResNet-20."""
    data, cfg = ev._data(), ev.train_config
    model = copy.deepcopy(ev._float())
    if bits is not None:
        model = ev._quantized(model, _genome(ev.n_layers, bits), _genome(ev.n_layers, bits))
    generator = torch.Generator().manual_seed(0)
    train(model, data.train_x, data.train_y, steps=2, lr=0.01, config=cfg, generator=generator)  # warm-up
    if ev.device.type == "cuda":
        torch.cuda.synchronize()
    start = time.perf_counter()
    train(model, data.train_x, data.train_y, steps=N_STEPS, lr=0.01, config=cfg, generator=generator,
          padding=data.padding)
    if ev.device.type == "cuda":
        torch.cuda.synchronize()
    return N_STEPS * cfg.batch_size / (time.perf_counter() - start)


def _device_rows(device: str, cache_dir: str) -> list[str]:
    ev = FineTuneEvaluator("resnet20", "digits", epochs=1.0, device=device, cache_dir=cache_dir,
                           use_result_cache=False)
    start = time.perf_counter()
    float_acc = ev.float_accuracy
    float_seconds = time.perf_counter() - start
    name = torch.cuda.get_device_name() if device == "cuda" else f"CPU ({torch.get_num_threads()} threads)"
    rows = [f"| {name} | float ResNet-20, 15 epochs (train + cache) | {float_seconds:.1f} s | val {float_acc:.3f}, "
            f"test {ev.float_test_accuracy:.3f} |",
            f"| {name} | float SGD throughput | {_throughput(ev, None):.0f} img/s | batch 128 |",
            f"| {name} | quantised (4-bit DoReFa/PACT) SGD throughput | {_throughput(ev, 4):.0f} img/s | batch 128 |"]
    n = ev.n_layers
    for bits in BITS:
        result = ev.evaluate(_genome(n, bits), _genome(n, bits))
        rows.append(f"| {name} | FineTuneEvaluator, 1 epoch ({ev.finetune_steps} steps), W{bits}A{bits} | "
                    f"{result.seconds:.2f} s / candidate | psi {result.psi:.3f} (float {float_acc:.3f}) |")
    proxy = LossProxyEvaluator("resnet20", "digits", device=device, cache_dir=cache_dir)
    proxy.evaluate(_genome(n, 8), _genome(n, 8))  # builds the fixed batch and its float loss
    for bits in BITS:
        result = proxy.evaluate(_genome(n, bits), _genome(n, bits))
        rows.append(f"| {name} | LossProxyEvaluator (256 images), W{bits}A{bits} | {result.seconds:.2f} s / candidate"
                    f" | CE_q - CE_float = {result.loss:.3f} |")
    return rows


def run() -> str:
    devices = ["cpu"] + (["cuda"] if torch.cuda.is_available() else [])
    rows = []
    with tempfile.TemporaryDirectory() as cache_dir:
        for device in devices:  # one cache folder per device, so each trains its own float network
            rows += _device_rows(device, f"{cache_dir}/{device}")
    lines = ["## Accuracy evaluation (flowq.accuracy, ResNet-20 on digits 3x32x32)", "",
             "Target: ~2-4 s per fine-tune candidate on 2 CPU cores (demo budget); W8/W4 within 2 points of float,",
             "W2 below W4, LossProxy ordered 2 > 4 > 8. First/last layers at 8 bits; one epoch = 9 steps x 128 images;",
             f"PACT alphas and BatchNorm statistics calibrated on {CALIBRATION_IMAGES} training images per candidate.",
             "" if "cuda" in devices else "No CUDA device on this machine: GPU rows are absent.", "",
             "| device | what | time | result |", "|---|---|---|---|", *rows]
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    print(run())
