"""Decomposition over depths: the routes ``auto`` and ``ipopt`` (heuristics; auto's quick designs are also
the certify route's first incumbent).

1. Ipopt on the continuous relaxation gives fractional depths (a local point, not a bound).
2. ``auto`` only: a hill-climb over integer depth vectors, each scored by Ipopt with the depths fixed
   and the widths relaxed (one compiled NLP, re-solved with other bounds: ~0.05 s a vector).
3. Quick designs: for the best depth vectors, SCIP on the exact problem (depths and kernel sizes fixed,
   widths and bottlenecks integer) with each width kept within 5% (then 15%) of its relaxed value: a
   small MINLP, solved in well under a second (a relaxation-induced neighbourhood). Until one design is
   found, a vector with none near it is tried once more with its kernel sizes free.
4. The best of them is re-solved in full, warm-started, with its kernel sizes and then with kernels free.
   Without a quick design, the candidates are solved in full (kernels fixed, then free).

Work limits decide the answer (depth vectors scored, Ipopt iterations, SCIP nodes), so the same problem
gives the same design on a quiet machine and a loaded one; the time limit is only a safety net. Steps 2 and 3
hand their solves to a task runner (``tasks``; here, in order, by default; ``certify`` runs them on its
workers): depth vectors in chunks, neighbourhoods in batches of a fixed size, each batch looking for designs
better than the best before it, so the answer does not depend on who runs them.
"""
from __future__ import annotations

import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from ...mp.formulation import (
    FormulationOptions,
    build_pyomo_model,
    decode,
    load_architecture,
)
from ...space.arch import Architecture
from ...space.metrics import evaluate
from ...space.problem import DesignProblem
from .. import profiles
from ..backends import scip
from ..backends.answer import SolverAnswer, Termination
from ..backends.casadi import CasadiSolver
from ..backends.casadi import version as casadi_version
from ..options import SolveOptions
from ..results import Status
from ..route import Outcome, Reporter, RouteKind, register

Depths = tuple[int, ...]
CANDIDATES = 6      # depth vectors (best relaxed values) tried for a quick design
MAX_SCORED = 400    # depth vectors the hill-climb may score (each one Ipopt solve, ~0.05 s)
SCORE_CHUNK = 8     # depth vectors scored per task
QUICK_NODES = 1000  # SCIP nodes for one neighbourhood solve (they take tens)
POLISH_NODES = 2000  # SCIP nodes for each full solve at the end
QUICK_SAFETY_S = 10.0  # wall-clock safety net of one neighbourhood solve
# neighbourhoods of the relaxed widths (relative), tried in turn until one holds a design: with the kernel
# sizes the relaxation prefers, then, while no design is known, with kernels free (deepmad-r34 tinynas: the
# optimum's depth vector has no design near its relaxed widths with the preferred kernels; with them free,
# one 4e-5 below the optimum)
QUICK_TRIES = ((0.05, True), (0.15, True), (0.15, False))  # (radius, kernels fixed)


@dataclass(frozen=True)
class Neighbourhood:
    """Where a quick design looks: depths ``depths``; each integer width and bottleneck near ``relaxed``
    (units at the relaxed point there, per variable name and block); ``kernels``, the sizes it prefers."""

    depths: Depths
    relaxed: dict[str, dict[int, float]]
    kernels: list[int]

    def restrict(self, m: Any, radius: float) -> None:
        """Bound ``m``'s integer widths to within ``radius`` (relative) and one step of the relaxed point."""
        for name, values in self.relaxed.items():
            theirs = getattr(m, name, None)
            for j, x in values.items():
                var = theirs[j] if theirs is not None else None
                if var is not None and not var.fixed:
                    var.setlb(max(var.lb, math.floor(x * (1 - radius)) - 1))
                    var.setub(max(var.lb, min(var.ub, math.ceil(x * (1 + radius)) + 1)))


@dataclass
class Attempt:
    """One SCIP solve at depths ``depths`` (``kernels`` fixed, or free when None; widths within ``radius`` of
    the relaxation, when given), its answer and the design it found."""

    depths: Depths
    kernels: list[int] | None
    radius: float | None
    answer: SolverAnswer
    design: Architecture | None


