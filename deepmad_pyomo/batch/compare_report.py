"""The files of ``deepmad compare`` besides the run records: every run as a flat row with the per-problem best
known bound and objective, each run's gap to them and its measures (:mod:`.measures`: primal integral, time
to the first and best designs), ``results.csv`` and ``results.json`` (with the environment: CPU, cores,
package and solver versions); a Markdown summary per configuration and a table of every run
(``results.md``); a GAMS trace file (``results.trc``) and a solve trace per run (``solvetraces/``, :mod:`.paver`);
and the figures (Dolan-More profiles, gaps, time against size).
"""
from __future__ import annotations

import csv
import io
import math
from pathlib import Path
from typing import Any, Sequence

from ..fileio import atomic_write_json, atomic_write_text
from ..solve.results import Status
from . import measures
from .engine import Record, is_failure
from .environment import describe, distinct, environment
from .paver import SOLVE_TRACES, solve_traces, trace_file

TABLES_FORMAT = "deepmad-pyomo/compare-v1"
COLUMNS = ("suite", "problem", "family", "resolution", "flops_budget", "params_budget", "solver", "formulation",
           "config", "status", "objective", "bound", "gap", "best_bound", "gap_to_best_bound", "certified_bound",
           "gap_to_certified", "best_objective",
           "shortfall", "verified", "macs", "params", "time_s", "cpu_s", "peak_private_mb", "peak_rss_mb", "worker_rss_mb",
           "wall_s", "time_limit", "n_vars", "n_int_vars", "n_constraints", "log10_points", "message", "worker",
           "problem_hash", "mode", "solved", "primal_integral", "time_to_first", "time_to_best", "time_to_best_known",
           "incumbents", "nodes", "n_binary", "n_integer", "n_continuous", "n_nonzeros", "n_nonlinear_nonzeros",
           "solver_version", "cpu_model", "usable_cores")
FIGURES = ("profiles", "gaps", "time_vs_size")
TRACE = "results.trc"


def config_label(solver: str, formulation: str) -> str:
    return f"{solver}/{formulation}"


# What results.json rows hold besides COLUMNS (the trace file and the measures read them).
EXTRA = ("problem_id", "gap_tolerance", "solver_label", "n_objective_nonzeros", "n_objective_nonlinear_nonzeros",
         "started_at")


def _flat(row: dict[str, Any]) -> dict[str, Any]:
    out = {k: row.get(k) for k in (*COLUMNS, *EXTRA)}
    out["config"] = config_label(row["solver"], row["formulation"])
    out["problem_id"] = f"{row['suite']}/{row['problem']}"
    w = row.get("worker")
    out["worker"] = f"{w.get('host')}:{w.get('pid')}" if isinstance(w, dict) else w
    env = row.get("environment") or {}
    out["cpu_model"], out["usable_cores"] = env.get("cpu_model"), env.get("usable_cores")
    return out


def trace_of(row: dict[str, Any]) -> list[tuple[float, float]]:
    """A row's incumbent trace as (seconds, objective) pairs."""
    return [(p["time_s"], p["objective"]) for p in row.get("incumbents") or []]


def _measured(row: dict[str, Any]) -> dict[str, Any]:
    """The row with its measures (:mod:`.measures`) against the problem's best known objective: solved
    (proven within its gap tolerance), primal integral over the time limit, times to the first, the
    run's best and a best-known design (within the gap tolerance). A failed run has no primal integral."""
    trace, best, tol = trace_of(row), row.get("best_objective"), row.get("gap_tolerance") or 1e-4
    out = {**row, "solved": row.get("status") == Status.OPTIMAL.value,
           "time_to_first": measures.time_to_first(trace), "time_to_best": measures.time_to_best(trace)}
    out["primal_integral"] = None if best is None or is_failure(row.get("status")) else \
        measures.primal_integral(trace, best, float(row["time_limit"]))
    out["time_to_best_known"] = None if best is None else measures.time_to_target(trace, best, tol)
    return out


def table_rows(records: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """Flat rows (:data:`COLUMNS` and :data:`EXTRA`) with the per-problem best bound/objective, gaps to
    them and the measures; ``incumbents`` stays the list of trace points (the CSV writes it compactly)."""
    from .plots import gaps

    return [{k: m.get(k) for k in (*COLUMNS, *EXTRA)} for m in map(_measured, gaps([_flat(r) for r in records]))]


def _compact_trace(points: Any) -> str:
    """``t:objective;...`` of a trace (the CSV's form of ``incumbents``)."""
    return ";".join(f"{p['time_s']:g}:{p['objective']:.10g}" for p in points or [])


def _csv(rows: Sequence[dict[str, Any]]) -> str:
    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=COLUMNS, extrasaction="ignore", lineterminator="\n")
    w.writeheader()
    for r in rows:
        flat = {**r, "incumbents": _compact_trace(r.get("incumbents"))}
        w.writerow({k: ("" if flat.get(k) is None else flat[k]) for k in COLUMNS})
    return buf.getvalue()


