"""The ``deepmad`` command line: the parser and the mapping of errors to exit statuses.

Each command group is a module with a ``register(subparsers)`` function that declares its commands and
their handlers ``cmd_<name>(args) -> int``: :mod:`.architecture` (metrics, build, export, presets),
:mod:`.design` (design, solvers), :mod:`.batch` (compare, zoo, pareto) and :mod:`.latency`; what they share is in
:mod:`.common`. This module imports them; they never import it.

Bad input raises :class:`~deepmad_pyomo.errors.DesignError` anywhere below; :func:`main` alone turns
it (and ``OSError`` from reading or writing files) into one line on stderr and exit status 2
(:class:`~.common.Exit` lists the statuses). Output paths are checked before a command runs.
Heavy modules (torch, the solvers) are imported inside the commands that need them.
"""
from __future__ import annotations

import argparse
import os
import sys
from typing import Sequence

from ..errors import DesignError
from ..space.limits import clipped
from ..version import __version__
from . import architecture, batch, design, latency
from .common import EXIT_HELP, Exit, Parser, check_outputs

PROG = "deepmad"


def build_parser() -> argparse.ArgumentParser:
    parser = Parser(prog=PROG, description="DeepMAD CNN backbone design as a Pyomo MINLP.", epilog=EXIT_HELP)
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for group in (architecture, design, batch, latency):
        group.register(sub)
    return parser


def _error(message: str) -> int:
    one_line = " ".join(str(message).split())
    print(f"{PROG}: error: {one_line}", file=sys.stderr)
    return Exit.BAD_INPUT


def _quiet_stdout() -> None:
    """Point stdout at /dev/null (it was closed early, as by ``deepmad ... | head``)."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):
        pass


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as e:  # usage errors (2), --help and --version (0)
        return e.code if isinstance(e.code, int) else (Exit.OK if e.code is None else Exit.BAD_INPUT)
    try:
        check_outputs(args)
        return int(args.func(args) or Exit.OK)
    except DesignError as e:
        return _error(str(e))
    except KeyboardInterrupt:
        print(f"{PROG}: interrupted; files written so far are complete (compare, zoo and pareto resume when rerun)",
              file=sys.stderr)
        return Exit.INTERRUPTED
    except BrokenPipeError:  # stdout closed early: stop quietly
        _quiet_stdout()
        return Exit.FAILED
    except OSError as e:
        where = f"{clipped(str(e.filename))}: " if getattr(e, "filename", None) else ""
        return _error(f"{where}{e.strerror or e}")


if __name__ == "__main__":
    sys.exit(main())
