"""``deepmad design`` and ``deepmad solvers``: the solve commands of the command line."""
from __future__ import annotations

import argparse
import sys
from typing import Any

from ..errors import DesignError
from ..solve.registry import CERTIFY
from .common import (
    Exit,
    Output,
    add_output,
    emit_json,
    resolve_arch,
    seconds,
    stderr_progress,
    worker_count,
)

BINDING, ALL = "binding", "all"  # --prices: the constraints that bind, or all of them
DEFAULT_TIME_LIMIT = 30.0
DEFAULT_CERTIFY_TIME_LIMIT = 120.0


def register(sub: argparse._SubParsersAction) -> None:
    add_design_parser(sub)
    add_solvers_parser(sub)


def add_design_parser(sub: argparse._SubParsersAction) -> None:
    from ..solve.registry import DEFAULT
    from ..space.metrics import MODES
    from ..space.problem import PRESETS

    p = sub.add_parser("design", help="design a backbone for a budget: solve the MINLP, verify the answer",
                       description="Solve a design problem (a preset or a YAML/JSON spec) with a real solver; "
                       "every returned architecture is re-checked against the budgets and bounds.")
    src = p.add_mutually_exclusive_group(required=True)
    src.add_argument("--preset", choices=PRESETS, help="one of the paper's budgets")
    src.add_argument("--spec", metavar="FILE", help="a design problem file (YAML or JSON)")
    p.add_argument("--solver", default=DEFAULT, metavar="NAME",
                   help=f"solver route (default {DEFAULT}; see 'deepmad solvers'; variants as bonmin:B-Hyb, a profile "
                   "as scip@aggressive)")
    p.add_argument("--profile", metavar="P", help="the route's named option profile (solvers/profiles.yaml; "
                   "default: default)")
    p.add_argument("--tee", action="store_true",
                   help="show the solvers' own logs on stderr (the SCIP, Ipopt and Bonmin solves of scip, auto, ipopt, "
                   "bonmin)")
    p.add_argument("--time-limit", type=seconds, default=None, metavar="S",
                   help=f"wall-clock seconds (default {DEFAULT_CERTIFY_TIME_LIMIT:g} for certify, "
                   f"{DEFAULT_TIME_LIMIT:g} for the other routes)")
    p.add_argument("--gap", type=float, default=1e-4, metavar="G", help="relative optimality gap (default 1e-4)")
    p.add_argument("--mode", choices=MODES, help="objective and counting: paper (default of presets) or tinynas")
    p.add_argument("--formulation", choices=("natural", "log"), default="natural")
    p.add_argument("--certify", action="store_true",
                   help="the same as --solver certify (the default): prove a bound over the whole design space")
    p.add_argument("--workers", type=worker_count, default=1, metavar="N", help="parallel processes (certify)")
    p.add_argument("--scheduler", metavar="ADDRESS",
                   help="certify: solve the nodes on an existing Dask cluster, e.g. tcp://10.0.0.1:8786")
    p.add_argument("--warm-start", metavar="ARCH",
                   help="a design to start from (file or zoo model; it must meet the problem): scip, auto, bonmin "
                   "and evolution start from it, certify takes it as its incumbent")
    p.add_argument("--seed", type=int, default=0, help="random seed (evolution)")
    p.add_argument("--prices", nargs="?", const=BINDING, metavar="WHICH",
                   help="also price the constraints: what relaxing each by 1%% and 10%% buys in objective, as an "
                   "interval proven by a certified re-solve of the relaxed problem (two solves per constraint). "
                   f"WHICH: {BINDING} (the default: those within 1%% of their limit), all, or a comma list of "
                   "flops, params, layers, latency_ms, rho, width_caps, depth_caps")
    p.add_argument("--front", metavar="DIR", action="append", default=[],
                   help="with --prices: a deepmad pareto output folder (a front or a grid of this problem); a budget "
                   "it sweeps is priced from its certified points where it holds a point at the relaxed level, "
                   "without a re-solve (repeatable)")
    add_output(p, "--out", Output.FILE, metavar="ARCH.json",
               help="write the architecture (loads in metrics/build/export)")
    add_output(p, "--result", Output.FILE, metavar="RESULT.json",
               help="write the whole result (status, bound, tree, ...)")
    p.add_argument("--json", action="store_true", help="print the result as JSON")
    p.add_argument("--quiet", action="store_true", help="no progress on stderr")
    p.set_defaults(func=cmd_design)


