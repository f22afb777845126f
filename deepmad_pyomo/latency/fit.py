"""Profiling and fitting: ops measured over a grid, per-op NNLS models and per-family calibration."""
from __future__ import annotations

import datetime as _dt
import itertools
import random
import statistics
import time
from typing import Any, Callable, Iterable, Sequence

from ..errors import DesignError
from .grid import (
    OpShape,
    _make_op,
    default_grid,
    device_info,
    network_features,
    reference_arch,
)
from .measure import (
    Measurement,
    _now,
    build_network,
    check_device,
    check_runtime,
    default_clock,
    measure_like,
    measure_network,
    time_calls,
    torch_threads,
    tune_malloc,
)
from .model import (
    LatencyModel,
    latency_expression,
    load,
    load_cached,
    predict_blocks_ms,
    predict_ms,
    save,
    validate,
)
from .ops import CLOCKS, FAMILIES, FORMAT, OPS, cost, inner_block_terms, network_latency


def measure_ops(shapes: Sequence[OpShape], device: str = "cpu", threads: int = 1, batch: int = 1,
                repeats: int = 5, passes: int = 3, warmup: int = 2, min_sample_s: float = 0.002, seed: int = 0,
                progress: Callable[[str], None] | None = None, interleave: Callable[[], None] | None = None,
                interleave_every_s: float = 1.0, malloc: str = "tuned",
                clock: str | None = None, runtime: str = "torch") -> dict[OpShape, Measurement]:
    """Per-call latency samples of every op in ``shapes``: ``passes`` passes over the shapes, in a new
    random order each time (a burst of load then hits many shapes a little rather than one shape a lot),
    ``repeats`` samples per shape and pass (a network: two passes after a warm-up pass; :func:`profile`
    times its calibration networks in between instead).
    ``interleave()`` runs about every ``interleave_every_s`` s (e.g. one pass of a network under test,
    so that it sees the same machine as the ops). ``runtime``: torch, or ONNX Runtime (each op exported)."""
    check_device(device)
    check_runtime(runtime, device)
    if device == "cpu":
        tune_malloc(malloc)
    clock = clock or default_clock(device, threads)
    rng = random.Random(seed)
    samples: dict[OpShape, list[float]] = {s: [] for s in shapes}
    order = list(shapes)
    with torch_threads(threads if device == "cpu" else None):
        for p in range(passes):
            rng.shuffle(order)
            t0 = last = time.perf_counter()
            for sh in order:
                fn = _make_op(sh, device, batch, runtime, threads)
                if sh.op == "network":
                    samples[sh].extend(time_calls(fn, device, NET_PASSES, 1, 0.0, clock))
                else:
                    samples[sh].extend(time_calls(fn, device, repeats, warmup, min_sample_s, clock))
                del fn
                if interleave and time.perf_counter() - last >= interleave_every_s:
                    interleave()
                    last = time.perf_counter()
            if progress:
                progress(f"pass {p + 1}/{passes}: {len(order)} shapes in {time.perf_counter() - t0:.1f} s")
    return {s: Measurement(v) for s, v in samples.items()}


def nnls(rows: Sequence[Sequence[float]], y: Sequence[float]) -> list[float]:
    """Non-negative least squares, ``argmin |rows x - y|`` over ``x >= 0`` (scipy's Lawson-Hanson).

    Columns equal on every row (a depthwise conv's input and output sizes when every measured shape has
    stride 1) are fitted as one feature whose coefficient goes to the first of them: the answer is then
    unique, whatever the solver's tie-break."""
    import numpy as np
    from scipy.optimize import nnls as lawson_hanson

    A, b = np.asarray(rows, dtype=float), np.asarray(y, dtype=float)
    distinct = [j for j in range(A.shape[1]) if not any(np.array_equal(A[:, i], A[:, j]) for i in range(j))]
    x = np.zeros(A.shape[1])
    x[distinct], _ = lawson_hanson(A[:, distinct], b)
    return [float(v) for v in x]


