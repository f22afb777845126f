"""``design(problem, solver)``: run a solver route under a hard time limit, verify what it returns.

The route runs in a child process (:func:`.supervise.supervise`) that streams progress and incumbents
back; past the time limit (plus a short grace) it is killed and the best verified incumbent is returned
with status ``time_limit``. Every architecture is re-checked by :mod:`metrics` and
:meth:`DesignProblem.check` before it is reported: no design that breaks a budget or bound is ever returned.
The result's ``incumbents`` trace when each improving verified design arrived (seconds since the call).
"""
from __future__ import annotations

import os
import sys
import time
from dataclasses import dataclass, field, replace
from typing import Any, Callable

from ..errors import DesignError
from ..mp.infeasibility import explain
from ..space.arch import Architecture
from ..space.metrics import Metrics, evaluate
from ..space.problem import DesignProblem
from . import profiles, registry
from .options import SolveOptions
from .results import DesignResult, Rejected, Status, TracePoint
from .route import Event, Outcome, Reporter
from .supervise import Ending, supervise

GRACE_S = 5.0


@dataclass(frozen=True)
class Incumbent:
    """A design a route streamed: the architecture as a dict, its objective as the route says, where it
    came from, when it arrived (``time.perf_counter()`` in the caller) and the proven bound the route
    reported with it (``None``: none)."""

    architecture: dict
    objective: float
    source: str
    at: float
    bound: float | None = None


def run_route(name: str, problem: DesignProblem, opts: SolveOptions,
              progress: Callable[[str], None] | None = None) -> tuple[Outcome, list[Incumbent], float]:
    """Run route ``name`` in a child process; returns its outcome, the incumbents it streamed (stamped
    with their arrival) and its CPU seconds."""
    route = registry.get(name)
    incumbents: list[Incumbent] = []

    def on_event(event: Event, payload: Any) -> None:
        if event == Event.PROGRESS and progress:
            progress(payload)
        elif event == Event.INCUMBENT:
            arch, objective, source, bound = payload
            incumbents.append(Incumbent(arch, objective, source, time.perf_counter(), bound))

    def call(send: Any) -> Outcome:
        if opts.tee:
            _solver_logs_to_stderr()
        return route.run(problem, opts, Reporter(send))

    run = supervise(call, opts.time_limit + GRACE_S, on_event)
    if run.ending == Ending.RETURNED:
        outcome = run.value
    elif run.ending == Ending.KILLED:
        outcome = Outcome(Status.TIME_LIMIT, message=f"stopped after {opts.time_limit:g} s "
                          f"(+{GRACE_S:g} s grace): the solver did not respect its time limit")
    elif run.ending == Ending.RAISED:
        outcome = Outcome(Status.ERROR, message="solver crashed: " + run.error_line(),
                          diagnostics={"traceback": run.error})
    else:
        outcome = Outcome(Status.ERROR, message=f"the solver process died ({run.error})")
    return outcome, incumbents, run.cpu_s


def _solver_logs_to_stderr() -> None:
    """In the route's child process: what solvers print (C and Python) goes to stderr, so that the
    caller's stdout (a result, JSON) stays clean. Python's ``sys.stdout`` gets a descriptor of its own:
    Pyomo's SCIP interface captures descriptors 1 and 2 while it solves and copies them to ``sys.stdout``
    (a ``sys.stdout`` on descriptor 2 would feed the copy back into the capture)."""
    sys.stdout.flush()
    os.dup2(2, 1)
    sys.stdout = os.fdopen(os.dup(2), "w", buffering=1)


@dataclass
class Verified:
    """The designs a route returned, re-checked: the best one that meets every budget and bound, and
    those that do not."""

    best: Architecture | None = None
    metrics: Metrics | None = None
    rejected: list[Rejected] = field(default_factory=list)


