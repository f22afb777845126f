"""Where a batch writes: only under its output folder.

Every name a batch turns into a file name (suite names, problem names) must be a plain name
(:func:`check_plain_name`), checked when the batch is planned, before any run starts; every record path
is built by :func:`inside`, which refuses a path that resolves outside the output folder.
"""
from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from ..errors import DesignError

PLAIN_NAME = re.compile(r"[A-Za-z0-9._-]+")
PLAIN_NAME_RULE = "letters, digits and ._- only, not '.' or '..'"


def is_plain_name(name: Any) -> bool:
    return isinstance(name, str) and PLAIN_NAME.fullmatch(name) is not None and name not in (".", "..")


def check_plain_name(name: Any, field: str) -> str:
    """``name`` when it is a plain file name (:data:`PLAIN_NAME_RULE`), else a :class:`DesignError` naming
    ``field``."""
    if not is_plain_name(name):
        raise DesignError(field, f"{name!r} is not a plain name (it becomes a file name under --out)",
                          PLAIN_NAME_RULE)
    return name


def inside(out: Path, *parts: str) -> Path:
    """``out / parts...``, refused unless it resolves inside ``out``."""
    path = Path(out).joinpath(*parts)
    if not path.resolve().is_relative_to(Path(out).resolve()):
        raise DesignError("out", f"{path} is outside the output folder {out}")
    return path


__all__ = ["PLAIN_NAME_RULE", "check_plain_name", "inside", "is_plain_name"]
