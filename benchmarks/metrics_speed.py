"""How fast the analytic metrics and the independent count are.

    python benchmarks/metrics_speed.py [--runs N]

Prints the median time of ``metrics.evaluate`` on DeepMAD-R50 (target < 1 ms) and of building R50 on
the meta device and counting it with FlopCounterMode (target < 2 s). The first count in a process also
pays torch's one-time lazy imports (BatchNorm's meta kernel loads ``torch._dynamo``): reported apart.
"""
from __future__ import annotations

import argparse
import statistics
import time
from typing import Callable

import torch

from deepmad_pyomo.nn.models import get_architecture
from deepmad_pyomo.nn.network import build_model
from deepmad_pyomo.nn.verify import count_module
from deepmad_pyomo.space.metrics import evaluate

MODEL = "deepmad-R50"
TARGET_METRICS_S = 1e-3
TARGET_COUNT_S = 2.0


def timed(fn: Callable[[], object], runs: int) -> list[float]:
    """Wall-clock seconds of ``runs`` calls of ``fn``."""
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return times


def build_and_count() -> None:
    arch = get_architecture(MODEL)
    with torch.device("meta"):
        model = build_model(arch)
    count_module(model, (1, 3, arch.resolution, arch.resolution))


def report(what: str, seconds: float, target: float) -> None:
    verdict = "ok" if seconds < target else "OVER TARGET"
    print(f"{what:<44} {seconds * 1e3:10.3f} ms   (target < {target * 1e3:g} ms: {verdict})")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=1000, help="evaluate() calls (default 1000)")
    parser.add_argument("--count-runs", type=int, default=5, help="build+count runs (default 5)")
    args = parser.parse_args()

    arch = get_architecture(MODEL)
    print(f"{MODEL}: {arch.describe()}")
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads\n")
    metrics = statistics.median(timed(lambda: evaluate(arch), args.runs))
    report(f"metrics.evaluate (median of {args.runs})", metrics, TARGET_METRICS_S)
    cold = timed(build_and_count, 1)[0]
    report("build + count on meta, first in process", cold, TARGET_COUNT_S)
    warm = statistics.median(timed(build_and_count, args.count_runs))
    report(f"build + count on meta (median of {args.count_runs})", warm, TARGET_COUNT_S)


if __name__ == "__main__":
    main()
