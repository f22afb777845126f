"""deepmad-pyomo: DeepMAD CNN backbone design as a Pyomo MINLP, solved and certified by real solvers.

The public API, one line per step of the data path::

    problem = preset("deepmad-r50")          # or load_problem("my_problem.yaml")   (space/)
    result = design(problem)                 # a verified design (solve/; certify/ proves it optimal)
    net = build_model(result.architecture)   # a torch.nn.Module (nn/)
    assert verify(result.architecture).match # counted MACs and params equal the analytic ones
    net = create_model("deepmad-R50")        # a released or zoo model by name

Solving and torch take seconds to import, so those names are imported on first use (the command line
stays fast); the imports below say where each one lives. Importing the package registers its solvers with
Pyomo's ``SolverFactory`` (``casadi_ipopt``, ``casadi_bonmin``, ``deepmad_certify``: :mod:`.solve.plugins`).
"""
from __future__ import annotations

from typing import Any

from .errors import DesignError, InfeasibleError
from .solve.plugins import register as _register_pyomo_solvers
from .space.arch import Architecture, Block, load, save
from .space.metrics import Metrics, ObjectiveSettings, evaluate
from .space.problem import DesignProblem, load_problem, preset
from .version import __version__

_register_pyomo_solvers()

__all__ = ["Architecture", "Block", "DesignError", "DesignProblem", "DesignResult", "InfeasibleError", "Metrics",
           "ObjectiveSettings", "SolveOptions", "Status", "build_model", "create_model", "design",
           "evaluate", "list_models", "load", "load_problem", "preset", "save", "verify", "__version__"]


def __getattr__(name: str) -> Any:
    """The names that need Pyomo, the solvers or torch, imported when first used."""
    if name == "design":
        from .solve.design import design
        return design
    if name == "SolveOptions":
        from .solve.options import SolveOptions
        return SolveOptions
    if name in ("DesignResult", "Status"):
        from .solve import results
        return getattr(results, name)
    if name == "build_model":
        from .nn.network import build_model
        return build_model
    if name == "verify":
        from .nn.verify import verify
        return verify
    if name in ("create_model", "list_models"):
        from .nn import models
        return getattr(models, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
