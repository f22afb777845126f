"""The bound of a node of the certificate's branch and bound (:mod:`certify`), and bound tightening.

A node fixes a box of super-block depths, a set of kernel sizes per block and a range of widths per
block. Over it the design problem is relaxed to a convex conic program (:mod:`.convex`), compiled once per
problem (the node only changes its data) and solved by Clarabel, an interior-point conic solver whose
optimum of a convex program is global. The solver's answer is not trusted: the returned bound is weak
duality evaluated here with its dual answer (:meth:`_Conic.least`), which a wrong answer can only loosen,
plus a relative margin of ``BOUND_MARGIN`` (far below any gap asked for) for floating-point rounding.
:meth:`Relaxation.tighten` narrows a node's ranges to what can reach a cutoff on the same relaxation
(optimisation-based bound tightening), the last stage's log-width sum included: its range narrows the
McCormick envelope of that stage's entropy.
"""
from __future__ import annotations

import functools
import math
from dataclasses import dataclass
from typing import Any

import clarabel
import numpy as np
import scipy.sparse as sp

from ..space.blocks import btn_range
from ..space.problem import DesignProblem
from .convex import EPS, TOTALS, ConvexProgram, compile_relaxation
from .template import Template

BOUND_MARGIN = 1e-7   # added to the relaxation's bound (relative), for floating-point rounding
ROUNDING = 1e-6       # relative slack when tightened ranges are rounded to integers and width steps
TOLERANCE = 1e-6      # Clarabel's (its defaults: 1e-8; the bounds are checked, so this only loosens them)
# Clarabel's settings, tried in turn while it neither solves nor proves infeasibility: its largest step to
# the cones' boundary and whether it equilibrates (its own 0.99 stalls on a few nodes)
ATTEMPTS = ((0.95, True), (0.99, True), (0.9, False))
SUM_STAGES = 1        # the stages (counted from the last) whose log-width sums bound tightening narrows
Range = tuple[int, int]
SumRange = tuple[float, float]
Scores = dict[tuple[str, int], float]


class _Empty(Exception):
    """Nothing in the node reaches the cutoff."""


@dataclass(frozen=True)
class Node:
    """A part of the design space: depth range per super-block, width range (channels) and kernel sizes
    allowed per block; ``sums``, where bound tightening found them, the range of each stage's log-width sum
    ``S`` over the part that can reach the cutoff (tightens the entropy envelopes)."""

    depths: tuple[Range, ...]
    widths: tuple[Range, ...]
    kernels: tuple[tuple[int, ...], ...]
    sums: tuple[SumRange, ...] = ()

    @property
    def depth_vectors(self) -> int:
        return math.prod(hi - lo + 1 for lo, hi in self.depths)

    @property
    def empty(self) -> bool:
        """A depth, width or sum range is empty."""
        return any(a > b for a, b in self.depths + self.widths + self.sums)

    def replace(self, what: str, i: int, value: Any) -> Node:
        parts = list(getattr(self, what))
        parts[i] = value
        return Node(**{**self.__dict__, what: tuple(parts)})


@dataclass
class RelaxedBound:
    """A node's relaxation solved: ``bound`` (None when infeasible or failed), the point's depths,
    widths (channels, real) and kernel areas, and per branching candidate how much of the bound it
    accounts for: ``("depth", i)``, ``("width", j)``, ``("kernel", j)``."""

    status: str                        # bounded | infeasible | failed: <solver status>
    bound: float | None
    depths: list[float]
    widths: list[float]
    scores: Scores
    x: list[float] | None = None


