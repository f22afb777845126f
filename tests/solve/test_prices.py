"""The price of each budget: bindings, relaxed problems, and proven prices checked against explicit re-solves."""
from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml
from spaces import tiny_problem

from deepmad_pyomo.cli.main import main
from deepmad_pyomo.solve.design import design
from deepmad_pyomo.solve.options import SolveOptions
from deepmad_pyomo.solve.prices import (
    CertifiedPoint,
    Constraint,
    PriceSource,
    at_level,
    bindings,
    certified_price,
    constraints,
    prices,
    relaxed,
)
from deepmad_pyomo.solve.registry import REGISTRY
from deepmad_pyomo.space.arch import Architecture

GAP = 1e-4
needs_certify = pytest.mark.skipif(not REGISTRY["certify"].available(), reason="casadi and pyscipopt are needed")


def _arch(problem) -> Architecture:
    """conv 3->16 k3 s1 | k1kxk1 16->32 btn16 k3 s2 L3 | k1kxk1 32->48 btn32 k3 s2 L3: 5.88 M MACs"""
    from deepmad_pyomo.space.arch import Block

    blocks = (Block("conv", 3, 16, 3, 1), Block("k1kxk1", 16, 32, 3, 2, btn=16, L=3),
              Block("k1kxk1", 32, 48, 3, 2, btn=32, L=3))
    return Architecture(blocks, resolution=problem.resolution, num_classes=problem.num_classes)


def test_relaxed_problems() -> None:
    p = tiny_problem(mode="paper").with_budgets(layers=40)
    assert constraints(p) == [Constraint.FLOPS, Constraint.PARAMS, Constraint.LAYERS, Constraint.RHO,
                              Constraint.WIDTH_CAPS, Constraint.DEPTH_CAPS]
    assert relaxed(p, Constraint.FLOPS, 0.1).budgets.flops == pytest.approx(6.6e6)
    assert relaxed(p, Constraint.PARAMS, 0.01).budgets.params == pytest.approx(0.202e6)
    assert relaxed(p, Constraint.LAYERS, 0.01).budgets.layers == 41  # at least the next integer
    assert relaxed(p, Constraint.RHO, 0.1).objective.rho0 == pytest.approx(0.55)
    wide = relaxed(p, Constraint.WIDTH_CAPS, 0.01)  # caps grow by at least one width step
    assert [s.out[1] for s in wide.stages] == [48, 56] and wide.stem.out[1] == 32
    assert [s.out[1] for s in relaxed(p, Constraint.WIDTH_CAPS, 0.1).stages] == [48, 56]
    assert [s.L[1] for s in relaxed(p, Constraint.DEPTH_CAPS, 0.01).stages] == [4, 4]
    assert relaxed(p, Constraint.FLOPS, 0.1).stages == p.stages  # nothing else changes


def test_bindings_of_a_design() -> None:
    p = tiny_problem(mode="paper")
    b = {x.constraint: x for x in bindings(p, _arch(p))}
    assert not b[Constraint.FLOPS].binds and 0.01 < b[Constraint.FLOPS].slack < 0.03  # 5.88 M of 6 M
    assert not b[Constraint.PARAMS].binds and not b[Constraint.RHO].binds
    assert b[Constraint.WIDTH_CAPS].binds and b[Constraint.WIDTH_CAPS].at_cap == ("blocks[2].out 48",)
    assert b[Constraint.DEPTH_CAPS].at_cap == ("blocks[1].L 3", "blocks[2].L 3")
    tight = {x.constraint: x for x in bindings(p.with_budgets(flops=5.9e6), _arch(p))}
    assert tight[Constraint.FLOPS].binds


def _point(flops: float, obj: float | None, bound: float | None, used: float | None = None, **more: float):
    return CertifiedPoint({"flops": flops, **more}, obj, bound, None if used is None else {"flops": used})


