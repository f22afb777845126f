"""What a front's points gain from the smaller budget's design: each warm-started point of a ``deepmad pareto``
folder certified again from three starts, one after the other:

- ``cold``: certify's own quick designs (``deepmad design``'s default);
- ``neighbour``: the smaller budget's design alone as the incumbent (``--warm-start``);
- ``both``: the better of the two (what ``deepmad pareto`` does).

    deepmad pareto --preset deepmad-r50 --sweep flops=0.5e9:8e9 --out front/ --workers 2
    python benchmarks/pareto_warm_start.py front/                       # every warm-started point, all starts
    python benchmarks/pareto_warm_start.py front/ --limit 5 --modes cold,neighbour --json

Per point and start: wall and CPU seconds, tree nodes and status, and whether the objectives agree within the
gap. The solves run one at a time on one worker; the load average is printed, since other processes on the
machine slow them.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

MODES = ("cold", "neighbour", "both")


def solve(problem, warm, quick: bool, time_limit: float, gap: float) -> dict:
    from deepmad_pyomo.solve.design import design
    from deepmad_pyomo.solve.options import QUICK_DESIGN, SolveOptions

    res = design(problem, "certify", SolveOptions(time_limit=time_limit, gap=gap, warm_start=warm,
                                                  extra={QUICK_DESIGN: quick}))
    return {"status": res.status.value, "objective": res.objective, "bound": res.bound,
            "wall_s": round(res.time_s, 2), "cpu_s": round(res.cpu_s, 2),
            "nodes": res.certificate.boxes if res.certificate else None}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("front", help="a deepmad pareto output folder")
    ap.add_argument("--limit", type=int, default=None, help="only the first N warm-started points")
    ap.add_argument("--modes", default=",".join(MODES), help=f"comma-separated starts among {', '.join(MODES)}")
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args(argv)
    modes = [m for m in args.modes.split(",") if m]
    if not modes or set(modes) - set(MODES):
        ap.error(f"--modes: choose among {', '.join(MODES)}")
    from deepmad_pyomo.batch.pareto import SweepBudget, point_key
    from deepmad_pyomo.space.arch import Architecture
    from deepmad_pyomo.space.problem import DesignProblem

    front = json.loads((Path(args.front) / "front.json").read_text())
    by_value = {p["value"]: p for p in front["front"]}
    problem = DesignProblem.from_dict(front["problem"])
    budget = front["sweep"]["budget"]
    rows = []
    for p in [p for p in front["front"] if p.get("warm_from") is not None][:args.limit]:
        rec = json.loads((Path(args.front) / "points" / f"{point_key(SweepBudget(budget), p['value'])}.json")
                         .read_text())
        prob = problem.with_budgets(**{budget: p["value"]})
        neighbour = Architecture.from_dict(by_value[p["warm_from"]]["architecture"])
        starts = {"cold": (None, True), "neighbour": (neighbour, False), "both": (neighbour, True)}
        runs = {m: solve(prob, *starts[m], rec["time_limit"], rec["gap_tolerance"]) for m in modes}
        objs = [r["objective"] for r in runs.values()]
        agree = max(objs) - min(objs) <= 2 * rec["gap_tolerance"] * abs(max(objs))
        rows.append({"value": p["value"], "warm_from": p["warm_from"], "runs": runs, "agree": agree})
    totals = {m: {"wall_s": round(sum(r["runs"][m]["wall_s"] for r in rows), 1),
                  "cpu_s": round(sum(r["runs"][m]["cpu_s"] for r in rows), 1),
                  "optimal": sum(r["runs"][m]["status"] == "optimal" for r in rows)} for m in modes}
    report = {"front": args.front, "points": len(rows), "load_after": os.getloadavg(), "rows": rows, "totals": totals}
    if args.json:
        print(json.dumps(report, indent=1))
        return 0
    print(f"{'budget':>11} {'from':>11} | " + " | ".join(f"{m + ' wall':>14} {'cpu':>6} {'nodes':>5} {'status':<10}"
                                                        for m in modes) + " | agree")
    for r in rows:
        cells = [f"{r['runs'][m]['wall_s']:>14.1f} {r['runs'][m]['cpu_s']:>6.1f} {r['runs'][m]['nodes']:>5} "
                 f"{r['runs'][m]['status']:<10}" for m in modes]
        print(f"{r['value']:>11.4g} {r['warm_from']:>11.4g} | " + " | ".join(cells) + f" | {r['agree']}")
    for m, t in totals.items():
        print(f"{m}: {t['wall_s']} s wall, {t['cpu_s']} s CPU, {t['optimal']}/{len(rows)} proven optimal")
    print(f"load average after: {report['load_after'][0]:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
