"""Co-design plots (PNG, matplotlib Agg): the front coloured by a hardware gene, and hardware values on the front.

    plot_front_by_gene   2-D projections of the front (objective pairs), each point coloured by the value of one
                         hardware parameter (`hw[<field>]` of each front solution, e.g. buffer_size_bits)
    plot_gene_frequency  for every hardware parameter, how many front solutions use each of its values
    plot_codesign_run    both, from a co-design results.json (dict, file or run folder)
Front solutions are results.json entries with `metrics`, `F` and `hw` (see `problems.codesign`).
"""

from __future__ import annotations

import itertools
from collections import Counter
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from flowq.plots import _display, _label, _save, load_results  # noqa: E402
from hwmodels.errors import FlowQError  # noqa: E402

FRONT_BY_GENE_PNG, GENE_FREQUENCY_PNG = "front_by_{gene}.png", "hw_frequency.png"
_SKIP = {"genes", "area_mm2"}


def hw_parameters(front: list) -> list:
    """Names of the hardware parameters that the front's `hw` entries carry (derived energies and area left out)."""
    names = []
    for solution in front:
        for name in solution.get("hw", {}):
            if name not in names and name not in _SKIP and not name.startswith("energy."):
                names.append(name)
    return names


def _value_text(value) -> str:
    return "x".join(map(str, value)) if isinstance(value, (list, tuple)) else str(value)


def _check_front(front: list):
    if not front or "hw" not in front[0]:
        raise FlowQError("this result has no co-design front (solutions without `hw`); run `flowq search "
                         "--hw-space ...` first")


def plot_front_by_gene(results, path, gene: str | None = None) -> Path:
    """Front projections coloured by hardware parameter `gene` (default: the first one that varies)."""
    data = load_results(results)
    front = data["front"]
    _check_front(front)
    names = hw_parameters(front)
    if gene is None:
        varying = [n for n in names if len({_value_text(s["hw"].get(n)) for s in front}) > 1]
        gene = (varying or names)[0]
    if gene not in names:
        raise FlowQError(f"hardware parameter {gene!r} is not on this front; available: {', '.join(names)}")
    labels = [_value_text(s["hw"].get(gene)) for s in front]
    values = sorted(set(labels), key=lambda t: (len(t), t))
    colour = {v: plt.cm.viridis(k / max(1, len(values) - 1)) for k, v in enumerate(values)}
    objectives = data["objectives"]
    F = np.asarray([s["F"] for s in front], dtype=float)
    pairs = list(itertools.combinations(range(len(objectives)), 2)) or [(0, 0)]
    fig, axes = plt.subplots(1, len(pairs), figsize=(4.6 * len(pairs), 4.0), squeeze=False)
    for ax, (i, j) in zip(axes[0], pairs):
        x, y = _display(objectives[i], F[:, i]), _display(objectives[j], F[:, j])
        for value in values:
            mask = np.asarray([label == value for label in labels])
            ax.scatter(x[mask], y[mask], color=colour[value], label=value, s=28, edgecolor="k", linewidth=0.3)
        ax.set_xlabel(_label(objectives[i]))
        ax.set_ylabel(_label(objectives[j]))
    axes[0][-1].legend(title=gene, fontsize=7, title_fontsize=8)
    fig.suptitle(f"co-design front coloured by {gene}")
    return _save(fig, path)


def plot_gene_frequency(results, path) -> Path:
    """One bar chart per hardware parameter: the number of front solutions using each of its values."""
    data = load_results(results)
    front = data["front"]
    _check_front(front)
    names = hw_parameters(front)
    fig, axes = plt.subplots(1, len(names), figsize=(3.2 * len(names), 3.2), squeeze=False)
    for ax, name in zip(axes[0], names):
        counts = Counter(_value_text(s["hw"].get(name)) for s in front)
        keys = sorted(counts, key=lambda t: (len(t), t))
        ax.bar(range(len(keys)), [counts[k] for k in keys], color="tab:blue")
        ax.set_xticks(range(len(keys)), keys, rotation=45, ha="right", fontsize=7)
        ax.set_title(name, fontsize=9)
        ax.set_ylabel("front solutions")
    fig.suptitle(f"hardware values on the front ({len(front)} solutions)")
    return _save(fig, path)


def plot_codesign_run(results, out=None, gene: str | None = None) -> list:
    """Both co-design plots of a run into `out` (default: the run folder); returns the paths written."""
    data = load_results(results)
    if out is None:
        if isinstance(results, dict):
            raise FlowQError("give `out` when plotting a results dict")
        out = Path(results) if Path(results).is_dir() else Path(results).parent
    out = Path(out)
    names = hw_parameters(data["front"]) if data.get("front") else []
    chosen = gene or next((n for n in names if len({_value_text(s["hw"].get(n)) for s in data["front"]}) > 1),
                          names[0] if names else "hw")
    return [plot_front_by_gene(data, out / FRONT_BY_GENE_PNG.format(gene=chosen), chosen),
            plot_gene_frequency(data, out / GENE_FREQUENCY_PNG)]
