"""``deepmad pareto`` over two budgets: a 2x2 certified grid on a real Dask cluster, checked monotone in both
budgets and against independent certify runs at each cell; resuming skips finished cells; prices are read off
the grid where it holds the relaxed level and re-solved elsewhere; bad grid options are one line."""
from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest
import yaml

pytest.importorskip("distributed")

from spaces import tiny_problem

from deepmad_pyomo.batch import grid as gd
from deepmad_pyomo.batch import pareto as pt
from deepmad_pyomo.batch.cluster import cluster_client
from deepmad_pyomo.cli.main import main
from deepmad_pyomo.solve.design import design
from deepmad_pyomo.solve.options import SolveOptions
from deepmad_pyomo.solve.prices import (
    Constraint,
    PriceSource,
    certified_solve,
    prices,
    relaxed,
)
from deepmad_pyomo.solve.registry import REGISTRY
from deepmad_pyomo.space.arch import Architecture

GAP = 1e-4
# 10% apart in both budgets: the 10% prices of the smallest cell are read off the grid; MACs buy objective here
GRID = gd.GridSweep((pt.Sweep(pt.SweepBudget.FLOPS, 4e6, 4.4e6), pt.Sweep(pt.SweepBudget.PARAMS, 50e3, 55e3)),
                    (2, 2))
needs_certify = pytest.mark.skipif(not REGISTRY["certify"].available(), reason="casadi and pyscipopt are needed")


def problem(rho0: float = 0.5):
    return tiny_problem(mode="paper", budgets={"flops": 4e6, "params": 50e3}, objective={"mode": "paper", "rho0": rho0})


def _spec(tmp_path: Path, prob) -> str:
    spec = tmp_path / f"{prob.name}-{prob.objective.rho0}.yaml"
    spec.write_text(yaml.safe_dump(json.loads(json.dumps(prob.to_dict()))))
    return str(spec)


# ------------------------------------------------------------------------------------ no solver
def test_rounds_are_anti_diagonals_and_warm_starts_come_from_below() -> None:
    assert [gd.diagonal((3, 2), k) for k in range(4)] == [[(0, 0)], [(0, 1), (1, 0)], [(1, 1), (2, 0)], [(2, 1)]]
    recs = {c: {"objective": obj, "architecture": {"blocks": []}}
            for c, obj in (((0, 0), 1.0), ((1, 0), 2.0), ((0, 1), 1.5), ((2, 0), 9.0))}
    assert gd.warm_cell(recs, (1, 1)) == (1, 0)  # the best design below; (2, 0) does not meet (1, 1)'s MACs
    assert gd.warm_cell(recs, (0, 0)) is None


def test_assemble_grid_lifts_and_flags_violations() -> None:
    def rec(obj: float, bound: float) -> dict:
        return {"objective": obj, "bound": bound, "architecture": {"blocks": []}, "status": "optimal"}

    ok = gd.assemble_grid({(0, 0): rec(10.0, 10.001), (1, 0): rec(9.9995, 11.0), (0, 1): rec(10.5, 10.5),
                           (1, 1): rec(12.0, 12.0)}, GRID)
    assert not ok.violations and ok.lifted == [GRID.values((1, 0))]
    assert [c.objective for c in ok.cells] == [10.0, 10.5, 10.0, 12.0]  # cells in (i, j) order
    assert [c.bound for c in ok.cells] == [10.001, 10.5, 11.0, 12.0]
    assert all(len(c.prices) == 4 for c in ok.cells)  # both budgets, 1% and 10%
    bug = gd.assemble_grid({(0, 0): rec(10.0, 10.0), (1, 1): rec(9.0, 9.5)}, GRID)
    assert len(bug.violations) == 1 and "flops=4.4e+06, params=55000 the proven bound 9.5" in bug.violations[0]


@pytest.mark.parametrize("argv, says", [
    (["--sweep", "flops=1e6:2e6", "--sweep", "flops=2e6:4e6"], "a grid sweeps two different budgets"),
    (["--sweep", "flops=1e6:2e6", "--sweep", "params=1e4:2e4", "--sweep", "params=1e4:3e4"], "given 3 times"),
    (["--sweep", "flops=1e6:2e6", "--sweep", "params=1e4:2e4", "--points", "1x3"], "--points"),
    (["--sweep", "flops=1e6:2e6", "--sweep", "params=1e4:2e4", "--points", "4y4"], "--points"),
    (["--sweep", "flops=1e6:2e6", "--sweep", "params=1e4:2e4", "--initial", "3"], "--initial"),
    (["--sweep", "flops=1e6:2e6", "--points", "4x4"], "--points"),
])
def test_bad_grid_is_one_line_before_any_work(argv: list[str], says: str, tmp_path: Path, capsys) -> None:
    out = tmp_path / "grid"
    assert main(["pareto", "--preset", "deepmad-r50", *argv, "--out", str(out)]) == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and err.startswith("deepmad: error:") and says in err
    assert not out.exists()


# --------------------------------------------------------------------------------- on a cluster
@pytest.fixture(scope="module")
def client():
    with cluster_client(workers=2) as c:
        yield c


@pytest.fixture(scope="module")
def certified_grid(client, tmp_path_factory):
    out = tmp_path_factory.mktemp("grid") / "g"
    kw = dict(time_limit=60, gap=GAP, client=client, progress=False)
    return out, kw, gd.pareto_grid(problem(), GRID, out, **kw)


