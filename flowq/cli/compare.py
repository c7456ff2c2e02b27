"""`flowq compare`: policy similarity between runs."""

from __future__ import annotations

from pathlib import Path

from hwmodels.errors import GenomeError


def cmd_compare(args) -> int:
    from flowq.agents.similarity import format_matrix, plot_similarity, policy_vector, result_policy, \
        similarity_matrices
    from flowq.flow import SearchResult

    names, policies = [], []
    for run in args.runs:
        result = SearchResult.load(run)
        names.append(f"{result.data.get('algorithm', '?')}:{Path(run).name}")
        policies.append(result_policy(result.data, args.leader))
        n_layers = len(result.data["config"]["layer_names"])
    if len({len(p) for p in policies}) > 1:
        raise GenomeError("the runs search networks of different depths; compare runs of one network")
    if args.reference_bits:
        reference = [args.reference_bits] * n_layers
        fixed = result.data["config"].get("fixed_bits")
        if fixed is not None and n_layers > 2:  # the first/last layers stay at the runs' fixed bitwidth
            reference[0] = reference[-1] = int(fixed)
        names.append(f"W{args.reference_bits}A{args.reference_bits}")
        policies.append(policy_vector(reference))
    cos, man = similarity_matrices(policies)
    print("cosine similarity\n" + format_matrix(names, cos) + "\n")
    print("Manhattan distance [bits]\n" + format_matrix(names, man, "{:.0f}"))
    path = plot_similarity(names, cos, man, args.out or "similarity.png")
    print(f"wrote {path}")
    return 0
