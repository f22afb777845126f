"""GAMS trace files (``traceopt 3``, the format PAVER and the GAMS performance tools read) of compare runs.

One line per run, comma separated, ``NA`` where a value is unknown, after the two header lines
``* Trace Record Definition`` and ``* <the column names>``. What the columns hold here:

- ``InputFileName``: the instance, ``<problem>.<mode>.<formulation>`` (the stems of ``deepmad
  instances``, so a ``.solu`` file of that library matches); ``ModelType`` ``MINLP``; ``SolverName``: the
  route (with its variant); ``NLP``/``MIP`` (the default subsolvers of a GAMS run): ``NA``.
- ``JulianDate``: the run's start as an astronomical Julian date (days since noon UTC, 4713 BC).
- ``Direction`` ``1`` (maximise). Sizes as GAMS counts them, the objective being an equation that defines
  an objective variable: equations and variables are the model's plus one, nonzeros include the objective
  row's (plus its variable), nonlinear nonzeros those of the constraints and the objective.
- ``ModelStatus``/``SolverStatus``: GAMS codes (:data:`STATUS_CODES`); ``ObjectiveValue``: the verified
  design's objective; ``ObjectiveValueEstimate``: the proven bound (``NA`` without one); ``SolverTime``:
  wall seconds; ``NumberOfNodes``: the branch-and-bound nodes of the certify route (its tree) and the scip route.

A *solve trace* (GAMS ``solvetrace``, PAVER reads one file per run beside the trace file) holds a run's
progress: the lines ``* solvetrace file <name>: ID = <SolverName> Instance = <InputFileName>`` and ``* fields
are lineNum, seriesID, node, seconds, bestFound, bestBound``, then one line per record: ``S`` (the start,
nothing found), ``T`` for each improving verified design (its seconds since the run started, its objective
and the proven bound the route reported with it), ``E`` (the end: the run's nodes, time, objective and bound).
"""
from __future__ import annotations

import enum
from typing import Any, Sequence

from ..enums import StrEnum
from ..fileio import safe_name
from ..solve.results import Status
from .engine import BatchStatus, is_failure

COLUMNS = ("InputFileName", "ModelType", "SolverName", "NLP", "MIP", "JulianDate", "Direction", "NumberOfEquations",
           "NumberOfVariables", "NumberOfDiscreteVariables", "NumberOfNonZeros", "NumberOfNonlinearNonZeros",
           "OptionFile", "ModelStatus", "SolverStatus", "ObjectiveValue", "ObjectiveValueEstimate", "SolverTime",
           "NumberOfIterations", "NumberOfDomainViolations", "NumberOfNodes")
HEADER = "* Trace Record Definition\n* " + ",".join(COLUMNS) + "\n"
UNIX_EPOCH_JD = 2440587.5  # the Julian date of 1970-01-01 00:00 UTC


class ModelStatus(enum.IntEnum):
    """GAMS model status codes used here."""

    OPTIMAL = 1
    INTEGER_SOLUTION = 8  # a feasible design, not proven optimal
    ERROR_NO_SOLUTION = 13
    NO_SOLUTION_RETURNED = 14
    INFEASIBLE_NO_SOLUTION = 19


class SolverStatus(enum.IntEnum):
    """GAMS solver status codes used here."""

    NORMAL_COMPLETION = 1
    RESOURCE_INTERRUPT = 3  # the time limit
    SETUP_FAILURE = 9  # the solver is not installed
    SOLVER_FAILURE = 10
    SYSTEM_FAILURE = 13  # the run's task failed


def status_codes(status: str, has_design: bool) -> tuple[ModelStatus, SolverStatus]:
    """The GAMS (model status, solver status) of a run's status."""
    if status == Status.OPTIMAL:
        return ModelStatus.OPTIMAL, SolverStatus.NORMAL_COMPLETION
    if status == Status.FEASIBLE:
        return ModelStatus.INTEGER_SOLUTION, SolverStatus.NORMAL_COMPLETION
    if status == Status.TIME_LIMIT:
        return (ModelStatus.INTEGER_SOLUTION if has_design else ModelStatus.NO_SOLUTION_RETURNED,
                SolverStatus.RESOURCE_INTERRUPT)
    if status == Status.INFEASIBLE:
        return ModelStatus.INFEASIBLE_NO_SOLUTION, SolverStatus.NORMAL_COMPLETION
    if status == BatchStatus.UNAVAILABLE:
        return ModelStatus.NO_SOLUTION_RETURNED, SolverStatus.SETUP_FAILURE
    if status == BatchStatus.FAILED:
        return ModelStatus.ERROR_NO_SOLUTION, SolverStatus.SYSTEM_FAILURE
    return ModelStatus.ERROR_NO_SOLUTION, SolverStatus.SOLVER_FAILURE