class Relaxation:
    """The relaxation of ``problem``, compiled once; :meth:`solve` bounds a node, :meth:`tighten` and
    :meth:`bottlenecks` narrow it to what can reach a cutoff."""

    def __init__(self, problem: DesignProblem):
        self.problem = problem
        self.template = Template.of(problem)
        self.program: ConvexProgram = compile_relaxation(self.template)
        program = self.program

    # ---------------------------------------------------------------------------------- nodes
    def root(self) -> Node:
        """The whole design space."""
        t = self.template
        return Node(depths=tuple(tuple(st.L) for st in self.problem.stages),  # type: ignore[misc]
                    widths=tuple((t.step * lo, t.step * hi) for lo, hi in t.width_units),
                    kernels=tuple(tuple(sp.k) for sp in t.specs))

    def bounds(self, node: Node) -> tuple[np.ndarray, np.ndarray]:
        """Variable bounds of ``node`` (the parameters of its McCormick envelopes too)."""
        index, t = self.program.index, self.template
        lo, hi = np.zeros(self.program.n_base), np.zeros(self.program.n_base)

        def put(name: str, a: float, b: float) -> None:
            lo[index[name]], hi[index[name]] = a, b

        for j, (a, b) in enumerate(node.widths):
            put(f"x{j}", math.log(a), math.log(b))
            if f"k{j}" in index:
                ks = node.kernels[j]
                put(f"k{j}", math.log(min(ks) ** 2), math.log(max(ks) ** 2))
        for i, j in enumerate(t.super_blocks):
            sp, (ulo, uhi) = t.specs[j], t.btn_units[j]
            blo, bhi = btn_range(sp.btn, sp.btn_ratio, *node.widths[j])  # the node's widths narrow them
            blo = max(t.step * ulo, blo)
            bhi = max(blo, min(t.step * uhi, bhi))
            put(f"y{j}", math.log(blo), math.log(bhi))
            if f"s{j}" in index:
                put(f"s{j}", math.log(8), math.log(max(8, bhi / 4)))
            dl, dh = node.depths[i]
            put(f"m{j}", dl - 1, dh - 1)
            for big, small in TOTALS:
                if f"{big}{j}" in index:
                    zl, zh = lo[index[f"{small}{j}"]], hi[index[f"{small}{j}"]]
                    put(f"{big}{j}", (dl - 1) * zl, (dh - 1) * zh)
        return lo, hi

    def _params(self, node: Node) -> np.ndarray:
        """The program's parameters at ``node``: its bounds, its stage sums' ranges, then per super-block
        whether it fixes the depth, and the log of the repeats it fixes."""
        lo, hi = self.bounds(node)
        sums = node.sums or ((-math.inf, math.inf),) * self.program.n_stages
        fixed = [float(a == b) for a, b in node.depths]
        log_m = [math.log(max(a - 1, EPS)) for a, _ in node.depths]
        return np.concatenate([lo, hi, [a for a, _ in sums], [b for _, b in sums], fixed, log_m])

    # ---------------------------------------------------------------------------------- bound
    def _conic(self, node: Node, cutoff: float | None = None) -> _Conic:
        """The node's program (with the objective at least ``cutoff`` where given)."""
        p = self._params(node)
        A, b = self.program.rows(p) if cutoff is None else self.program.obbt_rows(p, cutoff)
        lo, hi = self.program.box(p)
        return _Conic(A, b, lo, hi, self.program.nonneg + (cutoff is not None), self.program)

    def solve(self, node: Node) -> RelaxedBound:
        """The node's relaxation, solved: its bound by weak duality (:meth:`_Conic.least`)."""
        status, least, z = self._conic(node).least(self.program.q)
        if status != "bounded":
            return RelaxedBound(status, None, [], [], {})
        value = -least
        bound = value + BOUND_MARGIN * abs(value)
        return RelaxedBound("bounded", bound, *self._branching(node, z), x=[float(t) for t in z])

    def _branching(self, node: Node, z: np.ndarray) -> tuple[list[float], list[float], Scores]:
        """The relaxed point's depths and widths, and how much of the bound each candidate accounts for:
        a stage's McCormick gap (its width), a super-block's link gap ``|X - m x|`` and depth
        fractionality, a kernel area between two choices."""
        k = self.program.n_stages
        pt = np.asarray(self.program.point(z)).ravel()
        u, S, w = pt[:k], pt[k:2 * k], pt[2 * k:]
        scores: Scores = {}
        for i, e in enumerate(self.program.stage_ends):
            if node.widths[e][0] < node.widths[e][1]:
                gap = max(0.0, w[i] - u[i] * S[i])
                scores["width", e] = scores.get(("width", e), 0.0) + self.program.weights[i] * gap
        reach = self._entropy_reach(u)
        depths = [self._value(z, f"m{j}") + 1 for j in self.template.super_blocks]
        scores.update(self._depth_scores(node, z, reach))
        scores.update(self._kernel_scores(node, z, reach, depths))
        widths = [math.exp(self._value(z, f"x{j}")) for j in range(len(self.template.specs))]
        return depths, widths, scores

    def _value(self, z: np.ndarray, name: str) -> float:
        return z[self.program.index[name]]

    def _entropy_reach(self, u: np.ndarray) -> dict[int, float]:
        """A block's entropy weight: the stage weights times ``u`` of every stage its log-widths reach."""
        ends, weights = self.program.stage_ends, self.program.weights
        return {j: sum(weights[i] * u[i] for i, e in enumerate(ends) if e >= j)
                for j in range(len(self.template.specs))}

    def _depth_scores(self, node: Node, z: np.ndarray, reach: dict[int, float]) -> Scores:
        """Per super-block with a depth choice: its link gaps and depth fractionality, weighted."""
        val, index = self._value, self.program.index
        scores: Scores = {}
        for i, j in enumerate(self.template.super_blocks):
            lo_d, hi_d = node.depths[i]
            if lo_d < hi_d:
                m = val(z, f"m{j}")
                gap = sum(abs(val(z, f"{big}{j}") - m * val(z, f"{small}{j}")) * mult
                          for big, small, mult in (("X", "x", 1), ("Y", "y", 2), ("K", "k", 1))
                          if f"{big}{j}" in index)
                frac = abs(m - round(m))
                per_block = val(z, f"x{j}") + 2 * val(z, f"y{j}") + (val(z, f"k{j}") if f"k{j}" in index else 0)
                scores["depth", i] = reach[j] * (gap + frac * per_block)
        return scores

    def _kernel_scores(self, node: Node, z: np.ndarray, reach: dict[int, float], depths: list[float]) -> Scores:
        """Per block with a kernel choice: how far its kernel area is from the nearest allowed, weighted."""
        sb = self.template.super_blocks
        scores: Scores = {}
        for j, ks in enumerate(node.kernels):
            if len(ks) > 1 and f"k{j}" in self.program.index:
                kv = self._value(z, f"k{j}")
                dist = min(abs(kv - math.log(kk * kk)) for kk in ks)
                blocks = depths[sb.index(j)] if j in sb else 1.0
                scores["kernel", j] = reach[j] * dist * blocks
        return scores

    # ---------------------------------------------------------------------------------- tighten
    def tighten(self, node: Node, cutoff: float) -> Node | None:
        """``node`` with every depth and width range narrowed to what can still reach ``cutoff`` in the
        relaxation (optimisation-based bound tightening: the least and largest value of each depth, then of
        each log-width, each solve on the ranges narrowed so far, rounded outward to integers and to the
        width step); ``None`` when nothing in the node can."""
        step = self.template.step
        current = node
        try:
            for i, (a, b) in enumerate(node.depths):
                if a < b:
                    low, high = self._extremes(current, f"m{self.template.super_blocks[i]}", cutoff)
                    current = current.replace("depths", i, _depth_range(a, b, low, high))
            for j, (a, b) in enumerate(node.widths):
                if a < b:
                    low, high = self._extremes(current, f"x{j}", cutoff)
                    current = current.replace("widths", j, _width_range(a, b, low, high, step))
            current = self._tighten_sums(current, cutoff)
        except _Empty:
            return None
        return None if current.empty else current

    def _tighten_sums(self, node: Node, cutoff: float) -> Node:
        """``node`` with the log-width sum of the stages in ``SUM_STAGES`` (counted from the last) narrowed to
        what can reach ``cutoff``."""
        k = self.program.n_stages
        sums = list(node.sums or ((-math.inf, math.inf),) * k)
        for i in range(max(0, k - SUM_STAGES), k):
            const, coef = self.program.sums[i]
            low, high = self._extremes_of(node, np.asarray(coef), cutoff)
            a, b = sums[i]
            sums[i] = (a if low is None else max(a, const + low - ROUNDING * abs(const + low)),
                       b if high is None else min(b, const + high + ROUNDING * abs(const + high)))
            node = Node(node.depths, node.widths, node.kernels, tuple(sums))
        return node

    def bottlenecks(self, node: Node, cutoff: float) -> dict[int, tuple[float, float]] | None:
        """Per super-block (block index), the range of bottleneck widths (channels, real) that can still
        reach ``cutoff`` in the node's relaxation; ranges the solver gives no answer for are left out. ``None``
        when nothing in the node can."""
        out = {}
        try:
            for j in self.template.super_blocks:
                low, high = self._extremes(node, f"y{j}", cutoff)
                if low is not None and high is not None:
                    out[j] = (math.exp(low) * (1 - ROUNDING), math.exp(high) * (1 + ROUNDING))
        except _Empty:
            return None
        return out

    def _extremes(self, node: Node, name: str, cutoff: float) -> tuple[float | None, float | None]:
        """The least and largest value of variable ``name`` over the node's relaxation with its objective at
        least ``cutoff`` (None where the solver gives no answer). Raises ``_Empty`` when nothing reaches it."""
        c = np.zeros(self.program.n)
        c[self.program.index[name]] = 1.0
        return self._extremes_of(node, c, cutoff)

    def _extremes_of(self, node: Node, c: np.ndarray, cutoff: float) -> tuple[float | None, float | None]:
        """The least and largest value of ``c . z`` over the node's relaxation with its objective at least
        ``cutoff`` (None where the solver gives no answer). Raises ``_Empty`` when nothing reaches it."""
        if node.empty:
            raise _Empty
        conic = self._conic(node, cutoff)
        ends: list[float | None] = []
        for sign in (1.0, -1.0):
            status, least, _ = conic.least(sign * c)
            if status == "infeasible":
                raise _Empty
            ends.append(sign * least if least is not None else None)
        return ends[0], ends[1]