def solve_at(problem: DesignProblem, formulation: str, d: Depths, kernels: list[int] | None, nodes: int,
             time_limit: float, gap: float, cutoff: float | None = None,
             near: tuple[Neighbourhood, float] | None = None, warm: Architecture | None = None,
             tee: bool = False) -> Attempt:
    """SCIP on the exact problem at depths ``d`` (and ``kernels``, when given; above ``cutoff``, when given;
    widths within the radius of the neighbourhood ``near``, when given; from ``warm``, when given) for at
    most ``nodes`` nodes."""
    m = build_pyomo_model(problem, FormulationOptions(formulation=formulation, depths=list(d), kernels=kernels,
                                                      cutoff=cutoff))
    if near is not None:
        near[0].restrict(m, near[1])
    if warm is not None:
        load_architecture(m, warm)
    ans = scip.solve_model(m, time_limit, gap, warm_start=warm is not None, node_limit=nodes, tee=tee)
    return Attempt(d, kernels, near[1] if near else None, ans, decode(m) if ans.has_solution else None)


def quick_design(problem: DesignProblem, formulation: str, hood: Neighbourhood, cutoff: float | None,
                 kernels_free: bool, time_limit: float, gap: float, nodes: int = QUICK_NODES,
                 tee: bool = False) -> list[Attempt]:
    """Step 3 at one depth vector: SCIP in ``hood`` for at most ``nodes`` nodes with each of :data:`QUICK_TRIES`
    in turn (those with kernels free only when ``kernels_free``) until one is not infeasible; a design must
    beat ``cutoff``. A task of its own (it may run in another process)."""
    attempts: list[Attempt] = []
    end = time.perf_counter() + time_limit
    for radius, fixed in QUICK_TRIES:
        left = min(QUICK_SAFETY_S, end - time.perf_counter())
        if (not fixed and not kernels_free) or left < 0.5:
            break
        attempts.append(solve_at(problem, formulation, hood.depths, hood.kernels if fixed else None, nodes,
                                 left, gap, cutoff, near=(hood, radius), tee=tee))
        if attempts[-1].answer.termination != Termination.INFEASIBLE:
            break
    return attempts


Tasks = Callable[[Callable[..., Any], Sequence[tuple[Any, ...]]], list[Any]]


def in_turn(fn: Callable[..., Any], tasks: Sequence[tuple[Any, ...]]) -> list[Any]:
    """Run ``fn`` on each task's arguments, here, in order."""
    return [fn(*args) for args in tasks]


