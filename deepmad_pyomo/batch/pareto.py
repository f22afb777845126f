"""``deepmad pareto``: the certified front of a design problem over one budget (MACs, params or latency).

Each point is the problem with the swept budget set to one value, certified by the default route (gap
``<= gap``) on the run engine (:mod:`.engine`, the one under ``compare`` and ``zoo``: Dask, embedded or
existing; each record written atomically as it arrives, a rerun skips finished points). Points are placed
in *rounds*, each decided from the records of the rounds before it only, so the front does not depend on
which worker finishes first nor on how many there are:

1. round 0: a geometric grid of ``initial`` values from ``lo`` to ``hi`` (both ends included);
2. then, while fewer than ``points`` are done: the *bend* of a point is how far its objective lies from the
   chord of its two neighbours (over log budget); an interval's error is the larger bend of its two ends.
   The ``per_round`` intervals of largest error (ties: the wider, then the lower) are bisected at their
   geometric middle. An interval whose error is within the gap (``gap * |objective|``: below what the
   certificates resolve) or narrower than :data:`MIN_RATIO` is not split; the sweep ends when none is left.

Values are rounded to :data:`SIGNIFICANT` significant digits. A new point starts from the better of certify's
own quick designs and the design of the nearest smaller budget of an earlier round (it meets the larger budget).

**The front.** The optimum is non-decreasing in the budget, so at each value the front's design is the best
design found at a budget ``<=`` it (a point's own design is *lifted* when a smaller budget's design, which also
meets its budget, is better: possible within the gap), and its bound the least proven bound at a budget
``>=`` it. A design at a smaller budget that beats the proven bound of a larger one contradicts the
certificates: that is a bug, reported as a *violation* (``deepmad pareto`` exits 1 and says so on stderr).

Files under ``out``: ``points/<budget>-<value>.json`` (one record per point, :mod:`.pareto_worker`),
``front.csv`` and ``front.json`` (every point with its architecture, bindings and the price of the swept
budget read off the front), ``front.png``/``front.svg`` (objective against the budget, points marked by
which constraints bind, the released DeepMAD structures where they fit the problem's template).

Two budgets at once (a grid, its cells certified by the same runs): :mod:`.grid`.
"""
from __future__ import annotations

import contextlib
import csv
import io
import math
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterator, Sequence

from ..enums import StrEnum
from ..errors import DesignError
from ..fileio import atomic_write_json, atomic_write_text, read_json_or_none
from ..solve.options import check_gap
from ..solve.prices import (
    RELAXATIONS,
    CertifiedPoint,
    Constraint,
    certified_price,
)
from ..solve.registry import CERTIFY
from ..solve.results import Status
from ..space.families import BlockType
from ..space.limits import MAX_MACS, MAX_PARAMS
from ..space.metrics import evaluate
from ..space.problem import ConvSpec, DesignProblem
from .engine import (
    Outcome,
    Payload,
    Record,
    RunKind,
    check_time_limit,
    is_failure,
    plain_problem,
    problem_hash,
    run_planned,
)
from .pareto_worker import FORMAT, execute, failure_record, finished
from .paths import inside

SIGNIFICANT = 4  # digits a point's budget is rounded to
MIN_RATIO = 1.002  # an interval narrower than this (hi / lo) is never split
DEFAULT_POINTS, DEFAULT_INITIAL, DEFAULT_PER_ROUND = 12, 5, 4
DEFAULT_TIME_LIMIT = 120.0  # a safety net per point: certify stops on its work limits
FRONT_FORMAT = "deepmad-pyomo/pareto-front-v1"


class SweepBudget(StrEnum):
    """A budget a front is swept over (the problem's ``budgets`` field)."""

    FLOPS = "flops"
    PARAMS = "params"
    LATENCY = "latency_ms"


ALIASES = {"flops": SweepBudget.FLOPS, "macs": SweepBudget.FLOPS, "params": SweepBudget.PARAMS,
           "latency": SweepBudget.LATENCY, "latency_ms": SweepBudget.LATENCY}
SWEEP_VALID = "BUDGET=LO:HI with BUDGET flops (or macs), params or latency and 0 < LO < HI, e.g. flops=0.5e9:8e9"
LIMITS = {SweepBudget.FLOPS: MAX_MACS.most, SweepBudget.PARAMS: MAX_PARAMS.most, SweepBudget.LATENCY: math.inf}


