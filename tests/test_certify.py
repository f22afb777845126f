"""Certificates are valid bounds: checked against exhaustive enumeration of the whole space."""
import pytest
from spaces import optimum, tiny_problem

from deepmad_pyomo.certify import search as certify_module
from deepmad_pyomo.certify.search import certify, explain
from deepmad_pyomo.errors import DesignError
from deepmad_pyomo.solve.results import Status


@pytest.mark.parametrize("mode,family", [("tinynas", "k1kxk1"), ("paper", "k1kxk1"), ("tinynas", "k1dwsek1")])
def test_certified_optimum_matches_enumeration(mode, family):
    p = tiny_problem(mode, family)
    best, arch = optimum(p)
    r = certify(p, time_limit=90, gap=1e-4)
    assert r.status == Status.OPTIMAL
    assert r.bound >= best - 1e-9 * abs(best)          # the bound is valid
    assert r.objective >= best * (1 - 1e-4) - 1e-9       # and the design is within the gap
    assert p.check(r.architecture) == []
    tree = r.details["box_tree"]
    assert tree[0]["id"] == "r" and all(b["status"] != "open" for b in tree)
    assert "nodes in" in explain(r)


def test_parallel_boxes_give_the_same_answer():
    p = tiny_problem("tinynas", flops=4e6)
    one = certify(p, time_limit=90, workers=1)
    two = certify(p, time_limit=90, workers=2)
    assert one.status == two.status == Status.OPTIMAL
    assert one.objective == pytest.approx(two.objective, rel=1e-12)
    assert [b["id"] for b in one.details["box_tree"]] == [b["id"] for b in two.details["box_tree"]]


def test_incumbent_must_be_feasible():
    p = tiny_problem("tinynas")
    _, arch = optimum(tiny_problem("tinynas", flops=1e9))  # feasible only under a looser budget
    assert p.check(arch), "the test needs an architecture that breaks the tighter budget"
    with pytest.raises(DesignError, match="incumbent"):
        certify(p, incumbent=arch, time_limit=10)


_exact = certify_module.solve_exact


def _out_of_time_on_whole_depth_vectors(problem, rec, time_limit, formulation="natural"):
    """SCIP 'runs out of time' on every first exact solve of a depth vector (the whole space's scope)."""
    if not rec.scope:
        rec.status, rec.termination, rec.solver = "retried", "time_limit", "scip (exact)"
        return rec
    return _exact(problem, rec, time_limit, formulation)


def test_a_depth_vector_scip_cannot_finish_is_halved_and_still_proven(monkeypatch):
    p = tiny_problem("tinynas")
    best, _ = optimum(p)
    monkeypatch.setattr(certify_module, "solve_exact", _out_of_time_on_whole_depth_vectors)
    r = certify(p, time_limit=90, gap=1e-4)
    tree = r.details["box_tree"]
    assert any(b["status"] == "retried" for b in tree)
    assert any(b["scope"] for b in tree if b["solver"].startswith("scip")), "the halves were solved exactly"
    assert r.status == Status.OPTIMAL
    assert r.bound >= best - 1e-9 * abs(best)
    assert r.objective >= best * (1 - 1e-4) - 1e-9
