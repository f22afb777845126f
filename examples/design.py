"""Design a backbone for a problem of your own, with its optimality proof; build it and check its counts.

    python examples/design.py                                   # examples/my_problem.yaml, certified
    python examples/design.py --preset deepmad-r18 --solver auto --time-limit 30 --out r18.json

Needs only the core install (``pip install -e .``).
"""
from __future__ import annotations

import argparse
from pathlib import Path

import torch

import deepmad_pyomo as dm

HERE = Path(__file__).resolve().parent


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--spec", default=str(HERE / "my_problem.yaml"), help="a problem file (docs/problems.md)")
    ap.add_argument("--preset", help="a preset instead of --spec (deepmad presets)")
    ap.add_argument("--solver", default="certify", help="a solver route (deepmad solvers); default: certify")
    ap.add_argument("--time-limit", type=float, default=120.0, help="wall-clock seconds (default 120)")
    ap.add_argument("--out", help="write the architecture here (JSON, for deepmad build/export)")
    args = ap.parse_args(argv)

    problem = dm.preset(args.preset) if args.preset else dm.load_problem(args.spec)
    result = dm.design(problem, args.solver, dm.SolveOptions(time_limit=args.time_limit))
    print(f"{problem.name}: {result.status}, objective {result.objective}, proven bound {result.bound}, "
          f"gap {result.gap}, {result.time_s:.1f} s")
    if result.architecture is None:
        return 1
    arch = result.architecture
    check = dm.verify(arch)  # the built module's MACs and params, counted by torch, against the formulas
    print(f"MACs {check.macs_counted:,} (analytic {check.macs_analytic:,}), params {check.params_counted:,} "
          f"(analytic {check.params_analytic:,}): {'exact' if check.match else 'MISMATCH'}")
    net = dm.build_model(arch).eval()
    with torch.no_grad():
        logits = net(torch.randn(1, 3, arch.resolution, arch.resolution))
    print(f"forward pass: {tuple(logits.shape)}")
    if args.out:
        dm.save(arch, args.out)
        print(f"wrote {args.out}")
    return 0 if check.match else 1


if __name__ == "__main__":
    raise SystemExit(main())
