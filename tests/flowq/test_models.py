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


# ---- producer -> consumer edges traced from the module (issue 8) -------------------------------------------------

class _TorchvisionStyleBlock(torch.nn.Module):
    """torchvision BasicBlock pattern: downsample(x) runs after conv2, then an in-place add."""

    def __init__(self):
        super().__init__()
        self.stem = torch.nn.Conv2d(3, 4, 3, padding=1)
        self.conv1 = torch.nn.Conv2d(4, 8, 3, 2, 1)
        self.conv2 = torch.nn.Conv2d(8, 8, 3, 1, 1)
        self.downsample = torch.nn.Sequential(torch.nn.Conv2d(4, 8, 1, 2), torch.nn.BatchNorm2d(8))
        self.head = torch.nn.Conv2d(8, 2, 1)
        self.fc = torch.nn.Linear(2 * 4 + 8, 3)

    def forward(self, x):
        x = torch.relu(self.stem(x))
        out = self.conv2(torch.relu(self.conv1(x)))
        identity = self.downsample(x)
        out += identity
        out = torch.relu(out)
        pooled = torch.flatten(torch.nn.functional.adaptive_avg_pool2d(self.head(out), 2), 1)
        return self.fc(torch.cat([pooled, out.mean(dim=(2, 3))], dim=1))


def test_edges_of_a_torchvision_style_block_and_a_concat():
    layers = {l.name: l for l in workload_of(_TorchvisionStyleBlock(), (3, 8, 8))}
    assert layers["stem"].inputs == () and layers["conv1"].inputs == ("stem",)
    assert layers["conv2"].inputs == ("conv1",) and layers["conv2"].residuals == ()
    # the add runs when downsample.0 (the later operand) is done: it is fused there and reads conv2's output
    assert layers["downsample.0"].inputs == ("stem",) and layers["downsample.0"].residuals == ("conv2",)
    assert layers["head"].inputs == ("downsample.0",)
    # the concatenation keeps both producers
    assert layers["fc"].inputs == ("downsample.0", "head")


def test_resnet20_and_mobilenetv2_edges_by_hand():
    resnet = {l.name: l for l in workload_of(build_model("resnet20"), (3, 32, 32))}
    assert resnet["layer1.0.conv2"].residuals == ("conv1",)
    # option-A shortcut (subsample + zero-pad) is parameter-free, so the stage-2 add reads layer1.2.conv2
    assert resnet["layer2.0.conv1"].inputs == ("layer1.2.conv2",)
    assert resnet["layer2.0.conv2"].residuals == ("layer1.2.conv2",)
    assert resnet["fc"].inputs == ("layer3.2.conv2",)
    mobile = {l.name: l for l in workload_of(build_model("mobilenetv2"), (3, 32, 32))}
    assert mobile["layers.0.shortcut.0"].residuals == ("layers.0.conv3",)  # 32 -> 16: a 1x1 shortcut conv
    # layers.1 widens 16 -> 24 (shortcut conv, which fuses its add); layers.2 keeps 24: identity into conv3
    assert mobile["layers.2.conv3"].residuals == ("layers.1.shortcut.0",)
    assert mobile["layers.3.conv3"].residuals == ()                        # stride 2: no residual
    assert mobile["layers.1.conv1"].inputs == ("layers.0.shortcut.0",)
