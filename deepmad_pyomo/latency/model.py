"""Latency model files (validated, cached) and predictions from them."""
from __future__ import annotations

import math
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Sequence

from ..errors import DesignError
from ..fileio import read_json
from .ops import (
    CLOCKS,
    DEVICES,
    FEATURE_DOC,
    FORMAT,
    GROUPS,
    MALLOC_MODES,
    OLD_FORMATS,
    RUNTIMES,
    network_latency,
)


@dataclass
class LatencyModel:
    """A fitted latency model: coefficients per op type (ms per feature unit), what it was measured with,
    how well it fits, how noisy the measurements were, and the raw medians (for re-fitting)."""

    coefficients: dict[str, dict[str, float]]
    measured_with: dict[str, Any]
    fit: dict[str, Any] = field(default_factory=dict)
    noise: dict[str, Any] = field(default_factory=dict)
    samples: list[dict[str, Any]] = field(default_factory=list)
    path: str | None = None
    memo: dict[Any, Any] = field(default_factory=dict, repr=False, compare=False)  # block latencies

    @property
    def batch(self) -> int:
        return int(self.measured_with["batch"])

    @property
    def device(self) -> str:
        return str(self.measured_with["device"])

    @property
    def threads(self) -> int:
        return int(self.measured_with["threads"])

    @property
    def clock(self) -> str:
        return str(self.measured_with.get("clock", "wall"))

    @property
    def runtime(self) -> str:
        return str(self.measured_with.get("runtime", "torch"))

    def describe(self) -> str:
        """One line: where, how and when the model was measured."""
        w = self.measured_with
        name = f" ({w['device_name']})" if w.get("device_name") else ""
        threads = f"{w['threads']} thread{'s' if w['threads'] != 1 else ''}, " if self.device == "cpu" else ""
        alloc = f", malloc {w['malloc']}" if w.get("malloc") and self.device == "cpu" else ""
        return (f"latency model measured on {w['device']}{name}, {threads}batch {w['batch']}, "
                f"{w.get('dtype', 'float32')}, clock {self.clock}{alloc}, "
                + (f"onnxruntime {w.get('onnxruntime')} (torch {w['torch']} exported)" if self.runtime == "onnxruntime"
                   else f"torch {w['torch']}")
                + (f", {w['created']}" if w.get("created") else "") + (f" [{self.path}]" if self.path else ""))

    def to_dict(self) -> dict[str, Any]:
        return {"format": FORMAT, "measured_with": self.measured_with, "units": {"latency": "ms", **FEATURE_DOC},
                "coefficients": self.coefficients, "fit": self.fit, "noise": self.noise, "samples": self.samples}

    @classmethod
    def from_dict(cls, d: Any, where: str = "latency model") -> "LatencyModel":
        validate(d, where)
        return cls(coefficients={op: {f: float(v) for f, v in c.items()} for op, c in d["coefficients"].items()},
                   measured_with=dict(d["measured_with"]), fit=dict(d.get("fit") or {}),
                   noise=dict(d.get("noise") or {}), samples=list(d.get("samples") or []))


_REQUIRED = {"device": str, "threads": int, "batch": int, "torch": str}
_HINT = "a file written by 'deepmad latency profile --out'"


