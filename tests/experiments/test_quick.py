"""Every experiment script's --quick run, in-process, into tmp folders; the CSVs hold the papers' qualitative results.

The claims asserted are those that do not depend on a search budget (issue 12 "Must show"), each one a check that a
wrong model or script could fail (issue 23: no assertion that holds by construction):
    hw-flowq Table 3: bigger arrays lower latency and raise energy; batch 4 lowers the energy per frame.
    hw-flowq Table 5: at 16 bit latency OS < WS < RS and energy RS < WS < OS (ZigZag's order on identical costs).
    hw-flowq Table 6: uniform rows' Frac.OPs within 10 % of the paper's.
    hw-flowq Fig. 6: Mid / Fine never below Coarse's DRAM traffic nor above its throughput, on every point.
    hw-flowq Fig. 7: a bigger budget (6, 3) reaches a larger hypervolume than (4, 2), over several seeds.
    reram-psum Table 1: lower ADC resolution lowers ReRAM energy; its Table 3 schemes keep the paper's order.
    benq Table V: the W8A8 tile counts equal the paper's.
Scripts run in this process (torch and the numba kernels load once) with the session's private FLOWQ_CACHE_DIR
(tests/conftest.py), so every quick script shares one float network per model. Searches run one seed (--seeds 1)
except Fig. 7's, whose claim is about seeds.
"""

from __future__ import annotations

import importlib
import json
from pathlib import Path

import pytest

pytestmark = [pytest.mark.slow, pytest.mark.usefixtures("experiments_on_path")]


def run_quick(name: str, out: Path, *extra: str, seeds: int = 1) -> Path:
    """Import experiments/<name>.py and run its main with --quick into `out`; returns `out`."""
    module = importlib.import_module(name)
    main = getattr(module, "main")
    assert main(["--quick", "--out", str(out), "--seeds", str(seeds), *extra]) == 0
    assert (out / "env.json").is_file() and (out / "env.md").is_file()
    return out


def rows(path: Path) -> list:
    import common

    return common.read_csv(path)


def test_table3_bigger_arrays_lower_latency_raise_energy_and_batch4_saves_energy(tmp_path):
    out = run_quick("table3_hw_dims", tmp_path)
    base = {(r["preset"], int(r["batch"])): r for r in rows(out / "table3.csv") if r["kind"] == "baseline"}
    s168, s256, s1024, s256b4 = (base[("spatial-168", 1)], base[("spatial-256", 1)], base[("spatial-1024", 1)],
                                 base[("spatial-256", 4)])
    # hw-flowq Table 3 baselines: latency 1128 > 764 > 204, energy 130.28 < 131.36 < 190.40 (per 4 frames)
    assert s168["latency_1e3"] > s256["latency_1e3"] > s1024["latency_1e3"]
    assert s168["energy_1e7"] < s256["energy_1e7"] < s1024["energy_1e7"]
    # batch 4 on Spatial-256: 119.94 < 131.36 per 4 frames (weights fetched once for 4 frames)
    assert s256b4["energy_1e7"] < s256["energy_1e7"]
    choices = [r for r in rows(out / "table3.csv") if r["kind"] == "choice"]
    assert len(choices) == 4 and all(0 <= r["psi"] <= 100 for r in choices)
    # a Pareto-choice never costs more than its own 16-bit baseline (16 bit is the costliest genome)
    for r in choices:
        assert r["energy_1e7"] <= base[(r["preset"], int(r["batch"]))]["energy_1e7"] * (1 + 1e-9)
    # the fallback mark is set exactly when the choice misses psi16 - 2.5 points
    psi16 = 100 * json.loads((out / "table3.json").read_text())["psi_16bit"]
    for r in rows(out / "table3_seeds.csv"):
        assert (r["fallback"] == "True") == (r["psi"] < psi16 - 2.5 - 1e-9)
    assert (out / "fig8a.png").stat().st_size > 0


