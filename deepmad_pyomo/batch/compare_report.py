"""The files of ``deepmad compare`` besides the run records: every run as a flat row with the per-problem best
known bound and objective and each run's gap to them (``results.csv``, ``results.json``), a Markdown summary
per configuration and a table of every run (``results.md``), and the figures (Dolan-More profiles, gaps to
the best bound, time against size).
"""
from __future__ import annotations

import csv
import io
import math
from pathlib import Path
from typing import Any, Sequence

from ..fileio import atomic_write_json, atomic_write_text
from ..solve.results import Status
from .engine import Record, is_failure

TABLES_FORMAT = "deepmad-pyomo/compare-v1"
COLUMNS = ("suite", "problem", "family", "resolution", "flops_budget", "params_budget", "solver", "formulation",
           "config", "status", "objective", "bound", "gap", "best_bound", "gap_to_best_bound", "certified_bound",
           "gap_to_certified", "best_objective",
           "shortfall", "verified", "macs", "params", "time_s", "cpu_s", "peak_private_mb", "peak_rss_mb", "worker_rss_mb",
           "wall_s", "time_limit", "n_vars", "n_int_vars", "n_constraints", "log10_points", "message", "worker",
           "problem_hash")
FIGURES = ("profiles", "gaps", "time_vs_size")


def config_label(solver: str, formulation: str) -> str:
    return f"{solver}/{formulation}"


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
        gc = [r["gap_to_certified"] for r in ok if r.get("gap_to_certified") is not None]
        sf = [r["shortfall"] for r in ok if r.get("shortfall") is not None]
        mem = [r["peak_private_mb"] for r in sel if r.get("peak_private_mb")]
        out.append({"config": c, "runs": len(sel), "verified_designs": sum(bool(r.get("verified")) for r in sel),
                    "optimal": sum(r["status"] == Status.OPTIMAL.value for r in sel), "proved_bound": sum(
                        r.get("bound") is not None for r in sel),
                    "best_known": len(best), "mean_gap_to_best_bound": sum(gb) / len(gb) if gb else None,
                    "mean_gap_to_certified": sum(gc) / len(gc) if gc else None,
                    "mean_shortfall": sum(sf) / len(sf) if sf else None,
                    "time_sgm_s": shifted_geomean([r["time_s"] or 0.0 for r in sel]),
                    "max_peak_private_mb": max(mem) if mem else None,
                    "failed": sum(is_failure(r["status"]) for r in sel)})
    return out


def markdown(rows: Sequence[dict[str, Any]], header: dict[str, Any], tol: float = 0.01, figures: bool = True) -> str:
    """``results.md``: what was compared (``header``: suites, solvers, formulations, time limit, gap), a
    summary per configuration, every run, the figures."""
    n_problems = len({r["problem_id"] for r in rows})
    lines = [f"# Solver comparison: {', '.join(header['suites'])}", "",
             f"{n_problems} problems x {len(header['solvers'])} solvers x {len(header['formulations'])} formulations, "
             f"time limit {header['time_limit']:g} s per run, relative gap {header['gap']:g}. Objective: the entropy objective (paper form) of "
             "the verified architecture (recomputed from the architecture; MACs and params re-counted on the "
             "built torch module). Bound: a proven upper bound, only from solvers that prove one. Gap to "
             "certified: how far a design may be from the optimum, by the bound the certify route proved for "
             "the problem (computed once per problem). 'best known' "
             f": within {100 * tol:g}% of the best objective any configuration found for the problem. Time: wall "
             "seconds (sgm: shifted geometric mean, shift 1 s). Memory: peak private memory of the solver "
             "process (what it allocated itself, sampled every 0.1 s; the CSV also has its peak resident "
             "memory, which includes the pages it shares with the worker).", "",
             "## Per configuration", "",
             "| configuration | runs | verified | optimal | bound proved | best known | mean gap to certified "
             "| mean gap to best bound | mean shortfall | time sgm (s) | max memory (MB) | failed |",
             "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for s in summary_rows(rows, tol):
        lines.append(f"| {s['config']} | {s['runs']} | {s['verified_designs']} | {s['optimal']} | {s['proved_bound']} "
                     f"| {s['best_known']} | {_pct(s['mean_gap_to_certified'])} "
                     f"| {_pct(s['mean_gap_to_best_bound'])} | {_pct(s['mean_shortfall'])} "
                     f"| {_fmt(s['time_sgm_s'])} | {_fmt(s['max_peak_private_mb'], ',.0f')} | {s['failed']} |")
    lines += ["", "## Runs", "",
              "| problem | configuration | status | objective | bound | gap | gap to certified | gap to best bound "
              "| time (s) | memory (MB) | verified |", "|---|---|---|---:|---:|---:|---:|---:|---:|---:|---|"]
    for r in rows:
        ver = {True: "yes", False: "MISMATCH", None: "-"}[r.get("verified")]
        lines.append(f"| {r['problem_id']} | {r['config']} | {r['status']} | {_fmt(r.get('objective'))} "
                     f"| {_fmt(r.get('bound'))} | {_pct(r.get('gap'))} | {_pct(r.get('gap_to_certified'))} "
                     f"| {_pct(r.get('gap_to_best_bound'))} "
                     f"| {_fmt(r.get('time_s'), '.1f')} | {_fmt(r.get('peak_private_mb'), ',.0f')} | {ver} |")
    if figures:
        lines += ["", "## Figures", "", "![Dolan-More performance profiles](profiles.png)", "",
                  "![gap to the best known bound](gaps.png)", "", "![time against problem size](time_vs_size.png)"]
    return "\n".join(lines) + "\n"


def write_tables(out: Path, records: Sequence[Record], header: dict[str, Any], figures: bool = True
                 ) -> list[dict[str, Any]]:
    """``results.csv``, ``results.json`` and ``results.md`` of ``records`` (atomically); returns the rows."""
    rows = table_rows(records)
    rows.sort(key=lambda r: (r["problem_id"], r["config"]))
    atomic_write_text(out / "results.csv", _csv(rows))
    atomic_write_json(out / "results.json", {"format": TABLES_FORMAT, **header, "rows": rows})
    atomic_write_text(out / "results.md", markdown(rows, header, figures=figures))
    return rows


def write_figures(out: Path, rows: Sequence[dict[str, Any]]) -> list[Path]:
    """The figures (:data:`FIGURES`, PNG and SVG) of the rows."""
    from . import plots

    return (plots.performance_profiles(rows, out / "profiles") + plots.gap_plot(rows, out / "gaps")
            + plots.time_vs_size(rows, out / "time_vs_size"))


__all__ = ["COLUMNS", "FIGURES", "config_label", "markdown", "shifted_geomean", "summary_rows", "table_rows",
           "write_figures", "write_tables"]
