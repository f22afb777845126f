"""The outcome of a design solve, kept apart from the Pyomo model (as Pyomo's contrib.solver does)."""
from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field, fields
from types import MappingProxyType
from typing import Any, Mapping

from ..enums import StrEnum
from ..space.arch import Architecture


class Status(StrEnum):
    OPTIMAL = "optimal"        # proven within the requested gap
    FEASIBLE = "feasible"      # a verified design, no proof of optimality
    INFEASIBLE = "infeasible"  # proven: no architecture meets the budgets and bounds
    TIME_LIMIT = "time_limit"  # stopped by the time limit (the best verified design, if any, is kept)
    ERROR = "error"            # the solver failed; see ``message``


@dataclass
class Rejected:
    """A design a solver returned that broke a budget or bound (so it was not reported)."""

    architecture: str  # Architecture.describe()
    violations: list[str]


@dataclass(frozen=True)
class TracePoint:
    """An improving verified incumbent: found ``time_s`` wall seconds after the solve started (when the
    caller heard of it), with its recomputed ``objective``, from ``source``; ``bound``: the proven upper bound
    the route reported with it (a global route's dual bound at that moment), else ``None``."""

    time_s: float
    objective: float
    source: str
    bound: float | None = None

    def to_dict(self) -> dict[str, Any]:
        d = {"time_s": round(self.time_s, 3), "objective": self.objective, "source": self.source}
        return d if self.bound is None else {**d, "bound": self.bound}


@dataclass
class Certificate:
    """The proof behind a certified result: ``bound`` holds over the whole design space.

    ``boxes`` counts the nodes of the branch-and-bound tree and ``nodes`` lists them (JSON records);
    ``leaves`` counts the leaves by how they were settled; ``complete`` says no node was left open."""

    bound: float
    root_relaxation_bound: float | None
    rounds: int
    boxes: int
    inner_solves: int
    exact_solves: int
    leaves: dict[str, int]
    complete: bool
    incumbent_source: str | None
    closed_by: list[str]
    nodes: list[dict[str, Any]] = field(default_factory=list)

    def summary(self) -> dict[str, Any]:
        """Everything but the nodes (the JSON ``details.certificate``)."""
        return {f.name: getattr(self, f.name) for f in fields(self) if f.name != "nodes"}

    @classmethod
    def from_summary(cls, summary: Mapping[str, Any], nodes: list[dict[str, Any]] | None = None) -> "Certificate":
        return cls(**summary, nodes=list(nodes or []))


@dataclass
class DesignResult:
    """A solve's answer. ``objective`` is always recomputed from ``architecture`` by :mod:`metrics`;
    ``bound`` is a proven upper bound on the optimum (``None`` unless a global method proved it).

    ``certificate``: the proof of a certified design; ``rejected``: designs the solver returned that broke
    a budget or bound; ``smallest_budgets``: on an infeasible problem, the least value of each budget that
    would make it feasible (``None`` unless that was analysed); ``diagnostics``: what the route recorded;
    ``incumbents``: the trace of improving verified designs in time order (the last one has the result's objective).
    :attr:`details` reads them back in their JSON form."""

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
    certificate: Certificate | None = None
    rejected: list[Rejected] = field(default_factory=list)
    smallest_budgets: dict[str, float] | None = None
    diagnostics: dict[str, Any] = field(default_factory=dict)
    incumbents: list[TracePoint] = field(default_factory=list)

    @property
    def details(self) -> Mapping[str, Any]:
        """The certificate, node tree, rejected designs, smallest budgets and the route's diagnostics as one
        read-only mapping (the JSON ``details``)."""
        d: dict[str, Any] = {}
        if self.certificate is not None:
            d.update(certificate=self.certificate.summary(), box_tree=self.certificate.nodes)
        d.update(self.diagnostics)
        if self.rejected:
            d["rejected"] = [asdict(r) for r in self.rejected]
        if self.smallest_budgets is not None:
            d["smallest_budgets"] = self.smallest_budgets
        return MappingProxyType(d)

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
            "metrics": self.metrics, "details": dict(self.details),
            "incumbents": [p.to_dict() for p in self.incumbents],
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> "DesignResult":
        arch = Architecture.from_dict(d["architecture"]) if d.get("architecture") else None
        rest = dict(d.get("details") or {})
        certificate = Certificate.from_summary(rest.pop("certificate"), rest.pop("box_tree", [])) \
            if "certificate" in rest else None
        rejected = [Rejected(**r) for r in rest.pop("rejected", [])]
        smallest = rest.pop("smallest_budgets", None)
        return cls(problem=d["problem"], mode=d["mode"], solver=d["solver"], status=Status(d["status"]),
                   architecture=arch, objective=d.get("objective"), bound=d.get("bound"),
                   time_s=d.get("time_s", 0.0), cpu_s=d.get("cpu_s", 0.0), message=d.get("message", ""),
                   metrics=d.get("metrics") or {}, certificate=certificate, rejected=rejected,
                   smallest_budgets=None if smallest is None else dict(smallest), diagnostics=rest,
                   incumbents=[TracePoint(**p) for p in d.get("incumbents") or []])


def _finite(x: float | None) -> float | None:
    return x if x is None or math.isfinite(x) else None
