"""The driver: rounds of node bounds, exact solves beside them, settled at points fixed by the round count.

Each round bounds every open node (in chunks, in parallel) and merges the answers in node order; nodes
that reach a single depth vector queue exact solves. Every ``SETTLE_EVERY`` rounds, or when no node is
left open, the running exact solves are waited for (*settled*) in the order they were started, the cutoff
rises to the best design, and the ``EXACT_WAVE`` queued solves of the highest relaxation bounds start with
it. So the tree depends neither on which solve finishes first nor on the number of workers.
"""
from __future__ import annotations

import math
import resource
import time
from collections.abc import Callable

from ..errors import DesignError
from ..solve.results import Certificate, DesignResult, Status
from ..solve.route import Outcome
from ..solve.routes.auto import DepthDecomposition, Tasks, in_turn
from ..space.arch import Architecture
from ..space.metrics import evaluate
from ..space.problem import DesignProblem
from .bounds import best_roundings, bound_nodes, cutoff_of, dive, relaxation_of, solve_exact
from .certificate import certificate
from .executor import Executor, Wait, collect
from .tree import NodeRecord, NodeStatus, children, widest

CHUNK = 1  # relaxation nodes per task: one (a node takes a fraction of a second, far above a task's cost,
# and single nodes balance the workers best: 1.1x faster on two than chunks of four)
SETTLE_EVERY = 2   # rounds between waits for the exact solves (whose better designs raise the cutoff)
EXACT_WAVE = 4  # exact solves started at a settle point, best relaxation bound first (a constant: the tree
# must not depend on the worker count); the rest wait for the cutoff their designs may raise
FIRST_QUICK_NODES = 200  # SCIP nodes of a neighbourhood solve for the first incumbent (auto's own take 1000): the
# tree improves on its design; 1000 cost deepmad-50m paper 4 s more (two solves that reach the limit)
QUICK_BATCH = 2  # the first incumbent's neighbourhood solves run in batches of this many tasks, in parallel (a
# constant: the incumbent must not depend on the worker count)
DIVES = 2  # quick designs started after the root, at its best roundings (the tree's first designs)
EXACT_NODES = 2000  # SCIP nodes an exact solve may take before its node is halved (a work limit)
EXACT_SAFETY_S = 60.0  # the wall-clock safety net of one exact solve
EVOLUTION_CHILDREN = 20_000  # the evolutionary fallback's work limit, when the quick designs find none


def certify(problem: DesignProblem, time_limit: float = 120.0, gap: float = 1e-4, workers: int = 1,
            incumbent: Architecture | None = None, exact_nodes: int = EXACT_NODES,
            box_time_limit: float = EXACT_SAFETY_S, formulation: str = "natural",
            progress: Callable[[str], None] | None = None, scheduler: str | None = None,
            on_incumbent: Callable[[Architecture, float, str], None] | None = None,
            quick_design: bool = False) -> DesignResult:
    """Design ``problem`` with a certificate: the result's ``bound`` is proven over the whole space.
    Nodes run in ``workers`` local processes, or on the Dask cluster at ``scheduler``; an exact solve
    gets at most ``exact_nodes`` SCIP nodes (``box_time_limit`` seconds: a safety net). Work limits
    decide the tree, so it is the same on a loaded machine; ``time_limit`` only stops the run.
    ``on_incumbent(design, objective, source)`` hears of every design that becomes the incumbent.
    ``quick_design``: with an ``incumbent`` given, also find the quick designs and start from the better."""
    say = progress or (lambda msg: None)
    t0, cpu0 = time.perf_counter(), _cpu_seconds()
    relaxation_of(problem)  # compiled here, before the workers fork: they inherit it
    executor = Executor(workers, scheduler)
    try:
        incumbent, inc_obj, source = _first_incumbent(problem, incumbent, time_limit, formulation, say, quick_design,
                                                      tasks=executor.tasks)
        if on_incumbent is not None and incumbent is not None:
            on_incumbent(incumbent, inc_obj, source)
        search = Search(problem, incumbent, inc_obj, source, gap=gap, workers=workers, t0=t0,
                        deadline=t0 + time_limit, node_time_limit=box_time_limit, exact_nodes=exact_nodes, say=say,
                        on_incumbent=on_incumbent)
        search.run(executor)
    finally:
        executor.close()  # stops solves still running at the time limit
    search.close_open()
    where = f"Dask at {scheduler}" if scheduler else f"{workers} worker{'s' if workers > 1 else ''}"
    return _result(problem, search, search.certificate(), f"certify(clarabel+scip, {where})",
                   time.perf_counter() - t0, cpu0, gap)


