"""The benchmark measures (primal integral, shifted geometric mean, times to designs), GAMS trace lines, and
the versions and CPU every results file carries."""
from __future__ import annotations

import csv
import json
import math
from pathlib import Path
from typing import Any

import pytest
from spaces import tiny_problem

from deepmad_pyomo.batch import measures, paver
from deepmad_pyomo.batch.compare_report import COLUMNS, write_tables
from deepmad_pyomo.batch.plots import profile_ratios

# --------------------------------------------------------------------------------------- measures


def test_primal_gap_follows_berthold() -> None:
    assert measures.primal_gap(None, 100.0) == 1.0
    assert measures.primal_gap(-5.0, 100.0) == 1.0  # opposite signs
    assert measures.primal_gap(0.0, 0.0) == 0.0
    assert measures.primal_gap(80.0, 100.0) == pytest.approx(0.2)
    assert measures.primal_gap(100.0, 80.0) == pytest.approx(0.2)  # divided by the larger magnitude


def test_primal_integral_of_a_hand_made_trace() -> None:
    # best 100, T = 10: p = 1 on [0,2), 0.5 on [2,5), 0.2 on [5,8), 0 on [8,10]
    trace = [(5.0, 80.0), (2.0, 50.0), (8.0, 100.0)]  # unsorted on purpose
    assert measures.primal_integral(trace, 100.0, 10.0) == pytest.approx(2 * 1 + 3 * 0.5 + 3 * 0.2 + 2 * 0)
    # a run that stops at 3 s with 90: its gap 0.1 holds until T; a point after T does not count
    assert measures.primal_integral([(3.0, 90.0), (12.0, 100.0)], 100.0, 10.0) == pytest.approx(3 + 7 * 0.1)
    assert measures.primal_integral([], 100.0, 10.0) == pytest.approx(10.0)  # no design: p = 1 throughout
    assert measures.primal_integral([(0.0, 100.0)], 100.0, 10.0) == 0.0


def test_times_to_designs() -> None:
    trace = [(1.0, 50.0), (4.0, 99.995), (6.0, 100.0), (9.0, 100.0)]
    assert measures.time_to_first(trace) == 1.0
    assert measures.time_to_best(trace) == 6.0  # the first time the run's best value arrived
    assert measures.time_to_target(trace, 100.0, 1e-4) == 4.0  # within 1e-4 of 100
    assert measures.time_to_target(trace, 200.0, 1e-4) is None
    assert measures.time_to_first([]) is None and measures.time_to_best([]) is None


def test_shifted_geometric_mean_with_a_10_s_shift() -> None:
    # (0 + 10) (10 + 10) (30 + 10) = 8000, cube root 20, less the shift: 10
    assert measures.shifted_geomean([0.0, 10.0, 30.0]) == pytest.approx(10.0)
    assert measures.shifted_geomean([5.0], shift=1.0) == pytest.approx(5.0)
    assert measures.shifted_geomean([]) is None


# ------------------------------------------------------------------------------------ trace files
def _row(**over) -> dict:
    row = {"suite": "s", "problem": "p1", "mode": "paper", "solver": "certify", "solver_label": "certify",
           "formulation": "natural", "config": "certify/natural", "problem_id": "s/p1", "status": "optimal",
           "objective": 1000.5, "bound": 1000.6, "time_s": 3.25, "time_limit": 30.0, "gap_tolerance": 1e-4,
           "n_vars": 28, "n_int_vars": 27, "n_binary": 11, "n_integer": 16, "n_constraints": 30, "n_nonzeros": 138,
           "n_nonlinear_nonzeros": 85, "n_objective_nonzeros": 28, "n_objective_nonlinear_nonzeros": 28,
           "started_at": 0.0, "nodes": 17, "incumbents": [{"time_s": 1.0, "objective": 900.0, "source": "a"},
                                                          {"time_s": 2.0, "objective": 1000.5, "source": "b"}],
           "environment": {"cpu_model": "Test CPU", "usable_cores": 2, "cpu_cores": 4, "python": "3",
                           "packages": {"pyomo": "6"}},
           "solver_version": "SCIP 10.0"}
    return row | over


def test_trace_line_has_the_21_traceopt_3_columns() -> None:
    assert paver.HEADER.splitlines()[0] == "* Trace Record Definition"
    assert paver.HEADER.splitlines()[1] == "* " + ",".join(paver.COLUMNS) and len(paver.COLUMNS) == 21
    fields = dict(zip(paver.COLUMNS, paver.trace_line(_row()).split(",")))
    assert len(paver.trace_line(_row()).split(",")) == 21
    assert fields["InputFileName"] == "p1.paper.natural" and fields["ModelType"] == "MINLP"
    assert fields["SolverName"] == "certify" and fields["Direction"] == "1"
    assert float(fields["JulianDate"]) == 2440587.5  # the Unix epoch
    assert (fields["NumberOfEquations"], fields["NumberOfVariables"]) == ("31", "29")  # objective row and variable
    assert (fields["NumberOfDiscreteVariables"], fields["NumberOfNonZeros"], fields["NumberOfNonlinearNonZeros"]) \
        == ("27", str(138 + 28 + 1), str(85 + 28))
    assert (fields["ModelStatus"], fields["SolverStatus"]) == ("1", "1")
    assert float(fields["ObjectiveValue"]) == 1000.5 and float(fields["ObjectiveValueEstimate"]) == 1000.6
    assert float(fields["SolverTime"]) == 3.25 and fields["NumberOfNodes"] == "17"
    assert fields["NumberOfIterations"] == "NA" and fields["NLP"] == "NA"


