"""What a worker does with a node: bound it by its convex relaxation (Clarabel), or solve it exactly (SCIP).

Both take records and return them filled in (a worker's copies, under a process pool or Dask).
"""
from __future__ import annotations

import functools
import itertools
import math
import time
from typing import Any

from ..mp.formulation import FormulationOptions, build_pyomo_model, decode
from ..mp.relaxation import Node, Relaxation, RelaxedBound
from ..space.arch import Architecture
from ..space.metrics import evaluate
from ..space.problem import DesignProblem
from .tree import NodeRecord, NodeStatus, Range, branch

QUICK_RADIUS = 0.05  # a quick design keeps every width within this much (relative) of the relaxation's point
QUICK_NODES = 1000   # SCIP nodes for a quick design (a work limit)
QUICK_SAFETY_S = 10.0  # its wall-clock safety net
# an exact solve mostly proves that nothing at its depth vector reaches the cutoff: SCIP's primal heuristics off
# (it still finds designs by branching) and its fast separation: deepmad-r34 tinynas's exact solves 2x faster
EXACT_SCIP = {"heuristics": "off", "separating": "fast"}
DIVE_AMBIGUOUS = 3  # super-blocks rounded both ways for the dives (the furthest from an integer)
_RELAXATIONS: dict[DesignProblem, Relaxation] = {}


def relaxation_of(problem: DesignProblem) -> Relaxation:
    """The compiled relaxation of ``problem``, one per process."""
    if problem not in _RELAXATIONS:
        _RELAXATIONS[problem] = Relaxation(problem)
    return _RELAXATIONS[problem]


def bound_nodes(problem: DesignProblem, recs: list[NodeRecord], deadline_s: float) -> list[NodeRecord]:
    """Bound relaxation nodes: Clarabel on each node's convex relaxation; a node it does not close has its
    ranges narrowed to what can reach the cutoff (:meth:`Relaxation.tighten`) and is bounded again, then
    gets the split to make (or, at a single depth vector, ``branch`` None: solve it exactly). Nodes left
    when ``deadline_s`` has passed come back untouched."""
    stop = time.perf_counter() + deadline_s
    for rec in recs:
        if time.perf_counter() > stop:
            break
        _bound_node(problem, rec)
    return recs


def _bound_node(problem: DesignProblem, rec: NodeRecord) -> None:
    relax = relaxation_of(problem)
    t = time.perf_counter()
    node = rec.node
    ans = relax.solve(node)
    if ans.bound is not None and rec.cutoff is not None and ans.bound > rec.cutoff:
        tight = relax.tighten(node, rec.cutoff)
        rec.pruned, rec.tightened_at = tight != node, rec.cutoff
        if tight is None:
            ans = RelaxedBound("infeasible", None, [], [], {})
        elif rec.pruned:
            node = tight
            rec.depths, rec.widths = [tuple(d) for d in node.depths], [tuple(w) for w in node.widths]
            rec.sums = [tuple(r) for r in node.sums]
            ans = relax.solve(node)
    rec.solver, rec.termination = "clarabel (convex relaxation)", ans.status
    rec.start = ans.x
    if ans.status == "infeasible":
        rec.status = NodeStatus.INFEASIBLE
    elif ans.bound is not None and rec.cutoff is not None and ans.bound <= rec.cutoff:
        rec.status, rec.bound = NodeStatus.CLOSED, ans.bound
    else:
        rec.bound = ans.bound
        rec.branch = branch(problem, node, ans)
        rec.status = NodeStatus.SPLIT if rec.branch else NodeStatus.EXACT_PENDING
    rec.wall_s = time.perf_counter() - t


def dive(problem: DesignProblem, root: NodeRecord, n: int, fixed: Node, relaxed: RelaxedBound, time_limit: float,
         gap: float) -> NodeRecord:
    """The ``n``-th dive: a quick design (:func:`_quick_design`) at ``fixed``, one of the root's best roundings
    (:func:`best_roundings`), whose relaxation is ``relaxed``: a design for the incumbent, no proof (the record
    never joins the tree)."""
    t = time.perf_counter()
    rec = NodeRecord(f"r.dive{n}", list(fixed.depths), list(root.widths), list(root.kernels), list(root.sums),
                     cutoff=root.cutoff, parent=root.id, solver="scip (dive)")
    _quick_design(problem, rec, fixed, relaxed, time_limit, gap)
    rec.termination, rec.wall_s = "dive", time.perf_counter() - t
    return rec


