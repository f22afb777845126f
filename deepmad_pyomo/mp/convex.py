"""The convex relaxation of a design problem, compiled once into a conic program (exponential and
second-order cones) whose data are functions of a node's bounds (a node of the certificate's branch and
bound, see :mod:`.relaxation`).

- widths, bottlenecks, kernel areas and SE widths become continuous *log*-variables ``x``; every cost
  (MACs, params, the official counts) is then a sum of exponentials of linear forms (:class:`ExpSum`), one
  exponential cone per distinct term, shared by the budgets' rows;
- each super-block's ``m = L - 1`` repeats enter through their totals ``X = m x`` (entropy: linear) and
  the perspective ``(m + eps) cost(X / (m + eps))`` (costs: one exponential cone per term, jointly in ``m``
  and ``X``), with ``X = m x`` relaxed by McCormick's envelope of the node's box (exact when ``L`` is
  fixed). ``eps`` keeps the perspective defined at ``L = 1``; the budgets grow by what it can cost, so no
  design is lost;
- the effectiveness bound ``S >= n (log n - log rho0)`` is an exponential cone in the layer count ``n``
  and ``S``; the depth penalty ``exp(spread)`` is one, with ``spread >= std L`` (a second-order cone,
  tinynas) or ``spread >= Var L`` (a rotated one, paper);
- the only nonconvex terms, the stage entropies ``u_j S_j`` (``u_j = log(r_j^2 c_j)``), are replaced by
  McCormick's concave envelope over the node's ranges of ``u_j`` and ``S_j``; branching on the width
  that sets ``u_j`` makes it exact. ``S_j`` (linear, non-decreasing in every log-variable) ranges over its
  values at the node's bounds, narrowed by the parameters ``slo``, ``shi`` where bound tightening found
  tighter ones;
- the SE width ``8 max(1, floor(btn / 32))`` is bounded below by ``8`` and by a chord of the concave
  ``(btn - 31) / 4`` in log space; the inverted residual's identity avg-pool (official FLOPs) is left
  out. Both only lower costs. Budgets it does not model (latency) only loosen it.

Every formula comes from :mod:`metrics`, evaluated on CasADi symbols and :class:`ExpSum` sizes.
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
from .expsum import ExpSum, Term
from .formulation import FLOPS_SCALE, PARAMS_SCALE
from .template import SymBlock, Template, variance_cap

EPS = 1e-6            # the perspective's shift: (m + EPS) cost(X / (m + EPS))
SE_KNEE = 63.0        # floor(btn / 32) > 1 from here: se >= (btn - 31) / 4
COSTS = ("macs", "params", "tinynas_flops")  # the budgeted costs, in the order metrics.inner_totals gives them
# a super-block's log-variables and their totals over the repeats: X = m x, Y = m y, K = m k, S = m s
TOTALS = (("X", "x"), ("Y", "y"), ("K", "k"), ("S", "s"))


@dataclass(frozen=True)
class ConvexProgram:
    """The compiled relaxation: minimise ``q . z`` (minus the objective) subject to ``A z + s = b``, ``s`` in
    the cones (``nonneg`` rows ``>= 0``, ``exp_cones`` exponential cones, second-order cones of
    ``soc_dims``), ``A`` and ``b`` given by ``rows(p)`` for a node's parameters ``p``: its lower and upper
    bounds on the log-variables, per stage a lower and an upper bound on ``S`` (``-inf``/``inf`` where
    none is known), then per super-block 1 where the node fixes its depth (else 0) and the log of the
    repeats it fixes (``log max(m, EPS)``). ``obbt_rows(p, cutoff)`` adds a first row: the objective at least ``cutoff``.

    Its variables ``z``: the log-variables named in ``names`` (per block ``x`` log-width, ``k`` log kernel
    area, ``y`` log bottleneck, ``s`` log SE width, ``m`` repeats ``L - 1``, and the totals ``X Y K S``),
    one entropy overestimator ``w`` per stage, the depth spread, its penalty ``exp(spread)``, then one
    epigraph variable per distinct cost term."""

    names: tuple[str, ...]
    index: dict[str, int]
    n: int                       # number of variables
    q: np.ndarray
    rows: ca.Function            # p -> (A, b)
    box: ca.Function             # p -> (lower, upper): a box of the variables that holds an optimum
    obbt_rows: ca.Function       # (p, cutoff) -> (A, b) with the cutoff's row first
    nonneg: int
    exp_cones: int
    soc_dims: tuple[int, ...]
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


def compile_relaxation(template: Template) -> ConvexProgram:
    """The convex relaxation of ``template``'s problem."""
    return _Compiler(template).compile()


