"""How well a latency model fitted on this machine predicts whole networks.

    python benchmarks/latency_fit.py [--runtime torch|onnxruntime] [--grid default] [--min-samples 15]
                                     [--solvers auto] [--json OUT] [--out MODEL.json] [--samples SAMPLES.json]
    python benchmarks/latency_fit.py --offline MODEL.json --samples SAMPLES.json

1. Profiles this CPU (``latency.profile``, one thread, batch 1) and, all through the profile, times whole
   networks in between its shapes (one network every ``--every`` seconds, round robin), so that the
   networks and the ops see the same machine: this machine is shared and its speed drifts by tens of
   percent within minutes.
2. Tops every network up to ``--min-samples`` timed passes (still round robin), then prints per network the
   predicted and measured latency (10th percentile of the passes, thread CPU time: the model's statistic and
   clock, see ``latency.Measurement.low``), the relative error, the noise (IQR/median) and, for information,
   the wall-clock median; then the share within 10% and the Spearman rank correlation across the networks.
3. Designs ``--preset`` under a latency budget (``--budget-share`` of what the model predicts for the
   released structure of that preset) with ``--solvers``, designed to ``budget * (1 - --margin)`` (the
   problem's ``budgets.latency_margin``; default 10%, about the model's error on whole networks), and
   measures each design interleaved with that released structure: does the design meet the budget when
   measured?

Networks (all held out: the model is fitted on single ops and random calibration networks only): the
released structures (``deepmad_pyomo/space/released``), the zoo (``registry.list_models()``) and six
hand-written classic networks in the package's blocks (torchvision-like ResNet-18/34/50/101, with the max-pool
folded into the stem's stride, and MobileNetV2/EfficientNet-like), 0.2-16 G MACs.

``--samples`` keeps every network's timed passes (added to those already in the file, so runs accumulate);
``--offline MODEL.json`` then measures nothing: it fits the model again from the op and calibration timings
the model file keeps (``latency.refit``, with the fitting code as it is now) and compares it with the stored
passes: a way to try a change of the model against many passes before measuring again.

Targets: >= 95% of the networks within 10% of their measured latency; Spearman >= 0.9; a profile of at most
5 minutes; a design made under a latency budget meets it when measured.
"""
from __future__ import annotations

import argparse
import itertools
import statistics
import sys
import time
from typing import Any

import torch

from deepmad_pyomo import latency as L
from deepmad_pyomo.nn import models as registry
from deepmad_pyomo.space.arch import Architecture, Block
from deepmad_pyomo.space.metrics import network_terms

TARGET_REL_ERR = 0.10
TARGET_SHARE = 0.95
TARGET_SPEARMAN = 0.9
TARGET_PROFILE_S = 300


def reference_networks() -> dict[str, Architecture]:
    """Networks of other shapes than DeepMAD's, in the package's block types."""
    def B(*a: Any, **k: Any) -> Block:
        return Block(*a, **k)

    nets = {
        "ref:resnet18-like": (B("conv", 3, 64, 7, 2), B("kxkx", 64, 64, 3, 2, btn=64, L=2),
                              B("kxkx", 64, 128, 3, 2, btn=128, L=2), B("kxkx", 128, 256, 3, 2, btn=256, L=2),
                              B("kxkx", 256, 512, 3, 2, btn=512, L=2)),
        "ref:resnet34-like": (B("conv", 3, 64, 7, 2), B("kxkx", 64, 64, 3, 2, btn=64, L=3),
                              B("kxkx", 64, 128, 3, 2, btn=128, L=4), B("kxkx", 128, 256, 3, 2, btn=256, L=6),
                              B("kxkx", 256, 512, 3, 2, btn=512, L=3)),
        "ref:resnet50-like": (B("conv", 3, 64, 7, 2), B("k1kxk1", 64, 256, 3, 2, btn=64, L=3),
                              B("k1kxk1", 256, 512, 3, 2, btn=128, L=4), B("k1kxk1", 512, 1024, 3, 2, btn=256, L=6),
                              B("k1kxk1", 1024, 2048, 3, 2, btn=512, L=3)),
        "ref:resnet101-like": (B("conv", 3, 64, 7, 2), B("k1kxk1", 64, 256, 3, 2, btn=64, L=3),
                               B("k1kxk1", 256, 512, 3, 2, btn=128, L=4),
                               B("k1kxk1", 512, 1024, 3, 2, btn=256, L=23),
                               B("k1kxk1", 1024, 2048, 3, 2, btn=512, L=3)),
        "ref:mobilenetv2-like": (B("conv", 3, 32, 3, 2), B("k1dwk1", 32, 16, 3, 1, btn=32, L=1),
                                 B("k1dwk1", 16, 24, 3, 2, btn=96, L=2), B("k1dwk1", 24, 32, 3, 2, btn=144, L=3),
                                 B("k1dwk1", 32, 64, 3, 2, btn=192, L=4), B("k1dwk1", 64, 96, 3, 1, btn=384, L=3),
                                 B("k1dwk1", 96, 160, 3, 2, btn=576, L=3), B("k1dwk1", 160, 320, 3, 1, btn=960, L=1),
                                 B("conv", 320, 1280, 1, 1)),
        "ref:efficientnet-like": (B("conv", 3, 32, 3, 2), B("k1dwsek1", 32, 16, 3, 1, btn=32, L=1),
                                  B("k1dwsek1", 16, 24, 3, 2, btn=96, L=2), B("k1dwsek1", 24, 40, 5, 2, btn=144, L=2),
                                  B("k1dwsek1", 40, 80, 3, 2, btn=240, L=3), B("k1dwsek1", 80, 112, 5, 1, btn=480, L=3),
                                  B("k1dwsek1", 112, 192, 5, 2, btn=672, L=4),
                                  B("k1dwsek1", 192, 320, 3, 1, btn=1152, L=1), B("conv", 320, 1280, 1, 1)),
    }
    return {n: Architecture(b, name=n) for n, b in nets.items()}


