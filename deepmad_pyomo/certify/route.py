"""The certifying route, ``certify``: the default of ``design()`` and ``deepmad design``.

It runs :func:`.search.certify` (in the child process that :func:`deepmad_pyomo.solve.design.design`
supervises) and hands back its design with the proven bound and the certificate. ``opts.warm_start`` is its
incumbent; with ``opts.extra[QUICK_DESIGN]`` true, the better of it and certify's own quick designs.
"""
from __future__ import annotations

from ..solve.options import QUICK_DESIGN, SolveOptions
from ..solve.route import Outcome, Reporter, RouteKind, register
from ..solve.routes.auto import casadi_and_scip_version
from ..space.arch import Architecture
from ..space.problem import DesignProblem
from .search import certify


def solver_versions() -> str | None:
    """The solvers certify runs (``auto``'s for the incumbent, Clarabel for the nodes), when all are here."""
    try:
        import clarabel
    except ImportError:
        return None
    both = casadi_and_scip_version()
    return f"{both}; Clarabel {clarabel.__version__}" if both else None


@register("certify", RouteKind.CERTIFIED,
          "branch and bound over depth, width and kernel ranges: a convex relaxation bounded by Clarabel, single "
          "depth vectors solved exactly by SCIP; the design comes with its proven bound and gap (default)",
          install="pip install casadi clarabel pyscipopt", probe=solver_versions)
def run_certify(problem: DesignProblem, opts: SolveOptions, rep: Reporter) -> Outcome:
    result = certify(problem, time_limit=opts.time_limit, gap=opts.gap, workers=opts.workers,
                     incumbent=opts.warm_start, formulation=opts.formulation, progress=rep.progress,
                     scheduler=opts.scheduler, on_incumbent=rep.incumbent,
                     quick_design=bool(opts.extra.get(QUICK_DESIGN)))
    designs: list[Architecture] = [result.architecture] if result.architecture is not None else []
    return Outcome(result.status, designs, bound=result.bound, message=result.message,
                   certificate=result.certificate)
