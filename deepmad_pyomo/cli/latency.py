"""``deepmad latency profile|predict|show`` and the ``--latency MODEL.json`` option of ``deepmad build``."""
from __future__ import annotations

import argparse
from typing import Any

from ..latency.ops import CLOCKS, DEVICES, MALLOC_MODES, RUNTIMES
from ..latency.report import DEFAULT_REPEATS
from .common import ARCH_HELP, Output, add_output, emit_json, require_positive, resolve_arch, stderr_progress


def register(sub: argparse._SubParsersAction) -> None:
    add_latency_parser(sub)


def add_latency_parser(sub: argparse._SubParsersAction) -> None:
    """``deepmad latency profile|predict|show``."""
    from ..latency.grid import GRIDS

    p = sub.add_parser("latency", help="measure this machine's latency and fit a model for latency budgets",
                       description="Latency budgets measured on your own hardware: 'profile' times the ops the "
                       "block families use and fits a latency model (a JSON file) that design problems name in "
                       "budgets.latency_model; 'predict' prices architectures with it (and measures them the same "
                       "way with --measure); 'show' describes a model file.")
    lsub = p.add_subparsers(dest="latency_command", metavar="ACTION", required=True)
    pp = lsub.add_parser("profile", help="time the ops on this device and fit a latency model",
                         description="Time convolutions, BatchNorm, activations, adds, pools, SE gates, classifiers "
                         "and random whole networks over a grid of shapes (warm-up, repeats in several shuffled "
                         "passes, medians), fit a model per op type and report its error on held-out shapes.")
    add_output(pp, "--out", Output.FILE, required=True, metavar="MODEL.json", help="write the model here (atomically)")
    pp.add_argument("--device", default="cpu", choices=DEVICES, help="where to run (default cpu)")
    pp.add_argument("--runtime", default="torch", choices=RUNTIMES,
                    help="what runs the ops and networks: torch (default) or onnxruntime (each exported to ONNX, "
                         "ONNX Runtime on the CPU with every graph optimisation; pip install 'deepmad-pyomo[export]')")
    pp.add_argument("--threads", type=int, default=1, metavar="N",
                    help="intra-op threads on the CPU (default 1: the stable setting on a shared machine)")
    pp.add_argument("--batch", type=int, default=1, metavar="B", help="batch size (default 1)")
    pp.add_argument("--grid", default="default", choices=GRIDS,
                    help="shapes to time: default (~430 op shapes and 48 networks: about a minute on an idle core), "
                         "small, tiny (seconds)")
    pp.add_argument("--passes", type=int, default=3, metavar="P", help="shuffled passes over the grid (default 3)")
    pp.add_argument("--repeats", type=int, default=5, metavar="R", help="timed samples per shape and pass (default 5)")
    pp.add_argument("--seed", type=int, default=0, help="grid and hold-out seed (default 0)")
    pp.add_argument("--clock", choices=CLOCKS, help="thread_cpu (default for one CPU thread) or wall")
    pp.add_argument("--malloc", choices=MALLOC_MODES, default="tuned",
                    help="tuned (default: no page faults from glibc's mmap threshold and trimming) or system")
    pp.add_argument("--json", action="store_true", help="print the summary as JSON")
    pp.add_argument("--quiet", action="store_true", help="no progress on stderr")
    pr = lsub.add_parser("predict", help="predicted latency of architectures (and measured, with --measure)",
                         description="Price each ARCH with the model (the runtime, device, threads and batch it was "
                         "measured with); --measure also times it that way (10th percentile of the passes, on the "
                         "model's clock, with the model's reference network timed in between).")
    pr.add_argument("model", metavar="MODEL.json")
    pr.add_argument("archs", nargs="+", metavar="ARCH", help=ARCH_HELP)
    pr.add_argument("--measure", action="store_true", help="also measure each one as the model was measured")
    pr.add_argument("--repeats", type=int, default=DEFAULT_REPEATS, metavar="N",
                    help=f"timed passes with --measure (default {DEFAULT_REPEATS})")
    pr.add_argument("--json", action="store_true", help="print JSON")
    ps = lsub.add_parser("show", help="describe a latency model file (what it was measured with, its fit)")
    ps.add_argument("model", metavar="MODEL.json")
    ps.add_argument("--json", action="store_true", help="print JSON")
    p.set_defaults(func=cmd_latency)


