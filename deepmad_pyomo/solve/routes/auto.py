"""Decomposition over depths: the routes ``auto`` (the default) and ``ipopt``.

1. Ipopt on the continuous relaxation gives fractional depths (a local point, not a bound).
2. ``auto`` only: a hill-climb over integer depth vectors, each scored by Ipopt with the depths fixed
   and the widths relaxed (one compiled NLP, re-solved with other bounds: ~0.05 s a vector).
3. Quick designs: for the best depth vectors, SCIP on the exact problem (depths and kernel sizes fixed,
   widths and bottlenecks integer) with each width kept within 5% (then 15%) of its relaxed value: a
   small MINLP, solved in well under a second (a relaxation-induced neighbourhood).
4. The best of them is re-solved in full, warm-started, with its kernel sizes and then with kernels free
   (each for a share of the time limit). Without a quick design, the candidates are solved in full
   (kernels fixed, then free).
"""
from __future__ import annotations

import math
import time
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
from ..backends import scip
from ..backends.casadi import CasadiSolver
from ..base import Outcome, Reporter, SolveOptions
from ..results import Status

Depths = tuple[int, ...]
CANDIDATES = 6      # depth vectors (best relaxed values) tried for a quick design
QUICK_LIMIT = 3.0   # seconds of SCIP for one neighbourhood solve
RADII = (0.05, 0.15)  # neighbourhoods of the relaxed widths (relative), tried in turn
POLISH_MIN, POLISH_SHARE = 5.0, 0.2  # each full solve at the end: at most this share of the time limit


class DepthProxy:
    """Ipopt's value of the relaxation with the super-block depths fixed to integers (cached)."""

    def __init__(self, problem: DesignProblem, opts: SolveOptions, time_limit: float):
        # log(sum z k^2) leads Ipopt to better local optima than the linear form exact solvers prefer
        self.model = build_pyomo_model(problem, FormulationOptions(formulation=opts.formulation, relax=True,
                                                                   linear_kernel_log=False))
        self.solver = CasadiSolver(self.model, "ipopt", time_limit=time_limit)
        m = self.model
        self.depth_idx = [self.solver.index[id(m.depth[j])] for j in m.SB]
        self.bounds = [(int(m.depth[j].lb), int(m.depth[j].ub)) for j in m.SB]
        self.cache: dict[Depths, tuple[float, list[float] | None]] = {}
        self.x: list[float] | None = None

    def relaxation(self) -> tuple[float | None, list[float] | None]:
        res, xs = self.solver.solve()
        self.x = xs
        return res.objective, xs

    def __call__(self, d: Depths) -> float:
        if d not in self.cache:
            lbx, ubx = list(self.solver.nlp.lbx), list(self.solver.nlp.ubx)
            for i, v in zip(self.depth_idx, d):
                lbx[i] = ubx[i] = float(v)
            res, xs = self.solver.solve(self.x, lbx, ubx)
            self.cache[d] = (res.objective if res.has_solution else -math.inf, xs)
        return self.cache[d][0]

    def restrict(self, m: Any, d: Depths, radius: float) -> None:
        """Bound ``m``'s integer widths to within ``radius`` (relative) and one step of the relaxed point
        at depths ``d``."""
        xs = self.cache[d][1] or self.x
        for name in ("width_units", "btn_units"):
            ours, theirs = getattr(self.model, name, None), getattr(m, name, None)
            if ours is None or theirs is None:
                return
            for j, var in theirs.items():
                if not var.fixed and id(ours[j]) in self.solver.index:
                    x = xs[self.solver.index[id(ours[j])]]
                    var.setlb(max(var.lb, math.floor(x * (1 - radius)) - 1))
                    var.setub(max(var.lb, min(var.ub, math.ceil(x * (1 + radius)) + 1)))

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


def hill_climb(proxy: DepthProxy, start: Depths, deadline: float, rep: Reporter) -> Depths:
    best, value = start, proxy(start)
    while time.perf_counter() < deadline:
        scored = []
        for e in proxy.neighbours(best):
            if time.perf_counter() >= deadline:
                break
            scored.append((proxy(e), e))
        if not scored:
            break
        v, e = max(scored)
        if v <= value + 1e-9:
            break
        best, value = e, v
        rep.progress(f"depth search: {value:,.2f} (relaxed widths) at L={list(best)}")
    return best


