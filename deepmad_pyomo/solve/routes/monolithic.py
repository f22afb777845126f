"""Global solvers on the monolithic MINLP: SCIP (``scip_direct``) and MAiNGO (``appsi_maingo``).

Both return a valid dual bound for the model they solve. On the paper's presets the monolithic model
is hard (the root bound is about twice the optimum); ``deepmad design --certify`` decomposes instead.
"""
from __future__ import annotations

from typing import Any

from ...mp.formulation import (
    FormulationOptions,
    build_pyomo_model,
    decode,
    load_architecture,
)
from ...space.metrics import evaluate
from ...space.problem import DesignProblem
from ..backends import scip
from ..backends.answer import Termination
from ..options import SolveOptions
from ..results import Status
from ..route import Outcome, Reporter, RouteKind, register

_SCIP_STATUS = {Termination.OPTIMAL: Status.FEASIBLE, Termination.TIME_LIMIT: Status.TIME_LIMIT,
                Termination.ITERATION_LIMIT: Status.TIME_LIMIT}  # design() upgrades FEASIBLE within the gap


@register("scip", RouteKind.GLOBAL, "SCIP on the monolithic MINLP (spatial branch and bound; proves a gap)",
          install="pip install pyscipopt", probe=scip.version)
def run_scip(problem: DesignProblem, opts: SolveOptions, rep: Reporter) -> Outcome:
    m = build_pyomo_model(problem, FormulationOptions(formulation=opts.formulation))
    rep.progress(f"SCIP on the monolithic MINLP ({m.nvariables()} variables, {m.nconstraints()} constraints)"
                 + (", warm-started" if opts.warm_start is not None else ""))
    if opts.warm_start is not None:
        load_architecture(m, opts.warm_start)
    ans = scip.solve_model(m, opts.time_limit, opts.gap, warm_start=opts.warm_start is not None)
    diagnostics = {"termination": ans.describe(), "wall_s": round(ans.wall_s, 2)}
    if ans.termination == Termination.INFEASIBLE:
        return Outcome(Status.INFEASIBLE, bound=None, message="SCIP proved the problem infeasible",
                       diagnostics=diagnostics)
    archs = []
    if ans.has_solution:
        arch = decode(m)
        archs.append(arch)
        rep.incumbent(arch, evaluate(arch, problem.objective).objective, "SCIP")
    status = _SCIP_STATUS.get(ans.termination, Status.ERROR)
    return Outcome(status, archs, bound=ans.bound, message="" if archs else f"SCIP: {ans.describe()}",
                   diagnostics=diagnostics)


def maingo_version() -> str | None:
    from pyomo.contrib.appsi.solvers import MAiNGO

    solver = MAiNGO()
    return f"MAiNGO {'.'.join(map(str, solver.version()))}" if solver.available() else None


@register("maingo", RouteKind.GLOBAL, "MAiNGO (appsi_maingo) on the monolithic MINLP", install="pip install maingopy",
          probe=maingo_version)
def run_maingo(problem: DesignProblem, opts: SolveOptions, rep: Reporter) -> Outcome:
    from pyomo.contrib.appsi.solvers import MAiNGO

    m = build_pyomo_model(problem, FormulationOptions(formulation=opts.formulation))
    _inline_named_expressions(m)  # appsi_maingo does not know named Expression components
    rep.progress(f"MAiNGO on the monolithic MINLP ({m.nvariables()} variables)")
    solver = MAiNGO()
    solver.config.time_limit = opts.time_limit  # MAiNGO counts CPU time; design() enforces wall time
    solver.config.mip_gap = opts.gap
    solver.config.load_solution = False
    solver.maingo_options = {"writeResultFile": False, "loggingDestination": 0}  # no files in the cwd
    res = solver.solve(m)
    tc = str(res.termination_condition).split(".")[-1]
    bound = res.best_objective_bound if res.best_objective_bound not in (None, float("inf")) else None
    diagnostics = {"termination": tc}
    if "infeasible" in tc.lower():
        return Outcome(Status.INFEASIBLE, message="MAiNGO proved the problem infeasible", diagnostics=diagnostics)
    archs = []
    if res.best_feasible_objective is not None:
        res.solution_loader.load_vars()
        arch = decode(m)
        archs.append(arch)
        rep.incumbent(arch, evaluate(arch, problem.objective).objective, "MAiNGO")
    status = Status.FEASIBLE if "optimal" in tc.lower() else Status.TIME_LIMIT if archs else Status.ERROR
    return Outcome(status, archs, bound=bound, diagnostics=diagnostics)


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
