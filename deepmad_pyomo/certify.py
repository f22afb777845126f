"""Certified designs: a proven bound and gap by branch and bound over boxes of depth vectors.

1. A strong incumbent first (the ``auto`` route, or one given).
2. The whole discrete space of depths is covered by boxes, starting from the template's ranges. A box
   is bounded by the *monotone box relaxation* (``FormulationOptions.depth_box``: depths at their upper
   bounds in the entropies, at their lower bounds in every cost, the least depth penalty over the box;
   kernel choices stay free binaries) in the ``gp`` formulation (widths continuous in log-space, every
   cost convex), tightened by FBBT with the budgets, rho and the cutoff, and solved by SCIP with the
   incumbent (plus the gap) as cutoff. A box closes when SCIP proves nothing in it beats the cutoff;
   otherwise it is split in two along its widest depth range. A single depth vector the relaxation
   cannot close is solved exactly (integer widths): its optimum, when better, becomes the incumbent.
3. Boxes of a round run in parallel, all with the cutoff of the round's start, and their results are
   merged in box order: the answer does not depend on which box finishes first. They run in local
   processes (``workers``), or as tasks on a Dask cluster (``scheduler``: its address).
"""
from __future__ import annotations

import contextlib
import math
import multiprocessing as mp
import resource
import time
from dataclasses import asdict, dataclass, field
from typing import Any, Callable

from .arch import Architecture
from .errors import DesignError
from .formulation import FormulationOptions, build_pyomo_model, decode
from .metrics import evaluate
from .problem import DesignProblem
from .result import DesignResult, Status

Box = list[tuple[int, int]]


@dataclass
class BoxRecord:
    """One node of the box tree."""

    id: str
    depths: Box
    cutoff: float | None = None     # the cutoff it was solved with
    status: str = "open"            # closed | infeasible | exact | split | retried | open
    bound: float | None = None      # SCIP's bound on the box relaxation (None: nothing above the cutoff)
    objective: float | None = None  # exact boxes: the optimum inside
    termination: str = ""
    wall_s: float = 0.0
    solver: str = "scip"
    widths: list[tuple[int, int]] = field(default_factory=list)  # width ranges after FBBT
    architecture: dict[str, Any] | None = None

    @property
    def size(self) -> int:
        return math.prod(hi - lo + 1 for lo, hi in self.depths)


def solve_box(problem: DesignProblem, rec: BoxRecord, time_limit: float, formulation: str = "natural") -> BoxRecord:
    """Bound one box (in a worker process): FBBT and SCIP on the box's ``gp`` relaxation with the cutoff;
    a single depth vector that relaxation cannot close is then solved exactly."""
    from pyomo.contrib.fbbt.fbbt import fbbt

    from .solvers import scip

    t = time.perf_counter()
    m = build_pyomo_model(problem, FormulationOptions(formulation="gp", depth_box=rec.depths, cutoff=rec.cutoff))
    try:
        fbbt(m, deactivate_satisfied_constraints=False)
    except Exception:  # noqa: BLE001 - FBBT proves the box empty
        rec.status, rec.termination, rec.wall_s = "infeasible", "fbbt", time.perf_counter() - t
        return rec
    rec.widths = [(round(math.exp(m.log_width[j].lb)), round(math.exp(m.log_width[j].ub))) for j in m.B]
    ans = scip.solve_model(m, time_limit, gap=1e-4)
    rec.termination, rec.solver = ans.termination, "scip (gp relaxation)"
    if ans.termination == "infeasible":
        rec.status, rec.wall_s = "infeasible", time.perf_counter() - t
        return rec
    rec.bound = ans.bound
    if rec.size == 1:  # the exact problem at this depth vector (integer widths, kernels free)
        exact = build_pyomo_model(problem, FormulationOptions(formulation=formulation, cutoff=rec.cutoff,
                                                              depths=[lo for lo, _ in rec.depths]))
        left = max(1.0, time_limit - (time.perf_counter() - t))
        ans = scip.solve_model(exact, left, gap=1e-6)
        rec.termination, rec.solver = ans.termination, "scip (exact)"
        if ans.termination == "infeasible":
            rec.status = "infeasible"
        else:
            if ans.bound is not None:
                rec.bound = min(rec.bound, ans.bound) if rec.bound is not None else ans.bound
            if ans.has_solution:
                arch = decode(exact)
                rec.architecture = arch.to_dict()
                rec.objective = evaluate(arch, problem.objective).objective
    rec.wall_s = time.perf_counter() - t
    return rec


