"""RL agents: rewards (hand-derived), MDP state (benq Table II), gymnasium check_env, HAQ's resource wall, learning on
a synthetic problem with a known optimum, determinism, checkpoint + resume == straight run, Flow/CLI integration."""

import json
import math
import pickle

import numpy as np
import pytest
import torch
from gymnasium.utils.env_checker import check_env
from pymoo.core.evaluator import Evaluator
from pymoo.core.population import Population
from pymoo.optimize import minimize

from flowq.accuracy import AccuracyResult
from flowq.agents import AGENTS, DDPG, MOPPO, PPO, VPG, QuantEnv, QuantMDP, ReLeQ
from flowq.agents.env import continuous_to_allele
from flowq.agents.rewards import REWARDS, Outcome, ResourceWall, RewardModel, hardware_metric, reference_genome
from flowq.agents.similarity import cosine_similarity, manhattan_distance, similarity_matrices
from flowq.cli import main
from flowq.flow import Flow
from flowq.random_search import RandomSearch
from problems import PROBLEMS
from hwmodels.errors import FlowQError

@pytest.fixture(autouse=True, scope="module")
def one_torch_thread():
    """Tiny networks run fastest on one thread; restore the session's setting afterwards."""
    old = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(old)


SENSITIVITY = np.linspace(0.12, 0.03, 5)  # LeNet-5 has 5 conv/fc layers; early layers are more sensitive


class Surrogate:
    """Known accuracy: psi = 0.99 - sum_l s_l (1/b_W + 1/b_A - 2/16), increasing in every bitwidth."""

    float_accuracy = 0.99

    def evaluate(self, bits_w, bits_a):
        bw, ba = np.asarray(bits_w, float), np.asarray(bits_a, float)
        return AccuracyResult(psi=float(0.99 - np.sum(SENSITIVITY * (1 / bw + 1 / ba - 2 / 16))), loss=0.0)


def lenet_problem(**kwargs):
    options = dict(evaluator=Surrogate(), objectives=("accuracy", "bitops"))
    options.update(kwargs)
    return PROBLEMS["coarse"]("lenet5", "spatial-256", **options)


SMALL = {"ddpg": dict(hidden=(32, 32), warmup=4), "ppo": dict(hidden=(32, 32), train_pi_iters=10, train_v_iters=10),
         "vpg": dict(hidden=(32, 32), train_v_iters=10), "releq": dict(lstm_hidden=16),
         "moppo": dict(hidden=(32, 32), train_pi_iters=10, train_v_iters=10)}


# ---- rewards -------------------------------------------------------------------------------------------------
def outcome(**kw):
    base = dict(accuracy=0.9, float_accuracy=0.99, accuracy_cost=0.2, cost=0.3, cost_ratio=0.75,
                state_quantization=0.5)
    base.update(kw)
    return Outcome(**base)


def test_rewards_match_the_papers_formulas():
    # benq eq. 1, th = 0.8: accuracy when within the budget, else -1
    assert REWARDS["benq"](outcome(cost_ratio=0.75)) == 0.9
    assert REWARDS["benq"](outcome(cost_ratio=0.81)) == -1.0
    # releq 2.6, a = 0.2, b = 0.4, th = 0.4, State_Q = 0.5, State_Acc = 0.891 / 0.99 = 0.9:
    # (1 - 0.5^0.2) * 0.9^(0.4 / 0.9) = (1 - 0.870551) * 0.954253 = 0.123528
    assert REWARDS["releq"](outcome(accuracy=0.891)) == pytest.approx(0.123528, abs=1e-6)
    assert REWARDS["releq"](outcome(accuracy=0.3)) == -1.0  # State_Acc = 0.303 < th
    # HAQ: 0.1 * (0.95 - 0.99)
    assert REWARDS["haq"](outcome(accuracy=0.95)) == pytest.approx(-0.004)
    # psum eq. 3: -Cost_acc - Cost_hw = -0.2 - 0.3; above t = 0.5 the threshold function gives -penalty
    assert REWARDS["psum"](outcome()) == pytest.approx(-0.5)
    assert REWARDS["psum"](outcome(accuracy_cost=0.6)) == -10.0
    # hw-flowq eq. 1, t = 0.05: (1 - 0.02 / 0.05) * ln(1 / 0.25) = 0.6 * 1.386294
    assert REWARDS["flowq_soga"](outcome(accuracy=0.97, cost=0.25)) == pytest.approx(0.831777, abs=1e-6)


