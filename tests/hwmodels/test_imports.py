"""Start-up: `flowq hw` at the Fine level imports neither torch, pymoo's plots, matplotlib nor scipy.linalg, and
numba's BLAS still works after the import hook of `hwmodels._imports`."""

import json
import subprocess
import sys

HW_RUN = """
import json, sys
from flowq.cli import main
main(["hw", "lenet5", "--hw", "spatial-256", "--bits", "8", "--json"])
print(json.dumps(sorted(m for m in ("torch", "matplotlib", "scipy.linalg", "torchvision") if m in sys.modules)))
"""


def test_flowq_hw_imports_no_heavy_module():
    out = subprocess.run([sys.executable, "-c", HW_RUN], capture_output=True, text=True, check=True).stdout
    assert json.loads(out.strip().splitlines()[-1]) == []


BLAS_RUN = """
import sys
import numpy as np
import hwmodels
from numba import njit
from hwmodels.fine.mapper import map_layer
from hwmodels.spec import load_spec
from hwmodels.zoo import get_workload
map_layer(get_workload("lenet5")[0], load_spec("spatial-256"), 8, 8, 8)  # numba's target is set up here
assert "scipy.linalg" not in sys.modules and "scipy.linalg.cython_blas" not in sys.modules

@njit
def dot(a, b):
    return np.dot(a, b)

a = np.arange(6.0).reshape(2, 3)
assert np.allclose(dot(a, a.T), [[5.0, 14.0], [14.0, 50.0]])  # BLAS through the real scipy.linalg.cython_blas
assert "scipy.linalg.cython_blas" in sys.modules and hasattr(sys.modules["scipy.linalg.cython_blas"], "__pyx_capi__")
print("ok")
"""


def test_numba_blas_still_works_after_the_hook():
    out = subprocess.run([sys.executable, "-c", BLAS_RUN], capture_output=True, text=True, check=True).stdout
    assert out.strip().endswith("ok")
