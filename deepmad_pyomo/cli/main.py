"""The ``deepmad`` command line.

One small function per subcommand: ``_add_<name>(subparsers)`` declares its arguments and registers
``cmd_<name>(args) -> int`` as its handler; :func:`build_parser` calls every ``_add_<name>``. A new
subcommand is one more pair of functions and one more line in :func:`build_parser`.

Bad input raises :class:`~deepmad_pyomo.errors.DesignError` anywhere below; :func:`main` alone turns
it (and ``OSError`` from reading or writing files) into one line on stderr and exit status 2.
Heavy modules (torch, the registry) are imported inside the commands that need them.
"""
from __future__ import annotations

import argparse
import contextlib
import json
import os
import sys
from dataclasses import replace
from pathlib import Path
from typing import Any, Iterator, Sequence

from ..errors import DesignError
from ..fileio import plain
from ..space.families import default_rho0

PROG = "deepmad"
ARCH_HELP = ("an architecture: our JSON file, an official TinyNAS structure file, or a registered model "
             "name (see the model registry)")
# Suffixes that make ARCH a file name even when the file is missing (so the error says so).
_FILE_SUFFIXES = {".json", ".txt", ".py", ".yaml", ".yml"}


# ----------------------------------------------------------------------------------------- helpers
def _emit_json(data: Any) -> None:
    print(json.dumps(data, indent=1))


def _positive(value: int | None, field: str) -> int | None:
    if value is not None and value < 1:
        raise DesignError(field, f"must be positive, got {value}", "an integer >= 1")
    return value


def resolve_arch(spec: str, resolution: int | None = None, num_classes: int | None = None):
    """ARCH as given on the command line -> :class:`~deepmad_pyomo.space.arch.Architecture`.

    An existing path (or anything that looks like a file name) is loaded with :func:`arch.load`;
    anything else is looked up in the model registry."""
    from ..space import arch as arch_mod

    _positive(resolution, "resolution")
    _positive(num_classes, "num_classes")
    path = Path(spec)
    if path.exists() or path.suffix.lower() in _FILE_SUFFIXES or "/" in spec or "\\" in spec:
        with _text_file(path):
            return arch_mod.load(path, resolution=resolution, num_classes=num_classes)
    try:
        from ..nn import models as registry
    except ImportError:
        raise DesignError("ARCH", f"no file named {spec!r} (and no model registry is installed)",
                          "a path to a .json or TinyNAS .txt structure file") from None
    try:
        a = registry.get_architecture(spec)
    except KeyError:
        raise DesignError("ARCH", f"no file or registered model named {spec!r}",
                          ", ".join(registry.list_models())) from None
    changes = {k: v for k, v in (("resolution", resolution), ("num_classes", num_classes)) if v is not None}
    return a.with_(**changes) if changes else a


@contextlib.contextmanager
def _text_file(path: str | Path) -> Iterator[None]:
    """Turn a file that is not UTF-8 text into a DesignError naming it (the loaders let it escape)."""
    try:
        yield
    except UnicodeDecodeError as e:
        raise DesignError(str(path), f"not a text file ({e.reason} at byte {e.start})",
                          "UTF-8 JSON, YAML or a TinyNAS structure file") from None


def _family_rho0(a) -> float:
    """The effectiveness bound of the architecture's family: 0.5 MobileNet-like, else 0.3."""
    return default_rho0(b.type for b in a.super_blocks)


def _default_settings(a, mode: str | None):
    """Objective settings for an architecture with no design problem: the default alpha (1 per stage, 8 on
    the last), beta 10, the family's rho0."""
    from ..space.metrics import ObjectiveSettings

    return ObjectiveSettings(alpha=None, beta=10.0, rho0=_family_rho0(a), mode=mode or "paper")


def _released_preset(a) -> str | None:
    from ..space.problem import RELEASED_PRESET

    if not a.name:
        return None
    lowered = {k.lower(): v for k, v in RELEASED_PRESET.items()}
    return lowered.get(str(a.name).lower())


def _fmt_count(v: float, unit: str, scale: float) -> str:
    return f"{int(round(v)):>15,}  ({v / scale:8.3f} {unit})"