class Timed:
    """A built network and its per-pass times on both clocks."""

    def __init__(self, arch: Architecture, runtime: str = "torch"):
        self.arch = arch
        self.model, self.x = L.build_network(arch, runtime=runtime)
        self.cpu: list[float] = []
        self.wall: list[float] = []

    def run(self, passes: int = 2, warmup: int = 1) -> None:
        with torch.inference_mode():
            for _ in range(warmup):
                self.model(self.x)
            for _ in range(passes):
                w, c = time.perf_counter(), time.thread_time()
                self.model(self.x)
                self.cpu.append((time.thread_time() - c) * 1e3)
                self.wall.append((time.perf_counter() - w) * 1e3)


def spearman(a: list[float], b: list[float]) -> float:
    def ranks(v: list[float]) -> list[float]:
        order = sorted(range(len(v)), key=lambda i: v[i])
        r = [0.0] * len(v)
        i = 0
        while i < len(v):
            j = i
            while j + 1 < len(v) and v[order[j + 1]] == v[order[i]]:
                j += 1
            for k in range(i, j + 1):
                r[order[k]] = (i + j) / 2 + 1
            i = j + 1
        return r

    ra, rb = ranks(a), ranks(b)
    ma, mb = statistics.fmean(ra), statistics.fmean(rb)
    cov = sum((x - ma) * (y - mb) for x, y in zip(ra, rb))
    var = (sum((x - ma) ** 2 for x in ra) * sum((y - mb) ** 2 for y in rb)) ** 0.5
    return cov / var if var else float("nan")


def iqr_rel(v: list[float]) -> float:
    return L.Measurement(v).iqr_rel


def low(v: list[float]) -> float:
    return L.Measurement(v).low


def save_samples(path: str, timed: dict[str, Timed], model_path: str, runtime: str) -> None:
    """Add each network's thread-CPU passes (ms) to ``path`` (a JSON file; created if missing)."""
    from pathlib import Path

    from deepmad_pyomo.fileio import atomic_write_json, read_json

    d = read_json(Path(path), "samples file", "a file written by --samples") if Path(path).exists() else {}
    if d.get("runtime", runtime) != runtime:
        raise SystemExit(f"--samples {path} holds {d['runtime']} passes, not {runtime}: name another file")
    d.update(runtime=runtime, models=d.get("models", []) + [model_path])
    nets = d.setdefault("networks", {})
    for n, t in timed.items():
        nets.setdefault(n, []).extend(round(v, 4) for v in t.cpu)
    atomic_write_json(path, d)


