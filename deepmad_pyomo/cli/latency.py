"""``deepmad latency ...`` and the ``--latency MODEL.json`` option of ``deepmad build`` (issue 6).

Wiring (in :mod:`deepmad_pyomo.cli.main`):

- ``build_parser``: ``add_latency_parser(sub)`` adds ``deepmad latency profile`` and ``deepmad latency show``;
- ``_add_build``: ``add_build_latency_arguments(p)`` adds ``--latency MODEL.json`` and ``--latency-repeats N``;
- ``cmd_build`` (after building the summary dict ``d``): ``lat = build_latency(args, a)``; when it is not
  ``None``, ``d.update(lat)`` for ``--json`` and ``print(format_build_latency(lat))`` for text.

Every command raises :class:`~deepmad_pyomo.errors.DesignError` on bad input (a malformed model file
included); :func:`deepmad_pyomo.cli.main` turns it into one line and exit status 2.
"""
from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from ..errors import DesignError

DEFAULT_REPEATS = 15


def add_latency_parser(sub: argparse._SubParsersAction) -> None:
    """``deepmad latency profile|show``."""
    from ..latency import CLOCKS, DEVICES, GRIDS, MALLOC_MODES

    p = sub.add_parser("latency", help="measure this machine's latency and fit a model for latency budgets",
                       description="Latency budgets measured on your own hardware: 'profile' times the ops the "
                       "block families use and fits a latency model (a JSON file) that design problems name in "
                       "budgets.latency_model; 'show' describes a model file.")
    lsub = p.add_subparsers(dest="latency_command", metavar="ACTION", required=True)
    pp = lsub.add_parser("profile", help="time the ops on this device and fit a latency model",
                         description="Time convolutions, BatchNorm, activations, adds, pools, SE gates, classifiers "
                         "and small whole networks over a grid of shapes (warm-up, repeats in several shuffled "
                         "passes, medians), fit a model per op type and report its error on held-out shapes.")
    pp.add_argument("--out", required=True, metavar="MODEL.json", help="write the model here (atomically)")
    pp.add_argument("--device", default="cpu", choices=DEVICES, help="where to run (default cpu)")
    pp.add_argument("--threads", type=int, default=1, metavar="N",
                    help="intra-op threads on the CPU (default 1: the stable setting on a shared machine)")
    pp.add_argument("--batch", type=int, default=1, metavar="B", help="batch size (default 1)")
    pp.add_argument("--grid", default="default", choices=GRIDS,
                    help="shapes to time: default (~470 and 36 small networks: about a minute on an idle core), "
                         "small, tiny (seconds)")
    pp.add_argument("--passes", type=int, default=3, metavar="P", help="shuffled passes over the grid (default 3)")
    pp.add_argument("--repeats", type=int, default=5, metavar="R", help="timed samples per shape and pass (default 5)")
    pp.add_argument("--seed", type=int, default=0, help="grid and hold-out seed (default 0)")
    pp.add_argument("--clock", choices=CLOCKS, help="thread_cpu (default for one CPU thread) or wall")
    pp.add_argument("--malloc", choices=MALLOC_MODES, default="tuned",
                    help="tuned (default: no page faults from glibc's mmap threshold and trimming) or system")
    pp.add_argument("--json", action="store_true", help="print the summary as JSON")
    pp.add_argument("--quiet", action="store_true", help="no progress on stderr")
    ps = lsub.add_parser("show", help="describe a latency model file (what it was measured with, its fit)")
    ps.add_argument("model", metavar="MODEL.json")
    ps.add_argument("--json", action="store_true", help="print JSON")
    p.set_defaults(func=cmd_latency)


def cmd_latency(args: argparse.Namespace) -> int:
    """``deepmad latency ACTION``: one function per action."""
    return {"profile": cmd_latency_profile, "show": cmd_latency_show}[args.latency_command](args)


def _positive(v: int, name: str) -> int:
    if v < 1:
        raise DesignError(name, f"must be a positive integer, got {v}", "an integer >= 1")
    return v


