"""The branch-and-bound tree: its node records, their statuses, and how a node is split.

A node's id shows where it sits (kept in the JSON output): ``r`` the root, ``<parent>.<n>`` the n-th child
of a split, ``<parent>.x`` the exact solve of a node of one depth vector, ``<node>'`` a retry of an exact
solve (a sibling of the node it retries). The search and the certificate read the shape from ``parent``, not
from the ids.
"""
from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field
from typing import Any

from ..enums import StrEnum
from ..mp.relaxation import Node
from ..space.problem import DesignProblem

Range = tuple[int, int]
Branch = tuple[str, int, int]  # what to split: (kind, index, cut), kind "depth", "width" or "kernel"
# depth candidates' scores are weighted by this: a width or kernel split comes first unless a depth accounts for
# four times more of the bound (deepmad-r18/r34/r50 tinynas: 89/164/72 nodes, 18/35/17 exact solves with depths
# weighted 3x; 74/127/66 nodes, 9/20/7 exact solves with 0.25; 0.2-0.3 alike, 0.1 and 0.4 worse)
DEPTH_WEIGHT = 0.25


class NodeStatus(StrEnum):
    """Where a node stands; members are their strings (they compare, hash, format and serialise as them)."""

    OPEN = "open"                    # not settled at the time limit
    CLOSED = "closed"                # its relaxation's bound <= the cutoff
    INFEASIBLE = "infeasible"        # nothing in it reaches the cutoff
    SPLIT = "split"                  # its children cover it
    EXACT = "exact"                  # solved to optimality by SCIP
    EXACT_PENDING = "exact-pending"  # one depth vector its relaxation cannot close: for SCIP
    RETRIED = "retried"              # SCIP reached its node (or time) limit: split (or solved again)


@dataclass
class NodeRecord:
    """One node of the tree: its part of the space, and what its solve found."""

    id: str
    depths: list[Range]
    widths: list[Range] = field(default_factory=list)
    kernels: list[tuple[int, ...]] = field(default_factory=list)
    sums: list[tuple[float, float]] = field(default_factory=list)  # stage log-width sums' ranges (tightening)
    cutoff: float | None = None
    status: NodeStatus = NodeStatus.OPEN
    bound: float | None = None      # the relaxation's bound (exact nodes: SCIP's bound)
    objective: float | None = None  # exact nodes: the optimum at the depth vector
    termination: str = ""
    scip_nodes: int | None = None   # exact nodes: SCIP's branch-and-bound nodes
    wall_s: float = 0.0
    solver: str = ""
    branch: Branch | None = None  # what to split when not closed
    pruned: bool = False  # bound tightening cut parts of it that cannot reach the cutoff
    architecture: dict[str, Any] | None = None
    start: list[float] | None = field(default=None, repr=False)  # its relaxed point (the root's places the dives)
    parent: str | None = field(default=None, repr=False)  # the id of the node it was made from
    tightened_at: float | None = field(default=None, repr=False)  # the cutoff its ranges were tightened for

    @property
    def size(self) -> int:
        """The number of depth vectors in it."""
        return math.prod(hi - lo + 1 for lo, hi in self.depths)

    @property
    def node(self) -> Node:
        """Its part of the space, as the relaxation takes it."""
        return Node(tuple(map(tuple, self.depths)), tuple(map(tuple, self.widths)),  # type: ignore[arg-type]
                    tuple(map(tuple, self.kernels)), tuple(map(tuple, self.sums)))  # type: ignore[arg-type]

    @property
    def exact(self) -> bool:
        return self.solver.startswith("scip")

    def exact_child(self, cutoff: float | None) -> NodeRecord:
        """The exact solve of its box (one depth vector), as its bound tightened it."""
        return NodeRecord(self.id + ".x", list(self.depths), list(self.widths), list(self.kernels), list(self.sums),
                          cutoff=cutoff, solver="scip", parent=self.id, tightened_at=self.tightened_at)

    def retry(self, cutoff: float | None) -> NodeRecord:
        """The same exact solve again (a node SCIP ran out of time on that cannot be split)."""
        return NodeRecord(self.id + "'", list(self.depths), list(self.widths), list(self.kernels), list(self.sums),
                          cutoff=cutoff, solver="scip", parent=self.parent, tightened_at=self.tightened_at)

    def to_dict(self) -> dict[str, Any]:
        """Its JSON form (``details.box_tree``)."""
        d = asdict(self)
        for key in ("architecture", "start", "parent", "sums", "tightened_at"):
            d.pop(key)
        d["status"] = NodeStatus(self.status).value
        d["size"] = self.size
        return d


