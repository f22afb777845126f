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

from typing import Any, ClassVar

from pyomo.opt import SolverFactory, SolverResults, SolverStatus
from pyomo.opt import TerminationCondition as TC

from .backends.pyomo_plugin import CasadiBonmin, CasadiIpopt, Plugin, PluginName


class DeepmadCertify(Plugin):
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


PLUGINS: dict[str, type[Plugin]] = {CasadiIpopt.name: CasadiIpopt, CasadiBonmin.name: CasadiBonmin,
                                      DeepmadCertify.name: DeepmadCertify}
_DOC = {PluginName.CASADI_IPOPT: "Ipopt 3.14 from the casadi wheel, exact CasADi derivatives (deepmad-pyomo)",
        PluginName.CASADI_BONMIN: "Bonmin 1.8 from the casadi wheel (deepmad-pyomo)",
        PluginName.DEEPMAD_CERTIFY: "deepmad-pyomo's certifying branch and bound on a design model"}


def register() -> None:
    """Register the plugins with Pyomo's ``SolverFactory`` (idempotent: a name taken is left alone)."""
    for name, cls in PLUGINS.items():
        if name not in SolverFactory:
            SolverFactory.register(name, doc=_DOC[PluginName(name)])(cls)
