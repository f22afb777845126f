"""The package's solvers in Pyomo's ``SolverFactory``, registered on ``import deepmad_pyomo``.

- ``casadi_ipopt``: Ipopt 3.14 from the casadi wheel, on any model :mod:`.backends.casadi` translates
  (integer variables relaxed, as Pyomo's own ``ipopt`` does); exact derivatives from CasADi.
- ``casadi_bonmin``: Bonmin 1.8 from the casadi wheel (integer and binary variables kept), with Bonmin's
  default algorithm ``B-BB`` unless ``options['algorithm']`` says otherwise (CasADi's ``B-OA``, the design
  routes' choice, stopped at 0.58 on a small convex MINLP whose optimum ``B-BB`` finds, 0.36).
- ``deepmad_certify``: the certifying branch and bound, on a design model made by
  :func:`~deepmad_pyomo.mp.formulation.build_pyomo_model`; it returns the design with its proven bound.

They follow Pyomo's legacy interface: ``SolverFactory(name).solve(model, tee=False, options=None,
timelimit=None)`` loads the point into the model and returns ``SolverResults`` with ``solver.status``,
``solver.termination_condition`` (local solvers say ``locallyOptimal``, never ``optimal``) and
``problem.lower_bound``/``upper_bound``: the objective of the point found on the primal side, and a dual
bound only from ``deepmad_certify`` (Ipopt and Bonmin prove none on a nonconvex model). ``options`` (also
``opt.options[...]``) go to the solver as they are: Ipopt or Bonmin options, or for ``deepmad_certify``
``time_limit``, ``gap`` and ``workers``. ``tee=True`` shows the solver's log on stdout. A point is loaded
only when the solver ends with one it vouches for (not at an iteration limit).

Only Pyomo (``pyomo.opt``) is imported here; casadi and the models are imported when a solve runs.
"""
from __future__ import annotations

import math
import time
from typing import Any, ClassVar

from pyomo.common.collections import Bunch
from pyomo.opt import SolverFactory, SolverResults, SolverStatus
from pyomo.opt import TerminationCondition as TC

from ..enums import StrEnum


class PluginName(StrEnum):
    """The names the package registers with Pyomo's ``SolverFactory``."""

    CASADI_IPOPT = "casadi_ipopt"
    CASADI_BONMIN = "casadi_bonmin"
    DEEPMAD_CERTIFY = "deepmad_certify"


# Ipopt's and Bonmin's return status (as CasADi reports it) -> Pyomo's termination condition and status
_STATUS = {
    "Solve_Succeeded": (TC.locallyOptimal, SolverStatus.ok),
    "SUCCESS": (TC.locallyOptimal, SolverStatus.ok),  # Bonmin: optimal if the model is convex
    "Solved_To_Acceptable_Level": (TC.feasible, SolverStatus.warning),
    "Feasible_Point_Found": (TC.feasible, SolverStatus.warning),
    "Infeasible_Problem_Detected": (TC.infeasible, SolverStatus.warning),  # locally infeasible
    "Restoration_Failed": (TC.infeasible, SolverStatus.warning),
    "INFEASIBLE": (TC.infeasible, SolverStatus.warning),  # Bonmin
    "CONTINUOUS_UNBOUNDED": (TC.unbounded, SolverStatus.warning),  # Bonmin
    "Maximum_Iterations_Exceeded": (TC.maxIterations, SolverStatus.aborted),
    "Maximum_CpuTime_Exceeded": (TC.maxTimeLimit, SolverStatus.aborted),
    "Maximum_WallTime_Exceeded": (TC.maxTimeLimit, SolverStatus.aborted),
    "LIMIT_EXCEEDED": (TC.maxTimeLimit, SolverStatus.aborted),  # Bonmin: a work limit when one was set
}
_BONMIN_WORK_LIMITS = ("node_limit", "iteration_limit", "solution_limit")
# Pyomo's solve() keywords that mean nothing here (no files are written; the start is always the model's values)
_IGNORED = ("keepfiles", "symbolic_solver_labels", "report_timing", "warmstart")


