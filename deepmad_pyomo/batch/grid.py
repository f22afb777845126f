"""``deepmad pareto`` over two budgets: the certified grid of a design problem (e.g. MACs x params).

Each cell is the problem with both swept budgets set, certified by the default route on the run engine (the
points, records and runs of :mod:`.pareto`: ``<out>/points/<key>.json``, written atomically as each arrives; a
rerun keeps the finished ones). The values of each budget are a geometric grid from ``lo`` to ``hi``, both
ends included (:func:`~.pareto.initial_grid`). Cells are certified in *rounds*, one anti-diagonal at a time
(round ``k``: the cells ``(i, j)`` with ``i + j = k``), so every cell at smaller budgets is certified before
it. A cell starts from the better of certify's own quick designs and the best design of the cells at budgets
``<=`` its own in both (:func:`warm_cell`: each of them meets its budgets). Each round is decided from the
records of the rounds before it only: the grid depends neither on which worker finishes first nor on how many
there are.

**The grid.** The optimum is non-decreasing in each budget, so at a cell the grid's design is the best design
of a cell at budgets ``<=`` its own in both (a cell's own design is *lifted* when a smaller cell's is better,
which the gap allows), and its bound is the least proven bound of a cell at budgets ``>=`` its own in both. A
design of a cell that beats the proven bound of a cell at budgets at least its own contradicts a certificate:
a bug, reported as a *violation* (``deepmad pareto`` exits 1).

**Prices.** Each cell's design is priced in both budgets (1% and 10% more of one, the other kept), read off
the grid (:func:`~deepmad_pyomo.solve.prices.certified_price`): proven intervals, no solve.

Files under ``out``: ``points/<key>.json``, ``grid.csv`` and ``grid.json`` (every cell with its architecture,
bindings and prices), ``grid.png``/``grid.svg`` (:func:`~.plots.grid_plot`).
"""
from __future__ import annotations

import csv
import io
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterator, Sequence

from ..errors import DesignError
from ..fileio import atomic_write_json, atomic_write_text, read_json
from ..solve.options import check_gap
from ..solve.prices import RELAXATIONS, Certified, Constraint, certified_price
from ..solve.registry import CERTIFY
from ..solve.results import Status
from ..space.problem import DesignProblem
from .engine import (
    Payload,
    Record,
    check_time_limit,
    is_failure,
    plain_problem,
    problem_hash,
)
from .pareto import (
    DEFAULT_TIME_LIMIT,
    FRONT_FORMAT,
    LazyClient,
    Sweep,
    certified_point,
    initial_grid,
    measured_as,
    point_key,
    released_points,
)

GRID_FORMAT = "deepmad-pyomo/pareto-grid-v1"
DEFAULT_SHAPE = (4, 4)
MAX_SIDE = 20  # values per budget
SHAPE_VALID = f"NxM or N (NxN), each from 2 to {MAX_SIDE}, e.g. 4x4"

Index = tuple[int, int]


@dataclass(frozen=True)
class GridSweep:
    """The two budgets swept, their ranges, and how many values of each."""

    sweeps: tuple[Sweep, Sweep]
    shape: tuple[int, int]

    def axes(self) -> tuple[list[float], list[float]]:
        """The values of each budget (geometric, the ends exact)."""
        return initial_grid(self.sweeps[0], self.shape[0]), initial_grid(self.sweeps[1], self.shape[1])

    def values(self, index: Index) -> dict[str, float]:
        """The budgets of cell ``index``."""
        xs, ys = self.axes()
        return {self.sweeps[0].budget.value: xs[index[0]], self.sweeps[1].budget.value: ys[index[1]]}

    def __str__(self) -> str:
        return f"{self.sweeps[0]} x {self.sweeps[1]} ({self.shape[0]}x{self.shape[1]})"