def best_roundings(problem: DesignProblem, root: NodeRecord, count: int) -> list[tuple[Node, RelaxedBound]]:
    """The root's node at single depth vectors, the ``count`` of the highest relaxation bounds above its cutoff,
    with their relaxations. The vectors: its relaxed depths rounded down or up where ``DIVE_AMBIGUOUS``
    super-blocks are furthest from an integer, to the nearest elsewhere (within its ranges)."""
    if root.start is None or root.cutoff is None:
        return []
    relax = relaxation_of(problem)
    real = [root.start[relax.program.index[f"m{j}"]] + 1 for j in relax.template.super_blocks]
    ambiguous = sorted(range(len(real)), key=lambda i: (abs(real[i] % 1 - 0.5), i))[:DIVE_AMBIGUOUS]
    choices = [sorted({min(max(f(d), lo), hi) for f in ((math.floor, math.ceil) if i in ambiguous else (round,))})
               for i, (d, (lo, hi)) in enumerate(zip(real, root.depths))]
    node = root.node
    scored = []
    for depths in itertools.product(*choices):
        fixed = Node(tuple((d, d) for d in depths), node.widths, node.kernels, node.sums)
        relaxed = relax.solve(fixed)
        if relaxed.bound is not None and relaxed.bound > root.cutoff:
            scored.append((-relaxed.bound, depths, fixed, relaxed))
    return [(fixed, relaxed) for *_, fixed, relaxed in sorted(scored, key=lambda t: t[:2])[:count]]


def cutoff_of(objective: float, gap: float) -> float | None:
    """What a design of ``objective`` lets the tree prune below: the objective plus the gap, rounded down so
    that the relative gap never exceeds ``gap``. None without a design."""
    if not math.isfinite(objective):
        return None
    cutoff = objective + gap * abs(objective)
    while cutoff > objective and (cutoff - objective) / max(abs(objective), 1e-9) > gap:
        cutoff = math.nextafter(cutoff, -math.inf)
    return cutoff


def solve_exact(problem: DesignProblem, rec: NodeRecord, time_limit: float, node_limit: int | None = None
                ) -> NodeRecord:
    """SCIP on the exact problem in a node of one depth vector (integer widths and kernel choices within
    the node's, width ranges tightened by the relaxation to what can reach the cutoff unless they already
    were for it, bottleneck ranges too), with the cutoff, for at most ``node_limit`` SCIP nodes
    (``time_limit``: a safety net). Always on the natural formulation: on the log formulation in tinynas
    mode SCIP 10's presolve has cut an optimum off."""
    from ..solve.backends import scip

    t = time.perf_counter()
    widths, btns = rec.widths, {}
    if rec.cutoff is not None:  # what can still reach the cutoff: a few times faster SCIP
        relax = relaxation_of(problem)
        tight, btns = _tightened(relax, rec)
        if tight is None or btns is None:
            rec.status, rec.termination, rec.solver = NodeStatus.INFEASIBLE, "infeasible", \
                "scip (exact, after tightening)"
            rec.wall_s = time.perf_counter() - t
            return rec
        widths, rec.pruned, rec.tightened_at = list(tight.widths), True, rec.cutoff
        rec.widths, rec.sums = widths, list(tight.sums)  # what a halving splits when SCIP reaches its node limit
    m = build_pyomo_model(problem, FormulationOptions(formulation="natural", cutoff=rec.cutoff,
                                                      depths=[lo for lo, _ in rec.depths]))
    _restrict(m, rec, widths, btns, problem.width_step)
    ans = scip.solve_model(m, time_limit, gap=1e-6, node_limit=node_limit, options=_exact_options())
    rec.termination, rec.solver, rec.scip_nodes = ans.termination, "scip (exact)", ans.nodes
    if ans.termination == "infeasible":
        rec.status = NodeStatus.INFEASIBLE
    else:
        rec.bound = ans.bound
        if ans.has_solution:
            _keep(problem, rec, decode(m))
        # settled when SCIP finished, or when its bound at the node limit is already below the cutoff
        below = rec.cutoff is not None and ans.bound is not None and ans.bound <= rec.cutoff
        settled = ans.bound is not None and (ans.termination == "optimal" or below)
        rec.status = NodeStatus.EXACT if settled else NodeStatus.RETRIED
    rec.wall_s = time.perf_counter() - t
    return rec


