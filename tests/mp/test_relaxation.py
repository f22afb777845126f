"""The convex node relaxation bounds every architecture in its node: checked against enumeration."""
import math
import random

import numpy as np
import pytest
from clarabel import DefaultSolver
from spaces import architectures, tiny_problem

from deepmad_pyomo.mp.expsum import ExpSum
from deepmad_pyomo.mp.relaxation import ATTEMPTS, Node, Relaxation, _no_quadratic, _settings
from deepmad_pyomo.space.metrics import evaluate, network_terms

CASES = [("tinynas", "k1kxk1"), ("paper", "k1kxk1"), ("tinynas", "k1dwsek1"), ("paper", "k1dwsek1"),
         ("paper", "k1dwk1")]


def _inside(arch, node: Node) -> bool:
    stages = network_terms(arch.blocks, arch.resolution, arch.num_classes).stages
    if node.sums and not all(lo <= st.log_width_sum <= hi for st, (lo, hi) in zip(stages, node.sums)):
        return False
    for j, b in enumerate(arch.blocks):
        lo, hi = node.widths[j]
        if not lo <= b.c_out <= hi or b.k not in node.kernels[j]:
            return False
    return all(lo <= b.L <= hi for b, (lo, hi) in zip(arch.super_blocks, node.depths))


def _random_node(root: Node, rng: random.Random, step: int) -> Node:
    node = root
    for _ in range(rng.randint(1, 6)):
        kind = rng.choice(["depths", "widths", "kernels"])
        i = rng.randrange(len(getattr(node, kind)))
        part = getattr(node, kind)[i]
        if kind == "kernels":
            if len(part) > 1:
                node = node.replace(kind, i, (rng.choice(part),))
            continue
        lo, hi = part
        unit = step if kind == "widths" else 1
        if hi > lo:
            cut = lo + unit * rng.randrange((hi - lo) // unit)
            node = node.replace(kind, i, (lo, cut) if rng.random() < 0.5 else (cut + unit, hi))
    return node


@pytest.mark.parametrize("mode,family", CASES)
def test_relaxation_bounds_every_architecture_of_its_node(mode, family):
    p = tiny_problem(mode, family)
    feasible = [(a, evaluate(a, p.objective, p.resolution).objective) for a in architectures(p) if not p.check(a)]
    assert feasible, "the test needs a feasible space"
    relax = Relaxation(p)
    root = relax.root()
    rng = random.Random(0)
    checked = 0
    for node in [root] + [_random_node(root, rng, p.width_step) for _ in range(40)]:
        inside = [obj for a, obj in feasible if _inside(a, node)]
        ans = relax.solve(node)
        if ans.status == "infeasible":
            assert not inside, f"{node} holds a feasible design but its relaxation says infeasible"
            continue
        assert ans.status == "bounded", ans.status
        if inside:
            best = max(inside)
            assert ans.bound >= best - 1e-7 * abs(best), (node, ans.bound, best)
            checked += 1
    assert checked >= 10


def test_relaxation_is_tight_at_a_single_design():
    """With depths, kernels and widths fixed the relaxation leaves only the bottlenecks real: its bound
    is within a few percent of the best enumerated design of that node (and above it)."""
    p = tiny_problem("tinynas", "k1kxk1")
    feasible = [(a, evaluate(a, p.objective, p.resolution).objective) for a in architectures(p) if not p.check(a)]
    arch, obj = max(feasible, key=lambda t: t[1])
    node = Node(tuple((b.L, b.L) for b in arch.super_blocks), tuple((b.c_out, b.c_out) for b in arch.blocks),
                tuple((b.k,) for b in arch.blocks))
    ans = Relaxation(p).solve(node)
    best = max(o for a, o in feasible if _inside(a, node))
    assert best <= ans.bound <= best * 1.03


@pytest.mark.parametrize("mode,family", [("tinynas", "k1kxk1"), ("paper", "k1dwsek1")])
def test_tightening_keeps_every_design_that_reaches_the_cutoff(mode, family):
    p = tiny_problem(mode, family)
    feasible = [(a, evaluate(a, p.objective, p.resolution).objective) for a in architectures(p) if not p.check(a)]
    relax = Relaxation(p)
    root = relax.root()
    narrowed = sums = 0
    for depths in sorted({tuple(b.L for b in a.super_blocks) for a, _ in feasible}):
        node = Node(tuple((d, d) for d in depths), root.widths, root.kernels)
        inside = sorted(obj for a, obj in feasible if _inside(a, node))
        cutoff = inside[len(inside) * 9 // 10]  # a tenth of the designs of this depth vector reach it
        tight = relax.tighten(node, cutoff)
        assert tight is not None
        for a, obj in feasible:
            if obj >= cutoff and _inside(a, node):
                assert _inside(a, tight), (a.describe(), tight)
        narrowed += tight.widths != node.widths
        sums += any(math.isfinite(lo) for lo, _ in tight.sums)
        btns = relax.bottlenecks(tight, cutoff)
        for a, obj in feasible:
            if obj >= cutoff and _inside(a, node):
                for j, b in enumerate(a.blocks):
                    if j in btns:
                        assert btns[j][0] <= b.btn <= btns[j][1], (a.describe(), btns)
        assert relax.tighten(node, relax.solve(node).bound * (1 + 1e-3) + 1) is None  # above the bound: empty
    assert narrowed, "tightening should narrow some width range"
    assert sums, "tightening should bound some stage's log-width sum"


@pytest.mark.parametrize("mode,family", [("tinynas", "k1kxk1"), ("paper", "k1dwsek1")])
def test_a_wrong_dual_only_loosens_the_bound(mode, family):
    """The bound is weak duality checked here, not the solver's word: with the dual answer perturbed (scaled,
    noised, even with signs flipped) the bound stays at or above the relaxation's optimum, and with the
    solver's own dual it is within a hair of it."""
    p = tiny_problem(mode, family)
    relax = Relaxation(p)
    node = relax.root()
    conic = relax._conic(node)
    status, least, x = conic.least(relax.program.q)
    assert status == "bounded"
    optimum = float(relax.program.q @ x)  # the solver's point: minus the relaxation's optimum
    assert least <= optimum + 1e-6 * abs(optimum) and least >= optimum - 1e-4 * abs(optimum)
    sol = DefaultSolver(_no_quadratic(relax.program.n), relax.program.q, conic.A, conic.b, conic.cones,
                        _settings(*ATTEMPTS[0])).solve()
    y = np.asarray(sol.z)
    rng = np.random.default_rng(0)
    for wrong in (0.9 * y, 1.1 * y, y + rng.normal(0, 1e-3, y.shape), -y, y * rng.uniform(0, 2, y.shape)):
        assert conic._weak(wrong, relax.program.q) <= optimum + 1e-6 * abs(optimum)


def test_cost_terms_multiply_and_add_as_numbers_do():
    """An ExpSum of logs evaluates to the number the same sums and products of sizes give."""
    a, b = ExpSum.exp(math.log(3.0)), ExpSum.exp(math.log(5.0))
    cost = 2 * a * b + 7 * b + 0 + 4 + a * 0
    assert cost.value(math.exp) == pytest.approx(2 * 3 * 5 + 7 * 5 + 4)
    assert a.log() == pytest.approx(math.log(3.0))
    assert len(cost.terms) == 3
