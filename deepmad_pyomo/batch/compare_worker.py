"""One run of ``deepmad compare`` on a worker: design, verify, measure; the row it leaves (its record).

The row holds the objective of the verified architecture (recomputed by :mod:`metrics`, MACs and params
re-counted by :func:`verify.verify`), the proven bound and gap (when the solver proves one), the status,
wall and CPU time, the peak memory of the solver process, and the size of the problem's MINLP.
"""
from __future__ import annotations

import math
from typing import Any

from ..solve.results import Status
from ..space.problem import DesignProblem
from .cluster import prepare_worker, worker_info
from .engine import (
    BatchStatus,
    MeasuredSolve,
    Payload,
    Record,
    failure_reason,
    measured_design,
)
from .suites import family

FORMAT = "deepmad-pyomo/compare-run-v1"


def problem_size(problem: DesignProblem, formulation: str = "natural") -> dict[str, Any]:
    """Size of the problem's Pyomo MINLP: variables, integer variables, constraints and log10 of the
    number of points of its integer box (the product of the integer variables' domain sizes)."""
    import pyomo.environ as pyo

    from ..mp.formulation import FormulationOptions, build_pyomo_model

    m = build_pyomo_model(problem, FormulationOptions(formulation=formulation))
    n_vars = n_int = 0
    log_points = 0.0
    for v in m.component_data_objects(pyo.Var, descend_into=True):
        if v.fixed:
            continue
        n_vars += 1
        if v.is_integer() or v.is_binary():
            n_int += 1
            lb, ub = v.bounds
            if lb is not None and ub is not None and ub >= lb:
                log_points += math.log10(ub - lb + 1)
    n_cons = sum(1 for _ in m.component_data_objects(pyo.Constraint, active=True, descend_into=True))
    return {"n_vars": n_vars, "n_int_vars": n_int, "n_constraints": n_cons, "log10_points": round(log_points, 3)}


def _head(payload: Payload, problem: DesignProblem, switched: bool) -> Record:
    """The row's first fields: the run, the problem, where it ran; no answer yet."""
    worker = worker_info()
    if switched:
        worker["note"] = "daemonic Dask worker switched to non-daemonic to run the solver child"
    return {"format": FORMAT, "key": payload["key"], "suite": payload["suite"], "problem": problem.name,
            "family": family(problem), "resolution": problem.resolution, "flops_budget": problem.budgets.flops,
            "params_budget": problem.budgets.params, "solver": payload["solver"],
            "formulation": payload["formulation"], "time_limit": payload["time_limit"],
            "gap_tolerance": payload["gap"], "problem_hash": payload["problem_hash"], "worker": worker,
            "objective": None, "bound": None, "gap": None, "verified": None}


def _size(problem: DesignProblem, formulation: str) -> dict[str, Any]:
    try:
        return problem_size(problem, formulation)
    except Exception as e:  # noqa: BLE001 - a size is a nicety, never a reason to lose the run
        return {"size_error": f"{type(e).__name__}: {e}"}


def _solved(solve: MeasuredSolve) -> dict[str, Any]:
    """The fields of a finished solve: status, objective, bound, times; the verified architecture's counts."""
    res = solve.result
    out: dict[str, Any] = {"status": res.status.value, "objective": res.objective, "bound": res.bound,
                           "gap": res.gap, "time_s": round(res.time_s, 3), "cpu_s": round(res.cpu_s, 3),
                           "message": failure_reason(res.message, res.status.value, res.solver),
                           "solver_label": res.solver}
    if res.architecture is not None:
        from ..nn.verify import verify

        arch = res.architecture
        v = verify(arch)
        out.update(verified=v.match, macs=v.macs_counted, params=v.params_counted,
                   macs_analytic=v.macs_analytic, params_analytic=v.params_analytic,
                   architecture=arch.to_dict(), rho=res.metrics.get("rho"), layers=res.metrics.get("layers"))
    return out


def execute(payload: Payload) -> Record:
    """One run, on a worker: design, verify, measure. Returns its row (plain data)."""
    from ..solve import registry as solvers
    from ..solve.options import SolveOptions

    switched = prepare_worker()
    problem = DesignProblem.from_dict(payload["problem"])
    row = _head(payload, problem, switched)
    row.update(_size(problem, payload["formulation"]))
    info, variant = solvers.parse(payload["solver"])
    if not info.available():
        row.update(status=BatchStatus.UNAVAILABLE.value,
                   message=f"{info.name} is not available on this worker: {info.install}", time_s=0.0, cpu_s=0.0)
        return row
    opts = SolveOptions(time_limit=payload["time_limit"], gap=payload["gap"], formulation=payload["formulation"],
                        variant=variant)
    solve = measured_design(problem, payload["solver"], opts)
    if solve.error is not None:
        row.update(status=Status.ERROR.value, message=solve.error)
    row.update(peak_rss_mb=round(solve.memory.children_peak_mb, 1),
               peak_private_mb=round(solve.memory.children_private_mb, 1),
               worker_rss_mb=round(solve.memory.self_rss_mb, 1), wall_s=round(solve.wall_s, 3))
    if solve.result is None:
        row.update(time_s=round(solve.wall_s, 3), cpu_s=0.0)
    else:
        row.update(_solved(solve))
    return row


def failure_row(payload: Payload, exc: BaseException) -> Record:
    """The row of a run whose task failed for good (run again on resume unless failures are kept)."""
    return {"format": FORMAT, "key": payload["key"], "suite": payload["suite"], "problem": payload["problem"]["name"],
            "solver": payload["solver"], "formulation": payload["formulation"], "time_limit": payload["time_limit"],
            "gap_tolerance": payload["gap"], "problem_hash": payload["problem_hash"],
            "status": BatchStatus.FAILED.value, "message": f"task failed: {type(exc).__name__}: {exc}",
            "objective": None, "bound": None, "gap": None, "verified": None, "time_s": 0.0, "cpu_s": 0.0}


__all__ = ["FORMAT", "execute", "failure_row", "problem_size"]
