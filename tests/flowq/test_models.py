"""Models: output shapes, and workload_of == hwmodels.zoo so the HW model and the trained net are the same network."""

import subprocess
import sys

import pytest
import torch

from flowq.errors import WorkloadError
from flowq.models import MODELS, build_model, workload_of
from flowq.quant import quantize_model
from hwmodels.zoo import get_workload


@pytest.mark.parametrize("name, input_shape", [("resnet20", (3, 32, 32)), ("vgg16", (3, 32, 32)),
                                               ("lenet5", (1, 32, 32)), ("mobilenetv2", (3, 32, 32)),
                                               ("resnet56", (3, 32, 32))])
def test_workload_of_equals_zoo(name, input_shape):
    assert workload_of(build_model(name, input_size=input_shape), input_shape) == get_workload(name)


def test_resnet20_workload_by_hand():
    layers = workload_of(build_model("resnet20"), (3, 32, 32))
    # 1 stem conv + 3 stages x 3 blocks x 2 convs + fc = 20 layers; option A shortcuts have no conv
    assert len(layers) == 20
    assert [l.name for l in layers[:3]] == ["conv1", "layer1.0.conv1", "layer1.0.conv2"]
    down = layers[7]  # first conv of stage 2: 16 -> 32 channels, stride 2, 32x32 in -> 16x16 out
    assert (down.name, down.c_in, down.c_out, down.stride, down.h_in, down.h_out) == ("layer2.0.conv1", 16, 32, 2,
                                                                                       32, 16)
    assert (layers[-1].name, layers[-1].kind, layers[-1].c_in, layers[-1].c_out) == ("fc", "fc", 64, 10)
    # MACs: stem 16*3*9*1024 = 442,368; stage 1: 6 convs * 16*16*9*1024 = 14,155,776; stage 2: 16*32*9*256
    # + 5 * 32*32*9*256 = 1,179,648 + 11,796,480; stage 3: 32*64*9*64 + 5 * 64*64*9*64 = 1,179,648 + 11,796,480;
    # fc 640 -> total 40,551,040
    assert sum(l.macs for l in layers) == 40_551_040


def test_batch_from_input_shape():
    assert {l.n for l in workload_of(build_model("lenet5", input_size=(1, 32, 32)), (4, 1, 32, 32))} == {4}


def test_workload_of_a_quantised_model_is_unchanged():
    x = torch.randn(2, 3, 32, 32)
    model = quantize_model(build_model("resnet20"), 4, 4, example_input=x)
    assert workload_of(model, (3, 32, 32)) == get_workload("resnet20")


@pytest.mark.parametrize("name", ["resnet20", "vgg16", "lenet5", "mobilenetv2"])
def test_num_classes_and_input_size(name):
    model = build_model(name, num_classes=7, input_size=(1, 64, 64)).eval()
    with torch.no_grad():
        assert model(torch.zeros(2, 1, 64, 64)).shape == (2, 7)


def test_depthwise_layers_are_kind_dw():
    layers = workload_of(build_model("mobilenetv2"), (3, 32, 32))
    dw = [l for l in layers if l.kind == "dw"]
    assert len(dw) == 17 and all(l.groups == l.c_in == l.c_out for l in dw)  # one per inverted-residual block


def test_errors():
    with pytest.raises(WorkloadError, match="available: resnet20"):
        build_model("resnet21")
    with pytest.raises(WorkloadError, match="depth=22"):
        MODELS["resnet20"].func(22)
    with pytest.raises(WorkloadError, match=r"\(C, H, W\)"):
        workload_of(build_model("resnet20"), (32, 32))


def test_torchvision_is_not_imported_by_core():
    code = "import sys, flowq.models, flowq.accuracy, flowq.data; assert 'torchvision' not in sys.modules"
    assert subprocess.run([sys.executable, "-c", code]).returncode == 0
