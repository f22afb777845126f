"""``deepmad zoo``: design, verify and export every problem of one or more suites, on a Dask cluster.

For each problem a worker designs and verifies the model (:mod:`.zoo_worker`), and the client writes its
record ``<out>/<suite>/<problem>.json`` atomically (:mod:`.engine`); the registry scans ``models/`` and the
folders of ``DEEPMAD_MODELS`` for records with an ``architecture``, so every designed model is then known
to :func:`registry.create_model` as ``<suite>-<problem>``. At the end, ``<out>/README.md`` and
``<out>/zoo.{png,svg}`` (:mod:`.zoo_readme`).

A rerun skips every problem whose record is there with an architecture (or a proof of infeasibility)
for the same problem, solver and time limit; the others are designed again. A problem whose run failed
(status failed, error or unavailable: :func:`.engine.is_failure`) is designed again, its new record saying
why it failed before (``previous_failure``), unless ``keep_failed``.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Sequence

from ..errors import DesignError
from ..solve.registry import DEFAULT
from ..solve.results import Status
from .engine import (
    Payload,
    RunKind,
    check_time_limit,
    plain_problem,
    problem_hash,
    run_planned,
    selected,
)
from .paths import inside
from .suites import Suite, load_suites
from .zoo_readme import (
    CAPTION,
    references,
    resnet_architecture,
    summary_row,
    write_outputs,
)
from .zoo_worker import FORMAT, execute, failure_record, model_name

DEFAULT_TIME_LIMIT = 120.0  # a safety net: the default route (certify) stops on its work limits


def plan(suites: Sequence[Suite], solver: str, time_limit: float, gap: float = 1e-4,
         only: str | None = None, escalate: int = 1, prices: bool = False) -> list[Payload]:
    """One payload per problem; ``only``: a shell pattern on problem names."""
    from ..solve import registry as solvers

    solvers.parse(solver)
    check_time_limit(time_limit)
    return [{"key": f"{suite.name}/{prob.name}", "name": model_name(suite.name, prob.name), "suite": suite.name,
             "problem": plain_problem(prob), "problem_hash": problem_hash(prob), "solver": solver,
             "time_limit": float(time_limit), "gap": float(gap), "escalate": int(escalate), "prices": bool(prices)}
            for suite, prob in selected(suites, only)]


def record_path(out: Path, payload: Payload) -> Path:
    return inside(out, payload["suite"], f"{payload['problem']['name']}.json")


def _certificate(rec: Any) -> dict[str, Any]:
    return (rec.get("certificate") or {}) if isinstance(rec, dict) else {}


def matches(rec: Any, payload: Payload) -> bool:
    """A record of the same model, problem content, solver and time limit (with prices when they are asked for)."""
    cert = _certificate(rec)
    return (isinstance(rec, dict) and (not payload.get("prices") or "prices" in rec) and rec.get("format") == FORMAT and cert.get("requested_solver") == payload["solver"]
            and rec.get("name") == payload["name"] and rec.get("problem_hash") == payload["problem_hash"]
            and cert.get("time_limit") == payload["time_limit"])


def finished(rec: Any) -> bool:
    """A record with an architecture or a proof of infeasibility."""
    return rec.get("architecture") is not None or _certificate(rec).get("status") == Status.INFEASIBLE.value


MODELS = RunKind(name="zoo", execute=execute, record_path=record_path, matches=matches, finished=finished,
                 status=lambda r: _certificate(r).get("status"), message=lambda r: _certificate(r).get("message"),
                 failure=failure_record)


@dataclass
class ZooResult:
    """What :func:`build_zoo` did: ``failed``: records whose run failed (:func:`.engine.is_failure`);
    ``without_architecture``: records with no model (failed, infeasible or out of time)."""

    out: Path
    models: int
    reused: int
    designed: int
    failed: int
    wall_s: float
    workers: int
    files: list[str]
    records: list[dict[str, Any]]

    @property
    def without_architecture(self) -> int:
        return sum(r.get("architecture") is None for r in self.records)

    @property
    def models_per_minute(self) -> float | None:
        return 60 * self.designed / self.wall_s if self.designed and self.wall_s > 0 else None

    def to_dict(self) -> dict[str, Any]:
        return {"out": str(self.out), "models": self.models, "reused": self.reused, "designed": self.designed,
                "failed": self.failed, "without_architecture": self.without_architecture,
                "wall_s": round(self.wall_s, 2), "workers": self.workers,
                "models_per_minute": None if self.models_per_minute is None else round(self.models_per_minute, 2),
                "files": self.files,
                "records": [{k: v for k, v in summary_row(r).items() if k != "architecture"} for r in self.records]}


def build_zoo(suites: str | Sequence[str], out: str | Path = "models", solver: str = DEFAULT,
              time_limit: float = DEFAULT_TIME_LIMIT, *, workers: int | None = None, scheduler: str | None = None,
              gap: float = 1e-4, only: str | None = None, progress: bool = True, retries: int = 2,
              figure: bool = True, command: str | None = None, client: Any = None, escalate: int = 1,
              keep_failed: bool = False, prices: bool = False) -> ZooResult:
    """Design, verify and export every problem of ``suites`` under ``out`` (resuming a previous run).

    ``escalate``: a problem with no design in ``time_limit`` is tried again with twice the time, this many
    times (the certificate lists every attempt). ``keep_failed``: keep the records of failed runs instead of
    running them again. ``prices``: also price the constraints that bind each design (certified re-solves, two
    per constraint; a record without prices is then designed again)."""
    loaded = load_suites(suites)
    if escalate < 0:
        raise DesignError("escalate", f"must be >= 0, got {escalate}")
    payloads = plan(loaded, solver, time_limit, gap, only, escalate, prices)
    out = Path(out)
    outcome = run_planned(MODELS, out, payloads, workers=workers, scheduler=scheduler, retries=retries,
                          progress=progress, client=client, keep_failed=keep_failed)
    cmd = command or (f"deepmad zoo --suite {','.join(s.name for s in loaded)} --solver {solver} "
                      f"--time-limit {time_limit:g} --out {out}")
    files = write_outputs(out, outcome.records, [s.name for s in loaded], cmd, figure)
    from ..nn import models as registry

    registry.refresh()  # new records are visible to create_model in this process
    return ZooResult(out=out, models=len(payloads), reused=outcome.reused, designed=outcome.done,
                     failed=outcome.failed, wall_s=outcome.wall_s,
                     workers=outcome.workers, files=[str(f) for f in files], records=outcome.records)


__all__ = ["CAPTION", "DEFAULT_TIME_LIMIT", "FORMAT", "MODELS", "ZooResult", "build_zoo", "execute", "model_name",
           "plan", "references", "resnet_architecture"]
