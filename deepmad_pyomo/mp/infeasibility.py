"""Why a design problem is infeasible: which budgets are too small, and which values would do.

Every statement rests on a SCIP solve of the problem's Pyomo MINLP (:mod:`.formulation`) under a time
limit, and every "feasible" on a design SCIP found and the metrics re-checked (rho and the template; each
budget's value is the design's own, computed exactly). A solve that ends without a proof is reported as
undecided, never guessed. :func:`explain` asks, in turn:

1. Is the problem infeasible? (If not, or undecided, there is nothing to explain.)
2. Is the template infeasible with no budget at all? Then no budget is to blame: the effectiveness bound
   ``rho <= rho0`` is (or, when the template is infeasible without it too, the template's own ranges).
3. For each budget (:class:`Budget`): its *least* value, the least any design needs with every other
   budget removed (SCIP minimises the budget's quantity; the value is that of the design found, the bound
   SCIP proves says no design needs less). A budget below its least is too small whatever the others are.
   These least values are :attr:`Infeasibility.smallest`.
4. The smallest combination that works (:class:`Combination`), the first of:

   - ``each_at_least``: every too-small budget raised to its least, the others as given. No feasible
     combination has a smaller value of any of these budgets, so when it is feasible it is the smallest.
   - ``one_raised``: from those values, for each budget the least value with the others held there; the
     budget that has to rise by the smallest factor.
   - ``scaled``: the least common factor ``t >= 1`` such that those values times ``t`` are feasible,
     found by doubling and then bisection to 1% on SCIP feasibility checks; the values are rounded up to
     4 significant digits (a larger budget only admits more designs).
"""
from __future__ import annotations

import math
import time
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from typing import Any

import pyomo.environ as pyo

from ..enums import StrEnum
from ..errors import DesignError
from ..solve.backends import scip
from ..solve.backends.answer import Termination
from ..space.arch import Architecture
from ..space.metrics import evaluate
from ..space.problem import DesignProblem
from .formulation import FLOPS_SCALE, PARAMS_SCALE, build_pyomo_model, decode

MIN_CHECK_S = 0.5  # SCIP's shortest time limit: a check with less time left is not started
LEAST_GAP = 1e-6  # relative gap of the minimisations
SCALE_TOLERANCE = 0.01  # the scaled combination's factor is least to within 1%
MAX_SCALE = 2.0 ** 20
SHOWN_DIGITS = 4  # significant digits of the scaled combination's values (rounded up)


class Budget(StrEnum):
    """A budget of :class:`~deepmad_pyomo.space.problem.Budgets`, by its field name."""

    FLOPS = "flops"
    PARAMS = "params"
    LAYERS = "layers"
    LATENCY = "latency_ms"


# (model quantity, its budget constraint, the quantity's unit in the budget's) per budget
_MODEL = {Budget.FLOPS: ("flops", "flops_budget", FLOPS_SCALE),
          Budget.PARAMS: ("params", "params_budget", PARAMS_SCALE), Budget.LAYERS: ("layers", "layers_budget", 1.0), Budget.LATENCY: ("latency", "latency_budget", 1.0)}

Budgets = dict[Budget, float]  # budget values; a budget not there is not enforced


class Decision(StrEnum):
    """What one SCIP check proved."""

    FEASIBLE = "feasible"  # a design was found (and re-checked)
    INFEASIBLE = "infeasible"  # SCIP proved there is none
    UNDECIDED = "undecided"  # time ran out, or SCIP's design failed the re-check


class Cause(StrEnum):
    """What makes a problem infeasible."""

    BUDGETS = "budgets"  # some budgets, alone or together
    RHO = "rho"  # the effectiveness bound, whatever the budgets
    TEMPLATE = "template"  # the template's ranges, whatever the budgets and rho0
    UNDECIDED = "undecided"  # the checks did not tell in their time


class Method(StrEnum):
    """How a :class:`Combination` was found (see the module docstring)."""

    EACH_AT_LEAST = "each_at_least"
    ONE_RAISED = "one_raised"
    SCALED = "scaled"