def cmd_latency(args: argparse.Namespace) -> int:
    """``deepmad latency ACTION``: one function per action."""
    return {"profile": cmd_latency_profile, "predict": cmd_latency_predict,
            "show": cmd_latency_show}[args.latency_command](args)


def format_model_summary(d: dict[str, Any]) -> str:
    def pct(v: Any) -> str:
        return "-" if v is None else f"{100 * v:5.1f}%"

    lines = [d["describe"]]
    g = d.get("grid") or {}
    noise = d.get("noise") or {}
    if g:
        lines.append(f"  grid {g.get('name')} (seed {g.get('seed')}): {g.get('shapes')} shapes, "
                     f"{noise.get('passes')} passes x {noise.get('repeats_per_pass')} repeats, "
                     f"{noise.get('profile_wall_s')} s")
    if noise.get("median_iqr_over_median") is not None:
        lines.append(f"  noise: IQR/median of a shape's samples {pct(noise['median_iqr_over_median'])} median, "
                     f"{pct(noise.get('p90_iqr_over_median'))} p90")
    lines.append(f"  fit error on held-out shapes: {pct(d.get('heldout_median_abs_rel_err'))} median, "
                 f"{pct(d.get('heldout_p90_abs_rel_err'))} p90 (|predicted/measured - 1|)")
    for op, e in d.get("per_op", {}).items():
        lines.append(f"    {op:<11} {pct(e.get('heldout_median_abs_rel_err'))} median "
                     f"{pct(e.get('heldout_p90_abs_rel_err'))} p90  ({e.get('heldout_shapes')} held out of "
                     f"{(e.get('heldout_shapes') or 0) + (e.get('train_shapes') or 0)})")
    nets = d.get("networks") or {}
    if nets:
        lines.append(f"  whole networks held out: {pct(nets.get('heldout_median_abs_rel_err'))} median, "
                     f"{pct(nets.get('heldout_p90_abs_rel_err'))} p90 ({nets.get('heldout_networks')} networks; "
                     f"ops alone: {pct(nets.get('ops_only_heldout_median_abs_rel_err'))} median)")
    return "\n".join(lines)


def cmd_latency_profile(args: argparse.Namespace) -> int:
    from .. import latency as L

    for name in ("threads", "batch", "passes", "repeats"):
        require_positive(getattr(args, name), f"--{name}")
    progress = stderr_progress(not (args.quiet or args.json))
    L.check_device(args.device)
    L.check_runtime(args.runtime, args.device)
    if progress:
        progress(f"profiling {args.runtime} on {args.device} ({args.threads} thread(s), batch {args.batch}, grid "
                 f"{args.grid})")
    model = L.profile(device=args.device, threads=args.threads, batch=args.batch, grid=args.grid,
                      repeats=args.repeats, passes=args.passes, seed=args.seed, progress=progress,
                      malloc=args.malloc, clock=args.clock, runtime=args.runtime)
    L.save(model, args.out)
    model.path = str(args.out)
    d = L.model_summary(model)
    if args.json:
        emit_json(d)
    else:
        print(format_model_summary(d))
        print(f"wrote {args.out}; name it in a design problem as budgets.latency_model (with budgets.latency_ms)")
    return 0


