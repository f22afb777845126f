"""What the warm start buys a front's points: each warm-started point of a ``deepmad pareto`` folder solved
again cold (certify's own quick incumbent) and warm (the smaller budget's design, as the sweep does), in turn.

    deepmad pareto --preset deepmad-r50 --sweep flops=0.5e9:8e9 --out front/ --workers 2
    python benchmarks/pareto_warm_start.py front/              # every warm-started point
    python benchmarks/pareto_warm_start.py front/ --limit 3 --json

Per point: wall and CPU seconds, tree nodes and status of both solves, and whether they agree within the gap.
Both solves run one after the other on one worker, so a loaded machine slows both alike; CPU seconds are
printed too.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path


def solve(problem, warm, time_limit: float, gap: float) -> dict:
    from deepmad_pyomo.solve.design import design
    from deepmad_pyomo.solve.options import SolveOptions

    res = design(problem, "certify", SolveOptions(time_limit=time_limit, gap=gap, warm_start=warm))
    return {"status": res.status.value, "objective": res.objective, "bound": res.bound,
            "wall_s": round(res.time_s, 2), "cpu_s": round(res.cpu_s, 2),
            "nodes": res.certificate.boxes if res.certificate else None}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("front", help="a deepmad pareto output folder")
    ap.add_argument("--limit", type=int, default=None, help="only the first N warm-started points")
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args(argv)
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
        warm = Architecture.from_dict(by_value[p["warm_from"]]["architecture"])
        cold_run = solve(prob, None, rec["time_limit"], rec["gap_tolerance"])
        warm_run = solve(prob, warm, rec["time_limit"], rec["gap_tolerance"])
        agree = abs(cold_run["objective"] - warm_run["objective"]) <= 2 * rec["gap_tolerance"] * abs(cold_run["objective"])
        rows.append({"value": p["value"], "warm_from": p["warm_from"], "cold": cold_run, "warm": warm_run,
                     "agree": agree})
    report = {"front": args.front, "points": len(rows), "load": os.getloadavg(), "rows": rows,
              "cold_wall_s": round(sum(r["cold"]["wall_s"] for r in rows), 1),
              "warm_wall_s": round(sum(r["warm"]["wall_s"] for r in rows), 1),
              "cold_cpu_s": round(sum(r["cold"]["cpu_s"] for r in rows), 1),
              "warm_cpu_s": round(sum(r["warm"]["cpu_s"] for r in rows), 1)}
    if args.json:
        print(json.dumps(report, indent=1))
        return 0
    print(f"{'budget':>11} {'from':>11} | {'cold wall':>9} {'cpu':>6} {'nodes':>5} {'status':<10} | "
          f"{'warm wall':>9} {'cpu':>6} {'nodes':>5} {'status':<10} | agree")
    for r in rows:
        c, w = r["cold"], r["warm"]
        print(f"{r['value']:>11.4g} {r['warm_from']:>11.4g} | {c['wall_s']:>9.1f} {c['cpu_s']:>6.1f} {c['nodes']:>5} "
              f"{c['status']:<10} | {w['wall_s']:>9.1f} {w['cpu_s']:>6.1f} {w['nodes']:>5} {w['status']:<10} | "
              f"{r['agree']}")
    print(f"total: cold {report['cold_wall_s']} s wall / {report['cold_cpu_s']} s CPU, warm {report['warm_wall_s']} s "
          f"wall / {report['warm_cpu_s']} s CPU; load average {report['load'][0]:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
