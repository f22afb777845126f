"""``deepmad compare``, ``zoo`` and ``pareto``: the command-line side of :mod:`~deepmad_pyomo.batch.compare`,
:mod:`~deepmad_pyomo.batch.zoo` and :mod:`~deepmad_pyomo.batch.pareto`. Progress bars go to stderr; ``--json``
prints a summary as JSON on stdout, otherwise a short human summary. ``compare`` and ``zoo`` exit with
:func:`exit_status` (:data:`EXIT_HELP`), ``pareto`` as :data:`PARETO_EXIT_HELP` says."""
from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from .common import (
    Output,
    add_output,
    comma_list,
    emit_json,
    positive_float,
    positive_int,
    seconds,
    worker_count,
)

SUITE_HELP = ("a suite name (paper, imagenet, cifar) or a folder of YAML/JSON design problems; several "
              "separated by commas")
EXIT_HELP = ("exit status: 0 when every run produced a result, 1 when some failed (status failed, error or "
             "unavailable, counted in the summary), 2 on bad input")


def exit_status(failed: int) -> int:
    """0 when every run produced a result, 1 when some failed (both commands, with or without --json)."""
    return 1 if failed else 0


def register(sub: argparse._SubParsersAction) -> None:
    add_compare_parser(sub)
    add_zoo_parser(sub)
    add_instances_parser(sub)
    add_pareto_parser(sub)


def _add_cluster_args(p: argparse.ArgumentParser, only: bool = True) -> None:
    g = p.add_mutually_exclusive_group()
    g.add_argument("--workers", type=worker_count, metavar="N",
                   help="worker processes of the embedded Dask LocalCluster, 1 thread each (default: one per CPU "
                        "core)")
    g.add_argument("--scheduler", metavar="ADDRESS",
                   help="use an existing Dask cluster, e.g. tcp://10.0.0.1:8786 (start its workers with "
                        "DASK_DISTRIBUTED__WORKER__DAEMON=False)")
    p.add_argument("--retries", type=int, default=2, metavar="N",
                   help="reruns of a run whose task raised (a run whose worker died is rerun by Dask itself; "
                        "default 2)")
    p.add_argument("--keep-failed", action="store_true",
                   help="keep the records of runs that failed (failed, error, unavailable) instead of running them "
                        "again")
    if only:
        p.add_argument("--only", metavar="PATTERN", help="only the problems whose name matches this shell pattern")
    p.add_argument("--no-progress", action="store_true", help="no progress bar on stderr")
    p.add_argument("--json", action="store_true", help="print a JSON summary on stdout")


# ----------------------------------------------------------------------------------------- compare
def add_compare_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("compare", help="compare solvers and formulations on a suite of design problems",
                       description="Run every solver x formulation x problem of a suite on a Dask cluster (an "
                                   "embedded LocalCluster by default). Each run's row (objective of the verified "
                                   "architecture, bound, gap, status, time, incumbent trace, primal integral, "
                                   "memory, solver version, CPU) is written as it finishes (OUT/runs/, "
                                   "OUT/results.csv|json|md, the GAMS trace file OUT/results.trc and a GAMS solve trace per run in "
                                   "OUT/solvetraces/, atomically); "
                                   "rerunning the same command resumes without redoing finished runs. At the end: "
                                   "Dolan-More profiles, gaps and time against size (PNG and SVG). A run that "
                                   "failed (failed, error, unavailable) is run again by the next rerun unless "
                                   "--keep-failed.", epilog=EXIT_HELP)
    p.add_argument("--suite", required=True, metavar="NAME", help=SUITE_HELP)
    p.add_argument("--solvers", required=True, type=comma_list, metavar="LIST",
                   help="comma-separated solver names (see the solver registry), e.g. auto,scip,bonmin:B-Hyb")
    p.add_argument("--formulations", type=comma_list, default=["natural"], metavar="LIST",
                   help="comma-separated formulations: natural, log (default: natural)")
    p.add_argument("--time-limit", type=seconds, default=60.0, metavar="S",
                   help="wall-clock seconds per run (default 60)")
    p.add_argument("--gap", type=positive_float, default=1e-4, metavar="G", help="relative optimality gap (1e-4)")
    add_output(p, "--out", Output.FOLDER, required=True, metavar="DIR", help="output folder (created; reused to resume)")
    p.add_argument("--no-plots", action="store_true", help="skip the figures")
    p.add_argument("--no-certified", action="store_true",
                   help="do not add the certify route (by default it runs on every problem, and every route's "
                   "gap to its certified bound is reported)")
    _add_cluster_args(p)
    p.set_defaults(func=cmd_compare)