def parse_shape(text: str | None) -> tuple[int, int]:
    """``4x4`` (or ``4``: square) -> (4, 4), each side from 2 to :data:`MAX_SIDE`; ``None``: the default."""
    if text is None:
        return DEFAULT_SHAPE
    parts = str(text).lower().split("x")
    try:
        sides = tuple(int(p) for p in parts)
    except ValueError:
        raise DesignError("--points", f"{text!r} is not NxM", SHAPE_VALID) from None
    if len(sides) == 1:
        sides = sides * 2
    if len(sides) != 2 or not all(2 <= n <= MAX_SIDE for n in sides):
        raise DesignError("--points", f"{text!r} is not a grid of 2 to {MAX_SIDE} values per budget", SHAPE_VALID)
    return sides  # type: ignore[return-value]


def grid_sweep(sweeps: Sequence[Sweep], points: str | None) -> GridSweep:
    """Two sweeps of two different budgets and the grid's shape, checked."""
    if len(sweeps) != 2 or sweeps[0].budget == sweeps[1].budget:
        raise DesignError("--sweep", f"a grid sweeps two different budgets, got {', '.join(map(str, sweeps))}",
                          "--sweep flops=LO:HI --sweep params=LO:HI")
    return GridSweep((sweeps[0], sweeps[1]), parse_shape(points))


# ------------------------------------------------------------------------------------------ runs
def diagonal(shape: tuple[int, int], k: int) -> list[Index]:
    """The cells of round ``k``: ``i + j = k``."""
    return [(i, k - i) for i in range(shape[0]) if 0 <= k - i < shape[1]]


def dominated(a: Index, b: Index) -> bool:
    """Whether cell ``a`` has budgets ``<=`` cell ``b``'s in both."""
    return a[0] <= b[0] and a[1] <= b[1]


def warm_cell(records: dict[Index, Record], index: Index) -> Index | None:
    """The certified cell at budgets ``<=`` ``index``'s (not itself) with the best design (ties: the nearest,
    then the larger first budget); ``None`` when none has a design."""
    done = [c for c, r in records.items() if c != index and dominated(c, index) and r.get("architecture")]
    return max(done, key=lambda c: (records[c]["objective"], sum(c), c[0]), default=None)


def cell_payload(problem: DesignProblem, grid: GridSweep, index: Index, warm: Record | None, time_limit: float,
                 gap: float) -> Payload:
    """The run of one cell; ``warm``: the record whose design starts it."""
    values = grid.values(index)
    prob = problem.with_budgets(**values)
    key = "_".join(point_key(s.budget, values[s.budget.value]) for s in grid.sweeps)
    return {"key": key, "values": values, "problem": plain_problem(prob), "problem_hash": problem_hash(prob),
            "solver": CERTIFY, "time_limit": float(time_limit), "gap": float(gap),
            "warm_start": warm["architecture"] if warm else None, "warm_from": warm["values"] if warm else None}


def _rounds(problem: DesignProblem, grid: GridSweep, out: Path, time_limit: float, gap: float, pool: LazyClient,
            run_args: dict[str, Any]) -> Iterator[tuple[dict[Index, Record], int, int]]:
    """Run the anti-diagonals in order; yields (records so far, reused, solved) after each."""
    records: dict[Index, Record] = {}
    shape = tuple(len(a) for a in grid.axes())
    for k in range(shape[0] + shape[1] - 1):
        cells = diagonal(shape, k)  # type: ignore[arg-type]
        warm = {c: warm_cell(records, c) for c in cells}
        payloads = [cell_payload(problem, grid, c, records[warm[c]] if warm[c] else None, time_limit, gap)
                    for c in cells]
        outcome = pool.run(out, payloads, run_args)
        by_key = {r["key"]: r for r in outcome.records}
        records |= {c: by_key[p["key"]] for c, p in zip(cells, payloads) if p["key"] in by_key}
        yield records, outcome.reused, outcome.done
        if len(outcome.records) < len(payloads):
            return  # interrupted


