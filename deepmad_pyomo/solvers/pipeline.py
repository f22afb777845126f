"""Decomposition over depths: the routes ``auto`` (the default) and ``ipopt``.

1. Ipopt on the continuous relaxation gives fractional depths (a local point, not a bound).
2. ``auto`` only: a hill-climb over integer depth vectors, each scored by Ipopt with the depths fixed
   and the widths relaxed (one compiled NLP, re-solved with other bounds: ~0.05 s a vector).
3. The best depth vectors are solved exactly by SCIP (depths and kernel sizes fixed, widths and
   bottlenecks integer): a verified architecture each.
"""
from __future__ import annotations

import math
import time
from typing import Any

from ..formulation import FormulationOptions, build_pyomo_model, decode
from ..metrics import evaluate
from ..problem import DesignProblem
from ..result import Status
from . import scip
from .base import Outcome, Reporter, SolveOptions
from .casadi_nlp import CasadiSolver

Depths = tuple[int, ...]


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
    candidates = [start]
    if search:
        best = hill_climb(proxy, start, t0 + 0.4 * opts.time_limit, rep)
        candidates = sorted(proxy.cache, key=lambda d: -proxy.cache[d][0])[:4]
        candidates = [best] + [d for d in candidates if d != best]
    else:
        proxy(start)
        if proxy.cache[start][0] == -math.inf:  # rounding broke a constraint: try the nearest others
            candidates += sorted(proxy.neighbours(start), key=lambda e: -proxy(e))[:3]
    archs, tried = [], []

    def exact(d: Depths, kernels: list[int] | None) -> bool:
        left = deadline - time.perf_counter()
        if left < 1.0:
            return False
        m = build_pyomo_model(problem, FormulationOptions(formulation=opts.formulation, depths=list(d),
                                                          kernels=kernels))
        ans = scip.solve_model(m, left, opts.gap)
        tried.append({"depths": list(d), "kernels": kernels or "free", "relaxed": proxy.cache[d][0],
                      "scip": ans.termination, "objective": ans.objective, "wall_s": round(ans.wall_s, 2)})
        if ans.has_solution:
            arch = decode(m)
            archs.append(arch)
            rep.incumbent(arch, evaluate(arch, problem.objective).objective,
                          f"SCIP at L={list(d)}" + ("" if kernels else ", kernels free"))
        return ans.has_solution

    # kernels fixed to the relaxation's choice first (fast), then the best depth vector with kernels free
    for d in candidates:
        if proxy.cache.get(d, (-math.inf,))[0] == -math.inf:
            continue
        if exact(d, proxy.kernels(d)) and not search:
            break
    if archs:
        best = max(archs, key=lambda a: evaluate(a, problem.objective).objective)
        exact(tuple(b.L for b in best.super_blocks), None)
    elif candidates:
        exact(candidates[0], None)
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