@pytest.mark.parametrize("status, objective, codes", [
    ("feasible", 5.0, ("8", "1")), ("time_limit", 5.0, ("8", "3")), ("time_limit", None, ("14", "3")),
    ("infeasible", None, ("19", "1")), ("error", None, ("13", "10")), ("unavailable", None, ("14", "9")),
    ("failed", None, ("13", "13"))])
def test_trace_status_codes(status: str, objective, codes) -> None:
    fields = dict(zip(paver.COLUMNS, paver.trace_line(_row(status=status, objective=objective, bound=None)).split(",")))
    assert (fields["ModelStatus"], fields["SolverStatus"]) == codes
    assert fields["ObjectiveValueEstimate"] == "NA"
    assert fields["ObjectiveValue"] == ("NA" if objective is None else "5.0")


def read_solve_trace(text: str) -> tuple[dict[str, str], list[dict[str, Any]]]:
    """A solve trace read as GAMS defines the format (and PAVER's reader takes it): the header's ``ID`` and
    ``Instance``, then one record per line by the ``* fields are`` names, ``NA`` for a missing value."""
    lines = text.splitlines()
    assert lines[0].startswith("* solvetrace file ") and lines[1].startswith("* fields are ")
    head = {key: lines[0].split(f"{key} = ", 1)[1].split()[0] for key in ("ID", "Instance")}
    fields = [f.strip() for f in lines[1][len("* fields are "):].split(",")]
    records = []
    for line in lines[2:]:
        values = [v.strip() for v in line.split(",")]
        assert len(values) == len(fields), line
        records.append({f: None if v.upper() == "NA" else v for f, v in zip(fields, values)})
    return head, records


def test_solve_traces_follow_the_gams_format(tmp_path: Path) -> None:
    row = _row(incumbents=[{"time_s": 1.0, "objective": 900.0, "source": "a", "bound": 1200.0},
                           {"time_s": 2.0, "objective": 1000.5, "source": "b"}])
    head, records = read_solve_trace(paver.solve_trace(row))
    assert head == {"ID": "certify", "Instance": "p1.paper.natural"}  # the trace file's SolverName, InputFileName
    assert [int(r["lineNum"]) for r in records] == [1, 2, 3, 4]
    assert [r["seriesID"] for r in records] == ["S", "T", "T", "E"]  # PAVER ignores a trace without S and E
    assert [float(r["seconds"]) for r in records] == [0.0, 1.0, 2.0, 3.25]
    assert [r["bestFound"] and float(r["bestFound"]) for r in records] == [None, 900.0, 1000.5, 1000.5]
    assert [r["bestBound"] and float(r["bestBound"]) for r in records] == [None, 1200.0, None, 1000.6]
    assert records[-1]["node"] == "17" and records[1]["node"] is None
    header = {"suites": ["s"], "solvers": ["certify", "bonmin:B-OA"], "formulations": ["natural"],
              "time_limit": 30.0, "gap": 1e-4}
    failed = _row(solver="bonmin", solver_label="bonmin:B-OA", status="failed", objective=None, bound=None,
                  incumbents=[])
    write_tables(tmp_path, [row, failed], header)
    assert sorted(p.name for p in (tmp_path / paver.SOLVE_TRACES).iterdir()) == ["certify_p1.paper.natural.solvetrace"]
    trc = [dict(zip(paver.COLUMNS, line.split(","))) for line in (tmp_path / "results.trc").read_text().splitlines()[2:]]
    (trc,) = [t for t in trc if t["SolverName"] == "certify"]
    head, _ = read_solve_trace((tmp_path / paver.SOLVE_TRACES / "certify_p1.paper.natural.solvetrace").read_text())
    assert (head["ID"], head["Instance"]) == (trc["SolverName"], trc["InputFileName"])