def require(figures: bool) -> None:
    """The optional packages a run needs are installed (before any work): Dask, and matplotlib for figures."""
    from ..batch import cluster, plots

    cluster.require()
    if figures:
        plots.require()


def cmd_compare(args: argparse.Namespace) -> int:
    from ..batch.compare import compare

    require(not args.no_plots)

    res = compare(args.suite, args.solvers, args.formulations, args.time_limit, args.out, workers=args.workers,
                  scheduler=args.scheduler, gap=args.gap, only=args.only, progress=not args.no_progress,
                  retries=args.retries, figures=not args.no_plots, keep_failed=args.keep_failed,
                  certified=not args.no_certified)
    if args.json:
        emit_json(res.to_dict())
        return exit_status(res.failed)
    print(f"{res.runs} runs ({res.reused} reused from {res.out}, {res.done} done now, {res.failed} failed) "
          f"in {res.wall_s:.1f} s on {res.workers} workers")
    print(f"{'configuration':<28} {'runs':>4} {'verified':>8} {'optimal':>7} {'best':>4} {'time sgm':>9}")
    for s in res.to_dict()["summary"]:
        t = "-" if s["time_sgm_s"] is None else f"{s['time_sgm_s']:.1f}s"
        print(f"{s['config']:<28} {s['runs']:>4} {s['verified_designs']:>8} {s['optimal']:>7} {s['best_known']:>4} "
              f"{t:>9}")
    print("files: " + ", ".join(res.files))
    return exit_status(res.failed)


# --------------------------------------------------------------------------------------------- zoo
def add_zoo_parser(sub: argparse._SubParsersAction) -> None:
    from ..batch.zoo import DEFAULT_TIME_LIMIT
    from ..solve.registry import DEFAULT

    p = sub.add_parser("zoo", help="design, verify and export a model zoo for a suite",
                       description="Design every problem of a suite (on a Dask cluster), verify each architecture "
                                   "(MACs and params counted on the built module) and export one JSON record per "
                                   "model (OUT/<suite>/<problem>.json: problem, architecture, metrics, certificate, "
                                   "verification), a table (OUT/README.md) and a picture (OUT/zoo.png|svg). The "
                                   "records are registered models: create_model('<suite>-<problem>') builds them "
                                   "when OUT is models/ or a folder of DEEPMAD_MODELS. Reruns skip finished models "
                                   "and run failed ones again unless --keep-failed.", epilog=EXIT_HELP)
    p.add_argument("--suite", required=True, metavar="NAME", help=SUITE_HELP)
    p.add_argument("--solver", default=DEFAULT, metavar="NAME", help=f"solver (default: {DEFAULT})")
    p.add_argument("--time-limit", type=seconds, default=DEFAULT_TIME_LIMIT, metavar="S",
                   help=f"wall-clock seconds per model (default {DEFAULT_TIME_LIMIT:g})")
    p.add_argument("--gap", type=positive_float, default=1e-4, metavar="G", help="relative optimality gap (1e-4)")
    add_output(p, "--out", Output.FOLDER, required=True, metavar="DIR", help="output folder, e.g. models")
    p.add_argument("--escalate", type=int, default=1, metavar="N",
                   help="a problem with no design in the time limit is tried again with twice the time, N times "
                        "(default 1; 0: never)")
    p.add_argument("--no-plot", action="store_true", help="skip the picture")
    p.add_argument("--prices", action="store_true",
                   help="also store in each record which constraints bind its design and what relaxing each that "
                        "binds by 1%% and 10%% buys (proven by certified re-solves: two per binding constraint, "
                        "several times the design's cost)")
    _add_cluster_args(p)
    p.set_defaults(func=cmd_zoo)