class _Conic:
    """One node's conic program, ``A z + s = b`` with ``s`` in the cones (``nonneg`` rows, then the
    program's exponential and second-order cones), and ``lo``, ``hi``: a box of the variables that holds an
    optimum (of any objective on the log-variables)."""

    def __init__(self, A: Any, b: Any, lo: Any, hi: Any, nonneg: int, program: ConvexProgram):
        a = A.sparsity()
        self.A = sp.csc_matrix((np.asarray(A.nonzeros()), a.row(), a.colind()), shape=a.shape)
        self.b, self.lo, self.hi = np.asarray(b).ravel(), np.asarray(lo).ravel(), np.asarray(hi).ravel()
        self.nonneg, self.exp_cones, self.soc_dims = nonneg, program.exp_cones, program.soc_dims
        self.cones = _cones(nonneg, self.exp_cones, self.soc_dims)
        self._solver: Any = None  # the first attempt's solver, kept for the next objective

    def least(self, q: np.ndarray) -> tuple[str, float | None, np.ndarray | None]:
        """``min q.z``: ``bounded`` with a proven lower bound (and the solver's point), ``infeasible`` when
        proven so, else ``failed: <solver status>``. Clarabel with each of ``ATTEMPTS``' settings until it
        solves or finds a certificate of infeasibility; either is checked here, not trusted (:meth:`_weak`)."""
        q = np.asarray(q, float)
        for n, attempt in enumerate(ATTEMPTS):
            sol = self._first(q) if n == 0 else clarabel.DefaultSolver(
                _no_quadratic(len(q)), q, self.A, self.b, self.cones, _settings(*attempt)).solve()
            if sol.status == clarabel.SolverStatus.Solved:
                return "bounded", self._weak(np.asarray(sol.z), q), np.asarray(sol.x)
            if sol.status == clarabel.SolverStatus.PrimalInfeasible and self._weak(np.asarray(sol.z)) > 0:
                return "infeasible", None, None
        return f"failed: {sol.status}", None, None

    def _first(self, q: np.ndarray) -> Any:
        """The first attempt, on this program's solver given the new objective when it has one (its
        factorisation's ordering kept: 1.2x faster; an answer depends on the objectives solved before it,
        the same sequence in every run)."""
        if self._solver is None:
            self._solver = clarabel.DefaultSolver(_no_quadratic(len(q)), q, self.A, self.b, self.cones,
                                                  _settings(*ATTEMPTS[0]))
        else:
            self._solver.update(q=q)
        return self._solver.solve()

    def _weak(self, y: np.ndarray, q: np.ndarray | None = None) -> float:
        """Weak duality with ``y`` moved into the dual cones: for every ``z`` of the program in the box,
        ``q.z = r.z - b.y + y.s >= r.z - b.y`` with ``r = q + A'y`` (``y.s >= 0``), so the least of ``r.z`` over
        the box minus ``b.y`` bounds ``min q.z`` from below. Without ``q``, ``y`` a certificate of
        infeasibility: a result above 0 proves there is no ``z`` (``0 <= y.s = b.y - r.z``)."""
        y = self._dual_cone(y)
        r = self.A.T @ y + (q if q is not None else 0.0)
        return float(np.minimum(r * self.lo, r * self.hi).sum()) - float(self.b @ y)

    def _dual_cone(self, y: np.ndarray) -> np.ndarray:
        """``y`` moved into the dual cones: non-negative rows clipped at 0; an exponential cone's dual
        ``(u, v, w)`` (``u < 0``, ``-u exp(v / u) <= e w``, or ``u = 0``, ``v, w >= 0``) by raising ``w`` (or,
        with ``u >= 0``, clipping); a second-order cone (its own dual) by raising its first entry."""
        y = y.copy()
        n = self.nonneg
        y[:n] = np.maximum(y[:n], 0.0)
        e = y[n:n + 3 * self.exp_cones].reshape(-1, 3)
        u, v = e[:, 0], e[:, 1]
        neg = u < 0
        with np.errstate(over="ignore"):
            need = np.where(neg, -u * np.exp(v / np.where(neg, u, -1.0) - 1), 0.0)
        e[:, 2] = np.maximum(e[:, 2], need)
        e[~neg, 0] = 0.0
        e[~neg, 1:] = np.maximum(e[~neg, 1:], 0.0)
        y[n:n + 3 * self.exp_cones] = e.ravel()
        at = n + 3 * self.exp_cones
        for d in self.soc_dims:
            y[at] = max(y[at], float(np.linalg.norm(y[at + 1:at + d])))
            at += d
        return y