def validate(d: Any, where: str = "latency model") -> None:
    """Raise :class:`DesignError` naming the first field of a latency model (a dict) that is wrong."""
    if not isinstance(d, dict):
        raise DesignError(where, f"expected a JSON object, got {type(d).__name__}", _HINT)
    if d.get("format") in OLD_FORMATS:
        raise DesignError(f"{where}: format", f"{d['format']} is an older latency model (per-family block costs, "
                          "no per-call cost)", f"{FORMAT}: profile again with 'deepmad latency profile --out'")
    if d.get("format") != FORMAT:
        raise DesignError(f"{where}: format", f"unknown format {d.get('format')!r}", FORMAT)
    w = d.get("measured_with")
    if not isinstance(w, dict):
        raise DesignError(f"{where}: measured_with", "missing or not an object",
                          "an object with " + ", ".join(_REQUIRED) + ", clock, malloc")
    for key, typ in _REQUIRED.items():
        v = w.get(key)
        if typ is int:
            if isinstance(v, bool) or not isinstance(v, int) or v < 1:
                raise DesignError(f"{where}: measured_with.{key}", f"expected a positive integer, got {v!r}",
                                  "an integer >= 1")
        elif not isinstance(v, str) or not v:
            raise DesignError(f"{where}: measured_with.{key}", f"expected a non-empty string, got {v!r}",
                              ", ".join(DEVICES) if key == "device" else "the torch version, e.g. 2.13.0+cpu")
    if w["device"].split(":")[0] not in DEVICES:
        raise DesignError(f"{where}: measured_with.device", f"unknown device {w['device']!r}", ", ".join(DEVICES))
    for key, valid in (("clock", CLOCKS), ("malloc", MALLOC_MODES + ("cuda",)), ("runtime", RUNTIMES)):
        if key in w and w[key] not in valid:
            raise DesignError(f"{where}: measured_with.{key}", f"unknown value {w[key]!r}", ", ".join(valid))
    coef = d.get("coefficients")
    if not isinstance(coef, dict):
        raise DesignError(f"{where}: coefficients", "missing or not an object",
                          "an object with one entry per op: " + ", ".join(GROUPS))
    for op in GROUPS:
        if op not in coef:
            raise DesignError(f"{where}: coefficients.{op}", "missing", "one entry per op: " + ", ".join(GROUPS))
    for op, c in coef.items():
        if op not in GROUPS:
            raise DesignError(f"{where}: coefficients.{op}", "unknown op", ", ".join(GROUPS))
        if not isinstance(c, dict):
            raise DesignError(f"{where}: coefficients.{op}", f"expected an object, got {type(c).__name__}",
                              "{feature: ms per unit} with features " + ", ".join(GROUPS[op]))
        for f, v in c.items():
            if f not in GROUPS[op]:
                raise DesignError(f"{where}: coefficients.{op}.{f}", "unknown feature", ", ".join(GROUPS[op]))
            if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v) or v < 0:
                raise DesignError(f"{where}: coefficients.{op}.{f}", f"expected a finite number >= 0, got {v!r}",
                                  "ms per feature unit, >= 0")
    for key in ("fit", "noise"):
        if d.get(key) is not None and not isinstance(d[key], dict):
            raise DesignError(f"{where}: {key}", f"expected an object, got {type(d[key]).__name__}",
                              "an object (what the profile reports), or absent")
    if d.get("samples") is not None and not isinstance(d["samples"], list):
        raise DesignError(f"{where}: samples", f"expected a list, got {type(d['samples']).__name__}",
                          "a list of measured shapes, or absent")


def load(path: str | os.PathLike[str]) -> LatencyModel:
    """Read and validate a latency model file."""
    p = Path(path)
    model = LatencyModel.from_dict(read_json(p, "latency model", _HINT), where=str(p))
    model.path = str(p)
    return model


_CACHE: dict[tuple[str, int, int], LatencyModel] = {}


def load_cached(path: str | os.PathLike[str]) -> LatencyModel:
    """:func:`load`, cached by (resolved path, mtime, size): cheap enough to call in every check."""
    p = Path(path)
    try:
        st = p.stat()
        key = (str(p.resolve()), st.st_mtime_ns, st.st_size)
    except OSError:
        return load(p)  # raises the DesignError
    if key not in _CACHE:
        if len(_CACHE) > 32:
            _CACHE.clear()
        _CACHE[key] = load(p)
    return _CACHE[key]


def save(model: LatencyModel, path: str | os.PathLike[str]) -> None:
    """Write a model file atomically (validated first)."""
    from ..fileio import atomic_write_json

    validate(model.to_dict())
    atomic_write_json(path, model.to_dict())


def _as_model(model: LatencyModel | str | os.PathLike[str]) -> LatencyModel:
    if model is None:
        raise DesignError("budgets.latency_model", "a latency budget needs a latency model file", _HINT)
    return model if isinstance(model, LatencyModel) else load_cached(model)


def predict_ms(model: LatencyModel | str | os.PathLike[str], arch: Any, resolution: int | None = None) -> float:
    """Predicted latency (ms) of one forward pass of ``arch`` (at ``resolution``, default its own) with the
    device, threads, batch and clock the model was measured with (see :meth:`LatencyModel.describe`)."""
    m = _as_model(model)
    total, _ = network_latency(m.coefficients, arch.blocks, resolution or arch.resolution, arch.num_classes,
                               m.batch, memo=m.memo)
    return float(total)


def predict_blocks_ms(model: LatencyModel | str | os.PathLike[str], arch: Any) -> list[float]:
    """Predicted latency (ms) of each block of ``arch`` and, last, of the classifier."""
    m = _as_model(model)
    _, per = network_latency(m.coefficients, arch.blocks, arch.resolution, arch.num_classes, m.batch)
    return [float(v) for v in per]


def latency_expression(model_path: str | os.PathLike[str] | LatencyModel, blocks: Sequence[Any],
                       problem: Any) -> Any:
    """The predicted latency (ms) of the template's ``blocks`` (fields: Pyomo expressions) as a Pyomo
    expression: the same formula as :func:`predict_ms`, which it equals at every integer point (where the
    formulation gives an inverted residual's width change no indicator, its residual add is counted: an
    upper bound)."""
    m = _as_model(model_path)
    specs = problem.specs
    total, _ = network_latency(m.coefficients, blocks, problem.resolution, problem.num_classes, m.batch,
                               kernels=[sp.k for sp in specs])
    return total

