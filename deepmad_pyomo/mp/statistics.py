"""The size of a Pyomo model as instance libraries report it (MINLPLib's columns, GAMS's counts).

Only what a writer puts in a file counts: the unfixed variables that appear in an active constraint or the
objective, and the active constraints. A *nonzero* is a (row, variable) pair of the Jacobian (the
objective's gradient counted apart); it is *nonlinear* when the variable enters the row nonlinearly (Pyomo's
standard representation, quadratic terms as nonlinear).
"""
from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Any

import pyomo.environ as pyo
from pyomo.core.expr.visitor import identify_variables
from pyomo.repn import generate_standard_repn


@dataclass(frozen=True)
class ModelStatistics:
    """Counts of one model. ``log10_points``: log10 of the number of points of the integer box (the product
    of the integer and binary variables' domain sizes), the size of the discrete search space."""

    variables: int
    continuous: int
    binary: int
    integer: int
    constraints: int
    nonlinear_constraints: int
    nonzeros: int
    nonlinear_nonzeros: int
    objective_nonzeros: int
    objective_nonlinear_nonzeros: int
    log10_points: float

    @property
    def discrete(self) -> int:
        return self.binary + self.integer

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def _row(expr: Any) -> tuple[set[int], set[int], dict[int, Any]]:
    """The ids of the unfixed variables of ``expr``, of those entering it nonlinearly, and the variables."""
    found = {id(v): v for v in identify_variables(expr, include_fixed=False)}
    repn = generate_standard_repn(expr, compute_values=False, quadratic=False)
    nonlinear = {id(v) for v in repn.nonlinear_vars if not v.fixed}
    return set(found), nonlinear, found


def statistics(m: pyo.ConcreteModel) -> ModelStatistics:
    """The counts of ``m`` (its active constraints and its one active objective)."""
    variables: dict[int, Any] = {}
    n_cons = n_nl_cons = nz = nl_nz = 0
    for c in m.component_data_objects(pyo.Constraint, active=True, descend_into=True):
        ids, nonlinear, found = _row(c.body)
        variables.update(found)
        n_cons += 1
        n_nl_cons += bool(nonlinear)
        nz += len(ids)
        nl_nz += len(nonlinear)
    obj_nz = obj_nl_nz = 0
    for o in m.component_data_objects(pyo.Objective, active=True, descend_into=True):
        ids, nonlinear, found = _row(o.expr)
        variables.update(found)
        obj_nz, obj_nl_nz = len(ids), len(nonlinear)
    binary = integer = 0
    log_points = 0.0
    for v in variables.values():
        if v.is_binary():
            binary += 1
        elif v.is_integer():
            integer += 1
        else:
            continue
        lb, ub = v.bounds
        if lb is not None and ub is not None and ub >= lb:
            log_points += math.log10(math.floor(ub) - math.ceil(lb) + 1)
    return ModelStatistics(variables=len(variables), continuous=len(variables) - binary - integer, binary=binary,
                           integer=integer, constraints=n_cons, nonlinear_constraints=n_nl_cons, nonzeros=nz,
                           nonlinear_nonzeros=nl_nz, objective_nonzeros=obj_nz,
                           objective_nonlinear_nonzeros=obj_nl_nz, log10_points=round(log_points, 3))


__all__ = ["ModelStatistics", "statistics"]
