"""Genome encoding: layout, decode/encode round trip, fixed layers, tie, errors."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from flowq.errors import GenomeError
from flowq.genome import GenomeEncoding

BITS = (2, 4, 6, 8, 16)


def test_layout_fixed_first_last_untied():
    enc = GenomeEncoding.for_layers(5, BITS, fixed_bits=16)
    # 3 free layers (1, 2, 3) x 2 loci (b_W, b_A) = 6 loci; cuts only between layers: after loci 2 and 4
    assert enc.free_layers == (1, 2, 3)
    assert enc.n_var == 6
    assert enc.cut_points.tolist() == [2, 4]
    bits_w, bits_a = enc.decode([0, 1, 2, 3, 4, 0])
    assert bits_w.tolist() == [16, 2, 6, 16, 16]  # loci 0, 2, 4 -> alleles 2, 6, 16; layers 0 and 4 fixed
    assert bits_a.tolist() == [16, 4, 8, 2, 16]


def test_tied_layout_and_no_fixed_layers():
    enc = GenomeEncoding.for_layers(3, BITS, tie=True, fixed_bits=None)
    assert enc.n_var == 3 and enc.cut_points.tolist() == [1, 2]
    bits_w, bits_a = enc.decode(np.array([[4, 0, 2]]))
    assert bits_w.tolist() == [[16, 2, 6]] and bits_a.tolist() == [[16, 2, 6]]


@settings(max_examples=40, deadline=None)
@given(st.integers(3, 12), st.booleans(), st.data())
def test_decode_encode_round_trip(n_layers, tie, data):
    enc = GenomeEncoding.for_layers(n_layers, BITS, tie=tie)
    X = np.asarray(data.draw(st.lists(st.integers(0, len(BITS) - 1), min_size=enc.n_var, max_size=enc.n_var)))
    BW, BA = enc.decode(X)
    assert BW.dtype == np.int64 and BA.dtype == np.int64
    assert np.array_equal(enc.encode(BW, BA), X)
    assert BW[0] == BW[-1] == BA[0] == BA[-1] == 16


def test_errors_name_the_problem():
    enc = GenomeEncoding.for_layers(4, BITS)
    with pytest.raises(GenomeError, match=r"expected \(n, 4\)"):
        enc.decode([0, 1, 2])
    with pytest.raises(GenomeError, match="allele index 5"):
        enc.decode([0, 1, 2, 5])
    with pytest.raises(GenomeError, match="3 bits is not an allele"):
        enc.encode([16, 3, 4, 16], [16, 4, 4, 16])
    with pytest.raises(GenomeError, match="ascending"):
        GenomeEncoding(4, (8, 4))
    with pytest.raises(GenomeError, match="nothing to search"):
        GenomeEncoding(2, BITS, fixed=((0, 16), (1, 16)))


def test_key_is_by_bits():
    enc = GenomeEncoding.for_layers(4, BITS)
    assert enc.key([0, 0, 4, 4]) == (16, 2, 16, 16, 16, 2, 16, 16)
