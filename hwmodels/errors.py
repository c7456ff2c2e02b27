"""Exception types shared by every FlowQ package (hwmodels sits at the bottom of the dependency graph)."""


class FlowQError(Exception):
    """Base of every error FlowQ raises on bad user input. The CLI prints it and exits 2."""


class SpecError(FlowQError, ValueError):
    """An accelerator specification (YAML or preset name) is invalid. The message names field, value, allowed."""


class WorkloadError(FlowQError, ValueError):
    """A workload (layer shapes, model name) is invalid."""


class GenomeError(FlowQError, ValueError):
    """A genome / bitwidth assignment does not fit the workload or the hardware's supported bitwidths."""


class MappingError(FlowQError, RuntimeError):
    """The mapper found no legal mapping of a layer onto the accelerator."""


class DataError(FlowQError, ValueError):
    """A dataset is missing or malformed; the message says what to put where."""