def _fmt(v: Any, spec: str = ",.2f") -> str:
    if v is None or (isinstance(v, float) and not math.isfinite(v)):
        return "-"
    return format(v, spec)


def _pct(v: Any) -> str:
    return "-" if v is None else f"{100 * v:.2f}%"


def _mean(values: Sequence[float]) -> float | None:
    return sum(values) / len(values) if values else None


def summary_rows(rows: Sequence[dict[str, Any]], tol: float = 0.01) -> list[dict[str, Any]]:
    """Per configuration: runs, verified designs, proven optima (``solved``: proven within the gap
    tolerance), best-known hits, mean gaps, the shifted geometric means (shift 10 s) of the wall time and of
    the times to the first and to a best-known design (a run without one counts its time limit), the mean
    primal integral, and memory."""
    out = []
    for c in sorted({r["config"] for r in rows}):
        sel = [r for r in rows if r["config"] == c]
        ok = [r for r in sel if r.get("objective") is not None]
        best = [r for r in ok if r.get("best_objective") is not None
                and r["objective"] >= r["best_objective"] - tol * abs(r["best_objective"])]
        gb = [r["gap_to_best_bound"] for r in ok if r.get("gap_to_best_bound") is not None]
        gc = [r["gap_to_certified"] for r in ok if r.get("gap_to_certified") is not None]
        sf = [r["shortfall"] for r in ok if r.get("shortfall") is not None]
        pi = [r["primal_integral"] for r in sel if r.get("primal_integral") is not None]
        mem = [r["peak_private_mb"] for r in sel if r.get("peak_private_mb")]

        def capped(key: str) -> list[float]:  # a run without the event counts its time limit
            return [r[key] if r.get(key) is not None else r.get("time_limit") or r.get("time_s") or 0.0
                    for r in sel]

        out.append({"config": c, "runs": len(sel), "verified_designs": sum(bool(r.get("verified")) for r in sel),
                    "optimal": sum(r["status"] == Status.OPTIMAL.value for r in sel),
                    "solved": sum(bool(r.get("solved")) for r in sel),
                    "proved_bound": sum(r.get("bound") is not None for r in sel),
                    "best_known": len(best), "mean_gap_to_best_bound": _mean(gb),
                    "mean_gap_to_certified": _mean(gc), "mean_shortfall": _mean(sf),
                    "time_sgm_s": measures.shifted_geomean([r["time_s"] or 0.0 for r in sel]),
                    "time_to_first_sgm_s": measures.shifted_geomean(capped("time_to_first")),
                    "time_to_best_known_sgm_s": measures.shifted_geomean(capped("time_to_best_known")),
                    "mean_primal_integral": _mean(pi),
                    "max_peak_private_mb": max(mem) if mem else None,
                    "failed": sum(is_failure(r["status"]) for r in sel)})
    return out


def _environment_lines(header: dict[str, Any], rows: Sequence[dict[str, Any]]) -> list[str]:
    """Where the runs ran (each distinct worker environment) and the solver versions per configuration."""
    lines = ["## Environment", ""]
    for env in header.get("worker_environments") or [header.get("environment") or {}]:
        lines.append(f"- runs on: {describe(env)}")
    versions = sorted({(r["config"], r.get("solver_version") or "-") for r in rows})
    lines += ["", "| configuration | solver version |", "|---|---|"]
    lines += [f"| {c} | {v} |" for c, v in versions]
    return lines + [""]


