"""One point of ``deepmad pareto`` on a worker: certify the problem at one value of the swept budget,
starting from the better of certify's own quick designs and the design of a smaller budget when one is known
(it meets the larger budget).

The record it leaves, ``<out>/points/<key>.json``: the budget and its value (a grid's point: ``values``,
each budget swept and its value), the problem's digest, the certified answer (status, objective, proven bound, gap), the architecture and its metrics,
which constraints bind it (:func:`~deepmad_pyomo.solve.prices.bindings`), the warm start's budget, time.
"""
from __future__ import annotations

from typing import Any

from ..solve.results import Status
from ..space.arch import Architecture
from ..space.problem import DesignProblem
from .cluster import prepare_worker, worker_info
from .engine import BatchStatus, Payload, Record, failure_reason, measured_design

FORMAT = "deepmad-pyomo/pareto-point-v1"


def _record(payload: Payload) -> Record:
    """A point's record with no answer yet."""
    where = {k: payload[k] for k in ("budget", "value", "values") if k in payload}
    return {"format": FORMAT, "key": payload["key"], **where,
            "problem_name": payload["problem"]["name"], "problem_hash": payload["problem_hash"],
            "solver": payload["solver"], "time_limit": payload["time_limit"], "gap_tolerance": payload["gap"],
            "warm_from": payload.get("warm_from"), "status": None, "objective": None, "bound": None, "gap": None,
            "architecture": None, "metrics": None, "bindings": None, "message": ""}


def execute(payload: Payload) -> Record:
    """Certify one point (on a worker); returns its record (plain data)."""
    from ..solve.options import QUICK_DESIGN, SolveOptions
    from ..solve.prices import bindings

    prepare_worker()
    problem = DesignProblem.from_dict(payload["problem"])
    warm = Architecture.from_dict(payload["warm_start"]) if payload.get("warm_start") else None
    rec = _record(payload)
    if warm is not None and problem.check(warm):  # cannot happen for a smaller budget's design; never trusted
        warm, rec["warm_from"] = None, None
    opts = SolveOptions(time_limit=payload["time_limit"], gap=payload["gap"], warm_start=warm,
                        extra={QUICK_DESIGN: True})  # the better of the neighbour's design and certify's own
    solve = measured_design(problem, payload["solver"], opts)
    rec["worker"] = worker_info()
    if solve.error is not None:
        rec.update(status=Status.ERROR.value, message=solve.error, time_s=round(solve.wall_s, 3))
        return rec
    res = solve.result
    rec.update(status=res.status.value, objective=res.objective, bound=res.bound, gap=res.gap,
               time_s=round(res.time_s, 3), cpu_s=round(res.cpu_s, 3),
               message=failure_reason(res.message, res.status.value, res.solver))
    if res.architecture is not None:
        rec.update(architecture=res.architecture.to_dict(), metrics=res.metrics,
                   bindings=[b.to_dict() for b in bindings(problem, res.architecture)])
    return rec


def failure_record(payload: Payload, exc: BaseException) -> Record:
    """The record of a point whose task failed for good (run again on resume)."""
    return _record(payload) | {"status": BatchStatus.FAILED.value,
                               "message": f"task failed: {type(exc).__name__}: {exc}"}


def finished(rec: Any) -> bool:
    """A point with a design or a proof that none exists."""
    return rec.get("architecture") is not None or rec.get("status") == Status.INFEASIBLE.value


__all__ = ["FORMAT", "execute", "failure_record", "finished"]