def _err_stats(prefix: str, errs: Sequence[float]) -> dict[str, float | None]:
    if not errs:
        return {f"{prefix}_median_abs_rel_err": None, f"{prefix}_p90_abs_rel_err": None}
    a = sorted(abs(e) for e in errs)
    return {f"{prefix}_median_abs_rel_err": round(statistics.median(a), 4),
            f"{prefix}_p90_abs_rel_err": round(a[min(len(a) - 1, int(0.9 * len(a)))], 4)}


def _split(shapes: list[OpShape], holdout: float, rng: random.Random) -> tuple[list[OpShape], list[OpShape]]:
    shapes = sorted(shapes, key=lambda s: tuple(map(str, s.__dict__.values())))
    rng.shuffle(shapes)
    n_test = int(round(holdout * len(shapes))) if len(shapes) >= 4 else 0
    return shapes[n_test:], shapes[:n_test]


PRIOR_SCALE = 1.0  # weight of the prior scale_f = 1, about one network's


def fit(medians: dict[OpShape, float], batch: int, holdout: float = 0.25, seed: int = 0
        ) -> tuple[dict[str, dict[str, float]], dict[str, Any]]:
    """Fit a model to measured medians; a seeded ``holdout`` share of every op's shapes (and of the
    calibration networks) is kept apart and the errors on it are reported.

    1. Per op type, the coefficients minimising the squared relative error on its training shapes.
    2. On the calibration networks, ``measured ~ sum_f scale_f * (what the ops of its family-f blocks
       predict) + call * (its op calls) + classifier`` (the stem and head are family ``conv``): ops run
       somewhat slower in a network than alone (caches), and every op call costs some framework time in a
       network that it did not alone (docs/latency.md). A weak prior (``scale`` near 1) keeps the scale of a
       family the calibration networks rarely show from running off."""
    rng = random.Random(seed)
    coef: dict[str, dict[str, float]] = {}
    report: dict[str, Any] = {"objective": "min sum ((predicted - measured) / measured)^2, coefficients >= 0",
                              "holdout_share": holdout, "per_op": {}}
    errs: dict[str, list[float]] = {"train": [], "heldout": []}
    for op, names in OPS.items():
        train, test = _split([s for s in medians if s.op == op], holdout, rng)
        if not train:
            raise DesignError("grid", f"no shapes measured for op {op!r}", ", ".join(OPS))
        X = [[s.terms(batch)[0][1][f] / medians[s] for f in names] for s in train]
        coef[op] = dict(zip(names, nnls(X, [1.0] * len(X))))

        def rel(ss: list[OpShape], op: str = op) -> list[float]:
            return [cost(coef, s.terms(batch)) / medians[s] - 1 for s in ss]

        e_train, e_test = rel(train), rel(test)
        errs["train"] += e_train
        errs["heldout"] += e_test
        report["per_op"][op] = {"train_shapes": len(train), "heldout_shapes": len(test),
                                **_err_stats("train", e_train), **_err_stats("heldout", e_test)}
    report.update(train_shapes=len(errs["train"]), heldout_shapes=len(errs["heldout"]),
                  **_err_stats("train", errs["train"]), **_err_stats("heldout", errs["heldout"]))

    train, test = _split([s for s in medians if s.op == "network"], holdout, rng)
    if not train:
        raise DesignError("grid", "no calibration networks measured", "a grid with 'network' shapes")
    feats = {s: network_features(s.arch(), coef, batch) for s in train + test}
    nf = len(FAMILIES)
    X, y = [], []
    for s in train:
        ops, n_calls, head = feats[s]
        X.append([ops[f] / medians[s] for f in FAMILIES] + [n_calls / medians[s]])
        y.append(1.0 - head / medians[s])
    for i in range(nf):  # weak priors, each worth about one network: scales near 1
        X.append([PRIOR_SCALE if k == i else 0.0 for k in range(nf + 1)])
        y.append(PRIOR_SCALE)
    x = nnls(X, y)
    coef_ops = coef
    coef = {**coef, "scale": dict(zip(FAMILIES, x[:nf])), "network": {"call": x[nf]}}

    def net_err(ss: list[OpShape], c: dict[str, dict[str, float]]) -> list[float]:
        return [predict_ms(LatencyModel(c, {"batch": batch}), s.arch()) / medians[s] - 1 for s in ss]

    plain = {**coef_ops, "scale": {f: 1.0 for f in FAMILIES}, "network": {"call": 0.0}}
    e_test = net_err(test, coef)
    report["networks"] = {
        "calibration": "measured ~ sum_f scale_f * ops of family-f blocks + call * op calls + classifier",
        "train_networks": len(train), "heldout_networks": len(test),
        **_err_stats("train", net_err(train, coef)), **_err_stats("heldout", e_test),
        **_err_stats("ops_only_heldout", net_err(test, plain)),
        "heldout": [{"network": s.label(), "measured_ms": round(medians[s], 3),
                     "predicted_ms": round(medians[s] * (1 + e), 3)} for s, e in zip(test, e_test)]}
    return coef, report


