"""What every command of the command line shares: exit statuses, argument types and checks, output paths,
the JSON output, progress lines on stderr, and the ARCH argument's resolver.

Two kinds of bad argument, one place each: a value argparse can judge alone (not a number, not positive)
fails in its ``type=`` function (:func:`positive_int`, :func:`positive_float`: a usage error, one line by
:class:`Parser`); anything checked after parsing (a value the library checks too, one option against
another, an output path) raises :class:`~deepmad_pyomo.errors.DesignError` (:func:`require_positive`,
:func:`check_outputs`), which :func:`deepmad_pyomo.cli.main.main` turns into one line on stderr. Both exit
with :attr:`Exit.BAD_INPUT` before any work starts.
"""
from __future__ import annotations

import argparse
import enum
import errno
import json
import math
import os
import sys
from pathlib import Path
from typing import Any, Callable, NoReturn, TypeVar

from ..errors import DesignError
from ..space.limits import clipped, quoted

ARCH_HELP = ("an architecture: our JSON file, an official TinyNAS structure file, or a registered model "
             "name (see the model registry)")
# Suffixes that make ARCH a file name even when the file is missing (so the error says so).
FILE_SUFFIXES = {".json", ".txt", ".py", ".yaml", ".yml"}

Number = TypeVar("Number", int, float)
MAX_WORKERS = 256                  # --workers: processes or Dask workers
MAX_SECONDS = 30 * 24 * 3600.0     # --time-limit: 30 days


class Exit(enum.IntEnum):
    """The exit statuses of ``deepmad`` (its ``--help`` lists them)."""

    OK = 0
    FAILED = 1            # the run failed: no design found in time, a count mismatch, failed batch runs
    BAD_INPUT = 2         # bad input, refused before any work (one line on stderr)
    INFEASIBLE = 2        # a problem proven to have no design: its budgets are bad input too
    INTERRUPTED = 130     # Ctrl-C; what was written is complete


EXIT_HELP = ("exit status: 0 done; 1 the run failed (no design in the time limit, a count mismatch, failed "
             "batch runs); 2 bad input, refused before any work with one line on stderr naming the field, or a "
             "problem proven infeasible (the smallest feasible budgets are printed); 130 interrupted.")


class Parser(argparse.ArgumentParser):
    """argparse's parser, whose usage errors are one line (the usage itself is in ``--help``)."""

    def error(self, message: str) -> NoReturn:
        self.exit(Exit.BAD_INPUT, f"{self.prog}: error: {' '.join(message.split())} (see '{self.prog} --help')\n")


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
    """argparse type: a finite number > 0."""
    try:
        v = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
    if not (v > 0 and math.isfinite(v)):
        raise argparse.ArgumentTypeError(f"must be a finite positive number, got {text}")
    return v


def seconds(text: str) -> float:
    """argparse type: a time limit, a finite number of seconds > 0 and at most :data:`MAX_SECONDS`."""
    v = positive_float(text)
    if v > MAX_SECONDS:
        raise argparse.ArgumentTypeError(f"{text} s is more than the {MAX_SECONDS:.0f} s (30 days) allowed")
    return v


def worker_count(text: str) -> int:
    """argparse type: a number of workers from 1 to :data:`MAX_WORKERS`."""
    v = positive_int(text)
    if v > MAX_WORKERS:
        raise argparse.ArgumentTypeError(f"{text} workers is more than the {MAX_WORKERS} allowed")
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


# ------------------------------------------------------------------------------------ output paths
class Output(enum.Enum):
    """What an output option names: a file (written atomically) or a folder (created, filled, resumed)."""

    FILE = "file"
    FOLDER = "folder"


def add_output(p: argparse.ArgumentParser, flag: str, kind: Output, **kwargs: Any) -> None:
    """Declare the output path option ``flag`` of a command: :func:`check_outputs` checks it before the
    command runs."""
    action = p.add_argument(flag, **kwargs)
    p.set_defaults(outputs=(*(p.get_default("outputs") or ()), (action.dest, flag, kind)))


def check_outputs(args: argparse.Namespace) -> None:
    """Every output path the command line names (:func:`add_output`) can be written: a
    :class:`DesignError` naming the option otherwise, before any work starts."""
    for dest, flag, kind in getattr(args, "outputs", ()):
        value = getattr(args, dest, None)
        if value is not None:
            check_output(value, flag, kind)


def check_output(path: str, flag: str, kind: Output) -> None:
    """``path`` can be written as ``kind``: the target is no folder (a file) or no file (a folder), and
    the nearest existing folder on its way can be written in. Nothing is created."""
    if not path or "\0" in path:
        raise DesignError(flag, f"{quoted(path)} is not a path", f"a {kind.value} path")
    try:
        _check_target(Path(path), flag, kind)
    except OSError as e:  # a name too long, a folder that cannot be read
        raise DesignError(flag, f"{clipped(path)}: {e.strerror or e}", f"a {kind.value} path you may write") from None


def _check_target(target: Path, flag: str, kind: Output) -> None:
    """The checks of :func:`check_output` (which turns an ``OSError`` into one line)."""
    path = clipped(str(target))
    if kind == Output.FILE and target.is_dir():
        raise DesignError(flag, f"{path} is a folder", f"a file path, such as {target / 'out.json'}")
    if kind == Output.FILE and target.exists() and not target.is_file():
        raise DesignError(flag, f"{path} is not a regular file", "a path to a regular file")
    if kind == Output.FOLDER and target.exists() and not target.is_dir():
        raise DesignError(flag, f"{path} is a file", "a folder (created when missing)")
    if target.exists() and not os.access(target, os.W_OK):
        raise DesignError(flag, f"{path} is not writable", f"a {kind.value} you may write")
    ancestor = _nearest_existing(target if kind == Output.FOLDER else target.parent)
    if not ancestor.is_dir():
        raise DesignError(flag, f"{ancestor} is a file, so no folder can be made under it", "a path under a folder")
    if not os.access(ancestor, os.W_OK | os.X_OK):
        raise DesignError(flag, f"cannot write in {ancestor} (permission denied)", "a folder you may write in")
    _check_name_lengths(target, ancestor, flag)


def _nearest_existing(path: Path) -> Path:
    """``path`` or the nearest of its parents that exists (as an absolute path)."""
    path = path.absolute()
    while not path.exists() and path != path.parent:
        path = path.parent
    return path


def _check_name_lengths(target: Path, ancestor: Path, flag: str) -> None:
    """No part of ``target`` is longer than the file system of ``ancestor`` allows."""
    try:
        longest = os.pathconf(ancestor, "PC_NAME_MAX")
    except (OSError, ValueError):
        longest = 255
    for part in target.parts:
        if len(os.fsencode(part)) > longest:
            raise DesignError(flag, f"{os.strerror(errno.ENAMETOOLONG).lower()}: {clipped(part)}",
                              f"names of at most {longest} bytes")


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


__all__ = ["ARCH_HELP", "EXIT_HELP", "MAX_SECONDS", "MAX_WORKERS", "Exit", "Output", "Parser", "add_output",
           "check_output", "check_outputs", "comma_list", "emit_json", "finite", "positive_float", "positive_int",
           "require_positive", "resolve_arch", "seconds", "stderr_progress", "worker_count"]
