"""Producer -> consumer edges: output bitwidths derived by hand on small graphs and on the zoo ResNets."""

from dataclasses import replace

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hwmodels import coarse
from hwmodels.errors import WorkloadError
from hwmodels.spec import load_spec
from hwmodels.workload import Layer, conv, fc, output_bits, output_bits_matrix, readers, with_chain_edges
from hwmodels.zoo import WORKLOADS, get_workload


def _layer(name, inputs=None, residuals=()):
    return replace(conv(name, 4, 4, 4), inputs=inputs, residuals=residuals)


def test_chain_is_the_next_layer_and_b_max_at_the_end():
    chain = [_layer("a"), _layer("b"), _layer("c")]  # inputs=None: each reads the previous layer
    assert output_bits(chain, [2, 4, 8]) == [4, 8, 16]
    assert output_bits(chain, [2, 4, 8], b_max=8) == [4, 8, 8]


def test_fan_out_writes_at_the_widest_reader():
    # a feeds b (4 bit) and c (6 bit): one stored copy must serve both -> 6; b and c are outputs -> 16
    graph = [_layer("a", ()), _layer("b", ("a",)), _layer("c", ("a",))]
    assert output_bits(graph, [8, 4, 6]) == [6, 16, 16]


def test_residual_operand_is_read_at_the_sums_width():
    # a -> b; c = conv(b) + a fused in c, read by d at 2 bit: a is read by b (b_a 8) and by c's add (c's output 2)
    graph = [_layer("a", ()), _layer("b", ("a",)), _layer("c", ("b",), ("a",)), _layer("d", ("c",))]
    assert output_bits(graph, [16, 8, 4, 2]) == [8, 4, 2, 16]
    # when the sum is wider than every input reader, the residual operand follows the sum
    assert output_bits(graph, [16, 2, 4, 8]) == [8, 4, 8, 16]


def test_sub_list_ignores_absent_readers():
    layers = get_workload("resnet20")
    assert output_bits(layers[3:4], [4]) == [16]  # nobody in the list reads it


def test_population_matrix_rows_match_single_genomes():
    layers = get_workload("resnet20")
    rng = np.random.default_rng(0)
    BA = rng.choice([2, 4, 8, 16], size=(5, len(layers)))
    matrix = output_bits_matrix(layers, BA)
    assert matrix.shape == BA.shape and matrix.dtype == np.int64
    for row in range(5):
        assert list(matrix[row]) == output_bits(layers, BA[row])


def test_resnet18_conv2_no_longer_writes_at_the_downsample_bitwidth():
    layers = get_workload("resnet18")
    names = [layer.name for layer in layers]
    bits_a = [8] * len(layers)
    bits_a[names.index("layer2.0.downsample.0")] = 16  # the downsample conv reads layer1.1.conv2, not conv2
    for name in ("layer2.1.conv1", "layer3.0.conv1", "layer3.0.downsample.0"):
        bits_a[names.index(name)] = 2
    out = dict(zip(names, output_bits(layers, bits_a)))
    # layer2.0.conv2 -> (add in downsample.0) -> read by layer2.1.conv1 (2) and layer2.1.conv2's add, whose sum
    # is read by layer3.0.conv1 and layer3.0.downsample.0 (2): every reader reads 2 bits
    assert out["layer2.0.conv2"] == 2
    # the old rule wrote it at the next layer's b_a, the downsample conv's 16
    assert coarse.output_bits(np.array([bits_a]), load_spec("spatial-256"))[0, names.index("layer2.0.conv2")] == 16
    assert out["layer1.1.conv2"] == 16  # read by layer2.0.conv1 (8) and layer2.0.downsample.0 (16)
    assert out["fc"] == 16


def test_resnet18_edges_by_hand():
    layers = {layer.name: layer for layer in get_workload("resnet18")}
    assert layers["conv1"].inputs == ()
    assert layers["layer1.0.conv1"].inputs == ("conv1",)  # through BN, ReLU and the max-pool
    assert layers["layer1.0.conv2"].residuals == ("conv1",)
    assert layers["layer2.0.downsample.0"].inputs == ("layer1.1.conv2",)
    assert layers["layer2.0.downsample.0"].residuals == ("layer2.0.conv2",)
    assert layers["layer2.1.conv1"].inputs == ("layer2.0.downsample.0",)
    assert layers["layer2.1.conv2"].residuals == ("layer2.0.downsample.0",)
    assert layers["fc"].inputs == ("layer4.1.conv2",)