def _check_arguments(args: argparse.Namespace) -> None:
    from ..solve import profiles
    from ..solve.options import check_gap
    from ..solve.registry import parse

    if args.certify:
        args.solver = CERTIFY
    route, _ = parse(args.solver)
    if args.profile is not None:
        if profiles.split(args.solver)[1] is not None:
            raise DesignError("--profile", f"the profile is given twice (--solver {args.solver} and --profile)",
                              "one of them")
        if args.profile not in profiles.names(route.name):
            raise DesignError("--profile", f"{route.name} has no profile {args.profile!r}",
                              ", ".join(profiles.names(route.name)))
    check_gap(args.gap)
    if args.scheduler and args.solver != CERTIFY:
        raise DesignError("--scheduler", "only the certify route runs on a Dask cluster",
                          "drop --solver, or use 'deepmad compare/zoo --scheduler' for many designs")
    if args.scheduler and args.workers > 1:
        raise DesignError("--workers", "give --workers (local processes) or --scheduler, not both")
    if args.scheduler:
        from ..batch.cluster import require

        require()


def _priced(which: str | None, problem: Any) -> list[Any] | None:
    """The constraints ``--prices`` names (``None``: those that bind the design), checked before any work."""
    from ..solve.prices import constraints

    if which == BINDING:
        return None
    present = constraints(problem)
    if which == ALL:
        return present
    names = [n.strip() for n in which.split(",") if n.strip()]  # type: ignore[union-attr]
    valid = f"{BINDING}, {ALL} or a comma list of {', '.join(present)}"
    for n in names:
        if n not in present:
            raise DesignError("--prices", f"{n!r} is not a constraint of {problem.name}", valid)
    if not names:
        raise DesignError("--prices", "no constraint named", valid)
    return [c for c in present if c in names]


def _fronts(folders: list[str], problem: Any) -> list[Any]:
    """The certified points of each ``--front`` folder, checked to be of ``problem`` (before any work)."""
    from ..batch.grid import check_same_problem, load_certified

    out = []
    for folder in folders:
        data, front = load_certified(folder)
        check_same_problem(problem, data, front)
        out.append(front)
    return out


def _prices(args: argparse.Namespace, problem: Any, result: Any, which: list[Any] | None, fronts: list[Any],
            progress: Any) -> tuple[list[Any], dict[str, Any]]:
    """The prices of the design (certified re-solves with the design's own settings) and their report."""
    from ..solve.prices import certified_solve, prices, prices_report

    solve = certified_solve(args.time_limit or DEFAULT_CERTIFY_TIME_LIMIT, args.gap, args.workers, args.scheduler)

    def solve_and_say(relaxed_problem: Any, warm: Any) -> Any:
        res = solve(relaxed_problem, warm)
        if progress:
            progress(f"priced: {res.status.value}, objective {res.objective}, bound {res.bound} in {res.time_s:.1f} s")
        return res
    found = prices(problem, result.architecture, which, solve=solve_and_say, fronts=fronts)
    return found, prices_report(problem, result, found)


def _warm_start(spec: str | None, problem: Any) -> Any:
    """The ``--warm-start`` architecture, checked against the problem (``None`` without one)."""
    if not spec:
        return None
    warm = resolve_arch(spec, resolution=problem.resolution, num_classes=problem.num_classes)
    broken = problem.check(warm)
    if broken:
        raise DesignError("--warm-start", f"{spec} does not meet the problem: {broken[0]}",
                          "a design of the same template within every budget")
    return warm


def _solve(args: argparse.Namespace, problem: Any, warm: Any, progress: Any) -> tuple[Any, str | None]:
    """The design result, and (a certified one) the explanation of its node tree."""
    from ..certify import explain
    from ..solve.design import design
    from ..solve.options import SolveOptions
    from ..solve.profiles import DEFAULT as DEFAULT_PROFILE
    from ..solve.profiles import split
    from ..solve.registry import parse

    route, variant = parse(args.solver)
    profile = args.profile or split(args.solver)[1] or DEFAULT_PROFILE
    default_limit = DEFAULT_CERTIFY_TIME_LIMIT if route.name == CERTIFY else DEFAULT_TIME_LIMIT
    result = design(problem, route.name,
                    SolveOptions(time_limit=args.time_limit or default_limit, gap=args.gap,
                                 formulation=args.formulation, variant=variant, seed=args.seed,
                                 workers=args.workers, scheduler=args.scheduler, warm_start=warm, profile=profile,
                                 tee=args.tee), progress=progress)
    return result, explain(result) if result.certificate is not None else None