@dataclass(frozen=True)
class Sweep:
    """The budget swept and its range."""

    budget: SweepBudget
    lo: float
    hi: float

    def __str__(self) -> str:
        return f"{self.budget.value}={self.lo:g}:{self.hi:g}"


def parse_sweep(text: str, problem: DesignProblem | None = None) -> Sweep:
    """``flops=0.5e9:8e9`` -> :class:`Sweep`, checked (against ``problem``: a latency sweep needs its
    latency model); a :class:`DesignError` naming ``--sweep`` otherwise."""
    m = re.fullmatch(r"\s*([A-Za-z_]+)\s*=\s*([^:]+):([^:]+)\s*", text or "")
    if not m:
        raise DesignError("--sweep", f"{text!r} is not BUDGET=LO:HI", SWEEP_VALID)
    name, lo_text, hi_text = m.groups()
    budget = ALIASES.get(name.lower())
    if budget is None:
        raise DesignError("--sweep", f"unknown budget {name!r}", SWEEP_VALID)
    try:
        lo, hi = float(lo_text), float(hi_text)
    except ValueError:
        raise DesignError("--sweep", f"{lo_text.strip()!r}:{hi_text.strip()!r} are not two numbers", SWEEP_VALID) \
            from None
    if not (math.isfinite(lo) and math.isfinite(hi) and 0 < lo < hi):
        raise DesignError("--sweep", f"range {lo:g}:{hi:g} is not 0 < LO < HI", SWEEP_VALID)
    if hi > LIMITS[budget]:
        raise DesignError("--sweep", f"HI {hi:g} exceeds the largest {budget.value} budget {LIMITS[budget]:g}",
                          SWEEP_VALID)
    if budget == SweepBudget.LATENCY and problem is not None and not problem.budgets.latency_model:
        raise DesignError("--sweep", "a latency sweep needs the problem's budgets.latency_model",
                          "a problem file with a latency_model (see deepmad latency profile), or sweep flops/params")
    if budget == SweepBudget.PARAMS and hi < 1:
        raise DesignError("--sweep", f"params range {lo:g}:{hi:g} is below one parameter", SWEEP_VALID)
    return Sweep(budget, lo, hi)


# ------------------------------------------------------------------------------------- placement
def rounded(value: float) -> float:
    """``value`` to :data:`SIGNIFICANT` significant digits."""
    return float(f"{value:.{SIGNIFICANT - 1}e}")


def initial_grid(sweep: Sweep, n: int) -> list[float]:
    """``n`` geometrically spaced values from ``lo`` to ``hi`` (the ends exact, the inside rounded)."""
    if n < 2:
        return [sweep.lo]
    inner = [rounded(sweep.lo * (sweep.hi / sweep.lo) ** (i / (n - 1))) for i in range(1, n - 1)]
    return sorted({sweep.lo, sweep.hi, *inner})


def bends(xs: Sequence[float], ys: Sequence[float]) -> list[float]:
    """How far each point lies from the chord of its neighbours (over log budget); 0 at the ends."""
    out = [0.0] * len(xs)
    for i in range(1, len(xs) - 1):
        x0, x1, x2 = (math.log(v) for v in xs[i - 1:i + 2])
        chord = ys[i - 1] + (ys[i + 1] - ys[i - 1]) * (x1 - x0) / (x2 - x0)
        out[i] = abs(ys[i] - chord)
    return out


def refine(done: dict[float, float | None], count: int, gap: float) -> list[float]:
    """Up to ``count`` new values: the geometric middles of the intervals between the finished values whose
    linear interpolation error is largest (``done``: value -> objective, ``None`` where there is no design;
    intervals next to such a value have error 0)."""
    xs = sorted(done)
    feasible = [x for x in xs if done[x] is not None]
    bend = dict(zip(feasible, bends(feasible, [done[x] for x in feasible])))  # type: ignore[misc]
    scale = max((abs(done[x]) for x in feasible), default=0.0)  # type: ignore[arg-type]
    candidates = []
    for a, b in zip(xs, xs[1:]):
        err = max(bend.get(a, 0.0), bend.get(b, 0.0))
        mid = rounded(math.sqrt(a * b))
        if b / a < MIN_RATIO or err <= gap * scale or mid in done or not a < mid < b:
            continue
        candidates.append((-err, -math.log(b / a), a, mid))
    return sorted({c[3] for c in sorted(candidates)[:count]})


