"""Solver routes on a small design problem, with the real solvers (no mocks).

The problem: 32x32 input, a stem and two bottleneck super-blocks with narrow ranges and a FLOPs
budget that binds (2,160 architectures in all, so the optimum is checked by enumerating them).
Every route's design is re-verified here: it meets every budget and bound, and its objective is what
``metrics.evaluate`` computes.
"""
from __future__ import annotations

import dataclasses
import functools
import itertools
import math
import shutil

import pyomo.environ as pyo
import pytest
from pyomo.opt import TerminationCondition as TC

from deepmad_pyomo.errors import DesignError
from deepmad_pyomo.solve import registry as solvers
from deepmad_pyomo.solve.design import design
from deepmad_pyomo.solve.options import SolveOptions
from deepmad_pyomo.solve.results import DesignResult, Status
from deepmad_pyomo.solve.route import Reporter
from deepmad_pyomo.solve.routes import evolution, mindtpy, nl
from deepmad_pyomo.space.arch import Architecture, Block
from deepmad_pyomo.space.metrics import evaluate
from deepmad_pyomo.space.problem import DesignProblem

FLOPS = 1.0e6  # MACs; the unconstrained best design needs 1.58e6


def small_problem(flops: float = FLOPS) -> DesignProblem:
    return DesignProblem.from_dict({
        "name": "small", "resolution": 32, "num_classes": 10,
        "objective": {"rho0": 0.5, "mode": "paper"},
        "budgets": {"flops": flops},
        "stem": {"out": [8, 16], "k": [3], "s": 2},
        "stages": [
            {"type": "k1kxk1", "s": 2, "out": [16, 32], "btn": [8, 16], "L": [1, 2], "k": [3, 5]},
            {"type": "k1kxk1", "s": 2, "out": [32, 64], "btn": [8, 24], "L": [1, 3], "k": [3]},
        ]})


def enumerate_designs(problem: DesignProblem) -> list[tuple[float, Architecture]]:
    """Every architecture of the template (widths in steps of 8) that meets the budgets and bounds."""
    stem, s1, s2 = problem.stem, *problem.stages
    step = problem.width_step

    def widths(lo: int, hi: int) -> range:
        return range(step * math.ceil(lo / step), hi + 1, step)

    out = []
    for c0, c1, b1, l1, k1, c2, b2, l2, k2 in itertools.product(
            widths(*stem.out), widths(*s1.out), widths(*s1.btn), range(s1.L[0], s1.L[1] + 1), s1.k,
            widths(*s2.out), widths(*s2.btn), range(s2.L[0], s2.L[1] + 1), s2.k):
        arch = Architecture((Block("conv", 3, c0, 3, 2), Block("k1kxk1", c0, c1, k1, 2, b1, l1),
                             Block("k1kxk1", c1, c2, k2, 2, b2, l2)), resolution=32, num_classes=10)
        m = evaluate(arch, problem.objective, problem.resolution)
        if not problem.check(arch, m):
            out.append((m.objective, arch))
    return out


# Each route once per test process (pytest-xdist workers each keep their own cache).
ROUTES = {
    "auto": {}, "ipopt": {}, "scip": {}, "maingo": {}, "bonmin": {}, "mindtpy": {},
    "evolution": {"extra": {"max_candidates": 3000}},
}


@functools.cache
def solved(route: str) -> DesignResult:
    name, _, variant = route.partition(":")
    opts = SolveOptions(time_limit=20, variant=variant or None, **ROUTES.get(name, {}))
    return design(small_problem(), route, opts)


def assert_verified(problem: DesignProblem, res: DesignResult) -> None:
    assert res.architecture is not None, f"{res.solver}: {res.status} {res.message}"
    assert problem.check(res.architecture) == []
    assert res.objective == pytest.approx(evaluate(res.architecture, problem.objective, problem.resolution).objective,
                                          rel=1e-12)


@pytest.mark.parametrize("route", ROUTES)
def test_route_returns_a_verified_design(route: str) -> None:
    res = solved(route)
    assert res.status in (Status.OPTIMAL, Status.FEASIBLE), f"{route}: {res.status} {res.message}"
    assert_verified(small_problem(), res)
    # the budget binds: the best designs use most of it
    assert res.metrics["macs"] <= FLOPS
    if route in ("bonmin", "mindtpy", "evolution", "ipopt", "auto"):
        assert res.bound is None  # heuristics and local methods never claim a bound