@dataclass(frozen=True)
class Combination:
    """Budget values that are feasible together (a design meets them all), found by ``method``;
    ``scale``: the factor of a ``scaled`` combination; ``raised``: the budget of a ``one_raised`` one."""

    budgets: dict[str, float]
    method: Method
    scale: float | None = None
    raised: str | None = None  # the budget of a ``one_raised`` combination

    def to_dict(self) -> dict[str, Any]:
        d: dict[str, Any] = {"budgets": dict(self.budgets), "method": self.method.value}
        if self.scale is not None:
            d["scale"] = self.scale
        if self.raised is not None:
            d["raised"] = self.raised
        return d


@dataclass
class Infeasibility:
    """Why a problem is infeasible. ``message``: one line naming the fields; ``smallest``: each budget's
    least feasible value with the other budgets removed (undecided ones left out); ``combination``: values
    of every budget that are feasible together (``None``: none found in the time, or no budget is to blame)."""

    message: str
    smallest: dict[str, float]
    combination: Combination | None = None
    cause: Cause = Cause.BUDGETS


# ------------------------------------------------------------------------------------------ checks
@dataclass
class Clock:
    """The time of the checks: each at most ``per_check`` seconds, all of them until ``deadline``."""

    per_check: float
    deadline: float

    @classmethod
    def start(cls, per_check: float, total: float) -> Clock:
        return cls(per_check, time.perf_counter() + total)

    def limit(self) -> float | None:
        """The time limit of the next check (``None``: too little time left to start one)."""
        left = self.deadline - time.perf_counter()
        return min(self.per_check, left) if left >= MIN_CHECK_S else None


@dataclass(frozen=True)
class Answer:
    """One check: its decision; a design that meets every enforced budget (re-checked), what it needs
    of each budget; for a minimisation, the proven least value of the budget (``None``: not proven)."""

    decision: Decision
    needs: Budgets = field(default_factory=dict)
    least: float | None = None

    def meets(self, budgets: Budgets) -> bool:
        """Whether the design meets ``budgets`` exactly (SCIP meets them to its feasibility tolerance, so a
        design may need a little more: then ``budgets`` raised to its needs are feasible)."""
        return self.decision == Decision.FEASIBLE and all(
            self.needs[b] <= v * (1 + 1e-12) for b, v in budgets.items())


def given(problem: DesignProblem) -> Budgets:
    """The problem's budgets."""
    values = {b: getattr(problem.budgets, b.value) for b in Budget}
    return {b: float(v) for b, v in values.items() if v is not None}


def with_budgets(problem: DesignProblem, budgets: Budgets) -> DesignProblem:
    """``problem`` with exactly ``budgets`` enforced (layers as an integer)."""
    values: dict[str, Any] = {b.value: budgets.get(b) for b in Budget}
    if values["layers"] is not None:
        values["layers"] = math.ceil(values["layers"] - 1e-9)
    return problem.with_budgets(**values)


def _budget_value(problem: DesignProblem, budget: Budget, quantity: float) -> float:
    """The budget that a model quantity (scaled, or predicted latency) takes."""
    value = quantity * _MODEL[budget][2]
    return value / (1 - problem.budgets.latency_margin) if budget == Budget.LATENCY else value


def needs(problem: DesignProblem, arch: Architecture, budgets: Iterable[Budget]) -> Budgets:
    """The least value of each of ``budgets`` that ``arch`` meets, computed exactly from the architecture."""
    m = evaluate(arch, problem.objective, problem.resolution)
    out: Budgets = {}
    for b in budgets:
        if b in (Budget.FLOPS, Budget.PARAMS):
            out[b] = float(getattr(m, problem.budget_metric(b.value)))
        elif b == Budget.LAYERS:
            out[b] = float(m.layers)
        else:
            from ..latency import load_cached, predict_ms

            lat = predict_ms(load_cached(problem.budgets.latency_model), arch, resolution=problem.resolution)
            out[b] = _budget_value(problem, b, lat)
    return out