# ------------------------------------------------------------------------------------------ grid
@dataclass
class Cell:
    """One cell: its own answer and the grid's (lifted design, least bound above)."""

    index: Index
    values: dict[str, float]
    record: Record
    objective: float | None = None  # the grid's: the best design of a cell at budgets <= these
    design_from: dict[str, float] | None = None  # the budgets of the cell whose design that is
    bound: float | None = None  # the grid's: the least proven bound of a cell at budgets >= these
    prices: list[dict[str, Any]] = field(default_factory=list)

    @property
    def certified(self) -> bool:
        return self.record.get("status") == Status.OPTIMAL.value

    @property
    def design(self) -> float | None:
        """Its own design's objective (``None``: no design)."""
        return self.record.get("objective") if self.record.get("architecture") else None

    def binds(self) -> list[str]:
        return [b["constraint"] for b in self.record.get("bindings") or [] if b["binds"]]

    def to_dict(self) -> dict[str, Any]:
        r, m = self.record, self.record.get("metrics") or {}
        gap = None if self.objective is None or self.bound is None else \
            max(0.0, self.bound - self.objective) / max(abs(self.objective), 1e-9)
        return {"index": list(self.index), "values": self.values, "status": r.get("status"),
                "objective": r.get("objective"), "bound": r.get("bound"), "gap": r.get("gap"),
                "grid_objective": self.objective, "grid_design_from": self.design_from, "grid_bound": self.bound,
                "grid_gap": gap, "binds": self.binds(), "macs": m.get("macs"), "params": m.get("params"),
                "rho": m.get("rho"), "layers": m.get("layers"), "time_s": r.get("time_s"),
                "warm_from": r.get("warm_from"), "architecture": r.get("architecture"),
                "bindings": r.get("bindings"), "prices": self.prices, "message": r.get("message")}


@dataclass
class Grid:
    """The cells (first budget, then second, ascending) and the violations of monotonicity (each a bug)."""

    cells: list[Cell]
    violations: list[str]

    @property
    def lifted(self) -> list[dict[str, float]]:
        return [c.values for c in self.cells if c.design_from is not None and c.design_from != c.values]


def _where(values: dict[str, float]) -> str:
    return ", ".join(f"{k}={v:g}" for k, v in values.items())


def assemble_grid(records: dict[Index, Record], grid: GridSweep, tol: float = 1e-7) -> Grid:
    """The grid of the cells' records: lifted designs, least bounds above, violations, prices in both budgets."""
    cells = [Cell(i, grid.values(i), records[i]) for i in sorted(records)]
    violations = []
    for cell in cells:
        below = [c for c in cells if dominated(c.index, cell.index) and c.design is not None]
        best = max(below, key=lambda c: (c.design, c is cell), default=None)
        if best is not None:
            cell.objective, cell.design_from = best.design, best.values
        cell.bound = min((c.record["bound"] for c in cells if dominated(cell.index, c.index)
                          and c.record.get("bound") is not None), default=None)
        own = cell.record.get("bound")
        for c in below:
            if own is not None and c.design > own + tol * max(1.0, abs(own)):  # type: ignore[operator]
                violations.append(f"at {_where(cell.values)} the proven bound {own:,.4f} is below the design of "
                                  f"{_where(c.values)} ({c.design:,.4f}), which meets it")
    points = [certified_point(c.record, c.values) for c in cells]
    for cell in cells:
        if cell.design is not None:
            cell.prices = [certified_price(points, Constraint(s.budget.value), cell.values, f, cell.design).to_dict()
                           for s in grid.sweeps for f in RELAXATIONS]
    return Grid(cells, violations)


def check_released(grid: Grid, released: list[dict[str, Any]]) -> list[str]:
    """A released structure that meets every other constraint lies at or below the least bound of the cells
    at budgets at least its own; one above it contradicts a certificate (a violation)."""
    out = []
    for ref in released:
        above = [c.record["bound"] for c in grid.cells if c.record.get("bound") is not None
                 and all(c.values[k] >= v for k, v in ref["values"].items())]
        ref["grid_bound"] = min(above, default=None)
        if not ref["breaks"] and ref["grid_bound"] is not None and \
                ref["objective"] > ref["grid_bound"] + 1e-7 * max(1.0, abs(ref["grid_bound"])):
            out.append(f"released {ref['name']} ({ref['objective']:,.4f} at {_where(ref['values'])}) beats the "
                       f"proven bound {ref['grid_bound']:,.4f} of larger budgets")
    return out


