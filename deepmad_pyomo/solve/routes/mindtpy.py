"""Pyomo's MindtPy outer approximation: HiGHS (``appsi_highs``) for the MILP master problems and the real
Ipopt bundled in the casadi wheel for the NLP subproblems.

MindtPy takes its NLP solver by name from a fixed list (``ipopt``, ``appsi_ipopt``, ``gams``, ``baron``,
``cyipopt``), and every one of those needs an executable or library that cannot be installed here.
This module therefore

- registers the package's ``casadi_ipopt`` Pyomo plugin (:mod:`deepmad_pyomo.solve.plugins`) once more under
  the name ``deepmad_casadi_ipopt``, with a deadline and a callback for each point it loads (Ipopt with exact
  CasADi derivatives; an honest termination condition: ``locallyOptimal``, never ``optimal``);
- runs MindtPy's own OA algorithm class through a subclass whose ``nlp_solver`` option also accepts
  that name. No ``ipopt`` executable is shadowed: Pyomo's ``ipopt`` keeps meaning the AMPL executable.

MindtPy's OA assumes convex constraints; this MINLP is not convex, so its cuts may cut off good designs
and its "dual bound" is no bound: the route is a heuristic and never reports one. ``add_slack``
(MindtPy's augmented-penalty treatment of nonconvex problems) is off: with it the master pays the
penalty and proposes the same infeasible integer point again (cycling, measured on a small problem),
while a plain OA cut is exact at the point it is taken and excludes it. Every integer point whose fixed
NLP Ipopt solves is decoded, verified and streamed as an incumbent.

``opts.extra['mindtpy']``: further MindtPy options (e.g. ``iteration_limit``, ``add_no_good_cuts``).
"""
from __future__ import annotations

import contextlib
import logging
import math
import re
import time
from collections.abc import Callable, Iterator
from typing import Any

import pyomo.environ as pyo
from pyomo.opt import SolverResults, SolverStatus
from pyomo.opt import TerminationCondition as TC

from ...extras import Extra, install_command
from ...mp.formulation import FormulationOptions, build_pyomo_model, decode
from ...space.arch import Architecture
from ...space.metrics import evaluate
from ...space.problem import DesignProblem
from ..backends.casadi import version as casadi_version
from ..options import SolveOptions
from ..backends.pyomo_plugin import CasadiIpopt
from ..results import Status
from ..route import Outcome, Reporter, RouteKind, register

NLP_SOLVER = "deepmad_casadi_ipopt"
MARGIN_S = 1.0


class CasadiIpoptForMindtPy(CasadiIpopt):
    """``casadi_ipopt`` (:mod:`..plugins`) under MindtPy's name for it, with two more ``solve`` keywords:
    ``deadline`` (a ``time.perf_counter()`` time the solve must end by) and ``on_solution(model)``
    (called after a point was loaded)."""

    name = NLP_SOLVER

    def solve(self, model: Any, tee: bool = False, load_solutions: bool = True, deadline: float | None = None,
              on_solution: Callable[[Any], None] | None = None, **kwds: Any) -> SolverResults:
        limit = None if deadline is None else deadline - time.perf_counter()
        if limit is not None and limit <= 0.05:
            results = SolverResults()
            results.solver.name = NLP_SOLVER
            results.solver.status, results.solver.termination_condition = SolverStatus.aborted, TC.maxTimeLimit
            return results
        results = super().solve(model, tee=tee, load_solutions=load_solutions, timelimit=limit, **kwds)
        if on_solution is not None and results.solver.termination_condition in (TC.locallyOptimal, TC.feasible):
            on_solution(model)
        return results


def register_nlp_solver() -> None:
    """Register :class:`CasadiIpoptForMindtPy` with Pyomo's ``SolverFactory`` (idempotent)."""
    if NLP_SOLVER not in pyo.SolverFactory:
        pyo.SolverFactory.register(NLP_SOLVER, doc="Ipopt 3.14 from the casadi wheel, for MindtPy (deepmad-pyomo)")(
            CasadiIpoptForMindtPy)


_OA_CLASS: Any = None


