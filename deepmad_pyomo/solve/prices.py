"""The price of each budget: which constraints bind a design, and what relaxing each would buy, proven.

The constraints (:class:`Constraint`) are the problem's budgets (MACs/FLOPs, params, layers, latency),
the effectiveness bound ``rho <= rho0``, and two groups of template caps: every block's largest width
(``width_caps``) and every super-block's largest depth (``depth_caps``). :func:`bindings` says, for a
design, how much of each it uses; a constraint *binds* when the design is within :data:`BINDING_SLACK`
of its limit (a cap: when some block sits at its cap).

A *price* is what relaxing one constraint by a fraction (1% and 10%, :data:`RELAXATIONS`) buys in
objective over the design, as a proven interval ``[low, high]``:

- from a *re-solve*: the relaxed problem (:func:`relaxed`) certified by the default route, starting from
  the better of the design (which meets the relaxed problem) and the route's own quick designs; ``low = new incumbent - old`` (never below 0: the old
  design is still feasible), ``high = new proven bound - old`` (``None`` when no bound was proven). When the
  re-solve is proven optimal the interval is as narrow as its gap;
- from a *certified front or grid* (:class:`Certified`, ``deepmad pareto`` over one or two budgets) that
  covers the relaxed budget: the optimum is non-decreasing in every budget, so at the relaxed budgets ``t``
  it is at least every certified design that meets ``t`` (a design found at budgets ``<= t``, or one that
  uses no more than ``t``) and at most every proven bound at budgets ``>= t`` (:func:`certified_price`).
  No solve; ``None`` beyond the front. :func:`prices` takes it where the front holds a point *at* the relaxed
  level (:func:`at_level`), a re-solve otherwise.

Never a local (Lagrange) multiplier: the problem is a nonconvex MINLP, and only these are proven. Integer
limits (layers, depths) and widths are relaxed to at least their next value (a 1% relaxation of a depth cap
of 12 allows 13; a width cap grows by at least one width step).
"""
from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Any, Callable, Iterable, Mapping, Sequence

from ..enums import StrEnum
from ..space.arch import Architecture
from ..space.limits import MAX_DEPTH, MAX_LAYERS, MAX_WIDTH
from ..space.metrics import Metrics, evaluate
from ..space.problem import ConvSpec, DesignProblem
from .results import DesignResult

RELAXATIONS = (0.01, 0.10)
BINDING_SLACK = 0.01  # a constraint binds when the design uses at least 99% of it


class Constraint(StrEnum):
    """A constraint that has a price."""

    FLOPS = "flops"
    PARAMS = "params"
    LAYERS = "layers"
    LATENCY = "latency_ms"
    RHO = "rho"
    WIDTH_CAPS = "width_caps"
    DEPTH_CAPS = "depth_caps"


BUDGETS = (Constraint.FLOPS, Constraint.PARAMS, Constraint.LAYERS, Constraint.LATENCY)
CAPS = (Constraint.WIDTH_CAPS, Constraint.DEPTH_CAPS)


class PriceSource(StrEnum):
    RESOLVE = "re-solve"
    FRONT = "front"


def constraints(problem: DesignProblem) -> list[Constraint]:
    """The constraints of ``problem``: its budgets that are set, rho, the width and depth caps."""
    return [c for c in BUDGETS if getattr(problem.budgets, c.value) is not None] + [Constraint.RHO, *CAPS]


# --------------------------------------------------------------------------------------- bindings
@dataclass(frozen=True)
class Binding:
    """How much of a constraint a design uses: ``used`` of ``limit`` (for caps: the tightest block),
    ``slack = 1 - used / limit``, whether it ``binds``, and (caps) which blocks sit at their cap."""

    constraint: Constraint
    used: float
    limit: float
    slack: float
    binds: bool
    at_cap: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return asdict(self) | {"constraint": self.constraint.value, "at_cap": list(self.at_cap)}


def _used(problem: DesignProblem, arch: Architecture, m: Metrics, c: Constraint) -> tuple[float, float]:
    """(used, limit) of a budget or rho."""
    if c == Constraint.RHO:
        return m.rho, problem.objective.rho0
    if c == Constraint.LAYERS:
        return m.layers, problem.budgets.layers  # type: ignore[return-value]
    if c == Constraint.LATENCY:
        from ..latency import load_cached, predict_ms

        model = load_cached(problem.budgets.latency_model)  # type: ignore[arg-type]
        return predict_ms(model, arch, resolution=problem.resolution), problem.budgets.latency_limit_ms  # type: ignore
    return getattr(m, problem.budget_metric(c.value)), getattr(problem.budgets, c.value)


