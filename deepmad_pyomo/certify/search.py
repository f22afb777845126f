"""Certified designs: a proven bound and gap by branch and bound over the whole design space.

1. A strong incumbent first (the ``auto`` route, or one given); the cutoff is it plus the gap.
2. The space is covered by *nodes* (:class:`relaxation.Node`: a box of depth vectors, a width range and a
   set of kernel sizes per block), starting from the template's ranges. A node is bounded by its convex
   relaxation (:mod:`relaxation`: log-widths, perspective costs in real depths, McCormick envelopes of
   the stage entropies), solved by Ipopt in milliseconds. A node whose bound does not exceed the cutoff
   closes. Otherwise its ranges are first tightened to what can still reach the cutoff (OBBT on the same
   relaxation) and it is bounded again; if it still does not close, it is split on what accounts for most
   of its bound: a depth range (preferred), the width that sets a stage's entropy, or a kernel choice.
3. A node of a single depth vector that its relaxation cannot close is solved exactly by SCIP (integer
   widths, kernels free, the cutoff as a constraint; width ranges tightened first), once per depth
   vector: later nodes of that vector are covered by it. A better design found there becomes the
   incumbent. When SCIP runs out of time, the node is halved on its widest width range, and the halves
   are bounded and solved in turn (each a *scope* of its own).
4. Nodes of a round run in parallel and their results are merged in node order; exact solves run beside
   the rounds and are settled in the order they were started. The cutoff is fixed for the run, so the tree
   and the answer do not depend on which solve finishes first. They run in local processes (``workers``),
   or as tasks on a Dask cluster (``scheduler``: its address).

Budgets the relaxation does not model (latency) are left out of it, which only loosens it (dropping a
constraint keeps a bound valid); the exact solves enforce them.
"""
from __future__ import annotations

import contextlib
import math
import multiprocessing as mp
import resource
import time
from dataclasses import asdict, dataclass, field
from typing import Any, Callable

from ..errors import DesignError
from ..mp.formulation import FormulationOptions, build_pyomo_model, decode
from ..mp.relaxation import Node, Relaxation, RelaxedBound
from ..solve.results import DesignResult, Status
from ..space.arch import Architecture
from ..space.metrics import evaluate
from ..space.problem import DesignProblem

Range = tuple[int, int]
CHUNK = 4  # relaxation nodes per task (each takes a fraction of a second)
DEPTH_FIRST = 3.0  # depth candidates' scores are weighted up by this
SETTLE_EVERY = 4   # rounds between waits for the exact solves (whose better designs raise the cutoff)
_RELAXATIONS: dict[DesignProblem, Relaxation] = {}


def relaxation_of(problem: DesignProblem) -> Relaxation:
    """The compiled relaxation of ``problem``, one per process."""
    if problem not in _RELAXATIONS:
        _RELAXATIONS[problem] = Relaxation(problem)
    return _RELAXATIONS[problem]


@dataclass
class BoxRecord:
    """One node of the tree. ``status``: closed (bound <= cutoff), infeasible (nothing in it reaches the
    cutoff), split, exact (solved by SCIP), covered (inside an exact solve started for its depth vector),
    retried (SCIP ran out of time: split), open."""

    id: str
    depths: list[Range]
    widths: list[Range] = field(default_factory=list)
    kernels: list[tuple[int, ...]] = field(default_factory=list)
    cutoff: float | None = None
    status: str = "open"
    bound: float | None = None      # the relaxation's bound (exact nodes: SCIP's bound)
    objective: float | None = None  # exact nodes: the optimum at the depth vector
    termination: str = ""
    wall_s: float = 0.0
    solver: str = ""
    branch: tuple[str, int, int] | None = None  # what to split (kind, index, cut) when not closed
    scope: str = ""  # the region its exact solves cover: "" the whole space, else a split exact node's child
    pruned: bool = False  # bound tightening cut parts of it that cannot reach the cutoff
    architecture: dict[str, Any] | None = None
    start: list[float] | None = field(default=None, repr=False)  # the parent's relaxed point (a warm start)

    @property
    def size(self) -> int:
        return math.prod(hi - lo + 1 for lo, hi in self.depths)

    @property
    def node(self) -> Node:
        return Node(tuple(map(tuple, self.depths)), tuple(map(tuple, self.widths)),  # type: ignore[arg-type]
                    tuple(map(tuple, self.kernels)))

    @property
    def exact(self) -> bool:
        return self.solver.startswith("scip")


