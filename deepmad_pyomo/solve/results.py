"""The outcome of a design solve, kept apart from the Pyomo model (as Pyomo's contrib.solver does)."""
from __future__ import annotations

import enum
import math
from dataclasses import dataclass, field
from typing import Any

from ..space.arch import Architecture


class Status(str, enum.Enum):
    OPTIMAL = "optimal"        # proven within the requested gap
    FEASIBLE = "feasible"      # a verified design, no proof of optimality
    INFEASIBLE = "infeasible"  # proven: no architecture meets the budgets and bounds
    TIME_LIMIT = "time_limit"  # stopped by the time limit (the best verified design, if any, is kept)
    ERROR = "error"            # the solver failed; see ``message``


@dataclass
class DesignResult:
    """A solve's answer. ``objective`` is always recomputed from ``architecture`` by :mod:`metrics`;
    ``bound`` is a proven upper bound on the optimum (``None`` unless a global method proved it)."""

    problem: str
    mode: str
    solver: str
    status: Status
    architecture: Architecture | None = None
    objective: float | None = None
    bound: float | None = None
    time_s: float = 0.0
    cpu_s: float = 0.0
    message: str = ""
    metrics: dict[str, Any] = field(default_factory=dict)
    details: dict[str, Any] = field(default_factory=dict)

    @property
    def gap(self) -> float | None:
        """Relative gap ``(bound - objective) / |objective|`` when both are known."""
        if self.bound is None or self.objective is None:
            return None
        return max(0.0, self.bound - self.objective) / max(abs(self.objective), 1e-9)

    def to_dict(self) -> dict[str, Any]:
        return {
            "problem": self.problem, "mode": self.mode, "solver": self.solver, "status": self.status.value,
            "objective": self.objective, "bound": _finite(self.bound), "gap": self.gap,
            "time_s": round(self.time_s, 3), "cpu_s": round(self.cpu_s, 3), "message": self.message,
            "architecture": self.architecture.to_dict() if self.architecture else None,
            "metrics": self.metrics, "details": self.details,
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> "DesignResult":
        arch = Architecture.from_dict(d["architecture"]) if d.get("architecture") else None
        return cls(problem=d["problem"], mode=d["mode"], solver=d["solver"], status=Status(d["status"]),
                   architecture=arch, objective=d.get("objective"), bound=d.get("bound"),
                   time_s=d.get("time_s", 0.0), cpu_s=d.get("cpu_s", 0.0), message=d.get("message", ""),
                   metrics=d.get("metrics") or {}, details=d.get("details") or {})


def _finite(x: float | None) -> float | None:
    return x if x is None or math.isfinite(x) else None