def _cap_binding(problem: DesignProblem, arch: Architecture, c: Constraint) -> Binding:
    """The tightest block against its width (or depth) cap, and every block at its cap."""
    rows = []
    for i, (b, sp) in enumerate(zip(arch.blocks, problem.specs)):
        if c == Constraint.WIDTH_CAPS:
            rows.append((f"blocks[{i}].out", b.c_out, sp.out[1]))
        elif not isinstance(sp, ConvSpec):
            rows.append((f"blocks[{i}].L", b.L, sp.L[1]))
    at = tuple(f"{name} {used}" for name, used, cap in rows if used >= cap)
    name, used, cap = min(rows, key=lambda r: 1 - r[1] / r[2])
    return Binding(c, used, cap, 1 - used / cap, bool(at), at)


def bindings(problem: DesignProblem, arch: Architecture, metrics: Metrics | None = None) -> list[Binding]:
    """How much of every constraint of ``problem`` the design ``arch`` uses."""
    m = metrics or evaluate(arch, problem.objective, problem.resolution)
    out = []
    for c in constraints(problem):
        if c in CAPS:
            out.append(_cap_binding(problem, arch, c))
            continue
        used, limit = _used(problem, arch, m, c)
        slack = 1 - used / limit
        out.append(Binding(c, float(used), float(limit), slack, slack <= BINDING_SLACK))
    return out


# --------------------------------------------------------------------------------------- relaxing
def _up(x: float, step: int) -> int:
    return step * math.ceil(x / step - 1e-9)


def relaxed_limit(problem: DesignProblem, c: Constraint, fraction: float) -> float:
    """The relaxed limit of a budget or rho (integers: at least the next one)."""
    if c == Constraint.RHO:
        return problem.objective.rho0 * (1 + fraction)
    value = getattr(problem.budgets, c.value)
    if c == Constraint.LAYERS:
        return min(MAX_LAYERS.most, max(value + 1, math.ceil(value * (1 + fraction) - 1e-9)))
    return value * (1 + fraction)


def relaxed(problem: DesignProblem, c: Constraint, fraction: float) -> DesignProblem:
    """``problem`` with constraint ``c`` relaxed by ``fraction`` (0.01 is 1%), checked like a problem file."""
    d = problem.to_dict()
    if c == Constraint.RHO:
        d["objective"]["rho0"] = relaxed_limit(problem, c, fraction)
    elif c == Constraint.WIDTH_CAPS:
        step = problem.width_step
        for row in [d["stem"], *d["stages"]] + ([d["head"]] if "head" in d else []):
            lo, hi = row["out"]
            row["out"] = [lo, min(MAX_WIDTH.most, max(hi + step, _up(hi * (1 + fraction), step)))]
            if row.get("btn"):
                blo, bhi = row["btn"]
                row["btn"] = [blo, min(MAX_WIDTH.most, max(bhi + step, _up(bhi * (1 + fraction), step)))]
    elif c == Constraint.DEPTH_CAPS:
        for row in d["stages"]:
            lo, hi = row["L"]
            row["L"] = [lo, min(MAX_DEPTH.most, max(hi + 1, math.ceil(hi * (1 + fraction) - 1e-9)))]
    else:
        d["budgets"][c.value] = relaxed_limit(problem, c, fraction)
    return DesignProblem.from_dict(d, name=problem.name)


# ----------------------------------------------------------------------------------------- prices
@dataclass(frozen=True)
class Price:
    """What relaxing ``constraint`` by ``fraction`` buys over the design's ``objective``: proven to lie in
    ``[gain_low, gain_high]`` (``gain_high`` ``None``: no bound proven). ``relaxed_to``: the relaxed limit
    (caps: ``None``, every cap grows by the fraction). ``status``, ``objective``, ``bound``: the relaxed
    problem's certified answer (a front: its best design and least bound there); ``time_s``: its solve."""

    constraint: Constraint
    fraction: float
    relaxed_to: float | None
    source: PriceSource
    gain_low: float
    gain_high: float | None
    status: str
    objective: float | None
    bound: float | None
    time_s: float = 0.0

    @property
    def proven(self) -> bool:
        return self.gain_high is not None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self) | {"constraint": self.constraint.value, "source": self.source.value}