def cmd_zoo(args: argparse.Namespace) -> int:
    from ..batch.zoo import build_zoo

    require(not args.no_plot)

    cmd = (f"deepmad zoo --suite {args.suite} --solver {args.solver} --time-limit {args.time_limit:g} "
           f"--out {args.out}" + (f" --workers {args.workers}" if args.workers else "")
           + (f" --escalate {args.escalate}" if args.escalate != 1 else "") + (" --prices" if args.prices else ""))
    res = build_zoo(args.suite, args.out, args.solver, args.time_limit, workers=args.workers,
                    scheduler=args.scheduler, gap=args.gap, only=args.only, progress=not args.no_progress,
                    retries=args.retries, figure=not args.no_plot, command=cmd, escalate=args.escalate,
                    keep_failed=args.keep_failed, prices=args.prices)
    if args.json:
        emit_json(res.to_dict())
        return exit_status(res.failed)
    rate = res.models_per_minute
    print(f"{res.models} models ({res.reused} reused, {res.designed} designed now, {res.failed} failed, "
          f"{res.without_architecture} without an architecture) in {res.wall_s:.1f} s on {res.workers} workers"
          + (f" ({rate:.2f} models/min)" if rate else ""))
    for r in res.to_dict()["records"]:
        obj = "-" if r["objective"] is None else f"{r['objective']:,.1f}"
        macs = "-" if r["macs"] is None else f"{r['macs'] / 1e9:.3f}G"
        params = "-" if r["params"] is None else f"{r['params'] / 1e6:.2f}M"
        ver = {True: "verified", False: "MISMATCH", None: "-"}[r["verified"]]
        print(f"  {r['name']:<36} {r['status']:<10} {obj:>12} {macs:>9} {params:>8} {ver}")
    print("files: " + ", ".join(res.files))
    return exit_status(res.failed)


# --------------------------------------------------------------------------------------- instances
def add_instances_parser(sub: argparse._SubParsersAction) -> None:
    from ..batch.instances import DEFAULT_CERTIFY_TIME_LIMIT

    p = sub.add_parser("instances", help="write every problem of a suite as .nl/.gms/.py instance files, indexed",
                       description="Write every problem of a suite in both modes and both formulations as AMPL .nl, "
                                   "GAMS .gms and Pyomo .py instance files (OUT/<suite>/), with an index (OUT/index.json, "
                                   "OUT/README.md: sizes, best known value, proven dual bound and who proved it) and a "
                                   "PAVER solution file (OUT/instances.solu). Bounds come from certified zoo records "
                                   "(--records) when the problem matches, else from the certify route run here "
                                   "(OUT/bounds/, resumable) unless --no-certify.", epilog=EXIT_HELP)
    p.add_argument("--suite", required=True, metavar="NAME", help=SUITE_HELP)
    add_output(p, "--out", Output.FOLDER, required=True, metavar="DIR", help="output folder, e.g. instances")
    g = p.add_mutually_exclusive_group()
    g.add_argument("--certify", dest="certify", action="store_true", default=True,
                   help="certify the problems no zoo record covers (default)")
    g.add_argument("--no-certify", dest="certify", action="store_false",
                   help="leave the bounds of problems no zoo record covers empty")
    p.add_argument("--certify-time-limit", type=seconds, default=DEFAULT_CERTIFY_TIME_LIMIT, metavar="S",
                   help=f"wall-clock seconds per certify run (default {DEFAULT_CERTIFY_TIME_LIMIT:g}; a safety net: "
                        "its tree is decided by work limits, a run stopped here keeps the bound proven so far)")
    p.add_argument("--gap", type=positive_float, default=1e-4, metavar="G", help="relative optimality gap (1e-4)")
    p.add_argument("--records", metavar="DIR",
                   help="a zoo folder (<suite>/<problem>.json records) whose certified bounds are used where the problem "
                        "matches (default: the first zoo folder found: DEEPMAD_MODELS, the checkout's models/; 'none': "
                        "no records)")
    _add_cluster_args(p)
    p.set_defaults(func=cmd_instances)