def point_key(budget: SweepBudget, value: float) -> str:
    """A point's key and file name: ``flops-1.265e09`` (a plain name)."""
    return f"{budget.value}-{value:.{SIGNIFICANT - 1}e}".replace("+", "")


# ------------------------------------------------------------------------------------------ runs
def record_path(out: Path, payload: Payload) -> Path:
    return inside(out, "points", f"{payload['key']}.json")


def matches(rec: Any, payload: Payload) -> bool:
    """A record of the same point: problem content (the swept value included), solver, gap, time limit."""
    return (isinstance(rec, dict) and rec.get("format") == FORMAT and rec.get("key") == payload["key"]
            and rec.get("problem_hash") == payload["problem_hash"] and rec.get("solver") == payload["solver"]
            and rec.get("gap_tolerance") == payload["gap"] and rec.get("time_limit") == payload["time_limit"])


POINTS = RunKind(name="pareto", execute=execute, record_path=record_path, matches=matches, finished=finished,
                 status=lambda r: r.get("status"), message=lambda r: r.get("message"), failure=failure_record)


def payload(problem: DesignProblem, sweep: Sweep, value: float, warm: Record | None, time_limit: float,
            gap: float) -> Payload:
    """The run of one point; ``warm``: the record whose design starts it."""
    prob = problem.with_budgets(**{sweep.budget.value: value})
    return {"key": point_key(sweep.budget, value), "budget": sweep.budget.value, "value": value,
            "problem": plain_problem(prob), "problem_hash": problem_hash(prob), "solver": CERTIFY,
            "time_limit": float(time_limit), "gap": float(gap),
            "warm_start": warm["architecture"] if warm else None, "warm_from": warm["value"] if warm else None}


def warm_record(records: dict[float, Record], value: float) -> Record | None:
    """The record of the nearest smaller budget that has a design."""
    below = [v for v, r in records.items() if v < value and r.get("architecture")]
    return records[max(below)] if below else None


class LazyClient:
    """A Dask client started on first need (a rerun whose points are all done starts no cluster)."""

    def __init__(self, workers: int | None, scheduler: str | None, client: Any = None):
        self.workers, self.scheduler, self.client = workers, scheduler, client
        self.stack = contextlib.ExitStack()

    def get(self) -> Any:
        if self.client is None:
            from .cluster import cluster_client

            self.client = self.stack.enter_context(cluster_client(self.workers, self.scheduler))
        return self.client

    def run(self, out: Path, payloads: list[Payload], run_args: dict[str, Any]) -> Outcome:
        """Run a round's points (a cluster is started only when one has no reusable record)."""
        todo = [p for p in payloads if not POINTS.reusable(read_json_or_none(record_path(out, p)), p,
                                                            run_args["keep_failed"])]
        return run_planned(POINTS, out, payloads, client=self.get() if todo else None, **run_args)

    def __enter__(self) -> "LazyClient":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.stack.close()


# ----------------------------------------------------------------------------------------- front
@dataclass
class FrontRow:
    """One point of the front: its own answer and the front's (lifted design, least bound above)."""

    value: float
    record: Record
    objective: float | None = None  # the front's: the best design at a budget <= value
    design_from: float | None = None  # the budget whose design that is
    bound: float | None = None  # the front's: the least proven bound at a budget >= value
    prices: list[dict[str, Any]] = field(default_factory=list)

    @property
    def certified(self) -> bool:
        return self.record.get("status") == Status.OPTIMAL.value

    def binds(self) -> list[str]:
        return [b["constraint"] for b in self.record.get("bindings") or [] if b["binds"]]

    def to_dict(self) -> dict[str, Any]:
        r, m = self.record, self.record.get("metrics") or {}
        gap = None if self.objective is None or self.bound is None else \
            max(0.0, self.bound - self.objective) / max(abs(self.objective), 1e-9)
        return {"value": self.value, "status": r.get("status"), "objective": r.get("objective"),
                "bound": r.get("bound"), "gap": r.get("gap"), "front_objective": self.objective,
                "front_design_from": self.design_from, "front_bound": self.bound, "front_gap": gap,
                "binds": self.binds(), "macs": m.get("macs"), "params": m.get("params"), "rho": m.get("rho"),
                "layers": m.get("layers"), "time_s": r.get("time_s"), "warm_from": r.get("warm_from"),
                "architecture": r.get("architecture"), "bindings": r.get("bindings"), "prices": self.prices,
                "message": r.get("message")}


