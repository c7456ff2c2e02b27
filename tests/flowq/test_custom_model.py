"""Your own network and data (issue 21): factory specs and modules, --weights, the workload traced from the network
that is trained at the data's input size and classes, imagefolder without torchvision, `flowq hw` on ONNX."""

import json
import warnings

import numpy as np
import pytest
import torch
from torch import nn

from flowq.cli import main
from flowq.data import dataset_shape, load_dataset
from flowq.errors import WorkloadError
from flowq.flow import Flow
from flowq.models import build_model, model_name, network_workload, workload_of
from hwmodels.zoo import get_workload

NET = '''
from torch import nn


class Tiny(nn.Module):
    def __init__(self, num_classes=10, input_size=(3, 32, 32)):
        super().__init__()
        self.features = nn.Sequential(nn.Conv2d(input_size[0], 8, 3, padding=1), nn.BatchNorm2d(8), nn.ReLU(),
                                      nn.MaxPool2d(2), nn.Conv2d(8, 16, 3, padding=1), nn.ReLU(),
                                      nn.AdaptiveAvgPool2d(1), nn.Flatten())
        self.fc = nn.Linear(16, num_classes)

    def forward(self, x):
        return self.fc(self.features(x))


def tiny(num_classes, input_size):
    return Tiny(num_classes, input_size)


def no_arguments():
    return Tiny()


not_a_model = 3
'''


@pytest.fixture
def net_file(tmp_path):
    path = tmp_path / "mynet.py"
    path.write_text(NET)
    return path


@pytest.fixture
def image_folder(tmp_path):
    """root/train/<3 classes>/<4 images> of different sizes and modes (PIL reads them all)."""
    from PIL import Image

    rng = np.random.default_rng(0)
    for c, name in enumerate(("cat", "dog", "fox")):
        (tmp_path / "data" / "train" / name).mkdir(parents=True)
        for k in range(4):
            pixels = rng.integers(0, 255, (20 + 3 * k, 24, 3), dtype=np.uint8)
            image = Image.fromarray(pixels)
            (image.convert("L") if k == 0 else image).save(tmp_path / "data" / "train" / name / f"{k}.png")
    return tmp_path / "data"


def test_factory_specs_get_classes_and_input_size_and_bad_ones_are_named(net_file):
    model = build_model(f"{net_file}:tiny", num_classes=7, input_size=(1, 20, 20))
    assert model.fc.out_features == 7 and model.features[0].in_channels == 1
    assert isinstance(build_model(f"{net_file}:no_arguments", 7, (1, 20, 20)), nn.Module)  # nothing passed
    assert model_name(f"{net_file.name}:tiny") != f"{net_file.name}:tiny"  # a relative file is recorded absolute
    for spec, words in ((f"{net_file}:missing", "no attribute"), (f"{net_file}:not_a_model", "not a callable"),
                        (f"{net_file.parent}/nope.py:tiny", "is not a file"), ("no_such_pkg.mod:f", "cannot import")):
        with pytest.raises(WorkloadError, match=words):
            build_model(spec)
    assert build_model("torch.nn:Identity").__class__ is nn.Identity  # an importable module:callable


def test_a_module_spec_only_the_current_folder_provides_is_recorded_as_its_file(net_file, monkeypatch):
    monkeypatch.chdir(net_file.parent)
    assert model_name("mynet:tiny") == f"{net_file.resolve()}:tiny"  # refine / train work from anywhere
    assert model_name("torch.nn:Identity") == "torch.nn:Identity"  # an installed module stays as given


