"""The certificate: the bound the finished (or stopped) tree proves, with the tree itself."""
from __future__ import annotations

import math

from ..solve.results import Certificate
from .tree import NodeRecord, NodeStatus, ancestors

_INNER = (NodeStatus.SPLIT, NodeStatus.RETRIED)  # nodes whose children stand for them
_LEAVES = (NodeStatus.INFEASIBLE, NodeStatus.CLOSED, NodeStatus.EXACT, NodeStatus.OPEN)


def certificate(inc_obj: float, tree: list[NodeRecord], rounds: int, source: str, complete: bool) -> Certificate:
    """The proven bound (the incumbent, and for every leaf what is known of its best) with the tree."""
    bound = inc_obj
    if any(b.pruned and b.cutoff is not None for b in tree):  # what tightening cut cannot reach the cutoff
        bound = max(bound, max(b.cutoff for b in tree if b.pruned and b.cutoff is not None))
    by_id = {r.id: r for r in tree}
    for b in tree:
        if b.status not in _INNER:
            known = _leaf_bound(b, by_id)
            bound = max(bound, known if known is not None else math.inf)
    root = next((b for b in tree if b.id == "r"), None)
    leaves = [b for b in tree if b.status not in _INNER]
    return Certificate(
        bound=bound, root_relaxation_bound=root.bound if root else None, rounds=rounds, boxes=len(tree),
        inner_solves=sum(1 for b in tree if b.termination), exact_solves=sum(1 for b in tree if b.exact),
        leaves={s.value: sum(1 for b in leaves if b.status == s) for s in _LEAVES}, complete=complete,
        incumbent_source=source,
        closed_by=sorted({b.solver for b in leaves if b.status != NodeStatus.OPEN}),
        nodes=[b.to_dict() for b in tree])


def _leaf_bound(b: NodeRecord, by_id: dict[str, NodeRecord]) -> float | None:
    """What is known of the best in a leaf (None: nothing)."""
    if b.status == NodeStatus.INFEASIBLE:
        return b.cutoff if b.cutoff is not None else -math.inf  # nothing in it reaches the cutoff
    if b.status == NodeStatus.EXACT:
        return max(b.bound if b.bound is not None else math.inf, b.objective or -math.inf)
    if b.status == NodeStatus.CLOSED:
        return b.bound
    return open_bound(b, by_id)


def open_bound(b: NodeRecord, by_id: dict[str, NodeRecord]) -> float:
    """An open node is bounded by its own last solve, else by its nearest solved ancestor."""
    if b.bound is not None:
        return b.bound
    return next((a.bound for a in ancestors(b, by_id) if a.bound is not None), math.inf)