def _records_folder(arg: str | None) -> Path | None:
    """The zoo folder named, else the first zoo folder there is (``DEEPMAD_MODELS``, the checkout's models/,
    the installed zoo); ``none``: no records."""
    from ..errors import DesignError
    from ..nn.models import zoo_folders

    if arg is None:
        return next((f for f in zoo_folders() if f.is_dir()), None)
    if arg == "none":
        return None
    if not Path(arg).is_dir():
        raise DesignError("records", f"{arg!r} is not a folder", "a zoo folder (<suite>/<problem>.json) or 'none'")
    return Path(arg)


def cmd_instances(args: argparse.Namespace) -> int:
    require(figures=False)
    from ..batch.instances import Options, build_library

    records = _records_folder(args.records)
    opts = Options(certify=args.certify, certify_time_limit=args.certify_time_limit, gap=args.gap, records=records)
    cmd = (f"deepmad instances --suite {args.suite} --out {args.out}"
           + ("" if args.certify else " --no-certify")
           + (f" --certify-time-limit {args.certify_time_limit:g}" if args.certify else ""))
    res = build_library(args.suite, args.out, opts, workers=args.workers, scheduler=args.scheduler, only=args.only,
                        progress=not args.no_progress, retries=args.retries, command=cmd,
                        keep_failed=args.keep_failed)
    if args.json:
        emit_json(res.to_dict())
        return exit_status(res.failed)
    print(f"{res.instances} instances in {res.out}: bounds of {res.from_records} problem modes from zoo records, "
          f"{res.certified_here} certified here; {res.without_design} instances without a known design, "
          f"{res.without_bound} without a dual bound; {res.failed} certify runs failed")
    print("files: " + ", ".join(res.files))
    return exit_status(res.failed)


# ------------------------------------------------------------------------------------------ pareto
PARETO_EXIT_HELP = ("exit status: 0 when every point is proven optimal and the front (grid) is monotone; 1 when a "
                    "point failed or is not proven, or it is not monotone (a bug, said on stderr); 2 on bad input")


def add_pareto_parser(sub: argparse._SubParsersAction) -> None:
    from ..batch import grid as gd
    from ..batch import pareto as pt
    from ..space.metrics import MODES
    from ..space.problem import PRESETS

    p = sub.add_parser("pareto", help="the certified front of a problem over one budget (MACs, params or latency), "
                                      "or its grid over two",
                       description="Certify the problem at many values of one budget (each point proven optimal by "
                                   "the default route, also started from a smaller budget's design), placed where "
                                   "the front bends: a geometric grid first, then, in rounds, the middles of the "
                                   "intervals whose linear interpolation error is largest. Writes OUT/points/*.json "
                                   "(one record per point, as it finishes), OUT/front.csv|json (every point, its "
                                   "architecture, which constraints bind, the price of the budget) and "
                                   "OUT/front.png|svg; a rerun skips finished points. With two --sweep options: "
                                   "the certified grid over both budgets (--points NxM values, geometric), cells "
                                   "certified one anti-diagonal at a time, each started from the best design at "
                                   "smaller budgets; OUT/grid.csv|json|png|svg.", epilog=PARETO_EXIT_HELP)
    src = p.add_mutually_exclusive_group(required=True)
    src.add_argument("--preset", choices=PRESETS, help="one of the paper's budgets")
    src.add_argument("--spec", metavar="FILE", help="a design problem file (YAML or JSON)")
    p.add_argument("--mode", choices=MODES, help="objective and counting: paper (default of presets) or tinynas")
    p.add_argument("--sweep", required=True, action="append", metavar="BUDGET=LO:HI",
                   help=pt.SWEEP_VALID + "; twice (two different budgets) for a grid")
    add_output(p, "--out", Output.FOLDER, required=True, metavar="DIR", help="output folder (created; reused to resume)")
    p.add_argument("--points", metavar="N|NxM",
                   help=f"one sweep: at most N points (default {pt.DEFAULT_POINTS}); two: the grid's values per "
                        f"budget, NxM or N for NxN (default {gd.DEFAULT_SHAPE[0]}x{gd.DEFAULT_SHAPE[1]})")
    p.add_argument("--initial", type=positive_int, metavar="N",
                   help=f"one sweep: points of the first, geometric grid (default {pt.DEFAULT_INITIAL})")
    p.add_argument("--per-round", type=positive_int, metavar="N",
                   help=f"one sweep: points added per round (default {pt.DEFAULT_PER_ROUND}; not the worker count, so "
                        "the front does not depend on it)")
    p.add_argument("--time-limit", type=seconds, default=pt.DEFAULT_TIME_LIMIT, metavar="S",
                   help=f"wall-clock seconds per point, a safety net (default {pt.DEFAULT_TIME_LIMIT:g})")
    p.add_argument("--gap", type=positive_float, default=1e-4, metavar="G", help="relative optimality gap (1e-4)")
    p.add_argument("--no-plot", action="store_true", help="skip the picture")
    _add_cluster_args(p, only=False)
    p.set_defaults(func=cmd_pareto)


