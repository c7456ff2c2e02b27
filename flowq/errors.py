"""FlowQ's exception types (defined in `hwmodels.errors` so that hwmodels stays free of flowq imports)."""

from hwmodels.errors import DataError, FlowQError, GenomeError, MappingError, SpecError, WorkloadError

__all__ = ["FlowQError", "SpecError", "WorkloadError", "GenomeError", "MappingError", "DataError"]