def _interval(old: float, objective: float | None, bound: float | None) -> tuple[float, float | None]:
    low = max(0.0, (objective if objective is not None else old) - old)
    high = None if bound is None or not math.isfinite(bound) else max(low, bound - old)
    return low, high


AT_LEVEL = 1e-3  # a point lies at a relaxed level when its budgets are at most this much (relative) above it
TOL = 1e-12  # budgets are compared as the problem checks them


@dataclass(frozen=True)
class CertifiedPoint:
    """A point of a certified front or grid: at ``budgets`` (budget name -> value) its design has ``objective``
    (``None``: no design) and ``uses`` of each budget (in the budget's units), and ``bound`` is proven."""

    budgets: Mapping[str, float]
    objective: float | None
    bound: float | None
    uses: Mapping[str, float] | None = None

    def meets(self, target: Mapping[str, float]) -> bool:
        """Whether its design meets the budgets ``target`` (every other constraint is the front's own)."""
        if self.objective is None:
            return False
        uses = self.uses or self.budgets
        return all(min(self.budgets[k], uses.get(k, math.inf)) <= v * (1 + TOL) for k, v in target.items())

    def covers(self, target: Mapping[str, float]) -> bool:
        """Whether its budgets are all at least ``target``'s (its bound holds there)."""
        return self.bound is not None and all(self.budgets[k] >= v * (1 - TOL) for k, v in target.items())


@dataclass(frozen=True)
class Certified:
    """The certified points of a front (one budget) or grid (two) of one problem, and the budgets they sweep."""

    budgets: tuple[Constraint, ...]
    points: tuple[CertifiedPoint, ...]


def relaxed_target(at: Mapping[str, float], c: Constraint, fraction: float) -> dict[str, float]:
    """The budgets ``at`` with ``c`` relaxed by ``fraction``."""
    return dict(at) | {c.value: at[c.value] * (1 + fraction)}


def certified_price(points: Sequence[CertifiedPoint], c: Constraint, at: Mapping[str, float], fraction: float,
                    old: float) -> Price:
    """The price of relaxing budget ``c`` of the problem at budgets ``at`` (every budget the points sweep) by
    ``fraction``, read off certified points: at least the best design that meets the relaxed budgets, at most
    the least proven bound at budgets at least those."""
    target = relaxed_target(at, c, fraction)
    objective = max((p.objective for p in points if p.meets(target)), default=None)  # type: ignore[type-var]
    bound = min((p.bound for p in points if p.covers(target)), default=None)  # type: ignore[type-var]
    low, high = _interval(old, objective, bound)
    return Price(c, fraction, target[c.value], PriceSource.FRONT, low, high,
                 "front" if bound is not None else "beyond the front", objective, bound)


def at_level(points: Sequence[CertifiedPoint], c: Constraint, at: Mapping[str, float], fraction: float) -> bool:
    """Whether some point lies at the relaxed budgets: each of its budgets at least the relaxed one and at most
    :data:`AT_LEVEL` above it (its bound is then the relaxed problem's, to the front's rounding)."""
    target = relaxed_target(at, c, fraction)
    return any(p.covers(target) and all(p.budgets[k] <= v * (1 + AT_LEVEL) for k, v in target.items())
               for p in points)


Solve = Callable[[DesignProblem, Architecture], DesignResult]


def certified_solve(time_limit: float = 120.0, gap: float = 1e-4, workers: int = 1,
                    scheduler: str | None = None) -> Solve:
    """A re-solve by the default route (certify), from the better of the design being priced and its own
    quick designs."""
    from .design import design
    from .options import QUICK_DESIGN, SolveOptions
    from .registry import CERTIFY

    def solve(problem: DesignProblem, warm: Architecture) -> DesignResult:
        return design(problem, CERTIFY, SolveOptions(time_limit=time_limit, gap=gap, workers=workers,
                                                     scheduler=scheduler, warm_start=warm,
                                                     extra={QUICK_DESIGN: True}))
    return solve