def _front_points(text: str | None) -> int:
    """``--points`` of a front: an integer >= 2 (default :data:`~..batch.pareto.DEFAULT_POINTS`)."""
    from ..batch.pareto import DEFAULT_POINTS
    from ..errors import DesignError

    if text is None:
        return DEFAULT_POINTS
    try:
        return int(text)
    except ValueError:
        raise DesignError("--points", f"{text!r} is not an integer", "an integer >= 2 (NxM is for two --sweep)") \
            from None


def _source(args: argparse.Namespace) -> str:
    return (f"--preset {args.preset}" if args.preset else f"--spec {args.spec}") + \
        (f" --mode {args.mode}" if args.mode else "")


def cmd_pareto(args: argparse.Namespace) -> int:
    from ..batch.pareto import parse_sweep
    from ..errors import DesignError
    from ..space.problem import resolve_problem

    problem = resolve_problem(args.preset, args.spec, args.mode)
    if len(args.sweep) > 2:
        raise DesignError("--sweep", f"given {len(args.sweep)} times", "once (a front) or twice (a grid)")
    sweeps = [parse_sweep(text, problem) for text in args.sweep]
    if len(sweeps) == 2:
        return _cmd_grid(args, problem, sweeps)
    return _cmd_front(args, problem, sweeps[0])


def _cmd_front(args: argparse.Namespace, problem: Any, sweep: Any) -> int:
    import sys

    from ..batch.pareto import DEFAULT_INITIAL, DEFAULT_PER_ROUND, pareto

    points = _front_points(args.points)
    initial = DEFAULT_INITIAL if args.initial is None else args.initial
    per_round = DEFAULT_PER_ROUND if args.per_round is None else args.per_round
    cmd = (f"deepmad pareto {_source(args)} --sweep {sweep} --points {points} --initial {initial} "
           f"--per-round {per_round} --time-limit {args.time_limit:g} --gap {args.gap:g} --out {args.out}")
    res = pareto(problem, sweep, args.out, points=points, initial=initial, per_round=per_round,
                 time_limit=args.time_limit, gap=args.gap, workers=args.workers, scheduler=args.scheduler,
                 progress=not args.no_progress, retries=args.retries, keep_failed=args.keep_failed,
                 figure=not args.no_plot, command=cmd)
    for v in res.front.violations:
        print(f"deepmad: error: the front is not monotone (a bug): {v}", file=sys.stderr)
    bad = bool(res.front.violations or res.failed or res.uncertified)
    if args.json:
        emit_json(res.to_dict())
        return 1 if bad else 0
    print(f"{problem.name} over {sweep}: {len(res.front.rows)} points in {res.rounds} rounds ({res.reused} reused, "
          f"{res.solved} certified now, {res.failed} failed) in {res.wall_s:.1f} s")
    print(f"  {'budget':>12} {'status':<10} {'objective':>12} {'front bound':>12} binds")
    for row in res.front.rows:
        d = row.to_dict()
        obj = "-" if d["objective"] is None else f"{d['objective']:,.2f}"
        bound = "-" if d["front_bound"] is None else f"{d['front_bound']:,.2f}"
        lift = f"  (front: the design of {d['front_design_from']:g})" if row.value in res.front.lifted else ""
        print(f"  {row.value:>12.5g} {d['status'] or '-':<10} {obj:>12} {bound:>12} "
              f"{'+'.join(d['binds']) or '-'}{lift}")
    if res.uncertified:
        print(f"not proven optimal at: {', '.join(f'{v:g}' for v in res.uncertified)}", file=sys.stderr)
    print("files: " + ", ".join(res.files))
    return 1 if bad else 0


