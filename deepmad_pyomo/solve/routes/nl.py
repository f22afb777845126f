"""AMPL executables (couenne, bonmin, ipopt, knitro, baron) through Pyomo's NL interface.

The route writes the MINLP as an ``.nl`` file, runs the executable named by the variant
(``nl:couenne`` by default) when it is on PATH, reads its ``.sol`` file back and decodes the design.
None of these executables can be installed from PyPI or Debian; the route raises a :class:`DesignError`
naming the missing executable and how to get it.

The ``.sol`` format carries no dual bound, so no bound is reported, even when a global solver
(couenne, baron) says "optimal"; that claim is recorded in the diagnostics.
"""
from __future__ import annotations

import shutil
import time
from pathlib import Path
from typing import Any

import pyomo.environ as pyo
from pyomo.opt import TerminationCondition as TC

from ...errors import DesignError
from ...mp.formulation import FormulationOptions, build_pyomo_model, decode
from ...space.metrics import evaluate
from ...space.problem import DesignProblem
from ..options import SolveOptions
from ..results import Status
from ..route import Outcome, Reporter, RouteKind, register

EXECUTABLES = ("couenne", "bonmin", "ipopt", "knitro", "baron")
DEFAULT = "couenne"
GLOBAL = {"couenne", "baron"}
MARGIN_S = 1.0
INSTALL = {
    "couenne": "COIN-OR Couenne: a binary from https://github.com/coin-or/Couenne/releases or "
               "'idaes get-extensions' (not on PyPI or Debian), then put 'couenne' on PATH",
    "bonmin": "COIN-OR Bonmin's AMPL executable (not on PyPI or Debian; 'idaes get-extensions' ships one); "
              "or use the built-in route 'bonmin' (casadi wheel)",
    "ipopt": "an Ipopt AMPL executable (conda install -c conda-forge ipopt, or 'idaes get-extensions'); or use "
             "the built-in route 'ipopt' (casadi wheel)",
    "knitro": "Artelys Knitro (commercial) with its AMPL executable 'knitroampl' copied or linked as 'knitro'",
    "baron": "BARON (commercial, The Optimization Firm) with its AMPL executable on PATH",
}


def time_options(exe: str, seconds: float) -> dict[str, Any]:
    """Each executable's own time limit option (wall clock where the solver has one)."""
    s = max(1.0, float(seconds))
    if exe in ("couenne", "bonmin"):
        return {"bonmin.time_limit": s}  # Couenne is built on Bonmin and shares its option
    if exe == "ipopt":
        return {"max_wall_time": s}
    if exe == "knitro":
        return {"maxtime_real": s, "mip_maxtime_real": s}
    if exe == "baron":
        return {"maxtime": s}
    return {}


def executable(exe: str) -> str:
    """Full path of ``exe``; :class:`DesignError` when it is not on PATH."""
    path = shutil.which(exe)
    if path is None:
        raise DesignError("solver", f"{exe} not found on PATH", INSTALL.get(exe, "put the executable on PATH"))
    return path


def write_nl(problem: DesignProblem, path: str | Path, formulation: str = "natural") -> pyo.ConcreteModel:
    """Write the MINLP of ``problem`` as an AMPL ``.nl`` file (e.g. to run a solver by hand); returns the model."""
    m = build_pyomo_model(problem, FormulationOptions(formulation=formulation))
    m.write(str(path), format="nl", io_options={"symbolic_solver_labels": True})
    return m


def on_path(executable: str | None = None) -> str | None:
    """Where ``executable`` (default: any of :data:`EXECUTABLES`) is on PATH, or ``None``. The route's
    probe does not know the variant: ``nl`` is available when any executable is, and :func:`run` raises
    a :class:`DesignError` naming the one chosen when it is missing."""
    names = [executable] if executable else list(EXECUTABLES)
    found = [f"{exe} ({shutil.which(exe)})" for exe in names if shutil.which(exe)]
    return "on PATH: " + ", ".join(found) if found else None


@register("nl", RouteKind.EXTERNAL, "an AMPL executable on PATH through Pyomo's NL interface",
          install="put the executable on PATH (e.g. couenne from COIN-OR; not obtainable from PyPI or Debian)",
          probe=on_path, variants=EXECUTABLES, default_variant=DEFAULT)
def run(problem: DesignProblem, opts: SolveOptions, rep: Reporter) -> Outcome:
    exe = opts.variant or DEFAULT
    path = executable(exe)
    t0 = time.perf_counter()
    m = build_pyomo_model(problem, FormulationOptions(formulation=opts.formulation))
    solver = pyo.SolverFactory("asl:" + exe, executable=path)
    limit = max(1.0, opts.time_limit - MARGIN_S)
    solver.options.update(time_options(exe, limit - MARGIN_S))
    solver.options.update(opts.extra.get("nl_options") or {})
    rep.progress(f"{exe} ({path}) on the MINLP through an .nl file ({m.nvariables()} variables, "
                 f"{m.nconstraints()} constraints)")
    try:
        # timelimit: Pyomo kills the executable past it (the solver's own option should stop it first)
        results = solver.solve(m, load_solutions=False, timelimit=limit, tee=False)
    except Exception as e:  # noqa: BLE001 - a failing executable is reported as a status
        return Outcome(Status.ERROR, message=f"{exe} failed: {type(e).__name__}: {e}",
                       diagnostics={"executable": path})
    tc = results.solver.termination_condition
    diagnostics: dict[str, Any] = {"executable": path, "termination": str(tc), "message": str(results.solver.message),
                               "wall_s": round(time.perf_counter() - t0, 2)}
    if exe in GLOBAL and tc == TC.optimal:
        diagnostics["solver_claims_global_optimality"] = True
    if tc == TC.infeasible and exe in GLOBAL:
        return Outcome(Status.INFEASIBLE, message=f"{exe} reports the problem infeasible", diagnostics=diagnostics)
    archs = []
    if len(results.solution) > 0:
        m.solutions.load_from(results)
        arch = decode(m)
        archs.append(arch)
        rep.incumbent(arch, evaluate(arch, problem.objective, problem.resolution).objective, exe)
    if archs:
        status = Status.TIME_LIMIT if tc in (TC.maxTimeLimit, TC.maxIterations) else Status.FEASIBLE
        return Outcome(status, archs, diagnostics=diagnostics)
    status = Status.TIME_LIMIT if tc == TC.maxTimeLimit else Status.ERROR
    return Outcome(status, message=f"{exe} returned no solution ({tc})", diagnostics=diagnostics)
