"""One model of ``deepmad zoo`` on a worker: design it (with more time when the first time limit gives no
design), verify it; the record it leaves, ``<out>/<suite>/<problem>.json``:

- ``name``: ``<suite>-<problem>``, the name :func:`registry.create_model` knows the model by;
- ``problem`` (the whole design problem) and ``budgets`` (with what each is measured in);
- ``architecture``, ``metrics`` (:func:`metrics.evaluate` of it);
- ``certificate``: solver, status, objective, proven bound and gap (``null``: no proof), every attempt, time;
- ``verification``: MACs and params counted on the built torch module against the analytic ones;
- ``prices`` (``deepmad zoo --prices``): which constraints bind the design and what relaxing each that binds
  by 1% and 10% buys, proven by certified re-solves (:mod:`deepmad_pyomo.solve.prices`).
"""
from __future__ import annotations

from dataclasses import dataclass, field
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

FORMAT = "deepmad-pyomo/zoo-record-v1"
BOUND_NOTE = "bound: a proven upper bound on the objective; null: no optimality proof"
COUNTER = "torch.utils.flop_counter.FlopCounterMode on the meta device"


def model_name(suite: str, problem: str) -> str:
    return f"{suite}-{problem}"


def budgets(problem: DesignProblem) -> dict[str, Any]:
    """The problem's budgets, and what its FLOPs and params budgets are measured as."""
    b = problem.budgets
    out: dict[str, Any] = {k: getattr(b, k) for k in ("flops", "params", "layers", "latency_ms")
                           if getattr(b, k) is not None}
    if b.latency_ms is not None and b.latency_margin:
        out["latency_margin"] = b.latency_margin
    out["flops_measured_as"] = problem.budget_metric("flops")
    out["params_measured_as"] = problem.budget_metric("params")
    return out


def _record(payload: Payload, problem: DesignProblem) -> Record:
    """A record with the problem and no answer yet."""
    return {"format": FORMAT, "name": payload["name"], "suite": payload["suite"], "problem_name": problem.name,
            "family": family(problem), "resolution": problem.resolution, "num_classes": problem.num_classes,
            "description": problem.description, "budgets": budgets(problem), "problem": payload["problem"],
            "problem_hash": payload["problem_hash"], "architecture": None, "metrics": None, "verification": None}


@dataclass
class Attempts:
    """The solves of one model: the last one, a summary of each, and ``time_limit``: the last one's limit
    when it designed the model (or proved it infeasible), else twice that (the certificate's
    ``time_limit_used``); ``error``: the message of a solve that raised a :class:`DesignError` (no more tries)."""

    last: MeasuredSolve | None = None
    time_limit: float = 0.0
    log: list[dict[str, Any]] = field(default_factory=list)
    error: str | None = None


def _solve_escalating(problem: DesignProblem, payload: Payload, variant: str | None) -> Attempts:
    """Solve with the time limit, then, while there is no design, with twice the time, ``escalate`` times."""
    from ..solve.options import SolveOptions

    done = Attempts(time_limit=payload["time_limit"])
    for _ in range(1 + payload.get("escalate", 0)):
        solve = measured_design(problem, payload["solver"],
                                SolveOptions(time_limit=done.time_limit, gap=payload["gap"], variant=variant))
        if solve.error is not None:
            done.error, done.last = solve.error, solve
            return done
        res = solve.result
        done.last = solve
        done.log.append({"time_limit": done.time_limit, "status": res.status.value, "time_s": round(res.time_s, 3),
                         "wall_s": round(solve.wall_s, 3), "designed": res.architecture is not None})
        if res.architecture is not None or res.status == Status.INFEASIBLE:
            break
        done.time_limit *= 2
    return done


def _finish(rec: Record, cert: dict[str, Any], done: Attempts, name: str) -> None:
    """Fill the certificate from the attempts, and the record from the last design (verified)."""
    res, mem = done.last.result, done.last.memory
    cert.update(solver=res.solver, status=res.status.value, objective=res.objective, bound=res.bound, gap=res.gap,
                time_limit_used=done.time_limit, attempts=done.log,
                time_s=round(sum(a["time_s"] for a in done.log), 3), cpu_s=round(res.cpu_s, 3),
                peak_rss_mb=round(mem.children_peak_mb, 1), peak_private_mb=round(mem.children_private_mb, 1),
                message=failure_reason(res.message, res.status.value, res.solver))
    if res.architecture is not None:
        from ..nn.verify import verify

        arch = res.architecture.with_(name=name)
        v = verify(arch)
        rec.update(architecture=arch.to_dict(), metrics=res.metrics,
                   verification=v.to_dict() | {"counter": COUNTER})


def execute(payload: Payload) -> Record:
    """One model, on a worker: design it, verify it; returns its record (plain data)."""
    from ..solve import registry as solvers
    from ..version import __version__

    switched = prepare_worker()
    problem = DesignProblem.from_dict(payload["problem"])
    info, variant = solvers.parse(payload["solver"])
    rec = _record(payload, problem)
    cert: dict[str, Any] = {"solver": payload["solver"], "requested_solver": payload["solver"],
                            "solver_version": info.version(), "time_limit": payload["time_limit"],
                            "gap_tolerance": payload["gap"], "status": None, "objective": None, "bound": None,
                            "gap": None, "bound_note": BOUND_NOTE}
    rec["certificate"] = cert
    rec["generated_by"] = {"command": "deepmad zoo", "package": f"deepmad-pyomo {__version__}",
                           "worker": worker_info() | ({"note": "daemonic worker switched"} if switched else {})}
    if cert["solver_version"] is None:
        cert.update(status=BatchStatus.UNAVAILABLE.value,
                    message=f"{info.name} is not available on the worker: {info.install}")
        return rec
    done = _solve_escalating(problem, payload, variant)
    if done.error is not None:
        cert.update(status=Status.ERROR.value, message=done.error, time_s=round(done.last.wall_s, 3))
    else:
        _finish(rec, cert, done, payload["name"])
        if payload.get("prices") and done.last.result.architecture is not None:
            rec["prices"] = _prices(problem, done.last.result, payload)
    return rec


def _prices(problem: DesignProblem, result: Any, payload: Payload) -> dict[str, Any]:
    """The bindings of the design and the proven prices of those that bind (certified re-solves), timed."""
    import time

    from ..solve.prices import certified_solve, prices, prices_report

    t0 = time.perf_counter()
    found = prices(problem, result.architecture, solve=certified_solve(payload["time_limit"], payload["gap"]))
    return prices_report(problem, result, found) | {"time_s": round(time.perf_counter() - t0, 3)}


def failure_record(payload: Payload, exc: BaseException) -> Record:
    """The record of a model whose task failed for good (run again on resume unless failures are kept)."""
    rec = _record(payload, DesignProblem.from_dict(payload["problem"]))
    rec["certificate"] = {"solver": payload["solver"], "requested_solver": payload["solver"],
                          "time_limit": payload["time_limit"], "gap_tolerance": payload["gap"],
                          "status": BatchStatus.FAILED.value, "message": f"task failed: {type(exc).__name__}: {exc}"}
    return rec


__all__ = ["FORMAT", "budgets", "execute", "failure_record", "model_name"]
