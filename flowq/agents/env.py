"""The quantisation MDP (one step per searched layer and operand) and its gymnasium `Env`, `QuantEnv`.

An episode walks the genome's loci in order: untied, layer l's weight bits then its activation bits (HAQ's
order); tied (b_A = b_W), one step per layer. Two static states of 10 features each, scaled to [0, 1]:

`state="benq"` (benq Table II):
    0 l (layer index / (n_layers - 1))   1 c_in   2 c_out   3 i_fw (input width)   4 i_fh (input height)
    5 k_w   6 k_h   7 stride   8 I_weight (1 weight step, 0 activation step)   9 a^{l-1} (previous bits / max bits)
(columns 1-7 min-max scaled over the searched layers; FC layers have k_w = k_h = 1, stride = 0 as in benq III-A1);

`state="haq"` (HAQ's `_build_state_embedding`, mit-han-lab/haq `lib/env/linear_quantize_env.py`):
    0 depthwise flag   1 c_in   2 c_out   3 stride   4 kernel   5 #weights   6 input feature-map size h_in * w_in
    7 layer index   8 previous action (previous bits / max bits)   9 weight step (1) or activation step (0)
(columns 1-7 min-max scaled over the searched layers as HAQ normalises each column; FC layers: stride 0, kernel 1,
feature map 1 x 1 as HAQ's linear layers);

plus, with `dynamic=True`, ReLeQ 2.4's weight standard deviation (min-max scaled), State of Quantization (the
loci not chosen yet at the largest allele, as ReLeQ starts every layer at 8 bits) and State of Relative Accuracy.
The action is an allele index (discrete) or a value in [0, 1] mapped to the allele set with HAQ's
`_action_wall` rounding (continuous).
"""

from __future__ import annotations

import gymnasium
import numpy as np
from pymoo.core.evaluator import Evaluator
from pymoo.core.population import Population

from flowq.agents.rewards import RewardModel, state_quantization
from hwmodels.errors import GenomeError

N_STATIC = 10
N_DYNAMIC = 3
STATES = ("benq", "haq")
PREVIOUS_ACTION = {"benq": 9, "haq": 8}  # column of the previous action in each state


def continuous_to_allele(a, n_alleles: int) -> np.ndarray:
    """HAQ's discretisation: round(lb + a * (rb - lb)) with lb = -0.5, rb = n_alleles - 0.5 on allele indices, i.e.
    [0, 1] split into `n_alleles` equal bins."""
    a = np.clip(np.asarray(a, dtype=float), 0.0, 1.0)
    return np.minimum((a * n_alleles).astype(np.int64), n_alleles - 1)


def _minmax(column) -> np.ndarray:
    column = np.asarray(column, dtype=float)
    low, high = column.min(), column.max()
    return np.zeros_like(column) if high <= low else (column - low) / (high - low)


def layer_weight_std(problem) -> np.ndarray:
    """Standard deviation of each layer's float weights (ReLeQ 2.4), shape (n_layers,).

    Taken from `problem.evaluator.weight_std` when the evaluator provides it (an array or a method), else from a
    FlowQ accuracy evaluator's pretrained float network (conv/linear modules in workload order), else zeros.
    """
    n = len(problem.workload)
    evaluator = getattr(problem, "evaluator", None)
    source = getattr(evaluator, "weight_std", None)
    if source is not None:
        values = np.asarray(source() if callable(source) else source, dtype=float).reshape(-1)
    elif hasattr(evaluator, "_float"):
        import torch

        modules = [m for m in evaluator._float().modules() if isinstance(m, (torch.nn.Conv2d, torch.nn.Linear))]
        values = np.asarray([float(m.weight.detach().std()) for m in modules], dtype=float)
    else:
        values = np.zeros(n)
    if len(values) != n:
        raise GenomeError(f"weight_std has {len(values)} entries; the workload has {n} layers")
    return values


