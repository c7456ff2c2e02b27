"""Plots: PNGs written headless from a results dict; grey history + red front; bitwidth bars."""

import matplotlib.pyplot as plt
import pytest

from flowq.errors import FlowQError
from flowq.plots import plot_bitwidths, plot_pareto, plot_run

RESULTS = {
    "level": "fine", "objectives": ["accuracy", "energy", "latency_cycles"], "ref_point": [1.1, 1.1, 1.1],
    "hypervolume": [0.2, 0.3, 0.35],
    "front_history": [[[0.1, 0.8, 0.7]], [[0.1, 0.6, 0.7], [0.2, 0.5, 0.5]], [[0.05, 0.6, 0.6], [0.2, 0.4, 0.5]]],
    "front": [{"bits_w": [16, 4, 16], "bits_a": [16, 8, 16], "F": [0.05, 0.6, 0.6],
               "metrics": {"accuracy": 0.95, "energy": 1e7, "latency_cycles": 1e5}},
              {"bits_w": [16, 2, 16], "bits_a": [16, 2, 16], "F": [0.2, 0.4, 0.5],
               "metrics": {"accuracy": 0.8, "energy": 8e6, "latency_cycles": 9e4}}],
    "hv_leader": 1, "config": {"layer_names": ["conv1", "conv2", "fc"]},
}


def test_plot_run_writes_three_pngs(tmp_path):
    paths = plot_run(RESULTS, tmp_path)
    assert sorted(p.name for p in paths) == ["bitwidths.png", "hypervolume.png", "pareto.png"]
    for path in paths:
        assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert plt.get_fignums() == []  # every figure closed


def test_pareto_projects_three_objectives_into_three_panels(tmp_path, monkeypatch):
    saved = {}
    monkeypatch.setattr("flowq.plots._save", lambda fig, path: saved.setdefault("fig", fig))
    plot_pareto(RESULTS, tmp_path / "p.png")
    axes = saved["fig"].axes
    assert len(axes) == 3  # (acc, energy), (acc, latency), (energy, latency)
    # panel 0: two older generations in grey, then the red final front and the starred HV-leader
    colours = [tuple(c.get_facecolor()[0][:3]) for c in axes[0].collections]
    assert colours[-2] == (1.0, 0.0, 0.0)
    assert all(r == g == b for r, g, b in colours[:2]) and colours[0][0] > colours[1][0]  # old lighter
    assert axes[0].get_xlabel() == "accuracy psi [%]"
    plt.close("all")


def test_bitwidth_bars_and_missing_run(tmp_path):
    path = plot_bitwidths({"bits_w": [16, 2], "bits_a": [16, 4]}, tmp_path / "b.png", ["a", "b"])
    assert path.stat().st_size > 0
    with pytest.raises(FlowQError, match="results.json"):
        plot_run(tmp_path / "nowhere")


def test_one_generation_is_a_labelled_marker_on_an_axis_from_zero():
    from flowq.plots import hypervolume_figure

    fig = hypervolume_figure({"level": "coarse", "hypervolume": [0.8123], "ref_point": [1.1, 1.1]})
    ax = fig.axes[0]
    assert ax.get_ylim()[0] <= 0.0 < 0.8123 < ax.get_ylim()[1]  # not 0.78 .. 0.85 around one dot
    assert any("HV 0.8123" in t.get_text() and "1 generation" in t.get_text() for t in ax.texts)
    assert [line.get_linestyle() for line in ax.lines] == ["None"] and list(ax.get_xticks()) == [1]
    plt.close(fig)


def test_a_flat_curve_starts_at_zero_and_a_rising_one_keeps_its_scale():
    from flowq.plots import hypervolume_figure

    flat = hypervolume_figure({"level": "mid", "hypervolume": [0.5, 0.5, 0.5]})
    assert flat.axes[0].get_ylim()[0] <= 0.0
    rising = hypervolume_figure(RESULTS)
    assert rising.axes[0].get_ylim()[0] > 0.1  # 0.2 -> 0.35 fills the axis
    assert not rising.axes[0].texts
    plt.close("all")


def test_plot_details_distinct_points_capped_accuracy_integer_generations_units(tmp_path, monkeypatch):
    from flowq.plots import _objective_summary, hypervolume_figure

    data = dict(RESULTS, objectives=["accuracy", "frac_ops"], ref_point=[1.1, 1.1],
                front_history=[[[0.3, 0.5]], [[0.0, 0.9], [0.2, 0.4]]],
                front=[{"bits_w": [8], "bits_a": [8], "F": F, "metrics": {"accuracy": 1 - F[0], "frac_ops": 2e7}}
                       for F in ([0.0, 0.9], [0.0, 0.9], [0.2, 0.4], [0.1, 0.6])], hv_leader=0)
    saved = {}
    monkeypatch.setattr("flowq.plots._save", lambda fig, path: saved.setdefault("fig", fig))
    plot_pareto(data, tmp_path / "p.png")
    fig = saved["fig"]
    assert "3 distinct points of 4 solutions" in fig._suptitle.get_text()
    ax = fig.axes[0]
    assert ax.get_xlim()[1] <= 100.0  # psi 100 % plotted, the axis does not run past it
    assert any("earlier generations" in text.get_text() for text in ax.get_legend().get_texts())
    hv = hypervolume_figure(dict(data, hypervolume=[0.1 + 0.01 * g for g in range(40)]))
    assert all(float(t).is_integer() for t in hv.axes[0].get_xticks())
    assert _objective_summary(data["objectives"], data["front"][2]) == "accuracy psi 80.0 %, frac_ops 40.0 % of 16-bit"
    plt.close("all")
