"""Certification speed: per preset and mode, the incumbent, proven bound, gap, boxes, wall and CPU time
with 1 and 2 processes, and the evolutionary baseline's best after the same CPU time.

    python benchmarks/certify_speed.py                       # r18, r50, 29m; both modes; 1 and 2 workers
    python benchmarks/certify_speed.py --presets deepmad-r50 --modes tinynas --workers 2 --time-limit 120

Targets: gap <= 1e-4 within 120 s each on this 2-core machine (goal after that: 10 s).
"""
from __future__ import annotations

import argparse
import resource
import time

from deepmad_pyomo.certify import certify
from deepmad_pyomo.solve.design import design
from deepmad_pyomo.solve.options import SolveOptions
from deepmad_pyomo.space.problem import preset


def cpu_seconds() -> float:
    self_, kids = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return self_.ru_utime + self_.ru_stime + kids.ru_utime + kids.ru_stime


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--presets", default="deepmad-r18,deepmad-r50,deepmad-29m")
    ap.add_argument("--modes", default="tinynas,paper")
    ap.add_argument("--workers", default="1,2")
    ap.add_argument("--time-limit", type=float, default=120.0)
    ap.add_argument("--no-evolution", action="store_true", help="skip the evolutionary baseline")
    args = ap.parse_args()
    print(f"{'preset':<16} {'mode':<8} {'wk':>2} {'status':<10} {'incumbent':>12} {'bound':>12} {'gap':>9} "
          f"{'boxes':>5} {'wall s':>7} {'cpu s':>7} {'evo best':>12} {'evo/opt':>7}")
    for name in args.presets.split(","):
        for mode in args.modes.split(","):
            problem = preset(name).with_mode(mode)
            for workers in (int(w) for w in args.workers.split(",")):
                cpu0, t0 = cpu_seconds(), time.perf_counter()
                r = certify(problem, time_limit=args.time_limit, workers=workers)
                wall, cpu = time.perf_counter() - t0, cpu_seconds() - cpu0
                evo, ratio = "", ""
                if not args.no_evolution and workers == int(args.workers.split(",")[0]) and r.objective:
                    e = design(problem, "evolution", SolveOptions(time_limit=cpu, seed=0))
                    if e.objective is not None:
                        evo, ratio = f"{e.objective:12,.1f}", f"{e.objective / r.objective:7.3f}"
                gap = f"{r.gap:9.2e}" if r.gap is not None else f"{'-':>9}"
                bound = f"{r.bound:12,.1f}" if r.bound is not None else f"{'-':>12}"
                inc = f"{r.objective:12,.1f}" if r.objective is not None else f"{'-':>12}"
                print(f"{name:<16} {mode:<8} {workers:>2} {r.status.value:<10} {inc} {bound} {gap} "
                      f"{r.details['certificate']['boxes']:>5} {wall:7.1f} {cpu:7.1f} {evo:>12} {ratio:>7}",
                      flush=True)
    print("\ntargets: gap <= 1e-4 within 120 s per preset and mode on 2 cores (goal after that: 10 s); "
          "evo/opt: the evolutionary baseline's best after the same CPU time, as a ratio of the incumbent")


if __name__ == "__main__":
    main()