class DepthProxy:
    """Ipopt's value of the relaxation with the super-block depths fixed to integers (cached)."""

    def __init__(self, problem: DesignProblem, opts: SolveOptions, time_limit: float,
                 options: dict[str, Any] | None = None):
        # what builds the same proxy in another process (:func:`score_depths`)
        self.recipe = (problem, opts.formulation, opts.tee, time_limit, tuple(sorted((options or {}).items())))
        # log(sum z k^2) leads Ipopt to better local optima than the linear form exact solvers prefer
        self.model = build_pyomo_model(problem, FormulationOptions(formulation=opts.formulation, relax=True,
                                                                   linear_kernel_log=False))
        self.solver = CasadiSolver(self.model, "ipopt", time_limit=time_limit, options=options, tee=opts.tee)
        m = self.model
        self.depth_idx = [self.solver.index[id(m.depth[j])] for j in m.SB]
        self.bounds = [(int(m.depth[j].lb), int(m.depth[j].ub)) for j in m.SB]
        self.cache: dict[Depths, tuple[float, list[float] | None]] = {}
        self.x: list[float] | None = None

    def relaxation(self) -> tuple[float | None, list[float] | None]:
        global _SCORER
        res, xs = self.solver.solve()
        self.x = xs
        _SCORER = self  # processes forked from now on score with it (:func:`score_depths`)
        return res.objective, xs

    def score(self, ds: list[Depths], tasks: Tasks = in_turn, time_limit: float = math.inf) -> None:
        """Score the depth vectors of ``ds`` not scored yet, in tasks of :data:`SCORE_CHUNK` run by ``tasks``
        (here, in order, by default): each value depends only on its vector, so not on who scores it. A task
        scores no more after ``time_limit`` seconds (a safety net: those vectors stay unscored)."""
        fresh = [d for d in dict.fromkeys(ds) if d not in self.cache]
        chunks = [fresh[i:i + SCORE_CHUNK] for i in range(0, len(fresh), SCORE_CHUNK)]
        answers = tasks(score_depths, [(self.recipe, chunk, time_limit) for chunk in chunks])
        for chunk, values in zip(chunks, answers):
            self.cache.update(zip(chunk, values))

    def __call__(self, d: Depths) -> float:
        if d not in self.cache:
            lbx, ubx = list(self.solver.nlp.lbx), list(self.solver.nlp.ubx)
            for i, v in zip(self.depth_idx, d):
                lbx[i] = ubx[i] = float(v)
            res, xs = self.solver.solve(self.x, lbx, ubx)
            self.cache[d] = (res.objective if res.has_solution else -math.inf, xs)
        return self.cache[d][0]

    def neighbourhood(self, d: Depths) -> Neighbourhood:
        """Where a quick design at depths ``d`` looks: the relaxed point's width and bottleneck units there
        and the kernel sizes it prefers."""
        xs = self.cache[d][1] or self.x
        relaxed: dict[str, dict[int, float]] = {}
        for name in ("width_units", "btn_units"):
            ours = getattr(self.model, name, None)
            if ours is not None:
                relaxed[name] = {j: xs[self.solver.index[id(var)]] for j, var in ours.items()
                                 if id(var) in self.solver.index}
        return Neighbourhood(d, relaxed, self.kernels(d))

    def clip(self, d: list[float]) -> Depths:
        return tuple(min(hi, max(lo, int(round(v)))) for v, (lo, hi) in zip(d, self.bounds))

    def neighbours(self, d: Depths) -> list[Depths]:
        out = []
        n = len(d)
        for i in range(n):
            for step in (-1, 1):
                out.append(d[:i] + (d[i] + step,) + d[i + 1:])
            for j in range(n):
                if i != j:
                    e = list(d)
                    e[i] += 1
                    e[j] -= 1
                    out.append(tuple(e))
        return [e for e in out if all(lo <= v <= hi for v, (lo, hi) in zip(e, self.bounds))]

    def kernels(self, d: Depths) -> list[int]:
        """Each block's kernel size with the largest relaxed choice value at depths ``d``."""
        xs = self.cache[d][1] or self.x
        m = self.model
        idx = self.solver.index
        out = []
        for j in m.B:
            ks = [k for (jj, k) in m.KC if jj == j]
            out.append(max(ks, key=lambda k: xs[idx[id(m.kernel[j, k])]] if id(m.kernel[j, k]) in idx
                           else m.kernel[j, k].value))
        return out


def hill_climb(proxy: DepthProxy, start: Depths, deadline: float, rep: Reporter, tasks: Tasks = in_turn) -> Depths:
    """Steepest ascent over depth vectors (one step, or one block moved between super-blocks) until no
    neighbour is better or :data:`MAX_SCORED` vectors are scored (``deadline``: a safety net); each step's
    neighbours are scored by ``tasks`` (:meth:`DepthProxy.score`)."""
    best, value = start, proxy(start)
    while time.perf_counter() < deadline:
        neighbours = proxy.neighbours(best)
        fresh = [e for e in neighbours if e not in proxy.cache]
        proxy.score(fresh[:max(0, MAX_SCORED - len(proxy.cache))], tasks, deadline - time.perf_counter())
        scored = [(proxy.cache[e][0], e) for e in neighbours if e in proxy.cache]
        if not scored:
            break
        v, e = max(scored)
        if v <= value + 1e-9:
            break
        best, value = e, v
        rep.progress(f"depth search: {value:,.2f} (relaxed widths) at L={list(best)}")
    return best


_SCORER: DepthProxy | None = None  # the proxy whose relaxation was solved last in this process


def score_depths(recipe: tuple[Any, ...], ds: list[Depths], time_limit: float = math.inf
                 ) -> list[tuple[float, list[float] | None]]:
    """The proxy's value and point at each of ``ds`` (a task), until ``time_limit`` seconds have passed: by
    the proxy this process inherited, or one built here from ``recipe``."""
    end = time.perf_counter() + time_limit
    proxy = _SCORER if _SCORER is not None and _SCORER.recipe == recipe else None
    if proxy is None:
        problem, formulation, tee, limit, options = recipe
        proxy = DepthProxy(problem, SolveOptions(formulation=formulation, tee=tee), limit, dict(options))
        proxy.relaxation()
    out = []
    for d in ds:
        if time.perf_counter() >= end:
            break
        proxy(d)
        out.append(proxy.cache[d])
    return out