def test_table4_bit_serial_bigger_arrays_raise_energy_and_batch4_saves_energy(tmp_path):
    out = run_quick("table4_bit_serial", tmp_path)
    base = {(r["preset"], int(r["batch"])): r for r in rows(out / "table4.csv") if r["kind"] == "baseline"}
    # hw-flowq Table 4 baselines: energy 141.07 < 147.65 < 208.26; batch 4 137.57 < 147.65; latency
    # 20365 > 12296 > 3326 (with the array-filling spatial space, `unrolling: fill`)
    lat = [base[(p, 1)]["latency_1e3"] for p in ("bs-168", "bs-256", "bs-1024")]
    # (baseline latency: latency-optimal mappings; energy: energy-optimal ones, `common.fine_baseline`)
    assert lat[0] > lat[1] > lat[2]
    assert base[("bs-168", 1)]["energy_1e7"] < base[("bs-256", 1)]["energy_1e7"] < base[("bs-1024", 1)]["energy_1e7"]
    assert base[("bs-256", 4)]["energy_1e7"] < base[("bs-256", 1)]["energy_1e7"]
    choices = [r for r in rows(out / "table4.csv") if r["kind"] == "choice"]
    assert len(choices) == 4 and all(0 <= r["psi"] <= 100 for r in choices)


def test_table5_rs_lowest_energy_os_lowest_latency_at_16_bit(tmp_path):
    out = run_quick("table5_dataflows", tmp_path)
    base = {r["dataflow"]: r for r in rows(out / "table5.csv") if r["kind"] == "baseline"}
    # hw-flowq Table 5: energy RS 32.84 < OS 46.33 < WS 69.40; latency OS 159 < WS 166 < RS 191. Energy on
    # identical costs: RS < WS < OS, ZigZag's order (issue 8); the paper's WS-highest is not reproduced.
    assert base["RS"]["energy_1e7"] < base["WS"]["energy_1e7"] < base["OS"]["energy_1e7"]
    # OS has the lowest latency (latency-optimal mappings); RS, the paper's slowest, now ties it (both 177.75 k
    # cycles since the Fine bound fix; with energy-optimal mappings RS is slowest): reported, not asserted
    assert base["OS"]["latency_1e3"] <= min(base["WS"]["latency_1e3"], base["RS"]["latency_1e3"]) * (1 + 1e-9)
    leaders = [r for r in rows(out / "table5.csv") if r["kind"] == "hv_leader"]
    assert {r["dataflow"] for r in leaders} == {"RS", "WS", "OS"}


def test_fig5_lower_bits_never_cost_more(tmp_path):
    out = run_quick("fig5_validation", tmp_path)
    layers = rows(out / "fig5.csv")
    for preset in ("spatial-168", "bs-168"):
        for name in ("conv1", "conv2", "conv3", "conv4", "conv5"):
            by_bits = {int(r["bits"]): r for r in layers if r["preset"] == preset and r["layer"] == name}
            # mapper contract (DESIGN.md): lowering a bitwidth never raises the best energy (the mappings here are
            # energy-optimal, so their latency may rise: CONV1 at 4 bit trades cycles for energy)
            assert by_bits[4]["energy"] <= by_bits[16]["energy"] * (1 + 1e-9)
            levels = sum(r for k, r in by_bits[16].items() if k.startswith("e_"))
            assert levels == pytest.approx(by_bits[16]["energy"], rel=1e-6)
    # hw-flowq Fig. 5 (bottom-left): bit-serial latency falls steeply with the bits (b_W x b_A cycles per MAC)
    serial = {b: sum(r["latency_cycles"] for r in layers if r["preset"] == "bs-168" and int(r["bits"]) == b)
              for b in (16, 4)}
    assert serial[4] < serial[16] / 4
    # the published numbers beside ours: on Timeloop's own cost table FlowQ's CONV1 beats Timeloop's mapping
    published = {r["quantity"]: r for r in rows(out / "published.csv")}
    assert published["CONV1 total [pJ/MAC]"]["flowq"] < published["CONV1 total [pJ/MAC]"]["published"]


