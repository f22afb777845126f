"""``deepmad pareto``: a small certified front on a real Dask cluster, checked against independent certify runs
at the same budgets and checked monotone; resuming skips finished points; bad ``--sweep`` is one line."""
from __future__ import annotations

import csv
import json
import math
from pathlib import Path

import pytest
import yaml

pytest.importorskip("distributed")

from spaces import tiny_problem

from deepmad_pyomo.batch import pareto as pt
from deepmad_pyomo.batch.cluster import cluster_client
from deepmad_pyomo.batch.grid import load_certified
from deepmad_pyomo.cli.main import main
from deepmad_pyomo.errors import DesignError
from deepmad_pyomo.solve.design import design
from deepmad_pyomo.solve.options import SolveOptions
from deepmad_pyomo.solve.prices import Constraint
from deepmad_pyomo.solve.registry import REGISTRY

GAP = 1e-4
SWEEP = pt.Sweep(pt.SweepBudget.FLOPS, 3e6, 12e6)
needs_certify = pytest.mark.skipif(not REGISTRY["certify"].available(), reason="casadi and pyscipopt are needed")


# ------------------------------------------------------------------------------------ no solver
@pytest.mark.parametrize("text, says", [
    ("flops", "is not BUDGET=LO:HI"), ("flops=1e9", "is not BUDGET=LO:HI"), ("watts=1:2", "unknown budget"),
    ("flops=a:2e9", "are not two numbers"), ("flops=8e9:0.5e9", "is not 0 < LO < HI"),
    ("flops=0:1e9", "is not 0 < LO < HI"), ("flops=1e9:inf", "is not 0 < LO < HI"),
    ("flops=1e9:1e20", "exceeds the largest flops budget"), ("latency=1:5", "needs the problem's budgets.latency_model"),
])
def test_bad_sweep_is_one_line_before_any_work(text: str, says: str, tmp_path: Path, capsys) -> None:
    with pytest.raises(DesignError, match=says):
        pt.parse_sweep(text, tiny_problem(mode="paper"))
    out = tmp_path / "front"
    assert main(["pareto", "--preset", "deepmad-r50", "--sweep", text, "--out", str(out)]) == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and err.startswith("deepmad: error: --sweep") and says in err
    assert not out.exists()


def test_sweep_aliases_and_grid() -> None:
    assert pt.parse_sweep("macs=0.5e9:8e9") == pt.Sweep(pt.SweepBudget.FLOPS, 0.5e9, 8e9)
    assert pt.parse_sweep(" params = 1e6 : 2e7 ").budget == pt.SweepBudget.PARAMS
    grid = pt.initial_grid(pt.Sweep(pt.SweepBudget.FLOPS, 0.5e9, 8e9), 5)
    assert grid == [0.5e9, 1e9, 2e9, 4e9, 8e9]
    assert pt.point_key(pt.SweepBudget.FLOPS, 1.265e9) == "flops-1.265e09"


def test_refine_splits_where_the_front_bends() -> None:
    # linear in log budget except a kink at 4: the two intervals next to it are split first, at their middles
    done = {1.0: 0.0, 2.0: 1.0, 4.0: 2.0, 8.0: 2.2, 16.0: 2.4}
    assert pt.refine(done, 2, gap=1e-4) == [pt.rounded(math.sqrt(8)), pt.rounded(math.sqrt(32))]
    # a straight front (in log budget) is not split; nor are intervals next to an infeasible point
    assert pt.refine({1.0: 0.0, 2.0: 1.0, 4.0: 2.0, 8.0: 3.0}, 4, gap=1e-4) == []
    assert pt.refine({1.0: None, 2.0: 1.0, 4.0: 2.0}, 4, gap=1e-4) == []


def test_assemble_lifts_and_flags_violations() -> None:
    def rec(v: float, obj: float, bound: float) -> dict:
        return {"value": v, "objective": obj, "bound": bound, "architecture": {"blocks": []}, "status": "optimal"}

    front = pt.assemble({1.0: rec(1.0, 10.0, 10.001), 2.0: rec(2.0, 9.9995, 10.5), 3.0: rec(3.0, 11.0, 11.0)},
                        pt.SweepBudget.FLOPS)
    assert not front.violations and front.lifted == [2.0]  # within the gap: the front takes the better design
    assert [r.objective for r in front.rows] == [10.0, 10.0, 11.0]
    assert [r.bound for r in front.rows] == [10.001, 10.5, 11.0]
    bug = pt.assemble({1.0: rec(1.0, 10.0, 10.0), 2.0: rec(2.0, 9.0, 9.5)}, pt.SweepBudget.FLOPS)
    assert len(bug.violations) == 1 and "flops=2" in bug.violations[0]


