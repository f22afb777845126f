"""The package's one kind of enum: members that are their strings."""
from __future__ import annotations

import enum


class StrEnum(str, enum.Enum):
    """An enum whose members are their strings: they compare, hash, format and serialise as their values
    (``enum.StrEnum`` from Python 3.11, here for 3.10 too)."""

    __str__ = str.__str__
    __format__ = str.__format__

    @classmethod
    def values(cls) -> tuple[str, ...]:
        return tuple(m.value for m in cls)