def _model(problem: DesignProblem, budgets: Budgets, minimise: Budget | None, rho: bool) -> pyo.ConcreteModel:
    """The MINLP with ``budgets`` enforced (``minimise``'s constraint dropped, its quantity the objective,
    else no objective), with or without ``rho <= rho0``."""
    if minimise is not None:  # the quantity exists in the model only with its budget: build it, drop it
        budgets = {**budgets, minimise: given(problem)[minimise]}
    m = build_pyomo_model(with_budgets(problem, budgets))
    m.objective.deactivate()
    if not rho:
        m.rho_bound.deactivate()
    if minimise is None:
        m.check = pyo.Objective(expr=0, sense=pyo.maximize)
    else:
        quantity, constraint, _ = _MODEL[minimise]
        getattr(m, constraint).deactivate()
        m.check = pyo.Objective(expr=-getattr(m, quantity), sense=pyo.maximize)
    return m


def _witness(problem: DesignProblem, m: pyo.ConcreteModel, budgets: Iterable[Budget], rho: bool) -> Budgets | None:
    """What the design SCIP left in ``m`` needs of each of ``budgets``, or ``None`` when it fails the exact
    re-check of the template (and of rho, when ``rho``): SCIP meets them only to its tolerance."""
    try:
        arch = decode(m)
    except DesignError:
        return None
    unbudgeted = with_budgets(problem, {})
    if not rho:
        unbudgeted = replace(unbudgeted, objective=replace(unbudgeted.objective, rho0=math.inf))
    return None if unbudgeted.check(arch) else needs(problem, arch, budgets)


def solve(problem: DesignProblem, budgets: Budgets, clock: Clock, minimise: Budget | None = None,
          rho: bool = True) -> Answer:
    """SCIP on ``problem`` with ``budgets``: is there a design (``minimise``: and the least value of that
    budget with its own constraint dropped)?"""
    limit = clock.limit()
    if limit is None:
        return Answer(Decision.UNDECIDED)
    m = _model(problem, budgets, minimise, rho)
    ans = scip.solve_model(m, limit, gap=LEAST_GAP)
    # infeasible_or_unbounded is infeasible here: every variable is bounded
    if ans.termination in (Termination.INFEASIBLE, Termination.UNBOUNDED):
        return Answer(Decision.INFEASIBLE)
    design = _witness(problem, m, {**given(problem), **budgets}, rho) if ans.has_solution else None
    if design is None:
        return Answer(Decision.UNDECIDED)
    least = None
    if minimise is not None and ans.termination == Termination.OPTIMAL and ans.bound is not None:
        least = _budget_value(problem, minimise, -ans.bound)
    return Answer(Decision.FEASIBLE, design, least)


def feasible(problem: DesignProblem, time_limit: float) -> bool | None:
    """``True`` when SCIP finds a design that meets every budget exactly, ``False`` when it proves there is
    none, ``None`` when neither is decided in the time limit."""
    budgets = given(problem)
    ans = solve(problem, budgets, Clock.start(time_limit, time_limit))
    return True if ans.meets(budgets) else False if ans.decision == Decision.INFEASIBLE else None


# ------------------------------------------------------------------------------------- the analysis
@dataclass(frozen=True)
class Least:
    """A budget's least feasible value with the other budgets removed: ``value`` (a design's, so
    feasible), ``proven`` the bound below which no design exists (``None``: undecided)."""

    value: float | None
    proven: float | None

    def too_small(self, limit: float) -> bool:
        return self.proven is not None and limit < self.proven * (1 - 1e-12)


def least_alone(problem: DesignProblem, budget: Budget, clock: Clock) -> Least:
    """The least value of ``budget`` with every other budget removed."""
    ans = solve(problem, {}, clock, minimise=budget)
    if ans.decision != Decision.FEASIBLE or ans.least is None:
        return Least(None, None)
    return Least(max(ans.needs[budget], ans.least), ans.least)


def _cover(budgets: Budgets, design: Budgets) -> Budgets:
    """``budgets`` raised where a design SCIP accepted needs more (within SCIP's tolerance)."""
    return {b: max(v, design.get(b, v)) for b, v in budgets.items()}


def _times(budgets: Budgets, t: float) -> Budgets:
    return {b: _round_up(v * t, SHOWN_DIGITS) for b, v in budgets.items()}


