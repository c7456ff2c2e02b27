"""FlowQ: hardware-aware mixed-precision quantization of CNNs across Coarse/Mid/Fine abstraction levels (HW-FlowQ).

Entry points: `flowq.flow.Flow` (search / refine / abstract), `problems.CoarseProblem/MidProblem/FineProblem`,
`flowq.plots`, and the `flowq` command line (`flowq.cli`). Submodules are imported on use, so importing `flowq`
stays cheap (no torch).
"""

__version__ = "0.1.0"