class DepthDecomposition:
    """One run of the ``auto`` route (``search``: hill-climb over depth vectors) or the ``ipopt`` route
    (the rounded relaxation and its neighbours): the steps of the module docstring, sharing the proxy,
    the designs found so far and the record of every exact solve."""

    def __init__(self, problem: DesignProblem, opts: SolveOptions, rep: Reporter, search: bool,
                 polish: bool = True, batch: int = 1, tasks: Tasks = in_turn, quick_nodes: int = QUICK_NODES):
        self.problem, self.opts, self.rep, self.search, self.polish = problem, opts, rep, search, polish
        # quick designs: batches of ``batch`` run by ``tasks``, ``quick_nodes`` SCIP nodes each
        self.batch, self.tasks, self.quick_nodes = batch, tasks, quick_nodes
        self.t0 = time.perf_counter()
        self.deadline = self.t0 + opts.time_limit
        # the ipopt route's profile; auto has none of its own (its Ipopt solves take ipopt's default)
        self.ipopt_options = profiles.settings("ipopt", profiles.DEFAULT if search else opts.profile)
        self.proxy = DepthProxy(problem, opts, time_limit=max(1.0, opts.time_limit / 4), options=self.ipopt_options)
        self.archs: list[Architecture] = [opts.warm_start] if opts.warm_start is not None else []
        self.tried: list[dict[str, Any]] = []  # every exact solve, for the diagnostics

    def run(self) -> Outcome:
        relax_value, xs = self.proxy.relaxation()
        if xs is None:
            if self.archs:  # the warm start (Ipopt may run out of its share of a short time limit)
                return Outcome(Status.FEASIBLE, self.archs, message="Ipopt found no point of the continuous "
                               "relaxation: the warm start is returned")
            return Outcome(Status.ERROR, message="Ipopt found no point of the continuous relaxation "
                           "(the problem may be infeasible)")
        self.rep.progress(f"Ipopt on the continuous relaxation: {relax_value:,.2f} (a local optimum, not a bound)")
        ranked = self.candidates(self.proxy.clip([xs[i] for i in self.proxy.depth_idx]))
        self.quick_designs(ranked)
        if self.polish or self.best_so_far() is None:
            self.full_solves(ranked)
        diagnostics: dict[str, Any] = {"relaxation": relax_value, "depth_vectors_scored": len(self.proxy.cache),
                                       "exact_solves": self.tried, "profile": self.opts.profile,
                                       "solver_options": {"ipopt": self.ipopt_options}}
        if not self.archs:
            ends = sorted({str(s["scip"]) for s in self.tried}) or ["no time left for SCIP"]
            return Outcome(Status.ERROR, diagnostics=diagnostics,
                           message=f"no feasible design at the {len(ranked)} most promising depth vectors "
                           f"({len(self.tried)} SCIP solves: {', '.join(ends)}); the problem may be infeasible "
                           "or need more work")
        return Outcome(Status.FEASIBLE, self.archs, diagnostics=diagnostics)

    def candidates(self, start: Depths) -> list[Depths]:
        """The depth vectors to design at, best relaxed value first (those with a relaxed point only)."""
        proxy = self.proxy
        if self.search:
            best = hill_climb(proxy, start, self.t0 + 0.5 * self.opts.time_limit, self.rep, self.tasks)
            ranked = [best] + [d for d in sorted(proxy.cache, key=lambda d: -proxy.cache[d][0])[:CANDIDATES]
                               if d != best]
        else:
            proxy(start)
            ranked = [start] + sorted(proxy.neighbours(start), key=lambda e: -proxy(e))[:3]
        return [d for d in ranked if proxy.cache[d][0] > -math.inf]

    def quick_designs(self, ranked: list[Depths]) -> None:
        """Step 3: each candidate's integer widths near its relaxed point (:func:`quick_design`), until the
        relaxed values of the rest are below the best design. The candidates go in batches of ``batch`` tasks
        (run by ``tasks``), each looking for designs better than the best before its batch; while none is
        known, the first of a batch also tries kernels free."""
        queue = list(ranked)
        while queue:
            best = self.best_so_far()
            cutoff = self.value(best) if best is not None else None
            batch: list[Depths] = []
            while queue and len(batch) < self.batch and (cutoff is None or self.proxy.cache[queue[0]][0] > cutoff):
                batch.append(queue.pop(0))
            left = self.deadline - time.perf_counter()
            if not batch or left < 0.5:
                return
            args = [(self.problem, self.opts.formulation, self.proxy.neighbourhood(d), cutoff, best is None and n == 0,
                     left, self.opts.gap, self.quick_nodes, self.opts.tee) for n, d in enumerate(batch)]
            for attempts in self.tasks(quick_design, args):
                for attempt in attempts:
                    self.keep(attempt, cutoff)

    def full_solves(self, ranked: list[Depths]) -> None:
        """Step 4: the best design's depth vector solved in full, warm-started: with its kernel sizes, then
        with kernels free (each for :data:`POLISH_NODES` nodes: on the inverted-residual families SCIP
        seldom closes the full problem); with no quick design, the candidates are solved in full."""
        incumbent = self.best_so_far()
        if incumbent is None:
            for d in ranked:
                if self.exact(d, self.proxy.kernels(d), POLISH_NODES) == Termination.OPTIMAL and not self.search:
                    break
        elif self.search:
            self.exact(_depths(incumbent), [b.k for b in incumbent.blocks], POLISH_NODES, warm=incumbent)
        incumbent = self.best_so_far()
        if incumbent is not None:
            self.exact(_depths(incumbent), None, POLISH_NODES, warm=incumbent)

    def value(self, arch: Architecture) -> float:
        return evaluate(arch, self.problem.objective).objective

    def best_so_far(self) -> Architecture | None:
        return max(self.archs, key=self.value) if self.archs else None

    def exact(self, d: Depths, kernels: list[int] | None, nodes: int, warm: Architecture | None = None
              ) -> Termination | None:
        """A full solve (:func:`solve_at`) at depths ``d``, here. Its termination, or ``None`` when no time is
        left."""
        left = self.deadline - time.perf_counter()
        if left < 0.5:
            return None
        attempt = solve_at(self.problem, self.opts.formulation, d, kernels, nodes, left, self.opts.gap, warm=warm,
                           tee=self.opts.tee)
        self.keep(attempt, None)
        return attempt.answer.termination

    def keep(self, attempt: Attempt, cutoff: float | None) -> None:
        """Note an exact solve (``cutoff``: the value its designs had to beat) and keep its design."""
        ans, d, kernels, radius = attempt.answer, attempt.depths, attempt.kernels, attempt.radius
        self.tried.append({"depths": list(d), "kernels": kernels or "free", "radius": radius,
                           "relaxed": self.proxy.cache[d][0], "scip": ans.describe(), "objective": ans.objective,
                           "nodes": ans.nodes, "wall_s": round(ans.wall_s, 2)})
        where = f"SCIP at L={list(d)}" + (f", widths within {radius:.0%} of the relaxation" if radius else "") \
            + (", kernels fixed" if kernels else ", kernels free")
        if attempt.design is not None:
            self.record(attempt.design, where, ans)
        else:
            self.rep.progress(f"{where}: no {'better ' if cutoff is not None else ''}design ({ans.describe()})")

    def record(self, arch: Architecture, where: str, ans: SolverAnswer) -> None:
        """Keep a design; report it as an incumbent when it beats the best so far."""
        before = self.best_so_far()
        self.archs.append(arch)
        value = self.value(arch)
        if before is None or value > self.value(before) + 1e-9:
            self.rep.incumbent(arch, value, where)
        else:
            self.rep.progress(f"{where}: {value:,.2f} ({ans.describe()}), not better")


