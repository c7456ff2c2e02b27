"""Pareto fronts of normalised, minimised objectives: non-dominated set, hypervolume and the leaders picked from it.

Leaders (indices into the front they are picked from):
    hv_leader           hw-flowq 6.2: reference point = the worst value of every objective over the front (its polar
                        solutions); the leader is the solution at the largest Euclidean distance from it, measured on
                        the stored objectives (already normalised to the 16-bit baseline / psi). `rule="rescaled"`
                        first stretches every objective to [0, 1] over the front (a variant, not the paper's rule).
    accuracy_leader     lowest 1 - psi, ties broken by the hardware objectives in order.
    compression_leader  lowest first hardware objective, ties broken by accuracy, then the other hardware objectives.
"""

from __future__ import annotations

import numpy as np
from pymoo.indicators.hv import HV
from pymoo.util.nds.non_dominated_sorting import NonDominatedSorting

from hwmodels.errors import FlowQError

HV_LEADER_RULES = ("paper", "rescaled")


def non_dominated(F) -> np.ndarray:
    """Indices of the non-dominated rows of F (n, m) (all objectives minimised), ascending."""
    F = np.asarray(F, dtype=float)
    if len(F) == 0:
        return np.zeros(0, dtype=np.int64)
    return np.sort(np.asarray(NonDominatedSorting().do(F, only_non_dominated_front=True), dtype=np.int64))


def hypervolume(F, ref_point) -> float:
    """Hypervolume dominated by F (n, m) up to `ref_point` (m,) (pymoo `HV`, moocore); 0 for an empty set."""
    F = np.asarray(F, dtype=float).reshape(-1, len(ref_point))
    F = F[np.all(F < np.asarray(ref_point), axis=1)]
    if len(F) == 0:
        return 0.0
    return float(HV(ref_point=np.asarray(ref_point, dtype=float)).do(F))


def hv_leader(F, rule: str = "paper") -> int | None:
    """hw-flowq 6.2 HV-leader of a front F (n, m): farthest (Euclidean) from the worst point of the front.

    Args:
        F: the front's normalised objectives, shape (n, m), minimised.
        rule: "paper" measures distances on F as stored; "rescaled" first maps each objective to [0, 1] over the
            front, so that an objective with a small spread weighs as much as one with a large spread.

    Returns:
        Row index of the leader, or None for an empty front.
    """
    if rule not in HV_LEADER_RULES:
        raise FlowQError(f"hv-leader rule {rule!r}; allowed: {', '.join(HV_LEADER_RULES)}")
    F = np.asarray(F, dtype=float)
    if len(F) == 0:
        return None
    worst = F.max(axis=0)
    gap = worst - F
    if rule == "rescaled":
        span = worst - F.min(axis=0)
        gap = gap / np.where(span > 0, span, 1.0)
    return int(np.argmax(np.linalg.norm(gap, axis=1)))


def leader_by(F, column: int, tie_columns=()) -> int | None:
    """Row of F with the lowest `column`, ties broken by `tie_columns` in order; None when F is empty."""
    F = np.asarray(F, dtype=float)
    if len(F) == 0:
        return None
    keys = [F[:, c] for c in reversed(tuple(tie_columns))] + [F[:, column]]
    return int(np.lexsort(keys)[0])


def leaders(F, objectives, accuracy: str = "accuracy", rule: str = "paper") -> dict:
    """{"hv_leader", "accuracy_leader", "compression_leader"}: indices into the front F (n, len(objectives)).

    Args:
        F: the front's normalised objectives.
        objectives: objective names, one per column.
        accuracy: the name of the accuracy objective (its leader is None when it is not an objective).
        rule: HV-leader rule (see `hv_leader`).
    """
    F = np.asarray(F, dtype=float).reshape(-1, len(objectives))
    objectives = list(objectives)
    acc = objectives.index(accuracy) if accuracy in objectives else None
    hw = [j for j, name in enumerate(objectives) if name != accuracy]
    return {
        "hv_leader": hv_leader(F, rule),
        "accuracy_leader": None if acc is None else leader_by(F, acc, hw),
        "compression_leader": None if not hw else leader_by(F, hw[0], ([acc] if acc is not None else []) + hw[1:]),
    }
