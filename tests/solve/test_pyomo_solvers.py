"""The package's solvers through Pyomo's ``SolverFactory``: ``casadi_ipopt`` and ``casadi_bonmin`` on
textbook models that are not design problems, and ``deepmad_certify`` on a small design model."""
from __future__ import annotations

import math

import pyomo.environ as pyo
import pytest
from pyomo.opt import SolverStatus
from pyomo.opt import TerminationCondition as TC
from test_solvers import small_problem

import deepmad_pyomo  # noqa: F401 - registers the solvers
from deepmad_pyomo.mp.formulation import FormulationOptions, build_pyomo_model
from deepmad_pyomo.solve.design import design
from deepmad_pyomo.solve.options import SolveOptions
from deepmad_pyomo.solve.results import Status


def rosenbrock() -> pyo.ConcreteModel:
    m = pyo.ConcreteModel(name="rosenbrock")
    m.x = pyo.Var(initialize=-1.2)
    m.y = pyo.Var(initialize=1.0)
    m.o = pyo.Objective(expr=(1 - m.x) ** 2 + 100 * (m.y - m.x ** 2) ** 2)
    return m


def small_minlp() -> pyo.ConcreteModel:
    """min (x - 2.6)^2 + (n - x)^2 + b/2, x <= 2 + 5b, n integer in [0, 5], b binary: the optimum is
    0.36 at b = 0, n = 2, x = 2 (b = 1 gives at best 0.58; the continuous relaxation 0.0575)."""
    m = pyo.ConcreteModel(name="minlp")
    m.x = pyo.Var(bounds=(0, 10), initialize=0)
    m.n = pyo.Var(domain=pyo.Integers, bounds=(0, 5))
    m.b = pyo.Var(domain=pyo.Binary)
    m.c = pyo.Constraint(expr=m.x <= 2 + 5 * m.b)
    m.o = pyo.Objective(expr=(m.x - 2.6) ** 2 + (m.n - m.x) ** 2 + 0.5 * m.b)
    return m


def test_registered_on_import() -> None:
    for name in ("casadi_ipopt", "casadi_bonmin", "deepmad_certify"):
        assert name in pyo.SolverFactory
        assert pyo.SolverFactory(name).available()


def test_casadi_ipopt_solves_rosenbrock() -> None:
    m = rosenbrock()
    res = pyo.SolverFactory("casadi_ipopt").solve(m)
    assert res.solver.termination_condition == TC.locallyOptimal and res.solver.status == SolverStatus.ok
    assert pyo.check_optimal_termination(res)
    assert (pyo.value(m.x), pyo.value(m.y)) == pytest.approx((1.0, 1.0), abs=1e-6)
    # a local solver proves no lower bound; the point found bounds the optimum from above
    assert res.problem.lower_bound == -math.inf
    assert res.problem.upper_bound == pytest.approx(pyo.value(m.o)) and res.problem.upper_bound < 1e-12


def test_casadi_ipopt_maximises_with_constraints() -> None:
    m = pyo.ConcreteModel()
    m.x = pyo.Var(bounds=(0, 4), initialize=1)
    m.y = pyo.Var(bounds=(0, 4), initialize=1)
    m.c = pyo.Constraint(expr=m.x * m.y <= 2)
    m.o = pyo.Objective(expr=pyo.log(1 + m.x) + m.y, sense=pyo.maximize)
    res = pyo.SolverFactory("casadi_ipopt").solve(m)
    assert res.solver.termination_condition == TC.locallyOptimal
    assert pyo.value(m.x) * pyo.value(m.y) == pytest.approx(2, rel=1e-6)
    assert res.problem.lower_bound == pytest.approx(pyo.value(m.o)) and res.problem.upper_bound == math.inf


def test_options_reach_ipopt() -> None:
    m = rosenbrock()
    opt = pyo.SolverFactory("casadi_ipopt")
    opt.options["max_iter"] = 1
    res = opt.solve(m)
    assert res.solver.termination_condition == TC.maxIterations and res.solver.status == SolverStatus.aborted
    assert pyo.value(m.x) == -1.2  # no point the solver does not vouch for is loaded
    res = pyo.SolverFactory("casadi_ipopt").solve(m, options={"max_iter": 1})
    assert res.solver.termination_condition == TC.maxIterations
    with pytest.raises(ValueError, match="casadi_ipopt: No such IPOPT option: no_such_option"):
        pyo.SolverFactory("casadi_ipopt").solve(m, options={"no_such_option": 1})


def test_tee_shows_the_ipopt_log(capfd: pytest.CaptureFixture[str]) -> None:
    pyo.SolverFactory("casadi_ipopt").solve(rosenbrock())
    assert "Ipopt" not in capfd.readouterr().out
    pyo.SolverFactory("casadi_ipopt").solve(rosenbrock(), tee=True)
    out = capfd.readouterr().out
    assert "This is Ipopt version" in out and "iter    objective" in out and "EXIT: Optimal Solution Found" in out


