"""Sums of exponentials of affine expressions: the costs of a network in log-variables.

:mod:`metrics` builds every cost (MACs, params, FLOPs) by multiplying sizes and adding the products. With
each size ``exp`` of a log-variable, a product is one exponential of the sum of the logs and a cost is a sum
of them, convex. :class:`ExpSum` keeps that shape, so that each term can become one exponential cone of the
convex relaxation (:mod:`.convex`); a term may be marked as summed over a super-block's repeats (``over``),
which the relaxation prices its own way.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from numbers import Real
from typing import Any


@dataclass(frozen=True)
class Term:
    """``coef * exp(expo)`` (``expo`` affine), summed over the repeats ``over`` where given."""

    coef: float
    expo: Any
    over: Any = None


class ExpSum:
    """A sum of :class:`Term`; closed under the sums and products :mod:`metrics` forms (numbers act as
    constant terms)."""

    def __init__(self, terms: tuple[Term, ...] = ()):
        self.terms = terms

    @classmethod
    def exp(cls, expo: Any) -> ExpSum:
        return cls((Term(1.0, expo),))

    def __add__(self, other: Any) -> ExpSum:
        if isinstance(other, ExpSum):
            return ExpSum(self.terms + other.terms)
        if _number(other):
            return self if other == 0 else ExpSum(self.terms + (Term(float(other), 0.0),))
        return NotImplemented

    __radd__ = __add__

    def __mul__(self, other: Any) -> ExpSum:
        if isinstance(other, ExpSum):
            assert all(t.over is None for t in self.terms + other.terms), "a sum over repeats is never multiplied"
            return ExpSum(tuple(Term(a.coef * b.coef, a.expo + b.expo) for a in self.terms for b in other.terms))
        if _number(other):
            return ExpSum(tuple(Term(t.coef * other, t.expo, t.over) for t in self.terms if other * t.coef))
        return NotImplemented

    __rmul__ = __mul__

    def over_repeats(self, repeats: Any) -> ExpSum:
        """This sum (one repeat's cost) summed over ``repeats``."""
        assert all(t.over is None for t in self.terms), "a sum is summed over repeats once"
        return ExpSum(tuple(Term(t.coef, t.expo, repeats) for t in self.terms))

    def log(self) -> Any:
        """The log of a single term (a size)."""
        assert len(self.terms) == 1 and self.terms[0].over is None, "only a single size has an affine log"
        t = self.terms[0]
        return t.expo + math.log(t.coef)

    def value(self, exp: Any) -> Any:
        """The sum itself (of terms not summed over repeats), with ``exp`` the exponential of the expressions'
        kind."""
        assert all(t.over is None for t in self.terms), "a sum over repeats has no value of its own"
        return sum(t.coef * exp(t.expo) for t in self.terms)


def _number(x: Any) -> bool:
    return isinstance(x, Real)
