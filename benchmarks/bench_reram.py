"""Benchmark of the ReRAM level: crossbar-aware forward vs plain fake-quant forward, and population costing."""

from __future__ import annotations

import copy
import os

import numpy as np

from timing import best_of


def _forward_rows() -> list:
    import torch

    from flowq.models import build_model
    from flowq.quant import quantize_model
    from flowq.quant.crossbar import CrossbarConfig, crossbar_model
    from hwmodels.reram import load_reram_spec

    torch.manual_seed(0)
    rows = []
    cases = [("lenet5", (1, 32, 32), 128, 4), ("lenet5", (1, 32, 32), 128, 8), ("resnet20", (3, 32, 32), 32, 4)]
    for model_name, shape, batch, bits in cases:
        x = torch.randn(batch, *shape)
        plain = quantize_model(build_model(model_name, 10, shape), bits, bits, example_input=x).eval()
        with torch.no_grad():
            t_plain = best_of(lambda: plain(x), 3)
        for preset in ("reram-puma", "reram-bwq"):
            spec = load_reram_spec(preset)
            for adc in (None, 4):
                config = CrossbarConfig.from_spec(spec, adc)
                model = crossbar_model(copy.deepcopy(plain), config, x).eval()
                with torch.no_grad():
                    t_xbar = best_of(lambda: model(x), 3)
                label = "lossless (exact path)" if adc is None else f"{adc}-bit ADC"
                rows.append(f"| {model_name} W{bits}A{bits} | {batch} | {preset} ({config.rows}-row chunks, "
                            f"{config.bits_per_cell} b/cell) | {label} | {t_plain * 1e3:.1f} | {t_xbar * 1e3:.1f} | "
                            f"{t_xbar / t_plain:.1f}x |")
    return rows


def run() -> str:
    """Time the crossbar forward and the ReRAM cost model; return the BENCHMARKS.md section."""
    from hwmodels.reram import evaluate_population, load_reram_spec
    from hwmodels.zoo import get_workload

    workload = get_workload("resnet18")
    spec = load_reram_spec("reram-neurosim")
    rng = np.random.default_rng(0)
    BW = rng.integers(2, 9, size=(1000, len(workload)))
    BA = rng.integers(2, 9, size=(1000, len(workload)))
    ADC = rng.integers(1, 9, size=(1000, len(workload)))
    evaluate_population(workload, spec, BW[:1], BA[:1], adc_bits=ADC[:1])
    t_pop = best_of(lambda: evaluate_population(workload, spec, BW, BA, adc_bits=ADC), 3)
    load = os.getloadavg()[0]
    return "\n".join([
        "## ReRAM level (benchmarks/bench_reram.py)",
        "",
        "Crossbar-aware forward (`flowq.quant.crossbar`: inputs and weights bit-sliced, every chunk's column partial "
        "sum through an r-bit ADC, shift-and-add; im2col once per input slice and one batched matmul per slice) "
        "against the plain fake-quant forward of the same network, eval mode, best of 3, milliseconds per batch. "
        "Lossless ADCs take the exact path (one integer matmul, proven equal to the sliced path by the tests). "
        f"Load average when measured: {load:.1f} (on a shared machine the absolute times are inflated; the ratio "
        "is the figure to read).",
        "",
        "| network | batch | crossbar | ADC | plain ms | crossbar ms | cost |",
        "|---|---|---|---|---|---|---|",
        *_forward_rows(),
        "",
        f"Cost model: 1,000 random ResNet-18 genomes (b_W, b_A, ADC bits per layer) on reram-neurosim, "
        f"`hwmodels.reram.evaluate_population`: {t_pop * 1e3:.1f} ms.",
    ])


if __name__ == "__main__":
    print(run())
