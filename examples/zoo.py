"""Build a small model zoo (design, certify, verify, export every problem of a suite) and use its models.

    python examples/zoo.py --out my_zoo                        # the CIFAR suite, 2 worker processes
    python examples/zoo.py --out my_zoo --only 'k1kxk1-*' --solver auto --time-limit 10

Needs Dask (``pip install 'deepmad-pyomo[cluster]'``); the picture needs matplotlib (``[plots]``).
"""
from __future__ import annotations

import argparse
import os

import torch


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", required=True, help="output folder (reused to resume)")
    ap.add_argument("--suite", default="cifar", help="paper, imagenet, cifar or a folder of problem files")
    ap.add_argument("--only", help="only the problems whose name matches this shell pattern")
    ap.add_argument("--solver", default="certify", help="solver route (default: certify, with a proof)")
    ap.add_argument("--time-limit", type=float, default=60.0, help="seconds per model (default 60)")
    ap.add_argument("--workers", type=int, default=2, help="worker processes (default 2)")
    ap.add_argument("--no-plot", action="store_true", help="no picture (no matplotlib needed)")
    args = ap.parse_args(argv)

    from deepmad_pyomo.batch.zoo import build_zoo

    res = build_zoo(args.suite, args.out, args.solver, time_limit=args.time_limit, workers=args.workers, only=args.only,
                    progress=False, figure=not args.no_plot)
    print(f"{res.models} models ({res.designed} designed now, {res.reused} reused, {res.failed} failed)")

    # the records are registered models once their folder is on DEEPMAD_MODELS
    os.environ["DEEPMAD_MODELS"] = args.out
    from deepmad_pyomo.nn.models import create_model, get_architecture

    names = [r["name"] for r in res.records if r.get("architecture")]
    for name in names:
        r = get_architecture(name).resolution
        net = create_model(name, num_classes=10).eval()
        with torch.no_grad():
            shape = tuple(net(torch.randn(1, 3, r, r)).shape)
        print(f"{name}: {sum(p.numel() for p in net.parameters()):,} params, output {shape}")
    return 1 if res.failed or not names else 0


if __name__ == "__main__":
    raise SystemExit(main())
