"""The ``maingo`` route at its time limit: status ``time_limit``, a message saying what MAiNGO reached (its
best design or none, its bound), and the bound in the result when MAiNGO gives a valid one."""
from __future__ import annotations

import pytest

from deepmad_pyomo.batch.suites import load_suite
from deepmad_pyomo.solve import registry
from deepmad_pyomo.solve.design import design
from deepmad_pyomo.solve.options import SolveOptions
from deepmad_pyomo.solve.results import Status
from deepmad_pyomo.solve.routes.monolithic import maingo_bound, stopped_message
from deepmad_pyomo.space.problem import preset

R18_OPTIMUM = 63_714.10  # deepmad-r18, paper mode, proven by --certify (README)

needs_maingo = pytest.mark.skipif(not registry.get("maingo").available(), reason="maingopy is not installed")


@needs_maingo
def test_time_limit_without_a_design_says_so_with_the_bound() -> None:
    res = design(preset("deepmad-r18"), "maingo", SolveOptions(time_limit=3))
    assert res.status == Status.TIME_LIMIT and res.architecture is None
    assert res.message.startswith("MAiNGO stopped at its time limit") and "no design" in res.message
    assert res.bound is not None and res.bound >= R18_OPTIMUM
    assert f"bound {res.bound:,.2f}" in res.message


@needs_maingo
def test_time_limit_with_a_design_gives_its_objective_bound_and_gap() -> None:
    problem = next(p for p in load_suite("cifar") if p.name == "k1dwk1-30m")
    res = design(problem, "maingo", SolveOptions(time_limit=4))
    if res.status == Status.OPTIMAL:  # a fast machine may prove it
        return
    assert res.status == Status.TIME_LIMIT and res.message.startswith("MAiNGO stopped at")
    if res.architecture is not None:
        assert f"objective {res.objective:,.2f}" in res.message
    if res.bound is not None:
        assert f"bound {res.bound:,.2f}" in res.message
        assert res.objective is None or res.bound >= res.objective


def test_stopped_message_and_bound_validity() -> None:
    assert stopped_message(10, 10.0, 95.0, 100.0) == ("MAiNGO stopped at its time limit (10 s CPU) with a best "
                                                      "design of objective 95.00, bound 100.00, gap 5.26%")
    assert stopped_message(10, 2.0, None, None) == "MAiNGO stopped at a limit after 2.0 s CPU with no design and no valid bound"
    assert maingo_bound(float("inf"), None) is None and maingo_bound(None, 1.0) is None
    assert maingo_bound(90.0, 95.0) is None  # below its own design: not a bound
    assert maingo_bound(100.0, 95.0) == 100.0 and maingo_bound(100.0, None) == 100.0