def test_reward_model_reads_the_problems_records_and_punishes_constraint_violations():
    problem = lenet_problem(constraints={"bitops": 0.5})
    X = np.stack([reference_genome(problem), np.full(problem.n_var, 4)])  # W8A8 and all-16
    pop = Population.new("X", X)
    Evaluator().eval(problem, pop)
    model = RewardModel(problem, "benq", {"th": 1.0}, cost="bitops")
    first = model.outcomes(pop)[0]
    assert first.cost_ratio == pytest.approx(1.0)  # the reference network itself
    assert first.accuracy == pytest.approx(0.99 - SENSITIVITY[1:4].sum() * (2 / 8 - 2 / 16))
    # bitops of LeNet with the middle layers at 8 bits / at 16 bits is below / above 50 % of the 16-bit baseline
    rewards = model(pop)
    assert pop.get("CV")[1, 0] > 0 and rewards[1] < -1.0  # min(benq, -1) - CV
    with pytest.raises(FlowQError, match="reward"):
        RewardModel(problem, "nope")
    with pytest.raises(FlowQError, match="accuracy"):
        RewardModel(lenet_problem(objectives=("bitops", "weight_bits"), evaluator=None), "benq")


# ---- MDP -------------------------------------------------------------------------------------------------------
def test_state_is_benq_table_ii_scaled_to_unit_interval():
    problem = lenet_problem()
    mdp = QuantMDP(problem)
    assert (mdp.n_steps, mdp.n_features, mdp.n_actions) == (6, 10, 5)
    # searched layers conv2 (c_in 6, c_out 16, 14x14 input, 5x5, stride 1), fc1 (400 -> 120), fc2 (120 -> 84);
    # steps: conv2 W, conv2 A, fc1 W, fc1 A, fc2 W, fc2 A
    A = np.array([[3, 4, 0, 1, 2, 3]])
    S = mdp.states(A)[0]
    np.testing.assert_allclose(S[:, 0], [0.25, 0.25, 0.5, 0.5, 0.75, 0.75])  # layer index / 4
    np.testing.assert_allclose(S[:, 1], [0, 0, 1, 1, 114 / 394, 114 / 394], rtol=1e-6)  # c_in min-max
    np.testing.assert_allclose(S[:, 2], [0, 0, 1, 1, 68 / 104, 68 / 104], rtol=1e-6)  # c_out
    np.testing.assert_allclose(S[:, 3:8], [[1] * 5] * 2 + [[0] * 5] * 4)  # FC: k = 1, stride 0, 1x1 input
    np.testing.assert_allclose(S[:, 8], [1, 0, 1, 0, 1, 0])  # weight / activation step
    np.testing.assert_allclose(S[:, 9], [1.0, 8 / 16, 16 / 16, 2 / 16, 4 / 16, 6 / 16])  # previous bits / 16
    assert S.dtype == np.float32 and S.min() >= 0 and S.max() <= 1
    tied = QuantMDP(lenet_problem(tie=True), dynamic=True)
    assert (tied.n_steps, tied.n_features) == (3, 13)
    S = tied.states(np.array([[0, 0, 0]]), accuracy_state=0.7)[0]
    assert np.all(S[:, 8] == 1) and np.all(S[:, 12] == pytest.approx(0.7))
    assert S[0, 11] > S[1, 11] > S[2, 11]  # State of Quantization falls as layers are set to 2 bits


def test_haq_state_is_haqs_layer_embedding_and_ddpgs_default():
    mdp = QuantMDP(lenet_problem(), state="haq")
    # conv2 (6 -> 16, stride 1, 5x5, 2400 weights, 14x14 input, index 1), fc1 (400 -> 120, 48000 weights, index 2),
    # fc2 (120 -> 84, 10080 weights, index 3); each column min-max scaled over the searched layers
    S = mdp.states(np.array([[3, 4, 0, 1, 2, 3]]))[0]
    expected = np.array([[0, 0, 0, 1, 1, 0, 1, 0],
                         [0, 1, 1, 0, 0, 1, 0, 0.5],
                         [0, 114 / 394, 68 / 104, 0, 0, 7680 / 45600, 0, 1]])
    np.testing.assert_allclose(S[:, :8], np.repeat(expected, 2, axis=0), rtol=1e-6)
    np.testing.assert_allclose(S[:, 8], [1.0, 8 / 16, 16 / 16, 2 / 16, 4 / 16, 6 / 16])  # previous bits / 16
    np.testing.assert_allclose(S[:, 9], [1, 0, 1, 0, 1, 0])  # weight / activation step
    assert DDPG(4).state == "haq" and PPO(4).state == "benq" and DDPG(4, state="benq").state == "benq"
    with pytest.raises(FlowQError, match="state"):
        QuantMDP(lenet_problem(), state="nope")


