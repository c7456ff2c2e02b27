"""Episode rewards by name (benq eq. 1, ReLeQ shaping, HAQ, psum eq. 3, hw-flowq eq. 1): the `REWARDS` registry.

Every reward maps one evaluated genome's `Outcome` to a float (higher is better). `RewardModel` builds the
outcomes of a whole evaluated pymoo Population from the problem's own records (the same metrics the GA sees), so
an agent and NSGA-II share hardware metrics, the accuracy cache and the constraints.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from hwmodels.api import evaluate_population
from hwmodels.errors import GenomeError
from problems.base import ACCURACY


@dataclass(frozen=True)
class Outcome:
    """What a reward may look at for one evaluated genome.

    Attributes:
        accuracy: psi in [0, 1] (nan when the problem measures no accuracy).
        float_accuracy: psi* of the float network (1.0 when the evaluator does not report it).
        accuracy_cost: Cost_accuracy of psum eq. 1 (CE quantised - CE float) when the evaluator reports it,
            else psi* - psi.
        cost: the cost metric relative to the 16-bit baseline (phi / phi*, 1.0 = baseline).
        cost_ratio: the cost metric relative to the W8A8 network (cost_quant / cost_W8A8 of benq eq. 1).
        state_quantization: ReLeQ 2.4 State_Quantization in [0, 1] of the genome.
        violation: the problem's constraint violation (0 = feasible).
    """

    accuracy: float
    float_accuracy: float
    accuracy_cost: float
    cost: float
    cost_ratio: float
    state_quantization: float
    violation: float = 0.0


def benq(o: Outcome, th: float = 0.8) -> float:
    """benq eq. 1: acc_quant when cost_quant / cost_W8A8 <= th, else -1 (th = 0.8 in benq Tables V-VI)."""
    return float(o.accuracy) if o.cost_ratio <= th else -1.0


def releq(o: Outcome, a: float = 0.2, b: float = 0.4, th: float = 0.4) -> float:
    """ReLeQ 2.6 reward shaping: r = 1 - State_Q^a; -1 when State_Acc < th, else r * max(State_Acc, th)^(b /
    max(State_Acc, th)), with State_Acc = psi / psi* (a = 0.2, b = 0.4, th = 0.4 as in the paper)."""
    reward = 1.0 - max(o.state_quantization, 0.0) ** a
    state_acc = o.accuracy / o.float_accuracy if o.float_accuracy > 0 else 0.0
    if state_acc < th:
        return -1.0
    y = max(state_acc, th)
    return float(reward * y ** (b / y))


def haq(o: Outcome, scale: float = 0.1) -> float:
    """HAQ: (acc - acc_float) * 0.1, accuracy only; the budget is held by the resource wall (`ResourceWall`)."""
    return float(scale * (o.accuracy - o.float_accuracy))


def psum(o: Outcome, t: float = 0.5, penalty: float = 10.0) -> float:
    """reram-psum eq. 3: -T_t(Cost_accuracy) - Cost_hardware with T_t(x) = inf if x > t else x.

    The infinite branch becomes a finite `-penalty` (larger than any admissible |reward|, since Cost_hardware is
    the cost relative to 16 bits, <= 1) so that value networks stay finite; the paper leaves t open (default 0.5
    nats of cross-entropy)."""
    if not o.accuracy_cost <= t:
        return -float(penalty)
    return float(-o.accuracy_cost - o.cost)


def flowq_soga(o: Outcome, t: float = 0.05) -> float:
    """hw-flowq eq. 1: (1 - (psi* - psi) / t) * log(phi* / phi) (t = 0.05 as FlowQ's SOGA default)."""
    return float((1.0 - (o.float_accuracy - o.accuracy) / t) * math.log(1.0 / max(o.cost, 1e-300)))


REWARDS = {"benq": benq, "releq": releq, "haq": haq, "psum": psum, "flowq_soga": flowq_soga}
NEEDS_ACCURACY = frozenset(REWARDS)  # every reward of the papers looks at accuracy
MEMORY_TO_MAC = 120.0  # ReLeQ 2.4: E_MemoryAccess / E_MAcc ~ 120x


def reward_function(name: str):
    """The reward callable registered under `name` (see `REWARDS`)."""
    if name not in REWARDS:
        raise GenomeError(f"reward {name!r}; allowed: {', '.join(REWARDS)}")
    return REWARDS[name]


def hardware_metric(problem, X, metric: str) -> np.ndarray:
    """Raw value of hardware `metric` for integer genomes X (n, n_var), straight from the HW model (no archive
    entry, no accuracy): used for the W8A8 reference and the resource wall."""
    BW, BA = problem.genome.decode(np.atleast_2d(np.asarray(X, dtype=np.int64)))
    totals = evaluate_population(problem.workload, problem.spec, BW, BA, level=problem.level,
                                 objective=problem.mapper_objective)
    return np.asarray(totals[metric], dtype=float).reshape(-1)


def reference_genome(problem, bits: int = 8) -> np.ndarray:
    """The "W8A8" genome: every searched locus at the allele closest to `bits` (ties: the larger)."""
    alleles = np.asarray(problem.genome.bitwidths)
    index = int(np.lexsort((-alleles, np.abs(alleles - bits)))[0])
    return np.full(problem.n_var, index, dtype=np.int64)


def state_quantization(workload, BW, BA, max_bits: int) -> np.ndarray:
    """ReLeQ 2.4 State_Quantization of per-layer bits (n, n_layers): sum_l (n_w * 120 + n_MAC) * bits_l over
    sum_l (n_w * 120 + n_MAC) * max_bits, with bits_l the mean of b_W and b_A (ReLeQ quantises weights only)."""
    weights = np.asarray([layer.c_out * layer.c_in_per_group * layer.k_h * layer.k_w for layer in workload], float)
    macs = np.asarray([layer.macs for layer in workload], dtype=float)
    cost = weights * MEMORY_TO_MAC + macs
    bits = 0.5 * (np.atleast_2d(BW) + np.atleast_2d(BA))
    return (bits * cost).sum(axis=1) / (cost.sum() * max_bits)


def default_cost_metric(problem) -> str:
    """The first hardware objective of the problem (the first hardware metric when accuracy is the only one)."""
    hw = [name for name in problem.objectives if name != ACCURACY]
    return hw[0] if hw else problem.hw_metrics[0]


class RewardModel:
    """Turns an evaluated Population into rewards with one registered reward.

    Args:
        problem: the `QuantProblem` the population was evaluated on.
        name: key of `REWARDS`.
        kwargs: the reward's parameters (defaults from its paper).
        cost: hardware metric used as cost (default `default_cost_metric`).
        reference_bits: bitwidth of the "W8A8" reference of cost_ratio.
        penalty: reward of an individual that violates the problem's constraints: min(reward, penalty) - CV.
    """

    def __init__(self, problem, name: str = "benq", kwargs: dict | None = None, *, cost: str | None = None,
                 reference_bits: int = 8, penalty: float = -1.0):
        self.name = name
        self.function = reward_function(name)
        self.kwargs = dict(kwargs or {})
        self.problem = problem
        self.cost = cost or default_cost_metric(problem)
        if self.cost not in problem.hw_metrics:
            raise GenomeError(f"cost metric {self.cost!r} is not a metric of the {problem.level} level; allowed: "
                              f"{', '.join(problem.hw_metrics)}")
        if name in NEEDS_ACCURACY and not problem.needs_accuracy:
            raise GenomeError(f"reward {name!r} needs accuracy: add 'accuracy' to the problem's objectives")
        self.penalty = float(penalty)
        self.reference_cost = float(hardware_metric(problem, reference_genome(problem, reference_bits),
                                                    self.cost)[0])
        self.max_bits = max([max(problem.genome.bitwidths)] + [bits for _, bits in problem.genome.fixed])
        evaluator = getattr(problem, "evaluator", None)
        self.float_accuracy = float(getattr(evaluator, "float_accuracy", 1.0)) if evaluator is not None else 1.0

    def outcomes(self, pop) -> list[Outcome]:
        """`Outcome` of every individual of an evaluated Population."""
        problem = self.problem
        X = np.asarray(pop.get("X"), dtype=np.int64)
        CV = np.asarray(pop.get("CV"), dtype=float).reshape(len(X), -1)[:, 0] if len(X) else np.zeros(0)
        BW, BA = problem.genome.decode(X)
        sq = state_quantization(problem.workload, BW, BA, self.max_bits)
        result = []
        for i, x in enumerate(X):
            metrics = problem.records[problem.genome.key(x)]["metrics"]
            psi = float(metrics.get(ACCURACY, math.nan))
            loss = metrics.get("accuracy_loss")
            use_loss = loss is not None and math.isfinite(loss) and getattr(problem.evaluator, "kind", "") == \
                "lossproxy"
            value = metrics[self.cost]
            result.append(Outcome(
                accuracy=psi, float_accuracy=self.float_accuracy,
                accuracy_cost=float(loss) if use_loss else self.float_accuracy - psi,
                cost=float(problem.objective_value(self.cost, metrics)),
                cost_ratio=float(value / self.reference_cost) if self.reference_cost > 0 else float(value),
                state_quantization=float(sq[i]), violation=float(max(CV[i], 0.0))))
        return result

    def __call__(self, pop) -> np.ndarray:
        """Rewards (n,) of an evaluated Population."""
        rewards = []
        for o in self.outcomes(pop):
            r = float(self.function(o, **self.kwargs))
            if o.violation > 0:
                r = min(r, self.penalty) - o.violation
            rewards.append(r)
        return np.asarray(rewards, dtype=float)


class ResourceWall:
    """HAQ's `_final_action_wall`: lower one locus by one allele at a time, sweeping from the last locus back to the
    first (a layer's activation before its weight), until cost <= budget * cost_W8A8 or every locus is at the
    lowest allele.

    Args:
        problem: the `QuantProblem`.
        metric: the hardware metric of the budget.
        budget: allowed cost relative to the W8A8 network (HAQ's preserve ratio; benq th).
        reference_bits: bitwidth of the reference network.
    """

    def __init__(self, problem, metric: str, budget: float = 0.8, reference_bits: int = 8):
        self.problem, self.metric, self.budget = problem, metric, float(budget)
        self.limit = self.budget * float(hardware_metric(problem, reference_genome(problem, reference_bits),
                                                         metric)[0])
        self.n_steps: list = []  # bit-lowering steps taken per genome (benq IV-C Manhattan distance)

    def _sequence(self, x) -> np.ndarray:
        rows, x = [x.copy()], x.copy()
        while np.any(x > 0):
            for locus in range(len(x) - 1, -1, -1):
                if x[locus] > 0:
                    x = x.copy()
                    x[locus] -= 1
                    rows.append(x)
        return np.asarray(rows, dtype=np.int64)

    def __call__(self, X) -> np.ndarray:
        """Walled genomes (n, n_var): each the first of its lowering sequence that meets the budget."""
        out = np.array(X, dtype=np.int64, copy=True)
        for i, x in enumerate(out):
            sequence = self._sequence(x)
            chosen = len(sequence) - 1
            for start in range(0, len(sequence), 16):
                values = hardware_metric(self.problem, sequence[start:start + 16], self.metric)
                hits = np.flatnonzero(values <= self.limit)
                if len(hits):
                    chosen = start + int(hits[0])
                    break
            out[i] = sequence[chosen]
            self.n_steps.append(chosen)
        return out
