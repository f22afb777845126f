"""Pyomo ``SolverFactory`` plugins for Ipopt and Bonmin from the casadi wheel, on any model :mod:`.casadi`
translates (``casadi_ipopt``, ``casadi_bonmin``), and the base of the package's plugins (Pyomo's legacy solver
interface). :mod:`deepmad_pyomo.solve.plugins` registers them with ``deepmad_certify``.
"""
from __future__ import annotations

import math
import time
from typing import Any, ClassVar

from pyomo.common.collections import Bunch
from pyomo.opt import SolverResults, SolverStatus
from pyomo.opt import TerminationCondition as TC

from ...enums import StrEnum


class PluginName(StrEnum):
    """The names the package registers with Pyomo's ``SolverFactory``."""

    CASADI_IPOPT = "casadi_ipopt"
    CASADI_BONMIN = "casadi_bonmin"
    DEEPMAD_CERTIFY = "deepmad_certify"


# Ipopt's and Bonmin's return status (as CasADi reports it) -> Pyomo's termination condition and status
_STATUS = {
    "Solve_Succeeded": (TC.locallyOptimal, SolverStatus.ok),
    "SUCCESS": (TC.locallyOptimal, SolverStatus.ok),  # Bonmin: optimal if the model is convex
    "Solved_To_Acceptable_Level": (TC.feasible, SolverStatus.warning),
    "Feasible_Point_Found": (TC.feasible, SolverStatus.warning),
    "Infeasible_Problem_Detected": (TC.infeasible, SolverStatus.warning),  # locally infeasible
    "Restoration_Failed": (TC.infeasible, SolverStatus.warning),
    "INFEASIBLE": (TC.infeasible, SolverStatus.warning),  # Bonmin
    "CONTINUOUS_UNBOUNDED": (TC.unbounded, SolverStatus.warning),  # Bonmin
    "Maximum_Iterations_Exceeded": (TC.maxIterations, SolverStatus.aborted),
    "Maximum_CpuTime_Exceeded": (TC.maxTimeLimit, SolverStatus.aborted),
    "Maximum_WallTime_Exceeded": (TC.maxTimeLimit, SolverStatus.aborted),
    "LIMIT_EXCEEDED": (TC.maxTimeLimit, SolverStatus.aborted),  # Bonmin: a work limit when one was set
}
_BONMIN_WORK_LIMITS = ("node_limit", "iteration_limit", "solution_limit")
# Pyomo's solve() keywords that mean nothing here (no files are written; the start is always the model's values)
_IGNORED = ("keepfiles", "symbolic_solver_labels", "report_timing", "warmstart")


class Plugin:
    """What Pyomo's legacy solver interface asks of a solver object; subclasses implement ``_solve``."""

    name = ""

    def __init__(self, **kwds: Any):
        self.options = Bunch()
        self.options.update(kwds.pop("options", None) or {})

    def available(self, exception_flag: bool = True) -> bool:
        try:
            import casadi  # noqa: F401
        except ImportError:
            if exception_flag:
                raise
            return False
        return True

    def license_is_valid(self) -> bool:
        return True

    def warm_start_capable(self) -> bool:
        return True  # every solve starts from the model's current values

    def version(self) -> tuple[int, ...]:
        import casadi

        return tuple(int(p) for p in casadi.__version__.split(".")[:3])

    def __enter__(self) -> Plugin:
        return self

    def __exit__(self, *args: object) -> None:
        pass

    def solve(self, model: Any, tee: bool = False, load_solutions: bool = True, options: dict | None = None,
              timelimit: float | None = None, **kwds: Any) -> SolverResults:
        """Solve ``model`` and load the point found into it; see the module docstring."""
        unknown = sorted(set(kwds) - set(_IGNORED))
        if unknown:
            raise ValueError(f"{self.name}: unknown solve() keyword {unknown[0]!r} (valid: tee, load_solutions, "
                             f"options, timelimit, {', '.join(_IGNORED)})")
        if not load_solutions:
            raise ValueError(f"{self.name} always loads its solution (load_solutions=False is not supported)")
        if timelimit is not None and not (timelimit > 0 and math.isfinite(timelimit)):
            raise ValueError(f"{self.name}: timelimit {timelimit!r} is not a positive number of seconds")
        return self._solve(model, bool(tee), {**dict(self.options), **dict(options or {})}, timelimit)

    def _solve(self, model: Any, tee: bool, options: dict[str, Any], timelimit: float | None) -> SolverResults:
        raise NotImplementedError

    def _results(self, model: Any) -> SolverResults:
        import pyomo.environ as pyo

        results = SolverResults()
        results.solver.name = self.name
        results.problem.name = model.name
        objectives = list(model.component_data_objects(pyo.Objective, active=True))
        if len(objectives) == 1:
            results.problem.sense = objectives[0].sense
        results.problem.number_of_objectives = len(objectives)
        return results