def test_moppo_conditions_each_episode_on_its_weight_and_scalarises_by_tchebycheff():
    agent = MOPPO(5, **SMALL["moppo"])
    res = minimize(lenet_problem(), agent, ("n_gen", 2), seed=3, copy_algorithm=False)
    assert agent.n_conditions == 2 and agent.curve[-1]["n_eval"] == 10
    W = np.asarray(agent.random_state.dirichlet([1.0, 1.0], size=3))
    assert np.allclose(W.sum(axis=1), 1.0)
    # -(max(0.5 * 0.1, 0.5 * 0.5) + 0.05 * (0.05 + 0.25)) = -(0.25 + 0.015)
    assert agent.scalarise([[0.1, 0.5]], [[0.5, 0.5]])[0] == pytest.approx(-0.265)
    assert agent.scalarise([[1e6, 0.5]], [[1.0, 0.0]])[0] == pytest.approx(-2.1)  # a failed value is capped
    batch = {"C": np.array([[1.0, 0.0], [0.0, 1.0]], np.float32)}
    pop = res.pop[:2]
    F = pop.get("F")
    rewards = agent._rewards(pop, batch)
    assert rewards[0] == pytest.approx(-1.05 * F[0, 0]) and rewards[1] == pytest.approx(-1.05 * F[1, 1])
    assert agent.greedy_policy([1.0, 0.0]).shape == (6,)


def test_continuous_action_uses_haq_rounding():
    # 5 alleles: [0, 0.2) -> 0, [0.2, 0.4) -> 1, ..., [0.8, 1] -> 4
    assert continuous_to_allele([0.0, 0.19, 0.2, 0.5, 0.99, 1.0], 5).tolist() == [0, 0, 1, 2, 4, 4]


@pytest.mark.parametrize("continuous,dynamic", [(False, False), (True, True)])
def test_quant_env_passes_gymnasium_check_env(continuous, dynamic):
    env = QuantEnv(lenet_problem(), "benq", reward_kwargs={"th": 1.0}, continuous=continuous, dynamic=dynamic,
                   cost="bitops")
    check_env(env, skip_render_check=True)
    obs, _ = env.reset(seed=0)
    total, done = 0.0, False
    for action in [3] * 6:
        obs, reward, done, truncated, info = env.step(np.array([0.7], np.float32) if continuous else action)
        total += reward
    assert done and info["bits_w"][1:4] == [8, 8, 8]  # 0.7 -> allele 3 = 8 bits, as discrete action 3
    assert total == pytest.approx(0.99 - SENSITIVITY[1:4].sum() * (2 / 8 - 2 / 16))  # W8A8 meets th = 1


def test_resource_wall_lowers_bits_from_the_last_layer_back():
    problem = lenet_problem()
    wall = ResourceWall(problem, "bitops", budget=1.0)
    # from all-16: one sweep (fc2 A, fc2 W, fc1 A, ... conv2 W) lowers every locus 16 -> 8; before the sweep ends
    # some layer is still at 16 bits, so bitops > W8A8; after it, bitops == W8A8 <= 1.0 x W8A8
    walled = wall(np.full((1, 6), 4))
    assert walled.tolist() == [[3] * 6] and wall.n_steps == [6]
    assert wall(np.full((1, 6), 1)).tolist() == [[1] * 6]  # already within budget: untouched
    tight = ResourceWall(problem, "bitops", budget=0.7)  # all-2 bits is 0.64 x W8A8 (16-bit first/last)
    out = tight(np.full((1, 6), 4))[0]
    ref = hardware_metric(problem, reference_genome(problem), "bitops")[0]
    assert hardware_metric(problem, out, "bitops")[0] <= 0.7 * ref
    previous = tight._sequence(np.full(6, 4))[tight.n_steps[0] - 1]
    assert hardware_metric(problem, previous, "bitops")[0] > 0.7 * ref  # the first genome that fits