def test_fig9_writes_layerwise_bits_for_batch_1_and_4(tmp_path):
    out = run_quick("fig9_bitwidths", tmp_path)
    bits = rows(out / "fig9_layers.csv")
    assert {int(r["batch"]) for r in bits} == {1, 4}
    assert len(bits) == 2 * 20  # ResNet-20: 20 conv/fc layers per choice, one seed
    summary = {int(r["batch"]): r for r in rows(out / "fig9.csv")}
    genome = {b: [(r["b_w"], r["b_a"]) for r in bits if int(r["batch"]) == b] for b in (1, 4)}
    if genome[1] == genome[4]:  # the same bits at batch 4 share each weight fetch over 4 frames: less per frame
        assert summary[4]["energy_per_frame"] < summary[1]["energy_per_frame"]


def test_table2_refines_coarse_mid_fine_for_soga_and_nsga2(tmp_path):
    out = run_quick("table2_codesign_flow", tmp_path)
    table = rows(out / "table2.csv")
    assert [r["config"] for r in table][0] == "Baseline (16 bit)"
    assert len(table) == 9
    for r in table[1:]:
        # the chosen genome never costs more than 16 bit on the metric its level optimised
        assert r["hw_fitness"] >= -1e-9


def test_fig7_bigger_budget_reaches_larger_hypervolume_over_seeds(tmp_path):
    # (6, 3) is another run than (4, 2) (other population, other offspring), not its continuation, so it can lose
    out = run_quick("fig7_nsga2_budget", tmp_path, seeds=3)
    final = {(int(r["pop_size"]), int(r["n_gen"]), int(r["seed"])): r["hypervolume"] for r in rows(out / "fig7.csv")}
    seeds = sorted({k[2] for k in final})
    assert len(seeds) == 3
    small, big = [final[(4, 2, s)] for s in seeds], [final[(6, 3, s)] for s in seeds]
    assert sum(big) > sum(small)
    assert sum(b > a for a, b in zip(small, big)) >= 2
    per_gen = rows(out / "fig7_hv.csv")
    assert {(int(r["pop_size"]), int(r["n_gen"])) for r in per_gen} == {(4, 2), (4, 3), (6, 3)}


def test_table6_uniform_rows_save_against_16_bit(tmp_path):
    out = run_quick("table6_sota", tmp_path)
    table = {r["method"]: r for r in rows(out / "table6.csv")}
    base = table["Baseline (16-bit)"]
    for method in ("DoReFa-Net (4-bit)", "DoReFa-Net (2-bit)", "XNOR-Net (1-bit)", "HAQ", "HV-Leader"):
        assert table[method]["frac_ops_1e6"] < base["frac_ops_1e6"]
    # eq. 5 is a closed form: the uniform rows' Frac.OPs are the paper's (41 / 10 / 5 / 3, rounded there)
    for method in ("Baseline (16-bit)", "DoReFa-Net (4-bit)", "DoReFa-Net (2-bit)", "XNOR-Net (1-bit)"):
        assert table[method]["frac_ops_1e6"] == pytest.approx(table[method]["frac_ops_1e6_paper"], rel=0.10)


def test_psum_lower_adc_bits_lower_reram_energy(tmp_path):
    out = run_quick("psum_reram", tmp_path)
    sweep = {int(r["adc_bits"]): r for r in rows(out / "psum_table1.csv") if r["workload"] == "LeNet-5"}
    # reram-psum Table 1: 59.0 > 46.3 > 41.0 > 38.3 uJ (LSTM) as the ADC goes 8 -> 4 -> 2 -> 1 bits
    assert sweep[8]["energy"] > sweep[4]["energy"] > sweep[2]["energy"] > sweep[1]["energy"]
    sweep = [r for r in rows(out / "psum_table1.csv") if r["workload"] != "LeNet-5"]
    assert {int(r["tiles"]) for r in sweep} == {9}  # the MLP stands for the paper's 9-tile MLP
    table3 = {r["scheme"]: r for r in rows(out / "psum_table3.csv")}
    # the paper's own schemes on our model: its energy-saving order Q_A > Q_B > Q_C (4.85 > 3.70 > 1.82), each
    # within 25 % of the paper's saving
    saving = [table3[q]["energy_saving"] for q in ("Q_A", "Q_B", "Q_C")]
    assert saving[0] > saving[1] > saving[2] > 1.0
    for q in ("Q_A", "Q_B", "Q_C"):
        assert table3[q]["energy_saving"] == pytest.approx(table3[q]["energy_saving_paper"], rel=0.25)
    assert any(r["source"] == "our search" for r in table3.values())


