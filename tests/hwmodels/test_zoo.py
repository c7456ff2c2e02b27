"""Tests of the workload zoo: shapes and counts against hand-derived and published numbers."""

import pytest

from hwmodels.errors import WorkloadError
from hwmodels.workload import total_macs
from hwmodels.zoo import WORKLOADS, get_workload


def test_alexnet_conv1_macs_match_eyeriss():
    # CONV1: M=96 filters, E=55x55 outputs, C=3, R=11x11 -> 96 * 55*55 * 3*11*11 = 105,415,200 (REFERENCES 1.2)
    conv1 = get_workload("alexnet-conv")[0]
    assert conv1.macs == 105_415_200
    assert conv1.h_in == 227  # Eyeriss Table I H


def test_alexnet_conv_totals_match_eyeriss_isscc():
    # "666 million MACs ... 2.3 million weights": REFERENCES 1.2 sums 665,784,864 MACs and 2,332,704 weights
    layers = get_workload("alexnet-conv")
    assert total_macs(layers) == 665_784_864
    assert sum(layer.n_weights for layer in layers) == 2_332_704


def test_alexnet_compulsory_words_per_layer():
    # W + I + O words from Table I (REFERENCES 1.2), e.g. CONV2: 307,200 + 96*31*31 + 256*27*27 = 586,080
    expected = [479_835, 586_080, 1_007_232, 814_848, 572_032]
    got = [layer.n_weights + layer.n_inputs + layer.n_outputs for layer in get_workload("alexnet-conv")]
    assert got == expected


def test_alexnet_fc_layers():
    # FC1 256*6*6 -> 4096 = 37,748,736 MACs; FC2 4096*4096; FC3 4096*1000 (REFERENCES 1.2)
    layers = get_workload("alexnet")
    assert [layer.macs for layer in layers[5:]] == [37_748_736, 16_777_216, 4_096_000]


def test_resnet20_structure():
    # option A: 1 stem conv + 3 stages x 3 blocks x 2 convs (= 19 convs) + fc = 20 layers, no shortcut convs
    layers = get_workload("resnet20")
    assert len(layers) == 20
    assert layers[0].name == "conv1" and layers[-1].name == "fc" and layers[1].name == "layer1.0.conv1"
    assert not any("shortcut" in layer.name or "downsample" in layer.name for layer in layers)
    # stage-2 first conv: 16 -> 32 channels, stride 2, 32x32 input -> 16x16 output
    first_down = next(layer for layer in layers if layer.name == "layer2.0.conv1")
    assert (first_down.c_in, first_down.c_out, first_down.stride, first_down.h_in, first_down.h_out) == (
        16, 32, 2, 32, 16)
    # MACs: stem 16*32*32*27 = 442,368; stage1 6 convs of 16*32*32*144 = 2,359,296 each;
    # stage2 first 32*16*16*144 = 1,179,648 then 5 of 32*16*16*288 = 2,359,296;
    # stage3 first 64*8*8*288 = 1,179,648 then 5 of 2,359,296; fc 640
    expected = 442_368 + 6 * 2_359_296 + 2 * (1_179_648 + 5 * 2_359_296) + 640
    assert total_macs(layers) == expected


@pytest.mark.parametrize("name,n_layers", [("resnet32", 32), ("resnet44", 44), ("resnet56", 56)])
def test_deeper_cifar_resnets(name, n_layers):
    # depth 6n+2 = 1 stem conv + 6n block convs + 1 fc
    assert len(get_workload(name)) == n_layers


def test_vgg16_cifar():
    # 13 convs + 1 fc; MACs sum over stages: 32px: 3*64+64*64, 16px: 64*128+128*128, 8px: 128*256+2*256*256,
    # 4px: 256*512+2*512*512, 2px: 3*512*512, each times 9 * pixels; plus fc 512*10
    layers = get_workload("vgg16")
    assert len(layers) == 14
    expected = 9 * (1024 * (3 * 64 + 64 * 64) + 256 * (64 * 128 + 128 * 128) + 64 * (128 * 256 + 2 * 256 * 256)
                    + 16 * (256 * 512 + 2 * 512 * 512) + 4 * 3 * 512 * 512) + 5120
    assert total_macs(layers) == expected
    assert layers[2].name == "features.7"


def test_resnet18_imagenet():
    # 1 stem + 16 block convs + 3 downsample convs + fc = 21 layers; about 1.81 GMACs (He et al.: 1.8 GFLOPs)
    layers = get_workload("resnet18")
    assert len(layers) == 21
    assert layers[0].macs == 64 * 112 * 112 * 3 * 49  # 118,013,952
    assert 1.80e9 < total_macs(layers) < 1.83e9


def test_mobilenetv2_depthwise_layers():
    layers = get_workload("mobilenetv2")
    depthwise = [layer for layer in layers if layer.kind == "dw"]
    assert len(depthwise) == 17  # one per inverted-residual block: 1+2+3+4+3+3+1
    assert all(layer.groups == layer.c_in == layer.c_out for layer in depthwise)
    assert layers[-1].c_in == 1280


def test_lenet5_shapes():
    # conv1 6*28*28*25 = 117,600; conv2 16*10*10*150 = 240,000; fc 400*120 + 120*84 + 84*10 = 58,920
    assert total_macs(get_workload("lenet5")) == 117_600 + 240_000 + 58_920


@pytest.mark.parametrize("name", WORKLOADS)
def test_batch_scales_macs_not_weights(name):
    one, four = get_workload(name), get_workload(name, batch=4)
    assert total_macs(four) == 4 * total_macs(one)
    assert sum(l.n_weights for l in four) == sum(l.n_weights for l in one)


def test_unknown_name_lists_workloads():
    with pytest.raises(WorkloadError, match="resnet20"):
        get_workload("resnet21")


def test_bad_batch():
    with pytest.raises(WorkloadError, match="batch"):
        get_workload("lenet5", batch=0)