@functools.cache
def _cones(nonneg: int, exp_cones: int, soc_dims: tuple[int, ...]) -> list[Any]:
    """Clarabel's cones of a program of this shape, made once."""
    return [clarabel.NonnegativeConeT(nonneg), *(clarabel.ExponentialConeT() for _ in range(exp_cones)),
            *(clarabel.SecondOrderConeT(d) for d in soc_dims)]


@functools.cache
def _no_quadratic(n: int) -> sp.csc_matrix:
    return sp.csc_matrix((n, n))


@functools.cache
def _settings(step: float, equilibrate: bool) -> Any:
    settings = clarabel.DefaultSettings()
    settings.verbose = False
    settings.max_step_fraction, settings.equilibrate_enable = step, equilibrate
    settings.iterative_refinement_enable = False  # 1.4x faster on these small programs, same answers
    # 1.1x faster than its defaults; the bounds it gives are about 2e-6 (relative) looser, far below a gap
    settings.tol_gap_abs = settings.tol_gap_rel = settings.tol_feas = TOLERANCE
    settings.tol_ktratio = 10 * TOLERANCE
    return settings


def _depth_range(a: int, b: int, low: float | None, high: float | None) -> Range:
    """``[a, b]`` narrowed to the depths ``m + 1`` for ``m`` in ``[low, high]``, rounded outward."""
    return (a if low is None else max(a, math.ceil(low + 1 - ROUNDING)),
            b if high is None else min(b, math.floor(high + 1 + ROUNDING)))


def _width_range(a: int, b: int, low: float | None, high: float | None, step: int) -> Range:
    """``[a, b]`` narrowed to the widths ``exp(x)`` for ``x`` in ``[low, high]``, rounded outward to steps."""
    return (a if low is None else max(a, step * math.ceil(math.exp(low) * (1 - ROUNDING) / step)),
            b if high is None else min(b, step * math.floor(math.exp(high) * (1 + ROUNDING) / step)))
