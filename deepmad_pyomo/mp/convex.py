"""The convex relaxation of a design problem, compiled once into a CasADi program whose parameters are a
node's bounds (a node of the certificate's branch and bound, see :mod:`.relaxation`).

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
  that sets ``u_j`` makes it exact. ``S_j`` (linear, non-decreasing in every log-variable) ranges over its
  values at the node's bounds, narrowed by the parameters ``slo``, ``shi`` where bound tightening found
  tighter ones;
- the SE width ``8 max(1, floor(btn / 32))`` is bounded below by ``8`` and by a chord of the concave
  ``(btn - 31) / 4`` in log space; the inverted residual's identity avg-pool (official FLOPs) is left
  out. Both only lower costs. Budgets it does not model (latency) only loosen it.

Every formula comes from :mod:`metrics`, evaluated on CasADi symbols.
"""
from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import casadi as ca
import numpy as np

from ..space import metrics
from ..space.families import Mode
from ..space.problem import ConvSpec, SuperBlockSpec
from .formulation import FLOPS_SCALE, PARAMS_SCALE
from .template import SymBlock, Template, variance_cap

EPS = 1e-6            # the perspective's shift: (m + EPS) cost(X / (m + EPS))
SE_KNEE = 63.0        # floor(btn / 32) > 1 from here: se >= (btn - 31) / 4
COSTS = ("macs", "params", "tinynas_flops")  # the budgeted costs, in the order metrics.inner_totals gives them
# a super-block's log-variables and their totals over the repeats: X = m x, Y = m y, K = m k, S = m s
TOTALS = (("X", "x"), ("Y", "y"), ("K", "k"), ("S", "s"))


@dataclass(frozen=True)
class ConvexProgram:
    """The compiled relaxation. Its variables ``z``: the log-variables named in ``names`` (per block ``x``
    log-width, ``k`` log kernel area, ``y`` log bottleneck, ``s`` log SE width, ``m`` repeats ``L - 1``,
    and the totals ``X Y K S``), one entropy overestimator ``w`` per stage, the depth spread. Its
    parameters: the node's lower and upper bounds on the log-variables, then per stage a lower and an upper
    bound on ``S`` (``-inf``/``inf`` where none is known)."""

    names: tuple[str, ...]
    index: dict[str, int]
    nlp: dict[str, Any]          # minimise minus the objective
    obbt_nlp: dict[str, Any]     # minimise c.z with the objective at least a cutoff (parameters: nlp's, c, cutoff)
    glo: list[float]             # the rows' bounds (obbt_nlp adds one row: objective - cutoff >= 0)
    ghi: list[float]
    spread_hi: float             # the depth spread's upper bound
    stage_ends: tuple[int, ...]  # the block that closes each stage
    weights: tuple[float, ...]   # each stage's entropy weight (alpha times the mode's coefficient)
    point: ca.Function           # z -> (u, S, w) per stage
    sums: tuple[tuple[float, tuple[float, ...]], ...]  # per stage S = constant + coefficients . z (S is linear)

    @property
    def n_base(self) -> int:
        """Number of log-variables."""
        return len(self.names)

    @property
    def n_stages(self) -> int:
        return len(self.stage_ends)

    @property
    def n(self) -> int:
        """Number of variables."""
        return self.n_base + self.n_stages + 1


def compile_relaxation(template: Template) -> ConvexProgram:
    """The convex relaxation of ``template``'s problem."""
    return _Compiler(template).compile()


@dataclass
class _Repeats:
    """A super-block's ``m = L - 1`` repeats, priced as one repeat block whose sizes are the totals over
    ``m + EPS`` (``block``) and whose logs are the totals (``totals``: id of a size -> its total)."""

    block: SymBlock
    m: Any
    totals: dict[int, Any]

    def log(self, f: Any) -> Any:
        return self.totals[id(f)] if id(f) in self.totals else self.m * metrics.default_log(f)


