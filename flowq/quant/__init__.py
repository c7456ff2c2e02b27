"""FlowQ package."""