# ----------------------------------------------------------------------------------------- sweep
@dataclass
class GridResult:
    """What :func:`pareto_grid` did: the grid, the released structures placed on it, rounds, runs, files."""

    out: Path
    grid_sweep: GridSweep
    grid: Grid
    released: list[dict[str, Any]]
    rounds: int
    reused: int
    solved: int
    failed: int
    wall_s: float
    files: list[str]

    @property
    def uncertified(self) -> list[dict[str, float]]:
        return [c.values for c in self.grid.cells if not c.certified and c.record.get("status") != "infeasible"]

    @property
    def proven(self) -> int:
        return sum(c.certified for c in self.grid.cells)

    def to_dict(self) -> dict[str, Any]:
        xs, ys = self.grid_sweep.axes()
        s0, s1 = self.grid_sweep.sweeps
        return {"format": GRID_FORMAT,
                "sweeps": [{"budget": s.budget.value, "lo": s.lo, "hi": s.hi, "values": v}
                           for s, v in ((s0, xs), (s1, ys))],
                "cells": len(self.grid.cells), "proven": self.proven, "rounds": self.rounds, "reused": self.reused,
                "solved": self.solved, "failed": self.failed, "uncertified": self.uncertified,
                "lifted": self.grid.lifted, "violations": self.grid.violations, "wall_s": round(self.wall_s, 2),
                "released": self.released, "files": self.files, "grid": [c.to_dict() for c in self.grid.cells]}


def pareto_grid(problem: DesignProblem, grid: GridSweep, out: str | Path, *, time_limit: float = DEFAULT_TIME_LIMIT,
                gap: float = 1e-4, workers: int | None = None, scheduler: str | None = None, client: Any = None,
                progress: bool = True, retries: int = 2, keep_failed: bool = False, figure: bool = True,
                command: str | None = None) -> GridResult:
    """The certified grid of ``problem`` over ``grid``'s two budgets under ``out`` (resuming what is there)."""
    check_time_limit(time_limit)
    check_gap(gap)
    out = Path(out)
    t0 = time.perf_counter()
    rounds = reused = solved = 0
    records: dict[Index, Record] = {}
    run_args = {"retries": retries, "progress": progress, "keep_failed": keep_failed}
    with LazyClient(workers, scheduler, client) as pool:
        for records, r, s in _rounds(problem, grid, out, time_limit, gap, pool, run_args):
            rounds, reused, solved = rounds + 1, reused + r, solved + s
    built = assemble_grid(records, grid)
    released = released_points(problem, *(s.budget for s in grid.sweeps))
    built.violations += check_released(built, released)
    failed = sum(is_failure(c.record.get("status")) for c in built.cells)
    result = GridResult(out, grid, built, released, rounds, reused, solved, failed, time.perf_counter() - t0, [])
    result.files = [str(f) for f in write_grid(result, problem, command, figure)]
    return result


# --------------------------------------------------------------------------------------- outputs
def _columns(grid: GridSweep) -> list[str]:
    budgets = [s.budget.value for s in grid.sweeps]
    prices = [f"price_{b}_{round(100 * f)}pct_{end}" for b in budgets for f in RELAXATIONS for end in ("low", "high")]
    return [f"{b}_budget" for b in budgets] + [
        "status", "objective", "bound", "gap", "grid_objective", "grid_bound", "grid_gap", "grid_design_from",
        "binds", "macs", "params", "rho", "layers", "time_s", "warm_from", *prices, "architecture"]


def _csv(result: GridResult) -> str:
    from ..space.arch import Architecture

    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=_columns(result.grid_sweep), extrasaction="ignore", lineterminator="\n")
    w.writeheader()
    for cell in result.grid.cells:
        d = cell.to_dict()
        d |= {f"{k}_budget": v for k, v in cell.values.items()}
        d["binds"] = "+".join(d["binds"])
        for k in ("grid_design_from", "warm_from"):
            d[k] = _where(d[k]) if d[k] else ""
        d["architecture"] = Architecture.from_dict(d["architecture"]).describe() if d["architecture"] else ""
        for p in cell.prices:
            tag = f"price_{p['constraint']}_{round(100 * p['fraction'])}pct"
            d[f"{tag}_low"], d[f"{tag}_high"] = p["gain_low"], p["gain_high"]
        w.writerow(d)
    return buf.getvalue()