def bound_nodes(problem: DesignProblem, recs: list[BoxRecord], deadline_s: float) -> list[BoxRecord]:
    """Bound relaxation nodes (in a worker): Ipopt on each node's convex relaxation; a node it does not close
    has its ranges narrowed to what can reach the cutoff (:meth:`Relaxation.tighten`) and is bounded again,
    then gets the split to make (or, at a single depth vector, ``branch`` None: solve it exactly)."""
    relax = relaxation_of(problem)
    stop = time.perf_counter() + deadline_s
    for rec in recs:
        if time.perf_counter() > stop:
            break
        t = time.perf_counter()
        node = rec.node
        ans = relax.solve(node, rec.start)
        if ans.bound is not None and rec.cutoff is not None and ans.bound > rec.cutoff:
            tight = relax.tighten(node, rec.cutoff, ans.x)
            rec.pruned = tight != node
            if tight is None:
                ans = RelaxedBound("infeasible", None, [], [], {})
            elif rec.pruned:
                node = tight
                rec.depths, rec.widths = [tuple(d) for d in node.depths], [tuple(w) for w in node.widths]
                ans = relax.solve(node, ans.x)
        rec.solver, rec.termination = "ipopt (convex relaxation)", ans.status
        rec.start = ans.x
        if ans.status == "infeasible":
            rec.status = "infeasible"
        elif ans.bound is not None and rec.cutoff is not None and ans.bound <= rec.cutoff:
            rec.status, rec.bound = "closed", ans.bound
        else:
            rec.bound = ans.bound
            rec.branch = _branch(problem, node, ans)
            rec.status = "split" if rec.branch else "exact-pending"
        rec.wall_s = time.perf_counter() - t
    return recs


