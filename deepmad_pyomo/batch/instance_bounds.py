"""The best known primal value and proven dual bound of each problem of an instance library.

A problem's bounds come from a certified zoo record (``<records>/<suite>/<problem>.json``, written by
``deepmad zoo`` with the ``certify`` route) when its problem hash matches (same problem, same mode); else,
when asked, from a run of the ``certify`` route here, under a time limit (its tree is decided by work
limits; the limit only stops it, and the bound proven so far is kept). Those runs go through
:mod:`.engine` (Dask, resumable): their records are ``<out>/bounds/<suite>/<problem>.<mode>.json``.
"""
from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from ..fileio import read_json_or_none
from ..solve.registry import CERTIFY
from ..space.problem import DesignProblem
from .engine import Payload, Record, RunKind, is_failure, plain_problem, problem_hash
from .paths import inside

FORMAT = "deepmad-pyomo/instance-bound-v1"


def zoo_bound(records: Path | None, suite: str, problem: DesignProblem) -> dict[str, Any] | None:
    """The bounds of a certified zoo record of this problem (same problem hash), or ``None``."""
    if records is None:
        return None
    path = Path(records) / suite / f"{problem.name}.json"
    rec = read_json_or_none(path)
    if not isinstance(rec, dict) or rec.get("problem_hash") != problem_hash(problem):
        return None
    cert = rec.get("certificate") or {}
    if cert.get("solver") != CERTIFY or cert.get("objective") is None:
        return None
    return {"best_primal": cert["objective"], "dual_bound": cert.get("bound"), "gap": cert.get("gap"),
            "status": cert.get("status"), "route": CERTIFY, "time_limit": cert.get("time_limit"),
            "source": f"zoo record {suite}/{problem.name}.json ({rec.get('generated_by', {}).get('command', 'zoo')})",
            "solver_version": cert.get("solver_version")}


def payload(suite: str, problem: DesignProblem, time_limit: float, gap: float) -> Payload:
    return {"key": f"{suite}/{problem.name}.{problem.mode}", "suite": suite, "problem": plain_problem(problem),
            "problem_hash": problem_hash(problem), "time_limit": float(time_limit), "gap": float(gap)}


def record_path(out: Path, p: Payload) -> Path:
    return inside(out, "bounds", p["suite"], f"{p['problem']['name']}.{p['problem']['objective']['mode']}.json")


def execute(p: Payload) -> Record:
    """Certify one problem on a worker: the record of its best design and proven bound."""
    from ..solve.design import design
    from ..solve.options import SolveOptions
    from .cluster import prepare_worker
    from .environment import environment, solver_versions

    prepare_worker()
    problem = DesignProblem.from_dict(p["problem"])
    started = time.time()
    res = design(problem, CERTIFY, SolveOptions(time_limit=p["time_limit"], gap=p["gap"]))
    return {"format": FORMAT, "key": p["key"], "problem_hash": p["problem_hash"], "time_limit": p["time_limit"],
            "gap_tolerance": p["gap"], "status": res.status.value, "objective": res.objective, "bound": res.bound,
            "gap": res.gap, "time_s": round(res.time_s, 3), "started_at": round(started, 3),
            "architecture": res.architecture.to_dict() if res.architecture else None, "message": res.message,
            "solver_version": solver_versions().get(CERTIFY), "environment": environment()}


def failure(p: Payload, exc: BaseException) -> Record:
    return {"format": FORMAT, "key": p["key"], "problem_hash": p["problem_hash"], "time_limit": p["time_limit"],
            "gap_tolerance": p["gap"], "status": "failed", "objective": None, "bound": None, "gap": None,
            "message": f"task failed: {type(exc).__name__}: {exc}"}


def matches(rec: Any, p: Payload) -> bool:
    return (isinstance(rec, dict) and rec.get("format") == FORMAT
            and all(rec.get(k) == p[k] for k in ("key", "problem_hash", "time_limit"))
            and rec.get("gap_tolerance") == p["gap"])


BOUNDS = RunKind(name="certify bounds", execute=execute, record_path=record_path, matches=matches,
                 finished=lambda r: not is_failure(r.get("status")), status=lambda r: r.get("status"),
                 message=lambda r: r.get("message"), failure=failure)


def certified_bound(rec: Record | None) -> dict[str, Any] | None:
    """The bounds of a certify record made here (``None`` when it has neither a design nor a bound)."""
    if not rec or (rec.get("objective") is None and rec.get("bound") is None):
        return None
    return {"best_primal": rec["objective"], "dual_bound": rec.get("bound"), "gap": rec.get("gap"),
            "status": rec.get("status"), "route": CERTIFY, "time_limit": rec.get("time_limit"),
            "source": f"certify run, time limit {rec.get('time_limit'):g} s (bounds/{rec['key']}.json)",
            "solver_version": rec.get("solver_version")}


__all__ = ["BOUNDS", "FORMAT", "certified_bound", "execute", "payload", "record_path", "zoo_bound"]