# ---- learning on a synthetic problem, against random search ------------------------------------------------------
TH = 0.8
N_RANDOM_SEEDS = 200  # random-search runs drawn for the baseline distribution (issue 20 asks for >= 20)


def _all_genomes():
    grids = np.meshgrid(*[np.arange(5)] * 6, indexing="ij")
    return np.stack([g.ravel() for g in grids], axis=1)


def _walled(problem, wall, X):
    """HAQ's wall applied to every genome of X at once (one hardware call over all lowering sequences)."""
    sequences = [wall._sequence(x) for x in X]
    values = hardware_metric(problem, np.concatenate(sequences), wall.metric)
    out, start = np.empty_like(X), 0
    for i, seq in enumerate(sequences):
        hits = np.flatnonzero(values[start:start + len(seq)] <= wall.limit)
        out[i] = seq[hits[0] if len(hits) else len(seq) - 1]
        start += len(seq)
    return out


@pytest.fixture(scope="module")
def landscape():
    """Every one of the 5^6 genomes with its reward under benq eq. 1 (th 0.8) and under HAQ's reward after HAQ's
    resource wall (budget 0.8 x W8A8 bitops): accuracy known in closed form, so random search is exact to sample."""
    problem = lenet_problem()
    X = _all_genomes()

    def psi(X):
        BW, BA = problem.genome.decode(X)
        return 0.99 - ((1 / BW + 1 / BA - 2 / 16) * SENSITIVITY).sum(axis=1)

    ratio = hardware_metric(problem, X, "bitops") / hardware_metric(problem, reference_genome(problem), "bitops")[0]
    benq = np.where(ratio <= TH, psi(X), -1.0)
    wall = ResourceWall(problem, "bitops", TH)
    walled = _walled(problem, wall, X)
    haq = 0.1 * (psi(walled) - 0.99)
    return {"X": X, "benq": benq, "haq": haq, "index": {tuple(x): i for i, x in enumerate(X)}}


def random_search_best(rewards, n: int, seeds: int = N_RANDOM_SEEDS) -> np.ndarray:
    """Best reward of random search (n distinct uniform genomes, as `RandomSearch`) for each of `seeds` seeds."""
    rng = np.random.default_rng(12345)
    return np.asarray([rewards[rng.choice(len(rewards), n, replace=False)].max() for _ in range(seeds)])


@pytest.mark.slow
def test_random_search_baseline_distribution_matches_the_algorithm(landscape):
    """The sampled baseline is what `RandomSearch` itself reaches (same distribution of best-after-N)."""
    n = 48
    sampled = random_search_best(landscape["benq"], n, 40)
    runs = []
    for seed in range(40):
        res = minimize(lenet_problem(), RandomSearch(8), ("n_eval", n), seed=seed)
        X = np.asarray(sorted(res.algorithm.drawn), dtype=np.int64)
        runs.append(landscape["benq"][[landscape["index"][tuple(x)] for x in X]].max())
    assert len(X) == n
    assert abs(np.median(runs) - np.median(sampled)) < 0.01


LEARN = {  # name: (options, reward, budget in episodes); smaller networks than the papers' (test time)
    "ppo": (dict(hidden=(64, 64), train_pi_iters=20, train_v_iters=20, pi_lr=1e-3, target_kl=0.05), "benq", 400),
    "vpg": (dict(hidden=(64, 64), train_v_iters=20), "benq", 400),
    "releq": (dict(lstm_hidden=32, lr=3e-3), "benq", 400),
    "ddpg": (dict(hidden=(64, 64), warmup=16), "benq", 400),
    "ddpg-haq": (dict(hidden=(64, 64), warmup=16), "haq", 400),
}
#: Agents that do not beat random search here after the tuning listed (issue 20): kept failing (strict xfail) rather
#: than loosened, so a fix shows up as an XPASS.
NOT_LEARNING = {
    "vpg": "VPG's greedy policy settles at 0.906 (or 0.825) < random's 95th-percentile draw 0.920 and its best stays "
           "below random's median best; tried pi_lr 3e-4 / 1e-3 / 2e-3 / 3e-3 / 1e-2, hidden 64 / 128, 20-80 value "
           "steps, gamma = lambda = 1, seeds 1-3",
    "ddpg": "DDPG with benq's reward collapses to 2 bits everywhere (0.793, always under th; the -1 cliff beyond it): "
            "tried the HAQ and benq states, actor / critic lr 1e-4 / 1e-3 and 1e-3 / 1e-3, sigma decay 0.99 / 0.98, "
            "warm-up 16 / 32, initial sigma 0.5 / 0.3. With HAQ's own reward and wall (ddpg-haq) it passes",
}


