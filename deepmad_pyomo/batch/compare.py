"""``deepmad compare``: every solver x formulation x problem of one or more suites, on a Dask cluster.

One *run* is one :func:`~deepmad_pyomo.solve.design.design` call on a worker (:mod:`.compare_worker`);
the batch is planned, resumed and written by :mod:`.engine`.

Files under ``--out`` (every one written atomically, as soon as each run finishes):

- ``runs/<key>.json``: one record per run: the source of truth; a rerun of the same command skips every
  run whose record is there with a result (same problem, solver, formulation, time limit and gap), so an
  interrupted comparison resumes where it stopped. A run that failed (status failed, error or
  unavailable: :func:`.engine.is_failure`) is run again, its new record saying why it failed before
  (``previous_failure``), unless ``keep_failed``;
- ``results.csv``, ``results.json``: all rows of this comparison, with the per-problem best known bound
  and objective, each run's gap to them, its incumbent trace and measures (:mod:`.measures`: solved,
  primal integral, times to the first and to a best-known design), the solver's version and the worker's
  CPU; the JSON also holds the environments (CPU, cores, package and solver versions);
- ``results.md``: a Markdown summary per configuration (shifted geometric means, shift 10 s), a table of
  every run and the environment;
- ``results.trc``: every run as a line of a GAMS trace file; ``solvetraces/``: each run's GAMS solve trace
  (its incumbent trace with the bounds proven then; :mod:`.paver`);
- ``profiles.{png,svg}`` (Dolan-More), ``gaps.{png,svg}``, ``time_vs_size.{png,svg}`` (when the problems'
  sizes differ) at the end (:mod:`.compare_report`).
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Sequence

from ..errors import DesignError
from ..fileio import safe_name
from ..solve.registry import CERTIFY
from ..solve.results import Status
from .compare_report import (
    COLUMNS,
    summary_rows,
    table_rows,
    write_figures,
    write_tables,
)
from .compare_worker import FORMAT, execute, failure_row, problem_size
from .engine import (
    Payload,
    RunKind,
    check_time_limit,
    is_failure,
    plain_problem,
    problem_hash,
    run_planned,
    selected,
)
from .paths import inside
from .suites import Suite, load_suites

# Statuses that end a run: a solver's answer. The others (failed, error, unavailable) are run again.
FINAL = frozenset(s.value for s in Status if not is_failure(s.value))
TABLES = ("results.csv", "results.json", "results.md", "results.trc")


@dataclass
class Plan:
    """What one comparison covers: the payload of every run in a stable order."""

    suites: list[Suite]
    solvers: list[str]
    formulations: list[str]
    time_limit: float
    gap: float
    payloads: list[Payload] = field(default_factory=list)

    def header(self) -> dict[str, Any]:
        """What ``results.json`` and ``results.md`` say was compared."""
        return {"suites": [s.name for s in self.suites], "solvers": self.solvers,
                "formulations": self.formulations, "time_limit": self.time_limit, "gap": self.gap}


def _check_configurations(solver_specs: Sequence[str], formulations: Sequence[str]) -> None:
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


def plan(suites: Sequence[Suite], solver_specs: Sequence[str], formulations: Sequence[str], time_limit: float,
         gap: float = 1e-4, only: str | None = None, certified: bool = True) -> Plan:
    """Every (problem, solver, formulation) run; ``only``: a shell pattern on problem names. ``certified``:
    the ``certify`` route runs too (when not asked for), so every route is judged against a proof."""
    _check_configurations(solver_specs, formulations)
    check_time_limit(time_limit)
    reference = certified and CERTIFY not in [s.partition(":")[0] for s in solver_specs]
    p = Plan(list(suites), list(dict.fromkeys(solver_specs)), list(dict.fromkeys(formulations)), time_limit, gap)
    configurations = [(s, f) for s in p.solvers for f in p.formulations]
    if reference:  # once per problem
        configurations.append((CERTIFY, "natural"))
        p.solvers.append(CERTIFY)
    for suite, prob in selected(suites, only):
        h = problem_hash(prob)
        for s, f in configurations:
            p.payloads.append({"key": f"{suite.name}/{prob.name}/{s}/{f}", "suite": suite.name,
                               "problem": plain_problem(prob), "problem_hash": h, "solver": s, "formulation": f,
                               "time_limit": float(time_limit), "gap": float(gap)})
    return p


def record_path(out: Path, payload: Payload) -> Path:
    return inside(out, "runs", f"{safe_name(payload['key'])}.json")


def matches(record: Any, payload: Payload) -> bool:
    """A record of the same run: same key, problem content, solver, formulation, time limit and gap."""
    return (isinstance(record, dict) and record.get("format") == FORMAT
            and all(record.get(k) == payload[k] for k in ("key", "problem_hash", "solver", "formulation",
                                                          "time_limit"))
            and record.get("gap_tolerance") == payload["gap"])


RUNS = RunKind(name="compare", execute=execute, record_path=record_path, matches=matches,
               finished=lambda r: r.get("status") in FINAL, status=lambda r: r.get("status"),
               message=lambda r: r.get("message"), failure=failure_row)


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


def compare(suites: str | Sequence[str], solvers: Sequence[str], formulations: Sequence[str] = ("natural",),
            time_limit: float = 60.0, out: str | Path = "compare", *, workers: int | None = None,
            scheduler: str | None = None, gap: float = 1e-4, only: str | None = None, progress: bool = True,
            retries: int = 2, figures: bool = True, client: Any = None, keep_failed: bool = False,
            certified: bool = True) -> CompareResult:
    """Run (or resume) a comparison; write its files under ``out``; return what it did. ``keep_failed``:
    keep the records of failed runs instead of running them again; ``certified``: add the ``certify``
    route (each problem's certified bound, which every route's gap is measured against)."""
    p = plan(load_suites(suites), solvers, formulations, time_limit, gap, only, certified)
    out = Path(out)
    (out / "runs").mkdir(parents=True, exist_ok=True)
    header = p.header()
    t0 = time.perf_counter()
    outcome = run_planned(RUNS, out, p.payloads, workers=workers, scheduler=scheduler, retries=retries,
                          progress=progress, client=client, keep_failed=keep_failed,
                          on_change=lambda records: write_tables(out, records, header, figures))
    rows = write_tables(out, outcome.records, header, figures)
    files = [str(out / n) for n in TABLES]
    if figures:
        files += [str(f) for f in write_figures(out, rows)]
    return CompareResult(out=out, runs=len(p.payloads), reused=outcome.reused, done=outcome.done,
                         failed=outcome.failed,
                         wall_s=time.perf_counter() - t0, files=files, rows=rows, workers=outcome.workers)


__all__ = ["COLUMNS", "FORMAT", "RUNS", "CompareResult", "Plan", "compare", "execute", "plan", "problem_hash",
           "problem_size", "table_rows"]