def _set_primal_bound(results: SolverResults, model: Any) -> None:
    """The objective at the loaded point bounds the optimum from the primal side (a point of that value
    exists); the other side stays infinite."""
    import pyomo.environ as pyo

    (obj,) = list(model.component_data_objects(pyo.Objective, active=True))
    value = float(pyo.value(obj))
    if obj.sense == pyo.minimize:
        results.problem.upper_bound = value
    else:
        results.problem.lower_bound = value


class CasadiPlugin(Plugin):
    """Ipopt or Bonmin (``solver``) from the casadi wheel on a Pyomo model."""

    solver = ""
    defaults: ClassVar[dict[str, Any]] = {}

    def _solve(self, model: Any, tee: bool, options: dict[str, Any], timelimit: float | None) -> SolverResults:
        from .casadi import CasadiSolver

        try:
            solver = CasadiSolver(model, self.solver, time_limit=timelimit, options={**self.defaults, **options},
                                  tee=tee)
        except RuntimeError as e:  # CasADi checks Ipopt's options when it compiles
            raise ValueError(f"{self.name}: {_casadi_error(e)}") from None
        results = self._results(model)
        nlp = solver.nlp
        results.problem.number_of_variables = len(nlp.vars)
        results.problem.number_of_integer_variables = sum(nlp.discrete)
        results.problem.number_of_constraints = int(nlp.g.shape[0])
        t = time.perf_counter()
        try:
            answer, xs = solver.solve()
        except RuntimeError as e:  # Bonmin checks its options when it runs
            if "option" in str(e):
                raise ValueError(f"{self.name}: {_casadi_error(e)}") from None
            results.solver.status, results.solver.termination_condition = SolverStatus.error, TC.error
            results.solver.message = _casadi_error(e)
            results.solver.wallclock_time = time.perf_counter() - t
            return results
        tc, status = _STATUS.get(answer.solver_status, (TC.error, SolverStatus.error))
        if answer.solver_status == "LIMIT_EXCEEDED" and any(k in options for k in _BONMIN_WORK_LIMITS):
            tc = TC.maxIterations
        if xs is None and tc in (TC.locallyOptimal, TC.feasible):
            tc, status = TC.error, SolverStatus.error
        results.solver.status, results.solver.termination_condition = status, tc
        results.solver.message = answer.solver_status
        results.solver.wallclock_time = answer.wall_s
        if xs is not None:
            nlp.store(xs)
            _set_primal_bound(results, model)
        return results


def _casadi_error(e: Exception) -> str:
    """The last line of CasADi's message (the one that says what is wrong)."""
    lines = [ln.strip() for ln in str(e).splitlines() if ln.strip()]
    return lines[-1].split(": ", 1)[-1] if lines else type(e).__name__


class CasadiIpopt(CasadiPlugin):
    """``casadi_ipopt``: Ipopt on a Pyomo model (integer variables relaxed)."""

    name, solver = PluginName.CASADI_IPOPT.value, "ipopt"


class CasadiBonmin(CasadiPlugin):
    """``casadi_bonmin``: Bonmin on a Pyomo model (integer and binary variables kept)."""

    name, solver = PluginName.CASADI_BONMIN.value, "bonmin"
    defaults: ClassVar[dict[str, Any]] = {"algorithm": "B-BB"}