def noise_summary(meas: Iterable[Measurement]) -> dict[str, Any]:
    iqr = sorted(m.iqr_rel for m in meas)
    if not iqr:
        return {}
    return {"median_iqr_over_median": round(statistics.median(iqr), 4),
            "p90_iqr_over_median": round(iqr[min(len(iqr) - 1, int(0.9 * len(iqr)))], 4),
            "statistic": "per shape: (q3 - q1) / median of its per-call samples"}


NET_PASSES, NET_MIN_SAMPLES = 2, 8  # per visit of a calibration network; at least, per network


def profile(device: str = "cpu", threads: int = 1, batch: int = 1, grid: str | Sequence[OpShape] = "default",
            repeats: int = 5, passes: int = 3, seed: int = 0, progress: Callable[[str], None] | None = None,
            interleave: Callable[[], None] | None = None, interleave_every_s: float = 1.0,
            malloc: str = "tuned", clock: str | None = None, runtime: str = "torch") -> LatencyModel:
    """Measure the ops on ``device`` and fit a :class:`LatencyModel`. About every ``interleave_every_s``
    seconds of timing ops, the profile times the small reference network (see :func:`reference_arch`), the
    next calibration network (two passes after a warm-up pass) and runs ``interleave()``. ``runtime``: what
    runs the ops and networks (:data:`~.ops.RUNTIMES`): torch, or ONNX Runtime on the CPU (each op and network
    exported to ONNX first)."""
    check_device(device)
    check_runtime(runtime, device)
    for name, v in (("threads", threads), ("batch", batch), ("repeats", repeats), ("passes", passes)):
        if isinstance(v, bool) or not isinstance(v, int) or v < 1:
            raise DesignError(name, f"must be a positive integer, got {v!r}", "an integer >= 1")
    clock = clock or default_clock(device, threads)
    _now(clock)
    allocator = tune_malloc(malloc) if device == "cpu" else "torch CUDA caching allocator"
    shapes = default_grid(grid, seed) if isinstance(grid, str) else list(grid)
    ops = [s for s in shapes if s.op != "network"]
    nets = [s for s in shapes if s.op == "network"]
    ref_arch = reference_arch()
    with torch_threads(threads if device == "cpu" else None):
        ref_built = build_network(ref_arch, device, batch, runtime, threads)
        # calibration networks are built once and timed all through the profile, a few passes at a time
        # after a warm-up pass: the way a network under test is measured (see measure_like)
        built = {s: build_network(s.arch(), device, batch, runtime, threads) for s in nets}
    ref_samples: list[float] = []
    net_samples: dict[OpShape, list[float]] = {s: [] for s in nets}
    visits = itertools.cycle(nets)

    def visit_network() -> None:
        if nets:
            s = next(visits)
            net_samples[s].extend(measure_network(s.arch(), device, threads, batch, NET_PASSES, 1, built[s], malloc,
                                                  clock, runtime).samples)

    def between() -> None:
        ref_samples.extend(measure_network(ref_arch, device, threads, batch, 1, 1, ref_built, malloc, clock,
                                           runtime).samples)
        visit_network()
        if interleave:
            interleave()

    t0 = time.perf_counter()
    between()
    meas = measure_ops(ops, device, threads, batch, repeats, passes, seed=seed, progress=progress,
                       interleave=between, interleave_every_s=interleave_every_s, malloc=malloc, clock=clock,
                       runtime=runtime)
    while nets and min(len(v) for v in net_samples.values()) < NET_MIN_SAMPLES:
        between()
    if progress and nets:
        progress(f"{len(nets)} calibration networks: {sum(map(len, net_samples.values()))} timed passes")
    meas.update({s: Measurement(v) for s, v in net_samples.items()})
    built.clear()  # free the calibration networks before fitting
    wall = time.perf_counter() - t0
    coef, report = fit({s: m.low for s, m in meas.items()}, batch, seed=seed)
    measured_with = {"device": device, "threads": threads if device == "cpu" else 1, "batch": batch,
                     "dtype": "float32", "clock": clock, "malloc": malloc if device == "cpu" else "cuda",
                     "allocator": allocator, "runtime": runtime, **device_info(device, runtime),
                     "created": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds")}
    ref = Measurement(ref_samples)
    noise = {**noise_summary(meas.values()), "repeats_per_pass": repeats, "passes": passes,
             "profile_wall_s": round(wall, 1),
             "reference": {"architecture": ref_arch.describe(), "resolution": ref_arch.resolution,
                           **ref.to_dict()}}
    samples = [{**s.to_dict(), "low_ms": round(m.low, 6), "median_ms": round(m.median, 6), "iqr_rel": round(m.iqr_rel, 4)}
               for s, m in meas.items()]
    report["grid"] = {"name": grid if isinstance(grid, str) else "custom", "seed": seed, "shapes": len(shapes)}
    return LatencyModel(coef, measured_with, report, noise, samples)


def refit(model: LatencyModel, seed: int = 0) -> LatencyModel:
    """Fit again from the raw statistics (low quantile, see :attr:`Measurement.low`) a model file keeps."""
    medians = {}
    for d in model.samples:
        d = dict(d)
        median = d.pop("median_ms")
        ms = d.pop("low_ms", median)  # files written before the low quantile was the statistic: the median
        d.pop("iqr_rel", None)
        medians[OpShape.from_dict(d)] = ms
    coef, report = fit(medians, model.batch, seed=seed)
    report["grid"] = model.fit.get("grid")
    return LatencyModel(coef, model.measured_with, report, model.noise, model.samples)


def machine_speed(model: LatencyModel, repeats: int = 15) -> dict[str, Any] | None:
    """The reference network timed now against the time recorded in ``model``: ``ratio`` > 1 means this
    machine is slower now than when the model was measured (e.g. other work on it)."""
    ref = model.noise.get("reference") if isinstance(model.noise, dict) else None
    if not isinstance(ref, dict) or not ref.get("median_ms"):
        return None
    now = measure_like(model, reference_arch(), repeats=repeats, warmup=2)
    return {"reference_ms_then": ref["median_ms"], "reference_ms_now": round(now.median, 4),
            "ratio": round(now.median / ref["median_ms"], 3), "iqr_over_median_now": round(now.iqr_rel, 4)}


__all__ = ["CLOCKS", "FORMAT", "OPS", "LatencyModel", "Measurement", "OpShape", "cost", "default_clock",
           "default_grid", "fit", "inner_block_terms", "latency_expression", "load", "load_cached",
           "machine_speed", "measure_like", "measure_network", "measure_ops", "network_latency",
           "predict_blocks_ms", "predict_ms", "profile", "refit", "save", "tune_malloc", "validate"]
