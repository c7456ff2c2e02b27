"""RL agents as pymoo Algorithms (HAQ's DDPG, BenQ's PPO / VPG, ReLeQ's LSTM-PPO), the quantisation MDP as a
gymnasium Env, reward functions and policy similarity."""

from flowq.agents.base import RLAgent
from flowq.agents.ddpg import DDPG
from flowq.agents.env import QuantEnv, QuantMDP
from flowq.agents.ppo import PPO
from flowq.agents.releq import ReLeQ
from flowq.agents.rewards import REWARDS, RewardModel
from flowq.agents.vpg import VPG

AGENTS = {"ddpg": DDPG, "ppo": PPO, "vpg": VPG, "releq": ReLeQ}

__all__ = ["AGENTS", "DDPG", "PPO", "QuantEnv", "QuantMDP", "REWARDS", "RLAgent", "ReLeQ", "RewardModel", "VPG"]
