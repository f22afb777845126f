"""``deepmad instances``: the files of a tiny suite, read back by another tool (SCIP's own .nl reader, through
pyscipopt) and solved to the optimum the certify route proved; bounds taken from matching zoo records."""
from __future__ import annotations

import json
import runpy
from pathlib import Path

import pytest
import yaml
from spaces import tiny_problem

from deepmad_pyomo.cli.main import main
from deepmad_pyomo.mp.statistics import statistics

pytestmark = pytest.mark.solver
REPO_MODELS = Path(__file__).resolve().parents[2] / "models"


def scip_optimum(nl: Path, presolve: bool = True) -> tuple[str, float, float]:
    """SCIP reads the .nl file itself (its AMPL reader) and solves it: status, primal and dual bound."""
    import pyscipopt

    m = pyscipopt.Model()
    m.hideOutput()
    m.readProblem(str(nl))
    m.setParam("limits/time", 120)
    if not presolve:
        m.setParam("presolving/maxrounds", 0)
    m.optimize()
    return m.getStatus(), m.getObjVal(), m.getDualbound()


@pytest.mark.cluster
def test_instances_of_a_tiny_suite_are_read_and_solved_by_scip(tmp_path: Path, capsys) -> None:
    suite = tmp_path / "tiny"
    suite.mkdir()
    p = tiny_problem("paper", "k1kxk1")
    (suite / "tiny-a.yaml").write_text(yaml.safe_dump({**p.to_dict(), "name": "tiny-a"}))
    out = tmp_path / "lib"
    argv = ["instances", "--suite", str(suite), "--out", str(out), "--workers", "1", "--certify-time-limit", "60",
            "--records", "none", "--no-progress", "--json"]
    assert main(argv) == 0
    summary = json.loads(capsys.readouterr().out)
    assert (summary["instances"], summary["certified_here"], summary["failed"]) == (4, 2, 0)
    index = json.loads((out / "index.json").read_text())
    rows = {r["instance"]: r for r in index["instances"]}
    assert set(rows) == {f"tiny-a.{m}.{f}" for m in ("paper", "tinynas") for f in ("natural", "log")}
    for name, r in rows.items():
        for ext in ("nl", "gms", "py", "row", "col"):
            assert (out / "tiny" / f"{name}.{ext}").stat().st_size > 0
        assert r["variables"] == r["continuous"] + r["binary"] + r["integer"] and r["integer"] > 0
        assert 0 < r["nonlinear_nonzeros"] <= r["nonzeros"] and r["status"] == "optimal" and r["route"] == "certify"
        assert r["best_primal"] <= r["dual_bound"] <= r["best_primal"] * (1 + 1.0001e-4)
        model = runpy.run_path(str(out / "tiny" / f"{name}.py"))["model"]  # the Pyomo script builds it again
        assert statistics(model).to_dict().items() <= r.items()
    # everything stayed under --out, nothing half-written
    assert sorted(p.name for p in tmp_path.iterdir()) == ["lib", "tiny"]
    assert not list(out.rglob(".write-*")) and not list(out.rglob("*.tmp"))
    assert sorted(p.name for p in out.iterdir()) == ["README.md", "bounds", "index.json", "instances.solu", "tiny"]
    solu = (out / "instances.solu").read_text()
    assert "=best=     tiny-a.tinynas.log" in solu and solu.count("=bestdual=") == 4

    # SCIP's .nl reader, an independent parser, gets the certified optimum
    for name in ("tiny-a.paper.natural", "tiny-a.tinynas.natural", "tiny-a.paper.log"):
        status, primal, dual = scip_optimum(out / "tiny" / f"{name}.nl")
        r = rows[name]
        assert status == "optimal"
        assert r["best_primal"] * (1 - 1e-6) <= primal <= r["dual_bound"] * (1 + 1e-6), name
    # SCIP 10.0's presolve cuts the optimum off the log formulation in tinynas mode (it returns a design
    # 0.13% worse as optimal although the certified design is feasible for it); without presolving it agrees
    r = rows["tiny-a.tinynas.log"]
    status, primal, _ = scip_optimum(out / "tiny" / "tiny-a.tinynas.log.nl", presolve=False)
    assert status == "optimal" and r["best_primal"] * (1 - 1e-6) <= primal <= r["dual_bound"] * (1 + 1e-6)

    # rerun: the certify runs are reused, the files are the same
    before = {f: f.read_bytes() for f in out.rglob("*") if f.is_file()}
    assert main(argv) == 0
    assert json.loads(capsys.readouterr().out)["certified_here"] == 2
    assert {f: f.read_bytes() for f in out.rglob("*") if f.is_file()} == before


def test_bounds_come_from_a_matching_zoo_record(tmp_path: Path, capsys) -> None:
    out = tmp_path / "lib"
    assert main(["instances", "--suite", "paper", "--only", "deepmad-r50", "--out", str(out), "--no-certify",
                 "--records", str(REPO_MODELS), "--no-progress", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["from_records"] == 1
    record = json.loads((REPO_MODELS / "paper" / "deepmad-r50.json").read_text())["certificate"]
    rows = {r["instance"]: r for r in json.loads((out / "index.json").read_text())["instances"]}
    for f in ("natural", "log"):
        paper, tinynas = rows[f"deepmad-r50.paper.{f}"], rows[f"deepmad-r50.tinynas.{f}"]
        assert (paper["best_primal"], paper["dual_bound"]) == (record["objective"], record["bound"])
        assert paper["source"].startswith("zoo record paper/deepmad-r50.json")
        assert tinynas["best_primal"] is None and tinynas["dual_bound"] is None  # another problem: no record
    assert not (out / "bounds").exists()
    assert main(["instances", "--suite", "paper", "--out", str(out), "--records", str(tmp_path / "nope")]) == 2


@pytest.mark.parametrize("extra, field", [(["--certify-time-limit", "0"], "--certify-time-limit"),
                                          (["--certify-time-limit", "nan"], "--certify-time-limit"),
                                          (["--gap", "-1"], "--gap"), (["--suite", "nope"], "suite")])
def test_bad_input_is_refused_on_one_line_before_any_work(tmp_path: Path, capsys, extra, field) -> None:
    argv = ["instances", "--suite", "paper", "--out", str(tmp_path / "lib"), *extra]
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert field in err and err.count("\n") == 1
    assert not (tmp_path / "lib").exists()