def test_global_bound_is_above_every_design() -> None:
    """SCIP's proven bound is at least the objective of every design any route found."""
    scip = solved("scip")
    assert scip.bound is not None and scip.status == Status.OPTIMAL
    for route in ROUTES:
        res = solved(route)
        if res.objective is not None:
            assert scip.bound >= res.objective - 1e-6 * abs(res.objective), route
        if route == "maingo" and res.bound is not None:
            assert res.bound >= scip.objective - 1e-6 * abs(scip.objective)


def test_scip_proves_the_enumerated_optimum() -> None:
    problem = small_problem()
    designs = enumerate_designs(problem)
    assert len(designs) > 50
    best, best_arch = max(designs, key=lambda d: d[0])
    res = design(problem, "scip", SolveOptions(time_limit=30, gap=1e-9))
    assert res.status == Status.OPTIMAL
    assert_verified(problem, res)
    assert res.objective == pytest.approx(best, rel=1e-9)
    assert res.bound is not None and res.bound >= best - 1e-6
    assert best_arch == res.architecture or res.objective == pytest.approx(best, rel=1e-12)
    # the budget binds: with twice the budget the template has a better design
    roomy = enumerate_designs(problem.with_budgets(flops=2 * FLOPS))
    assert max(v for v, _ in roomy) > best


def test_infeasible_budget_reports_the_smallest_feasible_one() -> None:
    res = design(small_problem(flops=1.0e4), "scip", SolveOptions(time_limit=20))
    assert res.status == Status.INFEASIBLE
    assert res.architecture is None
    smallest = res.smallest_budgets["flops"]
    assert res.details["smallest_budgets"] == res.smallest_budgets
    assert 1.0e4 < smallest < FLOPS
    again = design(small_problem(flops=smallest), "scip", SolveOptions(time_limit=20))
    assert again.status in (Status.OPTIMAL, Status.FEASIBLE)
    assert_verified(small_problem(flops=smallest), again)
    assert again.metrics["macs"] <= smallest
    # and it is the least: every enumerated design of the template needs at least that much
    assert min(evaluate(a).macs for _, a in enumerate_designs(small_problem(flops=FLOPS))) >= smallest


def test_unknown_solver_and_variant_raise() -> None:
    with pytest.raises(DesignError, match="unknown solver"):
        design(small_problem(), "no-such-solver")
    with pytest.raises(DesignError, match="unknown bonmin variant"):
        design(small_problem(), "bonmin:B-XYZ")


@pytest.mark.skipif(shutil.which("couenne") is not None, reason="couenne is on PATH here")
def test_nl_route_with_a_missing_executable_raises() -> None:
    with pytest.raises(DesignError, match="couenne not found on PATH"):
        nl.run(small_problem(), SolveOptions(variant="couenne"), Reporter())
    with pytest.raises(DesignError):  # design() refuses it (no executable at all) or the route does
        design(small_problem(), "nl:couenne", SolveOptions(variant="couenne", time_limit=5))
    assert nl.on_path("couenne") is None


def test_nl_file_is_written(tmp_path) -> None:
    path = tmp_path / "small.nl"
    m = nl.write_nl(small_problem(), path)
    text = path.read_text()
    assert text.startswith("g3")
    n_vars, n_cons = (int(x) for x in text.splitlines()[1].split()[:2])
    assert n_vars == m.nvariables() and n_cons == m.nconstraints()
    assert (tmp_path / "small.row").exists() and "flops_budget" in (tmp_path / "small.row").read_text()


@pytest.mark.parametrize("variant", ["B-BB", "B-Hyb", "B-QG", "B-iFP"])
def test_bonmin_variants_return_a_design_or_a_clear_status(variant: str) -> None:
    problem = small_problem()
    res = design(problem, f"bonmin:{variant}", SolveOptions(time_limit=6, variant=variant))
    assert res.solver == f"bonmin:{variant}"
    assert res.bound is None
    assert [s["stage"] for s in res.diagnostics["stages"]][:2] == ["structure", "fixed"]
    if res.architecture is not None:
        assert_verified(problem, res)
    else:
        assert res.status in (Status.TIME_LIMIT, Status.ERROR) and res.message
    assert res.time_s < 6 + 3


