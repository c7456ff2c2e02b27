"""One self-contained HTML report of a run folder (Plotly embedded: nothing is fetched when it is viewed).

    write_report(run, out=None)  RUN/report.html: for every level visited (the run and the refined runs in its
                                 sub-folders, or the demo's levels) the Pareto front (2-D projections, a 3-D view for
                                 three objectives; older generations' fronts fainter), the hypervolume per
                                 generation, the leaders marked; hovering a point shows psi and every metric,
                                 clicking it shows its b_W / b_A per layer and its per-layer hardware cost
                                 (`flowq.hwbreakdown`, as `flowq hw --genome`); the config and environment.
    collect_levels(run)          the results.json of every level visited, in level order

Axes use the normalised objectives of `problems.base` as the PNG plots do (`flowq.plots`): psi in %, hardware
metrics in % of the 16-bit network. The page's data sits in a JSON script element (`#flowq-data`); the browser test
(`tests/flowq/test_report_browser.py`) reads it and the rendered DOM.
"""

from __future__ import annotations

import html
import itertools
import json
import sys
import time
import warnings
from importlib import metadata
from pathlib import Path

import numpy as np

from flowq import runs
from flowq.plots import _display, _label
from hwmodels.errors import FlowQError

REPORT_HTML = "report.html"
LEVEL_ORDER = ("coarse", "mid", "fine", "reram")
#: per-layer columns of the hardware table (energy_by_level keys are spread out), in display order
LAYER_COLUMNS = ("energy", "mac", "rf", "array", "buffer", "dram", "latency_cycles", "dram_accesses_bits",
                 "utilization", "frac_ops", "bitops", "mapping_text")
#: (results.json key prefix, legend label, marker symbol, colour); drawn in this order, the HV-leader's star on top
LEADERS = (("compression", "compression leader", "square-open", "seagreen"),
           ("accuracy", "accuracy leader", "diamond-open", "royalblue"), ("hv", "HV-leader", "star", "gold"))
MAX_DEPTH = 4  # refined runs nest as RUN/mid/fine: sub-folders this deep are searched for levels


def collect_levels(run) -> list[tuple[Path, dict]]:
    """(folder, results) of the run and of every refined run below it, coarse -> fine, one per run_id.

    A demo folder's top-level results.json repeats its last level (same run_id): it is listed once, as the level's
    own folder.

    Raises:
        RunError: the run folder has no readable results.json.
    """
    top = runs.results_path(run).parent
    found = {}
    top_data = runs.read_results(top)
    paths = [p.parent for depth in range(1, MAX_DEPTH + 1) for p in sorted(top.glob("*/" * depth + runs.RESULTS))]
    for folder in paths:
        try:
            data = runs.read_results(folder)
        except runs.RunError:
            continue  # a foreign or broken sub-folder is not a level of this run
        found.setdefault(data["run_id"], (folder, data))
    if top_data["run_id"] not in found:
        found[top_data["run_id"]] = (top, top_data)
    order = {name: k for k, name in enumerate(LEVEL_ORDER)}
    levels = list(found.values())
    levels.sort(key=lambda item: (len(item[0].relative_to(top).parts), order.get(item[1]["level"], 9)))
    return levels


