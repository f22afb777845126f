"""The latency formula: the ops of every block and their features, priced by a model's coefficients.

The same code gives numbers and Pyomo expressions (it iterates :func:`deepmad_pyomo.space.metrics.inner_block`'s convs).
"""
from __future__ import annotations

from collections.abc import Hashable
from numbers import Real
from typing import Any, Iterable, Sequence

from ..errors import DesignError
from ..space import metrics
from ..space.families import BLOCK_TYPES, DEPTHWISE, RESNET_LIKE, BlockType

FORMAT = "deepmad-pyomo/latency-model-v2"
OLD_FORMATS = ("deepmad-pyomo/latency-model-v1",)  # per-family block costs instead of the per-call cost
DEVICES = ("cpu", "cuda")
CLOCKS = ("thread_cpu", "wall")  # what a latency is timed on: the calling thread's CPU time, or wall time
MALLOC_MODES = ("tuned", "system")  # the CPU allocator while measuring (see measure.tune_malloc)
RUNTIMES = ("torch", "onnxruntime")  # what runs the ops and networks: torch eager, or ONNX Runtime (CPU)
FAMILIES = BLOCK_TYPES
DW_TYPES = tuple(sorted(DEPTHWISE))

# Op types and the features each is fitted on (all in millions, except calls).
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
# Calibrated on whole networks (see :func:`fit`): per block family (stem and head: ``conv``) a ``scale`` of the
# ops of its blocks, and ``network.call`` (ms), what every op call costs inside a network beyond what it cost
# alone (docs/latency.md).
GROUPS: dict[str, tuple[str, ...]] = {**OPS, "scale": FAMILIES, "network": ("call",)}
FEATURE_DOC = {
    "macs": "multiply-accumulates / 1e6 (times the batch)",
    "in": "input activation elements / 1e6 (times the batch)",
    "out": "output activation elements / 1e6 (times the batch)",
    "elems": "activation elements the op touches / 1e6 (times the batch)",
    "weights": "weight elements / 1e6",
    "calls": "1 per call",
    "scale": "multiplier of the ops of a block of each family (stem/head: conv)",
    "call": "ms per op call inside a network, beyond what the op costs alone",
}
_M = 1e-6

Term = tuple[str, dict[str, Any]]  # (op, features)


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
    :mod:`deepmad_pyomo.nn.network`. ``kernels``: the kernel sizes ``b.k2`` chooses from when it is an
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

    if t == BlockType.CONV:
        spatial(convs[0], s, "relu")
        return terms
    if t in RESNET_LIKE:
        if t == BlockType.K1KXK1:
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


def calls(terms: Iterable[Term]) -> Any:
    """How many op calls the terms make (a number, or a Pyomo expression where an op is optional)."""
    total: Any = 0
    for _, feats in terms:
        total = total + feats["calls"]
    return total


def block_latency(coef: dict[str, dict[str, float]], b: Any, r_in: float, first: bool, batch: int = 1,
                  kernels: Sequence[int] | None = None) -> Any:
    """Latency (ms) of one block: its family's ``scale`` times its ops, plus ``network.call`` per op call."""
    terms = inner_block_terms(b, r_in, first, batch, kernels)
    out = coef.get("scale", {}).get(b.type, 1.0) * cost(coef, terms)
    call = coef.get("network", {}).get("call", 0.0)
    return out + call * calls(terms) if call else out


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
    head_terms = [("classifier", classifier_features(blocks[-1].c_out, r, num_classes, batch))]
    head = cost(coef, head_terms) + coef.get("network", {}).get("call", 0.0) * calls(head_terms)
    return sum(per_block) + head, per_block + [head]