class BoxRunner:
    """Where box solves run: a local process pool (``workers``) or a Dask cluster (``scheduler``).
    ``submit`` returns a function that waits up to a timeout for the box and raises ``TimeoutError``."""

    def __init__(self, workers: int = 1, scheduler: str | None = None):
        self.scheduler = scheduler
        if scheduler:
            from .distributed import cluster_client

            self._stack = contextlib.ExitStack()
            self.client = self._stack.enter_context(cluster_client(scheduler=scheduler))
            self.futures: list[Any] = []
        else:
            self.pool = mp.get_context("fork").Pool(max(1, workers))

    def submit(self, *args: Any) -> Callable[[float], BoxRecord]:
        if self.scheduler:
            fut = self.client.submit(solve_box, *args, pure=False)
            self.futures.append(fut)
            return lambda timeout: fut.result(timeout=timeout)  # raises TimeoutError
        job = self.pool.apply_async(solve_box, args)

        def get(timeout: float) -> BoxRecord:
            try:
                return job.get(timeout=timeout)
            except mp.TimeoutError:
                raise TimeoutError from None
        return get

    def close(self) -> None:
        """Stop what still runs: the pool is terminated (its SCIP solves with it); Dask tasks are cancelled
        (a box already running on a worker finishes its own time limit there)."""
        if self.scheduler:
            self.client.cancel(self.futures)
            self._stack.close()
        else:
            self.pool.terminate()


def _split(rec: BoxRecord) -> list[BoxRecord]:
    """Bisect the widest depth range (the later super-block on ties)."""
    widths = [hi - lo for lo, hi in rec.depths]
    i = max(range(len(widths)), key=lambda k: (widths[k], k))
    lo, hi = rec.depths[i]
    mid = (lo + hi) // 2
    out = []
    for n, (a, b) in enumerate(((lo, mid), (mid + 1, hi))):
        depths = list(rec.depths)
        depths[i] = (a, b)
        out.append(BoxRecord(f"{rec.id}.{n}", depths))
    return out


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
        by = {s: sum(1 for b in leaves if b.status == s) for s in ("infeasible", "closed", "exact", "open")}
        return {"bound": self.bound, "root_relaxation_bound": self.root_bound, "rounds": self.rounds,
                "boxes": len(self.boxes), "inner_solves": sum(1 for b in self.boxes if b.termination),
                "leaves": by, "complete": self.complete, "incumbent_source": self.incumbent_source,
                "closed_by": sorted({b.solver for b in leaves if b.status != "open"})}


def certify(problem: DesignProblem, time_limit: float = 120.0, gap: float = 1e-4, workers: int = 1,
            incumbent: Architecture | None = None, incumbent_time: float | None = None,
            box_time_limit: float = 20.0, formulation: str = "natural",
            progress: Callable[[str], None] | None = None, scheduler: str | None = None) -> DesignResult:
    """Design ``problem`` with a certificate: the result's ``bound`` is proven over the whole space.
    Boxes run in ``workers`` local processes, or on the Dask cluster at ``scheduler``."""
    say = progress or (lambda msg: None)
    t0, cpu0 = time.perf_counter(), _cpu_seconds()
    deadline = t0 + time_limit
    source = "given"
    if incumbent is None:
        from .design import design
        from .solvers.base import SolveOptions

        first = design(problem, "auto", SolveOptions(time_limit=incumbent_time or min(30.0, max(20.0, time_limit / 4)),
                                                     formulation=formulation), progress=say)
        incumbent, source = first.architecture, "auto"
    inc_obj = -math.inf
    if incumbent is not None:
        broken = problem.check(incumbent)
        if broken:
            raise DesignError("incumbent", "breaks " + broken[0])
        inc_obj = evaluate(incumbent, problem.objective).objective
        say(f"incumbent {inc_obj:,.2f} ({source}); proving over all depth vectors")
    root = BoxRecord("r", [tuple(st.L) for st in problem.stages])  # type: ignore[misc]
    tree: list[BoxRecord] = []
    open_boxes = [root]
    rounds = 0
    runner = BoxRunner(workers, scheduler)
    try:
        while open_boxes and time.perf_counter() < deadline - 1.0:
            rounds += 1
            cutoff = inc_obj + gap * abs(inc_obj) if math.isfinite(inc_obj) else None
            per_box = max(1.0, min(box_time_limit, deadline - time.perf_counter() - 1.0))
            for rec in open_boxes:
                rec.cutoff = cutoff
            pending = [runner.submit(problem, rec, per_box, formulation) for rec in open_boxes]
            solved, unsolved = [], []
            for rec, wait in zip(open_boxes, pending):  # in box order, whatever order they finish in
                try:
                    solved.append(wait(max(0.0, deadline + 2.0 - time.perf_counter())))
                except TimeoutError:
                    unsolved.append(rec)
            next_open: list[BoxRecord] = []
            for rec in solved:
                tree.append(rec)
                exact = rec.size == 1
                if rec.status == "infeasible":
                    continue
                if exact and rec.objective is not None and rec.termination == "optimal":
                    rec.status = "exact"
                    if rec.objective > inc_obj:
                        incumbent, inc_obj, source = Architecture.from_dict(rec.architecture), rec.objective, \
                            f"box {rec.id}"
                        say(f"new incumbent {inc_obj:,.2f} from box {rec.id} L={[lo for lo, _ in rec.depths]}")
                    continue
                if rec.bound is not None and cutoff is not None and rec.bound <= cutoff:
                    rec.status = "closed"
                elif exact:
                    rec.status = "retried"  # SCIP ran out of time on a single depth vector: retry with the time left
                    next_open.append(BoxRecord(rec.id + "'", rec.depths))
                else:
                    rec.status = "split"
                    next_open.extend(_split(rec))
            say(f"round {rounds}: {len(solved)} boxes solved, {len(next_open) + len(unsolved)} open, "
                f"incumbent {inc_obj:,.2f}, {time.perf_counter() - t0:.1f}s")
            open_boxes = next_open + unsolved
            if unsolved:
                break
    finally:
        runner.close()  # stops SCIP solves still running at the time limit
    for rec in open_boxes:
        rec.status = "open"
        tree.append(rec)
    cert = _certificate(incumbent, inc_obj, tree, rounds, source, not open_boxes)
    wall = time.perf_counter() - t0
    m = evaluate(incumbent, problem.objective) if incumbent is not None else None
    status = Status.OPTIMAL if cert.complete and incumbent is not None else \
        Status.INFEASIBLE if cert.complete else Status.TIME_LIMIT
    where = f"Dask at {scheduler}" if scheduler else f"{workers} worker{'s' if workers > 1 else ''}"
    result = DesignResult(problem=problem.name, mode=problem.mode, solver=f"certify(scip, {where})",
                          status=status, architecture=incumbent.with_(name=problem.name) if incumbent else None,
                          objective=m.objective if m else None, bound=cert.bound if math.isfinite(cert.bound) else None,
                          time_s=wall, cpu_s=_cpu_seconds() - cpu0, metrics=m.to_dict() if m else {},
                          message="" if cert.complete else f"{len(open_boxes)} boxes still open at the time limit",
                          details={"certificate": cert.summary(),
                                   "box_tree": [_box_json(b) for b in tree]})
    if result.status == Status.OPTIMAL and result.gap is not None and result.gap > gap * (1 + 1e-9):
        result.status = Status.FEASIBLE
    return result


