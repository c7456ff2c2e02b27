"""`flowq train --export both`: the trained pick as QDQ and QONNX files, each run on the validation split by ONNX
Runtime / qonnx's executor and compared with the PyTorch model in trained.json (slow: trains a float network)."""

import json

import pytest

from flowq.cli import main
from flowq.flow import Flow

pytestmark = pytest.mark.slow
onnx = pytest.importorskip("onnx")
pytest.importorskip("onnxruntime")
pytest.importorskip("qonnx")


def test_train_export_both_records_the_runtimes_agreement(tmp_path):
    flow = Flow("lenet5", "digits", "proxy", hw="spatial-256", verbose=False, seed=0)
    flow.search("coarse", "nsga2", n_gen=1, pop_size=4, out=tmp_path / "run")
    assert main(["train", str(tmp_path / "run"), "--finetune", "--epochs", "0.3", "--export", "both"]) == 0
    trained = json.loads((tmp_path / "run" / "trained" / "trained.json").read_text())
    for fmt, runtime in (("qdq", "onnxruntime"), ("qonnx", "qonnx.core.onnx_exec")):
        check = trained["exports"][fmt]
        assert check["runtime"] == runtime and check["split"] == "validation" and check["images"] >= 100
        assert check["argmax_agreement"] >= 0.97
        # an image may change class only where PyTorch itself nearly ties (a float-order rounding flip)
        assert all(d["pytorch_top2_margin"] <= 2 * check["max_abs_logit_diff"] for d in check["disagreements"])
        proto = onnx.load(tmp_path / "run" / "trained" / check["file"])
        meta = {p.key: json.loads(p.value) for p in proto.metadata_props}
        assert [row[1] for row in meta["flowq.layer_bits"]] == trained["bits_w"]
        assert [row[2] for row in meta["flowq.layer_bits"]] == trained["bits_a"]