def test_front_price_is_read_off_monotonicity() -> None:
    front = [_point(1.0, 10.0, 10.01), _point(1.05, 10.5, 10.6), _point(1.2, 12.0, 12.0)]
    p = certified_price(front, Constraint.FLOPS, {"flops": 1.0}, 0.1, old=10.0)  # 1.1: designs <= 1.1, bounds >= 1.1
    assert p.source == PriceSource.FRONT and (p.gain_low, p.gain_high) == pytest.approx((0.5, 2.0))
    beyond = certified_price(front, Constraint.FLOPS, {"flops": 1.2}, 0.1, old=12.0)
    assert beyond.gain_high is None and not beyond.proven
    # a design found at a larger budget that uses no more than the relaxed one meets it too
    used = [_point(1.0, 10.0, 10.01), _point(1.2, 11.0, 11.0, used=1.09)]
    assert certified_price(used, Constraint.FLOPS, {"flops": 1.0}, 0.1, old=10.0).gain_low == pytest.approx(1.0)
    # a point lies at a relaxed level when its budget is at or just above it
    assert at_level(front, Constraint.FLOPS, {"flops": 1.0}, 0.05) and not at_level(front, Constraint.FLOPS,
                                                                                     {"flops": 1.0}, 0.1)


def test_grid_price_keeps_the_other_budget() -> None:
    # params 1 and 2: the flops price at params=1 reads the params=1 row; designs at params<=1, bounds at params>=1
    grid = [_point(1.0, 10.0, 10.0, params=1.0), _point(1.1, 11.0, 11.5, params=1.0),
            _point(1.0, 10.5, 10.5, params=2.0), _point(1.1, 13.0, 13.0, params=2.0)]
    p = certified_price(grid, Constraint.FLOPS, {"flops": 1.0, "params": 1.0}, 0.1, old=10.0)
    assert (p.gain_low, p.gain_high) == pytest.approx((1.0, 1.5))
    q = certified_price(grid, Constraint.PARAMS, {"flops": 1.0, "params": 1.0}, 1.0, old=10.0)
    assert (q.gain_low, q.gain_high) == pytest.approx((0.5, 0.5)) and q.relaxed_to == 2.0


@needs_certify
def test_prices_against_explicit_resolves() -> None:
    p = tiny_problem(mode="paper")
    base = design(p, "certify", SolveOptions(time_limit=60, gap=GAP))
    old = base.objective
    found = prices(p, base.architecture, [Constraint.FLOPS, Constraint.RHO], fractions=(0.1,))
    assert [(x.constraint, x.fraction, x.source) for x in found] == \
        [(Constraint.FLOPS, 0.1, PriceSource.RESOLVE), (Constraint.RHO, 0.1, PriceSource.RESOLVE)]
    for price in found:  # the optimum of the relaxed problem, solved alone and cold, lies in the interval
        alone = design(relaxed(p, price.constraint, 0.1), "certify", SolveOptions(time_limit=60, gap=GAP))
        assert price.status == alone.status.value == "optimal" and price.proven
        assert price.gain_low - 1e-6 <= alone.bound - old and alone.objective - old <= price.gain_high + 1e-6
        assert price.gain_high - price.gain_low <= 2 * GAP * abs(alone.objective)
    flops = found[0]
    assert flops.gain_low > 10  # 10% more MACs buys a better design on this problem (a real price)
    assert flops.relaxed_to == pytest.approx(6.6e6)


@needs_certify
def test_cli_design_prices(tmp_path: Path, capsys) -> None:
    spec = tmp_path / "tiny.yaml"
    spec.write_text(yaml.safe_dump(json.loads(json.dumps(tiny_problem(mode="paper").to_dict()))))
    assert main(["design", "--spec", str(spec), "--prices", "nope", "--quiet"]) == 2
    assert "--prices" in capsys.readouterr().err
    assert main(["design", "--spec", str(spec), "--prices", "flops", "--json", "--quiet"]) == 0
    data = json.loads(capsys.readouterr().out)
    got = data["prices"]
    assert [(x["constraint"], x["fraction"]) for x in got["prices"]] == [("flops", 0.01), ("flops", 0.1)]
    assert {b["constraint"] for b in got["bindings"]} == {"flops", "params", "rho", "width_caps", "depth_caps"}
    assert all(x["gain_high"] is not None and x["gain_low"] <= x["gain_high"] for x in got["prices"])
