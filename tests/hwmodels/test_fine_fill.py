"""The "fill" spatial space (`unrolling: fill`) against a brute-force Pareto filter of the "any" candidates.

The kernel prunes with `_growable` (one factor that can grow) before it lists candidates and then filters the rest
by sorted trip sums; here every "any" candidate is compared with every other one (numpy, no pruning), by the
definition in `_kernels._filling`: b dominates a when b uses no lanes, or a's lane dim with at most a's lanes, and
has no more temporal trips anywhere and fewer somewhere.
"""

import random
from dataclasses import replace

import numpy as np
import pytest

from hwmodels.fine import _kernels as K
from hwmodels.fine.pack import pack_layer, pack_spec
from hwmodels.spec import AcceleratorSpec
from hwmodels.workload import Layer


def brute_force_fill(cands: np.ndarray) -> np.ndarray:
    trips = cands[:, K.SC_TRIPS:K.SC_TRIPS + 8]
    lanes = cands[:, K.SC_LANES]
    dims = cands[:, K.SC_LANE_DIM]
    keep = np.ones(len(cands), dtype=bool)
    for start in range(0, len(cands), 128):  # every candidate a in the chunk against every b
        a = np.arange(start, min(start + 128, len(cands)))
        may = (lanes[None, :] == 1) | ((dims[None, :] == dims[a, None]) & (lanes[None, :] <= lanes[a, None]))
        covers = np.all(trips[None, :, :] <= trips[a, None, :], axis=2)
        strict = np.any(trips[None, :, :] < trips[a, None, :], axis=2)
        keep[a] = ~np.any(may & covers & strict, axis=1)
    return cands[keep]


def as_set(cands: np.ndarray) -> set:
    return {tuple(row) for row in cands.tolist()}


def random_case(seed: int):
    rng = random.Random(seed)
    kind = rng.choice(["conv", "conv", "dw", "fc"])
    n = rng.choice([1, 1, 2, 4])
    if kind == "fc":
        layer = Layer("fc", "fc", rng.randint(1, 64), rng.randint(1, 64), 1, 1, n=n)
    elif kind == "dw":
        c = rng.randint(1, 48)
        layer = Layer("dw", "dw", c, c, rng.randint(1, 14), rng.randint(1, 14), k_h=3, k_w=3, groups=c, n=n)
    else:
        k = rng.choice([1, 3, 5])
        layer = Layer("c", "conv", rng.randint(1, 48), rng.randint(1, 48), rng.randint(1, 14), rng.randint(1, 14),
                      k_h=k, k_w=k, stride=rng.choice([1, 2]), n=n)
    pe_type = rng.choice(["simd", "bitserial"])
    spec = AcceleratorSpec(name=f"fill-{seed}", pe_rows=rng.randint(1, 12), pe_cols=rng.randint(1, 14),
                           pe_type=pe_type, lanes=rng.choice([1, 4, 16]) if pe_type == "bitserial" else 1,
                           dataflow=rng.choice(["RS", "WS", "OS"]))
    bits = rng.choice([2, 4, 8, 16])
    return layer, spec, bits


@pytest.mark.parametrize("seed", [pytest.param(s, marks=pytest.mark.slow) if s >= 12 else s for s in range(60)])
def test_fill_candidates_equal_brute_force_pareto_of_any(seed):
    layer, spec, bits = random_case(seed)
    la = pack_layer(layer, bits, bits, bits, spec)
    lmax = K._max_lanes(pack_spec(spec).spec_i, bits, bits)
    every = K._spatial_candidates(la.bounds, pack_spec(replace(spec, unrolling="any")).spec_i, lmax)
    fill = K._spatial_candidates(la.bounds, pack_spec(spec).spec_i, lmax)
    assert len(fill) > 0
    assert as_set(fill) == as_set(brute_force_fill(every))