def offline(model_path: str, samples_path: str, archs: dict[str, Architecture], kinds: dict[str, str]) -> int:
    """Fit ``model_path`` again from the timings it keeps and compare it with the stored network passes."""
    from pathlib import Path

    from deepmad_pyomo.fileio import read_json

    model = L.refit(L.load(model_path))
    stored = read_json(Path(samples_path), "samples file", "a file written by --samples")["networks"]
    rows = []
    for n, a in archs.items():
        if stored.get(n):
            pred, meas = L.predict_ms(model, a), low(stored[n])
            rows.append((n, kinds[n], network_terms(a.blocks, a.resolution, a.num_classes).macs / 1e9, pred, meas,
                         iqr_rel(stored[n]), len(stored[n])))
    if not rows:
        raise SystemExit(f"no passes of these networks in {samples_path}")
    w = max(len(r[0]) for r in rows)
    print(f"{model.describe()}, fitted again from the timings it keeps\n")
    print(f"{'network':<{w}} {'kind':<9} {'GMACs':>6} {'predicted':>10} {'measured':>10} {'IQR/med':>8} {'passes':>6} "
          f"{'error':>7}")
    for n, kind, g, pred, meas, iqr, k in rows:
        print(f"{n:<{w}} {kind:<9} {g:>6.2f} {pred:>8.1f}ms {meas:>8.1f}ms {100 * iqr:>7.1f}% {k:>6} "
              f"{100 * (pred / meas - 1):>+6.1f}%")
    errs = [abs(r[3] / r[4] - 1) for r in rows]
    within = sum(e <= TARGET_REL_ERR for e in errs)
    print(f"\nwithin 10% of the stored passes' 10th percentile: {within}/{len(rows)} = {100 * within / len(rows):.1f}%"
          f"   max |error| {100 * max(errs):.1f}%   Spearman {spearman([r[3] for r in rows], [r[4] for r in rows]):.3f}")
    return 0


