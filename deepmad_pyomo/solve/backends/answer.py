"""What a backend says after one solve of one model.

As in Pyomo, how the solver ended (:class:`Termination`) is kept apart from whether it left a point in
the model (``has_solution``): a solver stopped by its time limit may or may not have one.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ...enums import StrEnum


class Termination(StrEnum):
    """How a solver ended. Members are their strings: ``answer.termination == "optimal"`` holds."""

    OPTIMAL = "optimal"                  # proven optimal within the gap (a global solver)
    LOCALLY_OPTIMAL = "locally_optimal"  # a local solver converged: no claim beyond its neighbourhood
    FEASIBLE = "feasible"                # stopped at a feasible point without an optimality claim
    INFEASIBLE = "infeasible"            # proven by a global solver; detected locally by a local one
    UNBOUNDED = "unbounded"              # unbounded, or "infeasible or unbounded"
    TIME_LIMIT = "time_limit"
    ITERATION_LIMIT = "iteration_limit"  # an iteration or node limit
    ERROR = "error"                      # the solver failed or ended for another reason (``solver_status``)


@dataclass
class SolverAnswer:
    """One solve of one model. ``objective`` is in the model's own sense; ``bound`` is a dual bound
    valid for the model solved (global solvers only); ``solver_status`` is the solver's own word for
    how it ended (Ipopt's return status, Pyomo's termination condition, or the exception raised)."""

    termination: Termination
    has_solution: bool
    objective: float | None = None
    bound: float | None = None
    wall_s: float = 0.0
    solver_status: str = ""
    nodes: int | None = None  # branch-and-bound nodes, for solvers that count them
    settings: dict[str, Any] = field(default_factory=dict)  # options asked for, as the solver held them

    def describe(self) -> str:
        """The termination, with the solver's own words when it is an error: ``error: <what>``."""
        if self.termination == Termination.ERROR and self.solver_status:
            return f"error: {self.solver_status}"
        return self.termination.value
