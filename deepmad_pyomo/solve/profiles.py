"""Named option profiles of the solver routes, read from ``profiles.yaml`` next to this module.

``settings(route, profile)`` is what a route hands its solver: the route's ``default`` profile with the
named one over it. Every route accepts ``default`` (its built-in settings when the file has none for
it); an unknown name is a :class:`~deepmad_pyomo.errors.DesignError` listing the valid ones. The file
is checked when first read (pydantic): every route has a ``default``, values are scalars, and no
profile sets an option the route sets itself (:data:`RESERVED`).
"""
from __future__ import annotations

import functools
from pathlib import Path
from typing import Any

from pydantic import RootModel, StrictBool, StrictFloat, StrictInt, StrictStr, ValidationError, model_validator

from ..errors import DesignError
from ..fileio import read_yaml

PROFILE_FILE = Path(__file__).with_name("profiles.yaml")
DEFAULT = "default"
SEPARATOR = "@"  # ``scip@aggressive``: a route (with its variant) and a profile in one solver name

Scalar = StrictBool | StrictInt | StrictFloat | StrictStr
# What each route sets itself (from SolveOptions, or its own work limits): a profile may not
RESERVED: dict[str, dict[str, str]] = {
    "scip": {"limits/time": "--time-limit", "limits/gap": "--gap", "limits/totalnodes": "the route's node limits",
             "timing/clocktype": "the route (wall clock)", "display/verblevel": "--tee"},
    "ipopt": {"max_wall_time": "--time-limit", "max_cpu_time": "--time-limit", "print_level": "--tee",
              "sb": "--tee", "print_user_options": "--tee"},
    "bonmin": {"time_limit": "--time-limit", "algorithm": "the variant, bonmin:B-OA|B-BB|...",
               "random_generator_seed": "--seed", "print_level": "--tee", "sb": "--tee",
               **{f"{k}_log_level": "--tee" for k in ("bb", "oa", "nlp", "milp", "fp")}},
}
# SCIP meta settings (a key without '/'): the setting, and the values pyscipopt knows for it
SCIP_META = {"heuristics": ("default", "aggressive", "fast", "off"), "presolving": ("default", "aggressive", "fast", "off"),
             "separating": ("default", "aggressive", "fast", "off"),
             "emphasis": ("default", "counter", "cpsolver", "easycip", "feasibility", "hardlp", "optimality",
                          "numerics", "benchmark")}


class ProfileFile(RootModel[dict[str, dict[str, dict[str, Scalar]]]]):
    """``route -> profile name -> option -> value``."""

    @model_validator(mode="after")
    def _check(self) -> ProfileFile:
        for route, profiles in self.root.items():
            if route not in RESERVED:
                raise ValueError(f"{route}: no route reads profiles by that name (valid: {', '.join(RESERVED)})")
            if DEFAULT not in profiles:
                raise ValueError(f"{route}: no '{DEFAULT}' profile")
            for name, options in profiles.items():
                for key, value in options.items():
                    if key in RESERVED.get(route, {}):
                        raise ValueError(f"{route}.{name}.{key}: set by {RESERVED[route][key]}, not by a profile")
                    if route == "scip" and "/" not in key and (key not in SCIP_META or value not in SCIP_META[key]):
                        meta = ", ".join(f"{k}: {'|'.join(v)}" for k, v in SCIP_META.items())
                        raise ValueError(f"{route}.{name}.{key}: {value!r} is not a SCIP parameter (they contain '/') "
                                         f"or a meta setting ({meta})")
        return self


@functools.cache
def load(path: Path = PROFILE_FILE) -> dict[str, dict[str, dict[str, Any]]]:
    """The profiles of ``path``, checked."""
    try:
        return ProfileFile.model_validate(read_yaml(path.read_text())).root
    except ValidationError as e:
        err = e.errors()[0]
        where = ".".join(str(p) for p in err["loc"][:3])  # route.profile.option (a type error's loc goes on)
        msg = f"{err['input']!r} is not a number, string or boolean" if len(err["loc"]) > 3 else err["msg"]
        raise DesignError(path.name + (f": {where}" if where else ""), msg.removeprefix("Value error, ")) from None


def names(route: str) -> list[str]:
    """The profiles ``route`` accepts (``default`` first)."""
    return [DEFAULT, *(n for n in load().get(route, {}) if n != DEFAULT)]


def settings(route: str, profile: str = DEFAULT) -> dict[str, Any]:
    """The options ``route`` hands its solver under ``profile``: its default with ``profile`` over it."""
    if profile not in names(route):
        raise DesignError("profile", f"{route} has no profile {profile!r}", ", ".join(names(route)))
    ours = load().get(route, {})
    return {**ours.get(DEFAULT, {}), **ours.get(profile, {})}


def split(spec: str) -> tuple[str, str | None]:
    """``'scip@aggressive'`` -> (``'scip'``, ``'aggressive'``); without ``@`` the profile is ``None``."""
    name, sep, profile = spec.partition(SEPARATOR)
    return name, (profile if sep else None)