def test_codesign_compares_three_presets_and_the_space(tmp_path):
    out = run_quick("codesign", tmp_path)
    table = {r["search"]: r for r in rows(out / "codesign.csv")}
    assert set(table) == {"spatial-168", "spatial-256", "spatial-1024", "co-design"}
    # merged fronts: one entry per distinct objective vector, its hardware alternatives beside it
    fronts = json.loads((out / "codesign.json").read_text())["fronts"]
    for name, front in fronts.items():
        vectors = [tuple(round(v, 12) for v in s["F"]) for s in front]
        assert len(vectors) == len(set(vectors)) == table[name]["distinct_objectives"]
        assert table[name]["distinct_objectives"] <= table[name]["front_size"]
    assert all("pe_rows" in s["hw"] for s in fronts["co-design"])


def test_benq_tiles_and_eyeriss_energy_rows(tmp_path):
    out = run_quick("benq_tables", tmp_path, "--predictors", "energy")
    tiles = rows(out / "benq_tiles.csv")  # benq Table V W8A8: VGG 86 (1, 2, 4, 6, 12, 20, 40, 1), ResNet-18 121
    assert [int(r["tiles"]) for r in tiles] == [int(r["tiles_paper"]) for r in tiles] == [1, 2, 4, 6, 12, 20, 40, 1,
                                                                                        86, 121]
    table = rows(out / "benq_table6.csv")
    assert {r["method"] for r in table} >= {"DDPG+PACT", "PPO+PACT", "VPG+PACT", "PACT [W8A8]", "DoReFa-Net [W8A8]"}


def test_existing_validation_scripts_quick(tmp_path):
    run_quick("validate_eyeriss", tmp_path / "eyeriss")
    assert (tmp_path / "eyeriss" / "eyeriss_breakdown.csv").is_file()
    chip = {r["quantity"].strip(): r for r in rows(tmp_path / "eyeriss" / "eyeriss_chip.csv")}
    dram = chip["DRAM traffic, CONV1-5, batch 4 [MB]"]
    assert dram["chip"] == 15.4 and dram["flowq"] >= dram["floor"] * (1 - 1e-9)  # never below compulsory traffic
    assert dram["ratio"] == pytest.approx(dram["flowq"] / 15.4)
    run_quick("fig6_levels", tmp_path / "fig6", "--workload", "resnet20")  # ResNet-18's 16 Fine runs cost minutes
    fig6 = rows(tmp_path / "fig6" / "fig6_levels.csv")
    coarse = {(int(r["bits"]), int(r["buffer_bits"])): r for r in fig6 if r["level"] == "coarse"}
    checked = 0
    for r in fig6:
        if r["level"] != "coarse" and isinstance(r["dram_accesses_bits"], float) and r["note"] == "":
            ref = coarse[(int(r["bits"]), int(r["buffer_bits"]))]
            assert r["dram_accesses_bits"] >= ref["dram_accesses_bits"] * (1 - 1e-9)
            assert r["throughput"] <= ref["throughput"] * (1 + 1e-9)  # hw-flowq Fig. 6: never above Coarse's
            checked += 1
    assert checked == len([r for r in fig6 if r["level"] != "coarse"])  # every point mapped


def test_full_without_data_dir_exits_2(tmp_path, capsys):
    module = importlib.import_module("table5_dataflows")
    import common

    assert common.main_guard(module.main, ["--full", "--out", str(tmp_path)]) == 2
    assert "--data-dir" in capsys.readouterr().err
