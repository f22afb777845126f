"""SCIP (the ``pyscipopt`` wheel bundles it) through Pyomo's ``scip_direct`` interface.

With ``on_improvement``, :func:`solve_model` also hears of every improving solution while SCIP runs: an
event handler on SCIP's ``BESTSOLFOUND`` event loads it into the model's variables and calls back with
SCIP's value, dual bound, nodes and solving time (:class:`Improvement`).
"""
from __future__ import annotations

import logging
import math
import time
from dataclasses import dataclass
from typing import Any, Callable

import pyomo.environ as pyo
from pyomo.contrib.solver.common.base import LegacySolverWrapper
from pyomo.contrib.solver.solvers.scip.scip_direct import ScipDirect
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


@dataclass(frozen=True)
class Improvement:
    """A better solution SCIP found while solving (its values are in the model's variables during the call):
    its ``objective`` as SCIP computes it, SCIP's global dual ``bound`` then (``None`` while infinite), the
    branch-and-bound ``nodes`` so far and SCIP's ``solving_s``."""

    objective: float
    bound: float | None
    nodes: int
    solving_s: float


OnImprovement = Callable[[Improvement], None]


def _best_solutions_handler(on_improvement: OnImprovement, var_map: Any) -> Any:
    """A pyscipopt event handler that loads each new best solution into the Pyomo variables of ``var_map``
    (Pyomo variable -> SCIP variable) and passes it to ``on_improvement``."""
    import pyscipopt

    class BestSolutions(pyscipopt.Eventhdlr):
        def eventinit(self) -> None:
            self.model.catchEvent(pyscipopt.SCIP_EVENTTYPE.BESTSOLFOUND, self)

        def eventexit(self) -> None:
            self.model.dropEvent(pyscipopt.SCIP_EVENTTYPE.BESTSOLFOUND, self)

        def eventexec(self, event: Any) -> None:
            scip_model = self.model
            sol = scip_model.getBestSol()
            for var, scip_var in var_map.items():
                var.set_value(scip_model.getSolVal(sol, scip_var), skip_validation=True)
            bound = scip_model.getDualbound()
            on_improvement(Improvement(scip_model.getSolObjVal(sol),
                                       None if scip_model.isInfinity(abs(bound)) else float(bound),
                                       int(scip_model.getNTotalNodes()), float(scip_model.getSolvingTime())))

    return BestSolutions()


class _ScipWithEvents(LegacySolverWrapper, ScipDirect):
    """Pyomo's ``scip_direct`` (legacy interface, as ``SolverFactory`` makes it) that adds an event handler for
    SCIP's new best solutions to the model it builds (the subclassing Pyomo documents for its solver
    factory)."""

    def __init__(self, on_improvement: OnImprovement, **kwds: Any):
        super().__init__(**kwds)
        self._on_improvement = on_improvement

    def _create_solver_model(self, model: Any, config: Any) -> Any:
        created = super()._create_solver_model(model, config)
        self._solver_model.includeEventhdlr(
            _best_solutions_handler(self._on_improvement, self._pyomo_var_to_solver_var_map),
            "deepmad_best_solutions", "reports each new best solution while SCIP solves")
        return created


def solve_model(m: pyo.ConcreteModel, time_limit: float, gap: float = 1e-4, cpu_clock: bool = False,
                warm_start: bool = False, node_limit: int | None = None, options: dict[str, Any] | None = None,
                tee: bool = False, on_improvement: OnImprovement | None = None) -> SolverAnswer:
    """Solve ``m`` (maximisation) with SCIP; loads the incumbent into ``m`` when there is one.
    ``warm_start``: hand SCIP the integer variables' current values as a (partial) starting solution.
    ``node_limit``: a work limit (branch-and-bound nodes, restarts included); SCIP is deterministic, so an
    answer stopped by it does not depend on the machine's load, unlike one stopped by ``time_limit``.
    ``options``: SCIP parameters or meta settings (:func:`parameters`, a profile's); the answer's
    ``settings`` are their values as SCIP held them after the solve. ``tee``: SCIP's log on stdout.
    ``on_improvement``: called with each new best solution while SCIP solves (see the module); its values
    are in ``m``'s variables during the call."""
    opt = pyo.SolverFactory("scip_direct") if on_improvement is None else _ScipWithEvents(on_improvement)
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