def markdown(rows: Sequence[dict[str, Any]], header: dict[str, Any], tol: float = 0.01, figures: bool = True) -> str:
    """``results.md``: what was compared (``header``: suites, solvers, formulations, time limit, gap), a
    summary per configuration, every run, the environment, the figures."""
    from .plots import sizes_vary

    n_problems = len({r["problem_id"] for r in rows})
    lines = [f"# Solver comparison: {', '.join(header['suites'])}", "",
             f"{n_problems} problems x {len(header['solvers'])} solvers x {len(header['formulations'])} formulations, "
             f"time limit {header['time_limit']:g} s per run, relative gap {header['gap']:g}. Objective: the entropy objective (paper form) of "
             "the verified architecture (recomputed from the architecture; MACs and params re-counted on the "
             "built torch module). Bound: a proven upper bound, only from solvers that prove one. Gap to "
             "certified: how far a design may be from the optimum, by the bound the certify route proved for "
             "the problem (computed once per problem). Solved: proven optimal within the gap. 'best known' "
             f": within {100 * tol:g}% of the best objective any configuration found for the problem. Time: wall "
             f"seconds (sgm: shifted geometric mean, shift {measures.SGM_SHIFT_S:g} s; first / best known: when "
             "the first design and a design within the gap of the best known objective arrived, the time limit "
             "for a run without one). Primal integral (Berthold 2013): the integral over the time limit of the "
             "primal gap min(1, |best - incumbent| / max(|best|, |incumbent|)), 1 before the first design, in "
             "seconds. Memory: peak private memory of the solver "
             "process (what it allocated itself, sampled every 0.1 s; the CSV also has its peak resident "
             "memory, which includes the pages it shares with the worker). `results.trc`: the runs as a GAMS "
             "trace file (PAVER).", "",
             "## Per configuration", "",
             "| configuration | runs | verified | solved | bound proved | best known | mean gap to certified "
             "| mean gap to best bound | mean shortfall | time sgm (s) | first sgm (s) | best known sgm (s) "
             "| mean primal integral (s) | max memory (MB) | failed |",
             "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for s in summary_rows(rows, tol):
        lines.append(f"| {s['config']} | {s['runs']} | {s['verified_designs']} | {s['solved']} | {s['proved_bound']} "
                     f"| {s['best_known']} | {_pct(s['mean_gap_to_certified'])} "
                     f"| {_pct(s['mean_gap_to_best_bound'])} | {_pct(s['mean_shortfall'])} "
                     f"| {_fmt(s['time_sgm_s'])} | {_fmt(s['time_to_first_sgm_s'])} "
                     f"| {_fmt(s['time_to_best_known_sgm_s'])} | {_fmt(s['mean_primal_integral'])} "
                     f"| {_fmt(s['max_peak_private_mb'], ',.0f')} | {s['failed']} |")
    lines += ["", "## Runs", "",
              "| problem | configuration | status | objective | bound | gap | gap to certified | gap to best bound "
              "| time (s) | first (s) | primal integral (s) | memory (MB) | verified |",
              "|---|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|"]
    for r in rows:
        ver = {True: "yes", False: "MISMATCH", None: "-"}[r.get("verified")]
        lines.append(f"| {r['problem_id']} | {r['config']} | {r['status']} | {_fmt(r.get('objective'))} "
                     f"| {_fmt(r.get('bound'))} | {_pct(r.get('gap'))} | {_pct(r.get('gap_to_certified'))} "
                     f"| {_pct(r.get('gap_to_best_bound'))} "
                     f"| {_fmt(r.get('time_s'), '.1f')} | {_fmt(r.get('time_to_first'), '.1f')} "
                     f"| {_fmt(r.get('primal_integral'), '.2f')} | {_fmt(r.get('peak_private_mb'), ',.0f')} | {ver} |")
    lines += [""] + _environment_lines(header, rows)
    if figures:
        lines += ["## Figures", "", "![Dolan-More performance profiles](profiles.png)", "",
                  "![gaps per problem](gaps.png)"]
        if sizes_vary(rows):
            lines += ["", "![time against problem size](time_vs_size.png)"]
    return "\n".join(lines) + "\n"


def write_tables(out: Path, records: Sequence[Record], header: dict[str, Any], figures: bool = True
                 ) -> list[dict[str, Any]]:
    """``results.csv``, ``results.json``, ``results.md``, ``results.trc`` and a solve trace per run
    (``solvetraces/``, :mod:`.paver`) of ``records`` (atomically); returns the rows. The JSON and Markdown say where the runs ran (the workers' environments) and where
    the tables were written (this machine's)."""
    rows = table_rows(records)
    rows.sort(key=lambda r: (r["problem_id"], r["config"]))
    header = {**header, "environment": environment(),
              "worker_environments": distinct([r.get("environment") for r in records])}
    atomic_write_text(out / "results.csv", _csv(rows))
    atomic_write_json(out / "results.json", {"format": TABLES_FORMAT, **header, "rows": rows})
    atomic_write_text(out / "results.md", markdown(rows, header, figures=figures))
    atomic_write_text(out / TRACE, trace_file(rows))
    for name, text in solve_traces(rows).items():
        atomic_write_text(out / SOLVE_TRACES / name, text)
    return rows


def write_figures(out: Path, rows: Sequence[dict[str, Any]]) -> list[Path]:
    """The figures (:data:`FIGURES`, PNG and SVG) of the rows (no ``time_vs_size`` when every problem has
    the same size)."""
    from . import plots

    return (plots.performance_profiles(rows, out / "profiles") + plots.gap_plot(rows, out / "gaps")
            + plots.time_vs_size(rows, out / "time_vs_size"))


__all__ = ["COLUMNS", "EXTRA", "FIGURES", "TRACE", "config_label", "markdown", "summary_rows", "table_rows",
           "trace_of", "write_figures", "write_tables"]