@needs_certify
def test_small_grid_matches_independent_certify_runs_and_resumes(certified_grid) -> None:
    out, kw, res = certified_grid
    cells = res.grid.cells
    assert len(cells) == 4 and res.rounds == 3 and res.solved == 4 and not res.failed
    assert not res.grid.violations and not res.uncertified and res.proven == 4
    assert cells[3].record["warm_from"] is not None  # the last round starts from a design below it
    own = {c.index: c.record["objective"] for c in cells}
    for a in own:  # monotone in both budgets (a certified optimum, up to the gap)
        for b in own:
            if gd.dominated(a, b):
                assert own[a] <= own[b] * (1 + 2 * GAP)
    assert own[(1, 0)] > own[(0, 0)] * (1 + 10 * GAP)  # MACs buy objective: the grid is not flat
    for cell in cells:  # the same optimum as certify run alone there, each within the other's bound
        alone = design(problem().with_budgets(**cell.values), "certify", SolveOptions(time_limit=60, gap=GAP))
        mine = cell.record
        assert mine["status"] == alone.status.value == "optimal"
        assert mine["objective"] <= alone.bound * (1 + 1e-9) and alone.objective <= mine["bound"] * (1 + 1e-9)
        assert mine["metrics"]["macs"] <= cell.values["flops"] and mine["metrics"]["params"] <= cell.values["params"]
    table = list(csv.DictReader((out / "grid.csv").open()))
    assert [(float(r["flops_budget"]), float(r["params_budget"])) for r in table] == \
        [(c.values["flops"], c.values["params"]) for c in cells]
    assert all(r["architecture"] and r["price_params_10pct_low"] for r in table)
    data = json.loads((out / "grid.json").read_text())
    assert data["format"] == gd.GRID_FORMAT and data["proven"] == 4
    assert all(c["architecture"]["blocks"] and c["bindings"] and len(c["prices"]) == 4 for c in data["grid"])
    for fmt in ("png", "svg"):
        assert (out / f"grid.{fmt}").stat().st_size > 1000

    # interrupted: one cell lost mid-write, the rest finished; the rerun redoes only it, the same grid
    lost = out / "points" / f"{cells[1].record['key']}.json"
    lost.write_text(lost.read_text()[:50])
    again = gd.pareto_grid(problem(), GRID, out, **kw)
    assert (again.reused, again.solved) == (3, 1) and not again.grid.violations
    assert [c.record["objective"] for c in again.grid.cells] == pytest.approx(list(own.values()), rel=2 * GAP)


@needs_certify
def test_cli_grid_resumes_from_its_records(certified_grid, tmp_path: Path, capsys) -> None:
    out, _, res = certified_grid
    rc = main(["pareto", "--spec", _spec(tmp_path, problem()), "--sweep", "flops=4e6:4.4e6", "--sweep",
               "params=50e3:55e3", "--points", "2", "--time-limit", "60", "--out", str(out), "--workers", "1",
               "--no-progress", "--json", "--no-plot"])
    data = json.loads(capsys.readouterr().out)
    assert rc == 0 and (data["cells"], data["reused"], data["solved"]) == (4, 4, 0) and not data["violations"]
    assert [c["values"] for c in data["grid"]] == [c.values for c in res.grid.cells]


@needs_certify
def test_prices_read_off_the_grid_where_it_holds_the_relaxed_level(certified_grid, tmp_path: Path, capsys) -> None:
    out, _, res = certified_grid
    data, front = gd.load_certified(out)
    assert front.budgets == (Constraint.FLOPS, Constraint.PARAMS) and len(front.points) == 4
    prob = problem()
    arch = Architecture.from_dict(res.grid.cells[0].record["architecture"])  # the optimum at (4e6, 50e3)
    solves = []
    solve = certified_solve(time_limit=60, gap=GAP)
    found = prices(prob, arch, [Constraint.FLOPS, Constraint.PARAMS], solve=lambda p, w: solves.append(p) or
                   solve(p, w), fronts=[front])
    assert [(p.constraint, p.fraction, p.source) for p in found] == [
        (Constraint.FLOPS, 0.01, PriceSource.RESOLVE), (Constraint.FLOPS, 0.1, PriceSource.FRONT),
        (Constraint.PARAMS, 0.01, PriceSource.RESOLVE), (Constraint.PARAMS, 0.1, PriceSource.FRONT)]
    assert len(solves) == 2  # only the 1% levels, which the grid does not hold
    old = res.grid.cells[0].record["objective"]
    for p in found:  # every interval holds the relaxed problem's optimum, certified alone
        alone = design(relaxed(prob, p.constraint, p.fraction), "certify", SolveOptions(time_limit=60, gap=GAP))
        assert p.proven and alone.status.value == "optimal"
        assert p.gain_low <= alone.bound - old + 1e-6 and alone.objective - old <= p.gain_high + 1e-6
    assert found[1].gain_low > 10 * GAP * old  # 10% more MACs buys a better design, read off the grid

    # the command line: the same output with --front, the 10% price from the grid; a front of another problem
    spec = _spec(tmp_path, prob)
    assert main(["design", "--spec", spec, "--prices", "flops", "--front", str(out), "--json", "--quiet"]) == 0
    got = json.loads(capsys.readouterr().out)["prices"]
    assert [x["source"] for x in got["prices"]] == ["re-solve", "front"]
    assert set(got) == {"relaxations", "binding_slack", "bindings", "prices"}
    assert set(got["prices"][1]) == set(found[1].to_dict())
    other = _spec(tmp_path, problem(rho0=0.4))
    assert main(["design", "--spec", other, "--prices", "--front", str(out), "--quiet"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and "--front" in err and "'objective'" in err
    assert main(["design", "--spec", spec, "--front", str(out), "--quiet"]) == 2
    assert "--front" in capsys.readouterr().err