# --------------------------------------------------------------------------------- on a cluster
@pytest.fixture(scope="module")
def client():
    with cluster_client(workers=2) as c:
        yield c


@needs_certify
def test_small_front_matches_independent_certify_runs_and_resumes(client, tmp_path: Path) -> None:
    problem = tiny_problem(mode="paper")
    out = tmp_path / "front"
    kw = dict(points=5, initial=3, per_round=2, time_limit=60, gap=GAP, client=client, progress=False)
    res = pt.pareto(problem, SWEEP, out, **kw)
    rows = res.front.rows
    assert len(rows) == 5 and res.rounds == 2 and res.solved == 5 and not res.failed
    assert not res.front.violations and not res.uncertified
    values = [r.value for r in rows]
    assert values[0] == SWEEP.lo and values[-1] == SWEEP.hi and values == sorted(values)
    objs = [r.objective for r in rows]
    assert all(a <= b for a, b in zip(objs, objs[1:]))  # monotone
    assert any(r.record["warm_from"] is not None for r in rows)  # the second round starts from the first
    for row in rows:  # the same optimum as certify run alone at that budget, each within the other's bound
        alone = design(problem.with_budgets(flops=row.value), "certify", SolveOptions(time_limit=60, gap=GAP))
        mine = row.record
        assert mine["status"] == alone.status.value == "optimal"
        assert mine["objective"] <= alone.bound * (1 + 1e-9) and alone.objective <= mine["bound"] * (1 + 1e-9)
        assert abs(mine["objective"] - alone.objective) <= 2 * GAP * abs(alone.objective)
        assert row.record["metrics"]["macs"] <= row.value
    table = list(csv.DictReader((out / "front.csv").open()))
    assert [float(r["value"]) for r in table] == values and all(r["architecture"] for r in table)
    data = json.loads((out / "front.json").read_text())
    assert len(data["front"]) == 5 and all(p["architecture"]["blocks"] for p in data["front"])
    assert all(len(p["prices"]) == 2 for p in data["front"])
    _, certified = load_certified(out)  # what deepmad design --prices --front reads
    assert certified.budgets == (Constraint.FLOPS,) and [p.budgets["flops"] for p in certified.points] == values
    for fmt in ("png", "svg"):
        assert (out / f"front.{fmt}").stat().st_size > 1000

    # interrupted: one point lost mid-write (truncated), the rest finished; the rerun redoes only it
    lost = out / "points" / f"{pt.point_key(SWEEP.budget, values[2])}.json"
    lost.write_text(lost.read_text()[:50])
    again = pt.pareto(problem, SWEEP, out, **kw)
    assert (again.reused, again.solved) == (4, 1)
    assert [r.value for r in again.front.rows] == values
    assert [r.objective for r in again.front.rows] == pytest.approx(objs, rel=2 * GAP)
    # nothing left to do: no cluster is even started
    third = pt.pareto(problem, SWEEP, out, **(kw | {"client": None, "workers": 1}))
    assert (third.reused, third.solved) == (5, 0)


@needs_certify
def test_cli_pareto_on_a_spec(client, tmp_path: Path, capsys) -> None:
    spec = tmp_path / "tiny.yaml"
    spec.write_text(yaml.safe_dump(json.loads(json.dumps(tiny_problem(mode="paper").to_dict()))))
    addr = client.scheduler.address
    out = tmp_path / "f"
    rc = main(["pareto", "--spec", str(spec), "--sweep", "flops=4e6:8e6", "--points", "2", "--initial", "2",
               "--out", str(out), "--scheduler", addr, "--no-progress", "--json", "--no-plot"])
    data = json.loads(capsys.readouterr().out)
    assert rc == 0 and data["points"] == 2 and not data["violations"]
    assert [p["value"] for p in data["front"]] == [4e6, 8e6]
    assert data["front"][0]["front_objective"] <= data["front"][1]["front_objective"]
