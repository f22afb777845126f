"""Certificates are valid bounds: checked against exhaustive enumeration of the whole space."""
import pytest
from spaces import optimum, tiny_problem

from deepmad_pyomo.certify import NodeStatus, certify, explain
from deepmad_pyomo.certify import search as search_module
from deepmad_pyomo.errors import DesignError
from deepmad_pyomo.solve.results import Status


@pytest.mark.parametrize("mode,family", [("tinynas", "k1kxk1"), ("paper", "k1kxk1"), ("tinynas", "k1dwsek1")])
def test_certified_optimum_matches_enumeration(mode, family):
    p = tiny_problem(mode, family)
    best, _ = optimum(p)
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


def test_a_given_incumbent_with_quick_design_starts_from_the_better():
    p = tiny_problem("paper", flops=6e6)
    _, poor = optimum(tiny_problem("paper", flops=3e6))  # meets the larger budget, far from its optimum
    heard = []
    r = certify(p, incumbent=poor, time_limit=60, quick_design=True, on_incumbent=lambda a, o, s: heard.append(s))
    assert heard[0] == "auto (quick designs)" and r.status == Status.OPTIMAL
    alone = []
    certify(p, incumbent=r.architecture, time_limit=60, quick_design=True, on_incumbent=lambda a, o, s: alone.append(s))
    assert alone[0] == "given"  # the optimum itself is not beaten by the quick designs


_exact = search_module.solve_exact  # the driver starts exact solves by this name


def _out_of_time_on_whole_depth_vectors(problem, rec, time_limit, node_limit=None):
    """SCIP 'runs out of nodes' on every first exact solve of a depth vector (not those of a halved one's halves)."""
    if rec.id.count(".x") == 1:
        rec.status, rec.termination, rec.solver = NodeStatus.RETRIED, "iteration_limit", "scip (exact)"
        return rec
    return _exact(problem, rec, time_limit, node_limit)


def test_a_depth_vector_scip_cannot_finish_is_halved_and_still_proven(monkeypatch):
    p = tiny_problem("tinynas")
    best, _ = optimum(p)
    monkeypatch.setattr(search_module, "solve_exact", _out_of_time_on_whole_depth_vectors)
    r = certify(p, time_limit=90, gap=1e-4)
    tree = r.details["box_tree"]
    assert any(b["status"] == "retried" for b in tree)
    halves = [b for b in tree if b["solver"].startswith("scip") and b["id"].count(".x") > 1]
    assert halves, "the halves were solved exactly"
    assert r.status == Status.OPTIMAL
    assert r.bound >= best - 1e-9 * abs(best)
    assert r.objective >= best * (1 - 1e-4) - 1e-9


def test_parent_links_follow_the_ids_and_open_nodes_take_the_nearest_bound():
    from deepmad_pyomo.certify.certificate import open_bound
    from deepmad_pyomo.certify.tree import NodeRecord, children

    root = NodeRecord("r", [(1, 3), (1, 2)], [(16, 40), (32, 48)], [(3, 5), (3,)], cutoff=1.0, bound=9.0)
    root.branch = ("depth", 0, 1)
    left, right = children(root, 8)
    assert [left.id, right.id] == ["r.0", "r.1"] and left.parent == right.parent == "r"
    left.bound, left.widths, left.tightened_at = 7.0, [(24, 40), (32, 40)], 1.0
    exact = left.exact_child(cutoff=2.0)
    assert exact.id == "r.0.x" and exact.parent == "r.0" and exact.widths == left.widths  # its node's box as tightened
    assert exact.tightened_at == 1.0 and exact.cutoff == 2.0
    exact.status, exact.bound = NodeStatus.RETRIED, 5.0
    again = exact.retry(cutoff=1.0)
    assert again.id == "r.0.x'" and again.parent == "r.0"  # a retry stands beside the node it retries
    by_id = {n.id: n for n in (root, left, right, exact)}
    assert open_bound(again, by_id) == 7.0  # its parent's bound, not the timed-out solve's
    assert open_bound(right, by_id) == 9.0
    assert again.to_dict()["status"] == "open" and "parent" not in again.to_dict()
    assert f"{NodeStatus.EXACT_PENDING}" == "exact-pending"