def _cpu_seconds() -> float:
    """CPU seconds of this process and of its finished children (the incumbent route, box workers)."""
    me, kids = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return me.ru_utime + me.ru_stime + kids.ru_utime + kids.ru_stime


def _certificate(incumbent: Architecture | None, inc_obj: float, tree: list[BoxRecord], rounds: int,
                 source: str, complete: bool) -> Certificate:
    """The proven bound: the incumbent, and for every leaf box what is known of its best."""
    bound = inc_obj
    for b in tree:
        if b.status in ("split", "retried"):
            continue
        if b.status == "infeasible":
            known = b.cutoff if b.cutoff is not None else -math.inf  # nothing in the box reaches the cutoff
        elif b.status == "exact":
            known = b.objective if b.objective is not None else math.inf
        elif b.status == "closed":
            known = b.bound
        else:
            known = _open_bound(b, tree)
        bound = max(bound, known if known is not None else math.inf)
    root = next((b for b in tree if b.id == "r"), None)
    return Certificate(incumbent, inc_obj if math.isfinite(inc_obj) else None, bound, tree, rounds,
                       root.bound if root else None, source, complete)


def _open_bound(b: BoxRecord, tree: list[BoxRecord]) -> float:
    """An open box is bounded by its own last solve, else by its nearest solved ancestor."""
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
    d.pop("architecture")
    d["size"] = b.size
    return d


def explain(result: DesignResult) -> str:
    """A text summary of why the design is optimal (or how far the proof got)."""
    c = result.details.get("certificate", {})
    tree = result.details.get("box_tree", [])
    lines = [f"status {result.status.value}: objective {result.objective:,.4f}, proven bound "
             f"{(result.bound if result.bound is not None else math.inf):,.4f}, gap "
             f"{(result.gap if result.gap is not None else math.inf):.2e}" if result.objective is not None
             else f"status {result.status.value}",
             f"incumbent from {c.get('incumbent_source')}; root box relaxation bound "
             + (f"{c['root_relaxation_bound']:,.2f}" if c.get("root_relaxation_bound") is not None else "none"),
             f"{c.get('boxes')} boxes in {c.get('rounds')} rounds, {c.get('inner_solves')} SCIP solves; leaves: "
             + ", ".join(f"{k} {v}" for k, v in (c.get("leaves") or {}).items())]
    for b in tree:
        depth = b["id"].count(".")
        ranges = " ".join(f"{lo}-{hi}" if lo != hi else f"{lo}" for lo, hi in b["depths"])
        what = _box_outcome(b)
        lines.append(f"{'  ' * depth}{b['id']} L[{ranges}] ({b['size']} vectors, {b['wall_s']:.1f}s): {what}")
    return "\n".join(lines)


def _box_outcome(b: dict[str, Any]) -> str:
    if b["status"] == "infeasible":
        return "nothing in it reaches the cutoff"
    if b["status"] == "closed":
        return f"bound {b['bound']:,.2f} <= cutoff"
    if b["status"] == "exact":
        return f"single depth vector, optimum {b['objective']:,.2f}"
    if b["status"] == "split":
        return f"bound {b['bound']:,.2f} > cutoff: split" if b["bound"] is not None else "split"
    if b["status"] == "retried":
        return "SCIP ran out of time: retried"
    return "open at the time limit"