def run(problem: DesignProblem, opts: SolveOptions, rep: Reporter, search: bool = True) -> Outcome:
    t0 = time.perf_counter()
    deadline = t0 + opts.time_limit
    proxy = DepthProxy(problem, opts, time_limit=max(1.0, opts.time_limit / 4))
    relax_value, xs = proxy.relaxation()
    if xs is None:
        return Outcome(Status.ERROR, message="Ipopt found no point of the continuous relaxation "
                       "(the problem may be infeasible)")
    rep.progress(f"Ipopt on the continuous relaxation: {relax_value:,.2f} (a local optimum, not a bound)")
    start = proxy.clip([xs[i] for i in proxy.depth_idx])
    if search:
        best = hill_climb(proxy, start, t0 + 0.3 * opts.time_limit, rep)
        ranked = [best] + [d for d in sorted(proxy.cache, key=lambda d: -proxy.cache[d][0])[:CANDIDATES] if d != best]
    else:
        proxy(start)
        ranked = [start] + sorted(proxy.neighbours(start), key=lambda e: -proxy(e))[:3]
    ranked = [d for d in ranked if proxy.cache[d][0] > -math.inf]
    archs: list[Architecture] = [opts.warm_start] if opts.warm_start is not None else []
    tried: list[dict[str, Any]] = []
    polish = max(POLISH_MIN, POLISH_SHARE * opts.time_limit)

    def best_so_far() -> Architecture | None:
        return max(archs, key=lambda a: evaluate(a, problem.objective).objective) if archs else None

    def exact(d: Depths, kernels: list[int] | None, limit: float, radius: float | None = None,
              warm: Architecture | None = None) -> str:
        left = min(limit, deadline - time.perf_counter())
        if left < 0.5:
            return "no time"
        m = build_pyomo_model(problem, FormulationOptions(formulation=opts.formulation, depths=list(d),
                                                          kernels=kernels))
        if radius is not None:
            proxy.restrict(m, d, radius)
        if warm is not None:
            load_architecture(m, warm)
        ans = scip.solve_model(m, left, opts.gap, warm_start=warm is not None)
        tried.append({"depths": list(d), "kernels": kernels or "free", "radius": radius,
                      "relaxed": proxy.cache[d][0], "scip": ans.termination, "objective": ans.objective,
                      "wall_s": round(ans.wall_s, 2)})
        where = f"SCIP at L={list(d)}" + (f", widths within {radius:.0%} of the relaxation" if radius
                                           else ", kernels fixed" if kernels else ", kernels free")
        if not ans.has_solution:
            rep.progress(f"{where}: no design ({ans.termination})")
            return ans.termination
        before = best_so_far()
        arch = decode(m)
        archs.append(arch)
        value = evaluate(arch, problem.objective).objective
        if before is None or value > evaluate(before, problem.objective).objective + 1e-9:
            rep.incumbent(arch, value, where)
        else:
            rep.progress(f"{where}: {value:,.2f} ({ans.termination}), not better")
        return ans.termination

    # 1. quick designs: each candidate's integer widths near its relaxed point
    for d in ranked:
        incumbent = best_so_far()
        if incumbent is not None and proxy.cache[d][0] <= evaluate(incumbent, problem.objective).objective:
            break  # the relaxed value of the rest is below what we have
        for radius in RADII:
            if exact(d, proxy.kernels(d), QUICK_LIMIT, radius) != "infeasible":
                break
    # 2. the best design's depth vector solved in full, warm-started: with its kernel sizes, then with
    #    kernels free (each for a share of the time: on the inverted-residual families SCIP seldom closes
    #    the full problem); with no quick design, the candidates are solved in full
    incumbent = best_so_far()
    if incumbent is None:
        for d in ranked:
            if exact(d, proxy.kernels(d), math.inf) == "optimal" and not search:
                break
    elif search:
        exact(tuple(b.L for b in incumbent.super_blocks), [b.k for b in incumbent.blocks], polish, warm=incumbent)
    incumbent = best_so_far()
    if incumbent is not None:
        exact(tuple(b.L for b in incumbent.super_blocks), None, polish, warm=incumbent)
    details: dict[str, Any] = {"relaxation": relax_value, "depth_vectors_scored": len(proxy.cache),
                               "exact_solves": tried}
    if not archs:
        return Outcome(Status.ERROR, message="no depth vector gave a feasible architecture in the time limit",
                       details=details)
    return Outcome(Status.FEASIBLE, archs, details=details)


def run_auto(problem: DesignProblem, opts: SolveOptions, rep: Reporter) -> Outcome:
    return run(problem, opts, rep, search=True)


def run_ipopt(problem: DesignProblem, opts: SolveOptions, rep: Reporter) -> Outcome:
    return run(problem, opts, rep, search=False)
