"""SCIP (the ``pyscipopt`` wheel bundles it) through Pyomo's ``scip_direct`` interface."""
from __future__ import annotations

import logging
import math
from dataclasses import dataclass

import pyomo.environ as pyo
from pyomo.opt import TerminationCondition as TC


@dataclass
class ScipAnswer:
    termination: str        # optimal | infeasible | time_limit | error
    has_solution: bool      # a solution is loaded into the model
    objective: float | None
    bound: float | None     # SCIP's dual bound (valid for the model solved)
    wall_s: float


def solve_model(m: pyo.ConcreteModel, time_limit: float, gap: float = 1e-4, cpu_clock: bool = False,
                warm_start: bool = False) -> ScipAnswer:
    """Solve ``m`` (maximisation) with SCIP; loads the incumbent into ``m`` when there is one.
    ``warm_start``: hand SCIP the integer variables' current values as a (partial) starting solution."""
    import time

    opt = pyo.SolverFactory("scip_direct")
    opt.config.warmstart_discrete_vars = warm_start
    opt.options["limits/time"] = max(0.5, float(time_limit))
    opt.options["limits/gap"] = float(gap)
    opt.options["display/verblevel"] = 0  # verbose output once blocked SCIP on a pipe write
    opt.options["timing/clocktype"] = 1 if cpu_clock else 2
    t = time.perf_counter()
    logging.getLogger("pyomo.core").setLevel(logging.ERROR)
    try:
        res = opt.solve(m, load_solutions=False)
    except Exception as e:  # noqa: BLE001 - any SCIP failure becomes an 'error' answer
        return ScipAnswer(f"error: {e}", False, None, None, time.perf_counter() - t)
    wall = time.perf_counter() - t
    tc = res.solver.termination_condition
    bound = res.problem.upper_bound
    bound = float(bound) if bound is not None and math.isfinite(bound) else None
    if tc == TC.infeasible:
        return ScipAnswer("infeasible", False, None, None, wall)
    has = len(res.solution) > 0
    if has:
        m.solutions.load_from(res)
    term = "optimal" if tc == TC.optimal else "time_limit" if tc in (TC.maxTimeLimit, TC.maxIterations) else str(tc)
    return ScipAnswer(term, has, pyo.value(m.objective) if has else None, bound, wall)


def version() -> str | None:
    try:
        import pyscipopt

        return f"SCIP {pyscipopt.Model().version()} (pyscipopt {pyscipopt.__version__})"
    except Exception:  # noqa: BLE001
        return None
