"""Incumbent traces: SCIP streams every improving design while it solves (a real SCIP solve of a small
problem), each one decoded, re-checked by the metrics and in the result's trace with SCIP's bound then."""
from __future__ import annotations

from itertools import pairwise
from typing import Any

import pytest
from spaces import tiny_problem

from deepmad_pyomo.solve.design import design
from deepmad_pyomo.solve.options import SolveOptions
from deepmad_pyomo.solve.route import Event, Reporter
from deepmad_pyomo.solve.routes.monolithic import run_scip
from deepmad_pyomo.space.arch import Architecture
from deepmad_pyomo.space.metrics import evaluate

pytestmark = pytest.mark.solver


def streamed(formulation: str) -> tuple[list[tuple[Any, ...]], Any]:
    """The incumbents the scip route streams (in this process), and its outcome."""
    events: list[tuple[Any, ...]] = []

    def sink(event: Event, payload: Any) -> None:
        if event == Event.INCUMBENT:
            events.append(payload)

    problem = tiny_problem("paper", "k1kxk1")
    outcome = run_scip(problem, SolveOptions(time_limit=20, formulation=formulation), Reporter(sink))
    return events, outcome


def test_scip_streams_improving_verified_designs_with_valid_bounds() -> None:
    problem = tiny_problem("paper", "k1kxk1")
    events, outcome = streamed("natural")
    assert len(events) >= 2 and outcome.architectures
    values = []
    for arch, objective, source, bound in events:
        arch = Architecture.from_dict(arch)
        met = evaluate(arch, problem.objective, problem.resolution)
        assert problem.check(arch, met) == [] and objective == met.objective
        assert source.startswith("SCIP (node ")
        assert bound is not None and bound >= outcome.bound - 1e-9 * abs(outcome.bound)  # SCIP's dual bound then
        values.append(objective)
    assert values == sorted(set(values))  # each one better than the last
    final = evaluate(outcome.architectures[0], problem.objective, problem.resolution).objective
    assert values[-1] == final and outcome.bound >= final - 1e-6 * abs(final)
    bounds = [e[3] for e in events]
    assert all(a >= b - 1e-9 * abs(b) for a, b in pairwise(bounds))  # a dual bound only tightens
    again, _ = streamed("natural")
    assert again == events  # SCIP is deterministic: the same designs, values, nodes and bounds


def test_scip_streams_no_bound_where_the_route_vouches_for_none() -> None:
    events, outcome = streamed("log")  # SCIP's presolve can cut the optimum off on this formulation
    assert events and outcome.bound is None and all(e[3] is None for e in events)


def test_a_scip_result_carries_its_trace() -> None:
    problem = tiny_problem("paper", "k1kxk1")
    res = design(problem, "scip", SolveOptions(time_limit=20))
    trace = res.incumbents
    assert len(trace) >= 2 and trace[-1].objective == res.objective
    assert all(a.objective < b.objective and a.time_s <= b.time_s for a, b in pairwise(trace))
    assert 0 <= trace[0].time_s and trace[-1].time_s <= res.time_s
    assert all(p.bound is not None and p.bound >= res.objective - 1e-9 * abs(res.objective) for p in trace)
    assert res.to_dict()["incumbents"][0]["bound"] == trace[0].bound
    assert res.diagnostics["nodes"] >= 1  # SCIP's branch-and-bound nodes (the trace file's NumberOfNodes)
