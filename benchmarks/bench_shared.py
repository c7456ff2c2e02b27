"""Benchmark of `--evaluator shared`: seconds per candidate against the 1-epoch fine-tune, and the one-off
shared-network training against the float network's training.

Targets (issue 19): a shared candidate >= 20x cheaper than a 1-epoch fine-tune on CPU; the shared network's
training <= 5x the float network's. Both evaluators run at their default thread count
(`flowq.environment.DEFAULT_THREADS`). Networks come from $FLOWQ_BENCH_CACHE when set (training times are then the
ones recorded when they were trained), else they are trained here in a temporary folder. Load average is quoted.
"""

from __future__ import annotations

import os
import random
import statistics
import tempfile

import torch

from flowq.accuracy import FineTuneEvaluator
from flowq.shared_eval import SharedEvaluator

MODELS = ("lenet5", "resnet20")
#: digits image side per model: ResNet-20 on 16 px as in experiments/fidelity_shared.py (a quarter of the 32 px cost
#: in both evaluators, so the ratios carry over); LeNet-5 needs its 32 px.
IMAGE_SIZE = {"lenet5": None, "resnet20": 16}
N_SHARED, N_FINETUNE = 5, 3  # candidates timed per evaluator (median reported)


def _genomes(n_layers: int, count: int, seed: int = 0) -> list:
    rng = random.Random(seed)
    return [([16] + [rng.randint(2, 8) for _ in range(n_layers - 2)] + [16],
             [16] + [rng.randint(2, 8) for _ in range(n_layers - 2)] + [16]) for _ in range(count)]


def _rows(model: str, device: str, cache_dir: str) -> list[str]:
    options = dict(device=device, cache_dir=cache_dir, use_result_cache=False, image_size=IMAGE_SIZE[model])
    shared = SharedEvaluator(model, "digits", **options)
    finetune = FineTuneEvaluator(model, "digits", epochs=1.0, **options)
    shared.prepare()
    genomes = _genomes(shared.n_layers, N_SHARED)
    per_shared = statistics.median(shared.evaluate(bw, ba).seconds for bw, ba in genomes)
    per_finetune = statistics.median(finetune.evaluate(bw, ba).seconds for bw, ba in genomes[:N_FINETUNE])
    float_s = float(shared._state.float_metrics["train_seconds"])
    shared_s = float(shared.shared_metrics["train_seconds"])
    data = shared._data()
    n_train, n_val, n_cal = len(data.train_y), len(data.val_y), min(shared.calibration_images, len(data.train_y))
    # image-forwards per candidate (a backward ~ 2 forwards): fine-tune = calibration of PACT and of BatchNorm,
    # one epoch of SGD, validation; shared = BatchNorm re-estimation, validation
    has_bn = any(isinstance(m, torch.nn.modules.batchnorm._BatchNorm) for m in shared._float().modules())
    bound = (2 * n_cal + 3 * n_train + n_val) / (n_cal * has_bn + n_val)
    name = torch.cuda.get_device_name() if device == "cuda" else f"CPU ({shared.threads} thread)"
    px = IMAGE_SIZE[model] or 32
    return [f"| {name} | {model} ({px} px) | {per_shared:.3f} s | {per_finetune:.2f} s | "
            f"{per_finetune / per_shared:.1f}x | {bound:.1f}x | {float_s:.0f} s | {shared_s:.0f} s | "
            f"{shared_s / float_s:.2f}x |"]


def run() -> str:
    devices = ["cpu"] + (["cuda"] if torch.cuda.is_available() else [])
    load_before = os.getloadavg()[0]
    rows = []
    given = os.environ.get("FLOWQ_BENCH_CACHE")
    with tempfile.TemporaryDirectory() as tmp:
        for device in devices:
            for model in MODELS:
                rows += _rows(model, device, given or f"{tmp}/{device}")
    load_after = os.getloadavg()[0]
    source = ("networks from $FLOWQ_BENCH_CACHE: training times as recorded when they were trained"
              if given else "networks trained here")
    return "\n".join([
        "## Shared any-precision evaluator (benchmarks/bench_shared.py)", "",
        "Target: a shared candidate (set bits, BatchNorm re-estimated on 256 images, one validation pass) >= 20x",
        "cheaper than the 1-epoch fine-tune (9 SGD steps) on CPU; the one-off shared-network training (10 epochs,",
        "3 sub-networks per step) <= 5x the float network's (15 epochs). Median of "
        f"{N_SHARED} / {N_FINETUNE} random genomes (bits 2-8, first/last 16);",
        f"{source}.",
        f"Load average (1 min) {load_before:.1f} before, {load_after:.1f} after, on {os.cpu_count()} cores.",
        "" if "cuda" in devices else "No CUDA device on this machine: GPU rows are absent.", "",
        "'image-forward bound': the ratio of images forwarded per candidate, (2 cal + 3 train + val) / (cal + val)",
        "with a backward counted as two forwards (cal = 0 on the shared side of a network without BatchNorm): on",
        "digits (1,150 train / 288 validation images) it caps a BatchNorm network's speed-up near 8x whatever the",
        "implementation; on CIFAR-10's 45k / 5k split the same count gives about 26x.", "",
        "| device | model | shared s/candidate | finetune s/candidate | ratio | image-forward bound | float training "
        "| shared training | ratio |", "|---|---|---|---|---|---|---|---|---|", *rows])