MOPPO_OPTIONS = dict(hidden=(64, 64), train_pi_iters=20, train_v_iters=20, pi_lr=1e-3, target_kl=0.05)


def _agent(name, options, reward):
    kwargs = dict(reward="benq", reward_kwargs={"th": TH}) if reward == "benq" else dict(reward="haq", wall=TH)
    return AGENTS[name.split("-")[0]](8, cost="bitops", **kwargs, **options)


@pytest.mark.slow
@pytest.mark.parametrize("name", [pytest.param(n, marks=pytest.mark.xfail(reason=NOT_LEARNING[n], strict=True))
                                  if n in NOT_LEARNING else n for n in sorted(LEARN)])
def test_each_agent_beats_random_search(name, landscape):
    """After N evaluations the agent's best reward is at least random search's median best after N (over 200
    seeds), and its final greedy policy scores at least random search's 95th-percentile single draw."""
    options, reward, budget = LEARN[name]
    agent = _agent(name, options, reward)
    problem = lenet_problem()
    minimize(problem, agent, ("n_eval", budget), seed=1, copy_algorithm=False)
    rewards = landscape[reward]
    n = agent.curve[-1]["n_eval"]
    baseline = random_search_best(rewards, n)
    greedy = agent.greedy_policy()[None, :]
    if agent.wall is not None:
        greedy = agent.wall(greedy)
    greedy_reward = rewards[landscape["index"][tuple(greedy[0])]]
    p95 = float(np.quantile(rewards, 0.95))
    best = agent.curve[-1]["best_so_far"]
    print(f"{name}: best after {n} evaluations {best:.4f}; random search best after {n}: median "
          f"{np.median(baseline):.4f}, 90 % in [{np.quantile(baseline, 0.05):.4f}, {np.quantile(baseline, 0.95):.4f}]"
          f" (agent's rank {np.mean(baseline < best):.2f}); greedy policy {greedy_reward:.4f} vs random "
          f"95th-percentile draw {p95:.4f}; optimum {rewards.max():.4f}")
    assert best >= np.median(baseline)
    assert greedy_reward >= p95


@pytest.mark.slow
def test_moppo_one_policy_covers_the_front():
    """After 400 episodes the weight steers the greedy policy: accuracy-weighted genomes are more accurate and
    costlier than cost-weighted ones. Its hypervolume against random search's at the same budget is printed."""
    from flowq.callbacks import SearchMonitor

    problem, monitor = lenet_problem(), SearchMonitor()
    agent = MOPPO(8, **MOPPO_OPTIONS)
    minimize(problem, agent, ("n_eval", 400), seed=1, callback=monitor, copy_algorithm=False)
    F = {}
    for w in ((1.0, 0.0), (0.5, 0.5), (0.0, 1.0)):
        metrics = problem.evaluate_metrics(agent.greedy_policy(w)[None, :])[0]
        F[w] = [problem.objective_value(name, metrics) for name in problem.objectives]
    random = SearchMonitor()
    minimize(lenet_problem(), RandomSearch(8), ("n_eval", 400), seed=1, callback=random)
    print(f"moppo: HV {monitor.hypervolume[-1]:.4f} (random search {random.hypervolume[-1]:.4f}); greedy (1 - psi, "
          f"bitops / 16-bit) by weight {F}")
    assert F[(1.0, 0.0)][0] < F[(0.0, 1.0)][0] and F[(1.0, 0.0)][1] > F[(0.0, 1.0)][1]


# ---- determinism and checkpoint / resume ---------------------------------------------------------------------------
def _state(agent):
    nets = {k: v for k, v in vars(agent).items() if isinstance(v, torch.nn.Module)}
    weights = {f"{k}.{p}": t.clone() for k, net in nets.items() for p, t in net.state_dict().items()}
    optims = [v.state_dict() for v in vars(agent).values() if isinstance(v, torch.optim.Optimizer)]
    moments = [s["exp_avg"].clone() for o in optims for s in o["state"].values()]
    replay = getattr(agent, "replay", None)
    return weights, moments, None if replay is None else (replay.s.copy(), replay.a.copy(), replay.r.copy())


