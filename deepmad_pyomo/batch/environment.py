"""What a measurement ran on: CPU model, core counts, Python, package and solver versions.

Every run record of ``deepmad compare`` carries the :func:`environment` of the worker that ran it, and
every results file carries that of the machine that wrote it (and the distinct ones of its workers), so a
time in a table always says what machine and which solver versions it belongs to.
"""
from __future__ import annotations

import functools
import os
import platform
from importlib import metadata
from pathlib import Path
from typing import Any

# The packages whose versions decide a measurement (the solvers' wheels and what drives them).
PACKAGES = ("deepmad-pyomo", "pyomo", "casadi", "pyscipopt", "maingopy", "highspy", "torch", "numpy", "scipy",
            "dask", "distributed")


def cpu_model() -> str:
    """The CPU's model name (``/proc/cpuinfo`` on Linux, else :func:`platform.processor`)."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.lower().startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine() or "unknown"


def usable_cores() -> int:
    """The cores this process may run on (its CPU affinity), else the machine's count."""
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        return os.cpu_count() or 1


def package_versions() -> dict[str, str | None]:
    """The installed version of each of :data:`PACKAGES` (``None`` when missing)."""
    out: dict[str, str | None] = {}
    for name in PACKAGES:
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            out[name] = None
    return out


@functools.lru_cache(maxsize=None)
def solver_versions() -> dict[str, str | None]:
    """What runs each solver route here (its probe's answer: solver and interface versions), ``None``
    when the route cannot run here. Probed once per process."""
    from ..solve import registry

    return {name: route.version() for name, route in registry.REGISTRY.items()}


@functools.lru_cache(maxsize=None)
def environment() -> dict[str, Any]:
    """This machine and process: CPU, cores, OS, Python, package and solver versions (computed once)."""
    return {"cpu_model": cpu_model(), "cpu_cores": os.cpu_count(), "usable_cores": usable_cores(),
            "platform": platform.platform(), "python": platform.python_version(),
            "packages": package_versions(), "solvers": solver_versions()}


def distinct(environments: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The distinct environments of a list (in first-seen order)."""
    out: list[dict[str, Any]] = []
    for e in environments:
        if e and e not in out:
            out.append(e)
    return out


def describe(env: dict[str, Any]) -> str:
    """One line: CPU, cores, Python and the main packages."""
    pk = env.get("packages") or {}
    names = ("deepmad-pyomo", "pyomo", "casadi", "pyscipopt", "maingopy", "torch")
    versions = ", ".join(f"{n} {pk[n]}" for n in names if pk.get(n))
    return (f"{env.get('cpu_model')}, {env.get('usable_cores')} of {env.get('cpu_cores')} cores, "
            f"Python {env.get('python')}; {versions}")


__all__ = ["PACKAGES", "cpu_model", "describe", "distinct", "environment", "package_versions", "solver_versions",
           "usable_cores"]
