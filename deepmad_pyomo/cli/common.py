"""What every command of the command line shares: argument types and checks, the JSON output, progress
lines on stderr, and the ARCH argument's resolver.

Two kinds of bad argument, one place each: a value argparse can judge alone (not a number, not positive)
fails in its ``type=`` function (:func:`positive_int`, :func:`positive_float`: a usage error); anything
checked after parsing (a value the library checks too, or one option against another) raises
:class:`~deepmad_pyomo.errors.DesignError` (:func:`require_positive`), which :func:`deepmad_pyomo.cli.main.main`
turns into one line on stderr and exit status 2.
"""
from __future__ import annotations

import argparse
import json
import math
import sys
from pathlib import Path
from typing import Any, Callable, TypeVar

from ..errors import DesignError

ARCH_HELP = ("an architecture: our JSON file, an official TinyNAS structure file, or a registered model "
             "name (see the model registry)")
# Suffixes that make ARCH a file name even when the file is missing (so the error says so).
FILE_SUFFIXES = {".json", ".txt", ".py", ".yaml", ".yml"}

Number = TypeVar("Number", int, float)


# --------------------------------------------------------------------------------- argument types
def positive_int(text: str) -> int:
    """argparse type: an integer >= 1."""
    try:
        v = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not an integer: {text!r}") from None
    if v < 1:
        raise argparse.ArgumentTypeError(f"must be positive, got {text}")
    return v


def positive_float(text: str) -> float:
    """argparse type: a number > 0."""
    try:
        v = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
    if not v > 0:
        raise argparse.ArgumentTypeError(f"must be positive, got {text}")
    return v


def comma_list(text: str) -> list[str]:
    """argparse type: comma-separated names, blanks dropped."""
    return [x.strip() for x in text.split(",") if x.strip()]


# ------------------------------------------------------------------------------ checks after parsing
def require_positive(value: Number | None, field: str) -> Number | None:
    """``value`` unless it is given and not positive (a :class:`DesignError` naming ``field``)."""
    if value is not None and not value > 0:
        valid = "an integer >= 1" if isinstance(value, int) else "a number > 0"
        raise DesignError(field, f"must be positive, got {value}", valid)
    return value


# ------------------------------------------------------------------------------------------ output
def emit_json(data: Any) -> None:
    """Print ``data`` as strict JSON on stdout (what every ``--json`` prints): a number that is not finite
    (the objective of a design whose depth penalty is beyond a float is ``-inf``) is written as ``null``."""
    print(json.dumps(finite(data), indent=1, allow_nan=False))


def finite(data: Any) -> Any:
    """``data`` with every float that is not finite replaced by ``None``, in nested dicts, lists and tuples."""
    if isinstance(data, float):
        return data if math.isfinite(data) else None
    if isinstance(data, dict):
        return {k: finite(v) for k, v in data.items()}
    if isinstance(data, (list, tuple)):
        return [finite(v) for v in data]
    return data


def stderr_progress(enabled: bool) -> Callable[[str], None] | None:
    """A progress callback printing each message as a line on stderr, or ``None`` when not ``enabled``."""
    if not enabled:
        return None
    return lambda msg: print(msg, file=sys.stderr, flush=True)


# -------------------------------------------------------------------------------------------- ARCH
def resolve_arch(spec: str, resolution: int | None = None, num_classes: int | None = None) -> Any:
    """ARCH as given on the command line -> :class:`~deepmad_pyomo.space.arch.Architecture`.

    An existing path (or anything that looks like a file name) is loaded with :func:`arch.load`;
    anything else is looked up in the model registry."""
    from ..space import arch as arch_mod

    require_positive(resolution, "resolution")
    require_positive(num_classes, "num_classes")
    path = Path(spec)
    if path.exists() or path.suffix.lower() in FILE_SUFFIXES or "/" in spec or "\\" in spec:
        return arch_mod.load(path, resolution=resolution, num_classes=num_classes)
    from ..nn import models as registry

    try:
        a = registry.get_architecture(spec)
    except KeyError:
        raise DesignError("ARCH", f"no file or registered model named {spec!r}",
                          ", ".join(registry.list_models())) from None
    changes = {k: v for k, v in (("resolution", resolution), ("num_classes", num_classes)) if v is not None}
    return a.with_(**changes) if changes else a


__all__ = ["ARCH_HELP", "comma_list", "emit_json", "positive_float", "positive_int", "require_positive",
           "resolve_arch", "stderr_progress"]