STATUS_CODES = {s: status_codes(s, True) for s in [*Status, *BatchStatus]}


def instance_name(problem: str, mode: str, formulation: str) -> str:
    """The instance's name: ``<problem>.<mode>.<formulation>`` (the file stem in ``deepmad instances``)."""
    return f"{problem}.{mode}.{formulation}"


def julian_date(unix_s: float) -> float:
    return unix_s / 86400.0 + UNIX_EPOCH_JD


def _value(v: Any) -> str:
    if v is None:
        return "NA"
    if isinstance(v, float):
        return repr(v)
    return str(v).replace(",", ";")


def _plus(v: Any, k: int) -> Any:
    return None if v is None else v + k


def trace_line(row: dict[str, Any]) -> str:
    """The trace line of one compare row (a record's fields, see the module for the columns)."""
    model, solver = status_codes(row["status"], row.get("objective") is not None)
    discrete = None if row.get("n_binary") is None else row["n_binary"] + row.get("n_integer", 0)
    nz = None if row.get("n_nonzeros") is None else row["n_nonzeros"] + row.get("n_objective_nonzeros", 0) + 1
    nl_nz = None if row.get("n_nonlinear_nonzeros") is None else \
        row["n_nonlinear_nonzeros"] + row.get("n_objective_nonlinear_nonzeros", 0)
    started = row.get("started_at")
    values = [instance_name(row["problem"], row.get("mode") or "NA", row["formulation"]), "MINLP",
              solver_name(row), None, None,
              None if started is None else julian_date(float(started)), 1,
              _plus(row.get("n_constraints"), 1), _plus(row.get("n_vars"), 1), discrete, nz, nl_nz, 0,
              int(model), int(solver), row.get("objective"), row.get("bound"), row.get("time_s"), None, None,
              row.get("nodes")]
    return ",".join(_value(v) for v in values)


def trace_file(rows: Sequence[dict[str, Any]]) -> str:
    """A whole trace file: the header and one line per row."""
    return HEADER + "".join(trace_line(r) + "\n" for r in rows)


# ------------------------------------------------------------------------------------- solve traces
SOLVE_TRACE_FIELDS = ("lineNum", "seriesID", "node", "seconds", "bestFound", "bestBound")
SOLVE_TRACES = "solvetraces"  # the folder of a comparison's solve traces


class Series(StrEnum):
    """A solve trace line's ``seriesID``."""

    START = "S"
    TIME = "T"  # a time-stamped record: here, an improving verified design
    END = "E"


def solver_name(row: dict[str, Any]) -> str:
    return row.get("solver_label") or row["solver"]


def solve_trace_name(row: dict[str, Any]) -> str:
    """The file name of a run's solve trace: ``<SolverName>_<InputFileName>.solvetrace`` (file-name safe)."""
    instance = instance_name(row["problem"], row.get("mode") or "NA", row["formulation"])
    return safe_name(f"{solver_name(row)}_{instance}") + ".solvetrace"


def solve_trace(row: dict[str, Any]) -> str:
    """A run's solve trace (see the module): its start, its incumbent trace, its end."""
    instance = instance_name(row["problem"], row.get("mode") or "NA", row["formulation"])
    records = [(Series.START, 0, 0.0, None, None)]
    records += [(Series.TIME, None, p["time_s"], p["objective"], p.get("bound")) for p in row.get("incumbents") or []]
    records.append((Series.END, row.get("nodes"), row.get("time_s"), row.get("objective"), row.get("bound")))
    head = [f"* solvetrace file {solve_trace_name(row)}: ID = {solver_name(row)} Instance = {instance}",
            "* fields are " + ", ".join(SOLVE_TRACE_FIELDS)]
    body = [", ".join([str(i), series.value, *(_value(v) for v in rest)]) for i, (series, *rest) in
            enumerate(records, start=1)]
    return "\n".join(head + body) + "\n"


def solve_traces(rows: Sequence[dict[str, Any]]) -> dict[str, str]:
    """The solve trace of every run that ran (failed ones have none), by file name."""
    return {solve_trace_name(r): solve_trace(r) for r in rows if not is_failure(r.get("status"))}


__all__ = ["COLUMNS", "HEADER", "SOLVE_TRACES", "SOLVE_TRACE_FIELDS", "STATUS_CODES", "ModelStatus", "Series",
           "SolverStatus", "instance_name", "julian_date", "solve_trace", "solve_trace_name", "solve_traces",
           "status_codes", "trace_file", "trace_line"]
