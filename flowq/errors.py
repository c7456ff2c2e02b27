"""FlowQ's exception types (defined in `hwmodels.errors` so that hwmodels stays free of flowq imports)."""

from hwmodels.errors import DataError, FlowQError, GenomeError, MappingError, SpecError, WorkloadError


class SearchError(FlowQError, ValueError):
    """Bad search settings: unknown algorithm, population or generations below their minimum, bad seed."""


class EvaluatorError(FlowQError, ValueError):
    """Bad accuracy-evaluator settings: epochs, steps, batch size, quantiser, device."""


__all__ = ["FlowQError", "SpecError", "WorkloadError", "GenomeError", "MappingError", "DataError", "SearchError",
           "EvaluatorError"]