@pytest.mark.parametrize("name", WORKLOADS)
def test_zoo_edges_point_backwards_to_existing_layers(name):
    layers = get_workload(name)
    position = {layer.name: k for k, layer in enumerate(layers)}
    assert layers[0].inputs == ()
    for k, layer in enumerate(layers):
        assert layer.inputs is not None
        for producer in layer.inputs + layer.residuals:
            assert position[producer] < k
    # every layer but the last is read by someone
    input_readers, residual_readers = readers(layers)
    assert all(input_readers[k] or residual_readers[k] for k in range(len(layers) - 1))


def test_coarse_activation_bits_follow_edges():
    # a (4->4, 4x4) feeds b and c; outputs 4*16 = 64 elements written once at max(b_a[b], b_a[c]) = 8
    graph = [_layer("a", ()), _layer("b", ("a",)), _layer("c", ("a",))]
    rows = coarse.evaluate_network(graph, load_spec("spatial-256"), [8, 8, 8], [16, 8, 4]).layers
    inputs = graph[0].n_inputs  # 4 * 6 * 6 = 144
    assert rows[0]["activation_bits"] == inputs * 16 + 64 * 8
    assert rows[1]["activation_bits"] == inputs * 8 + 64 * 16


def test_errors_name_the_layer():
    with pytest.raises(WorkloadError, match="appears twice"):
        output_bits([_layer("a"), _layer("a")], [8, 8])
    with pytest.raises(WorkloadError, match="'a' lists itself"):
        output_bits([_layer("a", ("a",))], [8])
    with pytest.raises(WorkloadError, match="cycle"):
        output_bits([_layer("a", (), ("b",)), _layer("b", (), ("a",))], [8, 8])
    with pytest.raises(WorkloadError, match="inputs='a'"):
        _layer("a", "a")
    with pytest.raises(WorkloadError, match="bits_a has 1 layers"):
        output_bits([_layer("a"), _layer("b")], [8])


def test_explicit_chain_equals_implicit():
    chain = [conv("a", 3, 8, 8), conv("b", 8, 8, 8), fc("c", 512, 10)]
    explicit = with_chain_edges(chain)
    assert [layer.inputs for layer in explicit] == [(), ("a",), ("b",)]
    assert output_bits(explicit, [8, 4, 2]) == output_bits(chain, [8, 4, 2]) == [4, 2, 16]


@st.composite
def _graphs(draw):
    n = draw(st.integers(1, 12))
    layers = []
    for k in range(n):
        earlier = [f"l{j}" for j in range(k)]
        inputs = tuple(draw(st.lists(st.sampled_from(earlier), unique=True, max_size=3))) if earlier else ()
        residuals = tuple(draw(st.lists(st.sampled_from(earlier), unique=True, max_size=2))) if earlier else ()
        layers.append(Layer(f"l{k}", "conv", 2, 2, 2, 2, inputs=inputs, residuals=residuals))
    bits = draw(st.lists(st.sampled_from([2, 4, 6, 8, 16]), min_size=n, max_size=n))
    return layers, bits


@settings(max_examples=200, deadline=None)
@given(_graphs())
def test_output_serves_every_reader_and_is_one_of_them(graph):
    layers, bits = graph
    out = output_bits(layers, bits)
    index = {layer.name: k for k, layer in enumerate(layers)}
    for k, layer in enumerate(layers):
        needs = [bits[j] for j, other in enumerate(layers) if layer.name in other.inputs]
        needs += [out[j] for j, other in enumerate(layers) if layer.name in other.residuals]
        assert out[k] == (max(needs) if needs else 16)
        assert all(index[p] < k for p in layer.inputs)


def test_strided_layers_count_the_inputs_they_read():
    # ResNet-18 layer2.0.downsample.0: 1x1 stride 2 on 64x56x56 reads rows/cols 0, 2, .., 54: 64 * 28 * 28
    down = next(l for l in get_workload("resnet18") if l.name == "layer2.0.downsample.0")
    assert down.n_inputs == 64 * 56 * 56 and down.n_inputs_used == 64 * 28 * 28
    # a 3x3 stride-2 conv covers every row: (28-1)*2 + 3 = 57 rows, clipped to the 56 stored
    conv1 = next(l for l in get_workload("resnet18") if l.name == "layer2.0.conv1")
    assert conv1.n_inputs_used == conv1.n_inputs == 64 * 56 * 56
    # Coarse's compulsory traffic counts only the read inputs: 64*28*28 at 8 bit + outputs 128*28*28 at 16
    row = coarse.evaluate_network([down], load_spec("spatial-256"), [8], [8]).layers[0]
    assert row["activation_bits"] == 64 * 28 * 28 * 8 + 128 * 28 * 28 * 16