def _first_incumbent(problem: DesignProblem, incumbent: Architecture | None, time_limit: float, formulation: str,
                     say: Callable[[str], None], quick_design: bool = False, tasks: Tasks = in_turn
                     ) -> tuple[Architecture | None, float, str]:
    """The design to beat (given, or the quick designs of the ``auto`` route: its relaxation, depth search
    and neighbourhood solves, run by ``tasks`` in batches of ``QUICK_BATCH``, without the final polish the
    tree does better; ``quick_design``: the better of both), its objective and where it came from."""
    source = "given"
    broken = problem.check(incumbent) if incumbent is not None else []
    if broken:
        raise DesignError("incumbent", "breaks " + broken[0])
    if incumbent is None or quick_design:
        quick = _quick_design(problem, time_limit, formulation, say, tasks)
        if quick is not None and (incumbent is None or evaluate(quick, problem.objective).objective
                                  > evaluate(incumbent, problem.objective).objective):
            incumbent, source = quick, "auto (quick designs)"
    if incumbent is None:  # the relaxation's favourite depth vectors hold no design: a seeded evolution
        incumbent, source = _evolved_design(problem, time_limit, say), f"evolution ({EVOLUTION_CHILDREN:,} children)"
    if incumbent is None:
        return None, -math.inf, source
    inc_obj = evaluate(incumbent, problem.objective).objective
    say(f"incumbent {inc_obj:,.2f} ({source}); proving over the whole design space")
    return incumbent, inc_obj, source


def _quick_design(problem: DesignProblem, time_limit: float, formulation: str, say: Callable[[str], None],
                  tasks: Tasks) -> Architecture | None:
    """The best quick design of the ``auto`` route, its neighbourhood solves (``FIRST_QUICK_NODES`` SCIP nodes
    each) run by ``tasks`` in batches of a fixed size: work-limited, so deterministic, whatever runs them."""
    from ..solve.options import SolveOptions
    from ..solve.route import Reporter

    class Relay(Reporter):
        """The route's progress lines, handed on as they are (``say`` adds its own timestamps)."""

        def progress(self, message: str) -> None:
            say(message)

    opts = SolveOptions(time_limit=max(1.0, time_limit / 2), formulation=formulation)
    run = DepthDecomposition(problem, opts, Relay(), search=True, polish=False, batch=QUICK_BATCH, tasks=tasks,
                             quick_nodes=FIRST_QUICK_NODES)
    return _best_valid(problem, run.run())


def _evolved_design(problem: DesignProblem, time_limit: float, say: Callable[[str], None]) -> Architecture | None:
    """The best design of the evolutionary route after ``EVOLUTION_CHILDREN`` children (seed 0: a work
    limit, so deterministic; a quarter of ``time_limit`` is the safety net)."""
    from ..solve.options import SolveOptions
    from ..solve.route import Reporter
    from ..solve.routes import evolution

    opts = SolveOptions(time_limit=max(2.0, time_limit / 4), seed=0, extra={"max_candidates": EVOLUTION_CHILDREN})
    best = _best_valid(problem, evolution.run(problem, opts, Reporter()))
    say("evolution: " + (f"{evaluate(best, problem.objective).objective:,.2f}" if best else "no design"))
    return best


def _best_valid(problem: DesignProblem, found: Outcome) -> Architecture | None:
    """The best of a route's designs that meet every constraint (re-checked by the metrics)."""
    valid = [a for a in found.architectures if not problem.check(a)]
    return max(valid, key=lambda a: evaluate(a, problem.objective).objective) if valid else None


