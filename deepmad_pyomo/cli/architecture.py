"""``deepmad metrics``, ``build``, ``export`` and ``presets``: the commands on one architecture or preset."""
from __future__ import annotations

import argparse
import sys
from typing import Any

from ..fileio import plain
from ..space.families import Mode
from .common import ARCH_HELP, Output, add_output, emit_json, positive_int, resolve_arch
from .latency import add_build_latency_arguments, build_latency, format_build_latency


def register(sub: argparse._SubParsersAction) -> None:
    add_metrics_parser(sub)
    add_build_parser(sub)
    add_export_parser(sub)
    add_presets_parser(sub)


def _fmt_count(v: float, unit: str, scale: float) -> str:
    return f"{int(round(v)):>15,}  ({v / scale:8.3f} {unit})"


# ----------------------------------------------------------------------------------------- metrics
def add_metrics_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("metrics", help="entropy objective, effectiveness, FLOPs and params of an architecture",
                       description="Evaluate the DeepMAD metrics of an architecture and check it against "
                                   "a design problem (its preset by default).")
    p.add_argument("arch", metavar="ARCH", help=ARCH_HELP)
    p.add_argument("--mode", choices=Mode.values(), help="objective form (default: that of the problem)")
    p.add_argument("--resolution", type=int, metavar="R", help="input side (default: the architecture's)")
    g = p.add_mutually_exclusive_group()
    g.add_argument("--preset", metavar="NAME", help="check against this preset (see 'deepmad presets')")
    g.add_argument("--spec", metavar="FILE", help="check against this design problem (YAML or JSON)")
    p.add_argument("--json", action="store_true", help="print JSON")
    p.set_defaults(func=cmd_metrics)


def cmd_metrics(args: argparse.Namespace) -> int:
    from ..space import problem as P
    from ..space.report import metrics_report, released_preset

    a = resolve_arch(args.arch, resolution=args.resolution)
    if args.preset or args.spec:
        prob = P.resolve_problem(args.preset, args.spec)
    else:
        name = released_preset(a)
        prob = P.preset(name) if name else None
    d = metrics_report(a, prob, args.mode)
    if args.json:
        emit_json(d)
    else:
        print(format_metrics(d))
    return 0


def _format_costs(d: dict[str, Any]) -> list[str]:
    rows = [
        ("MACs", _fmt_count(d["macs"], "G", 1e9), "multiply-accumulates, conv + linear (1 MAC = 2 FLOPs)"),
        ("conv MACs", _fmt_count(d["conv_macs"], "G", 1e9), "multiply-accumulates, conv layers only"),
        ("FLOPs (official)", _fmt_count(d["tinynas_flops"], "G", 1e9),
         "TinyNAS count: MACs + BN 2/elem + ReLU 1/elem + avg-pool, no SE, no FC"),
        ("params", _fmt_count(d["params"], "M", 1e6), "all learnable, incl. BN affine and classifier"),
        ("params (official)", _fmt_count(d["tinynas_params"], "M", 1e6), "TinyNAS count: without the classifier"),
        ("layers", f"{d['layers']:>15,}", "main-path conv layers (no shortcut, no SE)"),
    ]
    return ["Costs"] + [f"  {k:<18} {v:<29} {c}" for k, v, c in rows]


def _format_entropy(d: dict[str, Any]) -> list[str]:
    mode = d["mode"]
    coef = "0.5*log(w) per layer (official code)" if mode == Mode.TINYNAS else "log(w) per layer (paper)"
    lines = [f"Entropy (H_j = log(r_j^2 c_j) x sum of {coef})",
             f"  {'stage':>5} {'blocks':>7} {'width':>6} {'r':>5} {'layers':>6} {'alpha':>5} {'alpha*H':>12}"]
    start = 0
    for j, (st, h, a) in enumerate(zip(d["stages"], d["stage_entropy"], d["alpha"]), 1):
        blocks = f"{start}-{st['end_block']}" if st["end_block"] > start else f"{start}"
        r = f"{st['resolution_used']:g}" + ("*" if st["resolution_used"] != st["resolution"] else "")
        lines.append(f"  {j:>5} {blocks:>7} {st['channels']:>6} {r:>5} {st['layers']:>6} {a:>5g} {h:>12.2f}")
        start = st["end_block"] + 1
    if any(st["resolution_used"] != st["resolution"] for st in d["stages"]):
        lines.append("  * r = 1 at and after the first SE block: the official code's SE bug (tinynas mode)")
    pen = ("beta x exp(std L)" if mode == Mode.TINYNAS else "beta x exp(Var L)")
    which = " (last three super-blocks)" if len(d["penalised_depths"]) == 3 and mode == Mode.TINYNAS else ""
    rho_def = "max over stage prefixes" if mode == Mode.TINYNAS else "whole main path"
    ok = "<=" if d["rho"] <= d["rho0"] * (1 + 1e-9) else ">"
    return lines + [
        f"  {'score':<14} {d['score']:>12.2f}  sum of alpha_j H_j",
        f"  {'depth penalty':<14} {d['depth_penalty']:>12.2f}  {pen}, beta {d['beta']:g}, "
        f"L = {d['penalised_depths']}{which}",
        f"  {'objective':<14} {d['objective']:>12.2f}  score - depth penalty",
        f"  {'rho':<14} {d['rho']:>12.4f}  {ok} rho0 {d['rho0']:g}  (L / exp(mean log w), {rho_def})",
    ]