class QuantMDP:
    """States of the quantisation MDP for a batch of episodes (pure numpy; no evaluation inside an episode).

    Args:
        problem: the `QuantProblem` whose genome the episodes build.
        dynamic: append ReLeQ's three dynamic features.
        state: "benq" (Table II) or "haq" (HAQ's layer embedding); see the module docstring.
    """

    def __init__(self, problem, dynamic: bool = False, state: str = "benq"):
        if state not in STATES:
            raise GenomeError(f"state {state!r}; allowed: {', '.join(STATES)}")
        self.state = state
        genome = problem.genome
        if np.any(np.asarray(problem.xu) != genome.n_alleles - 1):
            raise GenomeError("the RL agents take one action set (the bitwidths) at every locus; this problem has "
                              "loci with other alleles (e.g. searched ADC bits): fix them (adc_bits=R) or use NSGA-II")
        self.problem, self.dynamic = problem, bool(dynamic)
        self.n_steps = genome.n_var
        self.n_actions = genome.n_alleles
        self.n_features = N_STATIC + (N_DYNAMIC if self.dynamic else 0)
        per = genome.loci_per_layer
        self.layers = np.asarray([layer for layer in genome.free_layers for _ in range(per)], dtype=np.int64)
        self.is_weight = np.asarray([1.0 if (per == 1 or k == 0) else 0.0 for _ in genome.free_layers
                                     for k in range(per)])
        self.static = (self._haq_static if state == "haq" else self._benq_static)(problem.workload)
        self.previous_column = PREVIOUS_ACTION[state]
        self.alleles = np.asarray(genome.bitwidths, dtype=float)
        self.max_bits = max([max(genome.bitwidths)] + [bits for _, bits in genome.fixed])
        self.weight_std = _minmax(layer_weight_std(problem))[self.layers] if self.dynamic else None

    def _benq_static(self, workload) -> np.ndarray:
        rows = []
        for index in self.layers:
            layer = workload[index]
            fc = layer.kind == "fc"
            rows.append([index, layer.c_in, layer.c_out, layer.w_in, layer.h_in, 1 if fc else layer.k_w,
                         1 if fc else layer.k_h, 0 if fc else layer.stride])
        raw = np.asarray(rows, dtype=float)
        static = np.zeros((self.n_steps, N_STATIC))
        static[:, 0] = raw[:, 0] / max(len(workload) - 1, 1)
        for j in range(1, 8):
            static[:, j] = _minmax(raw[:, j])
        static[:, 8] = self.is_weight
        return static

    def _haq_static(self, workload) -> np.ndarray:
        rows = []
        for index in self.layers:
            layer = workload[index]
            fc = layer.kind == "fc"
            rows.append([1.0 if layer.kind == "dw" else 0.0, layer.c_in, layer.c_out, 0 if fc else layer.stride,
                         1 if fc else layer.k_h, layer.n_weights, 1 if fc else layer.h_in * layer.w_in, index])
        raw = np.asarray(rows, dtype=float)
        static = np.zeros((self.n_steps, N_STATIC))
        static[:, 0] = raw[:, 0]
        for j in range(1, 8):
            static[:, j] = _minmax(raw[:, j])
        static[:, 9] = self.is_weight
        return static

    def observe(self, t: int, A, accuracy_state: float = 1.0) -> np.ndarray:
        """States of step `t` for a batch whose first t actions (allele indices) are A (B, t); float32 (B, d)."""
        A = np.asarray(A, dtype=np.int64).reshape(-1, t) if t else np.zeros((len(np.atleast_1d(A)), 0), np.int64)
        B = A.shape[0]
        S = np.empty((B, self.n_features), dtype=np.float32)
        S[:, :N_STATIC] = self.static[t]
        S[:, self.previous_column] = 1.0 if t == 0 else self.alleles[A[:, t - 1]] / max(self.alleles[-1], 1.0)
        if self.dynamic:
            S[:, 10] = self.weight_std[t]
            S[:, 11] = self.quantization_state(A)
            S[:, 12] = np.clip(accuracy_state, 0.0, 1.0)
        return S

    def quantization_state(self, A) -> np.ndarray:
        """ReLeQ State_Quantization of partial genomes A (B, t), the remaining loci at the largest allele."""
        A = np.asarray(A, dtype=np.int64)
        X = np.full((A.shape[0], self.n_steps), self.n_actions - 1, dtype=np.int64)
        X[:, :A.shape[1]] = A
        BW, BA = self.problem.genome.decode(X)
        return state_quantization(self.problem.workload, BW, BA, self.max_bits)

    def states(self, A, accuracy_state: float = 1.0) -> np.ndarray:
        """Every state of complete episodes A (B, T): float32 (B, T, d)."""
        A = np.asarray(A, dtype=np.int64)
        return np.stack([self.observe(t, A[:, :t], accuracy_state) for t in range(self.n_steps)], axis=1)


