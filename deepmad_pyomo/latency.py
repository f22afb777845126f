"""Latency budgets measured on the user's own hardware (issue 6).

Three parts:

1. **Profiling** (:func:`profile`): torch runs the operations the block families of
   :mod:`deepmad_pyomo.network` are made of (dense and depthwise convs, BatchNorm, ReLU, SiLU, the
   residual add, the shortcut's 2x2 average pool, the squeeze-excite gate, the classifier) over a grid of
   shapes on this device, with warm-up, many repeats in several interleaved passes, and keeps the median.
   It also runs a few random whole networks of every family, to calibrate what the ops cost inside a
   network rather than alone, and what each block's modules cost beyond their ops.
2. **Fitting** (:func:`fit`): per op type a linear model in algebraic features of the shape,
   ``ms = sum_f coef[op][f] * feature_f``, by non-negative least squares on relative errors (non-negative
   coefficients keep the latency monotone in every width and depth, which the MINLP and its box
   relaxation rely on); then, on the calibration networks, per block family a ``scale`` of its ops and a
   ``block`` cost. A quarter of the shapes of every op and of the calibration networks is held out; the
   model file reports the fit's error on them, and how noisy the measurements were.
3. **Prediction**: :func:`inner_block_terms` lists the ops of one block and their features. It iterates
   the ``Conv`` records of :func:`deepmad_pyomo.metrics.inner_block`, and :func:`network_latency` sums
   blocks as :func:`deepmad_pyomo.metrics.block_totals` does (a super-block costs its first block plus
   ``L - 1`` repeats), so the same code gives numbers (:func:`predict_ms`) and Pyomo expressions
   (:func:`latency_expression`, which :mod:`deepmad_pyomo.formulation` uses for ``budgets.latency_ms``).

Features are in millions and are products of the conv fields only, so they stay polynomial in the
MINLP's variables: ``macs = B cin k2 cout r^2``, ``in = B cin (s r)^2`` (input activations), ``out = B cout
r^2`` (output activations), ``weights = cin k2 cout``, ``elems`` (activations an element-wise op touches),
``calls = 1`` (the fixed cost of one call), with ``B`` the batch the model was measured at.

How it is measured matters as much as what: a latency model file records the device, threads, batch,
clock, allocator and library versions it was measured with (:meth:`LatencyModel.describe`), and every
prediction should say so. On the CPU with one thread the clock is the thread's CPU time (see
:func:`default_clock`) and the allocator is tuned (see :func:`tune_malloc`). A malformed file is refused
with a :class:`~deepmad_pyomo.errors.DesignError` naming the field and what is valid.
"""
from __future__ import annotations

import contextlib
import datetime as _dt
import itertools
import json
import math
import os
import platform
import random
import statistics
import time
from collections.abc import Hashable
from dataclasses import dataclass, field
from numbers import Real
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator, Sequence

from . import metrics
from .arch import se_width
from .errors import DesignError

FORMAT = "deepmad-pyomo/latency-model-v1"
DEVICES = ("cpu", "cuda")
FAMILIES = ("conv", "k1kxk1", "kxkx", "k1dwk1", "k1dwsek1")
DW_TYPES = ("k1dwk1", "k1dwsek1")

# Op types and the features each is fitted on (all in millions, except calls and block counts).
OPS: dict[str, tuple[str, ...]] = {
    "conv": ("macs", "in", "out", "weights", "calls"),      # a k x k conv (groups=1, k > 1): blocks, stem
    "conv1x1": ("macs", "in", "out", "weights", "calls"),   # 1x1 convs: in blocks, shortcuts, a 1x1 head
    "dwconv": ("macs", "in", "out", "calls"),               # depthwise k x k conv
    "bn": ("elems", "calls"),                               # BatchNorm2d in eval mode
    "relu": ("elems", "calls"),
    "silu": ("elems", "calls"),
    "add": ("elems", "calls"),                              # residual add
    "avgpool": ("in", "calls"),                             # AvgPool2d(2) of a stride-2 shortcut
    "se": ("elems", "macs", "calls"),                       # squeeze-excite gate including the product
    "classifier": ("elems", "macs", "calls"),               # global pool, flatten, linear
}
# Calibrated on whole networks (see :func:`fit`), per block family (stem and head: ``conv``): ``scale``
# multiplies the ops of a block, ``block`` (ms) is what a block's modules cost beyond their ops.
BLOCK_GROUPS = ("scale", "block")
GROUPS: dict[str, tuple[str, ...]] = {**OPS, **{g: FAMILIES for g in BLOCK_GROUPS}}
FEATURE_DOC = {
    "macs": "multiply-accumulates / 1e6 (times the batch)",
    "in": "input activation elements / 1e6 (times the batch)",
    "out": "output activation elements / 1e6 (times the batch)",
    "elems": "activation elements the op touches / 1e6 (times the batch)",
    "weights": "weight elements / 1e6",
    "calls": "1 per call",
    "scale": "multiplier of the ops of a block of each family (stem/head: conv)",
    "block": "ms per block of each family, beyond its ops",
}
_M = 1e-6

Term = tuple[str, dict[str, Any]]  # (op, features)


# ------------------------------------------------------------------------------------------ features
def conv_features(cin: Any, cout: Any, k2: Any, r: float, s: int, batch: int) -> dict[str, Any]:
    """Features of a dense conv (``cin`` -> ``cout``, kernel area ``k2``, output side ``r``, stride ``s``)."""
    conv = metrics.Conv(cin, cout, k2, r)
    return {"macs": batch * _M * conv.macs, "in": batch * _M * (s * r) ** 2 * cin,
            "out": batch * _M * r * r * cout, "weights": _M * conv.weights, "calls": 1}