def model_summary(model: Any) -> dict[str, Any]:
    """What ``latency profile`` and ``latency show`` report about a model."""
    fit = model.fit or {}
    nets = fit.get("networks") or {}
    return {
        "latency_model": model.path, "describe": model.describe(), "measured_with": model.measured_with,
        "grid": fit.get("grid"), "heldout_median_abs_rel_err": fit.get("heldout_median_abs_rel_err"),
        "heldout_p90_abs_rel_err": fit.get("heldout_p90_abs_rel_err"),
        "per_op": {op: {k: v for k, v in d.items() if k.startswith(("heldout", "train_shapes"))}
                   for op, d in (fit.get("per_op") or {}).items()},
        "networks": {k: v for k, v in nets.items() if k != "heldout"},
        "noise": {k: v for k, v in (model.noise or {}).items()},
    }


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
        _positive(getattr(args, name), f"--{name}")
    progress = None if args.quiet or args.json else (lambda msg: print(msg, file=sys.stderr, flush=True))
    L.check_device(args.device)
    if progress:
        progress(f"profiling on {args.device} ({args.threads} thread(s), batch {args.batch}, grid {args.grid})")
    model = L.profile(device=args.device, threads=args.threads, batch=args.batch, grid=args.grid,
                      repeats=args.repeats, passes=args.passes, seed=args.seed, progress=progress,
                      malloc=args.malloc, clock=args.clock)
    L.save(model, args.out)
    model.path = str(args.out)
    d = model_summary(model)
    if args.json:
        print(json.dumps(d, indent=1))
    else:
        print(format_model_summary(d))
        print(f"wrote {args.out}; name it in a design problem as budgets.latency_model (with budgets.latency_ms)")
    return 0


def cmd_latency_show(args: argparse.Namespace) -> int:
    from ..latency import load

    d = model_summary(load(args.model))
    print(json.dumps(d, indent=1) if args.json else format_model_summary(d))
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
    path = getattr(args, "latency", None)
    if not path:
        return None
    return latency_report(arch, path, repeats=_positive(getattr(args, "latency_repeats", DEFAULT_REPEATS),
                                                        "--latency-repeats"))


def latency_report(arch: Any, model_path: str, repeats: int = DEFAULT_REPEATS) -> dict[str, Any]:
    """Predict, then measure as the model was measured: network passes interleaved with the small
    reference network the model timed while it was profiled (how fast the machine is now, relative)."""
    from .. import latency as L

    model = L.load(model_path)
    L.check_device(model.device)
    predicted = L.predict_ms(model, arch)
    blocks = L.predict_blocks_ms(model, arch)
    built = L.build_network(arch, model.device, model.batch)
    ref_arch = L.reference_arch()
    ref_built = L.build_network(ref_arch, model.device, model.batch)
    net: list[float] = []
    ref: list[float] = []
    chunk = 3
    while len(net) < repeats:
        ref += L.measure_like(model, ref_arch, repeats=3, warmup=1, built=ref_built).samples
        net += L.measure_like(model, arch, repeats=min(chunk, repeats - len(net)), warmup=1, built=built).samples
    m = L.Measurement(net)
    d: dict[str, Any] = {
        "latency_predicted_ms": round(predicted, 4),
        "latency_measured_ms": round(m.median, 4),
        "latency_error_rel": round(predicted / m.median - 1, 4),
        "latency_measured_iqr_over_median": round(m.iqr_rel, 4) if len(net) >= 4 else None,
        "latency_measured_passes": len(net),
        "latency_clock": model.clock,
        "latency_statistic": f"median of {len(net)} forward passes on the model's clock ({model.clock}), "
                             f"batch {model.batch}, after warm-up",
        "latency_predicted_blocks_ms": [round(v, 4) for v in blocks],
        "latency_model": {"path": str(model_path), "describe": model.describe(),
                          "measured_with": model.measured_with,
                          "heldout_median_abs_rel_err": (model.fit or {}).get("heldout_median_abs_rel_err"),
                          "networks_heldout_median_abs_rel_err":
                              ((model.fit or {}).get("networks") or {}).get("heldout_median_abs_rel_err")},
    }
    then = (model.noise or {}).get("reference", {}).get("median_ms") if isinstance(model.noise, dict) else None
    if then:
        now = L.Measurement(ref).median
        d["machine_speed"] = {"reference_ms_when_profiled": then, "reference_ms_now": round(now, 4),
                              "ratio": round(now / then, 3),
                              "note": "> 1: this machine runs the reference network slower now than when the "
                                      "model was measured (other load), so measured latencies run high"}
    if model.clock == "thread_cpu":
        wall = L.measure_like(model, arch, repeats=max(3, min(repeats, 7)), warmup=1, built=built, clock="wall")
        d["latency_measured_wall_ms"] = round(wall.median, 4)
        d["latency_measured_wall_iqr_over_median"] = round(wall.iqr_rel, 4) if len(wall.samples) >= 4 else None
    return d


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
           "cmd_latency_show", "format_build_latency", "format_model_summary", "latency_report", "model_summary"]
