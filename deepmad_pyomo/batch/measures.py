"""The measures optimisation researchers compare solvers by, computed from a run's incumbent trace.

A *trace* is the list of ``(time_s, objective)`` of a run's improving verified designs (seconds since the
run started; :class:`~deepmad_pyomo.solve.results.TracePoint`). The problem is a maximisation; ``best`` is
the best known value of the problem (the best design any run or the certified record found).

- :func:`primal_gap` (Berthold, *Measuring the impact of primal heuristics*, 2013): ``p = 1`` without an
  incumbent (or when incumbent and best differ in sign), ``0`` when both are zero, else
  ``|best - incumbent| / max(|best|, |incumbent|)``, in ``[0, 1]``.
- :func:`primal_integral`: the integral of the primal gap step function over ``[0, T]``, in seconds (``T``:
  the time limit; a run that ends before ``T`` keeps its last gap until ``T``, as its answer stands).
- :func:`time_to_first`, :func:`time_to_best`: when the first design arrived, and the run's own best one;
  :func:`time_to_target`: when a design within a relative ``tol`` of a target value first arrived.
- :func:`shifted_geomean`: ``exp(mean(log(t + s))) - s``, shift ``s = 10`` seconds by default (the
  convention of the MIPLIB and Mittelmann benchmarks: short runs do not dominate the mean).
"""
from __future__ import annotations

import math
from typing import Iterable, Sequence

SGM_SHIFT_S = 10.0
Trace = Sequence[tuple[float, float]]  # (seconds since the start, objective) of improving designs


def primal_gap(incumbent: float | None, best: float) -> float:
    """Berthold's primal gap of ``incumbent`` against the best known value ``best``, in ``[0, 1]``."""
    if incumbent is None or incumbent * best < 0:
        return 1.0
    if incumbent == 0 and best == 0:
        return 0.0
    return min(1.0, abs(best - incumbent) / max(abs(best), abs(incumbent)))


def _sorted(trace: Trace) -> list[tuple[float, float]]:
    return sorted((float(t), float(v)) for t, v in trace)


def primal_integral(trace: Trace, best: float, horizon: float) -> float:
    """``integral_0^horizon p(t) dt`` (seconds) of the trace's primal gap step function against ``best``:
    ``p = 1`` until the first design, then the gap of the latest design; points after ``horizon`` are
    ignored, and the last gap holds until ``horizon``."""
    if horizon <= 0:
        return 0.0
    total, t_prev, gap = 0.0, 0.0, 1.0
    for t, value in _sorted(trace):
        t = max(0.0, t)
        if t >= horizon:
            break
        total += gap * (t - t_prev)
        t_prev, gap = t, primal_gap(value, best)
    return total + gap * (horizon - t_prev)


def time_to_first(trace: Trace) -> float | None:
    """When the first design arrived (``None``: never)."""
    points = _sorted(trace)
    return points[0][0] if points else None


def time_to_best(trace: Trace) -> float | None:
    """When the run's own best design arrived (the first point with the trace's largest objective)."""
    points = _sorted(trace)
    if not points:
        return None
    top = max(v for _, v in points)
    return next(t for t, v in points if v == top)


def time_to_target(trace: Trace, target: float, tol: float) -> float | None:
    """When a design within relative ``tol`` of ``target`` first arrived (``None``: never)."""
    return next((t for t, v in _sorted(trace) if v >= target - tol * abs(target)), None)


def shifted_geomean(values: Iterable[float], shift: float = SGM_SHIFT_S) -> float | None:
    """``exp(mean(log(v + shift))) - shift`` of non-negative values (``None`` for none)."""
    vals = [max(0.0, float(v)) for v in values]
    if not vals:
        return None
    return math.exp(sum(math.log(v + shift) for v in vals) / len(vals)) - shift


__all__ = ["SGM_SHIFT_S", "Trace", "primal_gap", "primal_integral", "shifted_geomean", "time_to_best",
           "time_to_first", "time_to_target"]
