"""Sprachpool's matching engine: a pure library, plain dataclasses in, results out.

from matching import Pool, rank, optimize, check
"""

from matching.feasibility import (
    CheckReport,
    Exclusion,
    Figures,
    Job,
    Violation,
    check,
    exclusions,
    pair_feasible,
    travel_conflict,
)
from matching.generate import generate
from matching.greedy import careful_greedy, status_quo
from matching.model import (
    Assignment,
    Busy,
    Clearance,
    GenderPreference,
    Interval,
    Location,
    Mediator,
    Problem,
    Request,
    Solution,
)
from matching.optimize import Weights, optimize
from matching.problem_io import (
    ProblemFormatError,
    load_problem,
    load_solution,
    problem_from_dict,
    problem_to_dict,
    solution_from_dict,
    solution_to_dict,
)
from matching.rank import Candidate, Pool, Ranking, feasible_ids, rank
from matching.scarcity import scarcity

__all__ = [
    "Assignment",
    "Busy",
    "Candidate",
    "Clearance",
    "CheckReport",
    "Exclusion",
    "Figures",
    "GenderPreference",
    "Interval",
    "Job",
    "Location",
    "Mediator",
    "Pool",
    "Problem",
    "ProblemFormatError",
    "Ranking",
    "Request",
    "Solution",
    "Violation",
    "Weights",
    "careful_greedy",
    "check",
    "exclusions",
    "feasible_ids",
    "generate",
    "load_problem",
    "load_solution",
    "optimize",
    "pair_feasible",
    "problem_from_dict",
    "problem_to_dict",
    "rank",
    "scarcity",
    "solution_from_dict",
    "solution_to_dict",
    "status_quo",
    "travel_conflict",
]
