"""The solver registry: every route by name, whether it is available here, and how to get it.

A name may carry a variant after a colon: ``bonmin:B-Hyb`` (a Bonmin algorithm), ``nl:couenne`` (an
AMPL executable driven through Pyomo's NL interface), and a named option profile after ``@``:
``scip@aggressive``, ``bonmin:B-Hyb@thorough`` (:mod:`.profiles`). The routes are declared in the modules of
:mod:`deepmad_pyomo.solve.routes` (with :func:`~deepmad_pyomo.solve.route.register`); they are imported
on the first lookup, so that importing this module (e.g. for :data:`DEFAULT`) loads no solver.
"""
from __future__ import annotations

from collections.abc import Iterator, Mapping

from ..errors import DesignError
from .route import ROUTES, Route, RouteKind

CERTIFY = "certify"  # the certifying route (declared in deepmad_pyomo.certify.route)
DEFAULT = CERTIFY  # every design carries its proof unless a heuristic route is asked for

__all__ = ["CERTIFY", "DEFAULT", "REGISTRY", "Route", "RouteKind", "available_names", "get", "parse"]


class _Registry(Mapping[str, Route]):
    """A read-only view of :data:`~deepmad_pyomo.solve.route.ROUTES` that imports the route modules
    (which fill it) when it is first read."""

    def _routes(self) -> dict[str, Route]:
        from ..certify import route  # noqa: F401 - the certifying route (the default)
        from . import routes  # noqa: F401 - each route module registers its routes on import

        return ROUTES

    def __getitem__(self, name: str) -> Route:
        return self._routes()[name]

    def __iter__(self) -> Iterator[str]:
        routes = self._routes()
        return iter([DEFAULT, *(name for name in routes if name != DEFAULT)])  # the default first

    def __len__(self) -> int:
        return len(self._routes())


REGISTRY: Mapping[str, Route] = _Registry()
"""Every route by name, in the order ``deepmad solvers`` lists them."""


def parse(spec: str) -> tuple[Route, str | None]:
    """``'bonmin:B-Hyb'`` -> (the Bonmin route, ``'B-Hyb'``); a profile after ``@`` is checked and left
    out (:func:`.profiles.split` gives it)."""
    from . import profiles

    spec, profile = profiles.split(spec)
    name, _, variant = spec.partition(":")
    if name not in REGISTRY:
        raise DesignError("solver", f"unknown solver {spec!r}", ", ".join(REGISTRY))
    route = REGISTRY[name]
    if variant and route.variants and variant not in route.variants:
        raise DesignError("solver", f"unknown {name} variant {variant!r}", ", ".join(route.variants))
    if variant and not route.variants:
        raise DesignError("solver", f"{name} takes no variant", name)
    if profile is not None and profile not in profiles.names(name):
        raise DesignError("solver", f"{name} has no profile {profile!r}", ", ".join(profiles.names(name)))
    return route, variant or None


def get(spec: str) -> Route:
    return parse(spec)[0]


def available_names() -> list[str]:
    return [name for name, route in REGISTRY.items() if route.available()]