def _format_checks(d: dict[str, Any]) -> list[str]:
    if d["checked_against"]:
        lines = [f"Checks against {d['checked_against']} ({d['mode']} mode)"]
        for b in d["budgets"]:
            lines.append(f"  budget {b['budget']:<6} {b['value']:>15,.0f} of {b['limit']:>15,.0f} "
                         f"({100 * b['value'] / b['limit']:6.2f}%)  measured as {b['measured_as']}")
    else:
        lines = [f"Checks (no design problem: effectiveness bound rho0 {d['rho0']:g} of the family only)"]
    if d["violations"]:
        return lines + [f"  - {v}" for v in d["violations"]]
    return lines + ["  meets every budget and bound"]


def format_metrics(d: dict[str, Any]) -> str:
    """The text ``deepmad metrics`` prints for a :func:`~deepmad_pyomo.space.report.metrics_report`."""
    head = [f"{d['name'] or 'architecture'}: {d['resolution']}x{d['resolution']} input, "
            f"{d['num_classes']} classes, {d['mode']} mode", f"  {d['architecture']}", ""]
    return "\n".join(head + _format_costs(d) + [""] + _format_entropy(d) + [""] + _format_checks(d))


# ------------------------------------------------------------------------------------------- build
def add_build_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("build", help="build the torch module of an architecture (and verify its counts)",
                       description="Build the torch.nn.Module of an architecture; with --verify count its "
                                   "MACs and params independently and compare them with the analytic counts.")
    p.add_argument("arch", metavar="ARCH", help=ARCH_HELP)
    p.add_argument("--verify", action="store_true", help="compare analytic and counted MACs/params (exit 1 "
                                                         "on a mismatch)")
    p.add_argument("--resolution", type=int, metavar="R", help="input side (default: the architecture's)")
    p.add_argument("--num-classes", type=int, metavar="N", help="classifier outputs (default: the architecture's)")
    p.add_argument("--json", action="store_true", help="print JSON")
    add_build_latency_arguments(p)
    p.set_defaults(func=cmd_build)


def _verify(args: argparse.Namespace, a: Any, head: dict[str, Any], latency: dict[str, Any] | None) -> int:
    from ..nn.verify import verify

    v = verify(a, resolution=a.resolution, num_classes=a.num_classes)
    if args.json:
        emit_json({**head, **v.to_dict(), **(latency or {})})
    else:
        print(format_verification(a, v))
        if latency:
            print(format_build_latency(latency))
    return 0 if v.match else 1


def cmd_build(args: argparse.Namespace) -> int:
    from ..nn.network import build_model

    a = resolve_arch(args.arch, resolution=args.resolution, num_classes=args.num_classes)
    head = {"name": a.name, "resolution": a.resolution, "num_classes": a.num_classes}
    latency = build_latency(args, a)
    if args.verify:
        return _verify(args, a, head, latency)
    model = build_model(a, num_classes=a.num_classes)
    n_params = sum(p.numel() for p in model.parameters())
    n_convs = sum(type(m).__name__ == "Conv2d" for m in model.modules())
    if args.json:
        emit_json({**head, "module": type(model).__name__, "params": n_params, "conv_layers": n_convs,
                   **(latency or {})})
        return 0
    print(f"{a.name or 'architecture'}: {type(model).__name__} for {a.resolution}x{a.resolution} input, "
          f"{a.num_classes} classes")
    print(f"  {a.describe()}")
    print(f"  params      {n_params:>15,}  ({n_params / 1e6:.3f} M)  all learnable, incl. BN affine "
          "and classifier")
    print(f"  conv layers {n_convs:>15,}  every Conv2d module (main path, shortcut and SE)")
    if latency:
        print(format_build_latency(latency))
    return 0


def format_verification(a: Any, v: Any) -> str:
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
ARCH_FORMATS = ("json", "tinynas")
MODEL_FORMATS = ("onnx", "torchscript", "pt2")


def add_export_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("export", help="write an architecture as JSON or TinyNAS structure, or its model as "
                                      "ONNX, TorchScript or torch.export (.pt2)",
                       description="Convert an architecture to our JSON or to the official TinyNAS structure "
                                   "format (stdout, or a file written atomically); or export its torch module "
                                   "(eval mode, deterministic random weights, seed 0: no trained weights exist) "
                                   "as ONNX, TorchScript or a torch.export program with a dynamic batch "
                                   "dimension, then load the file back and compare it with torch at batch 1 and "
                                   "3 (exit 1 when they differ). ONNX needs: pip install 'deepmad-pyomo[export]'.")
    p.add_argument("arch", metavar="ARCH", help=ARCH_HELP)
    p.add_argument("--format", required=True, choices=ARCH_FORMATS + MODEL_FORMATS, help="output format")
    add_output(p, "--out", Output.FILE, metavar="FILE", help="write here (atomically) instead of stdout "
                                                              "(required for onnx, torchscript and pt2)")
    p.add_argument("--batch", type=positive_int, metavar="N", help="batch size of the example input the model "
                                                                   "is exported with (default 2; the exported "
                                                                   "batch dimension is dynamic)")
    p.add_argument("--num-classes", type=positive_int, metavar="K", help="classifier outputs (default: the "
                                                                         "architecture's)")
    p.add_argument("--resolution", type=positive_int, metavar="R", help="input side (default: the "
                                                                        "architecture's)")
    p.add_argument("--json", action="store_true", help="print the check as JSON (onnx, torchscript, pt2)")
    p.set_defaults(func=cmd_export)