@dataclass
class _Repeats:
    """A super-block's ``m = L - 1`` repeats, priced as one repeat block whose sizes are ``exp`` of the totals
    (``block``). The cost of all of them: the perspective ``(m + EPS) cost(X / (m + EPS))`` where the node
    leaves ``m`` a range, ``max(m, EPS) cost(x)`` where it fixes ``m`` (``fixed`` 1 and ``log_m`` its log: the
    perspective's cones are near their boundary when ``m`` is 0, which stalls the solver)."""

    block: SymBlock
    m: Any
    totals: list[Any]   # X, Y, K, S of the super-block, those it has
    per_repeat: list[Any]  # x, y, k, s: a repeat's log-sizes
    fixed: Any
    log_m: Any

    def log(self, f: Any) -> Any:
        """A size's log summed over the repeats: its total, or ``m`` times a constant's log."""
        return f.log() if isinstance(f, ExpSum) else self.m * metrics.default_log(f)

    def cone(self, expo: Any, coef: float, t: Any) -> tuple[Any, Any, Any]:
        """The exponential cone ``(x, y, t)`` (``y exp(x / y) <= t``) of a term ``coef exp(expo)`` of one
        repeat's cost (``expo`` in the totals) summed over the repeats."""
        shift = self.m + EPS
        per_repeat = ca.substitute(ca.SX(expo), ca.vertcat(*self.totals), ca.vertcat(*self.per_repeat))
        x = (1 - self.fixed) * (expo + shift * math.log(coef)) + self.fixed * (per_repeat + math.log(coef) + self.log_m)
        return x, (1 - self.fixed) * shift + self.fixed, t