def test_log_formulation_keeps_the_proof_valid():
    """On the log formulation in tinynas mode SCIP 10 once called a design 0.13% below the optimum optimal:
    certify's exact solves stay on the natural formulation, and the scip route reports no bound there."""
    from deepmad_pyomo.solve.design import design
    from deepmad_pyomo.solve.options import SolveOptions

    p = tiny_problem("tinynas", "k1kxk1")
    best, _ = optimum(p)
    r = certify(p, time_limit=90, formulation="log")
    assert r.status == Status.OPTIMAL and r.bound >= best - 1e-9 * abs(best)
    s = design(p, "scip", SolveOptions(time_limit=60, formulation="log"))
    assert s.bound is None and s.status != Status.OPTIMAL


def test_without_quick_designs_an_evolved_incumbent_starts_the_proof(monkeypatch):
    """When the relaxation's favourite depth vectors hold no design, a seeded evolution gives the cutoff."""
    p = tiny_problem("paper")
    best, _ = optimum(p)
    monkeypatch.setattr(search_module, "_quick_design", lambda *args: None)
    r = certify(p, time_limit=90)
    assert r.status == Status.OPTIMAL and r.bound >= best - 1e-9 * abs(best)
    assert r.certificate.incumbent_source.startswith(("evolution", "node"))


def test_exact_solves_raise_the_cutoff_from_a_poor_incumbent():
    """From a poor given incumbent, the exact solves' quick designs and the waves started with the cutoff as it
    stands carry better cutoffs than the root's; the answer is still the enumerated optimum."""
    p = tiny_problem("paper", flops=6e6)
    best, _ = optimum(p)
    _, poor = optimum(tiny_problem("paper", flops=3e6))
    r = certify(p, incumbent=poor, time_limit=60)
    tree = r.details["box_tree"]
    exact = [b for b in tree if b["solver"].startswith("scip")]
    assert exact and max(b["cutoff"] for b in exact) > tree[0]["cutoff"]
    assert r.status == Status.OPTIMAL and r.objective >= best * (1 - 1e-4) - 1e-9
    assert r.bound >= best - 1e-9 * abs(best)



def test_an_exact_solve_keeps_its_tightened_widths_for_a_halving():
    """An exact solve records the width ranges its tightening left (what a halving then splits); the optimum
    of its depth vector lies inside them."""
    from deepmad_pyomo.certify.bounds import relaxation_of, solve_exact
    from deepmad_pyomo.certify.tree import NodeRecord

    p = tiny_problem("paper")
    best, arch = optimum(p)
    root = relaxation_of(p).root()
    depths = [(b.L, b.L) for b in arch.blocks if b.type != "conv"]
    rec = NodeRecord("r.x", depths, list(root.widths), list(root.kernels), cutoff=best * (1 - 1e-3), solver="scip")
    solve_exact(p, rec, time_limit=30)
    assert rec.pruned and rec.widths != list(root.widths)
    assert all(a <= lo <= hi <= b for (lo, hi), (a, b) in zip(rec.widths, root.widths))
    assert all(lo <= blk.c_out <= hi for (lo, hi), blk in zip(rec.widths, arch.blocks))
    assert rec.status == NodeStatus.EXACT and rec.objective >= best - 1e-9 * abs(best)



