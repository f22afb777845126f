"""What a solve is asked for: :class:`SolveOptions`, checked when they are made."""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from numbers import Integral, Real
from typing import Any

from ..errors import DesignError
from ..mp.formulation import FORMULATIONS
from ..space.arch import Architecture

QUICK_DESIGN = "quick_design"  # extra (certify): start from the better of warm_start and its own quick designs


@dataclass
class SolveOptions:
    """``time_limit`` (s, wall), relative ``gap``, ``formulation`` (see ``mp.formulation.FORMULATIONS``),
    ``variant`` (e.g. a Bonmin algorithm or an AMPL executable), ``seed``, ``warm_start`` (an
    architecture), ``workers`` (local processes) or ``scheduler`` (a Dask scheduler's address) for routes
    that run in parallel, ``profile`` (a named option profile of the route, see :mod:`.profiles`; checked
    against the route by ``design()``), ``tee`` (the solvers' own logs, on stderr: the SCIP, Ipopt and
    Bonmin solves of the scip, auto, ipopt and bonmin routes), ``extra`` (route-specific settings). A bad
    value raises :class:`DesignError` naming the field."""

    time_limit: float = 30.0
    gap: float = 1e-4
    formulation: str = "natural"
    variant: str | None = None
    seed: int = 0
    warm_start: Architecture | None = None
    workers: int = 1
    scheduler: str | None = None
    profile: str = "default"
    tee: bool = False
    extra: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not (_is_number(self.time_limit) and math.isfinite(self.time_limit) and self.time_limit > 0):
            raise DesignError("time_limit", f"{self.time_limit!r} is not a positive number of seconds",
                              "a finite number > 0")
        if not (_is_number(self.gap) and self.gap >= 0):
            raise DesignError("gap", f"{self.gap!r} is not a relative gap", "a number >= 0")
        if self.formulation not in FORMULATIONS:
            raise DesignError("formulation", f"unknown formulation {self.formulation!r}", ", ".join(FORMULATIONS))
        if not (_is_int(self.workers) and self.workers >= 1):
            raise DesignError("workers", f"{self.workers!r} is not a number of workers", "an integer >= 1")
        if self.scheduler is not None and self.workers > 1:
            raise DesignError("workers", "give workers (local processes) or a scheduler, not both")
        if not isinstance(self.profile, str) or not self.profile:
            raise DesignError("profile", f"{self.profile!r} is not a profile name", "a name, e.g. default")
        if not isinstance(self.tee, bool):
            raise DesignError("tee", f"{self.tee!r} is not true or false", "a bool")
        if not _is_int(self.seed):
            raise DesignError("seed", f"{self.seed!r} is not an integer", "an integer")


def _is_number(x: Any) -> bool:
    return isinstance(x, Real) and not isinstance(x, bool)


def _is_int(x: Any) -> bool:
    return isinstance(x, Integral) and not isinstance(x, bool)


def check_gap(gap: float) -> None:
    """A gap a user asks for: relative, in [0, 1); else a :class:`DesignError` naming ``--gap``."""
    if not 0 <= gap < 1:
        raise DesignError("--gap", f"{gap} out of range", "0 <= gap < 1")