def resolve_price(problem: DesignProblem, arch: Architecture, old: float, c: Constraint, fraction: float,
                  solve: Solve) -> Price:
    """The price of relaxing ``c`` by ``fraction``, from a certified re-solve of the relaxed problem."""
    res = solve(relaxed(problem, c, fraction), arch)
    low, high = _interval(old, res.objective, res.bound)
    limit = None if c in CAPS else relaxed_limit(problem, c, fraction)
    return Price(c, fraction, limit, PriceSource.RESOLVE, low, high, res.status.value, res.objective, res.bound,
                 round(res.time_s, 3))


def front_budgets(problem: DesignProblem, front: Certified) -> dict[str, float]:
    """The problem's value of each budget the front sweeps."""
    return {c.value: getattr(problem.budgets, c.value) for c in front.budgets}


def prices(problem: DesignProblem, arch: Architecture, which: Iterable[Constraint] | None = None,
           fractions: Sequence[float] = RELAXATIONS, solve: Solve | None = None,
           fronts: Sequence[Certified] = ()) -> list[Price]:
    """The price of each constraint in ``which`` (default: those that bind ``arch``) at each fraction: read off
    the first of ``fronts`` (certified fronts or grids of this problem) that sweeps it and holds a point at the
    relaxed level (:func:`at_level`), else a certified re-solve."""
    old = evaluate(arch, problem.objective, problem.resolution).objective
    if which is None:
        which = [b.constraint for b in bindings(problem, arch) if b.binds]
    solve = solve or certified_solve()
    out = []
    for c in which:
        for f in fractions:
            held = [certified_price(fr.points, c, front_budgets(problem, fr), f, old) for fr in fronts
                    if c in fr.budgets and at_level(fr.points, c, front_budgets(problem, fr), f)]
            out.append(held[0] if held else resolve_price(problem, arch, old, c, f, solve))
    return out


def prices_report(problem: DesignProblem, result: DesignResult, prices_: Sequence[Price]) -> dict[str, Any]:
    """The bindings and prices of a design as JSON data."""
    assert result.architecture is not None
    return {"relaxations": list(RELAXATIONS), "binding_slack": BINDING_SLACK,
            "bindings": [b.to_dict() for b in bindings(problem, result.architecture)],
            "prices": [p.to_dict() for p in prices_]}


def _num(x: float) -> str:
    return f"{x:,.0f}" if abs(x) >= 1000 else f"{x:.4g}"


def format_prices(problem: DesignProblem, arch: Architecture, prices_: Sequence[Price]) -> str:
    """The bindings and prices as text lines."""
    lines = ["Constraints (binds: within 1% of its limit; caps: some block at its cap):"]
    for b in bindings(problem, arch):
        where = f"  at cap: {', '.join(b.at_cap)}" if b.at_cap else ""
        lines.append(f"  {b.constraint.value:<11} {'binds' if b.binds else 'slack':<5} uses {_num(b.used)} of "
                     f"{_num(b.limit)} ({100 * b.slack:.2f}% left){where}")
    priced = {p.constraint for p in prices_}
    unpriced = [b.constraint.value for b in bindings(problem, arch) if b.constraint not in priced]
    if prices_:
        lines.append("Prices (what relaxing it buys in objective over this design, proven interval):")
    for p in prices_:
        high = "unbounded (no bound proven)" if p.gain_high is None else f"{p.gain_high:,.2f}"
        lines.append(f"  {p.constraint.value:<11} +{100 * p.fraction:g}%: [{p.gain_low:,.2f}, {high}]  "
                     f"({p.source.value}: {p.status}{f', {p.time_s:.1f} s' if p.time_s else ''})")
    if unpriced:
        lines.append(f"  not priced: {', '.join(unpriced)} (--prices all prices every constraint)")
    return "\n".join(lines)


__all__ = ["AT_LEVEL", "BINDING_SLACK", "RELAXATIONS", "Binding", "Certified", "CertifiedPoint", "Constraint", "Price",
           "PriceSource", "at_level", "bindings", "certified_price", "certified_solve", "constraints", "format_prices",
           "front_budgets", "prices", "prices_report", "relaxed", "relaxed_limit", "relaxed_target", "resolve_price"]