def _flow(tmp_path=None):
    return Flow("lenet5", "digits", Surrogate(), hw="spatial-256", verbose=False, out=tmp_path)


@pytest.mark.parametrize("name", ["ddpg", "ppo", "releq", "vpg"])  # MOPPO: PPO's state plus its weights
def test_same_seed_same_result_and_resume_equals_straight_run(name, tmp_path):
    def agent():
        return AGENTS[name](4, reward="benq", cost="bitops", **SMALL[name])

    runs = []
    for k in range(2):
        flow = _flow()
        problem = flow.problem("coarse", objectives=("accuracy", "bitops"))
        runs.append(flow.search(problem, agent(), 4, seed=5, out=tmp_path / f"straight{k}"))
    assert runs[0].hypervolume == runs[1].hypervolume
    assert [s["F"] for s in runs[0].front] == [s["F"] for s in runs[1].front]
    straight = runs[0].extra["pymoo"].algorithm

    flow = _flow()
    problem = flow.problem("coarse", objectives=("accuracy", "bitops"))
    flow.search(problem, agent(), 2, seed=5, out=tmp_path / "resumed")
    checkpoint = pickle.loads((tmp_path / "resumed" / "checkpoint.pkl").read_bytes())
    assert isinstance(checkpoint, AGENTS[name]) and checkpoint.n_iter == 3
    resumed = _flow().search(problem, agent(), 4, seed=5, out=tmp_path / "resumed", resume=True)
    assert resumed.hypervolume == runs[0].hypervolume
    assert [s["F"] for s in resumed.front] == [s["F"] for s in runs[0].front]
    again = resumed.extra["pymoo"].algorithm
    assert again.curve == straight.curve
    (w1, m1, r1), (w2, m2, r2) = _state(straight), _state(again)
    assert w1.keys() == w2.keys() and all(torch.equal(w1[k], w2[k]) for k in w1)
    assert len(m1) == len(m2) > 0 and all(torch.equal(a, b) for a, b in zip(m1, m2))
    if r1 is not None:
        assert all(np.array_equal(a, b) for a, b in zip(r1, r2)) and straight.replay.size == again.replay.size > 0


def test_agent_archive_is_non_dominated_and_fixed_by_the_problem_instance():
    agent = PPO(6, reward="benq", cost="bitops", **{k: v for k, v in SMALL["ppo"].items()})
    problem = lenet_problem()
    res = minimize(problem, agent, ("n_gen", 3), seed=2)
    F = res.opt.get("F")
    assert len(F) >= 1
    for i in range(len(F)):
        assert not np.any(np.all(F <= F[i], axis=1) & np.any(F < F[i], axis=1))
    # everything the agent evaluated went through the shared problem: 18 episodes, cached by genome
    assert res.algorithm.evaluator.n_eval == 18 and len(problem.records) <= 18
    with pytest.raises(FlowQError, match="pop_size"):
        VPG(0)
    with pytest.raises(FlowQError, match="reward"):
        DDPG(4, reward="nope")
    assert isinstance(ReLeQ(2), PPO)


# ---- policy similarity ---------------------------------------------------------------------------------------------
def test_policy_similarity_cosine_and_manhattan():
    p, q = [8, 8, 4, 4], [8, 8, 8, 8]
    # cos = (64 + 64 + 32 + 32) / (sqrt(160) * 16) = 192 / 202.39 = 0.948683
    assert cosine_similarity(p, q) == pytest.approx(0.948683, abs=1e-6)
    assert manhattan_distance(p, q) == 8.0  # two loci, 4 bits each
    cos, man = similarity_matrices([p, q, [4, 4, 2, 2]])
    assert np.allclose(cos, cos.T) and np.allclose(np.diag(cos), 1.0)
    assert cos[0, 2] == pytest.approx(1.0)  # proportional policies are cosine-identical ...
    assert man[0, 2] == 12.0  # ... but 12 one-bit steps apart
    with pytest.raises(FlowQError):
        manhattan_distance([8, 8], [8, 8, 8])


