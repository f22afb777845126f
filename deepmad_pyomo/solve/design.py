"""``design(problem, solver)``: run a solver route under a hard time limit, verify what it returns.

The route runs in a child process that streams progress and incumbents back; past the time limit
(plus a short grace) it is killed and the best verified incumbent is returned with status
``time_limit``. Every architecture is re-checked by :mod:`metrics` and :meth:`DesignProblem.check`
before it is reported: no design that breaks a budget or bound is ever returned.
"""
from __future__ import annotations

import multiprocessing as mp
import os
import queue
import resource
import time
import traceback
from dataclasses import replace
from typing import Any, Callable

from ..errors import DesignError
from ..space.arch import Architecture
from ..space.metrics import evaluate
from ..space.problem import DesignProblem
from . import registry as solvers
from .base import Outcome, Reporter, SolveOptions
from .results import DesignResult, Status

GRACE_S = 5.0


def _die_with_parent() -> None:
    """Linux: the solver process is killed when its parent dies (e.g. a Dask worker killed mid-run)."""
    try:
        import ctypes
        import signal

        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass


def _child(name: str, problem: DesignProblem, opts: SolveOptions, q: Any) -> None:
    _die_with_parent()
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 1)  # solver libraries print banners and logs at the C level: keep stdout clean
    try:
        rep = Reporter(lambda kind, payload: q.put((kind, payload)))
        outcome = solvers.get(name).run(problem, opts, rep)
        kids = resource.getrusage(resource.RUSAGE_CHILDREN)  # solvers that fork count too
        q.put(("done", (outcome, time.process_time() + kids.ru_utime + kids.ru_stime)))
    except DesignError as e:
        q.put(("design_error", e))
    except BaseException:  # noqa: BLE001 - report any crash as a status, never a hang
        q.put(("crash", traceback.format_exc(limit=8)))


def run_route(name: str, problem: DesignProblem, opts: SolveOptions,
              progress: Callable[[str], None] | None = None) -> tuple[Outcome, list[tuple[dict, float, str]], float]:
    """Run route ``name`` in a child process; returns its outcome, the incumbents it streamed and
    its CPU seconds."""
    ctx = mp.get_context("fork")
    q = ctx.Queue()
    usage0 = resource.getrusage(resource.RUSAGE_CHILDREN)
    proc = ctx.Process(target=_child, args=(name, problem, opts, q), daemon=True)
    proc.start()
    deadline = time.perf_counter() + opts.time_limit + GRACE_S
    incumbents: list[tuple[dict, float, str]] = []
    outcome: Outcome | None = None
    cpu = None
    while outcome is None:
        try:
            kind, payload = q.get(timeout=max(0.05, min(0.5, deadline - time.perf_counter())))
        except queue.Empty:
            if time.perf_counter() >= deadline:
                proc.kill()
                outcome = Outcome(Status.TIME_LIMIT, message=f"stopped after {opts.time_limit:g} s "
                                  f"(+{GRACE_S:g} s grace): the solver did not respect its time limit")
            elif not proc.is_alive() and q.empty():
                outcome = Outcome(Status.ERROR, message=f"the solver process died (exit code {proc.exitcode})")
            continue
        if kind == "progress" and progress:
            progress(payload)
        elif kind == "incumbent":
            incumbents.append(payload)
        elif kind == "done":
            outcome, cpu = payload
        elif kind == "design_error":
            proc.join(1)
            raise payload
        elif kind == "crash":
            outcome = Outcome(Status.ERROR, message="solver crashed: " + payload.strip().splitlines()[-1],
                              details={"traceback": payload})
    proc.join(2)
    if proc.is_alive():
        proc.kill()
        proc.join()
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    if cpu is None:
        cpu = (usage.ru_utime - usage0.ru_utime) + (usage.ru_stime - usage0.ru_stime)
    return outcome, incumbents, cpu


def design(problem: DesignProblem, solver: str = "auto", options: SolveOptions | None = None,
           progress: Callable[[str], None] | None = None) -> DesignResult:
    """Design a backbone for ``problem`` with ``solver`` (see ``deepmad solvers``)."""
    opts = options or SolveOptions()
    info, variant = solvers.parse(solver)
    if variant:
        opts = replace(opts, variant=variant)
    if not info.available():
        raise DesignError("solver", f"{info.name} is not available here: {info.install}",
                          ", ".join(solvers.available_names()))
    t = time.perf_counter()
    outcome, streamed, cpu = run_route(info.name, problem, opts, progress)
    wall = time.perf_counter() - t
    candidates = [Architecture.from_dict(a) for a, _, _ in streamed] + list(outcome.architectures)
    best, best_metrics, rejected = None, None, []
    for arch in candidates:
        m = evaluate(arch, problem.objective, problem.resolution)
        broken = problem.check(arch, m)
        if broken:
            rejected.append({"architecture": arch.describe(), "violations": broken})
        elif best_metrics is None or m.objective > best_metrics.objective:
            best, best_metrics = arch, m
    status = outcome.status
    if best is None and status in (Status.OPTIMAL, Status.FEASIBLE):
        status = Status.ERROR
        outcome.message = (outcome.message + "; " if outcome.message else "") + \
            "every architecture the solver returned broke a budget or bound"
    details = dict(outcome.details)
    if rejected:
        details["rejected"] = rejected
    result = DesignResult(problem=problem.name, mode=problem.mode, solver=info.label(opts), status=status,
                          architecture=best.with_(name=problem.name) if best else None,
                          objective=best_metrics.objective if best_metrics else None,
                          bound=outcome.bound, time_s=wall, cpu_s=cpu, message=outcome.message,
                          metrics=best_metrics.to_dict() if best_metrics else {}, details=details)
    if result.bound is not None and result.objective is not None and result.status == Status.FEASIBLE \
            and result.gap is not None and result.gap <= opts.gap:
        result.status = Status.OPTIMAL
    if best is None and status in (Status.INFEASIBLE, Status.ERROR):
        from ..mp.infeasibility import explain

        why = explain(problem, time_limit=max(5.0, min(30.0, opts.time_limit)))
        if why is not None:
            result.status = Status.INFEASIBLE
            result.message = why.message
            result.details["smallest_budgets"] = why.smallest
        result.time_s = time.perf_counter() - t  # the analysis is part of the answer's wall time
    return result