def _round_up(x: float, digits: int) -> float:
    """``x`` rounded up to ``digits`` significant digits."""
    if x <= 0:
        return x
    unit = 10.0 ** (math.floor(math.log10(x)) - digits + 1)
    return math.ceil(x / unit - 1e-9) * unit


def _one_raised(problem: DesignProblem, base: Budgets, clock: Clock) -> Combination | None:
    """The least value of each budget with the others at ``base``; the one that rises least, relatively."""
    best: tuple[float, Combination] | None = None
    for b in base:
        ans = solve(problem, base, clock, minimise=b)
        if ans.decision == Decision.FEASIBLE:
            values = _cover({**base, b: ans.needs[b]}, ans.needs)
            rise = values[b] / base[b] if base[b] > 0 else math.inf
            if best is None or rise < best[0]:
                best = (rise, Combination(_named(values), Method.ONE_RAISED, raised=b.value))
    return None if best is None else best[1]


def _scaled(problem: DesignProblem, base: Budgets, clock: Clock) -> Combination | None:
    """The least common factor ``t >= 1`` (to :data:`SCALE_TOLERANCE`) with ``base`` times ``t`` feasible."""
    lo, hi, found = 1.0, None, None
    t = 2.0
    while hi is None:
        if t > MAX_SCALE:
            return None
        ans = solve(problem, _times(base, t), clock)
        if ans.decision == Decision.UNDECIDED:
            return None
        if ans.decision == Decision.FEASIBLE:
            hi, found = t, _cover(_times(base, t), ans.needs)
        else:
            lo, t = t, 2 * t
    while hi / lo > 1 + SCALE_TOLERANCE:
        mid = math.sqrt(lo * hi)
        ans = solve(problem, _times(base, mid), clock)
        if ans.decision == Decision.UNDECIDED:
            break
        if ans.decision == Decision.FEASIBLE:
            hi, found = mid, _cover(_times(base, mid), ans.needs)
        else:
            lo = mid
    return Combination(_named(found), Method.SCALED, scale=_round_up(hi, SHOWN_DIGITS))


def combination(problem: DesignProblem, base: Budgets, raised: bool, clock: Clock) -> Combination | None:
    """The smallest combination found (see the module docstring); ``base``: the given budgets with every
    too-small one at its least (``raised``: some was)."""
    if raised:
        ans = solve(problem, base, clock)
        if ans.decision == Decision.FEASIBLE:
            return Combination(_named(_cover(base, ans.needs)), Method.EACH_AT_LEAST)
    return _one_raised(problem, base, clock) or _scaled(problem, base, clock)


def _named(budgets: Budgets) -> dict[str, float]:
    return {b.value: (int(v) if b == Budget.LAYERS else v) for b, v in budgets.items()}


def blame_without_budgets(problem: DesignProblem, clock: Clock) -> Cause | None:
    """:attr:`Cause.RHO` or :attr:`Cause.TEMPLATE` when the problem is infeasible with no budget at all,
    :attr:`Cause.UNDECIDED` when that was not decided, ``None`` when the template alone admits designs."""
    alone = solve(problem, {}, clock).decision
    if alone == Decision.FEASIBLE:
        return None
    if alone == Decision.UNDECIDED:
        return Cause.UNDECIDED
    return Cause.RHO if solve(problem, {}, clock, rho=False).decision == Decision.FEASIBLE else Cause.TEMPLATE


# ---------------------------------------------------------------------------------------- messages
def _show(x: float) -> str:
    """A budget value for the message: exact when an integer, else rounded up to 6 significant digits."""
    return str(int(x)) if float(x).is_integer() else f"{_round_up(x, 6):.6g}"


def _unit(problem: DesignProblem, budget: Budget) -> str:
    """What a budget is counted in, when its name does not say (``(macs)``, ``ms``)."""
    if budget == Budget.LATENCY:
        return " ms"
    metric = problem.budget_metric(budget.value) if budget in (Budget.FLOPS, Budget.PARAMS) else budget.value
    return "" if metric == budget.value else f" ({metric})"