def cmd_export(args: argparse.Namespace) -> int:
    from ..errors import DesignError
    from ..fileio import atomic_write_text

    if args.format in MODEL_FORMATS:
        return _export_model(args)
    for flag, value in (("--batch", args.batch), ("--json", args.json or None)):
        if value is not None:
            raise DesignError(flag, f"only for a model export, not --format {args.format}",
                              ", ".join(MODEL_FORMATS))
    from ..space import tinynas as tinynas_io

    a = resolve_arch(args.arch, resolution=args.resolution, num_classes=args.num_classes)
    text = a.to_json() + "\n" if args.format == "json" else tinynas_io.dumps(a)
    if args.out:
        atomic_write_text(args.out, text)
    else:
        sys.stdout.write(text)
    return 0


def _export_model(args: argparse.Namespace) -> int:
    from ..errors import DesignError
    from ..nn import export as ex

    ex.require(args.format)  # a missing onnx / onnxruntime: one line, before any work
    if not args.out:
        raise DesignError("--out", f"required for --format {args.format}", "a file path")
    a = resolve_arch(args.arch, resolution=args.resolution, num_classes=args.num_classes)
    c = ex.export_model(a, args.format, args.out, batch=args.batch or 2)
    if args.json:
        emit_json({"name": a.name, "resolution": a.resolution, "num_classes": a.num_classes,
                   "export_batch": args.batch or 2, "seed": ex.SEED, **c.to_dict()})
    else:
        print(f"{a.name or 'architecture'}: {args.format} for {a.resolution}x{a.resolution} input, "
              f"{a.num_classes} classes, dynamic batch -> {args.out}")
        if c.checker:
            print(f"  {c.checker}")
        print(f"  check vs torch at batch {', '.join(map(str, c.batches))}: max |diff| {c.max_abs_diff:.3g}, "
              f"tolerance {c.tolerance:.3g} ({c.rtol:g} x output scale {c.output_scale:.3g} + {c.atol:g}): "
              f"{'ok' if c.ok else 'FAILED'}")
    return 0 if c.ok else 1


# ----------------------------------------------------------------------------------------- presets
def add_presets_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("presets", help="list the paper's design problems, or show one",
                       description="List the seven presets (budgets, mode, family) or dump one as YAML.")
    p.add_argument("--show", metavar="NAME", help="dump this preset (YAML, or JSON with --json)")
    p.add_argument("--json", action="store_true", help="print JSON")
    p.set_defaults(func=cmd_presets)


def _preset_row(prob: Any) -> dict[str, Any]:
    fam = sorted({st.type for st in prob.stages})
    return {"name": prob.name, "mode": prob.mode, "family": "+".join(fam), "resolution": prob.resolution,
            "flops": prob.budgets.flops, "params": prob.budgets.params, "rho0": prob.objective.rho0,
            "flops_measured_as": prob.budget_metric("flops"), "params_measured_as": prob.budget_metric("params"),
            "description": prob.description}


def _budget(v: float | None, scale: float, unit: str) -> str:
    return "-" if v is None else f"{v / scale:g}{unit}"


def cmd_presets(args: argparse.Namespace) -> int:
    from ..space import problem as P

    if args.show:
        d = plain(P.preset(args.show).to_dict())
        if args.json:
            emit_json(d)
        else:
            import yaml

            sys.stdout.write(yaml.safe_dump(d, sort_keys=False, default_flow_style=None))
        return 0
    rows = [_preset_row(P.preset(n)) for n in P.PRESETS]
    if args.json:
        emit_json(rows)
        return 0
    print(f"{'name':<17} {'family':<9} {'res':>4} {'FLOPs':>7} {'params':>7} {'rho0':>5}  mode")
    for r in rows:
        print(f"{r['name']:<17} {r['family']:<9} {r['resolution']:>4} {_budget(r['flops'], 1e9, 'G'):>7} "
              f"{_budget(r['params'], 1e6, 'M'):>7} {r['rho0']:>5g}  {r['mode']}")
    print("FLOPs budgets are MACs of conv + linear layers in paper mode, the official TinyNAS count in "
          "tinynas mode;\nparams budgets are all params in paper mode, params without the classifier in "
          "tinynas mode.\nShow one: deepmad presets --show NAME")
    return 0


__all__ = ["cmd_build", "cmd_export", "cmd_metrics", "cmd_presets", "format_metrics", "format_verification",
           "register"]
