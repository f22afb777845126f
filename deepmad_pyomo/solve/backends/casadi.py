"""Real Ipopt and Bonmin (the COIN-OR builds bundled in the ``casadi`` wheel) on a Pyomo model.

The Pyomo expression tree is translated node by node into CasADi symbols, so the solvers get exact
first and second derivatives from CasADi's AD. Integer variables are passed to Bonmin as discrete.
"""
from __future__ import annotations

import contextlib
import ctypes
import math
import os
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import casadi as ca
import pyomo.environ as pyo
from pyomo.core import expr as EXPR
from pyomo.core.expr.numvalue import native_numeric_types
from pyomo.core.expr.visitor import StreamBasedExpressionVisitor, identify_variables

from .answer import SolverAnswer, Termination

# CasADi's return status of Ipopt and Bonmin -> how the solve ended (anything else: an error)
_TERMINATION = {
    "Solve_Succeeded": Termination.LOCALLY_OPTIMAL,
    "SUCCESS": Termination.LOCALLY_OPTIMAL,  # Bonmin
    "Solved_To_Acceptable_Level": Termination.FEASIBLE,
    "Feasible_Point_Found": Termination.FEASIBLE,
    "Infeasible_Problem_Detected": Termination.INFEASIBLE,
    "INFEASIBLE": Termination.INFEASIBLE,  # Bonmin
    "Maximum_CpuTime_Exceeded": Termination.TIME_LIMIT,
    "Maximum_WallTime_Exceeded": Termination.TIME_LIMIT,
    "LIMIT_EXCEEDED": Termination.TIME_LIMIT,  # Bonmin: a time or node limit
    "Maximum_Iterations_Exceeded": Termination.ITERATION_LIMIT,
}
# statuses with a usable point: Bonmin at a limit keeps its incumbent (finite f; with none f is about 1e50)
_USABLE = ("Solved_To_Acceptable_Level", "LIMIT_EXCEEDED")

# Pyomo's unary functions CasADi has (by the name Pyomo gives them); ``abs`` is Pyomo's AbsExpression
_UNARY = {"log": ca.log, "exp": ca.exp, "sqrt": ca.sqrt, "log10": ca.log10, "sin": ca.sin, "cos": ca.cos,
          "tan": ca.tan, "asin": ca.asin, "acos": ca.acos, "atan": ca.atan, "sinh": ca.sinh, "cosh": ca.cosh,
          "tanh": ca.tanh, "asinh": ca.asinh, "acosh": ca.acosh, "atanh": ca.atanh, "ceil": ca.ceil,
          "floor": ca.floor, "abs": ca.fabs}
# expression nodes whose own operation (sum, product, power...) works on CasADi symbols as it is
_ARITHMETIC = (EXPR.SumExpression, EXPR.ProductExpression, EXPR.DivisionExpression, EXPR.PowExpression,
               EXPR.NegationExpression, EXPR.MonomialTermExpression)


# Bonmin without its log (B-BB still prints its NLP solves: :func:`silenced_stdout` drops them)
BONMIN_QUIET: dict[str, Any] = {"sb": "yes", "print_level": 0, **{f"{k}_log_level": 0 for k in
                                                                  ("bb", "oa", "nlp", "milp", "fp")}}


@contextlib.contextmanager
def silenced_stdout() -> Iterator[None]:
    """What is printed on stdout (descriptor 1, and Python's ``sys.stdout``) is dropped while the block runs."""
    sys.stdout.flush()
    ctypes.CDLL(None).fflush(None)
    saved = os.dup(1)
    try:
        with open(os.devnull, "w") as null:
            os.dup2(null.fileno(), 1)
            with contextlib.redirect_stdout(null):  # CasADi prints through Python's sys.stdout when it is no file
                yield
    finally:
        ctypes.CDLL(None).fflush(None)  # C's buffered stdout (C++'s std::cout writes through it) goes first
        os.dup2(saved, 1)
        os.close(saved)


class UntranslatableError(ValueError):
    """A part of a Pyomo model the CasADi translation does not handle; the message names the component."""