def dwconv_features(c: Any, k2: Any, r: float, s: int, batch: int) -> dict[str, Any]:
    return {"macs": batch * _M * metrics.Conv(1, c, k2, r).macs, "in": batch * _M * (s * r) ** 2 * c,
            "out": batch * _M * r * r * c, "calls": 1}


def elem_features(c: Any, r: float, batch: int) -> dict[str, Any]:
    return {"elems": batch * _M * r * r * c, "calls": 1}


def avgpool_features(c: Any, r_in: float, batch: int) -> dict[str, Any]:
    return {"in": batch * _M * r_in * r_in * c, "calls": 1}


def se_features(c: Any, se: Any, r: float, batch: int) -> dict[str, Any]:
    squeeze, excite = metrics.Conv(c, se, 1, 1, "se"), metrics.Conv(se, c, 1, 1, "se")
    return {"elems": batch * _M * r * r * c, "macs": batch * _M * (squeeze.macs + excite.macs), "calls": 1}


def classifier_features(c: Any, r: float, num_classes: int, batch: int) -> dict[str, Any]:
    return {"elems": batch * _M * r * r * c, "macs": batch * _M * c * num_classes, "calls": 1}


def is_pointwise(k2: Any, kernels: Sequence[int] | None = None) -> Any:
    """1 when a conv's kernel area ``k2`` is 1, else 0 (torch runs 1x1 convs with another kernel): exact for
    a number; for an expression of a one-hot choice among ``kernels``, the polynomial in ``k2`` that is 1 at
    ``k = 1`` and 0 at the others (a constant when the choice cannot be, or must be, 1)."""
    if isinstance(k2, Real):
        return 1 if k2 == 1 else 0
    ks = sorted(set(kernels or ()))
    if 1 not in ks:
        return 0
    out: Any = 1
    for q in (k * k for k in ks if k != 1):
        out = out * (k2 - q) / (1 - q)
    return out


def _residual(b: Any, first: bool) -> Any:
    """1 when an inverted-residual block has its identity shortcut (its width does not change): exact for
    numbers; for widths that are expressions, the MINLP's ``same_width`` binary where it has one, else 1
    (an upper bound on the cost)."""
    if not first:
        return 1
    if isinstance(b.c_in, Real) and isinstance(b.c_out, Real):
        return int(b.c_in == b.c_out)
    same = getattr(b, "same_width", None)
    return 1 if same is None or isinstance(same, Real) else same


def _scaled(terms: list[Term], w: Any) -> list[Term]:
    if isinstance(w, Real) and w == 1:
        return terms
    return [(op, {f: w * v for f, v in feats.items()}) for op, feats in terms]


def _bn_act(c: Any, r: float, act: str | None, batch: int) -> list[Term]:
    """The BatchNorm (and activation) after a conv with ``c`` outputs at side ``r``."""
    out: list[Term] = [("bn", elem_features(c, r, batch))]
    if act:
        out.append((act, elem_features(c, r, batch)))
    return out


def inner_block_terms(b: Any, r_in: float, first: bool, batch: int = 1,
                      kernels: Sequence[int] | None = None) -> list[Term]:
    """The ops of one block of super-block ``b`` (the first, or a repeat) at input side ``r_in``, with
    their features (numbers or Pyomo expressions).

    The convs are the ``Conv`` records of :func:`metrics.inner_block`, in its order; what follows each
    (BatchNorm, activation) and the block's add, avg-pool and SE gate are those of
    :mod:`deepmad_pyomo.network`. ``kernels``: the kernel sizes ``b.k2`` chooses from when it is an
    expression (a k x k conv with ``k = 1`` is costed as a 1x1 conv, see :func:`is_pointwise`)."""
    ib = metrics.inner_block(b, r_in, first)
    s = b.s if first else 1
    c_in = b.c_in if first else b.c_out
    r_out = r_in / s
    convs = ib.convs
    t = b.type
    terms: list[Term] = []

    def pointwise(c: metrics.Conv, act: str | None) -> None:
        terms.append(("conv1x1", conv_features(c.cin, c.cout, 1, c.res, 1, batch)))
        terms.extend(_bn_act(c.cout, c.res, act, batch))

    def spatial(c: metrics.Conv, stride: int, act: str | None) -> None:
        one = is_pointwise(c.k2, kernels)
        if not (isinstance(one, Real) and one == 0):
            terms.extend(_scaled([("conv1x1", conv_features(c.cin, c.cout, 1, c.res, stride, batch))], one))
        if not (isinstance(one, Real) and one == 1):
            terms.extend(_scaled([("conv", conv_features(c.cin, c.cout, c.k2, c.res, stride, batch))], 1 - one))
        terms.extend(_bn_act(c.cout, c.res, act, batch))

    if t == "conv":
        spatial(convs[0], s, "relu")
        return terms
    if t in ("k1kxk1", "kxkx"):
        if t == "k1kxk1":
            pointwise(convs[0], "relu")
            spatial(convs[1], s, "relu")
            pointwise(convs[2], None)
            shortcut = convs[3:]
        else:
            spatial(convs[0], s, "relu")
            spatial(convs[1], 1, None)
            shortcut = convs[2:]
        if first:  # projected shortcut: avg-pool at stride 2, then 1x1 conv + BN
            if s == 2:
                terms.append(("avgpool", avgpool_features(c_in, r_in, batch)))
            pointwise(shortcut[0], None)
        terms.append(("add", elem_features(b.c_out, r_out, batch)))
        terms.append(("relu", elem_features(b.c_out, r_out, batch)))
        return terms
    if t in DW_TYPES:
        pointwise(convs[0], "silu")
        dw = convs[1]
        terms.append(("dwconv", dwconv_features(dw.cout, dw.k2, dw.res, s, batch)))
        terms.extend(_bn_act(dw.cout, dw.res, "silu", batch))
        if t == "k1dwsek1":
            terms.append(("se", se_features(b.btn, convs[3].cout, r_out, batch)))
        pointwise(convs[2], None)
        residual: list[Term] = [("add", elem_features(b.c_out, r_out, batch))]
        if s == 2:  # the identity shortcut is avg-pooled at stride 2
            residual.insert(0, ("avgpool", avgpool_features(c_in, r_in, batch)))
        terms.extend(_scaled(residual, _residual(b, first)))
        terms.append(("silu", elem_features(b.c_out, r_out, batch)))
        return terms
    raise DesignError("block.type", f"unknown block type {t!r}", ", ".join(FAMILIES))