class Search:
    """One branch-and-bound run: the tree so far (records in the order they were settled), the open nodes,
    the exact solves running and waiting, the incumbent and the cutoff it sets."""

    def __init__(self, problem: DesignProblem, incumbent: Architecture | None, inc_obj: float, source: str, *,
                 gap: float, workers: int, t0: float, deadline: float, node_time_limit: float, exact_nodes: int,
                 say: Callable[[str], None],
                 on_incumbent: Callable[[Architecture, float, str], None] | None = None):
        self.problem, self.gap, self.workers = problem, gap, workers
        self.t0, self.deadline, self.node_time_limit, self.exact_nodes = t0, deadline, node_time_limit, exact_nodes
        self.say, self.on_incumbent = say, on_incumbent
        self.incumbent, self.inc_obj, self.source = incumbent, inc_obj, source
        root = relaxation_of(problem).root()
        self.cutoff = cutoff_of(inc_obj, gap)
        self.open = [NodeRecord("r", list(root.depths), list(root.widths), list(root.kernels), cutoff=self.cutoff)]
        self.tree: list[NodeRecord] = []
        self.exact_jobs: list[tuple[NodeRecord, Wait]] = []
        self.dives: list[Wait] = []  # quick designs after the root: incumbents only, never in the tree
        self.waiting: dict[str, tuple[float, NodeRecord]] = {}  # exact solves not started: id -> (priority, record)
        self.rounds = 0
        self.executor: Executor | None = None

    def run(self, executor: Executor) -> None:
        """Rounds until nothing is open or the time limit; then what finished of the exact solves."""
        self.executor = executor
        while self._busy() and time.perf_counter() < self.deadline - 1.0:
            if self._settle_due():
                if self.settle():
                    break
                self._raise_cutoff()
                self._start_wave()
                if not self.open:
                    continue
            if self.round():
                break
        self.finish()

    def _busy(self) -> bool:
        """Nodes open, or solves running or waiting."""
        return bool(self.open or self.exact_jobs or self.waiting or self.dives)

    def _settle_due(self) -> bool:
        """At a point fixed by the round count, not by timing: the tree stays deterministic."""
        return not self.open or bool(self.rounds % SETTLE_EVERY == 0 and self.rounds
                                     and (self.exact_jobs or self.waiting or self.dives))

    def round(self) -> bool:
        """Bound every open node; the children of those split are open next. True when the time limit
        came first (the nodes not bounded stay open)."""
        self.rounds += 1
        left = self.deadline - time.perf_counter() - 1.0
        jobs = [(chunk, self._submit(bound_nodes, self.problem, chunk, left))
                for chunk in _chunks(self.open, CHUNK, self.workers)]
        solved, unsolved = collect(jobs, self.deadline)
        next_open: list[NodeRecord] = []
        for rec in solved:
            self.tree.append(rec)
            if rec.status == NodeStatus.SPLIT:
                next_open.extend(children(rec, self.problem.width_step))
                if rec.parent is None:  # the root
                    self._dive(rec)
            elif rec.status == NodeStatus.EXACT_PENDING:
                self._to_exact(rec)
        self.say(f"round {self.rounds}: {len(solved)} nodes bounded, {len(next_open) + len(unsolved)} open, "
                 f"{len(self.exact_jobs)} exact solves running, {self._elapsed()}")
        self.open = next_open + unsolved
        return bool(unsolved)

    def _to_exact(self, rec: NodeRecord) -> None:
        """A node of one depth vector: split into the exact solve of its box as tightened. The solve waits
        for a settle point, where the most promising start first (:meth:`_start_wave`)."""
        rec.status = NodeStatus.SPLIT
        job = rec.exact_child(self.cutoff)
        self.waiting[job.id] = (rec.bound if rec.bound is not None else math.inf, job)

    def _dive(self, root: NodeRecord) -> None:
        """Quick designs at the root's best roundings (:func:`dive`), one task each, started at once: a better
        design they find becomes the incumbent at the first settle point, long before the tree reaches single
        depth vectors."""
        self.dives += [self._submit(dive, self.problem, root, n, fixed, relaxed, self.node_time_limit, self.gap)
                       for n, (fixed, relaxed) in enumerate(best_roundings(self.problem, root, DIVES))]

    def _start_wave(self) -> None:
        """Start the waiting exact solves of the highest relaxation bounds (``EXACT_WAVE`` of them) with the
        cutoff as it stands: a design they find raises the cutoff the others then start with, and those
        their tightening then shows cannot reach it end at once."""
        ranked = sorted(self.waiting.items(), key=lambda kv: (-kv[1][0], kv[0]))
        for job_id, (_, job) in ranked[:EXACT_WAVE]:
            del self.waiting[job_id]
            job.cutoff = self.cutoff
            self.start_exact(job)

    def start_exact(self, rec: NodeRecord) -> None:
        """Start SCIP on ``rec`` (a node of one depth vector)."""
        limit = max(1.0, min(self.node_time_limit, self.deadline - time.perf_counter()))
        self.exact_jobs.append((rec, self._submit(solve_exact, self.problem, rec, limit, self.exact_nodes)))

    def settle(self) -> bool:
        """Wait for the dives and the exact solves started so far, in the order they were started: a better
        design becomes the incumbent; a node SCIP could not finish is halved (its halves open). True when the time
        limit came first (the unfinished solves are then open)."""
        dived, _ = collect([([], wait) for wait in self.dives], self.deadline)
        self.dives = []
        for rec in dived:
            if rec.objective is not None and rec.objective > self.inc_obj and self._valid(rec):
                self._new_incumbent(rec, rec.objective)
        jobs: list[tuple[list[NodeRecord], Wait]] = [([rec], wait) for rec, wait in self.exact_jobs]
        self.exact_jobs = []
        solved, unsolved = collect(jobs, self.deadline)
        self.open += unsolved
        for rec in solved:
            self.tree.append(rec)
            if rec.objective is not None and rec.objective > self.inc_obj and self._valid(rec):
                self._new_incumbent(rec, rec.objective)  # also a design SCIP found before its node limit
            if rec.status == NodeStatus.RETRIED:
                self._halve(rec)
        self.say(f"{len(solved)} exact solves settled, {self._elapsed()}")
        return bool(unsolved)

    def _halve(self, rec: NodeRecord) -> None:
        """SCIP reached its limit: split the node's widest width range (the halves are bounded, then solved
        in turn), or solve it again when it is a single design."""
        rec.branch = widest(rec, self.problem.width_step)
        if rec.branch:
            kids = children(rec, self.problem.width_step)
            self.open.extend(kids)
        else:
            self.start_exact(rec.retry(self.cutoff))

    def _valid(self, rec: NodeRecord) -> bool:
        """The design an exact solve found meets every constraint (re-checked by the metrics)."""
        return rec.architecture is not None and not self.problem.check(Architecture.from_dict(rec.architecture))

    def _new_incumbent(self, rec: NodeRecord, objective: float) -> None:
        self.incumbent, self.inc_obj = Architecture.from_dict(rec.architecture), objective
        self.source = f"node {rec.id}"
        if self.on_incumbent is not None:
            self.on_incumbent(self.incumbent, objective, self.source)
        self.say(f"new incumbent {self.inc_obj:,.2f} from L={[lo for lo, _ in rec.depths]}")

    def _raise_cutoff(self) -> None:
        """After a settle: the open nodes close against a better incumbent."""
        cutoff = cutoff_of(self.inc_obj, self.gap)
        if cutoff is not None and (self.cutoff is None or cutoff > self.cutoff):
            self.cutoff = cutoff
            for rec in self.open:
                rec.cutoff = cutoff

    def finish(self) -> None:
        """At the end (or the time limit): the exact solves that finished count, the rest stay open (with
        those that never started)."""
        self.open.extend(job for _, job in self.waiting.values())
        self.waiting = {}
        for rec, wait in self.exact_jobs:
            try:
                done = wait(0.1)
            except TimeoutError:
                self.open.append(rec)
                continue
            if done.objective is not None and done.objective > self.inc_obj and self._valid(done):
                self._new_incumbent(done, done.objective)
            settled = done.status in (NodeStatus.EXACT, NodeStatus.INFEASIBLE)
            (self.tree if settled else self.open).append(done)
        self.exact_jobs = []

    def close_open(self) -> None:
        """The nodes still open join the tree as open leaves."""
        for rec in self.open:
            rec.status = NodeStatus.OPEN
            self.tree.append(rec)

    def certificate(self) -> Certificate:
        return certificate(self.inc_obj, self.tree, self.rounds, self.source, not self.open)

    def _submit(self, fn: Callable[..., object], *args: object) -> Wait:
        assert self.executor is not None, "run() sets the executor"
        return self.executor.submit(fn, *args)

    def _elapsed(self) -> str:
        return f"{time.perf_counter() - self.t0:.1f}s"


