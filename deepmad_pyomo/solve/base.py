"""What every solver route takes and gives back."""
from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any, Callable

from ..space.arch import Architecture
from .results import Status


@dataclass
class SolveOptions:
    """``time_limit`` (s, wall), relative ``gap``, ``formulation`` (natural|log), ``variant`` (e.g. a Bonmin
    algorithm or an AMPL executable), ``seed``, ``warm_start`` (an architecture), ``workers``."""

    time_limit: float = 30.0
    gap: float = 1e-4
    formulation: str = "natural"
    variant: str | None = None
    seed: int = 0
    warm_start: Architecture | None = None
    workers: int = 1
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass
class Outcome:
    """A route's raw answer; :func:`deepmad_pyomo.solve.design.design` verifies it and builds the result.
    ``bound`` must be a proven upper bound on the optimum, or ``None``."""

    status: Status
    architectures: list[Architecture] = field(default_factory=list)
    bound: float | None = None
    message: str = ""
    details: dict[str, Any] = field(default_factory=dict)


class Reporter:
    """Progress and incumbents from a running route (printed, and sent to the supervising process)."""

    def __init__(self, sink: Callable[[str, Any], None] | None = None):
        self.start = time.perf_counter()
        self.sink = sink or (lambda kind, payload: None)

    def elapsed(self) -> float:
        return time.perf_counter() - self.start

    def progress(self, message: str) -> None:
        self.sink("progress", f"[{self.elapsed():6.1f}s] {message}")

    def incumbent(self, arch: Architecture, objective: float, source: str) -> None:
        self.sink("incumbent", (arch.to_dict(), objective, source))
        self.progress(f"incumbent {objective:,.2f} from {source}")
