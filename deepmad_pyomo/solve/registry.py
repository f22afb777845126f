"""The solver registry: every route by name, whether it is available here, and how to get it.

A name may carry a variant after a colon: ``bonmin:B-Hyb`` (a Bonmin algorithm), ``nl:couenne`` (an
AMPL executable driven through Pyomo's NL interface).
"""
from __future__ import annotations

import importlib
import shutil
from dataclasses import dataclass
from typing import Any, Callable

from ..errors import DesignError

DEFAULT = "auto"


@dataclass(frozen=True)
class SolverInfo:
    name: str
    kind: str              # decomposition | local | global | heuristic | baseline
    description: str
    install: str           # what to install when missing
    entry: str             # "module:function" running the route: (problem, SolveOptions, Reporter) -> Outcome
    probe: str             # "module:function" returning a version string, or None when unavailable
    variants: tuple[str, ...] = ()
    default_variant: str | None = None

    def _load(self, ref: str) -> Callable[..., Any]:
        module, func = ref.split(":")
        return getattr(importlib.import_module(f"deepmad_pyomo.solve.{module}"), func)

    def version(self) -> str | None:
        try:
            return self._load(self.probe)(self)
        except Exception:  # noqa: BLE001 - a broken install is "not available"
            return None

    def available(self) -> bool:
        return self.version() is not None

    def run(self, problem: Any, opts: Any, rep: Any) -> Any:
        return self._load(self.entry)(problem, opts, rep)

    def label(self, opts: Any) -> str:
        variant = getattr(opts, "variant", None) or self.default_variant
        return f"{self.name}:{variant}" if variant else self.name


NL_EXECUTABLES = ("couenne", "bonmin", "ipopt", "knitro", "baron")

REGISTRY: dict[str, SolverInfo] = {s.name: s for s in [
    SolverInfo("auto", "decomposition",
               "Ipopt relaxation, hill-climb over integer depth vectors scored by Ipopt, SCIP on the exact "
               "problem near the best ones' relaxed widths, then a warm-started full solve (default: the best "
               "design within seconds; no optimality proof)",
               "pip install casadi pyscipopt", "routes.auto:run_auto", "probes:casadi_and_scip"),
    SolverInfo("ipopt", "local",
               "Ipopt (casadi wheel) on the continuous relaxation, then depths rounded and the widths solved "
               "exactly by SCIP", "pip install casadi pyscipopt", "routes.auto:run_ipopt", "probes:casadi_and_scip"),
    SolverInfo("bonmin", "heuristic",
               "Bonmin (casadi wheel) on the MINLP; on this nonconvex problem its bounds are not bounds",
               "pip install casadi", "routes.bonmin:run", "probes:casadi",
               variants=("B-OA", "B-BB", "B-Hyb", "B-QG", "B-iFP"), default_variant="B-OA"),
    SolverInfo("scip", "global", "SCIP on the monolithic MINLP (spatial branch and bound; proves a gap)",
               "pip install pyscipopt", "routes.monolithic:run_scip", "probes:scip"),
    SolverInfo("maingo", "global", "MAiNGO (appsi_maingo) on the monolithic MINLP",
               "pip install maingopy", "routes.monolithic:run_maingo", "probes:maingo"),
    SolverInfo("mindtpy", "local",
               "Pyomo MindtPy outer approximation: HiGHS for the MILP master, casadi's Ipopt for the NLPs",
               "pip install highspy casadi", "routes.mindtpy:run", "probes:mindtpy"),
    SolverInfo("nl", "external",
               "an AMPL executable on PATH through Pyomo's NL interface", "put the executable on PATH "
               "(e.g. couenne from COIN-OR; not obtainable from PyPI or Debian)", "routes.nl:run", "probes:nl",
               variants=NL_EXECUTABLES, default_variant="couenne"),
    SolverInfo("evolution", "baseline",
               "the official DeepMAD code's evolutionary search (population 256, two block mutations per child, "
               "budgets as filters), as the baseline", "(built in)", "routes.evolution:run", "probes:builtin"),
]}


def parse(spec: str) -> tuple[SolverInfo, str | None]:
    """``'bonmin:B-Hyb'`` -> (the Bonmin entry, ``'B-Hyb'``)."""
    name, _, variant = spec.partition(":")
    if name not in REGISTRY:
        raise DesignError("solver", f"unknown solver {spec!r}", ", ".join(REGISTRY))
    info = REGISTRY[name]
    if variant and info.variants and variant not in info.variants:
        raise DesignError("solver", f"unknown {name} variant {variant!r}", ", ".join(info.variants))
    if variant and not info.variants:
        raise DesignError("solver", f"{name} takes no variant", name)
    return info, variant or None


def get(spec: str) -> SolverInfo:
    return parse(spec)[0]


def available_names() -> list[str]:
    return [n for n, s in REGISTRY.items() if s.available()]


def which(executable: str) -> str | None:
    return shutil.which(executable)