@functools.cache
def _exact_options() -> dict[str, Any]:
    """SCIP's parameters for an exact solve (``EXACT_SCIP`` expanded, once per process)."""
    from ..solve.backends import scip

    return scip.parameters(EXACT_SCIP)


def _tightened(relax: Relaxation, rec: NodeRecord) -> tuple[Node | None, dict[int, tuple[float, float]] | None]:
    """The record's node and its bottleneck ranges narrowed to what can reach its cutoff (None: nothing); its
    ranges as they are where they were already tightened for that cutoff."""
    assert rec.cutoff is not None
    fresh = rec.tightened_at is not None and rec.cutoff <= rec.tightened_at
    tight = rec.node if fresh else relax.tighten(rec.node, rec.cutoff)
    return tight, relax.bottlenecks(tight, rec.cutoff) if tight is not None else None


def _quick_design(problem: DesignProblem, rec: NodeRecord, node: Node, relaxed: RelaxedBound, time_limit: float,
                  gap: float) -> bool:
    """SCIP for at most ``QUICK_NODES`` nodes with every width and bottleneck within ``QUICK_RADIUS`` of the
    relaxation's point and objective above the cutoff: a design it finds (re-checked by the metrics) is
    kept, and the record's cutoff rises to it plus ``gap``. True when it did."""
    from ..solve.backends import scip

    if relaxed.x is None or rec.cutoff is None:
        return False
    relax = relaxation_of(problem)
    m = build_pyomo_model(problem, FormulationOptions(formulation="natural", cutoff=rec.cutoff,
                                                      depths=[lo for lo, _ in rec.depths]))
    near = [(w * (1 - QUICK_RADIUS), w * (1 + QUICK_RADIUS)) for w in relaxed.widths]
    widths = [(max(a, math.floor(lo)), min(b, math.ceil(hi))) for (a, b), (lo, hi) in zip(node.widths, near)]
    btns = {j: (y * (1 - QUICK_RADIUS), y * (1 + QUICK_RADIUS))
            for j in relax.template.super_blocks for y in [math.exp(relaxed.x[relax.program.index[f"y{j}"]])]}
    _restrict(m, rec, widths, btns, problem.width_step)
    if any(v.lb is not None and v.ub is not None and v.lb > v.ub for v in m.width_units.values()):
        return False
    ans = scip.solve_model(m, min(time_limit, QUICK_SAFETY_S), gap=1e-4, node_limit=QUICK_NODES)
    if not (ans.has_solution and _keep(problem, rec, decode(m))):
        return False
    rec.cutoff = max(rec.cutoff, cutoff_of(rec.objective, gap) or rec.cutoff)
    return True


def _keep(problem: DesignProblem, rec: NodeRecord, arch: Architecture) -> bool:
    """Keep ``arch`` as the record's design when it meets every constraint and beats the one it holds."""
    if problem.check(arch):
        return False
    objective = evaluate(arch, problem.objective).objective
    if rec.objective is not None and objective <= rec.objective:
        return False
    rec.architecture, rec.objective = arch.to_dict(), objective
    return True


def _restrict(m: Any, rec: NodeRecord, widths: list[Range], btns: dict[int, Range], step: int) -> None:
    """Limit the model to the node's part of the space (width and bottleneck ranges tightened)."""
    for j, (lo, hi) in enumerate(widths):
        units = m.width_units[j]
        units.setlb(max(units.lb, math.ceil(lo / step)))
        units.setub(min(units.ub, hi // step))
    for j, (lo, hi) in btns.items():
        units = m.btn_units[j]
        units.setlb(max(units.lb, math.ceil(lo / step)))
        units.setub(max(units.lb, min(units.ub, math.floor(hi / step))))
    for (j, k), choice in m.kernel.items():
        if k not in rec.kernels[j]:
            choice.fix(0)
