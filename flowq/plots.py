"""Search plots (PNG, matplotlib Agg, no screen): Pareto projections, hypervolume, layer-wise bitwidths.

    plot_pareto       2-D projections of a 2-/3-D front, older generations' fronts in grey shades from light
                      (old) to dark, the final front in red, the HV-leader starred (hw-flowq Fig. 7/8)
    plot_hypervolume  hypervolume per generation (convergence, hw-flowq 6.2)
    plot_bitwidths    b_W and b_A per layer of one solution (hw-flowq Fig. 9/10)
    plot_run          all three from a results.json (dict, file or run folder)
Axes use the normalised objectives of `problems.base`: accuracy as psi in %, hardware metrics in % of the
16-bit network's value.
"""

from __future__ import annotations

import itertools
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from matplotlib.ticker import MaxNLocator  # noqa: E402

from flowq.runs import read_results  # noqa: E402
from hwmodels.errors import FlowQError  # noqa: E402

PARETO_PNG, HYPERVOLUME_PNG, BITWIDTHS_PNG = "pareto.png", "hypervolume.png", "bitwidths.png"


def load_results(run) -> dict:
    """results.json content from a dict, a results.json path or a run folder (read by `flowq.runs`)."""
    if isinstance(run, dict):
        return run
    return read_results(run)


def _display(name: str, F: np.ndarray) -> np.ndarray:
    """Normalised objective values -> plotted values (psi in %, else % of the 16-bit baseline)."""
    return 100.0 * (1.0 - F) if name == "accuracy" else 100.0 * F


def _label(name: str) -> str:
    return "accuracy psi [%]" if name == "accuracy" else f"{name} [% of 16-bit]"


def plot_pareto(results, path) -> Path:
    """2-D projections of the front (every pair of objectives), older generations in grey, final in red."""
    data = load_results(results)
    names = data["objectives"]
    if len(names) < 2:
        raise FlowQError(f"a Pareto plot needs at least two objectives, this run has {names}")
    pairs = list(itertools.combinations(range(len(names)), 2))
    fig, axes = plt.subplots(1, len(pairs), figsize=(4.6 * len(pairs), 4.0), squeeze=False)
    history = [np.asarray(F, dtype=float).reshape(-1, len(names)) for F in data.get("front_history", [])]
    final = np.asarray([s["F"] for s in data["front"]], dtype=float).reshape(-1, len(names))
    leader = data.get("hv_leader")
    n_old = max(len(history) - 1, 1)
    for ax, (i, j) in zip(axes[0], pairs):
        labelled = False
        for g, F in enumerate(history[:-1]):
            if len(F):
                shade = 0.85 - 0.65 * g / n_old  # light grey (old) -> dark grey (recent)
                ax.scatter(_display(names[i], F[:, i]), _display(names[j], F[:, j]), s=12,
                           color=str(shade), zorder=1,
                           label=None if labelled else "earlier generations' fronts (light = older)")
                labelled = True
        if len(final):
            ax.scatter(_display(names[i], final[:, i]), _display(names[j], final[:, j]), s=22, color="red",
                       zorder=2, label="final front")
            if leader is not None:
                ax.scatter(_display(names[i], final[leader, i]), _display(names[j], final[leader, j]),
                           marker="*", s=180, color="gold", edgecolor="black", zorder=3, label="HV-leader")
        ax.set_xlabel(_label(names[i]))
        ax.set_ylabel(_label(names[j]))
        _cap_accuracy_axis(ax, names[i], names[j])
        ax.grid(alpha=0.3)
    if len(final) or len(history) > 1:
        axes[0][0].legend(loc="best", fontsize=8)
    points = len(np.unique(final, axis=0)) if len(final) else 0
    count = f"{points} distinct points" + (f" of {len(final)} solutions" if points != len(final) else "")
    fig.suptitle(f"{data['level']} level: Pareto front ({count}, {len(history)} generations)")
    return _save(fig, path)


def _cap_accuracy_axis(ax, x_name: str, y_name: str) -> None:
    """An accuracy axis ends at 100 % (matplotlib's margin would run past it)."""
    if x_name == "accuracy":
        low, high = ax.get_xlim()
        ax.set_xlim(low, min(high, 100.0))
    if y_name == "accuracy":
        low, high = ax.get_ylim()
        ax.set_ylim(low, min(high, 100.0))


def plot_hypervolume(results, path) -> Path:
    """Hypervolume per generation against the run's fixed reference point (`hypervolume_figure`)."""
    return _save(hypervolume_figure(load_results(results)), path)


