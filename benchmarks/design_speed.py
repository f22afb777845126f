"""Design speed: per preset, mode and solver, the objective, bound, gap, wall and CPU time and peak
memory of one ``design()`` call, against the evolutionary baseline (the official code's search) run
with the same time limit.

    python benchmarks/design_speed.py                                   # deepmad-r50 tinynas, 30 s
    python benchmarks/design_speed.py --presets deepmad-r18,deepmad-r50 --modes tinynas,paper \\
        --solvers auto,bonmin,ipopt,scip,mindtpy --time-limit 30 --json out.json

Each solve runs in its own forked process, so that its CPU time (``getrusage``: the process, the route
process ``design()`` starts and every process that one starts, e.g. Bonmin's) and its peak memory
(``ru_maxrss`` of RUSAGE_CHILDREN: the largest of those processes) are its own.

For every solver: ``obj/evo`` is its objective over the baseline's best, ``evo cpu to reach`` the CPU
seconds the baseline needed to first reach that solver's objective (from its trace), and ``speed-up``
that over the solver's CPU seconds (a lower bound, marked ``>``, when the baseline never reached it).

Targets (printed next to the figures): tinynas deepmad-r50 objective >= 51,989 within 30 s with the
default solver; >= 100x less CPU than the baseline to reach the same objective; peak memory < 1 GB.
"""
from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import resource
import sys
import time
from typing import Any

from deepmad_pyomo.solve.design import design
from deepmad_pyomo.solve.options import SolveOptions
from deepmad_pyomo.solve.registry import DEFAULT
from deepmad_pyomo.space.problem import preset

TARGET_OBJECTIVE = {("deepmad-r50", "tinynas"): 51989.0}
TARGET_SPEEDUP = 100.0
TARGET_MEMORY_MB = 1024.0


def _solve_in_child(name: str, mode: str, solver: str, opts: SolveOptions, conn: Any) -> None:
    try:
        res = design(preset(name).with_mode(mode), solver, opts)
        out: dict[str, Any] = {"result": res.to_dict()}
    except Exception as e:  # noqa: BLE001 - a benchmark row, not a crash
        out = {"error": f"{type(e).__name__}: {e}"}
    me, kids = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    out["cpu_s"] = me.ru_utime + me.ru_stime + kids.ru_utime + kids.ru_stime
    out["peak_mb"] = max(me.ru_maxrss, kids.ru_maxrss) / 1024.0  # Linux: kilobytes
    conn.send(out)
    conn.close()


def solve(name: str, mode: str, solver: str, opts: SolveOptions) -> dict[str, Any]:
    """One ``design()`` call in a fresh forked process: its result, wall, CPU seconds and peak memory."""
    ctx = mp.get_context("fork")
    here, there = ctx.Pipe(duplex=False)
    t = time.perf_counter()
    proc = ctx.Process(target=_solve_in_child, args=(name, mode, solver, opts, there))
    proc.start()
    there.close()
    out = here.recv()
    proc.join()
    out["wall_s"] = time.perf_counter() - t
    return out


def evo_cpu_to_reach(trace: list[list[float]], objective: float) -> float | None:
    """CPU seconds the baseline needed to first reach ``objective`` (``None``: never)."""
    for _, cpu, best in trace:
        if best >= objective - 1e-9 * abs(objective):
            return cpu
    return None