def test_workload_follows_the_trained_network(net_file, image_folder):
    assert dataset_shape("imagefolder", root=image_folder) == (3, (3, 224, 224))
    data = load_dataset("imagefolder", root=image_folder, image_size=16)  # PIL only, no torchvision
    assert data.num_classes == 3 and data.input_shape == (3, 16, 16) and len(data.train_y) + len(data.test_y) > 0
    flow = Flow(f"{net_file}:tiny", "imagefolder", "proxy", evaluator_kwargs={"data_root": str(image_folder)})
    workload = flow.problem("coarse", objectives=("frac_ops", "bitops")).workload
    assert [(layer.name, layer.h_out, layer.c_out) for layer in workload] == \
        [("features.0", 224, 8), ("features.4", 112, 16), ("fc", 1, 3)]
    # a zoo name keeps the zoo table when its shapes are the data's, and is traced when they are not
    assert network_workload("resnet20", (10, (3, 32, 32))) == get_workload("resnet20")
    lenet = network_workload("lenet5", (10, (3, 32, 32)))  # digits are 3-channel: conv1 reads 3 channels
    assert lenet[0].c_in == 3 and get_workload("lenet5")[0].c_in == 1
    lenet = Flow("lenet5", "imagefolder", "proxy", evaluator_kwargs={"data_root": str(image_folder)}).workload()
    assert lenet[-1].c_out == 3 and lenet[0].h_in == 224 and lenet[2].c_in == 16 * 53 * 53  # the data's shapes
    module = Flow(build_model(f"{net_file}:tiny"), "digits", "proxy")  # an nn.Module from Python
    assert module.model.startswith("<module ") and [layer.c_out for layer in module.workload()] == [8, 16, 10]


def test_hw_on_the_same_factory_matches_the_search_workload(net_file, image_folder, capsys):
    assert main(["hw", f"{net_file}:tiny", "--dataset", "imagefolder", "--data-dir", str(image_folder), "--level",
                 "coarse", "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    flow = Flow(f"{net_file}:tiny", "imagefolder", "proxy", evaluator_kwargs={"data_root": str(image_folder)})
    assert [row["name"] for row in report["layers"]] == [layer.name for layer in flow.workload()]
    ops = sum(layer.c_in * layer.c_out * layer.h_out * layer.w_out * layer.k_h * layer.k_w // layer.groups
              for layer in flow.workload())
    assert report["total"]["ops"] == ops


@pytest.mark.parametrize("name", ["resnet20", pytest.param("mobilenetv2", marks=pytest.mark.slow)])
def test_hw_on_an_onnx_export_gives_the_zoo_totals(name, tmp_path, capsys):
    pytest.importorskip("onnx")
    path = tmp_path / f"{name}.onnx"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(build_model(name).eval(), (torch.zeros(1, 3, 32, 32),), str(path), dynamo=False,
                          opset_version=17)
    totals = {}
    for model in (name, str(path)):
        assert main(["hw", model, "--level", "mid", "--bits", "8", "--json"]) == 0
        report = json.loads(capsys.readouterr().out)
        totals[model] = (report["total"], [row["name"] for row in report["layers"]])
    assert totals[name] == totals[str(path)]
    assert main(["hw", str(tmp_path / "missing.onnx")]) == 2
    assert "no such ONNX file" in capsys.readouterr().err


@pytest.mark.slow
def test_search_with_own_model_and_weights_records_them_and_trains_no_float_network(net_file, tmp_path, capsys):
    model = build_model(f"{net_file}:tiny", 10, (3, 32, 32))
    torch.save(model.state_dict(), tmp_path / "w.pt")
    run = tmp_path / "run"
    assert main(["search", "--model", f"{net_file}:tiny", "--weights", str(tmp_path / "w.pt"), "--dataset",
                 "digits", "--level", "coarse", "--evaluator", "proxy", "--pop", "2", "--gen", "1", "--quiet",
                 "--out", str(run)]) == 0
    out = capsys.readouterr().out
    assert "pretrained weights" in out and "float training" not in out
    data = json.loads((run / "results.json").read_text())
    assert data["config"]["model"] == f"{net_file}:tiny" and data["config"]["layer_names"] == \
        ["features.0", "features.4", "fc"]
    assert data["evaluator"]["options"]["weights"] == str(tmp_path / "w.pt")
    torch.save({"fc.weight": torch.zeros(3, 3)}, tmp_path / "bad.pt")
    assert main(["search", "--model", f"{net_file}:tiny", "--weights", str(tmp_path / "bad.pt"), "--level",
                 "coarse", "--evaluator", "proxy", "--pop", "2", "--gen", "1", "--quiet",
                 "--out", str(tmp_path / "bad")]) == 2
    assert "does not fit" in capsys.readouterr().err


def test_workload_of_a_module_matches_its_trace():
    module = build_model("lenet5", 10, (3, 32, 32))
    assert workload_of(module, (3, 32, 32)) == network_workload(module, (10, (3, 32, 32)))