def _branch(problem: DesignProblem, node: Node, ans: Any) -> tuple[str, int, int] | None:
    """The split of a node its relaxation cannot close: the candidate that accounts for most of the bound,
    depths preferred (``DEPTH_FIRST``: a single depth vector is what SCIP settles, so a node of one goes to
    SCIP: ``None``). Without a relaxed point, the widest depth range is bisected."""
    if node.depth_vectors == 1:
        return None
    scores = {k: v * (DEPTH_FIRST if k[0] == "depth" else 1.0) for k, v in ans.scores.items() if v > 0}
    if not scores:
        i = max(range(len(node.depths)), key=lambda q: (node.depths[q][1] - node.depths[q][0], q))
        lo, hi = node.depths[i]
        return ("depth", i, (lo + hi) // 2)
    kind, i = max(scores, key=lambda k: (scores[k], k))
    if kind == "depth":
        lo, hi = node.depths[i]
        return (kind, i, min(max(math.floor(ans.depths[i] + 1e-9), lo), hi - 1))
    if kind == "width":
        lo, hi = node.widths[i]
        step = problem.width_step
        return (kind, i, min(max(int(ans.widths[i] // step) * step, lo), hi - step))
    return (kind, i, len(node.kernels[i]) // 2)


def _widest(rec: BoxRecord, step: int) -> tuple[str, int, int] | None:
    """Bisect the width range widest in log scale (then a kernel set); None when the node is one design."""
    ranges = [(math.log(hi / lo), j) for j, (lo, hi) in enumerate(rec.widths) if hi > lo]
    if ranges:
        _, j = max(ranges)
        lo, hi = rec.widths[j]
        return ("width", j, lo + step * ((hi - lo) // step // 2))
    kernels = [j for j, ks in enumerate(rec.kernels) if len(ks) > 1]
    return ("kernel", kernels[0], len(rec.kernels[kernels[0]]) // 2) if kernels else None


def _children(rec: BoxRecord, step: int) -> list[BoxRecord]:
    kind, i, cut = rec.branch  # type: ignore[misc]
    parts: list[Any]
    if kind == "depth":
        lo, hi = rec.depths[i]
        parts, field_ = [(lo, cut), (cut + 1, hi)], "depths"
    elif kind == "width":
        lo, hi = rec.widths[i]
        parts, field_ = [(lo, cut), (cut + step, hi)], "widths"
    else:
        ks = rec.kernels[i]
        parts, field_ = [ks[:cut], ks[cut:]], "kernels"
    out = []
    for n, part in enumerate(parts):
        child = BoxRecord(f"{rec.id}.{n}", list(rec.depths), list(rec.widths), list(rec.kernels), rec.cutoff,
                          start=None if rec.exact else rec.start, scope=f"{rec.id}.{n}" if rec.exact else rec.scope)
        getattr(child, field_)[i] = part
        out.append(child)
    return out


def solve_exact(problem: DesignProblem, rec: BoxRecord, time_limit: float, formulation: str = "natural") -> BoxRecord:
    """SCIP on the exact problem in a node of one depth vector (integer widths and kernel choices within
    the node's, width ranges first tightened by the relaxation to what can reach the cutoff), with the
    cutoff."""
    from ..solve.backends import scip

    t = time.perf_counter()
    if rec.cutoff is not None:  # what can still reach the cutoff: a few times faster SCIP
        relax = relaxation_of(problem)
        tight = relax.tighten(rec.node, rec.cutoff)
        btns = relax.bottlenecks(tight, rec.cutoff) if tight is not None else None
        if tight is None or btns is None:
            rec.status, rec.termination, rec.solver = "infeasible", "infeasible", "scip (exact, after tightening)"
            rec.wall_s = time.perf_counter() - t
            return rec
        widths, rec.pruned = list(tight.widths), True
    else:
        widths, btns = rec.widths, {}
    m = build_pyomo_model(problem, FormulationOptions(formulation=formulation, cutoff=rec.cutoff,
                                                      depths=[lo for lo, _ in rec.depths]))
    step = problem.width_step
    for j, (lo, hi) in enumerate(widths):  # the node's part of the space only (tightened)
        units = m.width_units[j]
        units.setlb(max(units.lb, math.ceil(lo / step)))
        units.setub(min(units.ub, hi // step))
    for j, (lo, hi) in btns.items():
        units = m.btn_units[j]
        units.setlb(max(units.lb, math.ceil(lo / step)))
        units.setub(max(units.lb, min(units.ub, math.floor(hi / step))))
    for (j, k), choice in m.kernel.items():
        if k not in rec.kernels[j]:
            choice.fix(0)
    ans = scip.solve_model(m, time_limit, gap=1e-6)
    rec.termination, rec.solver = ans.termination, "scip (exact)"
    if ans.termination == "infeasible":
        rec.status = "infeasible"
    else:
        rec.bound = ans.bound
        if ans.has_solution:
            arch = decode(m)
            rec.architecture = arch.to_dict()
            rec.objective = evaluate(arch, problem.objective).objective
        rec.status = "exact" if ans.termination == "optimal" and ans.bound is not None else "retried"
    rec.wall_s = time.perf_counter() - t
    return rec


class BoxRunner:
    """Where node solves run: a local process pool (``workers``) or a Dask cluster (``scheduler``).
    ``submit`` returns a function that waits up to a timeout for the answer and raises ``TimeoutError``."""

    def __init__(self, workers: int = 1, scheduler: str | None = None):
        self.scheduler = scheduler
        if scheduler:
            from ..batch.cluster import cluster_client

            self._stack = contextlib.ExitStack()
            self.client = self._stack.enter_context(cluster_client(scheduler=scheduler))
            self.futures: list[Any] = []
        else:
            self.pool = mp.get_context("fork").Pool(max(1, workers))

    def submit(self, fn: Callable[..., Any], *args: Any) -> Callable[[float], Any]:
        if self.scheduler:
            fut = self.client.submit(fn, *args, pure=False)
            self.futures.append(fut)
            return lambda timeout: fut.result(timeout=timeout)  # raises TimeoutError
        job = self.pool.apply_async(fn, args)

        def get(timeout: float) -> Any:
            try:
                return job.get(timeout=timeout)
            except mp.TimeoutError:
                raise TimeoutError from None
        return get

    def close(self) -> None:
        """Stop what still runs: the pool is terminated (its solves with it); Dask tasks are cancelled
        (a node already running on a worker finishes its own time limit there)."""
        if self.scheduler:
            self.client.cancel(self.futures)
            self._stack.close()
        else:
            self.pool.terminate()


@dataclass
class Certificate:
    incumbent: Architecture | None
    objective: float | None
    bound: float
    boxes: list[BoxRecord]
    rounds: int
    root_bound: float | None
    incumbent_source: str
    complete: bool

    def summary(self) -> dict[str, Any]:
        leaves = [b for b in self.boxes if b.status not in ("split", "retried")]
        by = {s: sum(1 for b in leaves if b.status == s)
              for s in ("infeasible", "closed", "exact", "covered", "open")}
        return {"bound": self.bound, "root_relaxation_bound": self.root_bound, "rounds": self.rounds,
                "boxes": len(self.boxes), "inner_solves": sum(1 for b in self.boxes if b.termination),
                "exact_solves": sum(1 for b in self.boxes if b.exact),
                "leaves": by, "complete": self.complete, "incumbent_source": self.incumbent_source,
                "closed_by": sorted({b.solver for b in leaves if b.status not in ("open", "covered")})}


def certify(problem: DesignProblem, time_limit: float = 120.0, gap: float = 1e-4, workers: int = 1,
            incumbent: Architecture | None = None, incumbent_time: float | None = None,
            box_time_limit: float = 5.0, formulation: str = "natural",
            progress: Callable[[str], None] | None = None, scheduler: str | None = None) -> DesignResult:
    """Design ``problem`` with a certificate: the result's ``bound`` is proven over the whole space.
    Nodes run in ``workers`` local processes, or on the Dask cluster at ``scheduler``."""
    say = progress or (lambda msg: None)
    t0, cpu0 = time.perf_counter(), _cpu_seconds()
    deadline = t0 + time_limit
    source = "given"
    if incumbent is None:
        from ..solve.base import SolveOptions
        from ..solve.design import design

        first = design(problem, "auto", SolveOptions(time_limit=incumbent_time or min(30.0, max(20.0, time_limit / 4)),
                                                     formulation=formulation), progress=say)
        incumbent, source = first.architecture, "auto"
    inc_obj = -math.inf
    if incumbent is not None:
        broken = problem.check(incumbent)
        if broken:
            raise DesignError("incumbent", "breaks " + broken[0])
        inc_obj = evaluate(incumbent, problem.objective).objective
        say(f"incumbent {inc_obj:,.2f} ({source}); proving over the whole design space")
    root = relaxation_of(problem).root()  # compiled once here; forked workers inherit it
    # one cutoff for the whole run: every answer is then the same whatever order solves finish in (a better
    # incumbent found on the way only tightens the final bound, never invalidates a closed node)
    cutoff = inc_obj + gap * abs(inc_obj) if math.isfinite(inc_obj) else None
    open_nodes = [BoxRecord("r", list(root.depths), list(root.widths), list(root.kernels), cutoff=cutoff)]
    tree: list[BoxRecord] = []
    exact_jobs: list[tuple[BoxRecord, Callable[[float], Any]]] = []
    # one exact solve per depth vector and scope, over the scope's whole box: (scope, depths) -> its record
    exact_of: dict[tuple[str, tuple[Range, ...]], BoxRecord] = {}
    scopes: dict[str, BoxRecord] = {"": open_nodes[0]}
    rounds = 0
    runner = BoxRunner(workers, scheduler)

    def exact_job(rec: BoxRecord) -> None:
        exact_of[rec.scope, tuple(tuple(d) for d in rec.depths)] = rec
        limit = max(1.0, min(box_time_limit, deadline - time.perf_counter()))
        exact_jobs.append((rec, runner.submit(solve_exact, problem, rec, limit, formulation)))

    def settle() -> tuple[list[BoxRecord], bool]:
        """Wait for the exact solves started so far, in the order they were started: a better design
        becomes the incumbent; a node SCIP could not finish is halved. Returns the nodes to bound next, and
        whether the time limit came first (the unfinished solves are then among those nodes)."""
        nonlocal exact_jobs, incumbent, inc_obj, source
        jobs, exact_jobs = [([rec], wait) for rec, wait in exact_jobs], []
        solved, unsolved = _collect(jobs, deadline)
        todo = list(unsolved)
        for rec in solved:
            tree.append(rec)
            exact_of[rec.scope, tuple(tuple(d) for d in rec.depths)] = rec  # the worker's copy
            if rec.status == "retried":  # SCIP ran out of time: split the node's widest width range
                rec.branch = _widest(rec, problem.width_step)
                kids = _children(rec, problem.width_step) if rec.branch else []
                scopes.update({kid.id: kid for kid in kids})
                todo.extend(kids)
                if not rec.branch:
                    exact_job(BoxRecord(rec.id + "'", list(rec.depths), list(rec.widths), list(rec.kernels),
                                        cutoff=cutoff, solver="scip", scope=rec.scope))
            elif rec.status == "exact" and rec.objective is not None and rec.objective > inc_obj:
                incumbent, inc_obj = Architecture.from_dict(rec.architecture), rec.objective
                source = f"node {rec.id}"
                say(f"new incumbent {inc_obj:,.2f} from L={[lo for lo, _ in rec.depths]}")
        say(f"{len(solved)} exact solves settled, {time.perf_counter() - t0:.1f}s")
        return todo, bool(unsolved)

    try:
        while (open_nodes or exact_jobs) and time.perf_counter() < deadline - 1.0:
            if not open_nodes or (rounds % SETTLE_EVERY == 0 and rounds and exact_jobs):
                # a point fixed by the round count, not by timing: the tree stays deterministic
                todo, late = settle()
                open_nodes += todo
                if late:
                    break
                if math.isfinite(inc_obj) and (cutoff is None or inc_obj + gap * abs(inc_obj) > cutoff):
                    cutoff = inc_obj + gap * abs(inc_obj)  # later nodes close against the better design
                    for rec in open_nodes:
                        rec.cutoff = cutoff
                if not open_nodes:
                    continue
            rounds += 1
            left = deadline - time.perf_counter() - 1.0
            jobs = [(chunk, runner.submit(bound_nodes, problem, chunk, left))
                    for chunk in _chunks(open_nodes, CHUNK, workers)]
            solved, unsolved = _collect(jobs, deadline)
            next_open: list[BoxRecord] = []
            for rec in solved:
                tree.append(rec)
                if rec.status == "split":
                    next_open.extend(_children(rec, problem.width_step))
                elif rec.status == "exact-pending":
                    key = (rec.scope, tuple(tuple(d) for d in rec.depths))
                    if key in exact_of:
                        rec.status = "covered"
                    else:  # its one child: the exact solve of its depth vector over its scope's box
                        rec.status, box = "split", scopes[rec.scope]
                        exact_job(BoxRecord(rec.id + ".x", list(rec.depths), list(box.widths), list(box.kernels),
                                            cutoff=cutoff, solver="scip", scope=rec.scope))
            say(f"round {rounds}: {len(solved)} nodes bounded, {len(next_open) + len(unsolved)} open, "
                f"{len(exact_jobs)} exact solves running, {time.perf_counter() - t0:.1f}s")
            open_nodes = next_open + unsolved
            if unsolved:
                break
        for rec, wait in exact_jobs:  # at the time limit: what finished counts, the rest stays open
            try:
                done = wait(0.1)
            except TimeoutError:
                open_nodes.append(rec)
                continue
            exact_of[done.scope, tuple(tuple(d) for d in done.depths)] = done
            (tree if done.status in ("exact", "infeasible") else open_nodes).append(done)
    finally:
        runner.close()  # stops solves still running at the time limit
    for rec in open_nodes:
        rec.status = "open"
        tree.append(rec)
    cert = _certificate(incumbent, inc_obj, tree, rounds, source, not open_nodes, exact_of)
    wall = time.perf_counter() - t0
    m = evaluate(incumbent, problem.objective) if incumbent is not None else None
    # proven when the bound is within the gap, even if nodes are left open below a better incumbent
    proven = incumbent is not None and math.isfinite(cert.bound) and cert.bound - inc_obj <= gap * abs(inc_obj) * (1 + 1e-9)
    status = Status.OPTIMAL if (cert.complete or proven) and incumbent is not None else \
        Status.INFEASIBLE if cert.complete else Status.TIME_LIMIT
    where = f"Dask at {scheduler}" if scheduler else f"{workers} worker{'s' if workers > 1 else ''}"
    result = DesignResult(problem=problem.name, mode=problem.mode, solver=f"certify(ipopt+scip, {where})",
                          status=status, architecture=incumbent.with_(name=problem.name) if incumbent else None,
                          objective=m.objective if m else None, bound=cert.bound if math.isfinite(cert.bound) else None,
                          time_s=wall, cpu_s=_cpu_seconds() - cpu0, metrics=m.to_dict() if m else {},
                          message="" if cert.complete else f"{len(open_nodes)} nodes still open at the time limit"
                          + (" (none can beat the design by more than the gap)" if proven else ""),
                          details={"certificate": cert.summary(), "box_tree": [_box_json(b) for b in tree]})
    if result.status == Status.OPTIMAL and result.gap is not None and result.gap > gap * (1 + 1e-9):
        result.status = Status.FEASIBLE
    return result


def _collect(jobs: list[tuple[list[BoxRecord], Callable[[float], Any]]], deadline: float
             ) -> tuple[list[BoxRecord], list[BoxRecord]]:
    """Wait for ``jobs`` in order until the deadline: the records they solved, and those they did not."""
    solved: list[BoxRecord] = []
    unsolved: list[BoxRecord] = []
    for recs, wait in jobs:
        try:
            answer = wait(max(0.0, deadline + 2.0 - time.perf_counter()))
        except TimeoutError:
            unsolved.extend(recs)
            continue
        answer = answer if isinstance(answer, list) else [answer]
        solved.extend(r for r in answer if r.termination)
        unsolved.extend(r for r in answer if not r.termination)
    return solved, unsolved


def _chunks(recs: list[BoxRecord], size: int, workers: int) -> list[list[BoxRecord]]:
    """Consecutive chunks of at most ``size`` nodes, at least one per worker when there are enough."""
    size = max(1, min(size, math.ceil(len(recs) / max(1, workers))))
    return [recs[i:i + size] for i in range(0, len(recs), size)]


def _cpu_seconds() -> float:
    """CPU seconds of this process and of its finished children (the incumbent route, node workers)."""
    me, kids = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return me.ru_utime + me.ru_stime + kids.ru_utime + kids.ru_stime


def _certificate(incumbent: Architecture | None, inc_obj: float, tree: list[BoxRecord], rounds: int,
                 source: str, complete: bool, exact_of: dict[tuple[str, tuple[Range, ...]], BoxRecord]
                 ) -> Certificate:
    """The proven bound: the incumbent, and for every leaf what is known of its best."""
    bound = inc_obj
    if any(b.pruned and b.cutoff is not None for b in tree):  # what tightening cut cannot reach the cutoff
        bound = max(bound, max(b.cutoff for b in tree if b.pruned and b.cutoff is not None))
    for b in tree:
        if b.status in ("split", "retried"):
            continue
        if b.status == "infeasible":
            known = b.cutoff if b.cutoff is not None else -math.inf  # nothing in it reaches the cutoff
        elif b.status == "exact":
            known = max(b.bound if b.bound is not None else math.inf, b.objective or -math.inf)
        elif b.status == "closed":
            known = b.bound
        elif b.status == "covered":  # settled when its exact solve finished (or was split: its halves cover it)
            job = exact_of.get((b.scope, tuple(tuple(d) for d in b.depths)))
            known = -math.inf if job is not None and job.status in ("exact", "infeasible", "retried") else b.bound
        else:
            known = _open_bound(b, tree)
        bound = max(bound, known if known is not None else math.inf)
    root = next((b for b in tree if b.id == "r"), None)
    return Certificate(incumbent, inc_obj if math.isfinite(inc_obj) else None, bound, tree, rounds,
                       root.bound if root else None, source, complete)


def _open_bound(b: BoxRecord, tree: list[BoxRecord]) -> float:
    """An open node is bounded by its own last solve, else by its nearest solved ancestor."""
    if b.bound is not None:
        return b.bound
    ids = {r.id: r for r in tree}
    key = b.id.rstrip("'")
    while "." in key:
        key = key.rsplit(".", 1)[0]
        parent = ids.get(key)
        if parent is not None and parent.bound is not None:
            return parent.bound
    return math.inf


def _box_json(b: BoxRecord) -> dict[str, Any]:
    d = asdict(b)
    for key in ("architecture", "start"):
        d.pop(key)
    d["size"] = b.size
    return d


def explain(result: DesignResult, max_lines: int = 60) -> str:
    """A text summary of why the design is optimal (or how far the proof got): the counts, the top of the
    tree, and every exact solve."""
    c = result.details.get("certificate", {})
    tree = result.details.get("box_tree", [])
    lines = [f"status {result.status.value}: objective {result.objective:,.4f}, proven bound "
             f"{(result.bound if result.bound is not None else math.inf):,.4f}, gap "
             f"{(result.gap if result.gap is not None else math.inf):.2e}" if result.objective is not None
             else f"status {result.status.value}",
             f"incumbent from {c.get('incumbent_source')}; root relaxation bound "
             + (f"{c['root_relaxation_bound']:,.2f}" if c.get("root_relaxation_bound") is not None else "none"),
             f"{c.get('boxes')} nodes in {c.get('rounds')} rounds, {c.get('exact_solves')} exact SCIP solves; "
             "leaves: " + ", ".join(f"{k} {v}" for k, v in (c.get("leaves") or {}).items())]
    shown = [b for b in tree if b["id"].count(".") < 3 or b["solver"].startswith("scip")]
    for b in shown[:max_lines]:
        lines.append(f"{'  ' * min(b['id'].count('.'), 8)}{b['id']} {_describe(b)}: {_box_outcome(b)}")
    if len(tree) > len(shown[:max_lines]):
        lines.append(f"... {len(tree) - len(shown[:max_lines])} more nodes in details.box_tree (--json)")
    return "\n".join(lines)


def _describe(b: dict[str, Any]) -> str:
    ranges = " ".join(f"{lo}-{hi}" if lo != hi else f"{lo}" for lo, hi in b["depths"])
    tightened = ", ranges tightened" if b.get("pruned") else ""
    return f"L[{ranges}] ({b['size']} depth vectors{tightened}, {b['wall_s']:.2f}s)"


def _box_outcome(b: dict[str, Any]) -> str:
    if b["status"] == "infeasible":
        return "nothing in it reaches the cutoff"
    if b["status"] == "closed":
        return f"bound {b['bound']:,.2f} <= cutoff"
    if b["status"] == "exact":
        return f"depth vector solved by SCIP, optimum {b['objective']:,.2f}" if b["objective"] is not None \
            else f"depth vector solved by SCIP, bound {b['bound']:,.2f}"
    if b["status"] == "covered":
        return "inside the exact solve of its depth vector"
    if b["status"] == "split":
        what = f" on {b['branch'][0]} {b['branch'][1]}" if b.get("branch") else " (to SCIP)"
        return (f"bound {b['bound']:,.2f} > cutoff: split" if b["bound"] is not None else "split") + what
    if b["status"] == "retried":
        return "SCIP ran out of time: retried"
    return "open at the time limit"