def fmt(x: float | None, spec: str = ",.2f", none: str = "-") -> str:
    return none if x is None else format(x, spec)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--presets", default="deepmad-r50")
    ap.add_argument("--modes", default="tinynas")
    ap.add_argument("--solvers", default=f"{DEFAULT},bonmin,ipopt,scip")
    ap.add_argument("--time-limit", type=float, default=30.0)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--evolution-time-limit", type=float, default=None,
                    help="the baseline's time limit (default: --time-limit); longer shows when it gets there")
    ap.add_argument("--no-evolution", action="store_true", help="skip the evolutionary baseline")
    ap.add_argument("--json", help="also write every row here")
    args = ap.parse_args(argv)
    solvers = args.solvers.split(",")
    rows: list[dict[str, Any]] = []
    print(f"time limit {args.time_limit:g} s per solve; CPU and memory cover every process of a solve")
    head = (f"{'preset':<12} {'mode':<7} {'solver':<13} {'status':<10} {'objective':>11} {'bound':>11} {'gap':>8} "
            f"{'wall s':>7} {'cpu s':>7} {'peak MB':>8} {'obj/evo':>7} {'evo cpu to reach':>17} {'speed-up':>9}")
    for name in args.presets.split(","):
        for mode in args.modes.split(","):
            print()
            print(head)
            evo_opts = SolveOptions(time_limit=args.evolution_time_limit or args.time_limit, seed=args.seed)
            evo = None if args.no_evolution else solve(name, mode, "evolution", evo_opts)
            evo_res = (evo or {}).get("result") or {}
            evo_obj = evo_res.get("objective")
            trace = (evo_res.get("details") or {}).get("trace") or []
            evo_cpu_total = trace[-1][1] if trace else None
            for solver in solvers:
                variant = solver.partition(":")[2] or None
                out = solve(name, mode, solver, SolveOptions(time_limit=args.time_limit, seed=args.seed,
                                                              variant=variant))
                res = out.get("result") or {}
                obj = res.get("objective")
                reach = evo_cpu_to_reach(trace, obj) if (obj is not None and trace) else None
                if reach is not None:
                    speed = f"{reach / max(out['cpu_s'], 1e-9):.1f}x"
                elif obj is not None and evo_cpu_total is not None:
                    speed = f">{evo_cpu_total / max(out['cpu_s'], 1e-9):.1f}x"
                else:
                    speed = "-"
                reach_s = (fmt(reach, ".2f") if reach is not None else
                           ("never" if obj is not None and trace else "-"))
                status = res.get("status") or ("error" if "error" in out else "-")
                print(f"{name:<12} {mode:<7} {solver:<13} {status:<10} {fmt(obj):>11} {fmt(res.get('bound')):>11} "
                      f"{fmt(res.get('gap'), '.2%'):>8} {out['wall_s']:>7.1f} {out['cpu_s']:>7.1f} "
                      f"{out['peak_mb']:>8.0f} {fmt(obj / evo_obj if obj and evo_obj else None, '.4f'):>7} "
                      f"{reach_s:>17} {speed:>9}")
                if "error" in out:
                    print(f"    error: {out['error']}")
                elif res.get("message"):
                    print(f"    {res['message'][:160]}")
                rows.append({"preset": name, "mode": mode, "solver": solver, "objective": obj,
                             "bound": res.get("bound"), "gap": res.get("gap"), "status": status,
                             "wall_s": out["wall_s"], "cpu_s": out["cpu_s"], "peak_mb": out["peak_mb"],
                             "route_cpu_s": res.get("cpu_s"), "evo_cpu_to_reach": reach, "speedup": speed,
                             "architecture": (res.get("architecture") or {}).get("blocks")})
            if evo is not None:
                d = evo_res.get("details") or {}
                print(f"{name:<12} {mode:<7} {'evolution':<13} {evo_res.get('status', 'error'):<10} "
                      f"{fmt(evo_obj):>11} {'-':>11} {'-':>8} {evo['wall_s']:>7.1f} {evo['cpu_s']:>7.1f} "
                      f"{evo['peak_mb']:>8.0f}   ({d.get('candidates', 0):,} candidates, {d.get('valid', 0):,} valid, "
                      f"{d.get('evaluate_us', 0):.0f} us per evaluation)")
                rows.append({"preset": name, "mode": mode, "solver": "evolution", "objective": evo_obj,
                             "wall_s": evo["wall_s"], "cpu_s": evo["cpu_s"], "peak_mb": evo["peak_mb"],
                             "candidates": d.get("candidates"), "trace": trace})
            default = next((r for r in rows if r["preset"] == name and r["mode"] == mode and r["solver"] == DEFAULT),
                           None)
            if default is not None:
                print()
                target = TARGET_OBJECTIVE.get((name, mode))
                obj = default["objective"]
                if target is not None:
                    ok = obj is not None and obj >= target and default["wall_s"] <= args.time_limit + 1.0
                    print(f"  target: {DEFAULT} objective >= {target:,.0f} within {args.time_limit:g} s: "
                          f"{fmt(obj)} in {default['wall_s']:.1f} s wall -> {'met' if ok else 'NOT MET'}")
                if not args.no_evolution:
                    reach = default["evo_cpu_to_reach"]
                    if reach is not None:
                        ratio = reach / max(default["cpu_s"], 1e-9)
                        verdict = "met" if ratio >= TARGET_SPEEDUP else "NOT MET"
                        print(f"  target: >= {TARGET_SPEEDUP:g}x less CPU than evolution to reach {fmt(obj)}: "
                              f"evolution {reach:.2f} s vs {default['cpu_s']:.2f} s = {ratio:.1f}x -> {verdict}")
                    elif obj is not None and evo_cpu_total is not None:
                        ratio = evo_cpu_total / max(default["cpu_s"], 1e-9)
                        verdict = ("met" if ratio >= TARGET_SPEEDUP else
                                   "not shown (evolution never reached it; run it longer)")
                        print(f"  target: >= {TARGET_SPEEDUP:g}x less CPU than evolution to reach {fmt(obj)}: "
                              f"evolution never reached it in {evo_cpu_total:.2f} s of CPU (best {fmt(evo_obj)}); "
                              f"ratio > {ratio:.1f}x -> {verdict}")
                peak = max(r["peak_mb"] for r in rows if r["preset"] == name and r["mode"] == mode)
                print(f"  target: peak memory < {TARGET_MEMORY_MB:g} MB per solve: largest {peak:.0f} MB -> "
                      f"{'met' if peak < TARGET_MEMORY_MB else 'NOT MET'}")
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"time_limit": args.time_limit, "seed": args.seed, "rows": rows}, f, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