def _cmd_grid(args: argparse.Namespace, problem: Any, sweeps: list[Any]) -> int:
    import sys

    from ..batch.grid import grid_sweep, pareto_grid
    from ..errors import DesignError

    for name in ("initial", "per_round"):
        if getattr(args, name) is not None:
            raise DesignError(f"--{name.replace('_', '-')}", "applies to one --sweep (a front), not to a grid",
                              "--points NxM for a grid")
    grid = grid_sweep(sweeps, args.points)
    cmd = (f"deepmad pareto {_source(args)} --sweep {grid.sweeps[0]} --sweep {grid.sweeps[1]} "
           f"--points {grid.shape[0]}x{grid.shape[1]} --time-limit {args.time_limit:g} --gap {args.gap:g} "
           f"--out {args.out}")
    res = pareto_grid(problem, grid, args.out, time_limit=args.time_limit, gap=args.gap, workers=args.workers,
                      scheduler=args.scheduler, progress=not args.no_progress, retries=args.retries,
                      keep_failed=args.keep_failed, figure=not args.no_plot, command=cmd)
    for v in res.grid.violations:
        print(f"deepmad: error: the grid is not monotone (a bug): {v}", file=sys.stderr)
    bad = bool(res.grid.violations or res.failed or res.uncertified)
    if args.json:
        emit_json(res.to_dict())
        return 1 if bad else 0
    b0, b1 = (s.budget.value for s in grid.sweeps)
    print(f"{problem.name} over {grid}: {len(res.grid.cells)} cells in {res.rounds} rounds ({res.reused} reused, "
          f"{res.solved} certified now, {res.failed} failed; {res.proven} proven optimal) in {res.wall_s:.1f} s")
    print(f"  {b0:>12} {b1:>12} {'status':<10} {'objective':>12} {'grid bound':>12} binds")
    for cell in res.grid.cells:
        d = cell.to_dict()
        obj = "-" if d["objective"] is None else f"{d['objective']:,.2f}"
        bound = "-" if d["grid_bound"] is None else f"{d['grid_bound']:,.2f}"
        print(f"  {cell.values[b0]:>12.5g} {cell.values[b1]:>12.5g} {d['status'] or '-':<10} {obj:>12} {bound:>12} "
              f"{'+'.join(d['binds']) or '-'}")
    if res.uncertified:
        where = "; ".join(", ".join(f"{k}={v:g}" for k, v in u.items()) for u in res.uncertified)
        print(f"not proven optimal at: {where}", file=sys.stderr)
    print("files: " + ", ".join(res.files))
    return 1 if bad else 0


__all__ = ["EXIT_HELP", "add_compare_parser", "add_instances_parser", "add_pareto_parser", "add_zoo_parser",
           "cmd_compare", "cmd_instances", "cmd_pareto", "cmd_zoo", "exit_status", "register", "require"]