def oa_solver_class() -> Any:
    """MindtPy's OA algorithm with :data:`NLP_SOLVER` added to the NLP solvers its options accept."""
    global _OA_CLASS
    if _OA_CLASS is None:
        from pyomo.common.config import In
        from pyomo.contrib.mindtpy.config_options import _get_MindtPy_OA_config
        from pyomo.contrib.mindtpy.outer_approximation import MindtPy_OA_Solver

        register_nlp_solver()

        class MindtPyOAWithCasadiIpopt(MindtPy_OA_Solver):
            """MindtPy OA; ``nlp_solver`` may also be ``deepmad_casadi_ipopt``, and a logger that already
            has handlers keeps them (MindtPy otherwise replaces them with one printing to stderr)."""

            CONFIG = _get_MindtPy_OA_config()

            def set_up_logger(self) -> None:
                if self.config.logger.handlers:
                    self.config.logger.propagate = False
                else:
                    super().set_up_logger()

        item = MindtPyOAWithCasadiIpopt.CONFIG.get("nlp_solver")
        item.set_domain(In(["ipopt", "appsi_ipopt", "gams", "baron", "cyipopt", NLP_SOLVER]))
        _OA_CLASS = MindtPyOAWithCasadiIpopt
    return _OA_CLASS


class _ProgressHandler(logging.Handler):
    """MindtPy's iteration log (table rows and its exit messages), forwarded as progress messages."""

    KEEP = re.compile(r"^\s*(\*?\s*(\d+|-)\s+\S|MindtPy exiting|Cycling|Final bound|NLP subproblem failed)")

    def __init__(self, rep: Reporter, limit: int = 500):
        super().__init__(logging.INFO)
        self.rep, self.left = rep, limit

    def emit(self, record: logging.LogRecord) -> None:
        line = record.getMessage().strip().splitlines()
        if self.left > 0 and line and self.KEEP.match(line[0]):
            self.left -= 1
            self.rep.progress("MindtPy: " + " ".join(line[0].split()))


class _FixedNLPDesigns:
    """Every integer point MindtPy's NLP solver loads, decoded and verified; the improving ones are kept
    and streamed as incumbents."""

    def __init__(self, problem: DesignProblem, rep: Reporter):
        self.problem, self.rep = problem, rep
        self.archs: list[Architecture] = []
        self.best = -math.inf
        self.points = 0    # integer points decoded
        self.rejected = 0  # of those, points that do not decode or break a budget or bound

    def on_solution(self, model: Any) -> None:
        """Decode a loaded point when every discrete variable holds an integer (a fixed NLP)."""
        ints = [v for v in model.component_data_objects(pyo.Var) if v.is_integer() or v.is_binary()]
        if not ints or any(v.value is None or abs(v.value - round(v.value)) > 1e-6 for v in ints):
            return
        if not hasattr(model, "width_units") or not hasattr(model, "problem"):
            return
        self.points += 1
        try:
            arch = decode(model)
        except Exception:  # noqa: BLE001 - a point that does not decode is not a design
            self.rejected += 1
            return
        met = evaluate(arch, self.problem.objective, self.problem.resolution)
        if self.problem.check(arch, met):
            self.rejected += 1
            return
        if met.objective > self.best + 1e-9:
            self.best = met.objective
            self.archs.append(arch)
            self.rep.incumbent(arch, met.objective, "MindtPy OA (fixed NLP)")

    def add_final(self, m: pyo.ConcreteModel) -> None:
        """MindtPy's best point, loaded into ``m``, when it is a new valid design."""
        arch = decode(m)
        met = evaluate(arch, self.problem.objective, self.problem.resolution)
        if not self.problem.check(arch, met) and all(a != arch for a in self.archs):
            self.archs.append(arch)
            self.rep.incumbent(arch, met.objective, "MindtPy OA")


@contextlib.contextmanager
def _mindtpy_logger(rep: Reporter) -> Iterator[logging.Logger]:
    """A logger that forwards MindtPy's iteration log as progress (and Pyomo's warnings silenced)."""
    logger = logging.getLogger("deepmad_pyomo.solve.routes.mindtpy.run")
    logger.propagate = False
    logger.setLevel(logging.INFO)
    handler = _ProgressHandler(rep)
    logger.addHandler(handler)
    pyomo_logger = logging.getLogger("pyomo")
    level = pyomo_logger.level
    pyomo_logger.setLevel(logging.ERROR)  # deprecation warnings from transformations MindtPy applies
    try:
        yield logger
    finally:
        logger.removeHandler(handler)
        pyomo_logger.setLevel(level)


