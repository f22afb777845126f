"""Bonmin (COIN-OR, bundled in the casadi wheel) on the whole MINLP.

On this nonconvex problem Bonmin is a heuristic: its "best possible" values are not bounds, so none
is reported. CasADi's Bonmin stopped by its time limit discards its incumbent (x = 0, f = -1e53).
"""
from __future__ import annotations

from ..formulation import FormulationOptions, build_pyomo_model, decode, load_architecture
from ..metrics import evaluate
from ..problem import DesignProblem
from ..result import Status
from .base import Outcome, Reporter, SolveOptions
from .casadi_nlp import CasadiSolver


def run(problem: DesignProblem, opts: SolveOptions, rep: Reporter) -> Outcome:
    algorithm = opts.variant or "B-OA"
    m = build_pyomo_model(problem, FormulationOptions(formulation=opts.formulation))
    if opts.warm_start is not None:
        load_architecture(m, opts.warm_start)
    rep.progress(f"Bonmin {algorithm} on the MINLP ({m.nvariables()} variables, {m.nconstraints()} constraints)")
    solver = CasadiSolver(m, "bonmin", time_limit=opts.time_limit, options={"algorithm": algorithm})
    res, xs = solver.solve()
    details = {"return_status": res.status, "algorithm": algorithm, "wall_s": round(res.wall_s, 2)}
    if xs is None:
        status = Status.TIME_LIMIT if "LIMIT" in res.status.upper() else Status.ERROR
        return Outcome(status, message=f"Bonmin returned no solution ({res.status})", details=details)
    solver.nlp.store(xs)
    arch = decode(m)
    rep.incumbent(arch, evaluate(arch, problem.objective).objective, f"Bonmin {algorithm}")
    return Outcome(Status.FEASIBLE, [arch], details=details)