def cmd_latency_predict(args: argparse.Namespace) -> int:
    from .. import latency as L
    from ..latency.report import latency_report

    model = L.load(args.model)
    model.path = str(args.model)
    repeats = require_positive(args.repeats, "--repeats")
    archs = [(spec, resolve_arch(spec)) for spec in args.archs]  # every ARCH checked before any timing
    if args.measure:
        L.check_runtime(model.runtime, model.device)
    rows = []
    for spec, arch in archs:
        row: dict[str, Any] = {"arch": spec, "predicted_ms": round(L.predict_ms(model, arch), 4)}
        if args.measure:
            rep = latency_report(arch, args.model, repeats=repeats)
            row.update(measured_ms=rep["latency_measured_ms"], error_rel=rep["latency_error_rel"],
                       iqr_over_median=rep["latency_measured_iqr_over_median"])
        rows.append(row)
    if args.json:
        emit_json({"model": model.describe(), "runtime": model.runtime, "rows": rows})
        return 0
    print(model.describe())
    for r in rows:
        line = f"{r['arch']}: predicted {r['predicted_ms']:.2f} ms"
        if "measured_ms" in r:
            line += f", measured {r['measured_ms']:.2f} ms ({100 * r['error_rel']:+.1f}%)"
        print(line)
    return 0


def cmd_latency_show(args: argparse.Namespace) -> int:
    from .. import latency as L

    d = L.model_summary(L.load(args.model))
    if args.json:
        emit_json(d)
    else:
        print(format_model_summary(d))
    return 0


# ------------------------------------------------------------------------------------ deepmad build
def add_build_latency_arguments(p: argparse.ArgumentParser) -> None:
    """``--latency MODEL.json`` and ``--latency-repeats N`` for ``deepmad build``."""
    p.add_argument("--latency", metavar="MODEL.json",
                   help="predict the latency with this model (from 'deepmad latency profile') and measure it "
                        "the same way (device, threads, batch, clock)")
    p.add_argument("--latency-repeats", type=int, default=DEFAULT_REPEATS, metavar="N",
                   help=f"timed forward passes for --latency (default {DEFAULT_REPEATS})")


def build_latency(args: argparse.Namespace, arch: Any) -> dict[str, Any] | None:
    """Predicted and measured latency of ``arch`` for ``deepmad build --latency``; ``None`` without it."""
    from ..latency.report import latency_report

    path = getattr(args, "latency", None)
    if not path:
        return None
    repeats = require_positive(getattr(args, "latency_repeats", DEFAULT_REPEATS), "--latency-repeats")
    return latency_report(arch, path, repeats=repeats)


def _pct(v: float | None) -> str:
    return "n/a (under 4 passes)" if v is None else f"{100 * v:.1f}%"


def format_build_latency(d: dict[str, Any]) -> str:
    err = 100 * d["latency_error_rel"]
    lines = [f"  latency predicted {d['latency_predicted_ms']:10.2f} ms",
             (f"  latency measured  {d['latency_measured_ms']:10.2f} ms  ({d['latency_statistic']}; "
              f"IQR/median {_pct(d['latency_measured_iqr_over_median'])}); predicted {err:+.1f}%")]
    if "latency_measured_wall_ms" in d:
        lines.append(f"  wall clock        {d['latency_measured_wall_ms']:10.2f} ms  (IQR/median "
                     f"{_pct(d['latency_measured_wall_iqr_over_median'])}; higher than CPU time when other "
                     "work shares the core)")
    sp = d.get("machine_speed")
    if sp:
        lines.append(f"  machine now {sp['ratio']:.2f}x the reference time of when the model was profiled "
                     f"({sp['reference_ms_now']:.2f} vs {sp['reference_ms_when_profiled']:.2f} ms)")
    lines.append(f"  {d['latency_model']['describe']}")
    return "\n".join(lines)


__all__ = ["add_build_latency_arguments", "add_latency_parser", "build_latency", "cmd_latency", "cmd_latency_profile",
           "cmd_latency_predict", "cmd_latency_show", "format_build_latency", "format_model_summary", "register"]
