"""Global solvers on the monolithic MINLP: SCIP (``scip_direct``) and MAiNGO (``appsi_maingo``).

Both return a valid dual bound for the model they solve. On the paper's presets the monolithic model
is hard (the root bound is about twice the optimum); ``deepmad design --certify`` decomposes instead.
"""
from __future__ import annotations

import math
import time
from typing import Any

from ...enums import StrEnum
from ...errors import DesignError
from ...extras import Extra, install_command
from ...mp.formulation import (
    FormulationOptions,
    build_pyomo_model,
    decode,
    load_architecture,
)
from ...space.metrics import evaluate
from ...space.problem import DesignProblem
from .. import profiles
from ..backends import scip
from ..backends.answer import Termination
from ..options import SolveOptions
from ..results import Status
from ..route import Outcome, Reporter, RouteKind, register

MAINGO_MARGIN_S = 0.5  # MAiNGO's CPU limit ends this long before the route's time limit

_SCIP_STATUS = {Termination.OPTIMAL: Status.FEASIBLE, Termination.TIME_LIMIT: Status.TIME_LIMIT,
                Termination.ITERATION_LIMIT: Status.TIME_LIMIT}  # design() upgrades FEASIBLE within the gap


@register("scip", RouteKind.GLOBAL, "SCIP on the monolithic MINLP (spatial branch and bound; proves a gap)",
          install="pip install pyscipopt", probe=scip.version)
def run_scip(problem: DesignProblem, opts: SolveOptions, rep: Reporter) -> Outcome:
    """SCIP on the whole MINLP. Its bound is reported on the natural formulation only: on the log
    formulation in tinynas mode SCIP 10 has returned a design 0.13% below the optimum as optimal, with a
    bound below the optimum (its presolve cuts the optimum off)."""
    m = build_pyomo_model(problem, FormulationOptions(formulation=opts.formulation))
    rep.progress(f"SCIP on the monolithic MINLP ({m.nvariables()} variables, {m.nconstraints()} constraints)"
                 + (", warm-started" if opts.warm_start is not None else ""))
    if opts.warm_start is not None:
        load_architecture(m, opts.warm_start)
    vouched = opts.formulation != "log"
    ans = scip.solve_model(m, opts.time_limit, opts.gap, warm_start=opts.warm_start is not None,
                           options=profiles.settings("scip", opts.profile), tee=opts.tee,
                           on_improvement=_streamer(m, problem, rep, vouched))
    diagnostics = {"termination": ans.describe(), "wall_s": round(ans.wall_s, 2), "nodes": ans.nodes,
                   "profile": opts.profile, "solver_options": ans.settings}
    if ans.termination == Termination.INFEASIBLE:
        return Outcome(Status.INFEASIBLE, bound=None, message="SCIP proved the problem infeasible",
                       diagnostics=diagnostics)
    archs = [decode(m)] if ans.has_solution else []  # the last design streamed (design() verifies it again)
    status = _SCIP_STATUS.get(ans.termination, Status.ERROR)
    bound = ans.bound
    if not vouched and bound is not None:  # not a bound we can vouch for
        diagnostics["scip_bound_not_reported"] = bound
        bound = None
    return Outcome(status, archs, bound=bound, message="" if archs else f"SCIP: {ans.describe()}",
                   diagnostics=diagnostics)


def _streamer(m: Any, problem: DesignProblem, rep: Reporter, vouched: bool) -> scip.OnImprovement:
    """What SCIP calls with each new best solution: the design it decodes to, re-checked by the metrics, is
    reported when it meets every budget and bound and betters the last one reported, with SCIP's dual
    bound then (when ``vouched``: the route reports SCIP's bounds on this formulation)."""
    best = [-math.inf]

    def on_improvement(found: scip.Improvement) -> None:
        try:
            arch = decode(m)
        except DesignError:  # sizes SCIP's tolerances allow but no network has: not a design
            return
        met = evaluate(arch, problem.objective, problem.resolution)
        if problem.check(arch, met) or met.objective <= best[0]:
            return
        best[0] = met.objective
        rep.incumbent(arch, met.objective, f"SCIP (node {found.nodes})", found.bound if vouched else None)

    return on_improvement


def maingo_version() -> str | None:
    from pyomo.contrib.appsi.solvers import MAiNGO

    solver = MAiNGO()
    return f"MAiNGO {'.'.join(map(str, solver.version()))}" if solver.available() else None


class MaingoEnd(StrEnum):
    """How MAiNGO ended (its ``RETCODE`` names)."""

    GLOBALLY_OPTIMAL = "GLOBALLY_OPTIMAL"
    INFEASIBLE = "INFEASIBLE"
    FEASIBLE_POINT = "FEASIBLE_POINT"  # stopped by a limit with a design
    NO_FEASIBLE_POINT_FOUND = "NO_FEASIBLE_POINT_FOUND"  # stopped by a limit without one
    OTHER = "OTHER"

    @classmethod
    def of(cls, retcode: Any) -> MaingoEnd:
        name = getattr(retcode, "name", str(retcode).split(".")[-1])
        return cls.__members__.get(name, cls.OTHER)


