"""hwmodels: hardware cost models of spatial CNN accelerators at the Coarse, Mid and Fine abstraction levels."""

from hwmodels import _imports

_imports.install()  # numba's target set-up without scipy.linalg (start-up time, see hwmodels._imports)

from hwmodels.api import evaluate, evaluate_population
from hwmodels.cost import LEVELS, NetworkCost
from hwmodels.errors import FlowQError, GenomeError, MappingError, SpecError, WorkloadError
from hwmodels.spec import PRESETS, AcceleratorSpec, EnergyTable, load_spec
from hwmodels.workload import Layer
from hwmodels.zoo import WORKLOADS, get_workload

__all__ = ["evaluate", "evaluate_population", "LEVELS", "NetworkCost", "FlowQError", "GenomeError", "MappingError",
           "SpecError", "WorkloadError", "PRESETS", "AcceleratorSpec", "EnergyTable", "load_spec", "Layer",
           "WORKLOADS", "get_workload"]
