"""``deepmad compare``: every solver x formulation x problem of one or more suites, on a Dask cluster.

One *run* is one :func:`~deepmad_pyomo.solve.design.design` call; its row holds the objective of the
verified architecture (recomputed by :mod:`metrics`, MACs and params re-counted by
:func:`verify.verify`), the proven bound and gap (when the solver proves one), the status, wall and
CPU time, the peak memory of the solver process, and the problem's size.

Files under ``--out`` (every one written atomically, as soon as each run finishes):

- ``runs/<key>.json``: one record per run: the source of truth; a rerun of the same command skips every
  run whose record is there and final (same problem, solver, formulation, time limit and gap), so an
  interrupted comparison resumes where it stopped;
- ``results.csv``, ``results.json``: all rows of this comparison, with the per-problem best known bound
  and objective and each run's gap to them;
- ``results.md``: a Markdown summary per configuration and a table of every run;
- ``profiles.{png,svg}`` (Dolan-More), ``gaps.{png,svg}``, ``time_vs_size.{png,svg}`` at the end.
"""
from __future__ import annotations

import csv
import hashlib
import io
import json
import math
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Sequence

from ..errors import DesignError
from ..space.problem import DesignProblem
from .cluster import (
    Job,
    PeakMemory,
    allow_children,
    preload,
    read_json,
    run_jobs,
    safe_name,
    worker_info,
)
from .suites import Suite, family, load_suites

FORMAT = "deepmad-pyomo/compare-run-v1"
COLUMNS = ("suite", "problem", "family", "resolution", "flops_budget", "params_budget", "solver", "formulation",
           "config", "status", "objective", "bound", "gap", "best_bound", "gap_to_best_bound", "best_objective",
           "shortfall", "verified", "macs", "params", "time_s", "cpu_s", "peak_private_mb", "peak_rss_mb", "worker_rss_mb",
           "wall_s", "time_limit", "n_vars", "n_int_vars", "n_constraints", "log10_points", "message", "worker",
           "problem_hash")
# Statuses that end a run for good; any other (task failure, solver missing on the worker) is redone.
FINAL = ("optimal", "feasible", "infeasible", "time_limit", "error")
FIGURES = ("profiles", "gaps", "time_vs_size")