_MAINGO_STATUS = {MaingoEnd.GLOBALLY_OPTIMAL: Status.FEASIBLE,  # design() upgrades it within the gap
                  MaingoEnd.INFEASIBLE: Status.INFEASIBLE, MaingoEnd.FEASIBLE_POINT: Status.TIME_LIMIT,
                  MaingoEnd.NO_FEASIBLE_POINT_FOUND: Status.TIME_LIMIT}


def maingo_bound(bound: float | None, objective: float | None) -> float | None:
    """MAiNGO's upper bound when it is a valid one: finite, and not below the design it found."""
    if bound is None or not math.isfinite(bound):
        return None
    if objective is not None and bound < objective - 1e-6 * max(1.0, abs(objective)):
        return None
    return bound


def stopped_message(cpu_limit: int, cpu_s: float, objective: float | None, bound: float | None) -> str:
    """What MAiNGO reached when a limit stopped it: its best design (or none) and its bound."""
    limit = f"its time limit ({cpu_limit:g} s CPU)" if cpu_s >= 0.95 * cpu_limit else f"a limit after {cpu_s:.1f} s CPU"
    best = "no design" if objective is None else f"a best design of objective {objective:,.2f}"
    if bound is None:
        return f"MAiNGO stopped at {limit} with {best} and no valid bound"
    gap = "" if objective is None else f", gap {100 * max(0.0, bound - objective) / max(abs(objective), 1e-9):.2f}%"
    return f"MAiNGO stopped at {limit} with {best}, bound {bound:,.2f}{gap}"


@register("maingo", RouteKind.GLOBAL, "MAiNGO (appsi_maingo) on the monolithic MINLP", install=install_command(Extra.MAINGO),
          probe=maingo_version)
def run_maingo(problem: DesignProblem, opts: SolveOptions, rep: Reporter) -> Outcome:
    from pyomo.contrib.appsi.solvers import MAiNGO

    t0 = time.perf_counter()
    m = build_pyomo_model(problem, FormulationOptions(formulation=opts.formulation))
    _inline_named_expressions(m)  # appsi_maingo does not know named Expression components
    rep.progress(f"MAiNGO on the monolithic MINLP ({m.nvariables()} variables)")
    solver = MAiNGO()
    # MAiNGO counts CPU time in whole seconds; design() kills the route past its wall time: stop before
    cpu_limit = max(1, math.floor(opts.time_limit - (time.perf_counter() - t0) - MAINGO_MARGIN_S))
    solver.config.time_limit = cpu_limit
    solver.config.mip_gap = opts.gap
    solver.config.load_solution = False
    solver.maingo_options = {"writeResultFile": False, "loggingDestination": 0}  # no files in the cwd
    res = solver.solve(m)
    end = MaingoEnd.of(solver._mymaingo.get_status())
    cpu_s = float(res.cpu_time or 0.0)
    diagnostics = {"termination": end.value, "maingo_cpu_s": round(cpu_s, 2)}
    if end == MaingoEnd.INFEASIBLE:
        return Outcome(Status.INFEASIBLE, message="MAiNGO proved the problem infeasible", diagnostics=diagnostics)
    archs, objective = [], None
    if res.best_feasible_objective is not None and end in (MaingoEnd.GLOBALLY_OPTIMAL, MaingoEnd.FEASIBLE_POINT):
        res.solution_loader.load_vars()
        arch = decode(m)
        archs.append(arch)
        objective = evaluate(arch, problem.objective).objective
        rep.incumbent(arch, objective, "MAiNGO")
    bound = maingo_bound(res.best_objective_bound, objective)
    status = _MAINGO_STATUS.get(end, Status.ERROR)
    if status == Status.TIME_LIMIT:
        message = stopped_message(cpu_limit, cpu_s, objective, bound)
    elif status == Status.ERROR:
        message = f"MAiNGO ended with status {solver._mymaingo.get_status()}"
    else:
        message = ""
    return Outcome(status, archs, bound=bound, message=message, diagnostics=diagnostics)


def _inline_named_expressions(m: Any) -> None:
    """Replace every active constraint and objective by one whose named expressions are inlined."""
    import pyomo.environ as pyo
    from pyomo.core.expr.visitor import ExpressionReplacementVisitor

    inline = ExpressionReplacementVisitor(remove_named_expressions=True).walk_expression
    m.inlined = pyo.ConstraintList()
    for c in list(m.component_data_objects(pyo.Constraint, active=True)):
        if c.parent_block() is m and c.parent_component() is m.inlined:
            continue
        m.inlined.add((c.lower, inline(c.body), c.upper))
        c.deactivate()
    (obj,) = list(m.component_data_objects(pyo.Objective, active=True))
    m.inlined_objective = pyo.Objective(expr=inline(obj.expr), sense=obj.sense)
    obj.deactivate()