# ---- CLI / Flow ----------------------------------------------------------------------------------------------------
def test_cli_search_with_rl_agents_and_both_evaluators_then_compare(tmp_path, capsys):
    runs = []
    for algo, evaluator in (("ppo", "proxy"), ("ddpg", "finetune"), ("vpg", "proxy"), ("releq", "proxy")):
        run = tmp_path / algo
        argv = ["search", "--model", "lenet5", "--level", "coarse", "--objectives", "accuracy,bitops", "--algo", algo,
                "--pop", "3", "--gen", "2", "--seed", "1", "--evaluator", evaluator, "--out", str(run), "--quiet"]
        assert main(argv + (["--epochs", "0.05"] if evaluator == "finetune" else [])) == 0
        data = json.loads((run / "results.json").read_text())
        assert data["algorithm"] == algo and len(data["hypervolume"]) == 2 and data["n_evaluations"][-1] == 6
        assert (run / "checkpoint.pkl").stat().st_size > 0 and (run / "hypervolume.png").stat().st_size > 0
        runs.append(str(run))
    capsys.readouterr()
    png = tmp_path / "sim.png"
    assert main(["compare", *runs, "--out", str(png)]) == 0
    out = capsys.readouterr().out
    assert "cosine similarity" in out and "Manhattan distance" in out and "W8A8" in out
    assert png.stat().st_size > 0


def test_cli_compare_rejects_a_missing_run(tmp_path):
    assert main(["compare", str(tmp_path / "missing")]) == 2


@pytest.mark.slow
def test_compare_algorithms_quick(tmp_path):
    import importlib.util
    from pathlib import Path

    path = Path(__file__).resolve().parents[2] / "experiments" / "compare_algorithms.py"
    spec = importlib.util.spec_from_file_location("compare_algorithms", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    data = module.run("quick", tmp_path, verbose=False)
    assert set(data["summary"]) == set(module.ALGORITHMS) and "random" in data["summary"]
    for name, rows in data["runs"].items():
        assert len(rows) == 3  # three seeds each
        assert max(r["n_evaluations"][-1] for r in rows) <= 24  # pop 6 x 4 generations for everyone
        assert all(0.0 < r["final_hypervolume"] <= 1.1 ** 2 for r in rows)
    first = {name: rows[0]["seed"] for name, rows in data["runs"].items()}
    assert len(set(first.values())) == len(first)  # no two algorithms share a seed (PPO / VPG start apart)
    for name, row in data["summary"].items():
        assert row["hv_mean"] == pytest.approx(np.mean(row["hv"]))
        if name != "random":
            assert row["verdict"] in ("better than random", "worse than random", "not distinguishable from random")
            assert 0.0 <= row["p_greater"] <= 1.0 and row["diff_ci95"][0] <= row["mean_diff"] <= row["diff_ci95"][1]
    text = (tmp_path / "compare.md").read_text()
    assert "| random |" in text and ("Nothing beats random search" in text or "Better than random" in text)
    cos = np.asarray(data["similarity"]["cosine"])
    assert np.allclose(cos, cos.T) and np.allclose(np.diag(cos), 1.0) and data["similarity"]["names"][-1] == "W8A8"
    for name in ("hypervolume.png", "similarity.png", "compare.json"):
        assert (tmp_path / name).stat().st_size > 0
    assert math.isfinite(data["w8a8"]["accuracy"])


def test_compare_seeds_differ_by_algorithm_unless_a_common_start_is_asked():
    import importlib.util
    from pathlib import Path

    path = Path(__file__).resolve().parents[2] / "experiments" / "compare_algorithms.py"
    spec = importlib.util.spec_from_file_location("compare_algorithms", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    assert module.run_seed("ppo", 0) != module.run_seed("vpg", 0) != module.run_seed("vpg", 1)
    assert module.run_seed("ppo", 2, common_start=True) == module.run_seed("vpg", 2, common_start=True) == 2
    # HV after n evaluations: the last generation that used no more (0 before the first)
    assert module.hv_at([3, 6, 7, 12, 20], [6, 12, 18], [0.1, 0.2, 0.3]).tolist() == [0.0, 0.1, 0.1, 0.2, 0.3]
    rng = np.random.default_rng(0)
    clear = module.significance([0.9, 0.91, 0.92, 0.93, 0.94], [0.5, 0.51, 0.52, 0.53, 0.54], rng)
    assert clear["verdict"] == "better than random" and clear["p_greater"] == pytest.approx(1 / 252)
    same = module.significance([0.5, 0.6, 0.7], [0.55, 0.65, 0.68], rng)
    assert same["verdict"] == "not distinguishable from random"
    assert module.significance([0.1, 0.2, 0.3, 0.2, 0.1], [0.9, 0.8, 0.9, 0.95, 0.85], rng)["verdict"] == \
        "worse than random"
