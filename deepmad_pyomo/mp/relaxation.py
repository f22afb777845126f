"""The convex relaxation that bounds a node of the certificate's branch and bound (:mod:`certify`).

A node fixes a box of super-block depths, a set of kernel sizes per block and a range of widths per
block. Over it the design problem is relaxed to a convex program, compiled once per problem with CasADi
(the node only changes variable bounds and parameters) and solved by Ipopt, whose optimum of a convex
program is global:

- widths, bottlenecks, kernel areas and SE widths become continuous *log*-variables ``x``; every cost
  (MACs, params, the official counts) is then a sum of exponentials of linear forms, convex;
- each super-block's ``m = L - 1`` repeats enter through their totals ``X = m x`` (entropy: linear) and
  the perspective ``(m + eps) cost(X / (m + eps))`` (costs: jointly convex in ``m`` and ``X``), with
  ``X = m x`` relaxed by McCormick's envelope of the node's box (exact when ``L`` is fixed). ``eps``
  keeps the perspective defined at ``L = 1``; the budgets grow by what it can cost, so no design is lost;
- the effectiveness bound ``S >= n (log n - log rho0)`` is convex in the layer count ``n``; the depth
  penalty ``exp(Var L)`` or ``exp(std L)`` is convex in real depths;
- the only nonconvex terms, the stage entropies ``u_j S_j`` (``u_j = log(r_j^2 c_j)``), are replaced by
  McCormick's concave envelope over the node's ranges of ``u_j`` and ``S_j``; branching on the width
  that sets ``u_j`` makes it exact;
- the SE width ``8 max(1, floor(btn / 32))`` is bounded below by ``8`` and by a chord of the concave
  ``(btn - 31) / 4`` in log space; the inverted residual's identity avg-pool (official FLOPs) is left
  out. Both only lower costs.

Every formula comes from :mod:`metrics`, evaluated on CasADi symbols. The returned bound is Ipopt's
optimum plus a relative margin of ``BOUND_MARGIN`` (far below any gap asked for) for its tolerances.
:meth:`Relaxation.tighten` narrows a node's ranges to what can reach a cutoff on the same relaxation
(optimisation-based bound tightening). Budgets it does not model (latency) only loosen it.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Sequence

import casadi as ca
import numpy as np

from ..space import metrics
from ..space.problem import ConvSpec, DesignProblem
from .formulation import FLOPS_SCALE, PARAMS_SCALE
from .template import SymBlock, Template, score_upper_bound

EPS = 1e-6            # the perspective's shift: (m + EPS) cost(X / (m + EPS))
BOUND_MARGIN = 1e-7   # added to Ipopt's optimum (relative), for its tolerances
SE_KNEE = 63.0        # floor(btn / 32) > 1 from here: se >= (btn - 31) / 4
IPOPT = {"print_level": 0, "sb": "yes", "max_iter": 600, "tol": 1e-9, "acceptable_iter": 0}
# about 1.5x fewer iterations on these relaxations; the plain options above are the fallback
IPOPT_FAST = {**IPOPT, "mu_strategy": "adaptive", "bound_push": 1e-4, "bound_frac": 1e-4}
Range = tuple[int, int]


class _Empty(Exception):
    """Nothing in the node reaches the cutoff."""


@dataclass(frozen=True)
class Node:
    """A part of the design space: depth range per super-block, width range (channels) and kernel sizes
    allowed per block."""

    depths: tuple[Range, ...]
    widths: tuple[Range, ...]
    kernels: tuple[tuple[int, ...], ...]

    @property
    def depth_vectors(self) -> int:
        return math.prod(hi - lo + 1 for lo, hi in self.depths)

    def replace(self, what: str, i: int, value: Any) -> "Node":
        parts = list(getattr(self, what))
        parts[i] = value
        return Node(**{**self.__dict__, what: tuple(parts)})


@dataclass
class RelaxedBound:
    """Ipopt on a node's relaxation: ``bound`` (None when infeasible or failed), the point's depths,
    widths (channels, real) and kernel areas, and per branching candidate how much of the bound it
    accounts for: ``("depth", i)``, ``("width", j)``, ``("kernel", j)``."""

    status: str                        # bounded | infeasible | failed: <Ipopt status>
    bound: float | None
    depths: list[float]
    widths: list[float]
    scores: dict[tuple[str, int], float]
    x: list[float] | None = None


class Relaxation:
    """The relaxation of ``problem``, compiled once; :meth:`solve` bounds a node."""

    def __init__(self, problem: DesignProblem):
        self.problem = problem
        template = Template.of(problem)
        specs = list(template.specs)
        self.specs = specs
        self.sb = template.super_blocks
        self.unit_bounds = {("width", j): r for j, r in enumerate(template.width_units)}
        self.unit_bounds.update({("btn", j): r for j, r in template.btn_units.items()})
        self.score_cap = score_upper_bound(template)
        names: list[str] = []
        syms: list[Any] = []

        def var(name: str) -> Any:
            names.append(name)
            syms.append(ca.SX.sym(name))
            return syms[-1]

        n = len(specs)
        x = [var(f"x{j}") for j in range(n)]
        kappa = {j: var(f"k{j}") for j in range(n) if len(specs[j].k) > 1}
        y = {j: var(f"y{j}") for j in self.sb}
        sig = {j: var(f"s{j}") for j in self.sb if specs[j].type == "k1dwsek1"}
        mm = {j: var(f"m{j}") for j in self.sb}
        X = {j: var(f"X{j}") for j in self.sb}
        Y = {j: var(f"Y{j}") for j in self.sb}
        K = {j: var(f"K{j}") for j in self.sb if j in kappa}
        SIG = {j: var(f"S{j}") for j in sig}
        self.names, self.index = names, {nm: i for i, nm in enumerate(names)}
        v = ca.vertcat(*syms)
        nv = len(syms)
        lo_p, hi_p = ca.SX.sym("lo", nv), ca.SX.sym("hi", nv)
        lo = {nm: lo_p[i] for i, nm in enumerate(names)}
        hi = {nm: hi_p[i] for i, nm in enumerate(names)}

        logs: dict[int, Any] = {}
        keep: list[Any] = []  # every exp(.) made here stays alive, so that ids in ``logs`` stay unique

        def expo(sym: Any) -> Any:
            e = ca.exp(sym)
            logs[id(e)] = sym
            keep.append(e)
            return e

        def log(f: Any) -> Any:
            return logs[id(f)] if id(f) in logs else metrics.default_log(f)

        def kern(j: int) -> Any:
            return expo(kappa[j]) if j in kappa else specs[j].k[0] ** 2

        g: list[Any] = []
        glo: list[float] = []
        ghi: list[float] = []

        def ge(expr: Any, bound: float | Any = 0.0) -> None:
            g.append(expr - bound)
            glo.append(0.0)
            ghi.append(math.inf)

        # McCormick: T == m * z over the node's box (exact when m is fixed)
        def product(T: Any, m_: Any, z: Any, mname: str, zname: str) -> None:
            ml, mh, zl, zh = lo[mname], hi[mname], lo[zname], hi[zname]
            ge(T - ml * z - zl * m_ + ml * zl)
            ge(T - mh * z - zh * m_ + mh * zh)
            ge(mh * z + zl * m_ - mh * zl - T)
            ge(ml * z + zh * m_ - ml * zh - T)

        # the network as metrics sees it; a super-block's repeats are priced by ``totals_of`` below
        blocks: list[SymBlock] = []
        repeats: dict[int, tuple[SymBlock, Any, Any]] = {}  # id(block) -> its repeat block, log map, m
        slack = {"macs": 0.0, "params": 0.0, "tinynas_flops": 0.0}
        r = float(problem.resolution)
        c_in: Any = problem.in_channels
        for j, sp in enumerate(specs):
            c_out = expo(x[j])
            if isinstance(sp, ConvSpec):
                blocks.append(SymBlock("conv", c_in, c_out, kern(j), sp.s))
                r, c_in = r / sp.s, c_out
                continue
            se = None
            if j in sig:
                se = expo(sig[j])
                ge(sig[j], math.log(8))
                # chord of log((btn - 31) / 4), concave in log btn, over the node's range above the knee
                a = ca.fmax(lo[f"y{j}"], math.log(SE_KNEE))
                b = ca.fmax(hi[f"y{j}"], a + 1e-9)
                fa, fb = ca.log((ca.exp(a) - 31) / 4), ca.log((ca.exp(b) - 31) / 4)
                ge(sig[j], fa + (fb - fa) / (b - a) * (y[j] - a))
            block = SymBlock(sp.type, c_in, c_out, kern(j), sp.s, expo(y[j]), mm[j] + 1, se, 0)
            blocks.append(block)
            # the repeats: totals X = m x (entropy), perspective (m + EPS) f(X / (m + EPS)) (costs)
            shift = mm[j] + EPS

            def per_block(T: Any, zname: str, m_shift: Any = shift) -> Any:
                # T / (m + EPS) <= z's upper bound wherever McCormick holds; capped there so that no iterate
                # of Ipopt overflows exp() while m is near 0
                return expo(ca.fmin(T / m_shift, hi[zname]))

            k2_rest = per_block(K[j], f"k{j}") if j in K else specs[j].k[0] ** 2
            se_rest = per_block(SIG[j], f"s{j}") if j in SIG else None
            rest = SymBlock(sp.type, None, per_block(X[j], f"x{j}"), k2_rest, 1, per_block(Y[j], f"y{j}"), 1,
                            se_rest, 1)
            totals = {id(rest.c_out): X[j], id(rest.btn): Y[j]}
            if j in K:
                totals[id(k2_rest)] = K[j]

            def rest_log(f: Any, jj: int = j, tot: dict[int, Any] = totals) -> Any:
                return tot[id(f)] if id(f) in tot else mm[jj] * metrics.default_log(f)

            repeats[id(block)] = (rest, rest_log, mm[j])
            r = r / sp.s
            rest_cost = metrics.inner_totals(metrics.inner_block(rest, r, False), rest_log)
            for key, cost in zip(slack, rest_cost):  # the most EPS repeats can cost: widths at their bounds
                at_upper = ca.Function("c", [v, hi_p], [ca.SX(cost)])(self._upper_point(names), math.inf)
                slack[key] += EPS * float(at_upper)
            for T, z in ((X[j], x[j]), (Y[j], y[j])) + (((K[j], kappa[j]),) if j in K else ()) \
                    + (((SIG[j], sig[j]),) if j in SIG else ()):
                product(T, mm[j], z, f"m{j}", str(z))
            c_in = c_out
        slack["tinynas_params"] = slack["params"]

        def totals_of(b: Any, r_in: float, log_: Any) -> metrics.BlockTotals:
            if id(b) not in repeats:
                return metrics.block_totals(b, r_in, log_)
            rest, rest_log, m_ = repeats[id(b)]
            head = metrics.inner_totals(metrics.inner_block(b, r_in, True), log_)
            macs, params, tflops, log_sum, layers = metrics.inner_totals(
                metrics.inner_block(rest, r_in / b.s, False), rest_log)
            shift = m_ + EPS
            return metrics.BlockTotals(head[0] + shift * macs, head[1] + shift * params, head[2] + shift * tflops,
                                       head[3] + log_sum, head[4] + m_ * layers, r_in / b.s)

        terms = metrics.network_terms(blocks, problem.resolution, problem.num_classes, log, totals_of)
        budgets = problem.budgets
        for budget, scale in (("flops", FLOPS_SCALE), ("params", PARAMS_SCALE)):
            limit = getattr(budgets, budget)
            if limit is not None:
                key = problem.budget_metric(budget)
                g.append(getattr(terms, key) / scale)
                glo.append(-math.inf)
                ghi.append((limit + slack[key]) / scale)
        if budgets.layers is not None:
            g.append(terms.layers)
            glo.append(-math.inf)
            ghi.append(float(budgets.layers))
        # monotone widths, the width ratio, bottleneck ratios: linear in log-widths
        for j in range(1, n):
            ge(x[j], x[j - 1])
            if problem.max_width_ratio and j in self.sb:
                ge(math.log(problem.max_width_ratio) + x[j - 1], x[j])
        for j in self.sb:
            ratio = specs[j].btn_ratio
            if ratio:
                ge(y[j], math.log(ratio[0]) + x[j])
                ge(math.log(ratio[1]) + x[j], y[j])

        settings = problem.objective
        for n_layers, s in metrics.rho_terms(terms, problem.mode):
            ge(s - n_layers * (ca.log(n_layers) - math.log(settings.rho0)))

        # the stage entropies: w_j <= u_j S_j by McCormick's overestimators over the node's ranges
        stages = terms.stages
        u = [metrics.stage_log_feature(st, problem.mode, log) for st in stages]
        S = [st.log_width_sum for st in stages]
        fun = ca.Function("uS", [v], [ca.vertcat(*u, *S)])
        lo_uS, hi_uS = fun(lo_p), fun(hi_p)
        k = len(stages)
        w = ca.SX.sym("w", k)
        for i in range(k):
            ul, uh, sl, sh = lo_uS[i], hi_uS[i], lo_uS[k + i], hi_uS[k + i]
            ge(uh * S[i] + u[i] * sl - uh * sl, w[i])
            ge(ul * S[i] + u[i] * sh - ul * sh, w[i])
        alpha = metrics.stage_weights(settings, k)
        coef = metrics.ENTROPY_COEF[problem.mode]
        depths = metrics.penalised_depths(terms, problem.mode)
        var_depth = metrics.depth_variance(depths)
        spread = ca.SX.sym("spread")
        if problem.mode == "tinynas":
            delta = 1e-8
            ge(spread, ca.sqrt(ca.fmax(var_depth, 0) + delta) - math.sqrt(delta))
            spread_hi = math.inf
        else:  # beyond this the penalty exceeds every score (formulation._depth_penalty does the same)
            ge(spread, var_depth)
            spread_hi = math.log(max(self.score_cap, settings.beta) / settings.beta) + 1.0
        score = sum(a * coef * w[i] for i, a in enumerate(alpha))
        objective = score - settings.beta * ca.exp(spread)
        self.n_base = nv
        z = ca.vertcat(v, w, spread)
        self.n = nv + k + 1
        self.spread_hi = spread_hi
        self.k = k
        self.stage_blocks = [st.end for st in stages]
        self.weights = [a * coef for a in alpha]
        self.glo, self.ghi = glo, ghi
        self.nlp = {"x": z, "p": ca.vertcat(lo_p, hi_p), "f": -objective, "g": ca.vertcat(*g)}
        # bound tightening: min c.z over the relaxation with its objective held at or above a cutoff
        c, level = ca.SX.sym("c", z.shape[0]), ca.SX.sym("cutoff")
        self.obbt_nlp = {"x": z, "p": ca.vertcat(lo_p, hi_p, c, level), "f": ca.dot(c, z),
                         "g": ca.vertcat(*g, objective - level)}
        self._obbt = None
        self.solvers = [ca.nlpsol("relaxation", "ipopt", self.nlp, {"print_time": False, "ipopt": opts})
                        for opts in (IPOPT_FAST, IPOPT)]
        self.point = ca.Function("point", [z], [ca.vertcat(*u, *S, w)])

    def root(self) -> Node:
        """The whole design space."""
        step, units = self.problem.width_step, self.unit_bounds
        return Node(depths=tuple(tuple(st.L) for st in self.problem.stages),  # type: ignore[misc]
                    widths=tuple((step * units["width", j][0], step * units["width", j][1])
                                 for j in range(len(self.specs))),
                    kernels=tuple(tuple(sp.k) for sp in self.specs))

    def _upper_point(self, names: list[str]) -> Any:
        """Every log-variable at its upper bound and one repeat (``m + EPS = 1``): the most a unit of ``m``
        can cost. Totals (``X`` ...) take their log-variable's value, so ``X / (m + EPS)`` is it."""
        step, vals = self.problem.width_step, {}
        upper = {"x": lambda j: step * self.unit_bounds["width", j][1],
                 "y": lambda j: step * self.unit_bounds["btn", j][1],
                 "k": lambda j: max(self.specs[j].k) ** 2,
                 "s": lambda j: max(8, step * self.unit_bounds["btn", j][1] / 4)}
        for nm in names:
            kind, j = nm[0], int(nm[1:])
            vals[nm] = math.log(upper[kind](j)) if kind in upper else 1.0 - EPS if kind == "m" else \
                vals[kind.lower() + str(j)]
        return ca.DM([vals[nm] for nm in names])

    def bounds(self, node: Node) -> tuple[np.ndarray, np.ndarray]:
        """Variable bounds of ``node`` (the parameters of its McCormick envelopes too)."""
        step = self.problem.width_step
        lo, hi = np.zeros(self.n_base), np.zeros(self.n_base)

        def put(name: str, a: float, b: float) -> None:
            i = self.index[name]
            lo[i], hi[i] = a, b

        for j, (a, b) in enumerate(node.widths):
            put(f"x{j}", math.log(a), math.log(b))
            if f"k{j}" in self.index:
                ks = node.kernels[j]
                put(f"k{j}", math.log(min(ks) ** 2), math.log(max(ks) ** 2))
        for i, j in enumerate(self.sb):
            blo, bhi = (step * u for u in self.unit_bounds["btn", j])
            put(f"y{j}", math.log(blo), math.log(bhi))
            if f"s{j}" in self.index:
                put(f"s{j}", math.log(8), math.log(max(8, bhi / 4)))
            dl, dh = node.depths[i]
            put(f"m{j}", dl - 1, dh - 1)
            for big, small in (("X", "x"), ("Y", "y"), ("K", "k"), ("S", "s")):
                if f"{big}{j}" in self.index:
                    zl, zh = lo[self.index[f"{small}{j}"]], hi[self.index[f"{small}{j}"]]
                    put(f"{big}{j}", (dl - 1) * zl, (dh - 1) * zh)
        return lo, hi

    def _box(self, node: Node) -> tuple[np.ndarray, ...]:
        """The node's bounds on the log-variables, on every variable of the NLP, and its centre."""
        lo, hi = self.bounds(node)
        lbx = np.concatenate([lo, np.full(self.k, -math.inf), [0.0]])
        ubx = np.concatenate([hi, np.full(self.k, math.inf), [self.spread_hi]])
        return lo, hi, lbx, ubx, np.concatenate([(lo + hi) / 2, np.zeros(self.k), [0.0]])

    def solve(self, node: Node, x0: Sequence[float] | None = None) -> RelaxedBound:
        """Ipopt on the node's relaxation, from ``x0`` (a parent's point) or the node's centre."""
        lo, hi, lbx, ubx, centre = self._box(node)
        start = np.clip(np.asarray(x0, float), lbx, ubx) if x0 is not None and len(x0) == self.n else centre
        for solver, x0_ in ((self.solvers[0], start), (self.solvers[1], centre)):
            sol = solver(x0=x0_, lbx=lbx, ubx=ubx, lbg=self.glo, ubg=self.ghi, p=np.concatenate([lo, hi]))
            status = solver.stats()["return_status"]
            if status == "Solve_Succeeded":
                break  # infeasibility is believed only when the plain options from the centre agree
        if status == "Infeasible_Problem_Detected":
            return RelaxedBound("infeasible", None, [], [], {})
        if status != "Solve_Succeeded":
            return RelaxedBound(f"failed: {status}", None, [], [], {})
        z = np.asarray(sol["x"]).ravel()
        value = -float(sol["f"])
        bound = value + BOUND_MARGIN * abs(value)
        return RelaxedBound("bounded", bound, *self._branching(node, z), x=[float(t) for t in z])

    def tighten(self, node: Node, cutoff: float, x0: Sequence[float] | None = None) -> Node | None:
        """``node`` with every depth and width range narrowed to what can still reach ``cutoff`` in the
        relaxation (optimisation-based bound tightening: the least and largest value of each depth, then of
        each log-width, each solve on the ranges narrowed so far, rounded outward to integers and to the
        width step); ``None`` when nothing in the node can. ``x0``: a point of the node's relaxation above
        the cutoff (its optimum), where the solves start."""
        step = self.problem.width_step
        current = node
        try:
            for i, (a, b) in enumerate(node.depths):
                if a < b:
                    low, high = self._extremes(current, f"m{self.sb[i]}", cutoff, x0)
                    rng = (a if low is None else max(a, math.ceil(low + 1 - 1e-6)),
                           b if high is None else min(b, math.floor(high + 1 + 1e-6)))
                    current = current.replace("depths", i, rng)
            for j, (a, b) in enumerate(node.widths):
                if a < b:
                    low, high = self._extremes(current, f"x{j}", cutoff, x0)
                    rng = (a if low is None else max(a, step * math.ceil(math.exp(low) * (1 - 1e-6) / step)),
                           b if high is None else min(b, step * math.floor(math.exp(high) * (1 + 1e-6) / step)))
                    current = current.replace("widths", j, rng)
        except _Empty:
            return None
        return None if any(a > b for a, b in current.depths + current.widths) else current

    def bottlenecks(self, node: Node, cutoff: float) -> dict[int, tuple[float, float]] | None:
        """Per super-block (block index), the range of bottleneck widths (channels, real) that can still
        reach ``cutoff`` in the node's relaxation; ranges Ipopt gives no answer for are left out. ``None``
        when nothing in the node can."""
        out = {}
        try:
            for j in self.sb:
                low, high = self._extremes(node, f"y{j}", cutoff, None)
                if low is not None and high is not None:
                    out[j] = (math.exp(low) * (1 - 1e-6), math.exp(high) * (1 + 1e-6))
        except _Empty:
            return None
        return out

    def _extremes(self, node: Node, name: str, cutoff: float, x0: Sequence[float] | None
                  ) -> tuple[float | None, float | None]:
        """The least and largest value of variable ``name`` over the node's relaxation with its objective at
        least ``cutoff`` (None where Ipopt gives no answer). Raises ``_Empty`` when nothing reaches it."""
        if any(a > b for a, b in node.depths + node.widths):
            raise _Empty
        if self._obbt is None:
            self._obbt = [ca.nlpsol("obbt", "ipopt", self.obbt_nlp, {"print_time": False, "ipopt": opts})
                          for opts in (IPOPT_FAST, IPOPT)]
        lo, hi, lbx, ubx, centre = self._box(node)
        start = np.clip(np.asarray(x0, float), lbx, ubx) if x0 is not None and len(x0) == self.n else centre
        ends: list[float | None] = []
        for sign in (1.0, -1.0):
            c = np.zeros(self.n)
            c[self.index[name]] = sign
            for solver, x0_ in ((self._obbt[0], start), (self._obbt[1], centre)):
                sol = solver(x0=x0_, lbx=lbx, ubx=ubx, lbg=self.glo + [0.0], ubg=self.ghi + [math.inf],
                             p=np.concatenate([lo, hi, c, [cutoff]]))
                status = solver.stats()["return_status"]
                if status == "Solve_Succeeded":
                    break
            if status == "Infeasible_Problem_Detected":
                whole = self.solve(node)  # believed when the node's own bound agrees
                if whole.status == "infeasible" or (whole.bound is not None and whole.bound < cutoff):
                    raise _Empty
            ends.append(sign * float(sol["f"]) if status == "Solve_Succeeded" else None)
        return ends[0], ends[1]

    def _branching(self, node: Node, z: np.ndarray) -> tuple[list[float], list[float], dict[tuple[str, int], float]]:
        """How much of the bound each candidate accounts for at the relaxed point ``z``: a stage's
        McCormick gap (its width), a super-block's link gap ``|X - m x|`` and depth fractionality, a
        kernel area between two choices."""
        val = lambda name: z[self.index[name]]  # noqa: E731
        pt = np.asarray(self.point(z)).ravel()
        k = self.k
        u, S, w = pt[:k], pt[k:2 * k], pt[2 * k:]
        scores: dict[tuple[str, int], float] = {}
        for i, e in enumerate(self.stage_blocks):
            if node.widths[e][0] < node.widths[e][1]:
                scores["width", e] = scores.get(("width", e), 0.0) + self.weights[i] * max(0.0, w[i] - u[i] * S[i])
        # a block's entropy weight: the stage weights times u of every stage that its log-widths reach
        reach = {j: sum(self.weights[i] * u[i] for i, e in enumerate(self.stage_blocks) if e >= j)
                 for j in range(len(self.specs))}
        depths = []
        for i, j in enumerate(self.sb):
            m_ = val(f"m{j}")
            depths.append(m_ + 1)
            lo_d, hi_d = node.depths[i]
            if lo_d < hi_d:
                gap = sum(abs(val(f"{big}{j}") - m_ * val(f"{small}{j}")) * mult
                          for big, small, mult in (("X", "x", 1), ("Y", "y", 2), ("K", "k", 1))
                          if f"{big}{j}" in self.index)
                frac = abs(m_ - round(m_))
                per_block = val(f"x{j}") + 2 * val(f"y{j}") + (val(f"k{j}") if f"k{j}" in self.index else 0)
                scores["depth", i] = reach[j] * (gap + frac * per_block)
        for j in range(len(self.specs)):
            ks = node.kernels[j]
            if len(ks) > 1 and f"k{j}" in self.index:
                kv = val(f"k{j}")
                dist = min(abs(kv - math.log(kk * kk)) for kk in ks)
                blocks = depths[self.sb.index(j)] if j in self.sb else 1.0
                scores["kernel", j] = reach[j] * dist * blocks
        widths = [math.exp(val(f"x{j}")) for j in range(len(self.specs))]
        return depths, widths, scores
