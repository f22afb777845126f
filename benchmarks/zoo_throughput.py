"""Zoo throughput: models designed and verified per minute with 1 and 2 Dask workers, and peak memory.

    python benchmarks/zoo_throughput.py                      # paper + imagenet (31 models), 1 and 2 workers
    python benchmarks/zoo_throughput.py --subset 8           # the first 8 problems only (quicker)
    python benchmarks/zoo_throughput.py --workers 2 --json   # one worker count, JSON out

Each worker count builds the zoo from scratch in a fresh folder (nothing reused) through
``deepmad_pyomo.batch.zoo.build_zoo``: an embedded Dask LocalCluster (started and closed inside the timing),
``design()`` with the default solver and the time limit, ``verify()`` of every architecture, the
records, README and picture. Memory: the peak over the run of the summed proportional set size (PSS:
shared pages split between the processes sharing them) of this process and all its descendants
(scheduler, nannies, workers, solver children), sampled every 0.5 s; and the largest resident set of
one process.

    python benchmarks/zoo_throughput.py --suite ladder --workers 2   # the 36-rung ladder

Targets, with 2 workers on a 2-core machine: the 31-model paper + imagenet zoo designed, certified (proven
optimal) and verified in under 5 minutes, at least 1.8x the throughput of 1 worker; the 36-rung ladder in
under 10 minutes. Solves are bounded by a
wall-clock time limit, so throughput scales with workers only while each worker has a core to itself:
the load average is printed before and after, since other processes on the machine change the
figures.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import threading
import time
from pathlib import Path

TARGETS = {"paper,imagenet": (31, 300.0), "ladder": (36, 600.0)}  # suite: (models, wall seconds on 2 workers)
TARGET_RATIO = 1.8


class TreeMemory:
    """Peak summed PSS of this process tree and the largest single RSS, sampled in a thread."""

    def __init__(self, interval: float = 0.5):
        self.interval, self.peak_pss_mb, self.peak_rss_mb = interval, 0.0, 0.0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        import psutil

        me = psutil.Process()
        while not self._stop.is_set():
            try:
                procs = [me] + me.children(recursive=True)
            except psutil.Error:
                procs = [me]
            total = 0.0
            for p in procs:
                try:
                    mem = p.memory_full_info()
                except psutil.Error:  # ended, or not ours to read
                    continue
                total += mem.pss / 2 ** 20
                self.peak_rss_mb = max(self.peak_rss_mb, mem.rss / 2 ** 20)
            self.peak_pss_mb = max(self.peak_pss_mb, total)
            self._stop.wait(self.interval)

    def __enter__(self) -> "TreeMemory":
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()


def run_once(suite: str, workers: int, time_limit: float, only: list[str] | None, escalate: int,
             keep: Path | None) -> dict:
    from deepmad_pyomo.batch.zoo import build_zoo

    folder = Path(tempfile.mkdtemp(prefix=f"zoo-w{workers}-", dir=keep)) if keep else None
    with tempfile.TemporaryDirectory(prefix=f"zoo-w{workers}-") as tmp:
        out = folder or Path(tmp)
        load0 = os.getloadavg()[0]
        with TreeMemory() as mem:
            t0 = time.perf_counter()
            if only is None:
                res = build_zoo(suite, out, time_limit=time_limit, workers=workers, escalate=escalate,
                                command="benchmarks/zoo_throughput.py")
            else:
                res = _subset(suite, out, time_limit, workers, only, escalate)
            wall = time.perf_counter() - t0
        recs = res.records
        designed = [r for r in recs if r.get("architecture")]
        verified = [r for r in designed if (r.get("verification") or {}).get("match")]
        proven = [r for r in designed if (r.get("certificate") or {}).get("status") == "optimal"]
        objs = [r["metrics"]["objective"] for r in designed]
        return {"workers": workers, "models": len(recs), "designed": len(designed), "verified": len(verified),
                "proven": len(proven),
                "wall_s": round(wall, 1), "models_per_minute": round(60 * len(recs) / wall, 2),
                "mean_objective": round(sum(objs) / len(objs), 1) if objs else None,
                "escalated": sum(len((r.get("certificate") or {}).get("attempts") or []) > 1 for r in recs),
                "peak_tree_pss_mb": round(mem.peak_pss_mb), "peak_process_rss_mb": round(mem.peak_rss_mb),
                "load_before": round(load0, 2), "load_after": round(os.getloadavg()[0], 2),
                "out": str(out) if folder else None}


def _subset(suite: str, out: Path, time_limit: float, workers: int, names: list[str], escalate: int):
    """build_zoo on a folder suite holding only the named problems (copied from the shipped suites)."""
    import yaml

    from deepmad_pyomo.batch import suites
    from deepmad_pyomo.batch.zoo import build_zoo

    folder = out / "_subset" / "subset"
    folder.mkdir(parents=True)
    for s in suites.load_suites(suite):
        for p in s:
            if f"{s.name}/{p.name}" in names:
                (folder / f"{s.name}-{p.name}.yaml").write_text(
                    yaml.safe_dump(json.loads(json.dumps(p.to_dict() | {"name": f"{s.name}-{p.name}"}))))
    return build_zoo(str(folder), out, time_limit=time_limit, workers=workers, escalate=escalate,
                     command="benchmarks/zoo_throughput.py --subset")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--suite", default="paper,imagenet")
    ap.add_argument("--time-limit", type=float, default=120.0, help="seconds per model (default 120, the zoo's)")
    ap.add_argument("--workers", default="1,2", help="comma-separated worker counts (default 1,2)")
    ap.add_argument("--subset", type=int, metavar="N", help="only N problems, spread over the suites' families")
    ap.add_argument("--escalate", type=int, default=1, help="retries with twice the time for unsolved problems")
    ap.add_argument("--keep", metavar="DIR", help="keep each zoo under DIR")
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args(argv)
    from deepmad_pyomo.batch import suites

    names = [f"{s.name}/{p.name}" for s in suites.load_suites(args.suite) for p in s]
    only = None
    if args.subset:
        step = max(1, len(names) // args.subset)
        only = names[::step][:args.subset]
    keep = Path(args.keep) if args.keep else None
    if keep:
        keep.mkdir(parents=True, exist_ok=True)
    runs = [run_once(args.suite, int(w), args.time_limit, only, args.escalate, keep) for w in args.workers.split(",")]
    by = {r["workers"]: r for r in runs}
    n = runs[0]["models"]
    ratio = (by[2]["models_per_minute"] / by[1]["models_per_minute"]) if 1 in by and 2 in by else None
    target_models, target_wall = TARGETS.get(args.suite, (None, None))
    wall_all = by[2]["wall_s"] * target_models / n if 2 in by and target_models else None
    report = {"suite": args.suite, "time_limit": args.time_limit, "models": n, "cpus": os.cpu_count(), "runs": runs,
              "throughput_ratio_2_vs_1": None if ratio is None else round(ratio, 2),
              "wall_2_workers_all_models_s": None if wall_all is None else round(wall_all, 1),
              "wall_is_extrapolated": n != target_models,
              "targets": {"models": target_models, "wall_2_workers_s": target_wall, "throughput_ratio": TARGET_RATIO}}
    if args.json:
        print(json.dumps(report, indent=1))
        return 0
    print(f"\nzoo throughput: {n} models ({args.suite}{', subset' if only else ''}), time limit {args.time_limit:g} s "
          f"per model, {os.cpu_count()} CPUs")
    print(f"{'workers':>7} {'models':>6} {'designed':>8} {'verified':>8} {'proven':>6} {'retried':>7} {'wall (s)':>9} "
          f"{'models/min':>10} {'mean obj':>10} {'peak PSS tree (MB)':>18} {'max RSS (MB)':>12} {'load before/after':>17}")
    for r in runs:
        print(f"{r['workers']:>7} {r['models']:>6} {r['designed']:>8} {r['verified']:>8} {r['proven']:>6} "
              f"{r['escalated']:>7} "
              f"{r['wall_s']:>9.1f} "
              f"{r['models_per_minute']:>10.2f} {r['mean_objective'] or float('nan'):>10,.0f} "
              f"{r['peak_tree_pss_mb']:>18,} {r['peak_process_rss_mb']:>12,} "
              f"{r['load_before']:>8.2f}/{r['load_after']:<8.2f}")
    if wall_all is not None:
        all_done = n == target_models and by[2]["proven"] == by[2]["verified"] == n
        ok = wall_all < target_wall and (all_done or n != target_models)
        how = "extrapolated from the subset" if n != target_models else "measured"
        print(f"target: {target_models} models designed, proven and verified in < {target_wall:.0f} s with 2 workers: "
              f"{wall_all:.1f} s ({how}), {by[2]['proven']} of {n} proven {'MET' if ok else 'NOT MET'}")
    print("proven: certified optimal (gap <= the requested gap)")
    print("retried: models with no design in the time limit, solved again with twice the time (--escalate)")
    if ratio is not None:
        print(f"target: throughput 2 workers / 1 worker >= {TARGET_RATIO}: {ratio:.2f} "
              f"{'MET' if ratio >= TARGET_RATIO else 'NOT MET'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