def write_grid(result: GridResult, problem: DesignProblem, command: str | None, figure: bool) -> list[Path]:
    """``grid.csv``, ``grid.json`` and (``figure``) ``grid.png``/``grid.svg`` under the output folder."""
    out = result.out
    measured = {s.budget.value: measured_as(problem, s.budget.value) for s in result.grid_sweep.sweeps}
    atomic_write_text(out / "grid.csv", _csv(result))
    data = result.to_dict() | {"problem": plain_problem(problem), "command": command, "measured_as": measured}
    data.pop("files")
    atomic_write_json(out / "grid.json", data)
    files = [out / "grid.csv", out / "grid.json"]
    if figure and any(c.design is not None for c in result.grid.cells):
        from .plots import grid_plot

        files += grid_plot(data["grid"], data["sweeps"], measured, problem.name, out / "grid")
    return files


# ------------------------------------------------------------------------------- reading it back
FRONT_VALID = "the --out folder of a deepmad pareto run (holding grid.json or front.json)"


def load_certified(folder: str | Path) -> tuple[dict[str, Any], Certified]:
    """The problem (as data) and certified points of a ``deepmad pareto`` output folder: its ``grid.json``, else
    its ``front.json``; a :class:`DesignError` naming ``--front`` when there is neither."""
    folder = Path(folder)
    for name, fmt in (("grid.json", GRID_FORMAT), ("front.json", FRONT_FORMAT)):
        path = folder / name
        try:
            if not path.is_file():
                continue
        except OSError as e:  # a name too long, a folder that cannot be read
            raise DesignError("--front", f"{folder}: {e.strerror}", FRONT_VALID) from None
        data = read_json(path, "--front", FRONT_VALID)
        if not isinstance(data, dict) or data.get("format") != fmt:
            raise DesignError("--front", f"{path} is not a {fmt} file", FRONT_VALID)
        try:
            if fmt == GRID_FORMAT:
                budgets = tuple(Constraint(s["budget"]) for s in data["sweeps"])
                points = tuple(certified_point(c, c["values"]) for c in data["grid"])
            else:
                budgets = (Constraint(data["sweep"]["budget"]),)
                points = tuple(certified_point(r, {budgets[0].value: r["value"]}) for r in data["front"])
            return data["problem"], Certified(budgets, points)
        except (KeyError, TypeError, ValueError) as e:
            raise DesignError("--front", f"{path} is not a complete {fmt} file ({type(e).__name__}: {e})",
                              FRONT_VALID) from None
    raise DesignError("--front", f"{folder} holds no grid.json or front.json", FRONT_VALID)


def check_same_problem(problem: DesignProblem, front_problem: dict[str, Any], front: Certified) -> None:
    """The front is of ``problem`` but for the budgets it sweeps (its name and description aside); a
    :class:`DesignError` naming ``--front`` and the first field that differs otherwise."""
    theirs = DesignProblem.from_dict(front_problem)
    swept = {c.value: getattr(problem.budgets, c.value) for c in front.budgets}
    if any(v is None for v in swept.values()):
        missing = [k for k, v in swept.items() if v is None]
        raise DesignError("--front", f"the front sweeps {', '.join(missing)}, which the problem does not set",
                          "a front of this problem")
    mine, other = plain_problem(problem.with_budgets(**swept)), plain_problem(theirs.with_budgets(**swept))
    for d in (mine, other):
        d.pop("name"), d.pop("description", None)
    for key in [*mine, *(k for k in other if k not in mine)]:
        if mine.get(key) != other.get(key):
            raise DesignError("--front", f"its problem differs from this one in {key!r}",
                              "a front of the same problem (the same template, objective and other budgets)")


__all__ = ["DEFAULT_SHAPE", "GRID_FORMAT", "Cell", "Grid", "GridResult", "GridSweep", "assemble_grid",
           "check_same_problem", "diagonal", "grid_sweep", "load_certified", "pareto_grid", "parse_shape",
           "warm_cell", "write_grid"]