def test_casadi_ipopt_pyomo_plugin() -> None:
    """The NLP solver MindtPy uses: a Pyomo plugin with honest termination conditions."""
    mindtpy.register_nlp_solver()
    opt = pyo.SolverFactory(mindtpy.NLP_SOLVER)
    assert opt.available()
    m = pyo.ConcreteModel()
    m.x = pyo.Var(bounds=(0, 4), initialize=1)
    m.y = pyo.Var(bounds=(0, 4), initialize=1)
    m.c = pyo.Constraint(expr=m.x * m.y <= 2)
    m.o = pyo.Objective(expr=pyo.log(1 + m.x) + m.y, sense=pyo.maximize)
    res = opt.solve(m)
    assert res.solver.termination_condition == TC.locallyOptimal
    assert pyo.value(m.x) * pyo.value(m.y) == pytest.approx(2, rel=1e-6)
    m.c2 = pyo.Constraint(expr=m.x + m.y >= 9)  # the box allows at most 8
    assert opt.solve(m).solver.termination_condition == TC.infeasible


def test_evolution_is_seeded_and_records_its_trace() -> None:
    problem = small_problem()
    opts = SolveOptions(time_limit=30, seed=3, extra={"max_candidates": 800})
    a = evolution.run(problem, opts, Reporter())
    b = evolution.run(problem, opts, Reporter())
    assert a.architectures == b.architectures
    d = a.diagnostics
    assert d["candidates"] == 800 and d["stopped_by"] == "max_candidates"
    assert 0 < d["valid"] <= d["evaluated"]
    trace = d["trace"]
    assert [t[0] for t in trace] == sorted(t[0] for t in trace)
    assert [t[2] for t in trace] == sorted(t[2] for t in trace)
    best = evaluate(a.architectures[0], problem.objective, problem.resolution)
    assert trace[-1][2] == pytest.approx(best.objective) and problem.check(a.architectures[0]) == []


def test_evolution_mutations_stay_in_the_template_box() -> None:
    import random

    problem = small_problem()
    space = evolution.Space(problem)
    rng = random.Random(0)
    g = space.sample(rng)
    for _ in range(2000):
        g = space.mutate(g, rng)
        arch = space.architecture(g)
        # widths, btn, depths and kernels stay in their ranges and steps; the filters (monotone widths,
        # width and btn ratios, rho, budgets) are left to problem.check
        broken = [v for v in problem.with_budgets(flops=None).check(arch)
                  if "non-decreasing" not in v and "x blocks" not in v and "rho" not in v and "x out" not in v]
        assert broken == [], broken


def test_auto_designs_quickly_near_the_relaxation_then_solves_in_full() -> None:
    """``auto``'s first design comes from SCIP in a small neighbourhood of a relaxed point (widths within
    a few percent of Ipopt's); the full re-solve with kernels free then reaches the enumerated optimum."""
    res = solved("auto")
    solves = res.details["exact_solves"]
    quick = [s for s in solves if s["radius"] is not None and s["objective"] is not None]
    assert quick, solves
    assert solves[-1]["radius"] is None and solves[-1]["kernels"] == "free"
    best = max(v for v, _ in enumerate_designs(small_problem()))
    assert res.objective == pytest.approx(best, rel=1e-9)


def test_neighbourhood_bounds_hold_the_relaxed_point() -> None:
    from deepmad_pyomo.mp.formulation import FormulationOptions, build_pyomo_model
    from deepmad_pyomo.solve.routes.auto import DepthProxy
    from deepmad_pyomo.space.problem import preset

    problem = preset("deepmad-r18")
    proxy = DepthProxy(problem, SolveOptions(), time_limit=10)
    _, xs = proxy.relaxation()
    d = proxy.clip([xs[i] for i in proxy.depth_idx])
    assert proxy(d) > -math.inf
    m = build_pyomo_model(problem, FormulationOptions(depths=list(d)))
    proxy.neighbourhood(d).restrict(m, 0.05)
    xs = proxy.cache[d][1]
    for name in ("width_units", "btn_units"):
        for j, var in getattr(m, name).items():
            full = getattr(m.data.template, name)[j]
            if var.fixed:
                continue
            x = xs[proxy.solver.index[id(getattr(proxy.model, name)[j])]]
            assert var.lb <= max(full[0], math.floor(x)) and min(full[1], math.ceil(x)) <= var.ub
            assert full[0] <= var.lb and var.ub <= full[1]
            if full[0] + 1 < x < full[1] - 1:
                assert var.ub - var.lb <= 0.1 * x + 4, (name, j, x, full)