@dataclass
class Front:
    """The rows in budget order and the violations of monotonicity (each a bug)."""

    rows: list[FrontRow]
    violations: list[str]

    @property
    def lifted(self) -> list[float]:
        return [r.value for r in self.rows if r.design_from is not None and r.design_from != r.value]


def assemble(records: dict[float, Record], budget: SweepBudget, tol: float = 1e-7) -> Front:
    """The front of the points' records: lifted designs, least bounds above, violations, swept-budget prices."""
    rows = [FrontRow(v, records[v]) for v in sorted(records)]
    best, best_from = None, None
    for row in rows:
        own = row.record.get("objective") if row.record.get("architecture") else None
        if own is not None and (best is None or own >= best):
            best, best_from = own, row.value
        row.objective, row.design_from = best, best_from
    least = None
    for row in reversed(rows):
        own = row.record.get("bound")
        if own is not None and (least is None or own < least):
            least = own
        row.bound = least
    violations = []
    for row in rows:
        own = row.record.get("bound")
        if row.objective is not None and own is not None and row.objective > own + tol * max(1.0, abs(own)):
            violations.append(f"at {budget.value}={row.value:g} the proven bound {own:,.4f} is below the design "
                              f"of {budget.value}={row.design_from:g} ({row.objective:,.4f}), which meets it")
    points = [certified_point(r.record, {budget.value: r.value}) for r in rows]
    for row in rows:
        if row.record.get("architecture"):
            own = row.record["objective"]
            row.prices = [certified_price(points, Constraint(budget.value), {budget.value: row.value}, f,
                                          own).to_dict() for f in RELAXATIONS]
    return Front(rows, violations)


def record_budgets(rec: Record) -> dict[str, float]:
    """The budgets a point's record was certified at: a grid's ``values``, else its ``budget`` and ``value``."""
    return dict(rec["values"]) if rec.get("values") else {rec["budget"]: rec["value"]}


def certified_point(rec: Record, budgets: dict[str, float] | None = None) -> CertifiedPoint:
    """A point's record as a :class:`CertifiedPoint`: its design's objective and its use of each swept budget
    (from its bindings, in the budget's units: a latency limit less its margin is scaled back to the budget)."""
    at = budgets or record_budgets(rec)
    uses = {}
    for b in rec.get("bindings") or []:
        k = b["constraint"]
        if k in at and b.get("limit"):
            uses[k] = b["used"] if b["limit"] == at[k] else b["used"] * at[k] / b["limit"]
    return CertifiedPoint(at, rec.get("objective") if rec.get("architecture") else None, rec.get("bound"),
                          uses or None)


# --------------------------------------------------------------------------------------- outputs
CSV_COLUMNS = ("value", "status", "objective", "bound", "gap", "front_objective", "front_design_from",
               "front_bound", "front_gap", "binds", "macs", "params", "rho", "layers", "time_s", "warm_from",
               "price_1pct_low", "price_1pct_high", "price_10pct_low", "price_10pct_high", "architecture")


def _csv(front: Front) -> str:
    from ..space.arch import Architecture

    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=CSV_COLUMNS, extrasaction="ignore", lineterminator="\n")
    w.writeheader()
    for row in front.rows:
        d = row.to_dict()
        d["binds"] = "+".join(d["binds"])
        d["architecture"] = Architecture.from_dict(d["architecture"]).describe() if d["architecture"] else ""
        for p in row.prices:
            tag = f"price_{round(100 * p['fraction'])}pct"
            d[f"{tag}_low"], d[f"{tag}_high"] = p["gain_low"], p["gain_high"]
        w.writerow(d)
    return buf.getvalue()


