"""Policy similarity of benq IV-C: cosine similarity and Manhattan distance between bitwidth policies, as matrices
over several search results, and benq Fig. 4-style heatmaps."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from hwmodels.errors import FlowQError


def policy_vector(bits_w, bits_a=None) -> np.ndarray:
    """A policy as one vector of bits: the weight bits of every layer followed by the activation bits."""
    bits_w = np.asarray(bits_w, dtype=float).reshape(-1)
    bits_a = bits_w if bits_a is None else np.asarray(bits_a, dtype=float).reshape(-1)
    return np.concatenate([bits_w, bits_a])


def cosine_similarity(p, q) -> float:
    """cos(p, q) = p.q / (|p| |q|) of two bit vectors (1 = proportional policies)."""
    p, q = np.asarray(p, dtype=float), np.asarray(q, dtype=float)
    if p.shape != q.shape:
        raise FlowQError(f"policies of {p.size} and {q.size} bitwidths cannot be compared; same network needed")
    norm = np.linalg.norm(p) * np.linalg.norm(q)
    return float(p @ q / norm) if norm > 0 else 0.0


def manhattan_distance(p, q) -> float:
    """sum |p - q| in bits: the number of one-bit adjustments between two policies (benq IV-C)."""
    p, q = np.asarray(p, dtype=float), np.asarray(q, dtype=float)
    if p.shape != q.shape:
        raise FlowQError(f"policies of {p.size} and {q.size} bitwidths cannot be compared; same network needed")
    return float(np.abs(p - q).sum())


def similarity_matrices(policies) -> tuple[np.ndarray, np.ndarray]:
    """(cosine (n, n), manhattan (n, n)) between every pair of policy vectors."""
    policies = [np.asarray(p, dtype=float) for p in policies]
    n = len(policies)
    cos, man = np.ones((n, n)), np.zeros((n, n))
    for i in range(n):
        for j in range(i + 1, n):
            cos[i, j] = cos[j, i] = cosine_similarity(policies[i], policies[j])
            man[i, j] = man[j, i] = manhattan_distance(policies[i], policies[j])
    return cos, man


def result_policy(data: dict, leader: str = "accuracy") -> np.ndarray:
    """The policy vector of a results.json's "hv", "accuracy" or "compression" leader (benq uses the policy of the
    best accuracy meeting the constraint: "accuracy" on a constrained run)."""
    key = f"{leader}_leader"
    if key not in data:
        raise FlowQError(f"leader {leader!r}; allowed: hv, accuracy, compression")
    index = data.get(key)
    if index is None or not data.get("front"):
        raise FlowQError("this run has an empty front (no candidate met its constraints); nothing to compare")
    solution = data["front"][index]
    return policy_vector(solution["bits_w"], solution["bits_a"])


def plot_similarity(names, cos, man, path) -> Path:
    """benq Fig. 4-style heatmaps: (a) cosine similarity, (b) Manhattan distance, written to `path` (PNG)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    n = len(names)
    fig, axes = plt.subplots(1, 2, figsize=(4 + 1.1 * n, 2 + 0.55 * n))
    for ax, matrix, title, fmt in ((axes[0], cos, "(a) cosine similarity", "{:.3f}"),
                                   (axes[1], man, "(b) Manhattan distance [bits]", "{:.0f}")):
        image = ax.imshow(matrix, cmap="viridis")
        ax.set_xticks(range(n), names, rotation=45, ha="right")
        ax.set_yticks(range(n), names)
        ax.set_title(title)
        for i in range(n):
            for j in range(n):
                ax.text(j, i, fmt.format(matrix[i, j]), ha="center", va="center", color="w", fontsize=8)
        fig.colorbar(image, ax=ax, fraction=0.046)
    fig.tight_layout()
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return path


def format_matrix(names, matrix, fmt: str = "{:.3f}") -> str:
    """A plain-text table of a square matrix with row and column names."""
    cells = [[fmt.format(v) for v in row] for row in matrix]
    width = max([len(n) for n in names] + [len(c) for row in cells for c in row])
    lines = [" " * width + "  " + "  ".join(n.rjust(width) for n in names)]
    for name, row in zip(names, cells):
        lines.append(name.rjust(width) + "  " + "  ".join(c.rjust(width) for c in row))
    return "\n".join(lines)
