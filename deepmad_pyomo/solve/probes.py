"""Availability probes: a version string when a route can run here, ``None`` otherwise."""
from __future__ import annotations

import shutil
from typing import Any


def casadi(info: Any) -> str | None:
    from .backends.casadi import version

    return version()


def scip(info: Any) -> str | None:
    from .backends.scip import version

    return version()


def casadi_and_scip(info: Any) -> str | None:
    a, b = casadi(info), scip(info)
    return f"{a}; {b}" if a and b else None


def maingo(info: Any) -> str | None:
    from pyomo.contrib.appsi.solvers import MAiNGO

    solver = MAiNGO()
    return f"MAiNGO {'.'.join(map(str, solver.version()))}" if solver.available() else None


def mindtpy(info: Any) -> str | None:
    """MindtPy with HiGHS for the master problems and casadi's Ipopt for the NLPs."""
    from .routes.mindtpy import version

    return version()


def nl(info: Any, variant: str | None = None) -> str | None:
    """With ``variant``: that AMPL executable's path when it is on PATH. Without (the registry does not
    know the variant when it probes): available when any of them is; ``nl:run`` raises a
    ``DesignError`` naming the executable when the chosen one is missing."""
    names = [variant] if variant else list(info.variants)
    found = [f"{exe} ({shutil.which(exe)})" for exe in names if shutil.which(exe)]
    return "on PATH: " + ", ".join(found) if found else None


def builtin(info: Any) -> str | None:
    from .. import __version__

    return f"deepmad-pyomo {__version__}"