def hypervolume_figure(data: dict):
    """The hypervolume-per-generation figure of a results dict. The y axis starts at 0 when the curve is flat
    (matplotlib would stretch a few parts per million over the whole axis); a single generation is one labelled
    marker, not a line."""
    hv = np.asarray(data["hypervolume"], dtype=float)
    fig, ax = plt.subplots(figsize=(5.5, 3.8))
    gens = np.arange(1, len(hv) + 1)
    if len(hv) == 1:
        ax.plot(gens, hv, marker="o", ms=7, linestyle="none")
        ax.annotate(f"HV {hv[0]:.4f}\nafter 1 generation", (1, hv[0]), xytext=(12, -10), textcoords="offset points",
                    fontsize=9)
        ax.set_xlim(0.5, 2.5)
    elif len(hv):
        ax.plot(gens, hv, marker="o", ms=3)
    else:
        ax.text(0.5, 0.5, "no generation finished", ha="center", va="center", transform=ax.transAxes)
    finite = hv[np.isfinite(hv)]
    if len(finite) and finite.max() - finite.min() <= 0.02 * max(abs(finite.max()), 1e-12):
        ax.set_ylim(min(0.0, finite.min()), max(finite.max(), 0.0) * 1.15 or 1.0)
    if 0 < len(gens) <= 12:
        ax.set_xticks(gens)
    else:
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))  # generations are whole numbers
    ax.set_xlabel("generation")
    ax.set_ylabel("hypervolume")
    ref = data.get("ref_point")  # validated by flowq.runs when present
    ref_text = f" (ref. point {np.round(np.asarray(ref, dtype=float), 3).tolist()})" if ref is not None else ""
    ax.set_title(f"{data['level']} level: convergence{ref_text}", fontsize=9)
    ax.grid(alpha=0.3)
    return fig


def plot_bitwidths(solution: dict, path, layer_names=None, title: str = "") -> Path:
    """Grouped bars of b_W and b_A per layer of one solution (b_A = the layer's input activations)."""
    bits_w = np.asarray(solution["bits_w"])
    bits_a = np.asarray(solution["bits_a"])
    names = list(layer_names) if layer_names is not None and len(layer_names) == len(bits_w) else \
        [str(k) for k in range(len(bits_w))]
    x = np.arange(len(bits_w))
    fig, ax = plt.subplots(figsize=(max(6.0, 0.32 * len(x) + 2), 3.8))
    ax.bar(x - 0.2, bits_w, width=0.4, label="weights b_W")
    ax.bar(x + 0.2, bits_a, width=0.4, label="input activations b_A")
    ax.set_xticks(x)
    ax.set_xticklabels(names, rotation=90, fontsize=7)
    ax.set_ylabel("bits")
    ax.set_yticks(sorted(set(bits_w.tolist()) | set(bits_a.tolist())))
    ax.legend(fontsize=8)
    ax.set_title(title, fontsize=9)
    return _save(fig, path)


def plot_run(results, out=None) -> list:
    """Write pareto.png, hypervolume.png and bitwidths.png (of the HV-leader) for a run; returns the paths.

    Args:
        results: results.json dict, file or run folder.
        out: folder for the PNGs (default: the run folder).
    """
    data = load_results(results)
    if out is None:
        if isinstance(results, dict):
            raise FlowQError("plot_run got a results dict: pass out=<folder> for the PNGs")
        out = Path(results) if Path(results).is_dir() else Path(results).parent
    out = Path(out)
    paths = [plot_hypervolume(data, out / HYPERVOLUME_PNG)]
    if len(data["objectives"]) >= 2:
        paths.insert(0, plot_pareto(data, out / PARETO_PNG))
    leader = data.get("hv_leader")
    solution, which = (data["front"][leader], "HV-leader") if leader is not None else (data.get("least_violation"),
                                                                                       "least violating")
    if solution is not None:
        summary = _objective_summary(data["objectives"], solution)
        paths.append(plot_bitwidths(solution, out / BITWIDTHS_PNG, data["config"].get("layer_names"),
                                    f"{data['level']} {which}: {summary}"))
    return paths


def _objective_summary(objectives, solution: dict) -> str:
    """`accuracy psi 91.2 %, frac_ops 35.1 % of 16-bit`: the units of the front plot's axes (from the stored
    normalised F; a solution without F shows its raw metrics)."""
    F, metrics, parts = solution.get("F"), solution.get("metrics") or {}, []
    for k, name in enumerate(objectives):
        value = F[k] if isinstance(F, list) and len(F) == len(objectives) else None
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            shown = float(_display(name, np.asarray([value]))[0])
            parts.append(f"accuracy psi {shown:.1f} %" if name == "accuracy" else f"{name} {shown:.1f} % of 16-bit")
        elif isinstance(metrics.get(name), (int, float)) and not isinstance(metrics.get(name), bool):
            raw = metrics[name]
            parts.append(f"accuracy psi {100 * raw:.1f} %" if name == "accuracy" else f"{name} {raw:.4g}")
    return ", ".join(parts)


def _save(fig, path) -> Path:
    path = Path(path)
    fig.tight_layout()
    tmp = path.with_name(f".{path.stem}.tmp.png")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fig.savefig(tmp, dpi=110)
        tmp.replace(path)
    except OSError as error:
        tmp.unlink(missing_ok=True)
        raise FlowQError(f"{path}: cannot write the plot ({error.strerror or error})") from None
    finally:
        plt.close(fig)
    return path