# -------------------------------------------------------------------------- results carry versions
def test_results_files_carry_measures_versions_and_cpu(tmp_path: Path) -> None:
    records = [_row(), _row(solver="auto", solver_label="auto", status="feasible", bound=None, objective=990.0,
                            incumbents=[{"time_s": 0.5, "objective": 990.0, "source": "x"}], nodes=None)]
    header = {"suites": ["s"], "solvers": ["certify", "auto"], "formulations": ["natural"], "time_limit": 30.0,
              "gap": 1e-4}
    write_tables(tmp_path, records, header)
    data = json.loads((tmp_path / "results.json").read_text())
    env = data["environment"]  # the machine that wrote the tables
    assert env["cpu_model"] and env["usable_cores"] >= 1 and env["python"]
    for pkg in ("deepmad-pyomo", "pyomo", "casadi", "pyscipopt", "torch", "maingopy"):
        assert pkg in env["packages"]
    assert env["packages"]["pyomo"] and env["packages"]["casadi"] and env["packages"]["pyscipopt"]
    assert "certify" in env["solvers"] and "scip" in env["solvers"]
    assert data["worker_environments"] == [records[0]["environment"]]
    rows = {r["solver"]: r for r in data["rows"]}
    best = 1000.5
    assert rows["certify"]["primal_integral"] == pytest.approx(1.0 + 1.0 * (best - 900) / best)
    assert rows["auto"]["primal_integral"] == pytest.approx(0.5 + 29.5 * (best - 990) / best)
    assert rows["certify"]["solved"] is True and rows["auto"]["solved"] is False
    assert rows["certify"]["time_to_best_known"] == 2.0 and rows["auto"]["time_to_best_known"] is None
    assert rows["certify"]["incumbents"][1]["objective"] == best
    table = list(csv.DictReader((tmp_path / "results.csv").open()))
    assert list(table[0]) == list(COLUMNS)
    assert {r["cpu_model"] for r in table} == {"Test CPU"} and {r["solver_version"] for r in table} == {"SCIP 10.0"}
    assert table[0]["incumbents"] in ("1:900;2:1000.5", "0.5:990")
    md = (tmp_path / "results.md").read_text()
    assert "runs on: Test CPU, 2 of 4 cores" in md and "| certify/natural | SCIP 10.0 |" in md
    trc = (tmp_path / "results.trc").read_text().splitlines()
    assert trc[:2] == paver.HEADER.splitlines() and len(trc) == 4


def test_profile_ratios_put_failures_at_infinity() -> None:
    rows = [  # p: a proves optimality in 2 s, b has a best-known design at 1 s; q: only b designs
        {"problem_id": "p", "config": "a", "objective": 100.0, "best_objective": 100.0, "time_s": 2.0,
         "status": "optimal", "time_to_best_known": 2.0, "primal_integral": 2.0, "incumbents": [{}]},
        {"problem_id": "p", "config": "b", "objective": 100.0, "best_objective": 100.0, "time_s": 4.0,
         "status": "feasible", "time_to_best_known": 1.0, "primal_integral": 1.0, "incumbents": [{}]},
        {"problem_id": "q", "config": "a", "objective": None, "best_objective": 50.0, "time_s": 5.0,
         "status": "error", "time_to_best_known": None, "primal_integral": None},
        {"problem_id": "q", "config": "b", "objective": 50.0, "best_objective": 50.0, "time_s": 1.0,
         "status": "feasible", "time_to_best_known": 0.5, "primal_integral": 0.5, "incumbents": [{}]},
    ]
    r = profile_ratios(rows)
    assert r["time_to_best_known"] == {"a": [2.0, math.inf], "b": [1.0, 1.0]}
    assert r["time_to_proof"] == {"a": [1.0, math.inf], "b": [math.inf, math.inf]}
    assert r["primal_integral"] == {"a": [2.0, math.inf], "b": [1.0, 1.0]}


# ------------------------------------------------------------------------------- a real run's trace
@pytest.mark.solver
def test_a_compare_run_records_its_trace_versions_and_environment() -> None:
    from deepmad_pyomo.batch.compare_worker import execute
    from deepmad_pyomo.batch.engine import plain_problem, problem_hash

    problem = tiny_problem("paper", "k1kxk1")
    rec = execute({"key": "t/p/auto/natural", "suite": "t", "problem": plain_problem(problem),
                   "problem_hash": problem_hash(problem), "solver": "auto", "formulation": "natural",
                   "time_limit": 20.0, "gap": 1e-4})
    assert rec["status"] in ("feasible", "optimal") and rec["verified"] is True
    trace = rec["incumbents"]
    assert trace and trace[-1]["objective"] == rec["objective"]
    assert all(a["objective"] < b["objective"] and a["time_s"] <= b["time_s"] for a, b in zip(trace, trace[1:]))
    assert 0 <= trace[0]["time_s"] <= rec["time_s"]
    assert rec["solver_version"] and "SCIP" in rec["solver_version"]
    assert rec["environment"]["cpu_model"] and rec["environment"]["packages"]["pyomo"]
    assert rec["mode"] == "paper" and rec["started_at"] > 1.7e9
    assert rec["n_binary"] + rec["n_integer"] == rec["n_int_vars"] and rec["n_nonlinear_nonzeros"] > 0
