"""Planned, resumable batches of runs on Dask: the engine under ``deepmad compare``, ``zoo`` and ``pareto``.

A run kind (:class:`RunKind`) says what one run is: the function a worker runs on its payload, where the
run's record lives under the output folder, which records belong to the run and which of them finish it,
and the record of a run whose task failed. :func:`run_planned` does the rest: it reads the records already
there, keeps the finished ones, sends the other runs to the cluster (:func:`~.cluster.run_jobs`: an
embedded ``LocalCluster`` or an existing scheduler) and writes each record atomically as soon as it
arrives, so a reader never sees a partial record and an interrupted batch resumes where it stopped.

A run *failed* when its record's status is one of :data:`FAILURES` (:func:`is_failure`, the one rule every
count and summary uses): its task raised, the solver is missing on the worker, or the solve ended in an
error. A failed run is run again on resume (its new record says why the last attempt failed), unless
``keep_failed``.

Records are written only under the output folder (:mod:`.paths`): the suite and problem names, which
become file names, are checked to be plain names at plan time (:func:`selected`), and the kinds' record
paths resolve inside the output folder.

The helpers below it are shared by the kinds' plans (which problems, hashed how) and workers (a solve
measured in time and memory).
"""
from __future__ import annotations

import fnmatch
import hashlib
import json
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Sequence

from ..enums import StrEnum
from ..errors import DesignError
from ..fileio import atomic_write_json, read_json_or_none
from ..solve.results import Status
from ..space.problem import DesignProblem
from .cluster import DEFAULT_RETRIES, Job, PeakMemory, run_jobs
from .paths import check_plain_name
from .suites import Suite

Payload = dict[str, Any]  # what a worker gets for one run: plain data, with a unique "key"
Record = dict[str, Any]  # what a run leaves: plain data, written as JSON


class BatchStatus(StrEnum):
    """Statuses a batch gives a run besides the solver's own (:class:`~deepmad_pyomo.solve.results.Status`)."""

    UNAVAILABLE = "unavailable"  # the solver is not installed on the worker
    FAILED = "failed"  # the task raised after its retries, or its worker kept dying


FAILURES = frozenset({BatchStatus.FAILED.value, BatchStatus.UNAVAILABLE.value, Status.ERROR.value})


def is_failure(status: str | None) -> bool:
    """Whether a run with this status failed (produced no result): failed, unavailable or error."""
    return status in FAILURES


def failure_reason(message: str | None, status: str, solver: str) -> str:
    """A run's message, never empty when it failed."""
    return message or (f"{solver} ended with status {status} and gave no message" if is_failure(status) else "")


@dataclass(frozen=True)
class RunKind:
    """What one run of a batch is.

    ``execute(payload) -> record`` runs on a worker: a module-level function (workers import it by
    reference). ``record_path(out, payload)``: where its record lives under the output folder.
    ``matches(record, payload)``: whether a record found there (``None`` when missing or unreadable) is one
    of this run (same problem, solver, settings). ``finished(record)``: whether it ends the run (a result).
    ``status(record)``, ``message(record)``: the record's status and message. ``failure(payload, exc)``:
    the record of a run whose task failed for good."""

    name: str
    execute: Callable[[Payload], Record]
    record_path: Callable[[Path, Payload], Path]
    matches: Callable[[Any, Payload], bool]
    finished: Callable[[Record], bool]
    status: Callable[[Record], str | None]
    message: Callable[[Record], str | None]
    failure: Callable[[Payload, BaseException], Record]

    def failed(self, record: Record) -> bool:
        return is_failure(self.status(record))

    def reusable(self, record: Any, payload: Payload, keep_failed: bool = False) -> bool:
        """A record of this run that finishes it, or (``keep_failed``) that says it failed."""
        return self.matches(record, payload) and (self.finished(record) or (keep_failed and self.failed(record)))


@dataclass
class Outcome:
    """What :func:`run_planned` did: every run's record in plan order (a run interrupted before its record
    was written has none), how many were reused, how many finished now with a result, how many records
    say their run failed (reused ones included), on how many workers, in how many wall seconds of running."""

    records: list[Record]
    reused: int
    done: int
    failed: int
    workers: int
    wall_s: float