def problem_hash(problem: DesignProblem) -> str:
    """A short digest of a problem's content (a changed problem is solved again on resume)."""
    text = json.dumps(problem.to_dict(), sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def plain_problem(problem: DesignProblem) -> dict[str, Any]:
    """``problem.to_dict()`` as JSON data (lists, not tuples): what records store."""
    return json.loads(json.dumps(problem.to_dict()))


def config_label(solver: str, formulation: str) -> str:
    return f"{solver}/{formulation}"


def problem_size(problem: DesignProblem, formulation: str = "natural") -> dict[str, Any]:
    """Size of the problem's Pyomo MINLP: variables, integer variables, constraints and log10 of the
    number of points of its integer box (the product of the integer variables' domain sizes)."""
    import pyomo.environ as pyo

    from ..mp.formulation import FormulationOptions, build_pyomo_model

    m = build_pyomo_model(problem, FormulationOptions(formulation=formulation))
    n_vars = n_int = 0
    log_points = 0.0
    for v in m.component_data_objects(pyo.Var, descend_into=True):
        if v.fixed:
            continue
        n_vars += 1
        if v.is_integer() or v.is_binary():
            n_int += 1
            lb, ub = v.bounds
            if lb is not None and ub is not None and ub >= lb:
                log_points += math.log10(ub - lb + 1)
    n_cons = sum(1 for _ in m.component_data_objects(pyo.Constraint, active=True, descend_into=True))
    return {"n_vars": n_vars, "n_int_vars": n_int, "n_constraints": n_cons, "log10_points": round(log_points, 3)}


def execute(payload: dict[str, Any]) -> dict[str, Any]:
    """One run, on a worker: design, verify, measure. Returns its row (plain data)."""
    from ..solve import registry as solvers
    from ..solve.base import SolveOptions
    from ..solve.design import design

    switched = allow_children()
    preload()
    problem = DesignProblem.from_dict(payload["problem"])
    row: dict[str, Any] = {
        "format": FORMAT, "key": payload["key"], "suite": payload["suite"], "problem": problem.name,
        "family": family(problem), "resolution": problem.resolution, "flops_budget": problem.budgets.flops,
        "params_budget": problem.budgets.params, "solver": payload["solver"], "formulation": payload["formulation"],
        "time_limit": payload["time_limit"], "gap_tolerance": payload["gap"], "problem_hash": payload["problem_hash"],
        "worker": worker_info(), "objective": None, "bound": None, "gap": None, "verified": None,
    }
    if switched:
        row["worker"]["note"] = "daemonic Dask worker switched to non-daemonic to run the solver child"
    try:
        row.update(problem_size(problem, payload["formulation"]))
    except Exception as e:  # noqa: BLE001 - a size is a nicety, never a reason to lose the run
        row["size_error"] = f"{type(e).__name__}: {e}"
    info, variant = solvers.parse(payload["solver"])
    if not info.available():
        row.update(status="unavailable", message=f"{info.name} is not available on this worker: {info.install}",
                   time_s=0.0, cpu_s=0.0)
        return row
    opts = SolveOptions(time_limit=payload["time_limit"], gap=payload["gap"], formulation=payload["formulation"],
                        variant=variant)
    t0 = time.perf_counter()
    with PeakMemory() as mem:
        try:
            res = design(problem, payload["solver"], opts)
        except DesignError as e:
            res = None
            row.update(status="error", message=str(e))
    row.update(peak_rss_mb=round(mem.children_peak_mb, 1), peak_private_mb=round(mem.children_private_mb, 1),
               worker_rss_mb=round(mem.self_rss_mb, 1), wall_s=round(time.perf_counter() - t0, 3))
    if res is None:
        row.update(time_s=round(time.perf_counter() - t0, 3), cpu_s=0.0)
        return row
    row.update(status=res.status.value, objective=res.objective, bound=res.bound, gap=res.gap,
               time_s=round(res.time_s, 3), cpu_s=round(res.cpu_s, 3), message=res.message,
               solver_label=res.solver)
    if res.architecture is not None:
        from ..nn.verify import verify

        arch = res.architecture
        v = verify(arch)
        row.update(verified=v.match, macs=v.macs_counted, params=v.params_counted,
                   macs_analytic=v.macs_analytic, params_analytic=v.params_analytic,
                   architecture=arch.to_dict(), rho=res.metrics.get("rho"), layers=res.metrics.get("layers"))
    return row


def failure_row(payload: dict[str, Any], exc: BaseException) -> dict[str, Any]:
    """The row of a run whose task failed for good (redone on resume)."""
    prob = payload["problem"]
    return {"format": FORMAT, "key": payload["key"], "suite": payload["suite"], "problem": prob["name"],
            "solver": payload["solver"], "formulation": payload["formulation"], "time_limit": payload["time_limit"],
            "gap_tolerance": payload["gap"], "problem_hash": payload["problem_hash"], "status": "failed",
            "message": f"task failed: {type(exc).__name__}: {exc}", "objective": None, "bound": None, "gap": None,
            "verified": None, "time_s": 0.0, "cpu_s": 0.0}


@dataclass
class Plan:
    """What one comparison covers: the payload of every run in a stable order."""

    suites: list[Suite]
    solvers: list[str]
    formulations: list[str]
    time_limit: float
    gap: float
    payloads: list[dict[str, Any]] = field(default_factory=list)


def plan(suites: Sequence[Suite], solver_specs: Sequence[str], formulations: Sequence[str], time_limit: float,
         gap: float = 1e-4, only: str | None = None) -> Plan:
    """Every (problem, solver, formulation) run; ``only``: a shell pattern on problem names."""
    import fnmatch

    from ..mp.formulation import FORMULATIONS
    from ..solve import registry as solvers

    if not solver_specs:
        raise DesignError("solvers", "no solver given", ", ".join(solvers.REGISTRY))
    for s in solver_specs:
        solvers.parse(s)
    for f in formulations:
        if f not in FORMULATIONS:
            raise DesignError("formulations", f"unknown formulation {f!r}", ", ".join(FORMULATIONS))
    if not formulations:
        raise DesignError("formulations", "no formulation given", ", ".join(FORMULATIONS))
    if not time_limit > 0:
        raise DesignError("time_limit", f"must be positive, got {time_limit}")
    p = Plan(list(suites), list(dict.fromkeys(solver_specs)), list(dict.fromkeys(formulations)), time_limit, gap)
    for suite in suites:
        for prob in suite:
            if only and not fnmatch.fnmatch(prob.name, only):
                continue
            h = problem_hash(prob)
            for s in p.solvers:
                for f in p.formulations:
                    p.payloads.append({"key": f"{suite.name}/{prob.name}/{s}/{f}", "suite": suite.name,
                                       "problem": plain_problem(prob), "problem_hash": h, "solver": s, "formulation": f,
                                       "time_limit": float(time_limit), "gap": float(gap)})
    if not p.payloads:
        raise DesignError("problems", f"no problem of the suite matches {only!r}")
    return p


def _reusable(record: Any, payload: dict[str, Any]) -> bool:
    return (isinstance(record, dict) and record.get("format") == FORMAT and record.get("status") in FINAL
            and all(record.get(k) == payload[k] for k in ("key", "problem_hash", "solver", "formulation",
                                                          "time_limit"))
            and record.get("gap_tolerance") == payload["gap"])


def _flat(row: dict[str, Any]) -> dict[str, Any]:
    out = {k: row.get(k) for k in COLUMNS}
    out["config"] = config_label(row["solver"], row["formulation"])
    w = row.get("worker")
    out["worker"] = f"{w.get('host')}:{w.get('pid')}" if isinstance(w, dict) else w
    return out


def table_rows(records: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """Flat rows (:data:`COLUMNS`) with the per-problem best bound/objective and gaps to them."""
    from .plots import gaps

    rows = [_flat(r) | {"problem_id": f"{r['suite']}/{r['problem']}"} for r in records]
    return [{k: r.get(k) for k in COLUMNS} | {"problem_id": r["problem_id"]} for r in gaps(rows)]


def _csv(rows: Sequence[dict[str, Any]]) -> str:
    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=COLUMNS, extrasaction="ignore", lineterminator="\n")
    w.writeheader()
    for r in rows:
        w.writerow({k: ("" if r.get(k) is None else r[k]) for k in COLUMNS})
    return buf.getvalue()


def _fmt(v: Any, spec: str = ",.2f") -> str:
    if v is None or (isinstance(v, float) and not math.isfinite(v)):
        return "-"
    return format(v, spec)


def _pct(v: Any) -> str:
    return "-" if v is None else f"{100 * v:.2f}%"


def shifted_geomean(values: Sequence[float], shift: float = 1.0) -> float | None:
    if not values:
        return None
    return math.exp(sum(math.log(v + shift) for v in values) / len(values)) - shift


def summary_rows(rows: Sequence[dict[str, Any]], tol: float = 0.01) -> list[dict[str, Any]]:
    """Per configuration: runs, verified designs, proven optima, best-known hits, mean gaps, time, memory."""
    out = []
    for c in sorted({r["config"] for r in rows}):
        sel = [r for r in rows if r["config"] == c]
        ok = [r for r in sel if r.get("objective") is not None]
        best = [r for r in ok if r.get("best_objective") is not None
                and r["objective"] >= r["best_objective"] - tol * abs(r["best_objective"])]
        gb = [r["gap_to_best_bound"] for r in ok if r.get("gap_to_best_bound") is not None]
        sf = [r["shortfall"] for r in ok if r.get("shortfall") is not None]
        mem = [r["peak_private_mb"] for r in sel if r.get("peak_private_mb")]
        out.append({"config": c, "runs": len(sel), "verified_designs": sum(bool(r.get("verified")) for r in sel),
                    "optimal": sum(r["status"] == "optimal" for r in sel), "proved_bound": sum(
                        r.get("bound") is not None for r in sel),
                    "best_known": len(best), "mean_gap_to_best_bound": sum(gb) / len(gb) if gb else None,
                    "mean_shortfall": sum(sf) / len(sf) if sf else None,
                    "time_sgm_s": shifted_geomean([r["time_s"] or 0.0 for r in sel]),
                    "max_peak_private_mb": max(mem) if mem else None,
                    "failed": sum(r["status"] in ("failed", "unavailable", "error") for r in sel)})
    return out


def markdown(rows: Sequence[dict[str, Any]], p: Plan, tol: float = 0.01, figures: bool = True) -> str:
    suites = ", ".join(s.name for s in p.suites)
    n_problems = len({r["problem_id"] for r in rows})
    lines = [f"# Solver comparison: {suites}", "",
             f"{n_problems} problems x {len(p.solvers)} solvers x {len(p.formulations)} formulations, time limit "
             f"{p.time_limit:g} s per run, relative gap {p.gap:g}. Objective: the entropy objective (paper form) of "
             "the verified architecture (recomputed from the architecture; MACs and params re-counted on the "
             "built torch module). Bound: a proven upper bound, only from solvers that prove one. 'best known' "
             f": within {100 * tol:g}% of the best objective any configuration found for the problem. Time: wall "
             "seconds (sgm: shifted geometric mean, shift 1 s). Memory: peak private memory of the solver "
             "process (what it allocated itself, sampled every 0.1 s; the CSV also has its resident high-water "
             "mark, which includes the pages it shares with the worker).", "",
             "## Per configuration", "",
             "| configuration | runs | verified | optimal | bound proved | best known | mean gap to best bound "
             "| mean shortfall | time sgm (s) | max memory (MB) | failed |",
             "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for s in summary_rows(rows, tol):
        lines.append(f"| {s['config']} | {s['runs']} | {s['verified_designs']} | {s['optimal']} | {s['proved_bound']} "
                     f"| {s['best_known']} | {_pct(s['mean_gap_to_best_bound'])} | {_pct(s['mean_shortfall'])} "
                     f"| {_fmt(s['time_sgm_s'])} | {_fmt(s['max_peak_private_mb'], ',.0f')} | {s['failed']} |")
    lines += ["", "## Runs", "",
              "| problem | configuration | status | objective | bound | gap | gap to best bound | time (s) "
              "| memory (MB) | verified |", "|---|---|---|---:|---:|---:|---:|---:|---:|---|"]
    for r in rows:
        ver = {True: "yes", False: "MISMATCH", None: "-"}[r.get("verified")]
        lines.append(f"| {r['problem_id']} | {r['config']} | {r['status']} | {_fmt(r.get('objective'))} "
                     f"| {_fmt(r.get('bound'))} | {_pct(r.get('gap'))} | {_pct(r.get('gap_to_best_bound'))} "
                     f"| {_fmt(r.get('time_s'), '.1f')} | {_fmt(r.get('peak_private_mb'), ',.0f')} | {ver} |")
    if figures:
        lines += ["", "## Figures", "", "![Dolan-More performance profiles](profiles.png)", "",
                  "![gap to the best known bound](gaps.png)", "", "![time against problem size](time_vs_size.png)"]
    return "\n".join(lines) + "\n"


@dataclass
class CompareResult:
    out: Path
    runs: int
    reused: int
    done: int
    failed: int
    wall_s: float
    files: list[str]
    rows: list[dict[str, Any]]
    workers: int = 0

    def to_dict(self) -> dict[str, Any]:
        return {"out": str(self.out), "runs": self.runs, "reused": self.reused, "done": self.done,
                "failed": self.failed, "wall_s": round(self.wall_s, 2), "workers": self.workers,
                "files": self.files, "summary": summary_rows(self.rows)}


def write_tables(out: Path, records: Sequence[dict[str, Any]], p: Plan, figures: bool = True) -> list[dict[str, Any]]:
    from ..fileio import atomic_write_json, atomic_write_text

    rows = table_rows(records)
    rows.sort(key=lambda r: (r["problem_id"], r["config"]))
    atomic_write_text(out / "results.csv", _csv(rows))
    atomic_write_json(out / "results.json", {"format": "deepmad-pyomo/compare-v1",
                                             "suites": [s.name for s in p.suites], "solvers": p.solvers,
                                             "formulations": p.formulations, "time_limit": p.time_limit,
                                             "gap": p.gap, "rows": rows})
    atomic_write_text(out / "results.md", markdown(rows, p, figures=figures))
    return rows


def write_figures(out: Path, rows: Sequence[dict[str, Any]]) -> list[Path]:
    from . import plots

    return (plots.performance_profiles(rows, out / "profiles") + plots.gap_plot(rows, out / "gaps")
            + plots.time_vs_size(rows, out / "time_vs_size"))


def compare(suites: str | Sequence[str], solvers: Sequence[str], formulations: Sequence[str] = ("natural",),
            time_limit: float = 60.0, out: str | Path = "compare", *, workers: int | None = None,
            scheduler: str | None = None, gap: float = 1e-4, only: str | None = None, progress: bool = True,
            retries: int = 2, figures: bool = True, client: Any = None) -> CompareResult:
    """Run (or resume) a comparison; write its files under ``out``; return what it did."""
    from ..fileio import atomic_write_json

    p = plan(load_suites(suites), solvers, formulations, time_limit, gap, only)
    out = Path(out)
    runs_dir = out / "runs"
    runs_dir.mkdir(parents=True, exist_ok=True)
    records: dict[str, dict[str, Any]] = {}
    todo: list[Job] = []
    for payload in p.payloads:
        path = runs_dir / f"{safe_name(payload['key'])}.json"
        rec = read_json(path)
        if _reusable(rec, payload):
            records[payload["key"]] = rec
        else:
            todo.append(Job(payload["key"], payload))
    reused = len(records)
    if records:
        write_tables(out, list(records.values()), p, figures)

    def finish(job: Job, row: dict[str, Any]) -> None:
        atomic_write_json(runs_dir / f"{safe_name(job.key)}.json", row)
        records[job.key] = row
        write_tables(out, list(records.values()), p, figures)

    def fail(job: Job, exc: BaseException) -> None:
        finish(job, failure_row(job.payload, exc))

    t0 = time.perf_counter()
    report = run_jobs(execute, todo, finish, fail, workers=workers, scheduler=scheduler, retries=retries,
                      progress=progress, desc="compare", client=client)
    rows = write_tables(out, list(records.values()), p, figures)
    files = [str(out / n) for n in ("results.csv", "results.json", "results.md")]
    if figures:
        files += [str(f) for f in write_figures(out, rows)]
    return CompareResult(out=out, runs=len(p.payloads), reused=reused, done=len(report.finished),
                         failed=sum(r["status"] == "failed" for r in rows), wall_s=time.perf_counter() - t0,
                         files=files, rows=rows, workers=report.workers)


__all__ = ["COLUMNS", "CompareResult", "compare", "execute", "plan", "problem_hash", "problem_size", "table_rows"]