def cmd_design(args: argparse.Namespace) -> int:
    from ..fileio import atomic_write_json
    from ..solve.results import Status
    from ..space.problem import resolve_problem

    _check_arguments(args)
    problem = resolve_problem(args.preset, args.spec, args.mode)
    warm = _warm_start(args.warm_start, problem)
    which = _priced(args.prices, problem) if args.prices else None
    if args.front and not args.prices:
        raise DesignError("--front", "prices nothing without --prices", "--prices with --front")
    fronts = _fronts(args.front, problem)
    progress = stderr_progress(not args.quiet)
    if progress:
        progress(f"designing {problem.name} ({problem.mode} mode) with {args.solver}")
    result, why = _solve(args, problem, warm, progress)
    found: list[Any] = []
    data = result.to_dict()
    if args.prices and result.architecture is not None:
        if progress:
            progress("pricing the constraints (certified re-solves of the relaxed problems)")
        found, data["prices"] = _prices(args, problem, result, which, fronts, progress)
    if args.out and result.architecture is not None:
        atomic_write_json(args.out, result.architecture.to_dict())
    if args.result:
        atomic_write_json(args.result, data)
    if args.json:
        emit_json(data)
    else:
        print(format_result(result, problem))
        if why:
            print("\nWhy (the node tree):\n" + why)
        if args.prices and result.architecture is not None:
            from ..solve.prices import format_prices

            print("\n" + format_prices(problem, result.architecture, found))
        if args.out and result.architecture is not None:
            print(f"architecture written to {args.out}")
    if result.status == Status.INFEASIBLE:
        print(f"deepmad: error: {problem.name}: {result.message}", file=sys.stderr)
        return Exit.INFEASIBLE
    return Exit.OK if result.architecture is not None else Exit.FAILED


def format_result(result: Any, problem: Any) -> str:
    lines = [f"{problem.name} ({problem.mode} mode), solver {result.solver}: {result.status.value}"
             f" in {result.time_s:.1f} s wall, {result.cpu_s:.1f} s CPU"]
    if result.architecture is not None:
        m = result.metrics
        lines.append(f"  objective  {result.objective:,.4f}   (score {m['score']:,.2f} - depth penalty "
                     f"{m['depth_penalty']:,.2f}; recomputed from the architecture)")
        if result.bound is not None:
            lines.append(f"  bound      {result.bound:,.4f}   gap {result.gap:.2e} (proven)")
        else:
            lines.append("  bound      none: this route proves no bound (the default route, certify, does)")
        for budget in ("flops", "params"):
            limit = getattr(problem.budgets, budget)
            name = problem.budget_metric(budget)
            used = m[name]
            limit_s = f" of {limit:,.0f} ({100 * used / limit:.2f}%)" if limit else ""
            lines.append(f"  {budget:<10} {used:,.0f}{limit_s}  measured as {name}")
        b = problem.budgets
        if b.latency_ms is not None:
            from ..latency import load_cached, predict_ms

            model = load_cached(b.latency_model)
            lat = predict_ms(model, result.architecture, resolution=problem.resolution)
            margin = f", designed to {b.latency_limit_ms:,.2f} ms ({b.latency_margin:.0%} margin)" \
                if b.latency_margin else ""
            lines.append(f"  latency    {lat:,.2f} ms predicted of {b.latency_ms:,.2f} ms{margin}  ({model.describe()})")
        lines.append(f"  rho        {m['rho']:.4f} <= {problem.objective.rho0}   layers {m['layers']}")
        lines.append(f"  MACs       {m['macs']:,} (multiply-accumulates, conv + linear)   params {m['params']:,}")
        lines.append("  " + result.architecture.describe())
    if result.message:
        lines.append(f"  note: {result.message}")
    return "\n".join(lines)


def add_solvers_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("solvers", help="list every solver route, whether it runs here, and how to get it")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_solvers)


def solver_rows() -> list[dict[str, Any]]:
    from ..solve.registry import DEFAULT, REGISTRY

    rows = []
    for name, info in REGISTRY.items():
        version = info.version()
        rows.append({"name": name, "available": version is not None, "version": version, "kind": info.kind,
                     "default": name == DEFAULT, "variants": list(info.variants),
                     "description": info.description, "install": None if version else info.install})
    return rows


def cmd_solvers(args: argparse.Namespace) -> int:
    rows = solver_rows()
    if args.json:
        emit_json(rows)
        return 0
    for r in rows:
        mark = "yes" if r["available"] else "no "
        default = " (default)" if r["default"] else ""
        print(f"{r['name']:<10} {mark} {r['kind']:<13} {r['version'] or 'missing: ' + r['install']}{default}")
        if r["variants"]:
            print(f"{'':<10}     variants: {', '.join(r['variants'])}")
    return 0


__all__ = ["DEFAULT_CERTIFY_TIME_LIMIT", "DEFAULT_TIME_LIMIT", "cmd_design", "cmd_solvers", "format_result",
           "register", "solver_rows"]