# ----------------------------------------------------------------------------------------- metrics
def _add_metrics(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("metrics", help="entropy objective, effectiveness, FLOPs and params of an architecture",
                       description="Evaluate the DeepMAD metrics of an architecture and check it against "
                                   "a design problem (its preset by default).")
    p.add_argument("arch", metavar="ARCH", help=ARCH_HELP)
    p.add_argument("--mode", choices=("paper", "tinynas"), help="objective form (default: that of the problem)")
    p.add_argument("--resolution", type=int, metavar="R", help="input side (default: the architecture's)")
    g = p.add_mutually_exclusive_group()
    g.add_argument("--preset", metavar="NAME", help="check against this preset (see 'deepmad presets')")
    g.add_argument("--spec", metavar="FILE", help="check against this design problem (YAML or JSON)")
    p.add_argument("--json", action="store_true", help="print JSON")
    p.set_defaults(func=cmd_metrics)


def metrics_report(a, problem=None, mode: str | None = None) -> dict[str, Any]:
    """The data ``deepmad metrics`` prints: :class:`Metrics` plus conventions and the checks."""
    from ..space import metrics as M

    notes: list[str] = []
    if problem is not None:
        problem = problem.with_mode(mode)
        settings = problem.objective
        n_stages = len(M.stage_ends([b.s for b in a.blocks]))
        if settings.alpha is not None and len(settings.alpha) != n_stages:
            # not this problem's template: keep its beta, rho0 and mode, take the default alpha
            settings = replace(settings, alpha=None)
            notes.append(f"objective.alpha: {problem.name} weights {len(problem.objective.alpha)} stages, the "
                         f"architecture has {n_stages} (evaluated with alpha "
                         f"{list(M.stage_weights(settings, n_stages))})")
    else:
        settings = _default_settings(a, mode)
    m = M.evaluate(a, settings)
    terms = M.network_terms(a.blocks, a.resolution, a.num_classes)
    if problem is not None:
        violations = notes + problem.check(a, m)
        if problem.resolution != a.resolution:
            violations.append(f"resolution: the architecture is evaluated at {a.resolution}, the problem is "
                              f"posed at {problem.resolution} (use --resolution {problem.resolution})")
    else:
        violations = []
        if m.rho > settings.rho0 * (1 + 1e-9):
            violations.append(f"effectiveness: rho {m.rho:.4f} > rho0 {settings.rho0}")
    d = m.to_dict()
    fc_macs = a.blocks[-1].c_out * a.num_classes
    d.update(
        name=a.name, architecture=a.describe(), conv_macs=m.macs - fc_macs, rho0=settings.rho0,
        alpha=list(M.stage_weights(settings, len(terms.stages))), beta=settings.beta,
        penalised_depths=[int(x) for x in M.penalised_depths(terms, settings.mode)],
        stages=[{"end_block": st.end, "channels": int(st.channels), "resolution": st.resolution,
                 "resolution_used": 1.0 if (settings.mode == "tinynas" and st.se_before) else st.resolution,
                 "layers": int(st.layers)} for st in terms.stages],
        checked_against=problem.name if problem is not None else None,
        budgets=_budget_rows(problem, d) if problem is not None else [],
        violations=violations,
    )
    d["conventions"] = {
        **d["conventions"],
        "conv_macs": "multiply-accumulates of conv layers only (macs minus the classifier)",
        "layers": "conv layers of the main path (no shortcut projections, no SE convs)",
        "score": "sum over stages of alpha_j * H_j",
        "objective": "score minus depth_penalty",
        "depth_penalty": ("beta * exp(std(L)) over penalised_depths" if settings.mode == "tinynas"
                          else "beta * exp(Var(L)) over penalised_depths"),
        "rho": ("max over stage prefixes of layers / exp(mean log w)" if settings.mode == "tinynas"
                else "layers / exp(mean log w) over the whole main path"),
    }
    return d


def _budget_rows(problem, d: dict[str, Any]) -> list[dict[str, Any]]:
    rows = []
    for budget in ("flops", "params", "layers"):
        limit = getattr(problem.budgets, budget)
        if limit is not None:
            metric = problem.budget_metric(budget) if budget != "layers" else "layers"
            rows.append({"budget": budget, "limit": limit, "measured_as": metric, "value": d[metric]})
    return rows


def cmd_metrics(args: argparse.Namespace) -> int:
    from ..space import problem as P

    a = resolve_arch(args.arch, resolution=args.resolution)
    if args.preset or args.spec:
        with _text_file(args.spec or ""):
            prob = P.resolve_problem(args.preset, args.spec)
    else:
        name = _released_preset(a)
        prob = P.preset(name) if name else None
    d = metrics_report(a, prob, args.mode)
    if args.json:
        _emit_json(d)
    else:
        print(format_metrics(d))
    return 0


def format_metrics(d: dict[str, Any]) -> str:
    mode = d["mode"]
    coef = "0.5*log(w) per layer (official code)" if mode == "tinynas" else "log(w) per layer (paper)"
    lines = [f"{d['name'] or 'architecture'}: {d['resolution']}x{d['resolution']} input, "
             f"{d['num_classes']} classes, {mode} mode",
             f"  {d['architecture']}", "", "Costs"]
    rows = [
        ("MACs", _fmt_count(d["macs"], "G", 1e9), "multiply-accumulates, conv + linear (1 MAC = 2 FLOPs)"),
        ("conv MACs", _fmt_count(d["conv_macs"], "G", 1e9), "multiply-accumulates, conv layers only"),
        ("FLOPs (official)", _fmt_count(d["tinynas_flops"], "G", 1e9),
         "TinyNAS count: MACs + BN 2/elem + ReLU 1/elem + avg-pool, no SE, no FC"),
        ("params", _fmt_count(d["params"], "M", 1e6), "all learnable, incl. BN affine and classifier"),
        ("params (official)", _fmt_count(d["tinynas_params"], "M", 1e6), "TinyNAS count: without the classifier"),
        ("layers", f"{d['layers']:>15,}", "main-path conv layers (no shortcut, no SE)"),
    ]
    lines += [f"  {k:<18} {v:<29} {c}" for k, v, c in rows]
    lines += ["", f"Entropy (H_j = log(r_j^2 c_j) x sum of {coef})",
              f"  {'stage':>5} {'blocks':>7} {'width':>6} {'r':>5} {'layers':>6} {'alpha':>5} {'alpha*H':>12}"]
    start = 0
    for j, (st, h, a) in enumerate(zip(d["stages"], d["stage_entropy"], d["alpha"]), 1):
        blocks = f"{start}-{st['end_block']}" if st["end_block"] > start else f"{start}"
        r = f"{st['resolution_used']:g}" + ("*" if st["resolution_used"] != st["resolution"] else "")
        lines.append(f"  {j:>5} {blocks:>7} {st['channels']:>6} {r:>5} {st['layers']:>6} {a:>5g} {h:>12.2f}")
        start = st["end_block"] + 1
    if any(st["resolution_used"] != st["resolution"] for st in d["stages"]):
        lines.append("  * r = 1 at and after the first SE block: the official code's SE bug (tinynas mode)")
    pen = ("beta x exp(std L)" if mode == "tinynas" else "beta x exp(Var L)")
    which = " (last three super-blocks)" if len(d["penalised_depths"]) == 3 and mode == "tinynas" else ""
    rho_def = "max over stage prefixes" if mode == "tinynas" else "whole main path"
    ok = "<=" if d["rho"] <= d["rho0"] * (1 + 1e-9) else ">"
    lines += [
        f"  {'score':<14} {d['score']:>12.2f}  sum of alpha_j H_j",
        f"  {'depth penalty':<14} {d['depth_penalty']:>12.2f}  {pen}, beta {d['beta']:g}, "
        f"L = {d['penalised_depths']}{which}",
        f"  {'objective':<14} {d['objective']:>12.2f}  score - depth penalty",
        f"  {'rho':<14} {d['rho']:>12.4f}  {ok} rho0 {d['rho0']:g}  (L / exp(mean log w), {rho_def})",
        "",
    ]
    if d["checked_against"]:
        lines.append(f"Checks against {d['checked_against']} ({mode} mode)")
        for b in d["budgets"]:
            lines.append(f"  budget {b['budget']:<6} {b['value']:>15,.0f} of {b['limit']:>15,.0f} "
                         f"({100 * b['value'] / b['limit']:6.2f}%)  measured as {b['measured_as']}")
    else:
        lines.append(f"Checks (no design problem: effectiveness bound rho0 {d['rho0']:g} of the family only)")
    if d["violations"]:
        lines += [f"  - {v}" for v in d["violations"]]
    else:
        lines.append("  meets every budget and bound")
    return "\n".join(lines)


# ------------------------------------------------------------------------------------------- build
def _add_build(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("build", help="build the torch module of an architecture (and verify its counts)",
                       description="Build the torch.nn.Module of an architecture; with --verify count its "
                                   "MACs and params independently and compare them with the analytic counts.")
    p.add_argument("arch", metavar="ARCH", help=ARCH_HELP)
    p.add_argument("--verify", action="store_true", help="compare analytic and counted MACs/params (exit 1 "
                                                         "on a mismatch)")
    p.add_argument("--resolution", type=int, metavar="R", help="input side (default: the architecture's)")
    p.add_argument("--num-classes", type=int, metavar="N", help="classifier outputs (default: the architecture's)")
    p.add_argument("--json", action="store_true", help="print JSON")
    from .latency import add_build_latency_arguments

    add_build_latency_arguments(p)
    p.set_defaults(func=cmd_build)


def cmd_build(args: argparse.Namespace) -> int:
    from .latency import build_latency, format_build_latency

    a = resolve_arch(args.arch, resolution=args.resolution, num_classes=args.num_classes)
    head = {"name": a.name, "resolution": a.resolution, "num_classes": a.num_classes}
    latency = build_latency(args, a)
    if args.verify:
        from ..nn.verify import verify

        v = verify(a, resolution=a.resolution, num_classes=a.num_classes)
        d = {**head, **v.to_dict(), **(latency or {})}
        if args.json:
            _emit_json(d)
        else:
            print(format_verification(a, v))
            if latency:
                print(format_build_latency(latency))
        return 0 if v.match else 1
    from ..nn.network import build_model

    model = build_model(a, num_classes=a.num_classes)
    n_params = sum(p.numel() for p in model.parameters())
    n_convs = sum(type(m).__name__ == "Conv2d" for m in model.modules())
    d = {**head, "module": type(model).__name__, "params": n_params, "conv_layers": n_convs, **(latency or {})}
    if args.json:
        _emit_json(d)
    else:
        print(f"{a.name or 'architecture'}: {type(model).__name__} for {a.resolution}x{a.resolution} input, "
              f"{a.num_classes} classes")
        print(f"  {a.describe()}")
        print(f"  params      {n_params:>15,}  ({n_params / 1e6:.3f} M)  all learnable, incl. BN affine "
              "and classifier")
        print(f"  conv layers {n_convs:>15,}  every Conv2d module (main path, shortcut and SE)")
        if latency:
            print(format_build_latency(latency))
    return 0


def format_verification(a, v) -> str:
    def row(name: str, an: int, co: int, conv: str) -> str:
        mark = "ok" if an == co else f"MISMATCH ({co - an:+,})"
        return f"  {name:<7} {an:>15,} {co:>15,}  {mark:<10} {conv}"

    lines = [f"{a.name or 'architecture'}: {a.resolution}x{a.resolution} input, {a.num_classes} classes",
             f"  {'':<7} {'analytic':>15} {'counted':>15}",
             row("MACs", v.macs_analytic, v.macs_counted, "multiply-accumulates, conv + linear (1 MAC = 2 FLOPs)"),
             row("params", v.params_analytic, v.params_counted, "all learnable, incl. BN affine and classifier"),
             "match" if v.match else "MISMATCH: the analytic counts and the built module disagree"]
    return "\n".join(lines)


# ------------------------------------------------------------------------------------------ export
def _add_export(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("export", help="write an architecture as our JSON or an official TinyNAS structure file",
                       description="Convert an architecture to our JSON or to the official TinyNAS structure "
                                   "format (stdout, or a file written atomically).")
    p.add_argument("arch", metavar="ARCH", help=ARCH_HELP)
    p.add_argument("--format", required=True, choices=("json", "tinynas"), help="output format")
    p.add_argument("--out", metavar="FILE", help="write here (atomically) instead of stdout")
    p.set_defaults(func=cmd_export)


def cmd_export(args: argparse.Namespace) -> int:
    from ..space import tinynas as tinynas_io

    a = resolve_arch(args.arch)
    text = a.to_json() + "\n" if args.format == "json" else tinynas_io.dumps(a)
    if args.out:
        from ..fileio import atomic_write_text

        atomic_write_text(args.out, text)
    else:
        sys.stdout.write(text)
    return 0


# ----------------------------------------------------------------------------------------- presets
def _add_presets(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("presets", help="list the paper's design problems, or show one",
                       description="List the seven presets (budgets, mode, family) or dump one as YAML.")
    p.add_argument("--show", metavar="NAME", help="dump this preset (YAML, or JSON with --json)")
    p.add_argument("--json", action="store_true", help="print JSON")
    p.set_defaults(func=cmd_presets)


def _preset_row(prob) -> dict[str, Any]:
    fam = sorted({st.type for st in prob.stages})
    return {"name": prob.name, "mode": prob.mode, "family": "+".join(fam), "resolution": prob.resolution,
            "flops": prob.budgets.flops, "params": prob.budgets.params, "rho0": prob.objective.rho0,
            "flops_measured_as": prob.budget_metric("flops"), "params_measured_as": prob.budget_metric("params"),
            "description": prob.description}


def cmd_presets(args: argparse.Namespace) -> int:
    from ..space import problem as P

    if args.show:
        d = plain(P.preset(args.show).to_dict())
        if args.json:
            _emit_json(d)
        else:
            import yaml

            sys.stdout.write(yaml.safe_dump(d, sort_keys=False, default_flow_style=None))
        return 0
    rows = [_preset_row(P.preset(n)) for n in P.PRESETS]
    if args.json:
        _emit_json(rows)
        return 0

    def budget(v: float | None, scale: float, unit: str) -> str:
        return "-" if v is None else f"{v / scale:g}{unit}"

    print(f"{'name':<17} {'family':<9} {'res':>4} {'FLOPs':>7} {'params':>7} {'rho0':>5}  mode")
    for r in rows:
        print(f"{r['name']:<17} {r['family']:<9} {r['resolution']:>4} {budget(r['flops'], 1e9, 'G'):>7} "
              f"{budget(r['params'], 1e6, 'M'):>7} {r['rho0']:>5g}  {r['mode']}")
    print("FLOPs budgets are MACs of conv + linear layers in paper mode, the official TinyNAS count in "
          "tinynas mode;\nparams budgets are all params in paper mode, params without the classifier in "
          "tinynas mode.\nShow one: deepmad presets --show NAME")
    return 0


# -------------------------------------------------------------------------------------------- main
def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog=PROG, description="DeepMAD CNN backbone design as a Pyomo MINLP.")
    from .. import __version__

    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    _add_metrics(sub)
    _add_build(sub)
    _add_export(sub)
    _add_presets(sub)
    from .batch import add_compare_parser, add_zoo_parser
    from .design import add_design_parser, add_solvers_parser
    from .latency import add_latency_parser

    add_design_parser(sub)
    add_solvers_parser(sub)
    add_compare_parser(sub)
    add_zoo_parser(sub)
    add_latency_parser(sub)
    return parser


def _error(message: str) -> int:
    one_line = " ".join(str(message).split())
    print(f"{PROG}: error: {one_line}", file=sys.stderr)
    return 2


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as e:  # usage errors (2), --help and --version (0)
        return e.code if isinstance(e.code, int) else (0 if e.code is None else 2)
    try:
        return int(args.func(args) or 0)
    except DesignError as e:
        return _error(str(e))
    except KeyboardInterrupt:
        print(f"{PROG}: interrupted; files written so far are complete (compare and zoo resume when rerun)",
              file=sys.stderr)
        return 130
    except BrokenPipeError:  # stdout closed early (``deepmad ... | head``): stop quietly
        try:
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, sys.stdout.fileno())
        except (OSError, ValueError):
            pass
        return 1
    except OSError as e:
        where = f"{e.filename}: " if getattr(e, "filename", None) else ""
        return _error(f"{where}{e.strerror or e}")


if __name__ == "__main__":
    sys.exit(main())
