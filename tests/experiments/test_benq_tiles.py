"""benq Table V's W8A8 tile counts on the `reram-benq` preset (DNN+NeuroSim's conventional-mapping count with a
4 x 4 grid of 128 x 128 arrays per PE and 4 PEs per tile): VGG 86 (per layer 1, 2, 4, 6, 12, 20, 40, 1) and
ResNet-18 121, exactly. Hardware only (fast)."""

from __future__ import annotations

import importlib

import pytest

from hwmodels.reram import load_reram_spec
from hwmodels.zoo import get_workload

@pytest.fixture(scope="module")
def benq(experiments_on_path):
    return importlib.import_module("benq_tables")


def test_reram_benq_reproduces_table5_vgg_per_layer(benq):
    assert benq.w8a8_tiles(benq.benq_vgg()) == [1, 2, 4, 6, 12, 20, 40, 1]  # benq Table V: 86 tiles at W8A8


def test_reram_benq_reproduces_table5_resnet18(benq):
    assert sum(benq.w8a8_tiles(get_workload("resnet18"))) == 121


def test_the_benq_tile_formula_on_the_same_arrays_does_not(benq):
    # benq eq. 3 (crossbars pooled per tile) on the same 16 x 4 arrays gives another count: the neurosim formula
    # (a square grid of arrays per tile, rows and columns split separately) is what reproduces Table V
    spec = load_reram_spec("reram-benq")
    assert spec.tile_formula == "neurosim" and spec.xbars_per_pe == 16 and spec.pes_per_tile == 4
    from hwmodels.reram import evaluate_network

    vgg = benq.benq_vgg()
    eq3 = evaluate_network(vgg, spec.with_(tile_formula="benq"), [8] * 8, [8] * 8).total["tiles"]
    assert eq3 != 86


def test_tiles_table_marks_every_count_equal(benq):
    rows, notes = benq.tiles_table()
    assert all(r["tiles"] == r["tiles_paper"] for r in rows) and "every count equals the paper" in notes[0]