def comparable(problem: DesignProblem, arch: Any) -> bool:
    """Whether ``arch`` has the problem's structure: resolution, block types and strides."""
    specs = problem.specs
    types = [BlockType.CONV if isinstance(sp, ConvSpec) else sp.type for sp in specs]
    return arch.resolution == problem.resolution and len(arch.blocks) == len(specs) and \
        all(b.type == t and b.s == sp.s for b, t, sp in zip(arch.blocks, types, specs))


def _fault_name(message: str) -> str:
    """What a :meth:`DesignProblem.check` message is about: a budget, rho, or the template's ranges."""
    if message.startswith("budget "):
        return message.split(":")[0].removeprefix("budget ")
    return "rho" if message.startswith("effectiveness") else "template ranges"


def released_value(problem: DesignProblem, arch: Any, budget: SweepBudget, metrics: Any) -> float:
    """What ``arch`` uses of ``budget`` as the problem measures it."""
    if budget == SweepBudget.LATENCY:
        from ..latency import load_cached, predict_ms

        return float(predict_ms(load_cached(problem.budgets.latency_model), arch, resolution=problem.resolution))
    return float(getattr(metrics, problem.budget_metric(budget.value)))


def released_points(problem: DesignProblem, *budgets: SweepBudget) -> list[dict[str, Any]]:
    """The released DeepMAD structures of the problem's structure (:func:`comparable`), evaluated by its
    objective, at their value of each swept budget (``values``; ``value``: the first's), with what else of the
    problem they break (``breaks``: budgets, rho, template ranges, the official search having had its own;
    ``faults``: the messages)."""
    from ..space.released import RELEASED

    out = []
    for name, rel in RELEASED.items():
        arch = rel.load()
        if not comparable(problem, arch):
            continue
        broken = problem.check(arch)
        m = evaluate(arch, problem.objective, problem.resolution)
        values = {b.value: released_value(problem, arch, b, m) for b in budgets}
        faults = [b for b in broken if not any(b.startswith(f"budget {k}:") for k in values)]
        out.append({"name": name, "value": values[budgets[0].value], "values": values, "objective": m.objective,
                    "breaks": sorted({_fault_name(b) for b in faults}), "faults": faults})
    return out


def check_released(front: Front, released: list[dict[str, Any]], budget: SweepBudget) -> list[str]:
    """A released structure that meets every other constraint lies at or below the front's bound at its
    budget; one above it contradicts a certificate (a violation)."""
    out = []
    for ref in released:
        above = [r.bound for r in front.rows if r.value >= ref["value"] and r.bound is not None]
        ref["front_bound"] = min(above, default=None)
        if not ref["breaks"] and ref["front_bound"] is not None and \
                ref["objective"] > ref["front_bound"] + 1e-7 * max(1.0, abs(ref["front_bound"])):
            out.append(f"released {ref['name']} ({ref['objective']:,.4f} at {budget.value}={ref['value']:g}) beats "
                       f"the proven bound {ref['front_bound']:,.4f} of a larger budget")
    return out


# ------------------------------------------------------------------------------------------ sweep
@dataclass
class ParetoResult:
    """What :func:`pareto` did: the front, the released structures placed on it, rounds, runs, files."""

    out: Path
    sweep: Sweep
    front: Front
    released: list[dict[str, Any]]
    rounds: int
    reused: int
    solved: int
    failed: int
    wall_s: float
    files: list[str]

    @property
    def uncertified(self) -> list[float]:
        return [r.value for r in self.front.rows if not r.certified and r.record.get("status") != "infeasible"]

    def to_dict(self) -> dict[str, Any]:
        return {"format": FRONT_FORMAT, "sweep": {"budget": self.sweep.budget.value, "lo": self.sweep.lo,
                                                  "hi": self.sweep.hi},
                "points": len(self.front.rows), "rounds": self.rounds, "reused": self.reused, "solved": self.solved,
                "failed": self.failed, "uncertified": self.uncertified, "lifted": self.front.lifted,
                "violations": self.front.violations, "wall_s": round(self.wall_s, 2),
                "released": self.released, "files": self.files,
                "front": [r.to_dict() for r in self.front.rows]}