@pytest.mark.parametrize("route,limit", [("scip", 3), ("auto", 4)])
def test_warm_start_is_kept_or_bettered(route: str, limit: float) -> None:
    """A warm start is where the route starts: with a limit far too short to find it alone (SCIP on the
    monolithic deepmad-r18 MINLP, or auto's neighbourhood designs), the answer is still at least as good."""
    from deepmad_pyomo.nn.models import get_architecture
    from deepmad_pyomo.space.problem import preset

    problem = preset("deepmad-r18")
    warm = get_architecture("paper-deepmad-r18")  # the committed zoo model
    assert problem.check(warm) == []
    value = evaluate(warm, problem.objective).objective
    res = design(problem, route, SolveOptions(time_limit=limit, warm_start=warm))
    assert_verified(problem, res)
    assert res.objective >= value - 1e-9 * abs(value)
    if route == "scip":
        assert res.bound is not None and res.bound >= res.objective


# ------------------------------------------------------------------------------------ the solve layer
def test_registry_lists_every_route_with_its_kind() -> None:
    from deepmad_pyomo.solve.route import RouteKind

    assert list(solvers.REGISTRY) == ["certify", "auto", "ipopt", "bonmin", "scip", "maingo", "mindtpy", "nl",
                                      "evolution"]
    assert solvers.DEFAULT == "certify" and solvers.get("certify").kind == RouteKind.CERTIFIED
    for name, route in solvers.REGISTRY.items():
        assert route.name == name and isinstance(route.kind, RouteKind) and route.description and route.install
        assert callable(route.run) and (route.version() is not None) == route.available()
    assert f"{solvers.get('scip').kind:<8}|" == "global  |"  # kinds format as their strings
    bonmin, variant = solvers.parse("bonmin:B-Hyb")
    assert variant == "B-Hyb" and bonmin.label(SolveOptions(variant=variant)) == "bonmin:B-Hyb"
    assert bonmin.label(SolveOptions()) == "bonmin:B-OA" and solvers.get("scip").label(SolveOptions()) == "scip"
    with pytest.raises(DesignError, match="scip takes no variant"):
        solvers.parse("scip:fast")


@pytest.mark.parametrize("field,value,valid", [
    ("time_limit", -3, "a finite number > 0"), ("time_limit", math.inf, "a finite number > 0"),
    ("gap", -1, "a number >= 0"), ("formulation", "nonsense", "natural, log"),
    ("workers", 0, "an integer >= 1"), ("seed", 1.5, "an integer"),
])
def test_solve_options_are_checked(field: str, value: object, valid: str) -> None:
    with pytest.raises(DesignError) as err:
        SolveOptions(**{field: value})
    assert err.value.field == field and err.value.valid == valid and repr(value) in str(err.value)


def test_design_errors_survive_pickling() -> None:
    import pickle

    from deepmad_pyomo.errors import InfeasibleError

    e = pickle.loads(pickle.dumps(DesignError("stem.out", "bad range", "multiples of 8")))
    assert (type(e), str(e), e.field, e.valid) == (DesignError, "stem.out: bad range (valid: multiples of 8)",
                                                     "stem.out", "multiples of 8")
    e = pickle.loads(pickle.dumps(InfeasibleError("budgets", "too tight", {"flops": 2.5e6})))
    assert isinstance(e, InfeasibleError) and e.smallest == {"flops": 2.5e6} and "flops >= 2.5e+06" in str(e)


def test_an_input_error_in_the_solver_process_is_raised_in_the_caller() -> None:
    """The stem range holds no multiple of the width step: the formulation, built in the route's process,
    raises; design() raises the same error (not a crash status, not a traceback)."""
    spec = small_problem().to_dict()
    spec["stem"]["out"] = [33, 39]
    with pytest.raises(DesignError, match=r"^stem\.out: range \[33, 39\] holds no multiple of 8$"):
        design(DesignProblem.from_dict(spec), "scip", SolveOptions(time_limit=10))


