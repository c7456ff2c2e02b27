"""pymoo Problems over integer bitwidth genomes, one per hardware abstraction level (Coarse, Mid, Fine)."""

from problems.base import QuantProblem, make_evaluator, problem_class
from problems.coarse import CoarseProblem
from problems.codesign import CodesignProblem
from problems.fine import FineProblem
from problems.mid import MidProblem
from problems.reram import ReRAMProblem

PROBLEMS = {"coarse": CoarseProblem, "mid": MidProblem, "fine": FineProblem, "reram": ReRAMProblem}

__all__ = ["QuantProblem", "CoarseProblem", "MidProblem", "FineProblem", "ReRAMProblem", "CodesignProblem", "PROBLEMS",
           "make_evaluator", "problem_class"]