def _rounds(problem: DesignProblem, sweep: Sweep, out: Path, points: int, initial: int, per_round: int,
            time_limit: float, gap: float, pool: LazyClient, run_args: dict[str, Any]
            ) -> Iterator[tuple[dict[float, Record], int, int]]:
    """Run the rounds; yields (records so far, reused, solved) after each."""
    records: dict[float, Record] = {}
    values = initial_grid(sweep, min(initial, points))
    while values:
        payloads = [payload(problem, sweep, v, warm_record(records, v), time_limit, gap) for v in values]
        outcome = pool.run(out, payloads, run_args)
        for rec in outcome.records:
            records[rec["value"]] = rec
        yield records, outcome.reused, outcome.done
        if len(outcome.records) < len(payloads):
            return  # interrupted
        done = {v: (r.get("objective") if r.get("architecture") else None) for v, r in records.items()}
        values = refine(done, min(per_round, points - len(records)), gap)


def pareto(problem: DesignProblem, sweep: Sweep, out: str | Path, *, points: int = DEFAULT_POINTS,
           initial: int = DEFAULT_INITIAL, per_round: int = DEFAULT_PER_ROUND,
           time_limit: float = DEFAULT_TIME_LIMIT, gap: float = 1e-4, workers: int | None = None,
           scheduler: str | None = None, client: Any = None, progress: bool = True, retries: int = 2,
           keep_failed: bool = False, figure: bool = True, command: str | None = None) -> ParetoResult:
    """The certified front of ``problem`` over ``sweep`` under ``out`` (resuming what is there)."""
    import time

    check_time_limit(time_limit)
    for name, v, least in (("points", points, 2), ("initial", initial, 2), ("per_round", per_round, 1)):
        if not (isinstance(v, int) and v >= least):
            raise DesignError(f"--{name.replace('_', '-')}", f"{v!r} is not an integer >= {least}")
    check_gap(gap)
    out = Path(out)
    t0 = time.perf_counter()
    rounds = reused = solved = 0
    records: dict[float, Record] = {}
    run_args = {"retries": retries, "progress": progress, "keep_failed": keep_failed}
    with LazyClient(workers, scheduler, client) as pool:
        for records, r, s in _rounds(problem, sweep, out, points, initial, per_round, time_limit, gap, pool,
                                     run_args):
            rounds, reused, solved = rounds + 1, reused + r, solved + s
    front = assemble(records, sweep.budget)
    released = released_points(problem, sweep.budget)
    front.violations += check_released(front, released, sweep.budget)
    failed = sum(is_failure(r.record.get("status")) for r in front.rows)
    result = ParetoResult(out, sweep, front, released, rounds, reused, solved, failed, time.perf_counter() - t0, [])
    result.files = [str(f) for f in write_outputs(result, problem, command, figure)]
    return result


def write_outputs(result: ParetoResult, problem: DesignProblem, command: str | None, figure: bool) -> list[Path]:
    """``front.csv``, ``front.json`` and (``figure``) ``front.png``/``front.svg`` under the output folder."""
    out = result.out
    atomic_write_text(out / "front.csv", _csv(result.front))
    data = result.to_dict() | {"problem": plain_problem(problem), "command": command,
                               "measured_as": measured_as(problem, result.sweep.budget.value)}
    data.pop("files")
    atomic_write_json(out / "front.json", data)
    files = [out / "front.csv", out / "front.json"]
    if figure and any(r.record.get("architecture") for r in result.front.rows):
        from .plots import pareto_plot

        files += pareto_plot(result.to_dict()["front"], result.released, result.sweep.budget.value,
                             measured_as(problem, result.sweep.budget.value), problem.name, out / "front")
    return files


def measured_as(problem: DesignProblem, budget: str) -> str:
    """What a swept budget is measured as (the problem's metric, or the predicted latency)."""
    return "predicted latency (ms)" if budget == SweepBudget.LATENCY.value else problem.budget_metric(budget)


__all__ = ["DEFAULT_INITIAL", "DEFAULT_PER_ROUND", "DEFAULT_POINTS", "DEFAULT_TIME_LIMIT", "POINTS", "Front",
           "FrontRow", "LazyClient", "ParetoResult", "Sweep", "SweepBudget", "assemble", "bends", "certified_point",
           "initial_grid", "measured_as", "pareto", "parse_sweep", "point_key", "record_budgets", "refine",
           "released_points", "rounded"]
