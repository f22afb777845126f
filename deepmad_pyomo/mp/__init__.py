"""The mathematical programs of a design problem: its template as they see it (:mod:`.template`), the Pyomo
MINLP (:mod:`.formulation`), the convex node relaxation (compiled in :mod:`.convex`, bounded and tightened
in :mod:`.relaxation`) and why a problem is infeasible (:mod:`.infeasibility`)."""