def design_check(model: L.LatencyModel, model_path: str, preset_name: str, share: float, solvers: list[str],
                 time_limit: float, rounds: int, margin: float = 0.0) -> list[dict[str, Any]]:
    """Design ``preset_name`` with its latency budget at ``share`` of the released structure's prediction
    (designed to ``budget * (1 - margin)``), measure each design interleaved with the released structure."""
    from deepmad_pyomo.solve.design import design
    from deepmad_pyomo.solve.options import SolveOptions
    from deepmad_pyomo.space.problem import RELEASED_PRESET, preset

    released = {v: k for k, v in RELEASED_PRESET.items()}.get(preset_name)
    anchor = registry.get_architecture(released) if released else None
    problem = preset(preset_name)
    base = L.predict_ms(model, anchor) if anchor else None
    if base is None:
        raise SystemExit(f"no released structure for preset {preset_name}: choose one of "
                         f"{sorted(RELEASED_PRESET.values())}")
    budget = round(share * base, 2)
    problem = problem.with_budgets(latency_ms=budget, latency_margin=margin, latency_model=model_path)
    out = []
    anchor_t = Timed(anchor, model.runtime)
    for solver in solvers:
        t = time.perf_counter()
        res = design(problem, solver, SolveOptions(time_limit=time_limit))
        row: dict[str, Any] = {"problem": f"{preset_name} + latency budget {budget:g} ms ({share:.0%} of {released}'s "
                                          f"predicted {base:.1f} ms), designed to {problem.budgets.latency_limit_ms:.2f} ms "
                                          f"(budgets.latency_margin {margin:g})", "solver": solver,
                               "status": str(res.status.value), "solve_s": round(time.perf_counter() - t, 1),
                               "budget_ms": budget}
        if res.architecture is None:
            row["message"] = res.message
            out.append(row)
            continue
        d = Timed(res.architecture, model.runtime)
        for _ in range(rounds):  # interleaved with the released structure: the same machine for both
            d.run(2, 1)
            anchor_t.run(1, 1)
        pred = L.predict_ms(model, res.architecture)
        meas = low(d.cpu)
        row.update(architecture=res.architecture.describe(), objective=res.objective, predicted_ms=round(pred, 2),
                   measured_ms=round(meas, 2), measured_iqr_over_median=round(iqr_rel(d.cpu), 3),
                   measured_wall_ms=round(statistics.median(d.wall), 2),
                   anchor_measured_ms=round(low(anchor_t.cpu), 2), anchor_predicted_ms=round(base, 2),
                   meets_budget_when_measured=meas <= budget, macs=round(network_terms(
                       res.architecture.blocks, res.architecture.resolution, res.architecture.num_classes).macs))
        out.append(row)
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runtime", default="torch", choices=L.RUNTIMES)
    ap.add_argument("--grid", default="default", choices=L.GRIDS)
    ap.add_argument("--passes", type=int, default=3)
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--every", type=float, default=1.0, help="seconds of profiling between two network visits")
    ap.add_argument("--min-samples", type=int, default=15, help="timed passes per network (at least)")
    ap.add_argument("--max-zoo", type=int, default=-1,
                    help="zoo models to include at most, spread over their MACs (-1: all, the default)")
    ap.add_argument("--preset", default="deepmad-r18", help="preset designed under a latency budget")
    ap.add_argument("--budget-share", type=float, default=0.8,
                    help="latency budget as a share of the preset's released structure's predicted latency")
    ap.add_argument("--solvers", default="auto", help="comma-separated routes for the design check ('' to skip)")
    ap.add_argument("--design-time", type=float, default=60.0, help="time limit per design solve (s)")
    ap.add_argument("--design-rounds", type=int, default=8, help="interleaved measuring rounds per design")
    ap.add_argument("--margin", type=float, default=0.1,
                    help="design to budget * (1 - margin) and judge against the budget (default 0.1, about the "
                         "model's error on whole networks; with 0 a design at the budget's edge meets it when "
                         "measured only when the model errs on the safe side)")
    ap.add_argument("--out", default=None, help="keep the fitted model here")
    ap.add_argument("--json", default=None, help="write every figure here")
    ap.add_argument("--samples", default=None, metavar="SAMPLES.json",
                    help="add every network's timed passes to this file (runs accumulate); with --offline, read them")
    ap.add_argument("--offline", default=None, metavar="MODEL.json",
                    help="measure nothing: fit MODEL.json again from the timings it keeps and compare it with the "
                         "passes in --samples")
    args = ap.parse_args()
    if args.offline and not args.samples:
        ap.error("--offline needs --samples SAMPLES.json (a file written by --samples)")

    t_start = time.perf_counter()
    L.tune_malloc()
    torch.set_num_threads(1)
    names = list(registry.RELEASED)
    zoo = [n for n in registry.list_models() if n not in registry.RELEASED]
    zoo_archs = sorted(((network_terms(a.blocks, a.resolution, a.num_classes).macs, n, a)
                        for n in zoo for a in [registry.get_architecture(n)]), key=lambda t: t[0])
    if 0 <= args.max_zoo < len(zoo_archs):  # evenly spread over the zoo's MACs, smallest and largest included
        k = args.max_zoo
        zoo_archs = [zoo_archs[round(i * (len(zoo_archs) - 1) / max(1, k - 1))] for i in range(k)] if k else []
    archs = {n: registry.get_architecture(n) for n in names}
    archs.update({n: a for _, n, a in zoo_archs})
    archs.update(reference_networks())
    kinds = {n: "released" if n in registry.RELEASED else "reference" if n.startswith("ref:") else "zoo" for n in archs}
    if args.offline:
        return offline(args.offline, args.samples, archs, kinds)
    timed = {n: Timed(a, args.runtime) for n, a in archs.items()}
    cycle = itertools.cycle(list(timed))

    def visit() -> None:
        timed[next(cycle)].run(2, 1)

    print(f"profiling ({args.grid} grid, {args.passes} passes) with {len(timed)} networks timed in between ...",
          file=sys.stderr, flush=True)
    t0 = time.perf_counter()
    model = L.profile(grid=args.grid, passes=args.passes, repeats=args.repeats, interleave=visit, runtime=args.runtime,
                      interleave_every_s=args.every, progress=lambda m: print("  " + m, file=sys.stderr, flush=True))
    profile_s = time.perf_counter() - t0
    model_path = args.out or "/tmp/deepmad-latency-fit-model.json"
    L.save(model, model_path)
    model.path = model_path
    while min(len(t.cpu) for t in timed.values()) < args.min_samples:
        for t in timed.values():
            if len(t.cpu) < args.min_samples:
                t.run(2, 1)
    if args.samples:
        save_samples(args.samples, timed, model_path, args.runtime)

    rows = []
    for n, t in timed.items():
        pred = L.predict_ms(model, t.arch)
        meas = low(t.cpu)
        wall = statistics.median(t.wall)
        rows.append({"model": n, "kind": kinds[n], "macs_g": round(network_terms(t.arch.blocks, t.arch.resolution,
                                                                                  t.arch.num_classes).macs / 1e9, 3),
                     "predicted_ms": round(pred, 2), "measured_ms": round(meas, 2),
                     "rel_err": round(pred / meas - 1, 4),
                     "iqr_over_median": round(iqr_rel(t.cpu), 4), "passes": len(t.cpu), "wall_ms": round(wall, 2),
                     "wall_rel_err": round(pred / wall - 1, 4), "wall_iqr_over_median": round(iqr_rel(t.wall), 4)})
    rho = spearman([r["predicted_ms"] for r in rows], [r["measured_ms"] for r in rows])
    rho_wall = spearman([r["predicted_ms"] for r in rows], [r["wall_ms"] for r in rows])

    print(f"\n{model.describe()}")
    print(f"profile: {profile_s:.0f} s with the networks in between; fit error on held-out shapes "
          f"{100 * model.fit['heldout_median_abs_rel_err']:.1f}% median, "
          f"{100 * model.fit['heldout_p90_abs_rel_err']:.1f}% p90; held-out calibration networks "
          f"{100 * model.fit['networks']['heldout_median_abs_rel_err']:.1f}% median")
    print(f"noise: per shape IQR/median {100 * model.noise['median_iqr_over_median']:.0f}% median "
          f"({100 * model.noise['p90_iqr_over_median']:.0f}% p90); reference net "
          f"{model.noise['reference']['median_ms']:.2f} ms, IQR/median "
          f"{100 * model.noise['reference']['iqr_over_median']:.0f}% over the profile\n")
    w = max(len(r["model"]) for r in rows)
    print(f"{'network':<{w}} {'kind':<9} {'GMACs':>6} {'predicted':>10} {'measured':>10} {'IQR/med':>8} "
          f"{'error':>7}  within 10%   {'wall':>9} {'wall err':>8}")
    for r in rows:
        ok = "ok" if abs(r["rel_err"]) <= TARGET_REL_ERR else "MISSED"  # noqa: SIM108
        print(f"{r['model']:<{w}} {r['kind']:<9} {r['macs_g']:>6.2f} {r['predicted_ms']:>8.1f}ms "
              f"{r['measured_ms']:>8.1f}ms {100 * r['iqr_over_median']:>7.1f}% {100 * r['rel_err']:>+6.1f}%  "
              f"{ok:<10} {r['wall_ms']:>7.1f}ms {100 * r['wall_rel_err']:>+7.1f}%")
    within = sum(abs(r["rel_err"]) <= TARGET_REL_ERR for r in rows)
    share = within / len(rows)
    print(f"\nmeasured: 10th percentile of >= {args.min_samples} passes per network (thread CPU time, the model's "
          f"clock; batch 1, 1 thread, {args.runtime}, after a warm-up pass), interleaved with the profile and with "
          "each other; 'wall' is the median wall-clock time, for information")
    print(f"within 10% of measured: {within}/{len(rows)} = {100 * share:.0f}% (target >= {100 * TARGET_SHARE:.0f}%: "
          f"{'ok' if share >= TARGET_SHARE else 'MISSED'})   max |error| "
          f"{100 * max(abs(r['rel_err']) for r in rows):.1f}%")
    print(f"profile: {profile_s:.0f} s (target <= {TARGET_PROFILE_S} s: "
          f"{'ok' if profile_s <= TARGET_PROFILE_S else 'MISSED'}; it includes timing the networks in between)")
    print(f"Spearman rank correlation predicted vs measured: {rho:.3f} over {len(rows)} networks "
          f"(target >= {TARGET_SPEARMAN}: {'ok' if rho >= TARGET_SPEARMAN else 'MISSED'}); wall clock: {rho_wall:.3f}")

    designs = []
    solvers = [s for s in args.solvers.split(",") if s]
    if solvers:
        print(f"\ndesigning {args.preset} under a latency budget ({args.budget_share:.0%} of its released "
              f"structure's predicted latency) ...", file=sys.stderr, flush=True)
        designs = design_check(model, model_path, args.preset, args.budget_share, solvers, args.design_time,
                               args.design_rounds, args.margin)
        for d in designs:
            print(f"\ndesign {d['problem']} with {d['solver']}: {d['status']} in {d['solve_s']} s")
            if "measured_ms" not in d:
                print(f"  no architecture: {d.get('message')}")
                continue
            verdict = "meets it" if d["meets_budget_when_measured"] else "MISSES it"
            print(f"  {d['architecture']}")
            print(f"  predicted {d['predicted_ms']:.1f} ms, measured {d['measured_ms']:.1f} ms (IQR/median "
                  f"{100 * d['measured_iqr_over_median']:.0f}%, wall {d['measured_wall_ms']:.1f} ms) vs budget "
                  f"{d['budget_ms']:.1f} ms: {verdict} (target: meets it)")
            print(f"  measured alongside: the released structure predicted {d['anchor_predicted_ms']:.1f} ms, "
                  f"measured {d['anchor_measured_ms']:.1f} ms")
    total = time.perf_counter() - t_start
    print(f"\nbenchmark wall time {total:.0f} s (target < ~300 s)")
    if args.json:
        from deepmad_pyomo.fileio import atomic_write_json

        atomic_write_json(args.json, {"model": model.describe(), "measured_with": model.measured_with,
                                      "fit": {k: v for k, v in model.fit.items() if k != "per_op"},
                                      "noise": model.noise, "networks": rows, "spearman": rho,
                                      "spearman_wall": rho_wall, "designs": designs, "profile_s": profile_s,
                                      "wall_s": total})
    return 0


if __name__ == "__main__":
    sys.exit(main())