class _Compiler:
    """Builds the relaxation part by part: the log-variables and their node bounds, the network over them,
    then its rows (``g`` between ``glo`` and ``ghi``)."""

    def __init__(self, template: Template):
        self.t = template
        self.names: list[str] = []
        self.syms: list[Any] = []
        self.symbol: dict[str, Any] = {}
        self.g: list[Any] = []
        self.glo: list[float] = []
        self.ghi: list[float] = []
        self.logs: dict[int, Any] = {}  # id of an exp(.) made here -> its argument
        self.keep: list[Any] = []       # every exp(.) made here stays alive, so that ids in ``logs`` stay unique
        self.repeats: dict[int, _Repeats] = {}  # id of a super-block -> its repeats
        self.slack = dict.fromkeys(COSTS, 0.0)  # the most the perspective's EPS repeats can cost
        self._declare()

    # ---------------------------------------------------------------------------------- variables
    def _declare(self) -> None:
        """The log-variables (named as :class:`ConvexProgram` says) and the node's bounds on them, the
        parameters ``lo`` and ``hi``."""
        specs, sb = self.t.specs, self.t.super_blocks
        self.x = [self._var(f"x{j}") for j in range(len(specs))]
        self.kappa = {j: self._var(f"k{j}") for j in range(len(specs)) if len(specs[j].k) > 1}
        self.y = {j: self._var(f"y{j}") for j in sb}
        self.sig = {j: self._var(f"s{j}") for j in self.t.se_blocks}
        self.m = {j: self._var(f"m{j}") for j in sb}
        self.X = {j: self._var(f"X{j}") for j in sb}
        self.Y = {j: self._var(f"Y{j}") for j in sb}
        self.K = {j: self._var(f"K{j}") for j in sb if j in self.kappa}
        self.SIG = {j: self._var(f"S{j}") for j in self.sig}
        self.v = ca.vertcat(*self.syms)
        self.lo_p, self.hi_p = ca.SX.sym("lo", len(self.syms)), ca.SX.sym("hi", len(self.syms))
        self.lo = {nm: self.lo_p[i] for i, nm in enumerate(self.names)}
        self.hi = {nm: self.hi_p[i] for i, nm in enumerate(self.names)}
        self.upper = self._upper_point()

    def _var(self, name: str) -> Any:
        self.names.append(name)
        self.syms.append(ca.SX.sym(name))
        self.symbol[name] = self.syms[-1]
        return self.syms[-1]

    def _upper_point(self) -> ca.DM:
        """Every log-variable at its upper bound and one repeat (``m + EPS = 1``): the most a unit of ``m``
        can cost. Totals (``X`` ...) take their log-variable's value, so ``X / (m + EPS)`` is it."""
        t = self.t
        upper = {"x": t.max_width, "y": t.max_btn, "k": lambda j: max(t.specs[j].k) ** 2,
                 "s": lambda j: max(8, t.max_btn(j) / 4)}
        vals: dict[str, float] = {}
        for nm in self.names:
            kind, j = nm[0], int(nm[1:])
            vals[nm] = math.log(upper[kind](j)) if kind in upper else 1.0 - EPS if kind == "m" else \
                vals[kind.lower() + str(j)]
        return ca.DM([vals[nm] for nm in self.names])

    # ---------------------------------------------------------------------------------- expressions
    def exp(self, sym: Any) -> Any:
        """``exp(sym)``, whose log is ``sym``."""
        e = ca.exp(sym)
        self.logs[id(e)] = sym
        self.keep.append(e)
        return e

    def log(self, f: Any) -> Any:
        """The log of an expression: the argument of an ``exp`` made here, else :func:`metrics.default_log`."""
        return self.logs[id(f)] if id(f) in self.logs else metrics.default_log(f)

    def kernel_area(self, j: int) -> Any:
        """Block ``j``'s ``k^2``: ``exp`` of its log-variable when it has a kernel choice."""
        return self.exp(self.kappa[j]) if j in self.kappa else self.t.specs[j].k[0] ** 2

    def at_least(self, expr: Any, bound: float | Any = 0.0) -> None:
        """The row ``expr >= bound``."""
        self.g.append(expr - bound)
        self.glo.append(0.0)
        self.ghi.append(math.inf)

    def at_most(self, expr: Any, bound: float) -> None:
        """The row ``expr <= bound``."""
        self.g.append(expr)
        self.glo.append(-math.inf)
        self.ghi.append(bound)

    def link(self, total: str, m: str, var: str) -> None:
        """McCormick's envelope of ``total == m * var`` (variables by name) over the node's box (exact when
        ``m`` is fixed)."""
        T, mm, z = self.symbol[total], self.symbol[m], self.symbol[var]
        ml, mh, zl, zh = self.lo[m], self.hi[m], self.lo[var], self.hi[var]
        self.at_least(T - ml * z - zl * mm + ml * zl)
        self.at_least(T - mh * z - zh * mm + mh * zh)
        self.at_least(mh * z + zl * mm - mh * zl - T)
        self.at_least(ml * z + zh * mm - ml * zh - T)

    # ---------------------------------------------------------------------------------- the program
    def compile(self) -> ConvexProgram:
        """The program: the network's rows (SE chords, McCormick links), then the budgets, the width order,
        the effectiveness bound, the entropy envelopes and the depth penalty."""
        problem = self.t.problem
        blocks = self._network()
        terms = metrics.network_terms(blocks, problem.resolution, problem.num_classes, self.log, self.totals_of)
        self._budgets(terms)
        self._width_order()
        self._effectiveness(terms)
        u, S, w = self._entropy_envelopes(terms)
        spread, penalty, spread_hi = self._depth_penalty(terms)
        weights = self._stage_weights(len(terms.stages))
        objective = sum(a * w[i] for i, a in enumerate(weights)) - penalty
        z = ca.vertcat(self.v, w, spread)
        c, level = ca.SX.sym("c", z.shape[0]), ca.SX.sym("cutoff")
        params = ca.vertcat(self.lo_p, self.hi_p, self.slo_p, self.shi_p)
        return ConvexProgram(
            names=tuple(self.names), index={nm: i for i, nm in enumerate(self.names)},
            nlp={"x": z, "p": params, "f": -objective, "g": ca.vertcat(*self.g)},
            obbt_nlp={"x": z, "p": ca.vertcat(params, c, level), "f": ca.dot(c, z),
                      "g": ca.vertcat(*self.g, objective - level)},
            glo=self.glo, ghi=self.ghi, spread_hi=spread_hi, stage_ends=tuple(st.end for st in terms.stages),
            weights=tuple(weights), point=ca.Function("point", [z], [ca.vertcat(*u, *S, w)]),
            sums=tuple(_linear(S_i, z) for S_i in S))

    # ---------------------------------------------------------------------------------- the network
    def _network(self) -> list[SymBlock]:
        """The network as :mod:`metrics` sees it; a super-block's repeats are priced by :meth:`totals_of`."""
        problem = self.t.problem
        blocks: list[SymBlock] = []
        r = float(problem.resolution)
        c_in: Any = problem.in_channels
        for j, sp in enumerate(self.t.specs):
            c_out = self.exp(self.x[j])
            r = r / sp.s
            if isinstance(sp, ConvSpec):
                blocks.append(SymBlock("conv", c_in, c_out, self.kernel_area(j), sp.s))
            else:
                blocks.append(self._super_block(j, sp, c_in, c_out, r))
            c_in = c_out
        self.slack["tinynas_params"] = self.slack["params"]
        return blocks

    def _super_block(self, j: int, sp: SuperBlockSpec, c_in: Any, c_out: Any, r_out: float) -> SymBlock:
        """Super-block ``j``'s first block; its repeats are kept for :meth:`totals_of`."""
        se = self._se_width(j) if j in self.sig else None
        block = SymBlock(sp.type, c_in, c_out, self.kernel_area(j), sp.s, self.exp(self.y[j]), self.m[j] + 1, se, 0)
        repeats = self._repeats(j, sp)
        self.repeats[id(block)] = repeats
        self._add_slack(repeats, r_out)
        for big, small in TOTALS:
            if f"{big}{j}" in self.symbol:
                self.link(f"{big}{j}", f"m{j}", f"{small}{j}")
        return block

    def _se_width(self, j: int) -> Any:
        """The SE width ``exp(s)``, with ``s >= log 8`` and above the chord of ``log((btn - 31) / 4)``
        (concave in the log bottleneck) over the node's range above the knee."""
        s, y = self.sig[j], self.y[j]
        se = self.exp(s)
        self.at_least(s, math.log(8))
        a = ca.fmax(self.lo[f"y{j}"], math.log(SE_KNEE))
        b = ca.fmax(self.hi[f"y{j}"], a + 1e-9)
        fa, fb = ca.log((ca.exp(a) - 31) / 4), ca.log((ca.exp(b) - 31) / 4)
        self.at_least(s, fa + (fb - fa) / (b - a) * (y - a))
        return se

    def _repeats(self, j: int, sp: SuperBlockSpec) -> _Repeats:
        """The repeats at per-repeat sizes ``exp(T / (m + EPS))``, each capped at its log-variable's upper
        bound (which McCormick implies) so that no iterate of Ipopt overflows ``exp`` while ``m`` is near 0."""
        shift = self.m[j] + EPS

        def per_repeat(T: Any, zname: str) -> Any:
            return self.exp(ca.fmin(T / shift, self.hi[zname]))

        k2 = per_repeat(self.K[j], f"k{j}") if j in self.K else sp.k[0] ** 2
        se = per_repeat(self.SIG[j], f"s{j}") if j in self.SIG else None
        block = SymBlock(sp.type, None, per_repeat(self.X[j], f"x{j}"), k2, 1, per_repeat(self.Y[j], f"y{j}"), 1, se, 1)
        totals = {id(block.c_out): self.X[j], id(block.btn): self.Y[j]}
        if j in self.K:
            totals[id(k2)] = self.K[j]
        return _Repeats(block, self.m[j], totals)

    def _add_slack(self, repeats: _Repeats, r_out: float) -> None:
        """Grow the budgets' slack by the most ``EPS`` repeats can cost: every size at its upper bound."""
        cost = metrics.inner_totals(metrics.inner_block(repeats.block, r_out, False), repeats.log)
        for key, c in zip(COSTS, cost):
            at_upper = ca.Function("c", [self.v, self.hi_p], [ca.SX(c)])(self.upper, math.inf)
            self.slack[key] += EPS * float(at_upper)

    def totals_of(self, b: Any, r_in: float, log: Callable[[Any], Any]) -> metrics.BlockTotals:
        """A block's totals: the first block plus ``(m + EPS)`` times the perspective of its repeats."""
        if id(b) not in self.repeats:
            return metrics.block_totals(b, r_in, log)
        rep = self.repeats[id(b)]
        head = metrics.inner_totals(metrics.inner_block(b, r_in, True), log)
        macs, params, tflops, log_sum, layers = metrics.inner_totals(
            metrics.inner_block(rep.block, r_in / b.s, False), rep.log)
        shift = rep.m + EPS
        return metrics.BlockTotals(head[0] + shift * macs, head[1] + shift * params, head[2] + shift * tflops,
                                   head[3] + log_sum, head[4] + rep.m * layers, r_in / b.s)

    # ---------------------------------------------------------------------------------- rows
    def _budgets(self, terms: metrics.NetworkTerms) -> None:
        """FLOPs and params (grown by the perspective's slack) and layers."""
        problem = self.t.problem
        budgets = problem.budgets
        for budget, scale in (("flops", FLOPS_SCALE), ("params", PARAMS_SCALE)):
            limit = getattr(budgets, budget)
            if limit is not None:
                key = problem.budget_metric(budget)
                self.at_most(getattr(terms, key) / scale, (limit + self.slack[key]) / scale)
        if budgets.layers is not None:
            self.at_most(terms.layers, float(budgets.layers))

    def _width_order(self) -> None:
        """Monotone widths, the width ratio, bottleneck ratios: linear in log-widths."""
        x, y, sb = self.x, self.y, self.t.super_blocks
        ratio = self.t.problem.max_width_ratio
        for j in range(1, len(x)):
            self.at_least(x[j], x[j - 1])
            if ratio and j in sb:
                self.at_least(math.log(ratio) + x[j - 1], x[j])
        for j in sb:
            btn_ratio = self.t.specs[j].btn_ratio
            if btn_ratio:
                self.at_least(y[j], math.log(btn_ratio[0]) + x[j])
                self.at_least(math.log(btn_ratio[1]) + x[j], y[j])

    def _effectiveness(self, terms: metrics.NetworkTerms) -> None:
        """``S >= n (log n - log rho0)`` per pair of :func:`metrics.rho_terms`."""
        problem = self.t.problem
        for n_layers, s in metrics.rho_terms(terms, problem.mode):
            self.at_least(s - n_layers * (ca.log(n_layers) - math.log(problem.objective.rho0)))

    def _entropy_envelopes(self, terms: metrics.NetworkTerms) -> tuple[list[Any], list[Any], Any]:
        """Per stage ``u``, ``S`` and ``w <= u S`` by McCormick's overestimators over the node's ranges."""
        stages = terms.stages
        u = [metrics.stage_log_feature(st, self.t.problem.mode, self.log) for st in stages]
        S = [st.log_width_sum for st in stages]
        fun = ca.Function("uS", [self.v], [ca.vertcat(*u, *S)])
        lo_uS, hi_uS = fun(self.lo_p), fun(self.hi_p)
        k = len(stages)
        w = ca.SX.sym("w", k)
        self.slo_p, self.shi_p = ca.SX.sym("slo", k), ca.SX.sym("shi", k)
        for i in range(k):
            ul, uh = lo_uS[i], hi_uS[i]
            sl, sh = ca.fmax(lo_uS[k + i], self.slo_p[i]), ca.fmin(hi_uS[k + i], self.shi_p[i])
            self.at_least(uh * S[i] + u[i] * sl - uh * sl, w[i])
            self.at_least(ul * S[i] + u[i] * sh - ul * sh, w[i])
        return u, S, w

    def _depth_penalty(self, terms: metrics.NetworkTerms) -> tuple[Any, Any, float]:
        """The spread variable, the penalty ``beta exp(spread)`` and the spread's upper bound: ``spread >=
        std`` (tinynas, smoothed at 0) or ``spread >= Var`` capped where the penalty exceeds every score."""
        problem = self.t.problem
        var_depth = metrics.depth_variance(metrics.penalised_depths(terms, problem.mode))
        spread = ca.SX.sym("spread")
        if problem.mode == Mode.TINYNAS:
            delta = 1e-8
            self.at_least(spread, ca.sqrt(ca.fmax(var_depth, 0) + delta) - math.sqrt(delta))
            spread_hi = math.inf
        else:
            self.at_least(spread, var_depth)
            spread_hi = variance_cap(self.t)
        return spread, problem.objective.beta * ca.exp(spread), spread_hi

    def _stage_weights(self, n_stages: int) -> list[float]:
        settings = self.t.problem.objective
        coef = metrics.ENTROPY_COEF[settings.mode]
        return [a * coef for a in metrics.stage_weights(settings, n_stages)]


def _linear(expr: Any, z: Any) -> tuple[float, tuple[float, ...]]:
    """``expr``, linear in ``z``, as its constant and coefficients."""
    coef = ca.Function("coef", [z], [ca.jacobian(expr, z)])(ca.DM.zeros(z.shape[0]))
    const = ca.Function("const", [z], [expr])(ca.DM.zeros(z.shape[0]))
    return float(const), tuple(float(a) for a in np.asarray(coef).ravel())