def _result(problem: DesignProblem, search: Search, cert: Certificate, solver: str, wall: float, cpu0: float,
            gap: float) -> DesignResult:
    """The design result of a run: optimal when the tree is complete or the bound is within the gap."""
    incumbent, inc_obj = search.incumbent, search.inc_obj
    m = evaluate(incumbent, problem.objective) if incumbent is not None else None
    # proven when the bound is within the gap, even if nodes are left open below a better incumbent
    proven = incumbent is not None and math.isfinite(cert.bound) and \
        cert.bound - inc_obj <= gap * abs(inc_obj) * (1 + 1e-9)
    status = Status.OPTIMAL if (cert.complete or proven) and incumbent is not None else \
        Status.INFEASIBLE if cert.complete else Status.TIME_LIMIT
    message = "" if cert.complete else f"{len(search.open)} nodes still open at the time limit" \
        + (" (none can beat the design by more than the gap)" if proven else "")
    result = DesignResult(problem=problem.name, mode=problem.mode, solver=solver, status=status,
                          architecture=incumbent.with_(name=problem.name) if incumbent else None,
                          objective=m.objective if m else None, bound=cert.bound if math.isfinite(cert.bound) else None,
                          time_s=wall, cpu_s=_cpu_seconds() - cpu0, metrics=m.to_dict() if m else {}, message=message,
                          certificate=cert)
    if result.status == Status.OPTIMAL and result.gap is not None and result.gap > gap:
        result.status = Status.FEASIBLE
    return result


def _chunks(recs: list[NodeRecord], size: int, workers: int) -> list[list[NodeRecord]]:
    """Consecutive chunks of at most ``size`` nodes, at least one per worker when there are enough."""
    size = max(1, min(size, math.ceil(len(recs) / max(1, workers))))
    return [recs[i:i + size] for i in range(0, len(recs), size)]


def _cpu_seconds() -> float:
    """CPU seconds of this process and of its finished children (the incumbent route, node workers)."""
    me, kids = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return me.ru_utime + me.ru_stime + kids.ru_utime + kids.ru_stime