def version() -> str | None:
    """A version string when MindtPy, HiGHS and casadi's Ipopt are all usable, else ``None``."""
    from pyomo.contrib.mindtpy import __version__ as mindtpy_version
    from pyomo.version import version as pyomo_version

    highs = pyo.SolverFactory("appsi_highs")
    if not highs.available(exception_flag=False):
        return None
    register_nlp_solver()
    if not pyo.SolverFactory(NLP_SOLVER).available(exception_flag=False):
        return None
    return (f"MindtPy {'.'.join(map(str, mindtpy_version))} (Pyomo {pyomo_version}) + HiGHS "
            f"{'.'.join(map(str, highs.version()))} + {casadi_version()}")


@register("mindtpy", RouteKind.LOCAL,
          "Pyomo MindtPy outer approximation: HiGHS for the MILP master, casadi's Ipopt for the NLPs",
          install=install_command(Extra.MINDTPY), probe=version)
def run(problem: DesignProblem, opts: SolveOptions, rep: Reporter) -> Outcome:
    t0 = time.perf_counter()
    deadline = t0 + opts.time_limit - MARGIN_S
    m = build_pyomo_model(problem, FormulationOptions(formulation=opts.formulation))
    found = _FixedNLPDesigns(problem, rep)
    rep.progress(f"MindtPy OA (HiGHS master, casadi Ipopt NLPs) on the MINLP ({m.nvariables()} variables, "
                 f"{m.nconstraints()} constraints)")
    solver = oa_solver_class()()  # imports MindtPy: the time limit is what is left after that
    results, tc, err = None, None, None
    with _mindtpy_logger(rep) as logger:
        config = {
            "mip_solver": "appsi_highs", "nlp_solver": NLP_SOLVER,
            "nlp_solver_args": {"deadline": deadline, "on_solution": found.on_solution},
            "add_slack": False, "logger": logger, "mip_solver_mipgap": max(opts.gap, 1e-4),
            **dict(opts.extra.get("mindtpy") or {}),
            # MindtPy checks it between subproblems and passes what is left to HiGHS; the NLPs get ``deadline``
            "time_limit": max(1, int(deadline - time.perf_counter() - MARGIN_S)),
        }
        try:
            results = solver.solve(m, **config)
            tc = results.solver.termination_condition
        except Exception as e:  # noqa: BLE001 - MindtPy raises on some subsolver outcomes; keep what was found
            err = f"{type(e).__name__}: {e}"
    diagnostics: dict[str, Any] = {
        "termination": str(tc).split(".")[-1] if tc is not None else None,
        "integer_points_decoded": found.points, "rejected_points": found.rejected,
        "nlp_iterations": getattr(solver, "nlp_iter", None), "mip_iterations": getattr(solver, "mip_iter", None),
        "wall_s": round(time.perf_counter() - t0, 2),
        "note": "MindtPy OA is a heuristic on this nonconvex MINLP: its dual bound is not reported",
    }
    if err:
        diagnostics["error"] = err
    if results is not None and getattr(solver, "best_solution_found", None) is not None:
        found.add_final(m)  # MindtPy loaded its best point into the model
    if found.archs:
        status = Status.TIME_LIMIT if tc == TC.maxTimeLimit else Status.FEASIBLE
        return Outcome(status, list(found.archs), diagnostics=diagnostics)
    out_of_time = time.perf_counter() >= deadline - MARGIN_S - 0.5
    if tc == TC.maxTimeLimit or out_of_time:
        return Outcome(Status.TIME_LIMIT, message=f"MindtPy found no feasible design within {opts.time_limit:g} s "
                       f"(termination {diagnostics['termination']})", diagnostics=diagnostics)
    return Outcome(Status.ERROR, message="MindtPy OA found no feasible design"
                   + (f" ({err})" if err else f" (termination {diagnostics['termination']})")
                   + "; on this nonconvex problem that is not a proof of infeasibility", diagnostics=diagnostics)