def cost(coef: dict[str, dict[str, float]], terms: Iterable[Term]) -> Any:
    """``sum coef[op][f] * feature`` over the terms (a number or a Pyomo expression), in ms."""
    total: Any = 0
    for op, feats in terms:
        c = coef[op]
        for f, v in feats.items():
            if c.get(f):
                total = total + c[f] * v
    return total


def block_latency(coef: dict[str, dict[str, float]], b: Any, r_in: float, first: bool, batch: int = 1,
                  kernels: Sequence[int] | None = None) -> Any:
    """Latency (ms) of one block: its family's ``scale`` times its ops, plus its ``block`` cost."""
    ops = cost(coef, inner_block_terms(b, r_in, first, batch, kernels))
    return coef["scale"].get(b.type, 1.0) * ops + coef["block"].get(b.type, 0.0)


def network_latency(coef: dict[str, dict[str, float]], blocks: Sequence[Any], resolution: float,
                    num_classes: int, batch: int = 1, kernels: Sequence[Sequence[int]] | None = None,
                    memo: dict[Any, Any] | None = None) -> tuple[Any, list[Any]]:
    """Whole-network latency (ms) and that of each block, numbers or Pyomo expressions: per super-block
    its first block plus ``L - 1`` repeats (as :func:`metrics.block_totals`), then the classifier.
    ``kernels[j]``: the kernel sizes block ``j``'s ``k2`` chooses from (used only for expressions).
    ``memo``: a dict caching the latency of hashable (concrete) blocks, for callers that evaluate many
    similar architectures (an evolutionary search)."""
    r = float(resolution)
    per_block = []
    for j, b in enumerate(blocks):
        key = (b, r, batch) if memo is not None and isinstance(b, Hashable) else None
        if key is not None and key in memo:
            per_block.append(memo[key])
            r = r / b.s
            continue
        ks = kernels[j] if kernels is not None else None
        first = block_latency(coef, b, r, True, batch, ks)
        r_out = r / b.s
        if b.type == "conv":
            per_block.append(first)
        else:
            per_block.append(first + (b.L - 1) * block_latency(coef, b, r_out, False, batch, ks))
        if key is not None:
            if len(memo) > 100_000:
                memo.clear()
            memo[key] = per_block[-1]
        r = r_out
    head = cost(coef, [("classifier", classifier_features(blocks[-1].c_out, r, num_classes, batch))])
    return sum(per_block) + head, per_block + [head]


