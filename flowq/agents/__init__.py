"""RL agents as pymoo Algorithms (HAQ's DDPG, BenQ's PPO / VPG, ReLeQ's LSTM-PPO, a weight-conditioned PPO that
covers a front), the quantisation MDP as a gymnasium Env, reward functions and policy similarity."""

from flowq.agents.base import RLAgent
from flowq.agents.ddpg import DDPG
from flowq.agents.env import QuantEnv, QuantMDP
from flowq.agents.moppo import MOPPO
from flowq.agents.ppo import PPO
from flowq.agents.releq import ReLeQ
from flowq.agents.rewards import REWARDS, RewardModel
from flowq.agents.vpg import VPG

AGENTS = {"ddpg": DDPG, "ppo": PPO, "vpg": VPG, "releq": ReLeQ, "moppo": MOPPO}

__all__ = ["AGENTS", "DDPG", "MOPPO", "PPO", "QuantEnv", "QuantMDP", "REWARDS", "RLAgent", "ReLeQ", "RewardModel", "VPG"]