class _Compiler:
    """Builds the relaxation part by part: the log-variables and their node bounds, the network over them,
    then its rows: affine expressions that are ``>= 0`` (``nonneg``), exponential cones (``exps``: triples
    ``(x, y, t)`` with ``y exp(x / y) <= t``) and second-order cones (``socs``: ``t >= ||v||``)."""

    def __init__(self, template: Template):
        self.t = template
        self.names: list[str] = []
        self.syms: list[Any] = []
        self.symbol: dict[str, Any] = {}
        self.nonneg: list[Any] = []
        self.exps: list[tuple[Any, Any, Any]] = []
        self.socs: list[list[Any]] = []
        self.epigraphs: list[Any] = []  # one variable per cost term
        self.epigraph_hi: list[float] = []  # the most each can be (its budgets bound it)
        self.repeats: dict[int, _Repeats] = {}  # id of a super-block -> its repeats
        self.w_range: list[tuple[Any, Any]] = []  # per stage, the range of w at an optimum
        self.spread_hi: Any = 0.0  # the largest spread of the node's depths
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
        n_sb = len(sb)
        self.fixed_p, self.log_m_p = ca.SX.sym("fixed", n_sb), ca.SX.sym("log_m", n_sb)
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
        can cost. Totals (``X`` ...) take their log-variable's value, so a repeat's sizes are at their
        upper bounds."""
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
    @staticmethod
    def exp(sym: Any) -> ExpSum:
        """The size ``exp(sym)``."""
        return ExpSum.exp(sym)

    @staticmethod
    def log(f: Any) -> Any:
        """The log of a size: the exponent of an :class:`ExpSum`, else :func:`metrics.default_log`."""
        return f.log() if isinstance(f, ExpSum) else metrics.default_log(f)

    def kernel_area(self, j: int) -> Any:
        """Block ``j``'s ``k^2``: ``exp`` of its log-variable when it has a kernel choice."""
        return self.exp(self.kappa[j]) if j in self.kappa else self.t.specs[j].k[0] ** 2

    def at_least(self, expr: Any, bound: float | Any = 0.0) -> None:
        """The row ``expr >= bound``."""
        self.nonneg.append(expr - bound)

    def at_most(self, expr: Any, bound: float) -> None:
        """The row ``expr <= bound``."""
        self.nonneg.append(bound - expr)

    def link(self, total: str, m: str, var: str) -> None:
        """McCormick's envelope of ``total == m * var`` (variables by name) over the node's box (exact when
        ``m`` is fixed)."""
        T, mm, z = self.symbol[total], self.symbol[m], self.symbol[var]
        ml, mh, zl, zh = self.lo[m], self.hi[m], self.lo[var], self.hi[var]
        self.at_least(T - ml * z - zl * mm + ml * zl)
        self.at_least(T - mh * z - zh * mm + mh * zh)
        self.at_least(mh * z + zl * mm - mh * zl - T)
        self.at_least(ml * z + zh * mm - ml * zh - T)

    def costs_at_most(self, budgets: list[tuple[ExpSum, float]]) -> None:
        """Each ``cost <= bound``: every distinct exponential of their terms bounded by one epigraph variable
        (an exponential cone, shared by the costs with that term, scaled by its largest coefficient), their
        weighted sums at most the bounds."""
        terms: dict[tuple[str, int], Term] = {}
        weights: list[dict[tuple[str, int], float]] = []
        for cost, _ in budgets:
            weights.append({})
            for term in cost.terms:
                key = (str(term.expo), id(term.over))
                terms.setdefault(key, term)
                weights[-1][key] = weights[-1].get(key, 0.0) + term.coef
        epigraph = {}
        for key, term in terms.items():
            scale = max(w.get(key, 0.0) for w in weights)
            epigraph[key] = t = ca.SX.sym(f"t{len(self.epigraphs)}")  # at least scale exp(expo)
            self.epigraphs.append(t)
            self.epigraph_hi.append(min(bound * scale / w[key] for w, (_, bound) in zip(weights, budgets) if key in w))
            self.exps.append(term.over.cone(term.expo, scale, t) if term.over is not None else
                             (term.expo + math.log(scale), ca.SX(1.0), t))
        for w, (_, bound) in zip(weights, budgets):
            scale = {key: max(v.get(key, 0.0) for v in weights) for key in w}
            self.at_most(sum(coef / scale[key] * epigraph[key] for key, coef in w.items()), bound)

    # ---------------------------------------------------------------------------------- the program
    def compile(self) -> ConvexProgram:
        """The program: the network's rows (SE chords, McCormick links), then the budgets, the width order,
        the effectiveness bound, the entropy envelopes, the depth penalty and the node's box."""
        problem = self.t.problem
        blocks = self._network()
        terms = metrics.network_terms(blocks, problem.resolution, problem.num_classes, self.log, self.totals_of)
        self._budgets(terms)
        self._width_order()
        self._effectiveness(terms)
        u, S, w = self._entropy_envelopes(terms)
        spread, penalty = self._depth_penalty(terms)
        self._box()
        weights = self._stage_weights(len(terms.stages))
        objective = sum(a * w[i] for i, a in enumerate(weights)) - problem.objective.beta * penalty
        z = ca.vertcat(self.v, w, spread, penalty, *self.epigraphs)
        q = -np.asarray(ca.Function("q", [z], [ca.gradient(objective, z)])(ca.DM.zeros(z.shape[0]))).ravel()
        params = ca.vertcat(self.lo_p, self.hi_p, self.slo_p, self.shi_p, self.fixed_p, self.log_m_p)
        level = ca.SX.sym("cutoff")
        cones = [*self.nonneg, *(c for triple in self.exps for c in triple), *(c for cone in self.socs for c in cone)]
        box = ca.Function("box", [params], [ca.vertcat(self.lo_p, *(a for a, _ in self.w_range), 0, 1,
                                                       ca.DM.zeros(len(self.epigraphs))),
                                            ca.vertcat(self.hi_p, *(b for _, b in self.w_range), self.spread_hi,
                                                       ca.exp(self.spread_hi), *self.epigraph_hi)])
        return ConvexProgram(
            names=tuple(self.names), index={nm: i for i, nm in enumerate(self.names)}, n=z.shape[0], q=q,
            rows=_data("rows", cones, z, [params]), obbt_rows=_data("obbt_rows", [objective - level, *cones], z,
                                                                    [params, level]),
            box=box, nonneg=len(self.nonneg), exp_cones=len(self.exps), soc_dims=tuple(len(c) for c in self.socs),
            stage_ends=tuple(st.end for st in terms.stages), weights=tuple(weights),
            point=ca.Function("point", [z], [ca.vertcat(*u, *S, w)]), sums=tuple(_linear(S_i, z) for S_i in S))

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
        k2 = self.exp(self.K[j]) if j in self.K else sp.k[0] ** 2
        se_rep = self.exp(self.SIG[j]) if j in self.SIG else None
        repeat = SymBlock(sp.type, None, self.exp(self.X[j]), k2, 1, self.exp(self.Y[j]), 1, se_rep, 1)
        pairs = [(big, small) for big, small in TOTALS if f"{big}{j}" in self.symbol]
        i = self.t.super_blocks.index(j)
        self.repeats[id(block)] = _Repeats(repeat, self.m[j], [self.symbol[f"{big}{j}"] for big, _ in pairs],
                                           [self.symbol[f"{small}{j}"] for _, small in pairs], self.fixed_p[i],
                                           self.log_m_p[i])
        self._add_slack(self.repeats[id(block)], r_out)
        for big, small in TOTALS:
            if f"{big}{j}" in self.symbol:
                self.link(f"{big}{j}", f"m{j}", f"{small}{j}")
        return block

    def _se_width(self, j: int) -> Any:
        """The SE width ``exp(s)``, with ``s >= log 8`` and above the chord of ``log((btn - 31) / 4)``
        (concave in the log bottleneck) over the node's range above the knee."""
        s, y = self.sig[j], self.y[j]
        self.at_least(s, math.log(8))
        a = ca.fmax(self.lo[f"y{j}"], math.log(SE_KNEE))
        b = ca.fmax(self.hi[f"y{j}"], a + 1e-9)
        fa, fb = ca.log((ca.exp(a) - 31) / 4), ca.log((ca.exp(b) - 31) / 4)
        self.at_least(s, fa + (fb - fa) / (b - a) * (y - a))
        return self.exp(s)

    def _add_slack(self, repeats: _Repeats, r_out: float) -> None:
        """Grow the budgets' slack by the most ``EPS`` repeats can cost: every size at its upper bound."""
        cost = metrics.inner_totals(metrics.inner_block(repeats.block, r_out, False), repeats.log)
        for key, c in zip(COSTS, cost):
            at_upper = ca.Function("c", [self.v], [ca.SX(c.value(ca.exp))])(self.upper)
            self.slack[key] += EPS * float(at_upper)

    def totals_of(self, b: Any, r_in: float, log: Callable[[Any], Any]) -> metrics.BlockTotals:
        """A block's totals: the first block plus the perspective by ``m + EPS`` of its repeats."""
        if id(b) not in self.repeats:
            return metrics.block_totals(b, r_in, log)
        rep = self.repeats[id(b)]
        head = metrics.inner_totals(metrics.inner_block(b, r_in, True), log)
        macs, params, tflops, log_sum, layers = metrics.inner_totals(
            metrics.inner_block(rep.block, r_in / b.s, False), rep.log)
        return metrics.BlockTotals(head[0] + macs.over_repeats(rep), head[1] + params.over_repeats(rep),
                                   head[2] + tflops.over_repeats(rep), head[3] + log_sum, head[4] + rep.m * layers,
                                   r_in / b.s)

    # ---------------------------------------------------------------------------------- rows
    def _budgets(self, terms: metrics.NetworkTerms) -> None:
        """FLOPs and params (grown by the perspective's slack) and layers."""
        problem = self.t.problem
        budgets = problem.budgets
        costs = []
        for budget, scale in (("flops", FLOPS_SCALE), ("params", PARAMS_SCALE)):
            limit = getattr(budgets, budget)
            if limit is not None:
                key = problem.budget_metric(budget)
                costs.append(((1 / scale) * getattr(terms, key), (limit + self.slack[key]) / scale))
        self.costs_at_most(costs)
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
        """``S >= n log(n / rho0)`` per pair of :func:`metrics.rho_terms`: ``n exp(-S / n) <= rho0``."""
        rho0 = self.t.problem.objective.rho0
        for n_layers, s in metrics.rho_terms(terms, self.t.problem.mode):
            self.exps.append((-s, n_layers, ca.SX(rho0)))

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
            # at an optimum w is the lesser envelope, whose terms all grow with u and S (logs of sizes: >= 0)
            s_lo, s_hi = lo_uS[k + i], hi_uS[k + i]
            self.w_range.append((ca.fmin(uh * s_lo + ul * sl - uh * sl, ul * s_lo), uh * s_hi))
        return u, S, w

    def _depth_penalty(self, terms: metrics.NetworkTerms) -> tuple[Any, Any]:
        """The spread variable and the penalty ``exp(spread)`` (an exponential cone): ``spread >= std``
        (tinynas, a second-order cone) or ``spread >= Var`` (paper, a rotated one) capped where the penalty
        exceeds every score."""
        problem = self.t.problem
        depths = metrics.penalised_depths(terms, problem.mode)
        spread, penalty = ca.SX.sym("spread"), ca.SX.sym("penalty")
        self.exps.append((spread, ca.SX(1.0), penalty))
        n = len(depths)
        deviations = [(d - sum(depths) / n) / math.sqrt(n) for d in depths] if n > 1 else []  # Var = sum of squares
        if not deviations:
            self.at_least(spread)
            return spread, penalty
        at = ca.Function("depths", [self.v], [ca.vertcat(*depths)])
        half_range = (ca.mmax(at(self.hi_p)) - ca.mmin(at(self.lo_p))) / 2  # std of values in a range: at most
        if problem.mode == Mode.TINYNAS:
            self.socs.append([spread, *deviations])
            self.spread_hi = half_range
        else:
            self.socs.append([spread + 1, *(2 * d for d in deviations), spread - 1])
            self.at_most(spread, variance_cap(self.t))
            self.spread_hi = ca.fmin(half_range ** 2, variance_cap(self.t))
        return spread, penalty

    def _box(self) -> None:
        """The node's bounds on the log-variables."""
        for i, sym in enumerate(self.syms):
            self.at_least(sym, self.lo_p[i])
            self.at_most(sym, self.hi_p[i])

    def _stage_weights(self, n_stages: int) -> list[float]:
        settings = self.t.problem.objective
        coef = metrics.ENTROPY_COEF[settings.mode]
        return [a * coef for a in metrics.stage_weights(settings, n_stages)]


def _data(name: str, cones: list[Any], z: Any, params: list[Any]) -> ca.Function:
    """``params -> (A, b)`` of the affine ``cones`` (``= b - A z``, the cone rows in order)."""
    rows = ca.vertcat(*cones)
    jac = ca.jacobian(rows, z)
    at_zero = ca.substitute(rows, z, ca.SX.zeros(z.shape[0]))
    return ca.Function(name, params, [-jac, at_zero])


def _linear(expr: Any, z: Any) -> tuple[float, tuple[float, ...]]:
    """``expr``, linear in ``z``, as its constant and coefficients."""
    coef = ca.Function("coef", [z], [ca.jacobian(expr, z)])(ca.DM.zeros(z.shape[0]))
    const = ca.Function("const", [z], [expr])(ca.DM.zeros(z.shape[0]))
    return float(const), tuple(float(a) for a in np.asarray(coef).ravel())
