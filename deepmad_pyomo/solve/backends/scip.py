"""SCIP (the ``pyscipopt`` wheel bundles it) through Pyomo's ``scip_direct`` interface."""
from __future__ import annotations

import logging
import math
import time
from typing import Any

import pyomo.environ as pyo
from pyomo.opt import TerminationCondition as TC

from .answer import SolverAnswer, Termination

_TERMINATION = {
    TC.optimal: Termination.OPTIMAL,
    TC.infeasible: Termination.INFEASIBLE,
    TC.maxTimeLimit: Termination.TIME_LIMIT,
    TC.maxIterations: Termination.ITERATION_LIMIT,
    TC.unbounded: Termination.UNBOUNDED,
    TC.infeasibleOrUnbounded: Termination.UNBOUNDED,
}


def solve_model(m: pyo.ConcreteModel, time_limit: float, gap: float = 1e-4, cpu_clock: bool = False,
                warm_start: bool = False, node_limit: int | None = None, options: dict[str, Any] | None = None,
                tee: bool = False) -> SolverAnswer:
    """Solve ``m`` (maximisation) with SCIP; loads the incumbent into ``m`` when there is one.
    ``warm_start``: hand SCIP the integer variables' current values as a (partial) starting solution.
    ``node_limit``: a work limit (branch-and-bound nodes, restarts included); SCIP is deterministic, so an
    answer stopped by it does not depend on the machine's load, unlike one stopped by ``time_limit``.
    ``options``: SCIP parameters or meta settings (:func:`parameters`, a profile's); the answer's
    ``settings`` are their values as SCIP held them after the solve. ``tee``: SCIP's log on stdout."""
    opt = pyo.SolverFactory("scip_direct")
    opt.config.warmstart_discrete_vars = warm_start
    params = parameters(options or {})
    opt.options.update(params)  # first: the limits below are the route's, whatever a meta setting changed
    opt.options["limits/time"] = max(0.5, float(time_limit))
    if node_limit is not None:
        opt.options["limits/totalnodes"] = int(node_limit)
    opt.options["limits/gap"] = float(gap)
    opt.options["display/verblevel"] = 4 if tee else 0  # quiet unless asked: its output once blocked on a pipe
    opt.options["timing/clocktype"] = 1 if cpu_clock else 2
    t = time.perf_counter()
    logging.getLogger("pyomo.core").setLevel(logging.ERROR)
    try:
        res = opt.solve(m, load_solutions=False, tee=tee)
    except Exception as e:  # noqa: BLE001 - any SCIP failure becomes an 'error' answer
        return SolverAnswer(Termination.ERROR, False, wall_s=time.perf_counter() - t, solver_status=str(e))
    wall = time.perf_counter() - t
    settings = _held(opt, params)
    tc = res.solver.termination_condition
    termination = _TERMINATION.get(tc, Termination.ERROR)
    if termination == Termination.INFEASIBLE:
        return SolverAnswer(termination, False, wall_s=wall, solver_status=str(tc), settings=settings)
    bound = res.problem.upper_bound
    bound = float(bound) if bound is not None and math.isfinite(bound) else None
    has = len(res.solution) > 0
    if has:
        m.solutions.load_from(res)
    return SolverAnswer(termination, has, pyo.value(m.objective) if has else None, bound, wall, str(tc),
                        nodes=_nodes(opt), settings=settings)


def _held(opt: object, params: dict[str, Any]) -> dict[str, Any]:
    """The values SCIP holds for ``params`` after the solve (what reached it), when the interface says."""
    model = getattr(opt, "_solver_model", None)
    try:
        return {k: model.getParam(k) for k in params} if model is not None else {}
    except Exception:  # noqa: BLE001 - a record is a nicety
        return {}


def _nodes(opt: object) -> int | None:
    """Branch-and-bound nodes of the last solve (restarts included), when the interface exposes them."""
    model = getattr(opt, "_solver_model", None)
    try:
        return int(model.getNTotalNodes()) if model is not None else None
    except Exception:  # noqa: BLE001 - a count is a nicety
        return None


def version() -> str | None:
    try:
        import pyscipopt

        return f"SCIP {pyscipopt.Model().version()} (pyscipopt {pyscipopt.__version__})"
    except Exception:  # noqa: BLE001
        return None


def parameters(settings: dict[str, Any]) -> dict[str, Any]:
    """SCIP parameters for ``settings``: parameters (``a/b``) as they are; a meta setting (``heuristics``,
    ``presolving``, ``separating``: ``aggressive|fast|off|default``; ``emphasis``: a SCIP emphasis)
    expanded to the parameters SCIP itself changes for it. Parameters given win over meta settings."""
    import pyscipopt

    meta = {k: v for k, v in settings.items() if "/" not in k}
    if not meta:
        return dict(settings)
    model = pyscipopt.Model()
    model.hideOutput()
    before = model.getParams()
    for key, value in meta.items():
        if key == "emphasis":
            model.setEmphasis(getattr(pyscipopt.SCIP_PARAMEMPHASIS, value.upper()))
        else:
            setter = {"heuristics": model.setHeuristics, "presolving": model.setPresolve,
                      "separating": model.setSeparating}[key]
            setter(getattr(pyscipopt.SCIP_PARAMSETTING, value.upper()))
    after = model.getParams()
    changed = {k: v for k, v in after.items() if before.get(k) != v}
    return {**changed, **{k: v for k, v in settings.items() if "/" in k}}
