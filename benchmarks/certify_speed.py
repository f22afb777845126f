"""Certification speed: the default route (``certify``) on the paper's presets or a suite, per mode and
worker count: status, optimum, proven bound, gap, nodes, and wall seconds (median of ``--repeats`` runs).

    python benchmarks/certify_speed.py                                   # 7 presets x 2 modes, 1 worker, 3 runs
    python benchmarks/certify_speed.py --presets deepmad-r18 --modes tinynas --workers 1,2
    python benchmarks/certify_speed.py --suite imagenet --repeats 1      # the 24 imagenet problems
    python benchmarks/certify_speed.py --evolution                       # and the evolutionary baseline

Targets: every preset/mode proven (gap <= 1e-4) in <= 10 s on one worker of this 2-core machine; the
imagenet suite: median <= 10 s, none over 60 s; two workers >= 1.6x faster than one on the slowest five.
"""
from __future__ import annotations

import argparse
import statistics
import time

from deepmad_pyomo.batch.suites import load_suite
from deepmad_pyomo.solve.design import design
from deepmad_pyomo.solve.options import SolveOptions
from deepmad_pyomo.space.problem import PRESETS, DesignProblem, preset


def problems(args: argparse.Namespace) -> list[DesignProblem]:
    if args.suite:
        return [p for p in load_suite(args.suite)]
    return [preset(name).with_mode(mode) for name in args.presets.split(",") for mode in args.modes.split(",")]


def run(problem: DesignProblem, workers: int, args: argparse.Namespace) -> tuple[float, object]:
    walls, result = [], None
    for _ in range(args.repeats):
        t0 = time.perf_counter()
        result = design(problem, "certify", SolveOptions(time_limit=args.time_limit, workers=workers))
        walls.append(time.perf_counter() - t0)
    return statistics.median(walls), result


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--presets", default=",".join(PRESETS))
    ap.add_argument("--modes", default="tinynas,paper")
    ap.add_argument("--suite", help="a suite instead of the presets (its problems' own modes)")
    ap.add_argument("--workers", default="1")
    ap.add_argument("--repeats", type=int, default=3, help="runs per problem; the median wall time is shown")
    ap.add_argument("--time-limit", type=float, default=120.0)
    ap.add_argument("--evolution", action="store_true", help="the evolutionary baseline after the same CPU time")
    args = ap.parse_args()
    print(f"{'problem':<22} {'mode':<8} {'wk':>2} {'status':<10} {'optimum':>12} {'bound':>12} {'gap':>9} "
          f"{'nodes':>5} {'wall s':>7} {'cpu s':>7} {'evo/opt':>7}", flush=True)
    walls: dict[int, list[float]] = {}
    for problem in problems(args):
        for workers in (int(w) for w in args.workers.split(",")):
            wall, r = run(problem, workers, args)
            walls.setdefault(workers, []).append(wall)
            ratio = ""
            if args.evolution and r.objective:
                e = design(problem, "evolution", SolveOptions(time_limit=max(1.0, r.cpu_s), seed=0))
                ratio = f"{e.objective / r.objective:7.3f}" if e.objective is not None else "-"
            gap = f"{r.gap:9.2e}" if r.gap is not None else f"{'-':>9}"
            bound = f"{r.bound:12,.1f}" if r.bound is not None else f"{'-':>12}"
            opt = f"{r.objective:12,.1f}" if r.objective is not None else f"{'-':>12}"
            nodes = r.certificate.boxes if r.certificate else "-"
            print(f"{problem.name:<22} {problem.mode:<8} {workers:>2} {r.status.value:<10} {opt} {bound} {gap} "
                  f"{nodes:>5} {wall:7.1f} {r.cpu_s:7.1f} {ratio:>7}", flush=True)
    for workers, ws in walls.items():
        print(f"\n{workers} worker(s): median {statistics.median(ws):.1f} s, max {max(ws):.1f} s, "
              f"<= 10 s: {sum(w <= 10 for w in ws)} of {len(ws)}")


if __name__ == "__main__":
    main()
