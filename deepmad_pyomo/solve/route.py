"""What a solver route is: how it is declared (:func:`register`), what it reports while it runs
(:class:`Reporter`) and what it gives back (:class:`Outcome`).

A route is a function ``run(problem, options, reporter) -> Outcome`` in a module of
:mod:`deepmad_pyomo.solve.routes`, declared with :func:`register` next to the probe that says whether it
can run here. :mod:`deepmad_pyomo.solve.registry` looks routes up by name.
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Callable

from ..enums import StrEnum
from .results import Certificate, Status

if TYPE_CHECKING:
    from ..space.arch import Architecture
    from ..space.problem import DesignProblem
    from .options import SolveOptions


class RouteKind(StrEnum):
    """What a route's answer means. Members are their strings."""

    DECOMPOSITION = "decomposition"  # a heuristic built from exact subproblem solves
    LOCAL = "local"                  # local solvers: good designs, no bound
    GLOBAL = "global"                # a global solver: its bound is a proven bound
    HEURISTIC = "heuristic"          # a MINLP solver whose claims do not hold on this nonconvex problem
    CERTIFIED = "certified"          # proves its design optimal within the gap (or says how far it got)
    BASELINE = "baseline"            # the search the official DeepMAD code runs
    EXTERNAL = "external"            # an executable found on PATH


@dataclass
class Outcome:
    """A route's raw answer; :func:`deepmad_pyomo.solve.design.design` verifies it and builds the result.
    ``bound`` must be a proven upper bound on the optimum, or ``None``; ``diagnostics`` holds what the
    route wants to record (it ends up in the result's JSON ``details``); ``certificate`` is the proof of a
    certifying route."""

    status: Status
    architectures: list[Architecture] = field(default_factory=list)
    bound: float | None = None
    message: str = ""
    diagnostics: dict[str, Any] = field(default_factory=dict)
    certificate: Certificate | None = None


class Event(StrEnum):
    """What a running route reports."""

    PROGRESS = "progress"    # payload: a line of text
    INCUMBENT = "incumbent"  # payload: (architecture as a dict, objective, where it came from, bound or None)


class Reporter:
    """Progress and incumbents from a running route, handed to ``sink(event, payload)`` (the supervising
    process streams them to the caller)."""

    def __init__(self, sink: Callable[[Event, Any], None] | None = None):
        self.start = time.perf_counter()
        self.sink = sink or (lambda event, payload: None)

    def elapsed(self) -> float:
        return time.perf_counter() - self.start

    def progress(self, message: str) -> None:
        self.sink(Event.PROGRESS, f"[{self.elapsed():6.1f}s] {message}")

    def incumbent(self, arch: Architecture, objective: float, source: str, bound: float | None = None) -> None:
        """A new best design; ``bound``: a proven upper bound on the optimum when the design arrived (a
        global route's dual bound), else ``None``."""
        self.sink(Event.INCUMBENT, (arch.to_dict(), objective, source, bound))
        self.progress(f"incumbent {objective:,.2f} from {source}" + ("" if bound is None else f", bound {bound:,.2f}"))


RunFn = Callable[["DesignProblem", "SolveOptions", Reporter], Outcome]
ProbeFn = Callable[[], "str | None"]  # a version string when the route can run here, else None


@dataclass(frozen=True)
class Route:
    """A solver route: its name, what kind of answer it gives, how to install what it needs, the function
    that runs it and the probe that says whether it can run here."""

    name: str
    kind: RouteKind
    description: str
    install: str  # what to install when it is missing
    run: RunFn
    probe: ProbeFn
    variants: tuple[str, ...] = ()
    default_variant: str | None = None

    def version(self) -> str | None:
        """What runs this route here (versions), or ``None`` when it cannot run."""
        try:
            return self.probe()
        except Exception:  # noqa: BLE001 - a broken install is "not available"
            return None

    def available(self) -> bool:
        return self.version() is not None

    def label(self, opts: SolveOptions) -> str:
        """The route's name as results show it, with the variant and a profile other than the default
        used: ``bonmin:B-OA``, ``scip@aggressive``."""
        variant = opts.variant or self.default_variant
        name = f"{self.name}:{variant}" if variant else self.name
        return name if opts.profile == "default" else f"{name}@{opts.profile}"


ROUTES: dict[str, Route] = {}
"""Every route by name, in the order their modules register them (see :mod:`.routes`)."""


def register(name: str, kind: RouteKind, description: str, install: str, probe: ProbeFn,
             variants: tuple[str, ...] = (), default_variant: str | None = None) -> Callable[[RunFn], RunFn]:
    """Declare the decorated function as the route ``name`` (the function itself is left unchanged)."""

    def declare(run: RunFn) -> RunFn:
        if name in ROUTES:
            raise ValueError(f"solver route {name!r} is registered twice")
        ROUTES[name] = Route(name, kind, description, install, run, probe, variants, default_variant)
        return run

    return declare
