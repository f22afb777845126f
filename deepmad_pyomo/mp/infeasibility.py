"""Why a design problem is infeasible: the smallest value of each budget that admits a design.

For each budget (FLOPs, params, layers) SCIP minimises that quantity subject to everything else
(the template's bounds, rho <= rho0, the other budgets); the minimum is the least feasible budget.
"""
from __future__ import annotations

from dataclasses import dataclass

import pyomo.environ as pyo

from ..solve.backends import scip
from ..space.problem import DesignProblem
from .formulation import FLOPS_SCALE, PARAMS_SCALE, build_pyomo_model

BUDGETS = {"flops": ("flops_budget", FLOPS_SCALE), "params": ("params_budget", PARAMS_SCALE),
           "layers": ("layers_budget", 1.0)}


@dataclass
class Infeasibility:
    message: str
    smallest: dict[str, float]


def feasible(problem: DesignProblem, time_limit: float) -> bool | None:
    """``True``/``False`` when SCIP decides feasibility in the time limit, else ``None``."""
    m = build_pyomo_model(problem)
    m.objective.deactivate()
    m.zero = pyo.Objective(expr=0, sense=pyo.maximize)
    ans = scip.solve_model(m, time_limit)
    return True if ans.has_solution else False if ans.termination == "infeasible" else None


def smallest_budget(problem: DesignProblem, budget: str, time_limit: float) -> float | None:
    """The least value of ``budget`` with a feasible design (``None``: not decided in time)."""
    name, scale = BUDGETS[budget]
    m = build_pyomo_model(problem)
    getattr(m, name).deactivate()
    m.objective.deactivate()
    quantity = getattr(m, budget)
    m.least = pyo.Objective(expr=-quantity, sense=pyo.maximize)
    ans = scip.solve_model(m, time_limit, gap=1e-6)
    if ans.termination != "optimal" or ans.bound is None:
        return None
    return -ans.bound * scale


def explain(problem: DesignProblem, time_limit: float = 20.0) -> Infeasibility | None:
    """``None`` if the problem is (or may be) feasible; otherwise what is wrong and what would do."""
    if feasible(problem, time_limit) is not False:
        return None
    smallest: dict[str, float] = {}
    broken = []
    for budget in BUDGETS:
        limit = getattr(problem.budgets, budget)
        if limit is None:
            continue
        least = smallest_budget(problem, budget, time_limit / 2)
        if least is not None:
            smallest[budget] = least
            if least > limit:
                broken.append(f"budgets.{budget} = {limit:.6g} is below the smallest feasible {least:.6g}"
                              f" ({problem.budget_metric(budget) if budget != 'layers' else 'layers'})")
    if broken:
        msg = "infeasible: " + "; ".join(broken)
    elif smallest:
        msg = ("infeasible: the budgets are jointly too tight (each alone is feasible at "
               + ", ".join(f"{k} >= {v:.6g}" for k, v in smallest.items()) + ")")
    else:
        msg = "infeasible: no architecture of the template meets rho <= rho0 and its bounds"
    return Infeasibility(msg, smallest)
