"""Reports on a latency model: what it was measured with and how well it fits (:func:`model_summary`), and
an architecture's latency predicted by it and measured the way it was measured (:func:`latency_report`)."""
from __future__ import annotations

from typing import Any

from .grid import reference_arch
from .measure import Measurement, build_network, check_device, check_runtime, measure_like
from .model import LatencyModel, load, predict_blocks_ms, predict_ms

DEFAULT_REPEATS = 15


def model_summary(model: LatencyModel) -> dict[str, Any]:
    """What ``deepmad latency profile`` and ``latency show`` report about a model."""
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


def _model_facts(model: LatencyModel, model_path: str) -> dict[str, Any]:
    fit = model.fit or {}
    return {"path": str(model_path), "describe": model.describe(), "measured_with": model.measured_with,
            "heldout_median_abs_rel_err": fit.get("heldout_median_abs_rel_err"),
            "networks_heldout_median_abs_rel_err": (fit.get("networks") or {}).get("heldout_median_abs_rel_err")}


def _machine_speed(model: LatencyModel, reference_samples: list[float]) -> dict[str, Any] | None:
    """The reference network's time now against when the model was profiled (``None`` if not recorded)."""
    then = (model.noise or {}).get("reference", {}).get("median_ms") if isinstance(model.noise, dict) else None
    if not then:
        return None
    now = Measurement(reference_samples).median
    return {"reference_ms_when_profiled": then, "reference_ms_now": round(now, 4), "ratio": round(now / then, 3),
            "note": "> 1: this machine runs the reference network slower now than when the model was measured "
                    "(other load), so measured latencies run high"}


def latency_report(arch: Any, model_path: str, repeats: int = DEFAULT_REPEATS) -> dict[str, Any]:
    """Predict, then measure as the model was measured: network passes interleaved with the small
    reference network the model timed while it was profiled (how fast the machine is now, relative)."""
    model = load(model_path)
    check_device(model.device)
    predicted = predict_ms(model, arch)
    blocks = predict_blocks_ms(model, arch)
    runtime = check_runtime(model.runtime, model.device)
    built = build_network(arch, model.device, model.batch, runtime, model.threads)
    ref_arch = reference_arch()
    ref_built = build_network(ref_arch, model.device, model.batch, runtime, model.threads)
    net: list[float] = []
    ref: list[float] = []
    chunk = 3
    while len(net) < repeats:
        ref += measure_like(model, ref_arch, repeats=3, warmup=1, built=ref_built).samples
        net += measure_like(model, arch, repeats=min(chunk, repeats - len(net)), warmup=1, built=built).samples
    m = Measurement(net)
    d: dict[str, Any] = {
        "latency_predicted_ms": round(predicted, 4),
        "latency_measured_ms": round(m.low, 4),
        "latency_error_rel": round(predicted / m.low - 1, 4),
        "latency_measured_median_ms": round(m.median, 4),
        "latency_measured_iqr_over_median": round(m.iqr_rel, 4) if len(net) >= 4 else None,
        "latency_measured_passes": len(net),
        "latency_clock": model.clock,
        "latency_statistic": f"10th percentile of {len(net)} forward passes on the model's clock ({model.clock}), "
                             f"batch {model.batch}, {model.runtime}, after warm-up",
        "latency_predicted_blocks_ms": [round(v, 4) for v in blocks],
        "latency_model": _model_facts(model, model_path),
    }
    speed = _machine_speed(model, ref)
    if speed:
        d["machine_speed"] = speed
    if model.clock == "thread_cpu":
        wall = measure_like(model, arch, repeats=max(3, min(repeats, 7)), warmup=1, built=built, clock="wall")
        d["latency_measured_wall_ms"] = round(wall.median, 4)
        d["latency_measured_wall_iqr_over_median"] = round(wall.iqr_rel, 4) if len(wall.samples) >= 4 else None
    return d


__all__ = ["DEFAULT_REPEATS", "latency_report", "model_summary"]