class _ToCasadi(StreamBasedExpressionVisitor):
    """A Pyomo expression as a CasADi symbol: free variables are ``symbols``, anything without a free
    variable is its value."""

    def __init__(self, symbols: dict[int, Any]):
        super().__init__()
        self.symbols = symbols

    def beforeChild(self, node: Any, child: Any, child_idx: int) -> tuple[bool, Any]:
        if type(child) in native_numeric_types:
            return False, child
        if child.is_variable_type() or not child.is_potentially_variable():
            return False, self.leaf(child)
        return True, None

    def leaf(self, node: Any) -> Any:
        if node.is_variable_type() and not node.fixed:
            if id(node) not in self.symbols:
                raise UntranslatableError(f"variable {node.name} is not in an active block of the model")
            return self.symbols[id(node)]
        return pyo.value(node)  # params, fixed variables and other constants

    def exitNode(self, node: Any, values: list[Any]) -> Any:
        if node.is_named_expression_type():
            return values[0]
        if isinstance(node, EXPR.UnaryFunctionExpression | EXPR.AbsExpression):
            if node.getname() not in _UNARY:
                raise UntranslatableError(f"the function {node.getname()} has no CasADi counterpart here")
            return _UNARY[node.getname()](values[0])
        if isinstance(node, _ARITHMETIC):
            return node._apply_operation(values)
        raise UntranslatableError(f"{type(node).__name__} ({node.to_string()[:60]}) cannot be translated (valid: "
                                  "sums, products, divisions, powers, abs and " + ", ".join(_UNARY) + ")")

    def translate(self, expr: Any) -> Any:
        if type(expr) in native_numeric_types:
            return expr
        if expr.is_variable_type() or not expr.is_potentially_variable():
            return self.leaf(expr)
        return self.walk_expression(expr)


@dataclass
class NLP:
    """A Pyomo model as CasADi data: variables ``x``, objective ``f`` (minimised), constraints ``g``."""

    vars: list[Any]
    x: Any
    f: Any
    g: Any
    lbx: list[float]
    ubx: list[float]
    lbg: list[float]
    ubg: list[float]
    discrete: list[bool]
    sense: int

    def x0(self) -> list[float]:
        return [_clip(v.value if v.value is not None else 0.0, lo, hi)
                for v, lo, hi in zip(self.vars, self.lbx, self.ubx)]

    def store(self, xs: Any) -> None:
        for v, val in zip(self.vars, [float(z) for z in ca.DM(xs).full().ravel()]):
            v.set_value(val, skip_validation=True)


def _clip(v: float, lo: float, hi: float) -> float:
    return min(max(v, lo), hi)


def translate(m: pyo.ConcreteModel, relax: bool = False) -> NLP:
    """``m`` (one active objective, constraints and bounds; no logical, SOS or disjunctive parts) as
    CasADi data; integer variables are relaxed when ``relax``. Raises :class:`UntranslatableError`
    naming the first component it cannot translate."""
    _refuse_other_components(m)
    vars_ = [v for v in m.component_data_objects(pyo.Var, active=True, descend_into=True) if not v.fixed]
    x = ca.SX.sym("x", len(vars_))
    to_casadi = _ToCasadi({id(v): x[i] for i, v in enumerate(vars_)})
    objectives = list(m.component_data_objects(pyo.Objective, active=True))
    if len(objectives) != 1:
        raise UntranslatableError(f"model {m.name} has {len(objectives)} active objectives; one is needed")
    (obj,) = objectives
    sense = -1 if obj.sense == pyo.maximize else 1
    f = sense * _translated(to_casadi, obj.expr, obj)
    gs, lbg, ubg = [], [], []
    for c in m.component_data_objects(pyo.Constraint, active=True):
        if all(v.fixed for v in identify_variables(c.body)):
            continue  # a row with no free variable (Bonmin declares such a problem infeasible at once)
        gs.append(ca.SX(_translated(to_casadi, c.body, c)))
        lbg.append(-math.inf if c.lower is None else pyo.value(c.lower))
        ubg.append(math.inf if c.upper is None else pyo.value(c.upper))
    bound = lambda b, inf: inf if b is None else float(b)  # noqa: E731
    return NLP(vars_, x, ca.SX(f), ca.vertcat(*gs) if gs else ca.SX(0, 1),
               [bound(v.lb, -math.inf) for v in vars_], [bound(v.ub, math.inf) for v in vars_], lbg, ubg,
               [(not relax) and (v.is_integer() or v.is_binary()) for v in vars_], sense)


def _translated(to_casadi: _ToCasadi, expr: Any, component: Any) -> Any:
    """``expr`` of ``component`` as CasADi, or an :class:`UntranslatableError` naming the component."""
    try:
        return to_casadi.translate(expr)
    except UntranslatableError as e:
        raise UntranslatableError(f"{component.name}: {e}") from None
    except (ValueError, TypeError, NotImplementedError) as e:  # e.g. a fixed variable without a value
        raise UntranslatableError(f"{component.name}: cannot be translated ({e})") from None


