"""Compare solver routes on a suite of design problems: objectives, proven gaps, times (and figures).

    python examples/compare.py --out cmp --solvers auto,scip --time-limit 30
    python examples/compare.py --out cmp --solvers auto --only 'k1kxk1-60m' --time-limit 10 --no-plots

Every route's gap is measured against the certified bound of each problem. Needs Dask
(``pip install 'deepmad-pyomo[cluster]'``); the figures need matplotlib (``[plots]``).
"""
from __future__ import annotations

import argparse


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", required=True, help="output folder (reused to resume)")
    ap.add_argument("--suite", default="cifar", help="paper, imagenet, cifar or a folder of problem files")
    ap.add_argument("--solvers", default="auto,scip", help="comma-separated routes (deepmad solvers)")
    ap.add_argument("--only", help="only the problems whose name matches this shell pattern")
    ap.add_argument("--time-limit", type=float, default=60.0, help="seconds per run (default 60)")
    ap.add_argument("--workers", type=int, default=2, help="worker processes (default 2)")
    ap.add_argument("--no-plots", action="store_true", help="no figures (no matplotlib needed)")
    args = ap.parse_args(argv)

    from deepmad_pyomo.batch.compare import compare

    res = compare(args.suite, args.solvers.split(","), time_limit=args.time_limit, out=args.out,
                  workers=args.workers, only=args.only, progress=False, figures=not args.no_plots)
    print(f"{res.runs} runs, {res.failed} failed; per configuration:")
    for s in res.to_dict()["summary"]:
        print(f"  {s['config']:<24} optimal {s['optimal']}/{s['runs']}, best known {s['best_known']}, "
              f"time (shifted geometric mean) {s['time_sgm_s']} s")
    print("tables: " + ", ".join(f for f in res.files if f.endswith((".md", ".csv"))))
    return 1 if res.failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