def make_quant_env(problem, reward: str = "benq", **kwargs) -> "QuantEnv":
    """A gymnasium `Env` over `problem` (see `QuantEnv`)."""
    return QuantEnv(problem, reward, **kwargs)


class QuantEnv(gymnasium.Env):
    """The quantisation MDP as a gymnasium `Env` for outside RL libraries.

    Every step but the last returns reward 0; the last scores the whole genome with the problem (a pymoo Evaluator
    on a one-individual Population, so the problem's caches and constraints apply) and returns the named reward.
    `info` of the last step holds the genome ("X"), the bits and the problem's metrics.

    Args:
        problem: a `QuantProblem`.
        reward: key of `flowq.agents.rewards.REWARDS`.
        reward_kwargs: the reward's parameters.
        continuous: Box([0, 1]) actions mapped to alleles (HAQ) instead of Discrete(n_alleles).
        dynamic: add ReLeQ's dynamic features to the observation.
        cost: hardware metric of the reward's cost (default: the first hardware objective).
        state: "benq" (Table II) or "haq" (HAQ's layer embedding).
    """

    metadata = {"render_modes": []}

    def __init__(self, problem, reward: str = "benq", *, reward_kwargs: dict | None = None, continuous: bool = False,
                 dynamic: bool = False, cost: str | None = None, state: str = "benq"):
        gym = gymnasium
        super().__init__()
        self.problem = problem
        self.mdp = QuantMDP(problem, dynamic=dynamic, state=state)
        self.reward_model = RewardModel(problem, reward, reward_kwargs, cost=cost)
        self.continuous = bool(continuous)
        self.observation_space = gym.spaces.Box(0.0, 1.0, shape=(self.mdp.n_features,), dtype=np.float32)
        if self.continuous:
            self.action_space = gym.spaces.Box(0.0, 1.0, shape=(1,), dtype=np.float32)
        else:
            self.action_space = gym.spaces.Discrete(self.mdp.n_actions)
        self._actions: list = []
        self._accuracy_state = 1.0

    def reset(self, *, seed=None, options=None):
        super().reset(seed=seed)
        self._actions = []
        return self.mdp.observe(0, np.zeros((1, 0), np.int64), self._accuracy_state)[0], {}

    def step(self, action):
        if self.continuous:
            allele = int(continuous_to_allele(np.asarray(action, dtype=float).reshape(-1)[0], self.mdp.n_actions))
        else:
            allele = int(action)
            if not 0 <= allele < self.mdp.n_actions:
                raise GenomeError(f"action {action!r}; allowed 0..{self.mdp.n_actions - 1}")
        self._actions.append(allele)
        t = len(self._actions)
        A = np.asarray(self._actions, dtype=np.int64)[None, :]
        if t < self.mdp.n_steps:
            return self.mdp.observe(t, A, self._accuracy_state)[0], 0.0, False, False, {}
        pop = Population.new("X", A)
        Evaluator().eval(self.problem, pop)
        reward = float(self.reward_model(pop)[0])
        outcome = self.reward_model.outcomes(pop)[0]
        if outcome.float_accuracy > 0 and np.isfinite(outcome.accuracy):
            self._accuracy_state = float(outcome.accuracy / outcome.float_accuracy)
        record = self.problem.records[self.problem.genome.key(A[0])]
        info = {"X": A[0].copy(), "bits_w": record["bits_w"], "bits_a": record["bits_a"],
                "metrics": dict(record["metrics"])}
        last = self.mdp.observe(t - 1, A[:, :t - 1], self._accuracy_state)[0]
        return last, reward, True, False, info