class _Plugin:
    """What Pyomo's legacy solver interface asks of a solver object; subclasses implement ``_solve``."""

    name = ""

    def __init__(self, **kwds: Any):
        self.options = Bunch()
        self.options.update(kwds.pop("options", None) or {})

    def available(self, exception_flag: bool = True) -> bool:
        try:
            import casadi  # noqa: F401
        except ImportError:
            if exception_flag:
                raise
            return False
        return True

    def license_is_valid(self) -> bool:
        return True

    def warm_start_capable(self) -> bool:
        return True  # every solve starts from the model's current values

    def version(self) -> tuple[int, ...]:
        import casadi

        return tuple(int(p) for p in casadi.__version__.split(".")[:3])

    def __enter__(self) -> _Plugin:
        return self

    def __exit__(self, *args: object) -> None:
        pass

    def solve(self, model: Any, tee: bool = False, load_solutions: bool = True, options: dict | None = None,
              timelimit: float | None = None, **kwds: Any) -> SolverResults:
        """Solve ``model`` and load the point found into it; see the module docstring."""
        unknown = sorted(set(kwds) - set(_IGNORED))
        if unknown:
            raise ValueError(f"{self.name}: unknown solve() keyword {unknown[0]!r} (valid: tee, load_solutions, "
                             f"options, timelimit, {', '.join(_IGNORED)})")
        if not load_solutions:
            raise ValueError(f"{self.name} always loads its solution (load_solutions=False is not supported)")
        if timelimit is not None and not (timelimit > 0 and math.isfinite(timelimit)):
            raise ValueError(f"{self.name}: timelimit {timelimit!r} is not a positive number of seconds")
        return self._solve(model, bool(tee), {**dict(self.options), **dict(options or {})}, timelimit)

    def _solve(self, model: Any, tee: bool, options: dict[str, Any], timelimit: float | None) -> SolverResults:
        raise NotImplementedError

    def _results(self, model: Any) -> SolverResults:
        import pyomo.environ as pyo

        results = SolverResults()
        results.solver.name = self.name
        results.problem.name = model.name
        objectives = list(model.component_data_objects(pyo.Objective, active=True))
        if len(objectives) == 1:
            results.problem.sense = objectives[0].sense
        results.problem.number_of_objectives = len(objectives)
        return results


def _set_primal_bound(results: SolverResults, model: Any) -> None:
    """The objective at the loaded point bounds the optimum from the primal side (a point of that value
    exists); the other side stays infinite."""
    import pyomo.environ as pyo

    (obj,) = list(model.component_data_objects(pyo.Objective, active=True))
    value = float(pyo.value(obj))
    if obj.sense == pyo.minimize:
        results.problem.upper_bound = value
    else:
        results.problem.lower_bound = value


class CasadiPlugin(_Plugin):
    """Ipopt or Bonmin (``solver``) from the casadi wheel on a Pyomo model."""

    solver = ""
    defaults: ClassVar[dict[str, Any]] = {}

    def _solve(self, model: Any, tee: bool, options: dict[str, Any], timelimit: float | None) -> SolverResults:
        from .backends.casadi import CasadiSolver

        try:
            solver = CasadiSolver(model, self.solver, time_limit=timelimit, options={**self.defaults, **options},
                                  tee=tee)
        except RuntimeError as e:  # CasADi checks Ipopt's options when it compiles
            raise ValueError(f"{self.name}: {_casadi_error(e)}") from None
        results = self._results(model)
        nlp = solver.nlp
        results.problem.number_of_variables = len(nlp.vars)
        results.problem.number_of_integer_variables = sum(nlp.discrete)
        results.problem.number_of_constraints = int(nlp.g.shape[0])
        t = time.perf_counter()
        try:
            answer, xs = solver.solve()
        except RuntimeError as e:  # Bonmin checks its options when it runs
            if "option" in str(e):
                raise ValueError(f"{self.name}: {_casadi_error(e)}") from None
            results.solver.status, results.solver.termination_condition = SolverStatus.error, TC.error
            results.solver.message = _casadi_error(e)
            results.solver.wallclock_time = time.perf_counter() - t
            return results
        tc, status = _STATUS.get(answer.solver_status, (TC.error, SolverStatus.error))
        if answer.solver_status == "LIMIT_EXCEEDED" and any(k in options for k in _BONMIN_WORK_LIMITS):
            tc = TC.maxIterations
        if xs is None and tc in (TC.locallyOptimal, TC.feasible):
            tc, status = TC.error, SolverStatus.error
        results.solver.status, results.solver.termination_condition = status, tc
        results.solver.message = answer.solver_status
        results.solver.wallclock_time = answer.wall_s
        if xs is not None:
            nlp.store(xs)
            _set_primal_bound(results, model)
        return results


def _casadi_error(e: Exception) -> str:
    """The last line of CasADi's message (the one that says what is wrong)."""
    lines = [ln.strip() for ln in str(e).splitlines() if ln.strip()]
    return lines[-1].split(": ", 1)[-1] if lines else type(e).__name__


class CasadiIpopt(CasadiPlugin):
    """``casadi_ipopt``: Ipopt on a Pyomo model (integer variables relaxed)."""

    name, solver = PluginName.CASADI_IPOPT.value, "ipopt"


class CasadiBonmin(CasadiPlugin):
    """``casadi_bonmin``: Bonmin on a Pyomo model (integer and binary variables kept)."""

    name, solver = PluginName.CASADI_BONMIN.value, "bonmin"
    defaults: ClassVar[dict[str, Any]] = {"algorithm": "B-BB"}


