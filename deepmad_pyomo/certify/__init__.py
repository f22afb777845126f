"""Certified designs: a proven bound and gap by branch and bound over the whole design space.

1. A strong incumbent first (the ``auto`` route's quick designs, run as tasks on the workers, or one given);
   the cutoff is it plus the gap. Once the root is bounded, *dives* (quick designs at the best roundings of
   its relaxed depths) look for a better one.
2. The space is covered by *nodes* (:class:`NodeRecord`, :mod:`.tree`: a box of depth vectors, a width
   range and a set of kernel sizes per block), starting from the template's ranges. A node is bounded by
   its convex relaxation (:mod:`deepmad_pyomo.mp.relaxation`: log-widths, perspective costs in real depths,
   McCormick envelopes of the stage entropies; a conic program), solved by Clarabel in milliseconds
   (:mod:`.bounds`). A node
   whose bound does not exceed the cutoff closes. Otherwise its ranges are first tightened to what can
   still reach the cutoff (OBBT on the same relaxation: depths, widths, then the last stage's log-width
   sum, which narrows its entropy envelope) and it is bounded again; if it still does not
   close, it is split on what accounts for most of its bound: the width that sets a stage's entropy, a
   kernel choice, or a depth range (whose share counts a quarter: :data:`.tree.DEPTH_WEIGHT`).
3. A node of a single depth vector that its relaxation cannot close is solved exactly by SCIP (integer
   widths, kernels free, the cutoff as a constraint) over its box as its bound tightened it (again when
   the cutoff has risen since), bottleneck ranges tightened too; SCIP's primal heuristics are off there
   (mostly it proves that nothing reaches the cutoff). A better design found becomes the incumbent. When SCIP
   reaches its node limit with its bound still above the cutoff, the node is halved on its widest width
   range as tightened, and the halves are bounded and solved in turn.
4. Nodes of a round run in parallel and their results are merged in node order. Exact solves wait for a
   settle point (every few rounds, fixed by the round count, or when no node is open): there the running
   ones are settled in the order they were started, the cutoff rises to the best design, and the waiting
   ones of the highest relaxation bounds start, a fixed number at a time, with that cutoff (:mod:`.search`).
   Only a settle raises the cutoff, so the tree and the answer do not depend on which solve finishes first
   or on the number of workers. They run in local processes (``workers``) or as tasks on a Dask cluster
   (``scheduler``: its address) (:mod:`.executor`).
5. The bound proven is the best the incumbent and the leaves allow (:mod:`.certificate`);
   :func:`explain` tells it as text (:mod:`.report`).

Budgets the relaxation does not model (latency) are left out of it, which only loosens it (dropping a
constraint keeps a bound valid); the exact solves enforce them.
"""
from ..solve.results import Certificate
from .bounds import bound_nodes, relaxation_of, solve_exact
from .executor import Executor
from .report import explain
from .search import certify
from .tree import NodeRecord, NodeStatus

__all__ = ["Certificate", "Executor", "NodeRecord", "NodeStatus", "bound_nodes", "certify", "explain",
           "relaxation_of", "solve_exact"]