def _and(items: list[str]) -> str:
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]


def _values(problem: DesignProblem, values: dict[Budget, float]) -> str:
    return _and([f"{b.value} {_show(v)}{_unit(problem, b)}" for b, v in values.items()])


def _how(combo: Combination) -> str:
    if combo.method == Method.EACH_AT_LEAST:
        return "each too-small budget at its least: the smallest combination"
    if combo.method == Method.ONE_RAISED:
        return f"{combo.raised} raised to its least with the other budgets at these values"
    return f"the least values times the least common factor t = {combo.scale:g} that is feasible"


def _together(problem: DesignProblem, combo: Combination | None) -> str:
    if combo is None:
        return "no feasible combination was found within the time limit"
    values = {Budget(k): v for k, v in combo.budgets.items()}
    return f"together {_values(problem, values)} are feasible ({_how(combo)})"


def budget_message(problem: DesignProblem, limits: Budgets, least: dict[Budget, Least],
                   combo: Combination | None) -> str:
    """One line: which budgets are too small (or that together they are), their least values, what works."""
    known = {b: lst.value for b, lst in least.items() if lst.value is not None}
    small = [b for b, lst in least.items() if lst.too_small(limits[b])]
    if small:
        first = (f"infeasible: {_and([f'budgets.{b.value} = {_show(limits[b])}' for b in small])} "
                 f"{'is' if len(small) == 1 else 'are'} too small: the least feasible with the other budgets "
                 f"removed {'is' if len(small) == 1 else 'are'} {_values(problem, {b: known[b] for b in small})}")
    else:
        first = ("infeasible: no budget is too small alone, the budgets are together"
                 + (f" (the least of each with the others removed: {_values(problem, known)})" if known else ""))
    parts = [first, _together(problem, combo)]
    undecided = [b.value for b, lst in least.items() if lst.proven is None]
    if undecided:
        parts.append(f"the least {_and(undecided)} was not decided within the time limit")
    return "; ".join(parts)


def _cause_message(problem: DesignProblem, cause: Cause) -> str:
    if cause == Cause.RHO:
        return (f"infeasible whatever the budgets: no architecture of the template meets the effectiveness "
                f"bound rho <= objective.rho0 = {problem.objective.rho0:g} (raise rho0, or allow wider or "
                "shallower stages)")
    if cause == Cause.TEMPLATE:
        return ("infeasible whatever the budgets and rho0: the template's ranges (stem, stages, head, "
                "width_step, max_width_ratio) admit no architecture")
    return ("infeasible (SCIP proved it), but the checks that tell which budget or bound is to blame were not "
            "decided within the time limit")


# ------------------------------------------------------------------------------------------- explain
def explain(problem: DesignProblem, time_limit: float = 20.0) -> Infeasibility | None:
    """``None`` if the problem is (or may be) feasible; otherwise what is to blame and what would do.

    ``time_limit``: seconds per SCIP check; the whole analysis stops starting checks after twice that."""
    clock = Clock.start(time_limit, 2 * time_limit)
    limits = given(problem)
    if solve(problem, limits, clock).decision != Decision.INFEASIBLE:
        return None
    cause = blame_without_budgets(problem, clock)
    if cause in (Cause.RHO, Cause.TEMPLATE) or (cause == Cause.UNDECIDED and not limits):
        return Infeasibility(_cause_message(problem, cause), {}, None, cause)
    least = {b: least_alone(problem, b, clock) for b in limits}
    smallest = {b.value: lst.value for b, lst in least.items() if lst.value is not None}
    if all(lst.proven is None for lst in least.values()):
        return Infeasibility(_cause_message(problem, Cause.UNDECIDED), smallest, None, Cause.UNDECIDED)
    base = {b: (least[b].value if least[b].too_small(v) else v) for b, v in limits.items()}
    combo = combination(problem, base, base != limits, clock)
    return Infeasibility(budget_message(problem, limits, least, combo), smallest, combo)


__all__ = ["Budget", "Cause", "Combination", "Decision", "Infeasibility", "Method", "explain", "feasible", "given"]
