"""The infeasibility diagnosis (SCIP, no mocks): every too-small budget is named with its least value, rho
or the template is blamed when no budget is, the values are feasible when applied (solved again with
them), and a check that cannot decide says so."""
from __future__ import annotations

from dataclasses import replace

import pytest
from spaces import tiny_problem

from deepmad_pyomo.mp import infeasibility as inf
from deepmad_pyomo.mp.infeasibility import (
    Budget,
    Cause,
    Infeasibility,
    Method,
    explain,
    feasible,
)
from deepmad_pyomo.solve.design import design
from deepmad_pyomo.solve.options import SolveOptions
from deepmad_pyomo.solve.results import Status
from deepmad_pyomo.space.problem import DesignProblem, preset

R18 = preset("deepmad-r18")
R18_TIGHT = R18.with_budgets(flops=2e7, params=2e5)  # both far below what any r18 design needs


@pytest.fixture(scope="module")
def r18_tight() -> Infeasibility:
    why = explain(R18_TIGHT, time_limit=20)
    assert why is not None
    return why


def designed(problem: DesignProblem) -> bool:
    """SCIP designs ``problem`` (a design that meets every budget and bound on re-check)."""
    res = design(problem, "scip", SolveOptions(time_limit=30))
    return res.architecture is not None and not problem.check(res.architecture)


def test_two_too_small_budgets_are_both_named(r18_tight: Infeasibility) -> None:
    why = r18_tight
    assert why.cause == Cause.BUDGETS
    assert "budgets.flops = 20000000" in why.message and "budgets.params = 200000" in why.message
    assert "rho" not in why.message and "\n" not in why.message
    assert why.smallest["flops"] > 2e7 and why.smallest["params"] > 2e5
    combo = why.combination
    assert combo is not None and set(combo.budgets) == {"flops", "params"}
    assert combo.budgets["flops"] >= why.smallest["flops"] and combo.budgets["params"] >= why.smallest["params"]
    assert f"{int(combo.budgets['params'])}" in why.message


def test_each_least_value_is_feasible_alone_and_the_least(r18_tight: Infeasibility) -> None:
    for budget, other in (("flops", "params"), ("params", "flops")):
        least = r18_tight.smallest[budget]
        assert designed(R18.with_budgets(**{budget: least, other: None}))
        # SCIP's feasibility tolerance is 1e-6 on FLOPs / 1e9 and params / 1e6: 1,000 MACs, 1 param
        assert feasible(R18.with_budgets(**{budget: least * (1 - 1e-4), other: None}), 20) is False


def test_the_combination_is_feasible_when_applied(r18_tight: Infeasibility) -> None:
    assert designed(R18.with_budgets(**r18_tight.combination.budgets))


def test_design_reports_the_diagnosis() -> None:
    res = design(R18_TIGHT, "scip", SolveOptions(time_limit=20))
    assert res.status == Status.INFEASIBLE and res.architecture is None
    assert "budgets.flops" in res.message and "budgets.params" in res.message
    assert set(res.details["smallest_budgets"]) == {"flops", "params"}


def test_rho_alone_is_named() -> None:
    hopeless = replace(R18, objective=replace(R18.objective, rho0=0.001))
    why = explain(hopeless, time_limit=20)
    assert why is not None and why.cause == Cause.RHO
    assert "rho0 = 0.001" in why.message and "budgets." not in why.message
    assert why.smallest == {} and why.combination is None


def test_template_ranges_alone_are_named() -> None:
    # the second stage may not be narrower than the first, and its range is
    narrowing = tiny_problem("paper", stages=[
        {"type": "k1kxk1", "s": 2, "out": [32, 40], "btn_ratio": [0.25, 1], "L": [1, 3], "k": [3]},
        {"type": "k1kxk1", "s": 2, "out": [16, 24], "btn_ratio": [0.25, 1], "L": [1, 3], "k": [3]}])
    why = explain(narrowing, time_limit=10)
    assert why is not None and why.cause == Cause.TEMPLATE and "template" in why.message


def test_three_budgets_each_at_its_least() -> None:
    problem = tiny_problem("paper", flops=1e5).with_budgets(params=1e3, layers=2)
    why = explain(problem, time_limit=10)
    assert why is not None and why.combination is not None
    assert all(f"budgets.{b}" in why.message for b in ("flops", "params", "layers"))
    assert why.combination.method == Method.EACH_AT_LEAST
    assert why.combination.budgets == {k: pytest.approx(v) for k, v in why.smallest.items()}
    assert designed(problem.with_budgets(**why.combination.budgets))


def test_scaled_combination_is_feasible_and_least(monkeypatch) -> None:
    monkeypatch.setattr(inf, "_one_raised", lambda *a: None)  # force the last way: a common factor
    problem = R18.with_budgets(flops=2e7, params=2e5, layers=10)
    why = explain(problem, time_limit=20)
    combo = why.combination
    assert combo is not None and combo.method == Method.SCALED and combo.scale > 1
    assert f"t = {combo.scale:g}" in why.message
    assert designed(problem.with_budgets(**combo.budgets))
    # the least values times a factor below t (by more than the bisection's tolerance) are infeasible
    below = combo.scale / (1 + 1.5 * inf.SCALE_TOLERANCE)
    assert feasible(inf.with_budgets(problem, {Budget(k): v * below for k, v in why.smallest.items()}), 20) is False


@pytest.mark.parametrize("checks, said", [(2, "were not decided"), (3, "the least params was not decided")])
def test_an_undecided_check_says_so(monkeypatch, checks: int, said: str) -> None:
    """The analysis runs out of time after ``checks`` SCIP checks: it says what it did not decide."""
    left = iter(range(checks))
    real = inf.Clock.limit
    monkeypatch.setattr(inf.Clock, "limit", lambda self: real(self) if next(left, None) is not None else None)
    why = explain(R18_TIGHT.with_budgets(flops=2e7), time_limit=20)
    assert why is not None and said in why.message
    assert "params" not in why.smallest