def test_supervise_streams_events_kills_at_the_limit_and_reports_crashes() -> None:
    import os
    import time

    from deepmad_pyomo.solve.supervise import Ending, supervise

    events = []

    def work(send):
        for i in range(3):
            send("progress", i)
        print("solver banner")  # the child's stdout is /dev/null
        return sum(range(10 ** 6))

    run = supervise(work, 10, lambda event, payload: events.append((event, payload)))
    assert (run.ending, run.value) == (Ending.RETURNED, sum(range(10 ** 6))) and run.cpu_s > 0
    assert events == [("progress", i) for i in range(3)]
    t = time.perf_counter()
    run = supervise(lambda send: time.sleep(60), 0.5)
    assert run.ending == Ending.KILLED and time.perf_counter() - t < 5
    run = supervise(lambda send: 1 / 0, 10)
    assert run.ending == Ending.RAISED and run.error_line() == "ZeroDivisionError: division by zero"
    run = supervise(lambda send: os._exit(3), 10)
    assert run.ending == Ending.DIED and run.error == "exit code 3"


def test_a_crashing_route_becomes_an_error_status(monkeypatch) -> None:
    from deepmad_pyomo.solve.route import ROUTES

    def crash(problem, opts, rep):
        rep.progress("about to fail")
        raise RuntimeError("solver library failed")

    monkeypatch.setitem(ROUTES, "evolution", dataclasses.replace(solvers.get("evolution"), run=crash))
    lines = []
    res = design(small_problem(), "evolution", SolveOptions(time_limit=10), progress=lines.append)
    assert res.status == Status.ERROR and res.architecture is None
    assert res.message.startswith("solver crashed: RuntimeError: solver library failed")
    assert "Traceback" in res.diagnostics["traceback"] and any("about to fail" in line for line in lines)


def test_design_result_json_round_trips_with_its_typed_fields() -> None:
    from deepmad_pyomo.solve.results import Certificate, Rejected

    res = solved("auto")
    summary = {"bound": 2.0, "root_relaxation_bound": 3.0, "rounds": 4, "boxes": 5, "inner_solves": 6,
               "exact_solves": 1, "leaves": {"closed": 2, "exact": 1}, "complete": True,
               "incumbent_source": "auto", "closed_by": ["scip (exact)"]}
    nodes = [{"id": "0", "status": "split"}]
    certified = DesignResult(problem="small", mode="paper", solver="certify", status=Status.OPTIMAL,
                             architecture=res.architecture, objective=res.objective, bound=2.0,
                             certificate=Certificate.from_summary(summary, nodes))
    assert certified.certificate == Certificate(**summary, nodes=nodes) and certified.diagnostics == {}
    for r in (res, certified):
        d = r.to_dict()
        assert DesignResult.from_dict(d).to_dict() == d
        assert d["details"] == dict(r.details)
    assert list(certified.to_dict()["details"]) == ["certificate", "box_tree"]
    assert certified.details["certificate"] == summary and certified.details["box_tree"] == nodes
    assert res.details["exact_solves"] == res.diagnostics["exact_solves"]
    trace = res.to_dict()["incumbents"]  # improving verified designs, timed from the call
    assert trace and trace[-1]["objective"] == res.objective
    assert [p.to_dict() for p in DesignResult.from_dict(res.to_dict()).incumbents] == trace
    assert all(a["objective"] < b["objective"] and a["time_s"] <= b["time_s"] for a, b in zip(trace, trace[1:]))
    rejected = DesignResult(problem="p", mode="paper", solver="s", status=Status.ERROR,
                            rejected=[Rejected("conv 3->8", ["flops over budget"])], smallest_budgets={})
    assert rejected.to_dict()["details"] == {"rejected": [{"architecture": "conv 3->8",
                                                           "violations": ["flops over budget"]}],
                                             "smallest_budgets": {}}
    assert DesignResult.from_dict(rejected.to_dict()) == rejected


def test_evolution_never_draws_a_bottleneck_wider_than_the_limit():
    """imagenet k1dwsek1-16g-224: six times the widest output is above MAX_WIDTH; the drawn btn stays within it."""
    from deepmad_pyomo.batch.suites import load_suite
    from deepmad_pyomo.space.limits import MAX_WIDTH

    p = {q.name: q for q in load_suite("imagenet")}["k1dwsek1-16g-224"]
    space = evolution.Space(p)
    for sp in p.specs:
        if hasattr(sp, "btn_ratio") and sp.btn_ratio:
            assert space.btn_range(sp, sp.out[1])[1] <= MAX_WIDTH.most