def run_planned(kind: RunKind, out: Path, payloads: Sequence[Payload], *, workers: int | None = None,
                scheduler: str | None = None, retries: int = DEFAULT_RETRIES, progress: bool = True,
                client: Any = None, keep_failed: bool = False,
                on_change: Callable[[list[Record]], None] | None = None) -> Outcome:
    """Run every payload of a plan that has no reusable record under ``out``, writing each record as it
    arrives; a failed run is run again unless ``keep_failed``. ``on_change(records)`` is called with the
    records so far after the reused ones are read (when there are any) and after every new record. Cluster
    arguments as :func:`~.cluster.run_jobs`."""
    records: dict[str, Record] = {}
    previous: dict[str, Record] = {}  # the failed records of the runs run again
    todo: list[Job] = []
    for payload in payloads:
        found = read_json_or_none(kind.record_path(out, payload))
        if kind.reusable(found, payload, keep_failed):
            records[payload["key"]] = found
            continue
        if kind.matches(found, payload) and kind.failed(found):
            previous[payload["key"]] = found
        todo.append(Job(payload["key"], payload))
    reused = len(records)
    if records and on_change is not None:
        on_change(list(records.values()))

    def finish(job: Job, record: Record) -> None:
        if job.key in previous:
            old = previous[job.key]
            record["previous_failure"] = {"status": kind.status(old), "message": kind.message(old)}
        atomic_write_json(kind.record_path(out, job.payload), record)
        records[job.key] = record
        if on_change is not None:
            on_change(list(records.values()))

    def fail(job: Job, exc: BaseException) -> None:
        finish(job, kind.failure(job.payload, exc))

    t0 = time.perf_counter()
    report = run_jobs(kind.execute, todo, finish, fail, workers=workers, scheduler=scheduler, retries=retries,
                      progress=progress, desc=kind.name, client=client)
    ordered = [records[p["key"]] for p in payloads if p["key"] in records]
    new = [records[k] for k in report.finished if k in records]
    return Outcome(records=ordered, reused=reused, done=sum(not kind.failed(r) for r in new),
                   failed=sum(kind.failed(r) for r in ordered), workers=report.workers,
                   wall_s=time.perf_counter() - t0)


# ------------------------------------------------------------------------------------------ plans
def problem_hash(problem: DesignProblem) -> str:
    """A short digest of a problem's content (a changed problem is solved again on resume)."""
    text = json.dumps(problem.to_dict(), sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def plain_problem(problem: DesignProblem) -> dict[str, Any]:
    """``problem.to_dict()`` as JSON data (lists, not tuples): what payloads and records hold."""
    return json.loads(json.dumps(problem.to_dict()))


def check_time_limit(time_limit: float) -> None:
    if not time_limit > 0:
        raise DesignError("time_limit", f"must be positive, got {time_limit}")


def selected(suites: Sequence[Suite], only: str | None) -> list[tuple[Suite, DesignProblem]]:
    """Every (suite, problem) whose problem name matches the shell pattern ``only`` (all without one).
    Suite and problem names become file names: each must be a plain name (:func:`check_plain_name`)."""
    for suite in suites:
        check_plain_name(suite.name, "suite name")
        for prob in suite:
            check_plain_name(prob.name, f"suite {suite.name}: problem name")
    chosen = [(suite, prob) for suite in suites for prob in suite if not only or fnmatch.fnmatch(prob.name, only)]
    if not chosen:
        raise DesignError("problems", f"no problem of the suite matches {only!r}")
    return chosen


# ----------------------------------------------------------------------------------------- workers
@dataclass
class MeasuredSolve:
    """A :func:`~deepmad_pyomo.solve.design.design` call on a worker: its result (``None`` when it raised
    a :class:`DesignError`, whose message is ``error``), the solver children's peak memory, wall seconds."""

    result: Any
    error: str | None
    memory: PeakMemory
    wall_s: float


def measured_design(problem: DesignProblem, solver: str, options: Any) -> MeasuredSolve:
    """``design(problem, solver, options)`` with the peak memory of the solver process it forks."""
    from ..solve.design import design

    t0 = time.perf_counter()
    result, error = None, None
    with PeakMemory() as memory:
        try:
            result = design(problem, solver, options)
        except DesignError as e:
            error = str(e)
    return MeasuredSolve(result, error, memory, time.perf_counter() - t0)


__all__ = ["FAILURES", "BatchStatus", "MeasuredSolve", "Outcome", "Payload", "Record", "RunKind", "check_time_limit",
           "failure_reason", "is_failure", "measured_design", "plain_problem", "problem_hash", "run_planned",
           "selected"]