def _refuse_other_components(m: pyo.ConcreteModel) -> None:
    """Active SOS, logical, disjunctive or complementarity components have no NLP form here."""
    kinds = [pyo.SOSConstraint, pyo.LogicalConstraint]
    for name, module in (("Disjunction", "pyomo.gdp"), ("Complementarity", "pyomo.mpec")):
        if module in sys.modules:  # only a model that uses them has imported them
            kinds.append(getattr(sys.modules[module], name))
    for kind in kinds:
        for comp in m.component_objects(kind, active=True, descend_into=True):
            raise UntranslatableError(f"{comp.name}: a {kind.__name__} cannot be translated to an NLP "
                                      "(reformulate it first, e.g. with a Pyomo transformation)")


class CasadiSolver:
    """Ipopt or Bonmin compiled once for a model; re-solved with other variable bounds (e.g. depths
    fixed by setting both bounds) and starting points, which is what decomposition needs.

    ``options`` go to the solver as they are (they override the quiet defaults here); ``tee`` keeps
    the solver's own log (on stdout) instead of silencing it, with Ipopt's list of the options it was
    given; ``time_limit`` ``None``: no limit."""

    def __init__(self, m: pyo.ConcreteModel, solver: str = "ipopt", time_limit: float | None = 30.0,
                 options: dict[str, Any] | None = None, tee: bool = False):
        self.nlp = translate(m, relax=solver == "ipopt")
        opts: dict[str, Any] = {"print_time": False}
        limit = {} if time_limit is None else {"ipopt": {"max_wall_time": float(time_limit)},
                                               "bonmin": {"time_limit": float(time_limit)}}.get(solver, {})
        if solver == "ipopt":
            quiet = {"print_user_options": "yes"} if tee else {"print_level": 0, "sb": "yes"}
            opts["ipopt"] = {**quiet, **limit, "max_iter": 3000, **(options or {})}
        elif solver == "bonmin":
            quiet = {} if tee else BONMIN_QUIET
            opts["discrete"] = self.nlp.discrete
            opts["bonmin"] = {**limit, "algorithm": "B-OA", **quiet, **(options or {})}
        else:
            raise ValueError(f"unknown CasADi solver {solver!r}")
        nlp = self.nlp
        self.fn = ca.nlpsol("deepmad", solver, {"x": nlp.x, "f": nlp.f, "g": nlp.g}, opts)
        self.quiet = solver == "bonmin" and not tee
        self.index = {id(v): i for i, v in enumerate(nlp.vars)}

    def solve(self, x0: list[float] | None = None, lbx: list[float] | None = None,
              ubx: list[float] | None = None) -> tuple[SolverAnswer, list[float] | None]:
        """One solve with these bounds (default: the model's) from ``x0`` (default: the model's values);
        the answer and the point (``None`` without a solution). The model is left as it is."""
        nlp = self.nlp
        lbx, ubx = lbx or nlp.lbx, ubx or nlp.ubx
        x0 = [_clip(v, lo, hi) for v, lo, hi in zip(x0 or nlp.x0(), lbx, ubx)]
        t = time.perf_counter()
        with silenced_stdout() if self.quiet else contextlib.nullcontext():
            sol = self.fn(x0=x0, lbx=lbx, ubx=ubx, lbg=nlp.lbg, ubg=nlp.ubg)
        wall = time.perf_counter() - t
        stats = self.fn.stats()
        f = float(sol["f"])
        status = str(stats.get("return_status"))
        ok = bool(stats.get("success")) or status in _USABLE
        has = ok and math.isfinite(f) and abs(f) < 1e50
        xs = [float(z) for z in ca.DM(sol["x"]).full().ravel()] if has else None
        answer = SolverAnswer(_TERMINATION.get(status, Termination.ERROR), has, nlp.sense * f if has else None,
                              wall_s=wall, solver_status=status)
        return answer, xs


def solve(m: pyo.ConcreteModel, solver: str = "ipopt", time_limit: float = 30.0,
          options: dict[str, Any] | None = None) -> SolverAnswer:
    """Solve ``m`` once with CasADi's ``ipopt`` (continuous relaxation) or ``bonmin``; loads the
    solution into ``m`` when there is one."""
    s = CasadiSolver(m, solver, time_limit, options)
    answer, xs = s.solve()
    if xs is not None:
        s.nlp.store(xs)
    return answer


def version() -> str:
    return f"casadi {ca.__version__} (Ipopt 3.14, Bonmin 1.8)"