def test_casadi_bonmin_solves_a_small_minlp(capfd: pytest.CaptureFixture[str]) -> None:
    pyo.SolverFactory("casadi_bonmin").solve(small_minlp())
    assert capfd.readouterr().out == ""  # quiet without tee (B-BB prints its NLP solves whatever the log levels)
    m = small_minlp()
    res = pyo.SolverFactory("casadi_bonmin").solve(m, tee=True)
    assert res.solver.termination_condition == TC.locallyOptimal
    assert (pyo.value(m.b), pyo.value(m.n), pyo.value(m.x)) == pytest.approx((0, 2, 2), abs=1e-6)
    assert pyo.value(m.o) == pytest.approx(0.36, abs=1e-6)
    assert res.problem.number_of_integer_variables == 2 and res.problem.lower_bound == -math.inf
    assert "Cbc0001I Search completed" in capfd.readouterr().out  # Bonmin's branch-and-bound log


def test_casadi_bonmin_options_and_limits() -> None:
    res = pyo.SolverFactory("casadi_bonmin").solve(small_minlp(), options={"node_limit": 0})
    assert res.solver.termination_condition == TC.maxIterations
    with pytest.raises(ValueError, match="casadi_bonmin: No such BONMIN option: no_such_option"):
        pyo.SolverFactory("casadi_bonmin").solve(small_minlp(), options={"no_such_option": 1})


def test_casadi_ipopt_relaxes_integers() -> None:
    m = small_minlp()
    res = pyo.SolverFactory("casadi_ipopt").solve(m)
    assert res.solver.termination_condition == TC.locallyOptimal
    assert pyo.value(m.o) == pytest.approx(0.0575, abs=1e-6)  # x = 2.55, b = 0.11: below the MINLP's 0.36


def test_what_cannot_be_translated_is_named() -> None:
    m = small_minlp()
    m.e = pyo.Expression(expr=pyo.Expr_if(m.x >= 1, m.x, 0))
    m.cond = pyo.Constraint(expr=m.e <= 3)
    with pytest.raises(ValueError, match=r"^cond: InequalityExpression .* cannot be translated"):
        pyo.SolverFactory("casadi_bonmin").solve(m)
    m = small_minlp()
    m.z = pyo.Var([1, 2], bounds=(0, 1))
    m.sos = pyo.SOSConstraint(var=m.z, sos=1)
    with pytest.raises(ValueError, match="sos: a SOSConstraint cannot be translated"):
        pyo.SolverFactory("casadi_ipopt").solve(m)
    m = small_minlp()
    m.o2 = pyo.Objective(expr=m.x)
    with pytest.raises(ValueError, match="2 active objectives"):
        pyo.SolverFactory("casadi_ipopt").solve(m)
    with pytest.raises(ValueError, match="unknown solve\\(\\) keyword 'bogus'"):
        pyo.SolverFactory("casadi_ipopt").solve(small_minlp(), bogus=1)


def test_deepmad_certify_on_a_design_model(capfd: pytest.CaptureFixture[str]) -> None:
    problem = small_problem()
    m = build_pyomo_model(problem)
    opt = pyo.SolverFactory("deepmad_certify")
    res = opt.solve(m, tee=True, options={"time_limit": 60})
    assert res.solver.termination_condition == TC.optimal and res.solver.status == SolverStatus.ok
    assert "exact solves settled" in capfd.readouterr().out
    ref = design(problem, "certify", SolveOptions(time_limit=60))
    assert ref.status == Status.OPTIMAL
    assert res.problem.lower_bound == pytest.approx(ref.objective) == pytest.approx(pyo.value(m.objective))
    assert res.problem.upper_bound == pytest.approx(ref.bound)
    assert res.problem.lower_bound <= res.problem.upper_bound <= res.problem.lower_bound * (1 + 1e-4)
    assert opt.result.certificate is not None and opt.result.certificate.complete


def test_deepmad_certify_refuses_other_models() -> None:
    opt = pyo.SolverFactory("deepmad_certify")
    with pytest.raises(ValueError, match="model 'rosenbrock' is not a design model"):
        opt.solve(rosenbrock())
    m = build_pyomo_model(small_problem())
    m.depth[1].fix(1)
    with pytest.raises(ValueError, match=r"was changed after it was built \(variable depth\[1\] differs\)"):
        opt.solve(m)
    with pytest.raises(ValueError, match="was built with relax"):
        opt.solve(build_pyomo_model(small_problem(), FormulationOptions(relax=True)))
    with pytest.raises(ValueError, match="unknown option 'max_iter'"):
        opt.solve(build_pyomo_model(small_problem()), options={"max_iter": 3})