def branch(problem: DesignProblem, node: Node, ans: Any) -> Branch | None:
    """The split of a node its relaxation cannot close: the candidate that accounts for most of the bound,
    depths weighted by ``DEPTH_WEIGHT`` (a node of a single depth vector, which SCIP settles, goes to
    SCIP: ``None``). Without a relaxed point, the widest depth range is bisected."""
    if node.depth_vectors == 1:
        return None
    scores = {k: v * (DEPTH_WEIGHT if k[0] == "depth" else 1.0) for k, v in ans.scores.items() if v > 0}
    if not scores:
        i = max(range(len(node.depths)), key=lambda q: (node.depths[q][1] - node.depths[q][0], q))
        lo, hi = node.depths[i]
        return ("depth", i, (lo + hi) // 2)
    kind, i = max(scores, key=lambda k: (scores[k], k))
    if kind == "depth":
        lo, hi = node.depths[i]
        return (kind, i, min(max(math.floor(ans.depths[i] + 1e-9), lo), hi - 1))
    if kind == "width":
        lo, hi = node.widths[i]
        step = problem.width_step
        return (kind, i, min(max(int(ans.widths[i] // step) * step, lo), hi - step))
    return (kind, i, len(node.kernels[i]) // 2)


def widest(rec: NodeRecord, step: int) -> Branch | None:
    """Bisect the width range widest in log scale (then a kernel set); None when the node is one design."""
    ranges = [(math.log(hi / lo), j) for j, (lo, hi) in enumerate(rec.widths) if hi > lo]
    if ranges:
        _, j = max(ranges)
        lo, hi = rec.widths[j]
        return ("width", j, lo + step * ((hi - lo) // step // 2))
    kernels = [j for j, ks in enumerate(rec.kernels) if len(ks) > 1]
    return ("kernel", kernels[0], len(rec.kernels[kernels[0]]) // 2) if kernels else None


def children(rec: NodeRecord, step: int) -> list[NodeRecord]:
    """The two halves of ``rec`` on its ``branch``."""
    kind, i, cut = rec.branch  # type: ignore[misc]
    parts: list[Any]
    if kind == "depth":
        lo, hi = rec.depths[i]
        parts, field_ = [(lo, cut), (cut + 1, hi)], "depths"
    elif kind == "width":
        lo, hi = rec.widths[i]
        parts, field_ = [(lo, cut), (cut + step, hi)], "widths"
    else:
        ks = rec.kernels[i]
        parts, field_ = [ks[:cut], ks[cut:]], "kernels"
    out = []
    for n, part in enumerate(parts):
        child = NodeRecord(f"{rec.id}.{n}", list(rec.depths), list(rec.widths), list(rec.kernels), list(rec.sums),
                           rec.cutoff, parent=rec.id)
        getattr(child, field_)[i] = part
        out.append(child)
    return out


def ancestors(rec: NodeRecord, by_id: dict[str, NodeRecord]) -> list[NodeRecord]:
    """Its parent, the parent's parent, ... up to the root (those in ``by_id``)."""
    out = []
    parent = by_id.get(rec.parent) if rec.parent is not None else None
    while parent is not None:
        out.append(parent)
        parent = by_id.get(parent.parent) if parent.parent is not None else None
    return out
