"""A certified result as text: why the design is optimal, or how far the proof got."""
from __future__ import annotations

import math
from typing import Any

from ..solve.results import DesignResult
from .tree import NodeStatus


def explain(result: DesignResult, max_lines: int = 60) -> str:
    """A text summary of why the design is optimal (or how far the proof got): the counts, the top of the
    tree, and every exact solve."""
    c = result.details.get("certificate", {})
    tree = result.details.get("box_tree", [])
    lines = [_headline(result),
             f"incumbent from {c.get('incumbent_source')}; root relaxation bound "
             + (f"{c['root_relaxation_bound']:,.2f}" if c.get("root_relaxation_bound") is not None else "none"),
             f"{c.get('boxes')} nodes in {c.get('rounds')} rounds, {c.get('exact_solves')} exact SCIP solves; "
             "leaves: " + ", ".join(f"{k} {v}" for k, v in (c.get("leaves") or {}).items())]
    shown = [b for b in tree if b["id"].count(".") < 3 or b["solver"].startswith("scip")][:max_lines]
    for b in shown:
        lines.append(f"{'  ' * min(b['id'].count('.'), 8)}{b['id']} {_describe(b)}: {_outcome(b)}")
    if len(tree) > len(shown):
        lines.append(f"... {len(tree) - len(shown)} more nodes in details.box_tree (--json)")
    return "\n".join(lines)


def _headline(result: DesignResult) -> str:
    if result.objective is None:
        return f"status {result.status.value}"
    return (f"status {result.status.value}: objective {result.objective:,.4f}, proven bound "
            f"{(result.bound if result.bound is not None else math.inf):,.4f}, gap "
            f"{(result.gap if result.gap is not None else math.inf):.2e}")


def _describe(b: dict[str, Any]) -> str:
    """A node's depth ranges, size and time."""
    ranges = " ".join(f"{lo}-{hi}" if lo != hi else f"{lo}" for lo, hi in b["depths"])
    tightened = ", ranges tightened" if b.get("pruned") else ""
    return f"L[{ranges}] ({b['size']} depth vectors{tightened}, {b['wall_s']:.2f}s)"


def _outcome(b: dict[str, Any]) -> str:
    """What became of a node."""
    status = b["status"]
    if status == NodeStatus.INFEASIBLE:
        return "nothing in it reaches the cutoff"
    if status == NodeStatus.CLOSED:
        return f"bound {b['bound']:,.2f} <= cutoff"
    if status == NodeStatus.EXACT:
        return f"depth vector solved by SCIP, optimum {b['objective']:,.2f}" if b["objective"] is not None \
            else f"depth vector solved by SCIP, bound {b['bound']:,.2f}"
    if status == NodeStatus.SPLIT:
        what = f" on {b['branch'][0]} {b['branch'][1]}" if b.get("branch") else " (to SCIP)"
        return (f"bound {b['bound']:,.2f} > cutoff: split" if b["bound"] is not None else "split") + what
    if status == NodeStatus.RETRIED:
        return "SCIP reached its node limit: retried"
    return "open at the time limit"