def incumbent_trace(problem: DesignProblem, streamed: list[Incumbent], final: list[Architecture], start: float,
                    end: float) -> list[TracePoint]:
    """The improving verified designs in arrival order, seconds since ``start``: the streamed ones (with the
    bound the route reported with each), then the route's final answer (arrived at ``end``). A design that
    breaks a budget or bound is left out."""
    timed = [(Architecture.from_dict(s.architecture), s.at, s.source, s.bound) for s in streamed]
    timed += [(a, end, "final answer", None) for a in final]
    trace: list[TracePoint] = []
    for arch, at, source, bound in timed:
        m = evaluate(arch, problem.objective, problem.resolution)
        if not problem.check(arch, m) and (not trace or m.objective > trace[-1].objective):
            trace.append(TracePoint(max(0.0, at - start), m.objective, source, bound))
    return trace


def verify(problem: DesignProblem, candidates: list[Architecture]) -> Verified:
    out = Verified()
    for arch in candidates:
        m = evaluate(arch, problem.objective, problem.resolution)
        broken = problem.check(arch, m)
        if broken:
            out.rejected.append(Rejected(arch.describe(), broken))
        elif out.metrics is None or m.objective > out.metrics.objective:
            out.best, out.metrics = arch, m
    return out


def design(problem: DesignProblem, solver: str = registry.DEFAULT, options: SolveOptions | None = None,
           progress: Callable[[str], None] | None = None) -> DesignResult:
    """Design a backbone for ``problem`` with ``solver`` (see ``deepmad solvers``; by default the certifying
    route: the design comes with its proven bound and gap). ``solver`` may name a profile after ``@``
    (``scip@aggressive``), which replaces ``options.profile``."""
    opts = options or SolveOptions()
    route, variant = registry.parse(solver)
    profile = profiles.split(solver)[1]
    if variant:
        opts = replace(opts, variant=variant)
    if profile:
        opts = replace(opts, profile=profile)
    profiles.settings(route.name, opts.profile)  # an unknown profile: one line, before any work
    if not route.available():
        raise DesignError("solver", f"{route.name} is not available here: {route.install}",
                          ", ".join(registry.available_names()))
    t = time.perf_counter()
    outcome, streamed, cpu = run_route(route.name, problem, opts, progress)
    end = time.perf_counter()
    wall = end - t
    found = verify(problem, [Architecture.from_dict(s.architecture) for s in streamed] + list(outcome.architectures))
    status = outcome.status
    if found.best is None and status in (Status.OPTIMAL, Status.FEASIBLE):
        status = Status.ERROR
        outcome.message = (outcome.message + "; " if outcome.message else "") + \
            "every architecture the solver returned broke a budget or bound"
    best, m = found.best, found.metrics
    result = DesignResult(problem=problem.name, mode=problem.mode, solver=route.label(opts), status=status,
                          architecture=best.with_(name=problem.name) if best else None,
                          objective=m.objective if m else None, bound=outcome.bound, time_s=wall, cpu_s=cpu,
                          message=outcome.message, metrics=m.to_dict() if m else {},
                          rejected=found.rejected, diagnostics=dict(outcome.diagnostics),
                          certificate=outcome.certificate,
                          incumbents=incumbent_trace(problem, streamed, list(outcome.architectures), t, end))
    if result.bound is not None and result.objective is not None and result.status == Status.FEASIBLE \
            and result.gap is not None and result.gap <= opts.gap:
        result.status = Status.OPTIMAL
    if best is None and status in (Status.INFEASIBLE, Status.ERROR):
        explain_infeasibility(problem, result, opts)
        result.time_s = time.perf_counter() - t  # the analysis is part of the answer's wall time
    return result


def explain_infeasibility(problem: DesignProblem, result: DesignResult, opts: SolveOptions) -> None:
    """When SCIP proves ``problem`` infeasible, say so in ``result`` with the smallest feasible budgets."""
    why = explain(problem, time_limit=max(5.0, min(30.0, opts.time_limit)))
    if why is not None:
        result.status = Status.INFEASIBLE
        result.message = why.message
        result.smallest_budgets = why.smallest
        if why.combination is not None:
            result.diagnostics["smallest_combination"] = why.combination.to_dict()
