"""The package's one error type for bad input: a message naming the field and what is valid."""
from __future__ import annotations

from typing import Any


class DesignError(ValueError):
    """Bad input (architecture, problem spec, option). ``str(err)`` is a one-line user message."""

    def __init__(self, field: str, problem: str, valid: str | None = None):
        self.field, self.problem, self.valid = field, problem, valid
        msg = f"{field}: {problem}"
        if valid:
            msg += f" (valid: {valid})"
        super().__init__(msg)

    def __reduce__(self) -> tuple[Any, ...]:
        # rebuilt from the constructor's arguments (not from ``args``), so it crosses process boundaries
        return type(self), (self.field, self.problem, self.valid)


class InfeasibleError(DesignError):
    """A design problem has no feasible architecture; ``smallest`` maps budget names to the least
    budget value that would make it feasible."""

    def __init__(self, field: str, problem: str, smallest: dict[str, float] | None = None):
        self.smallest = smallest or {}
        valid = ", ".join(f"{k} >= {v:.6g}" for k, v in self.smallest.items()) or None
        super().__init__(field, problem, valid)

    def __reduce__(self) -> tuple[Any, ...]:
        return type(self), (self.field, self.problem, self.smallest)