# ------------------------------------------------------------------------------------- model files
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

    def describe(self) -> str:
        """One line: where, how and when the model was measured."""
        w = self.measured_with
        name = f" ({w['device_name']})" if w.get("device_name") else ""
        threads = f"{w['threads']} thread{'s' if w['threads'] != 1 else ''}, " if self.device == "cpu" else ""
        alloc = f", malloc {w['malloc']}" if w.get("malloc") and self.device == "cpu" else ""
        return (f"latency model measured on {w['device']}{name}, {threads}batch {w['batch']}, "
                f"{w.get('dtype', 'float32')}, clock {self.clock}{alloc}, torch {w['torch']}"
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
    for key, valid in (("clock", CLOCKS), ("malloc", MALLOC_MODES + ("cuda",))):
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
    try:
        text = p.read_text()
    except OSError as e:
        raise DesignError(str(p), f"cannot read latency model: {e.strerror}", _HINT) from None
    except UnicodeDecodeError:
        raise DesignError(str(p), "not a text file", _HINT) from None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as e:
        raise DesignError(str(p), f"not valid JSON (line {e.lineno}: {e.msg})", _HINT) from None
    model = LatencyModel.from_dict(data, where=str(p))
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
    from .fileio import atomic_write_json

    validate(model.to_dict())
    atomic_write_json(path, model.to_dict())


def _as_model(model: LatencyModel | str | os.PathLike[str]) -> LatencyModel:
    if model is None:
        raise DesignError("budgets.latency_model", "a latency budget needs a latency model file", _HINT)
    return model if isinstance(model, LatencyModel) else load_cached(model)


# --------------------------------------------------------------------------------------- prediction
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
    specs = [problem.stem, *problem.stages] + ([problem.head] if problem.head else [])
    total, _ = network_latency(m.coefficients, blocks, problem.resolution, problem.num_classes, m.batch,
                               kernels=[sp.k for sp in specs])
    return total


# ---------------------------------------------------------------------------------------- measuring
@dataclass
class Measurement:
    """Per-call latencies (ms) of one op or network: their median and spread."""

    samples: list[float]

    @property
    def median(self) -> float:
        return statistics.median(self.samples)

    @property
    def iqr_rel(self) -> float:
        """Inter-quartile range / median: how noisy the measurement was."""
        if len(self.samples) < 4 or self.median <= 0:
            return 0.0
        q = statistics.quantiles(self.samples, n=4)
        return (q[2] - q[0]) / self.median

    def to_dict(self) -> dict[str, Any]:
        return {"median_ms": round(self.median, 4), "iqr_over_median": round(self.iqr_rel, 4),
                "n": len(self.samples), "min_ms": round(min(self.samples), 4), "max_ms": round(max(self.samples), 4)}


MALLOC_MODES = ("tuned", "system")
_MALLOC_TUNED = False


def tune_malloc(mode: str = "tuned") -> str:
    """Make CPU allocations cheap and repeatable in this process (``mode`` 'tuned'), and describe the
    allocator. With glibc's defaults, tensors above its adaptive mmap threshold (at most 32 MiB) and heap
    memory trimmed back to the system are page-faulted in again on every forward pass: measured here, that
    doubled DeepMAD-29M's latency (17,000-40,000 page faults a pass, 2x run-to-run swings) while the ResNet-like
    nets had none. 'tuned' sets ``M_MMAP_MAX=0`` and ``M_TRIM_THRESHOLD=2^31-1`` with ``mallopt`` (what
    a jemalloc/tcmalloc deployment gets anyway); it stays on for the rest of the process. 'system' leaves the
    allocator alone."""
    global _MALLOC_TUNED
    if mode not in MALLOC_MODES:
        raise DesignError("malloc", f"unknown allocator mode {mode!r}", ", ".join(MALLOC_MODES))
    if mode == "system":
        return "system default" + (" (but tuned earlier in this process)" if _MALLOC_TUNED else "")
    if not _MALLOC_TUNED:
        try:
            import ctypes

            libc = ctypes.CDLL("libc.so.6")
            ok = libc.mallopt(-4, 0) == 1 and libc.mallopt(-1, 2 ** 31 - 1) == 1  # M_MMAP_MAX, M_TRIM_THRESHOLD
        except (OSError, AttributeError):
            ok = False
        if not ok:
            return "system default (glibc mallopt not available here)"
        _MALLOC_TUNED = True
    return "glibc malloc with M_MMAP_MAX=0, M_TRIM_THRESHOLD=2^31-1"


CLOCKS = ("thread_cpu", "wall")


def default_clock(device: str, threads: int) -> str:
    """``thread_cpu`` (CPU time of the calling thread) for one thread on the CPU, else ``wall``.

    On an idle core the two agree. On a shared machine wall time also counts the time other processes held
    the core, which inflates a long run (a whole network) far more than a short one (one op): measured here
    with two solvers running, DeepMAD-R50's wall time per pass ranged 153-446 ms within a minute while its
    thread CPU time ranged 136-217 ms. With several threads or on a GPU, wall time is the latency."""
    return "thread_cpu" if device == "cpu" and threads == 1 else "wall"


def _now(clock: str) -> Callable[[], float]:
    if clock not in CLOCKS:
        raise DesignError("clock", f"unknown clock {clock!r}", ", ".join(CLOCKS))
    return time.thread_time if clock == "thread_cpu" else time.perf_counter


@contextlib.contextmanager
def torch_threads(threads: int | None) -> Iterator[None]:
    """Run with ``threads`` intra-op threads, restoring the previous setting."""
    import torch

    old = torch.get_num_threads()
    if threads:
        torch.set_num_threads(int(threads))
    try:
        yield
    finally:
        torch.set_num_threads(old)


def _sync(device: str) -> Callable[[], None]:
    if device.startswith("cuda"):
        import torch

        return torch.cuda.synchronize
    return lambda: None


def time_calls(fn: Callable[[], Any], device: str, repeats: int, warmup: int = 2,
               min_sample_s: float = 0.0, clock: str = "wall") -> list[float]:
    """``repeats`` per-call latencies (ms) of ``fn`` after ``warmup`` calls, on ``clock``; a sample
    averages enough back-to-back calls to last ``min_sample_s`` (very short ops)."""
    import torch

    sync = _sync(device)
    now = _now(clock)
    with torch.inference_mode():
        for _ in range(max(1, warmup)):
            fn()
        sync()
        n = 1
        if min_sample_s:
            t = time.perf_counter()
            fn()
            sync()
            n = max(1, min(1000, int(min_sample_s / max(time.perf_counter() - t, 1e-7))))
        out = []
        for _ in range(repeats):
            t = now()
            for _ in range(n):
                fn()
            sync()
            out.append((now() - t) * 1e3 / n)
    return out


def build_network(arch: Any, device: str = "cpu", batch: int = 1) -> tuple[Any, Any]:
    """The eval-mode module of ``arch`` on ``device`` and a random input batch."""
    import torch

    from .network import build_model

    torch.manual_seed(0)
    model = build_model(arch).eval().to(device)
    x = torch.randn(batch, arch.blocks[0].c_in, arch.resolution, arch.resolution, device=device)
    return model, x


def check_device(device: str) -> str:
    import torch

    if not isinstance(device, str) or device.split(":")[0] not in DEVICES:
        raise DesignError("device", f"unknown device {device!r}", ", ".join(DEVICES))
    if device.startswith("cuda") and not torch.cuda.is_available():
        raise DesignError("device", "CUDA is not available to this torch build or machine", "cpu")
    return device


def measure_network(arch: Any, device: str = "cpu", threads: int = 1, batch: int = 1, repeats: int = 15,
                    warmup: int = 3, built: tuple[Any, Any] | None = None, malloc: str = "tuned",
                    clock: str | None = None) -> Measurement:
    """Per-pass latencies of ``arch`` (eval mode, inference mode, batch ``batch``) on ``clock`` (default
    :func:`default_clock`)."""
    check_device(device)
    if device == "cpu":
        tune_malloc(malloc)
    clock = clock or default_clock(device, threads)
    with torch_threads(threads if device == "cpu" else None):
        model, x = built or build_network(arch, device, batch)
        return Measurement(time_calls(lambda: model(x), device, repeats, warmup, clock=clock))


def measure_like(model: LatencyModel, arch: Any, repeats: int = 15, warmup: int = 3,
                 built: tuple[Any, Any] | None = None, clock: str | None = None) -> Measurement:
    """Measure ``arch`` the way ``model`` was measured (device, threads, batch, allocator, clock)."""
    check_device(model.device)
    malloc = model.measured_with.get("malloc", "system")
    return measure_network(arch, model.device, model.threads, model.batch, repeats, warmup, built,
                           malloc=malloc if malloc in MALLOC_MODES else "system", clock=clock or model.clock)


# ------------------------------------------------------------------------------------ what to profile
BlockTuple = tuple[str, int, int, int, int, int, int]  # type, in, out, k, s, btn (0: none), L


@dataclass(frozen=True)
class OpShape:
    """One profiled op instance: ``op`` and its shape (channels ``cin``/``cout``, kernel ``k``, stride ``s``,
    output side ``r``, SE width ``se``, classes ``n``); for a calibration ``network``: its ``blocks`` and its
    input side ``r``."""

    op: str
    cin: int = 0
    cout: int = 0
    k: int = 1
    s: int = 1
    r: int = 1
    se: int = 0
    n: int = 0
    blocks: tuple[BlockTuple, ...] = ()

    def arch(self) -> Any:
        """The :class:`~deepmad_pyomo.arch.Architecture` of a ``network`` sample."""
        from .arch import Architecture, Block

        return Architecture(tuple(Block(t, ci, co, k, s, btn or None, L) for t, ci, co, k, s, btn, L in self.blocks),
                            resolution=self.r, num_classes=self.n or 1000, name="latency-calibration")

    def terms(self, batch: int) -> list[Term]:
        """The op's terms, from the same feature functions :func:`inner_block_terms` uses (a ``network``:
        see :func:`network_features`)."""
        o = self.op
        if o in ("conv", "conv1x1"):
            return [(o, conv_features(self.cin, self.cout, self.k * self.k, self.r, self.s, batch))]
        if o == "dwconv":
            return [(o, dwconv_features(self.cout, self.k * self.k, self.r, self.s, batch))]
        if o in ("bn", "relu", "silu", "add"):
            return [(o, elem_features(self.cout, self.r, batch))]
        if o == "avgpool":
            return [(o, avgpool_features(self.cout, 2 * self.r, batch))]
        if o == "se":
            return [(o, se_features(self.cout, self.se, self.r, batch))]
        if o == "classifier":
            return [(o, classifier_features(self.cin, self.r, self.n, batch))]
        raise DesignError("op", f"unknown op {o!r}", ", ".join(OPS))

    def to_dict(self) -> dict[str, Any]:
        d = {k: v for k, v in self.__dict__.items() if v or k == "op"}
        if self.blocks:
            d["blocks"] = [list(b) for b in self.blocks]
        return d

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> "OpShape":
        d = dict(d)
        d["blocks"] = tuple(tuple(b) for b in d.get("blocks", ()))
        return cls(**d)

    def label(self) -> str:
        if self.op == "network":
            return f"network r={self.r} " + self.arch().describe()
        return self.op + " " + " ".join(f"{k}={v}" for k, v in self.to_dict().items() if k != "op")


def network_features(arch: Any, coef: dict[str, dict[str, float]], batch: int
                     ) -> tuple[dict[str, float], dict[str, int], float]:
    """What a calibration network is fitted on: per block family, the latency its ops predict and how
    many blocks it runs; and the classifier's predicted latency."""
    ops_only = {**coef, "scale": {}, "block": {}}
    ops = {f: 0.0 for f in FAMILIES}
    counts = {f: 0 for f in FAMILIES}
    _, per = network_latency(ops_only, arch.blocks, arch.resolution, arch.num_classes, batch)
    for b, v in zip(arch.blocks, per):
        ops[b.type] += float(v)
        counts[b.type] += b.L if b.type != "conv" else 1
    return ops, counts, float(per[-1])


COLD_BYTES = 64 << 20  # twice a large last-level cache
COLD_COPIES_MAX = 16
COLD_MIN_BYTES = 256 << 10  # smaller weights load fast from anywhere
_POOL: list[Any] = []


def _random(shape: Sequence[int]) -> Any:
    """A standard-normal tensor of ``shape`` cut from one pool drawn once (seeded): drawing fresh numbers
    for every shape cost more than timing it."""
    import torch

    if not _POOL:
        _POOL.append(torch.randn(1 << 22, generator=torch.Generator().manual_seed(0)))
    pool = _POOL[0]
    n = math.prod(shape)
    reps = -(-n // pool.numel())
    flat = pool if reps == 1 else pool.repeat(reps)
    return flat[:n].clone().view(*shape)


def _make_op(shape: OpShape, device: str, batch: int) -> Callable[[], Any]:
    """A zero-argument callable running the op once (modules and inputs built here, weights random)."""
    import torch
    from torch import nn
    from torch.nn.utils import skip_init

    from .network import SqueezeExcite

    o, r = shape.op, shape.r

    def rand(*size: int) -> Any:
        return _random(size).to(device)

    def init(m: nn.Module) -> nn.Module:
        with torch.no_grad():
            for p in m.parameters():
                p.copy_(_random(p.shape) * 0.1)
            for b in m.buffers():
                if b.is_floating_point():
                    b.copy_(_random(b.shape).abs() + 0.5)
        return m.eval().to(device)

    if o in ("conv", "conv1x1", "dwconv"):
        groups = shape.cout if o == "dwconv" else 1
        cin = shape.cout if o == "dwconv" else shape.cin
        x = rand(batch, cin, r * shape.s, r * shape.s)
        # In a network each weight is read once per pass, from memory rather than from cache: cycle
        # through enough copies of the layer that its weights are cold here too.
        wbytes = 4 * (cin // groups) * shape.k ** 2 * shape.cout
        copies = 1
        if device == "cpu" and wbytes >= COLD_MIN_BYTES:
            copies = max(1, min(COLD_COPIES_MAX, math.ceil(COLD_BYTES / wbytes)))
        def conv() -> nn.Module:
            return skip_init(nn.Conv2d, cin, shape.cout, shape.k, shape.s, (shape.k - 1) // 2, groups=groups,
                             bias=False)

        mods = [init(conv())]
        for _ in range(copies - 1):
            mods.append(conv().eval().to(device))
            with torch.no_grad():
                mods[-1].weight.copy_(mods[0].weight)
        it = itertools.cycle(mods)
        return lambda: next(it)(x)
    if o in ("bn", "relu", "silu"):
        m = init({"bn": lambda: nn.BatchNorm2d(shape.cout), "relu": nn.ReLU, "silu": nn.SiLU}[o]())
        x = rand(batch, shape.cout, r, r)
        return lambda: m(x)
    if o == "add":
        x, y = rand(batch, shape.cout, r, r), rand(batch, shape.cout, r, r)
        return lambda: x + y
    if o == "avgpool":
        m = nn.AvgPool2d(2)
        x = rand(batch, shape.cout, 2 * r, 2 * r)
        return lambda: m(x)
    if o == "se":
        m = init(SqueezeExcite(shape.cout, shape.se))
        x = rand(batch, shape.cout, r, r)
        return lambda: m(x)
    if o == "classifier":
        m = init(nn.Sequential(nn.AdaptiveAvgPool2d(1), nn.Flatten(1), nn.Linear(shape.cin, shape.n)))
        x = rand(batch, shape.cin, r, r)
        return lambda: m(x)
    if o == "network":
        net, x = build_network(shape.arch(), device, batch)
        return lambda: net(x)
    raise DesignError("op", f"unknown op {o!r}", ", ".join(OPS))


GRIDS = ("default", "small", "tiny")
GRID_COUNTS = {"conv": 110, "conv1x1": 100, "dwconv": 60, "bn": 30, "relu": 25, "silu": 25, "add": 25,
               "avgpool": 20, "se": 25, "classifier": 12, "network": 36}
_SIDES = (112, 56, 28, 14, 7)


def _width(rng: random.Random, lo: int, hi: int, step: int = 8) -> int:
    """Log-uniform in [lo, hi]; mostly a multiple of ``step`` (designed widths), sometimes not (some
    released structures have widths like 85 or 201)."""
    v = math.exp(rng.uniform(math.log(lo), math.log(hi)))
    if rng.random() < 0.75:
        return max(step, int(round(v / step)) * step)
    return max(1, int(round(v)))


def _draw_network(rng: random.Random, size: str = "regular") -> OpShape:
    """A random network of one family (stem, super-blocks, maybe a 1x1 head), for calibration. ``regular``:
    224-160 pixels, widths, bottleneck ratios, depths and kernels across the ranges of DeepMAD's and the
    classic designs; ``small``: 32-64 pixels and narrow, so that what blocks cost beyond their ops stands
    out; ``tiny``: the smallest, for tests."""
    fam = rng.choice(SUPER_FAMILIES)
    tiny, small = size == "tiny", size == "small"
    res = 32 if tiny else rng.choice((32, 64)) if small else rng.choice((224, 224, 192, 160))
    n_sb = 2 if tiny else rng.randint(2, 4) if small else rng.randint(3, 5)
    w = _width(rng, 8, 24) if tiny or small else _width(rng, 16, 80)
    blocks: list[BlockTuple] = [("conv", 3, w, 3 if tiny else rng.choice((3, 3, 5, 7)), 2, 0, 1)]
    strides = [2] * min(n_sb, 4) + [1] * (n_sb - min(n_sb, 4))
    if rng.random() < 0.5:
        rng.shuffle(strides)
    if small:
        strides = [1 if res >> (i + 2) < 2 else s for i, s in enumerate(strides)]
    for i in range(n_sb):
        out = max(8, int(round(w * rng.uniform(1.0, 2.6 if not small else 1.6) / 8)) * 8)
        lo, hi = {"k1kxk1": (0.08, 0.5), "kxkx": (0.25, 1.25)}.get(fam, (1.5, 6.0))
        btn = max(8, int(round((out if fam in ("k1kxk1", "kxkx") else w) * rng.uniform(lo, hi) / 8)) * 8)
        depth = 1 if tiny else rng.randint(1, 4) if not small else rng.randint(1, 6)
        blocks.append((fam, w, out, rng.choice((3, 5, 7)) if not tiny else 3, strides[i], btn, depth))
        w = out
    if fam in DW_TYPES and rng.random() < 0.6:
        blocks.append(("conv", w, max(8, int(round(w * rng.uniform(2, 5) / 8)) * 8), 1, 1, 0, 1))
    return OpShape("network", r=res, n=1000, blocks=tuple(blocks))


SUPER_FAMILIES = FAMILIES[1:]


def _draw(op: str, rng: random.Random) -> OpShape:
    r = rng.choice(_SIDES)
    if op == "conv":
        cin = 3 if rng.random() < 0.05 else _width(rng, 8, 1024)
        return OpShape(op, cin=cin, cout=_width(rng, 8, 1024), k=rng.choices((3, 5, 7), (0.45, 0.4, 0.15))[0],
                       s=rng.choice((1, 2)), r=r)
    if op == "conv1x1":
        return OpShape(op, cin=_width(rng, 8, 2048), cout=_width(rng, 8, 2048), r=r)
    if op == "dwconv":
        return OpShape(op, cout=_width(rng, 16, 3072), k=rng.choice((3, 5, 7)), s=rng.choice((1, 2)), r=r)
    if op == "se":
        c = _width(rng, 16, 3072)
        return OpShape(op, cout=c, se=se_width(c), r=rng.choice(_SIDES[1:]))
    if op == "classifier":
        return OpShape(op, cin=_width(rng, 32, 2560), n=rng.choice((1000, 1000, 10, 100)), r=rng.choice((7, 7, 14)))
    if op == "network":
        return _draw_network(rng)
    return OpShape(op, cout=_width(rng, 8, 3072), r=r)


def default_grid(size: str = "default", seed: int = 0) -> list[OpShape]:
    """Shapes to profile, drawn (seeded) from the ranges the block families use at 224x224 and below, and
    calibration networks: ``default`` (~470), ``small`` (~30% of them) or ``tiny`` (a few small ones per op,
    for tests)."""
    if size not in GRIDS:
        raise DesignError("grid", f"unknown grid {size!r}", ", ".join(GRIDS))
    scale = {"default": 1.0, "small": 0.3, "tiny": 0.0}[size]
    max_macs = 2e7 if size == "tiny" else 4e8
    rng = random.Random(seed)
    out: list[OpShape] = []
    for op, n in GRID_COUNTS.items():
        n = max(4, int(round(n * scale)))
        shapes: set[OpShape] = set()
        tries = 0
        while len(shapes) < n and tries < 200 * n:
            tries += 1
            if op == "network":  # a third of them small (what a block costs beyond its ops stands out)
                kind = "tiny" if size == "tiny" else "small" if len(shapes) < n // 3 else "regular"
                sh = _draw_network(rng, kind)
                try:
                    macs = metrics.network_terms(sh.arch().blocks, sh.r, 1000).macs
                except DesignError:  # too many stride-2 blocks for the resolution
                    continue
                if kind == "regular" and not 5e7 <= macs <= 2.5e9:
                    continue
                shapes.add(sh)
                continue
            sh = _draw(op, rng)
            f = sh.terms(1)[0][1]
            if f.get("macs", 0) / _M > max_macs or f.get("weights", 0) / _M > 2e7:
                continue
            if f.get("elems", f.get("in", 0)) / _M > 1.6e7:
                continue
            shapes.add(sh)
        out.extend(sorted(shapes, key=lambda s: tuple(map(str, s.__dict__.values()))))
    return out


def reference_arch() -> Any:
    """A small fixed network timed all through a profile and again wherever a model is checked: how much
    faster or slower the machine is now than when the model was measured."""
    from .arch import Architecture, Block

    return Architecture((Block("conv", 3, 16, 3, 2), Block("k1kxk1", 16, 64, 3, 2, btn=16, L=2),
                         Block("k1dwsek1", 64, 64, 5, 2, btn=128, L=2)), resolution=64, num_classes=10,
                        name="latency-reference")


def device_info(device: str) -> dict[str, Any]:
    """What a model file records about the machine and libraries."""
    import numpy
    import torch

    from . import __version__

    name = platform.processor() or platform.machine()
    if device.startswith("cuda"):
        name = torch.cuda.get_device_name(torch.device(device))
    else:
        with contextlib.suppress(OSError):
            for line in Path("/proc/cpuinfo").read_text().splitlines():
                if line.startswith("model name"):
                    name = line.split(":", 1)[1].strip()
                    break
    info: dict[str, Any] = {"device_name": name, "cpu_count": os.cpu_count(), "torch": torch.__version__,
                            "numpy": numpy.__version__, "python": platform.python_version(),
                            "platform": platform.platform(), "deepmad_pyomo": __version__,
                            "mkldnn": bool(torch.backends.mkldnn.is_available())}
    if device.startswith("cuda"):
        info["cuda"] = torch.version.cuda
        info["cudnn"] = torch.backends.cudnn.version()
    return info


# ---------------------------------------------------------------------------------------- profiling
def measure_ops(shapes: Sequence[OpShape], device: str = "cpu", threads: int = 1, batch: int = 1,
                repeats: int = 5, passes: int = 3, warmup: int = 2, min_sample_s: float = 0.002, seed: int = 0,
                progress: Callable[[str], None] | None = None, interleave: Callable[[], None] | None = None,
                interleave_every_s: float = 1.0, malloc: str = "tuned",
                clock: str | None = None) -> dict[OpShape, Measurement]:
    """Per-call latency samples of every op in ``shapes``: ``passes`` passes over the shapes, in a new
    random order each time (a burst of load then hits many shapes a little rather than one shape a lot),
    ``repeats`` samples per shape and pass (a network: two passes after a warm-up pass; :func:`profile`
    times its calibration networks in between instead).
    ``interleave()`` runs about every ``interleave_every_s`` s (e.g. one pass of a network under test,
    so that it sees the same machine as the ops)."""
    check_device(device)
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
                fn = _make_op(sh, device, batch)
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
    """Non-negative least squares, exactly (every support set: ten features at most here)."""
    import numpy as np

    A, b = np.asarray(rows, dtype=float), np.asarray(y, dtype=float)
    n = A.shape[1]
    best, best_err = np.zeros(n), float(np.sum(b * b))
    for k in range(1, n + 1):
        for support in itertools.combinations(range(n), k):
            idx = list(support)
            x, *_ = np.linalg.lstsq(A[:, idx], b, rcond=None)
            if np.any(x < 0):
                continue
            full = np.zeros(n)
            full[idx] = x
            err = float(np.sum((A @ full - b) ** 2))
            if err < best_err - 1e-15:
                best, best_err = full, err
    return [float(v) for v in best]


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


PRIOR_SCALE, PRIOR_BLOCK = 1.0, 0.3  # per unit of scale, per ms of a block's cost


def fit(medians: dict[OpShape, float], batch: int, holdout: float = 0.25, seed: int = 0
        ) -> tuple[dict[str, dict[str, float]], dict[str, Any]]:
    """Fit a model to measured medians; a seeded ``holdout`` share of every op's shapes (and of the
    calibration networks) is kept apart and the errors on it are reported.

    1. Per op type, the coefficients minimising the squared relative error on its training shapes.
    2. On the calibration networks, per block family ``f`` (the stem and head are ``conv``), ``measured ~
       sum_f (scale_f * what the ops of its family-f blocks predict + block_f * its family-f blocks) +
       classifier``: ops run somewhat slower in a network than alone (caches, dispatch), and every block
       costs its modules' Python. Weak priors (``scale`` near 1, ``block`` near 0 ms) keep a small
       calibration set from over-fitting."""
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
        ops, counts, head = feats[s]
        X.append([ops[f] / medians[s] for f in FAMILIES] + [counts[f] / medians[s] for f in FAMILIES])
        y.append(1.0 - head / medians[s])
    # weak priors, each worth about one network: scales near 1, block costs near 0 ms
    for i in range(nf):
        X.append([PRIOR_SCALE if k == i else 0.0 for k in range(2 * nf)])
        y.append(PRIOR_SCALE)
        X.append([PRIOR_BLOCK if k == nf + i else 0.0 for k in range(2 * nf)])
        y.append(0.0)
    x = nnls(X, y)
    coef_ops = coef
    coef = {**coef, "scale": dict(zip(FAMILIES, x[:nf])), "block": dict(zip(FAMILIES, x[nf:]))}

    def net_err(ss: list[OpShape], c: dict[str, dict[str, float]]) -> list[float]:
        return [predict_ms(LatencyModel(c, {"batch": batch}), s.arch()) / medians[s] - 1 for s in ss]

    plain = {**coef_ops, "scale": {f: 1.0 for f in FAMILIES}, "block": {f: 0.0 for f in FAMILIES}}
    e_test = net_err(test, coef)
    report["networks"] = {
        "calibration": "measured ~ sum_f (scale_f * ops of family-f blocks + block_f * family-f blocks) + classifier",
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
            malloc: str = "tuned", clock: str | None = None) -> LatencyModel:
    """Measure the ops on ``device`` and fit a :class:`LatencyModel`. About every ``interleave_every_s``
    seconds of timing ops, the profile times the small reference network (see :func:`reference_arch`), the
    next calibration network (two passes after a warm-up pass) and runs ``interleave()``."""
    check_device(device)
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
        ref_built = build_network(ref_arch, device, batch)
        # calibration networks are built once and timed all through the profile, a few passes at a time
        # after a warm-up pass: the way a network under test is measured (see measure_like)
        built = {s: build_network(s.arch(), device, batch) for s in nets}
    ref_samples: list[float] = []
    net_samples: dict[OpShape, list[float]] = {s: [] for s in nets}
    visits = itertools.cycle(nets)

    def visit_network() -> None:
        if nets:
            s = next(visits)
            net_samples[s].extend(measure_network(s.arch(), device, threads, batch, NET_PASSES, 1, built[s], malloc,
                                                  clock).samples)

    def between() -> None:
        ref_samples.extend(measure_network(ref_arch, device, threads, batch, 1, 1, ref_built, malloc, clock).samples)
        visit_network()
        if interleave:
            interleave()

    t0 = time.perf_counter()
    between()
    meas = measure_ops(ops, device, threads, batch, repeats, passes, seed=seed, progress=progress,
                       interleave=between, interleave_every_s=interleave_every_s, malloc=malloc, clock=clock)
    while nets and min(len(v) for v in net_samples.values()) < NET_MIN_SAMPLES:
        between()
    if progress and nets:
        progress(f"{len(nets)} calibration networks: {sum(map(len, net_samples.values()))} timed passes")
    meas.update({s: Measurement(v) for s, v in net_samples.items()})
    built.clear()  # free the calibration networks before fitting
    wall = time.perf_counter() - t0
    coef, report = fit({s: m.median for s, m in meas.items()}, batch, seed=seed)
    measured_with = {"device": device, "threads": threads if device == "cpu" else 1, "batch": batch,
                     "dtype": "float32", "clock": clock, "malloc": malloc if device == "cpu" else "cuda",
                     "allocator": allocator, **device_info(device),
                     "created": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds")}
    ref = Measurement(ref_samples)
    noise = {**noise_summary(meas.values()), "repeats_per_pass": repeats, "passes": passes,
             "profile_wall_s": round(wall, 1),
             "reference": {"architecture": ref_arch.describe(), "resolution": ref_arch.resolution,
                           **ref.to_dict()}}
    samples = [{**s.to_dict(), "median_ms": round(m.median, 6), "iqr_rel": round(m.iqr_rel, 4)}
               for s, m in meas.items()]
    report["grid"] = {"name": grid if isinstance(grid, str) else "custom", "seed": seed, "shapes": len(shapes)}
    return LatencyModel(coef, measured_with, report, noise, samples)


def refit(model: LatencyModel, seed: int = 0) -> LatencyModel:
    """Fit again from the raw medians a model file keeps."""
    medians = {}
    for d in model.samples:
        d = dict(d)
        ms = d.pop("median_ms")
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
