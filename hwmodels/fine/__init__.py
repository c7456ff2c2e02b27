"""Fine abstraction level: numba loop-nest scheduler/mapper (`mapper`), its kernels and the shared buffer tiler."""

from hwmodels.fine.mapper import (LayerCost, Mapping, evaluate_mapping, evaluate_network, evaluate_population,
                                  map_layer)

__all__ = ["LayerCost", "Mapping", "evaluate_mapping", "evaluate_network", "evaluate_population", "map_layer"]