def test_an_exact_solve_takes_its_node_box_and_tightens_again_only_for_a_higher_cutoff():
    """A node of one depth vector passes its tightened box, relaxed point and the cutoff it was tightened for
    to its exact solve: the box is kept as it is for that cutoff, narrowed again for a higher one, and SCIP
    settles the node either way with the enumerated optimum inside the box."""
    from deepmad_pyomo.certify.bounds import _tightened, bound_nodes, relaxation_of, solve_exact
    from deepmad_pyomo.certify.tree import NodeRecord

    p = tiny_problem("paper")
    best, arch = optimum(p)
    root = relaxation_of(p).root()
    depths = [(b.L, b.L) for b in arch.blocks if b.type != "conv"]
    node = NodeRecord("r", depths, list(root.widths), list(root.kernels), cutoff=best * (1 - 2e-2))
    bound_nodes(p, [node], 30)
    assert node.tightened_at == node.cutoff and node.start is not None
    job = node.exact_child(node.cutoff)
    assert job.widths == node.widths and job.tightened_at == node.cutoff
    kept, _ = _tightened(relaxation_of(p), job)
    assert kept is not None and list(kept.widths) == node.widths  # already tightened for this cutoff
    job.cutoff = best * (1 - 1e-4)
    again, _ = _tightened(relaxation_of(p), job)
    assert again is not None and list(again.widths) != node.widths  # a higher cutoff narrows it further
    assert all(lo <= blk.c_out <= hi for (lo, hi), blk in zip(again.widths, arch.blocks))
    solve_exact(p, job, time_limit=30)
    assert job.status == NodeStatus.EXACT and job.objective >= best - 1e-9 * abs(best)
    assert job.tightened_at == job.cutoff


def test_dives_find_valid_designs_near_the_root_point():
    """The dives after the root: quick designs at the best roundings of its relaxed depths, each a valid design
    better than a poor cutoff, at a single depth vector inside the root's ranges."""
    from deepmad_pyomo.certify.bounds import best_roundings, bound_nodes, cutoff_of, dive, relaxation_of
    from deepmad_pyomo.certify.tree import NodeRecord
    from deepmad_pyomo.space.arch import Architecture
    from deepmad_pyomo.space.metrics import evaluate

    p = tiny_problem("paper", "k1dwk1", flops=6e6)
    best, _ = optimum(p)
    poor, _ = optimum(tiny_problem("paper", "k1dwk1", flops=3e6))
    root = relaxation_of(p).root()
    rec = NodeRecord("r", list(root.depths), list(root.widths), list(root.kernels), cutoff=cutoff_of(poor, 1e-4))
    bound_nodes(p, [rec], 30)
    found = [dive(p, rec, n, fixed, relaxed, 30, 1e-4) for n, (fixed, relaxed) in enumerate(best_roundings(p, rec, 2))]
    assert 1 <= len(found) <= 2
    designed = [d for d in found if d.architecture]
    assert designed, "no dive found a design"
    for d in found:
        assert all(lo == hi and a <= lo <= b for (lo, hi), (a, b) in zip(d.depths, root.depths))
    for d in designed:
        arch = Architecture.from_dict(d.architecture)
        assert not p.check(arch)
        assert poor < evaluate(arch, p.objective).objective == d.objective <= best + 1e-9 * abs(best)


def test_quick_designs_in_batches_do_not_depend_on_who_runs_them():
    """The first incumbent's neighbourhood solves run as tasks in batches of a fixed size: two worker processes
    and this process in turn try the same neighbourhoods with the same cutoffs and find the same designs."""
    from deepmad_pyomo.certify.executor import Executor
    from deepmad_pyomo.solve.options import SolveOptions
    from deepmad_pyomo.solve.route import Reporter
    from deepmad_pyomo.solve.routes.auto import DepthDecomposition, in_turn

    p = tiny_problem("tinynas", flops=4e6)
    runs = []
    for tasks in (in_turn, None):
        executor = Executor(2) if tasks is None else None
        try:
            run = DepthDecomposition(p, SolveOptions(time_limit=60), Reporter(), search=True, polish=False,
                                     batch=2, tasks=tasks or executor.tasks)
            found = run.run()
        finally:
            if executor is not None:
                executor.close()
        runs.append(([(s["depths"], s["kernels"], s["radius"], s["objective"]) for s in run.tried],
                     [a.to_dict() for a in found.architectures]))
    assert runs[0][0], "the problem must need quick designs"
    assert runs[0] == runs[1]