class DeepmadCertify(_Plugin):
    """``deepmad_certify``: :func:`~deepmad_pyomo.solve.design.design` with the certifying route, on the
    design problem a design model was built from. The design is loaded into the model; the bounds are the
    design's objective (lower) and the certificate's proven bound (upper). ``self.result`` keeps the last
    :class:`~deepmad_pyomo.solve.results.DesignResult` (with its certificate)."""

    name = PluginName.DEEPMAD_CERTIFY.value
    OPTIONS: ClassVar[tuple[str, ...]] = ("time_limit", "gap", "workers")
    DEFAULT_TIME_LIMIT = 120.0

    def __init__(self, **kwds: Any):
        super().__init__(**kwds)
        self.result: Any = None

    def _solve(self, model: Any, tee: bool, options: dict[str, Any], timelimit: float | None) -> SolverResults:
        from ..mp.formulation import load_architecture
        from .design import design
        from .options import SolveOptions
        from .registry import CERTIFY
        from .results import Status

        problem, formulation = _design_problem(model, self.name)
        unknown = sorted(set(options) - set(self.OPTIONS))
        if unknown:
            raise ValueError(f"{self.name}: unknown option {unknown[0]!r} (valid: {', '.join(self.OPTIONS)})")
        opts = SolveOptions(time_limit=float(timelimit or options.get("time_limit", self.DEFAULT_TIME_LIMIT)),
                            gap=options.get("gap", 1e-4), workers=options.get("workers", 1), formulation=formulation)
        self.result = result = design(problem, CERTIFY, opts, progress=print if tee else None)
        results = self._results(model)
        tc, status = {Status.OPTIMAL: (TC.optimal, SolverStatus.ok), Status.FEASIBLE: (TC.feasible, SolverStatus.ok),
                      Status.TIME_LIMIT: (TC.maxTimeLimit, SolverStatus.aborted),
                      Status.INFEASIBLE: (TC.infeasible, SolverStatus.ok)}.get(result.status,
                                                                                (TC.error, SolverStatus.error))
        results.solver.status, results.solver.termination_condition = status, tc
        results.solver.message = result.message or result.status.value
        results.solver.wallclock_time = result.time_s
        if result.architecture is not None:
            load_architecture(model, result.architecture)
            results.problem.lower_bound = result.objective
        if result.bound is not None:
            results.problem.upper_bound = result.bound
        return results


def _design_problem(model: Any, name: str) -> tuple[Any, str]:
    """The design problem and formulation a whole, unchanged design model was built from; a
    ``ValueError`` saying why otherwise (the certificate is about the design problem, not the model)."""
    from ..mp.formulation import FormulationOptions, ModelData, build_pyomo_model

    data = getattr(model, "data", None)
    if not isinstance(data, ModelData):
        raise ValueError(f"{name}: model {model.name!r} is not a design model (make one with "
                         "deepmad_pyomo.mp.formulation.build_pyomo_model(problem)); for other models use "
                         f"{PluginName.CASADI_IPOPT} or {PluginName.CASADI_BONMIN}")
    o = data.options
    if o.relax or o.kernels or o.depths or o.depth_bounds or o.cutoff is not None:
        raise ValueError(f"{name}: model {model.name!r} was built with relax, fixed kernels or depths, depth "
                         "bounds or a cutoff; the certificate covers the whole design problem only")
    whole = build_pyomo_model(data.problem, FormulationOptions(formulation=o.formulation,
                                                               linear_kernel_log=o.linear_kernel_log))
    changed = _first_difference(_signature(whole), _signature(model))
    if changed:
        raise ValueError(f"{name}: model {model.name!r} was changed after it was built ({changed}); the "
                         "certificate covers the design problem as built")
    return data.problem, o.formulation


def _signature(m: Any) -> dict[str, Any]:
    """What makes a model the problem it is, without its values: active parts, bounds, domains, fixings."""
    import pyomo.environ as pyo

    return {
        **{f"variable {v.name}": (v.lb, v.ub, v.is_integer() or v.is_binary(), v.value if v.fixed else None)
           for v in m.component_data_objects(pyo.Var)},
        **{f"constraint {c.name}": True for c in m.component_data_objects(pyo.Constraint, active=True)},
        **{f"objective {o.name}": o.sense for o in m.component_data_objects(pyo.Objective, active=True)},
    }


def _first_difference(built: dict[str, Any], given: dict[str, Any]) -> str | None:
    for key in sorted(built.keys() | given.keys()):
        if key not in given:
            return f"{key} is gone or inactive"
        if key not in built:
            return f"{key} was added"
        if built[key] != given[key]:
            return f"{key} differs"
    return None


PLUGINS: dict[str, type[_Plugin]] = {CasadiIpopt.name: CasadiIpopt, CasadiBonmin.name: CasadiBonmin,
                                      DeepmadCertify.name: DeepmadCertify}
_DOC = {PluginName.CASADI_IPOPT: "Ipopt 3.14 from the casadi wheel, exact CasADi derivatives (deepmad-pyomo)",
        PluginName.CASADI_BONMIN: "Bonmin 1.8 from the casadi wheel (deepmad-pyomo)",
        PluginName.DEEPMAD_CERTIFY: "deepmad-pyomo's certifying branch and bound on a design model"}


def register() -> None:
    """Register the plugins with Pyomo's ``SolverFactory`` (idempotent: a name taken is left alone)."""
    for name, cls in PLUGINS.items():
        if name not in SolverFactory:
            SolverFactory.register(name, doc=_DOC[PluginName(name)])(cls)
