"""What a worker does with a node: bound it by its convex relaxation (Ipopt), or solve it exactly (SCIP).

Both take records and return them filled in (a worker's copies, under a process pool or Dask).
"""
from __future__ import annotations

import math
import time
from typing import Any

from ..mp.formulation import FormulationOptions, build_pyomo_model, decode
from ..mp.relaxation import Relaxation, RelaxedBound
from ..space.metrics import evaluate
from ..space.problem import DesignProblem
from .tree import NodeRecord, NodeStatus, Range, branch

_RELAXATIONS: dict[DesignProblem, Relaxation] = {}


def relaxation_of(problem: DesignProblem) -> Relaxation:
    """The compiled relaxation of ``problem``, one per process."""
    if problem not in _RELAXATIONS:
        _RELAXATIONS[problem] = Relaxation(problem)
    return _RELAXATIONS[problem]


def bound_nodes(problem: DesignProblem, recs: list[NodeRecord], deadline_s: float) -> list[NodeRecord]:
    """Bound relaxation nodes: Ipopt on each node's convex relaxation; a node it does not close has its
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
    ans = relax.solve(node, rec.start)
    if ans.bound is not None and rec.cutoff is not None and ans.bound > rec.cutoff:
        tight = relax.tighten(node, rec.cutoff, ans.x)
        rec.pruned = tight != node
        if tight is None:
            ans = RelaxedBound("infeasible", None, [], [], {})
        elif rec.pruned:
            node = tight
            rec.depths, rec.widths = [tuple(d) for d in node.depths], [tuple(w) for w in node.widths]
            ans = relax.solve(node, ans.x)
    rec.solver, rec.termination = "ipopt (convex relaxation)", ans.status
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


def solve_exact(problem: DesignProblem, rec: NodeRecord, time_limit: float, node_limit: int | None = None
                ) -> NodeRecord:
    """SCIP on the exact problem in a node of one depth vector (integer widths and kernel choices within
    the node's, width ranges first tightened by the relaxation to what can reach the cutoff), with the
    cutoff, for at most ``node_limit`` SCIP nodes (``time_limit``: a safety net). Always on the natural
    formulation: on the log formulation in tinynas mode SCIP 10's presolve has cut an optimum off."""
    from ..solve.backends import scip

    t = time.perf_counter()
    if rec.cutoff is not None:  # what can still reach the cutoff: a few times faster SCIP
        relax = relaxation_of(problem)
        tight = relax.tighten(rec.node, rec.cutoff)
        btns = relax.bottlenecks(tight, rec.cutoff) if tight is not None else None
        if tight is None or btns is None:
            rec.status, rec.termination, rec.solver = NodeStatus.INFEASIBLE, "infeasible", \
                "scip (exact, after tightening)"
            rec.wall_s = time.perf_counter() - t
            return rec
        widths, rec.pruned = list(tight.widths), True
    else:
        widths, btns = rec.widths, {}
    m = build_pyomo_model(problem, FormulationOptions(formulation="natural", cutoff=rec.cutoff,
                                                      depths=[lo for lo, _ in rec.depths]))
    _restrict(m, rec, widths, btns, problem.width_step)
    ans = scip.solve_model(m, time_limit, gap=1e-6, node_limit=node_limit)
    rec.termination, rec.solver, rec.scip_nodes = ans.termination, "scip (exact)", ans.nodes
    if ans.termination == "infeasible":
        rec.status = NodeStatus.INFEASIBLE
    else:
        rec.bound = ans.bound
        if ans.has_solution:
            arch = decode(m)
            rec.architecture = arch.to_dict()
            rec.objective = evaluate(arch, problem.objective).objective
        rec.status = NodeStatus.EXACT if ans.termination == "optimal" and ans.bound is not None \
            else NodeStatus.RETRIED
    rec.wall_s = time.perf_counter() - t
    return rec


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