def _depths(arch: Architecture) -> Depths:
    return tuple(b.L for b in arch.super_blocks)


def casadi_and_scip_version() -> str | None:
    """Both solvers ``auto`` and ``ipopt`` use, when both are here."""
    a, b = casadi_version(), scip.version()
    return f"{a}; {b}" if a and b else None


@register("auto", RouteKind.DECOMPOSITION,
          "Ipopt relaxation, hill-climb over integer depth vectors scored by Ipopt, SCIP on the exact problem near "
          "the best ones' relaxed widths, then a warm-started full solve (a good design "
          "within seconds; no optimality proof)", install="pip install casadi pyscipopt", probe=casadi_and_scip_version)
def run_auto(problem: DesignProblem, opts: SolveOptions, rep: Reporter) -> Outcome:
    return DepthDecomposition(problem, opts, rep, search=True).run()


@register("ipopt", RouteKind.LOCAL,
          "Ipopt (casadi wheel) on the continuous relaxation, then depths rounded and the widths solved exactly "
          "by SCIP", install="pip install casadi pyscipopt", probe=casadi_and_scip_version)
def run_ipopt(problem: DesignProblem, opts: SolveOptions, rep: Reporter) -> Outcome:
    return DepthDecomposition(problem, opts, rep, search=False).run()
