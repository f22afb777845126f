"""One run of ``deepmad compare`` on a worker: design, verify, measure; the row it leaves (its record).

The row holds the objective of the verified architecture (recomputed by :mod:`metrics`, MACs and params
re-counted by :func:`verify.verify`), the proven bound and gap (when the solver proves one), the status,
wall and CPU time, the trace of improving verified incumbents (``incumbents``: seconds since the start,
objective, source, the bound proven then), the branch-and-bound nodes (certify's tree, SCIP's), when it
started (``started_at``, Unix seconds), the peak memory of the solver process, the size of the problem's
MINLP (:mod:`~deepmad_pyomo.mp.statistics`), the solver's version and the worker's environment
(:mod:`.environment`: CPU, cores, package versions).
"""
from __future__ import annotations

import time
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
    """Size of the problem's Pyomo MINLP (:func:`~deepmad_pyomo.mp.statistics.statistics`): variables
    (``n_int_vars``: integer and binary ones), constraints, nonzeros and log10 of the number of points of
    its integer box."""
    from ..mp.formulation import FormulationOptions, build_pyomo_model
    from ..mp.statistics import statistics

    s = statistics(build_pyomo_model(problem, FormulationOptions(formulation=formulation)))
    return {"n_vars": s.variables, "n_int_vars": s.discrete, "n_constraints": s.constraints,
            "log10_points": s.log10_points, "n_binary": s.binary, "n_integer": s.integer, "n_continuous": s.continuous,
            "n_nonlinear_constraints": s.nonlinear_constraints, "n_nonzeros": s.nonzeros,
            "n_nonlinear_nonzeros": s.nonlinear_nonzeros, "n_objective_nonzeros": s.objective_nonzeros,
            "n_objective_nonlinear_nonzeros": s.objective_nonlinear_nonzeros}


def _head(payload: Payload, problem: DesignProblem, switched: bool) -> Record:
    """The row's first fields: the run, the problem, where it ran; no answer yet."""
    from .environment import environment

    worker = worker_info()
    if switched:
        worker["note"] = "daemonic Dask worker switched to non-daemonic to run the solver child"
    return {"format": FORMAT, "key": payload["key"], "suite": payload["suite"], "problem": problem.name,
            "mode": str(problem.mode), "started_at": round(time.time(), 3), "environment": environment(),
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
                           "solver_label": res.solver, "incumbents": [p.to_dict() for p in res.incumbents],
                           "nodes": res.certificate.boxes if res.certificate is not None else res.diagnostics.get("nodes")}
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
    row["solver_version"] = info.version()
    if row["solver_version"] is None:
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
            "mode": (payload["problem"].get("objective") or {}).get("mode"), "solver": payload["solver"],
            "formulation": payload["formulation"], "time_limit": payload["time_limit"],
            "gap_tolerance": payload["gap"], "problem_hash": payload["problem_hash"],
            "status": BatchStatus.FAILED.value, "message": f"task failed: {type(exc).__name__}: {exc}",
            "objective": None, "bound": None, "gap": None, "verified": None, "time_s": 0.0, "cpu_s": 0.0}


__all__ = ["FORMAT", "execute", "failure_row", "problem_size"]