# ---- per-solution content -----------------------------------------------------------------------------------
def _number(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and np.isfinite(value)


def _fmt(value) -> str:
    if _number(value):
        return f"{value:.4g}"
    return "-" if value is None else str(value)


def _hover(data: dict, index: int, solution: dict) -> str:
    """Hover text: index, leader roles, psi, every numeric metric (objectives first, with % of 16-bit)."""
    metrics = solution["metrics"]
    roles = [label for key, label, _, _ in LEADERS if data.get(f"{key}_leader") == index]
    lines = [f"<b>#{index}</b>" + (f" ({', '.join(roles)})" if roles else "") + " - click for layers"]
    if _number(metrics.get("accuracy")):
        lines.append(f"psi (validation accuracy): {100 * metrics['accuracy']:.2f} %")
    baseline = data.get("baseline") or {}
    names = [n for n in data["objectives"] if n != "accuracy"]
    names += sorted(k for k in metrics if k not in names and k != "accuracy" and _number(metrics[k])
                    and not k.startswith("accuracy_"))
    for name in names:
        value = metrics.get(name)
        if not _number(value):
            continue
        ratio = f" ({100 * value / baseline[name]:.1f} % of 16-bit)" if _number(baseline.get(name)) and \
            baseline[name] else ""
        lines.append(f"{name}: {value:.4g}{ratio}")
    for name, value in (solution.get("hw") or {}).items():
        if name != "genes" and not name.startswith("energy."):
            lines.append(f"hw {name}: {_fmt(value) if not isinstance(value, list) else 'x'.join(map(str, value))}")
    lines.append(f"b_W {solution['bits_w']}")
    lines.append(f"b_A {solution['bits_a']}")
    return "<br>".join(lines)


def _layer_rows(cost: dict) -> list[dict]:
    rows = []
    for row in cost["layers"]:
        flat = dict(row)
        flat.update(row.get("energy_by_level") or {})
        rows.append({c: flat.get(c) for c in ("name",) + LAYER_COLUMNS})
    return rows


def _workload(folder: Path, config: dict, workload=None):
    """The run's workload: `workload` (the searched problem's) when its layers are the run's, else the network the
    run trained, traced again at its data's input size (`flowq.flow.Flow.workload`, as the search did)."""
    names = config.get("layer_names")
    if workload is not None and [layer.name for layer in workload] == names:
        return workload
    from flowq.flow import Flow

    rebuilt = Flow.from_run(folder, verbose=False).workload(int(config.get("batch") or 1))
    if names is not None and [layer.name for layer in rebuilt] != names:
        raise FlowQError(f"the network {config['model']!r} now has other layers than the run's")
    return rebuilt


def _breakdowns(folder: Path, data: dict, workload=None, verbose: bool = False) -> tuple[list, str | None]:
    """Per front solution: per-layer hardware rows and totals (`flowq.hwbreakdown.genome_cost`), or an error."""
    from flowq.hwbreakdown import genome_cost, mapping_store, solution_spec

    config = data["config"]
    level = data["level"]
    try:
        workload = _workload(folder, config, workload)
    except (FlowQError, KeyError, ImportError) as error:
        return [None] * len(data["front"]), f"no per-layer hardware cost: the workload cannot be rebuilt ({error})"
    out, problem, specs = [], None, {}
    with mapping_store(level):
        for solution in data["front"]:
            try:
                genes = json.dumps((solution.get("hw") or {}).get("genes") if isinstance(solution.get("hw"), dict)
                                   else None)
                spec = specs[genes] = specs[genes] if genes in specs else solution_spec(config, solution)
                options = {"adc_bits": solution["adc_bits"]} if level == "reram" and "adc_bits" in solution else {}
                cost = genome_cost(workload, spec, solution["bits_w"], solution["bits_a"], level=level,
                                   objective=config.get("mapper_objective") or "energy", **options)
                out.append({"layers": _layer_rows(cost), "total": {k: v for k, v in cost["total"].items()
                                                                   if _number(v)}})
            except Exception as error:  # noqa: BLE001  the page still shows everything else, and says why
                out.append(None)
                problem = problem or f"no per-layer hardware cost for some solutions ({type(error).__name__}: " \
                                     f"{str(error)[:300]})"
    if verbose and problem:
        print(problem, file=sys.stderr)
    return out, problem


# ---- figures ------------------------------------------------------------------------------------------------
# Plain Plotly.js figure dicts ({"data": [...], "layout": {...}}): plotly's Python figure classes validate every
# property and cost more than the rest of the report; values are plain lists, readable by a person and the tests.
def _axis(title: str, **extra) -> dict:
    return dict(title={"text": title}, gridcolor="#e5e5e5", zeroline=False, **extra)


def _pareto_figure(data: dict, level_index: int, hover: list) -> dict:
    """Every pair of objectives side by side; per panel the traces history (fainter = older), front, leaders."""
    names = data["objectives"]
    pairs = list(itertools.combinations(range(len(names)), 2))
    n_obj, gap = len(names), 0.08
    width = (1 - gap * (len(pairs) - 1)) / len(pairs)
    history = [np.asarray(F, dtype=float).reshape(-1, n_obj) for F in data.get("front_history", [])][:-1]
    front = np.asarray([s["F"] for s in data["front"]], dtype=float).reshape(-1, n_obj)
    old = np.vstack(history) if history else np.zeros((0, n_obj))
    gens = np.concatenate([np.full(len(F), g + 1) for g, F in enumerate(history)]) if history else np.zeros(0)
    opacity = 0.12 + 0.5 * gens / max(len(history), 1)  # older -> fainter
    traces, layout = [], {}
    for col, (i, j) in enumerate(pairs):
        axes = {"xaxis": f"x{col + 1 if col else ''}", "yaxis": f"y{col + 1 if col else ''}"}
        show = col == 0
        x_old, y_old = _display(names[i], old[:, i]).tolist(), _display(names[j], old[:, j]).tolist()
        traces.append(dict(  # an empty history trace keeps the order (history, front, leaders) in every panel
            type="scatter", mode="markers", x=x_old, y=y_old, showlegend=show and bool(len(old)),
            name="fronts of earlier generations (fainter = older)", legendgroup="history",
            marker=dict(color="grey", size=7, opacity=opacity.tolist()), text=[f"generation {int(g)}" for g in gens],
            hoverinfo="skip", **axes))  # not hoverable: a click on a point always reaches the front trace
        traces.append(dict(
            type="scatter", mode="markers", x=_display(names[i], front[:, i]).tolist(),
            y=_display(names[j], front[:, j]).tolist(), name=f"final front ({len(front)} solutions)",
            legendgroup="front", showlegend=show, marker=dict(color="crimson", size=10, line=dict(color="black",
                                                                                                 width=0.5)),
            customdata=[[level_index, k] for k in range(len(front))], text=hover,
            hovertemplate="%{text}<extra></extra>", **axes))
        for key, label, symbol, colour in LEADERS:
            k = data.get(f"{key}_leader")
            if k is None or not len(front):
                continue
            star = symbol == "star"
            traces.append(dict(
                type="scatter", mode="markers", x=[float(_display(names[i], front[k:k + 1, i])[0])],
                y=[float(_display(names[j], front[k:k + 1, j])[0])], name=f"{label} (#{k})", legendgroup=key,
                showlegend=show, marker=dict(symbol=symbol, size=18 if star else 20, color=colour,
                                             line=dict(color="black" if star else colour, width=1 if star else 3)),
                customdata=[[level_index, k]], text=[hover[k]], hovertemplate="%{text}<extra></extra>", **axes))
        suffix = str(col + 1) if col else ""
        layout[f"xaxis{suffix}"] = _axis(_label(names[i]), domain=[col * (width + gap), col * (width + gap) + width],
                                         anchor=f"y{suffix}")
        layout[f"yaxis{suffix}"] = _axis(_label(names[j]), anchor=f"x{suffix}")
    layout.update(height=460, margin=dict(l=60, r=20, t=80, b=60), hovermode="closest", plot_bgcolor="white",
                  legend=dict(orientation="h", yanchor="bottom", y=1.04, x=0))
    return {"data": traces, "layout": layout}


def _pareto_3d(data: dict, level_index: int, hover: list) -> dict:
    names = data["objectives"]
    front = np.asarray([s["F"] for s in data["front"]], dtype=float).reshape(-1, 3)
    hv = data.get("hv_leader")
    trace = dict(type="scatter3d", mode="markers", name="final front", x=_display(names[0], front[:, 0]).tolist(),
                 y=_display(names[1], front[:, 1]).tolist(), z=_display(names[2], front[:, 2]).tolist(),
                 marker=dict(size=[9 if k == hv else 5 for k in range(len(front))],
                             color=["gold" if k == hv else "crimson" for k in range(len(front))],
                             line=dict(color="black", width=1)),
                 customdata=[[level_index, k] for k in range(len(front))], text=hover,
                 hovertemplate="%{text}<extra></extra>")
    layout = dict(height=460, margin=dict(l=0, r=0, t=30, b=0),
                  title=dict(text="3-D view (gold: HV-leader; drag to rotate)", font=dict(size=13)),
                  scene=dict(xaxis=dict(title={"text": _label(names[0])}), yaxis=dict(title={"text": _label(names[1])}),
                             zaxis=dict(title={"text": _label(names[2])})))
    return {"data": [trace], "layout": layout}


def _hv_figure(data: dict) -> dict:
    hv = [v if _number(v) else None for v in data["hypervolume"]]
    ref = data.get("ref_point")
    trace = dict(type="scatter", mode="lines+markers", name="hypervolume", x=list(range(1, len(hv) + 1)), y=hv,
                 hovertemplate="generation %{x}: HV %{y:.5f}<extra></extra>")
    layout = dict(height=300, margin=dict(l=60, r=20, t=80, b=50), plot_bgcolor="white",
                  title=dict(text="hypervolume per generation" + (f" (reference point {ref})" if ref else ""),
                             font=dict(size=13)),
                  xaxis=_axis("generation", **({"dtick": 1} if len(hv) <= 20 else {})), yaxis=_axis("hypervolume"))
    return {"data": [trace], "layout": layout}


# ---- page ---------------------------------------------------------------------------------------------------
def _environment() -> dict:
    """`flowq.environment.environment()` of the process writing the report, plus the plotting library's version."""
    from flowq.environment import environment

    try:
        plotly_version = metadata.version("plotly")
    except metadata.PackageNotFoundError:
        plotly_version = None
    return dict(environment(), plotly=plotly_version, written=time.strftime("%Y-%m-%d %H:%M:%S %Z"))


def _level_payload(folder: Path, top: Path, data: dict, level_index: int, hardware: bool, verbose: bool,
                   workload=None) -> dict:
    hover = [_hover(data, k, s) for k, s in enumerate(data["front"])]
    breakdown, problem = [None] * len(data["front"]), None
    if hardware and data["front"]:
        breakdown, problem = _breakdowns(folder, data, workload, verbose)
    figures = {"pareto": _pareto_figure(data, level_index, hover) if len(data["objectives"]) >= 2 else None,
               "pareto3d": _pareto_3d(data, level_index, hover) if len(data["objectives"]) == 3 else None,
               "hv": _hv_figure(data)}
    relative = folder.relative_to(top).as_posix()
    return {
        "label": f"{data['level']} ({relative if relative != '.' else 'this folder'})", "level": data["level"],
        "folder": str(folder), "objectives": data["objectives"], "layer_names": data["config"].get("layer_names"),
        "n_generations": len(data["hypervolume"]), "hypervolume": data["hypervolume"][-1] if data["hypervolume"]
        else None, "constraints": data.get("constraints"), "complete": data.get("complete"),
        "leaders": {key: data.get(f"{key}_leader") for key in runs.PICKS},
        "solutions": [{"bits_w": s["bits_w"], "bits_a": s["bits_a"], "hw": s.get("hw"),
                       "metrics": {k: v for k, v in s["metrics"].items() if _number(v)},
                       "breakdown": b} for s, b in zip(data["front"], breakdown)],
        "hardware_note": problem,
        "figures": figures,
        "run": {k: data.get(k) for k in ("run_id", "algorithm", "seed", "pop_size", "n_gen", "n_accuracy_evaluations",
                                         "seconds", "evaluator", "baseline", "baseline_bits", "ref_point",
                                         "environment")},  # environment: the search's (flowq.environment)
        "config": data["config"],
    }


def build_report(run, *, hardware: bool = True, verbose: bool = False, workload=None) -> str:
    """The report's HTML text for run folder `run` (see the module docstring).

    Args:
        run: run folder (or its results.json).
        hardware: compute every front solution's per-layer hardware cost (False: bitwidths only).
        workload: the searched network's workload (list of `Layer`); default: rebuilt from the run's model name.
    """
    from plotly.offline import get_plotlyjs

    top = runs.results_path(run).parent
    levels = collect_levels(run)
    payload = {"title": f"FlowQ run {top.name or top}", "folder": str(top),
               "levels": [_level_payload(folder, top, data, k, hardware, verbose, workload)
                          for k, (folder, data) in enumerate(levels)],
               "environment": _environment()}
    data_json = json.dumps(runs._jsonable(payload)).replace("</", "<\\/")
    template = (Path(__file__).with_name("report_template.html")).read_text(encoding="utf-8")
    return (template.replace("{{TITLE}}", html.escape(payload["title"]))
            .replace("{{PLOTLYJS}}", get_plotlyjs().replace("</script", "<\\/script"))
            .replace("{{DATA}}", data_json))


def write_report(run, out=None, *, hardware: bool = True, verbose: bool = False, workload=None) -> Path:
    """Write the HTML report of run folder `run` to `out` (default RUN/report.html); returns its path (arguments:
    `build_report`).

    Raises:
        RunError: no readable results.json. FlowQError: plotly is not installed.
    """
    if not Path(run).exists():
        raise runs.RunError(f"{run} does not exist; pass a run folder written by `flowq search`")
    if out is not None and not str(out).strip():
        raise FlowQError("--out '': give the HTML file to write, or leave --out out for RUN/report.html")
    try:
        import plotly  # noqa: F401
    except ImportError:
        raise FlowQError("the HTML report needs plotly: pip install plotly (FlowQ installs it by default)") from None
    text = build_report(run, hardware=hardware, verbose=verbose, workload=workload)
    path = Path(out) if out is not None else runs.results_path(run).parent / REPORT_HTML
    runs.write_atomic(path, text)
    return path


def report_after_search(run, verbose: bool = False, workload=None) -> Path | None:
    """`write_report` at the end of a search: a report that cannot be written warns instead of failing the finished
    search (its results are already on disk; `flowq report RUN` retries). Returns the path, or None."""
    try:
        path = write_report(run, workload=workload)
    except Exception as error:  # noqa: BLE001  the search itself succeeded and its files are written
        warnings.warn(f"report.html not written ({type(error).__name__}: {error}); run `flowq report {run}` to "
                      f"retry", stacklevel=2)
        return None
    if verbose:
        print(f"report: {path}", file=sys.stderr, flush=True)
    return path
