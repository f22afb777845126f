"""DeepMAD metrics, written once: the objective of docs/mathematics.md, the counts of docs/counting.md.

Every formula here takes block values that are either numbers (a concrete :class:`Architecture`) or
Pyomo expressions (the MINLP in :mod:`deepmad_pyomo.mp.formulation`): the same code gives both. A "block"
is anything with the attributes of :class:`~deepmad_pyomo.space.arch.Block`: ``type, c_in, c_out, btn, k2,
s, L``, ``se`` (the SE width) and ``same_width`` (1 when ``c_in == c_out``). Logarithms go through a
``log`` callable so that a formulation can map a variable to its own log-variable; widths are therefore
products of *factors*.

Conventions: ``macs`` counts multiply-accumulates of every conv and linear layer (what vision papers
call "FLOPs"); ``params`` counts every learnable parameter including BN affine and the classifier.
``tinynas_flops``/``tinynas_params`` follow the official code: FLOPs add BN (2 per output element),
ReLU (1 per element) and the shortcut avg-pool, and leave out SE convs; params leave out the classifier.
"""
from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field
from numbers import Real
from typing import Any, Callable, Iterable, Sequence

from ..errors import DesignError
from .families import DEPTHWISE, RESNET_LIKE, WITH_SE, BlockType, Mode

MODES = Mode.values()
# Per-layer entropy coefficient: the paper's log(w); the official code's log(sqrt(w)).
ENTROPY_COEF = {Mode.PAPER: 1.0, Mode.TINYNAS: 0.5}


def default_log(x: Any) -> Any:
    """``log`` of a number, or Pyomo's ``log`` of an expression."""
    if type(x) in (int, float) or isinstance(x, Real):
        return math.log(x)
    from pyomo.environ import log

    return log(x)


def default_exp(x: Any) -> Any:
    """``exp`` of a number (``inf`` where that overflows), or Pyomo's ``exp`` of an expression."""
    if type(x) in (int, float) or isinstance(x, Real):
        return safe_exp(x)
    from pyomo.environ import exp

    return exp(x)


def _product(factors: Iterable[Any]) -> Any:
    out: Any = 1
    for f in factors:
        out = out * f
    return out


@dataclass
class Conv:
    """One conv layer: ``cin`` input channels per group, ``cout`` outputs, kernel area ``k2``,
    output side ``res``; ``kind`` is ``main`` (enters entropy), ``shortcut`` or ``se``."""

    cin: Any
    cout: Any
    k2: Any
    res: float
    kind: str = "main"

    @property
    def weights(self) -> Any:
        return self.cin * self.k2 * self.cout  # no bias

    @property
    def macs(self) -> Any:
        return self.weights * self.res ** 2

    @property
    def params(self) -> Any:
        return self.weights + 2 * self.cout  # + BN affine

    @property
    def tinynas_flops(self) -> Any:
        if self.kind == "se":
            return 0  # the official code leaves SE out of FLOPs
        return self.macs + 3 * self.cout * self.res ** 2  # + BN (2) + ReLU (1) per output element


@dataclass
class InnerBlock:
    """One block of a super-block: its convs, the entropy width factors of its main-path convs, and
    the official count's extra FLOPs (shortcut avg-pool)."""

    convs: list[Conv]
    widths: list[tuple[Any, ...]]
    extra_flops: Any = 0


def inner_block(b: Any, r_in: float, first: bool) -> InnerBlock:
    """The convs of the first block of super-block ``b`` (``first``) or of one of its repeats, at input
    side ``r_in``. Repeats run at stride 1 with ``c_in == c_out``."""
    s = b.s if first else 1
    c_in = b.c_in if first else b.c_out
    r_out = r_in / s
    avgpool = c_in * r_in ** 2 if s == 2 else 0
    t = b.type
    if t == BlockType.CONV:
        return InnerBlock([Conv(c_in, b.c_out, b.k2, r_out)], [(c_in, b.k2)])
    if t == BlockType.K1KXK1:
        convs = [Conv(c_in, b.btn, 1, r_in), Conv(b.btn, b.btn, b.k2, r_out), Conv(b.btn, b.c_out, 1, r_out)]
        if first:  # the official code always projects on the first block of a bottleneck super-block
            return InnerBlock(convs + [Conv(c_in, b.c_out, 1, r_out, "shortcut")],
                              [(c_in,), (b.btn, b.k2), (b.btn,)], avgpool)
        return InnerBlock(convs, [(c_in,), (b.btn, b.k2), (b.btn,)])
    if t == BlockType.KXKX:
        convs = [Conv(c_in, b.btn, b.k2, r_out), Conv(b.btn, b.c_out, b.k2, r_out)]
        if first:
            return InnerBlock(convs + [Conv(c_in, b.c_out, 1, r_out, "shortcut")],
                              [(c_in, b.k2), (b.btn, b.k2)], avgpool)
        return InnerBlock(convs, [(c_in, b.k2), (b.btn, b.k2)])
    if t in DEPTHWISE:
        convs = [Conv(c_in, b.btn, 1, r_in), Conv(1, b.btn, b.k2, r_out), Conv(b.btn, b.c_out, 1, r_out)]
        if t in WITH_SE:
            convs += [Conv(b.btn, b.se, 1, 1, "se"), Conv(b.se, b.btn, 1, 1, "se")]
        # identity residual only when the width does not change (avg-pooled at stride 2); ``same_width``
        # is 0/1 for numbers and a binary indicator in the MINLP
        extra = avgpool * (b.same_width if first else 1)
        return InnerBlock(convs, [(c_in,), (b.k2,), (b.btn,)], extra)
    raise DesignError("block.type", f"unknown block type {t!r}")


@dataclass
class BlockTotals:
    """The counts of one stem/head conv or whole super-block, and its output side."""

    macs: Any
    params: Any
    tinynas_flops: Any
    log_width_sum: Any  # sum over main-path convs of log(w)
    layers: Any         # main-path conv layers
    r_out: float


def inner_totals(ib: InnerBlock, log: Callable[[Any], Any] = default_log) -> tuple[Any, ...]:
    """``(macs, params, tinynas_flops, log_width_sum, layers)`` of one block."""
    return (sum(c.macs for c in ib.convs), sum(c.params for c in ib.convs),
            sum(c.tinynas_flops for c in ib.convs) + ib.extra_flops,
            sum(sum(log(f) for f in w) for w in ib.widths), len(ib.widths))


def block_totals(b: Any, r_in: float, log: Callable[[Any], Any] = default_log) -> BlockTotals:
    """Totals of one stem/head conv or super-block: the first block plus ``L - 1`` repeats."""
    r_out = r_in / b.s
    head = inner_totals(inner_block(b, r_in, True), log)
    if b.type == BlockType.CONV:
        return BlockTotals(*head, r_out)
    rest = inner_totals(inner_block(b, r_out, False), log)
    return BlockTotals(*(h + (b.L - 1) * r for h, r in zip(head, rest)), r_out)


@dataclass
class Stage:
    """A stage prefix: the network from the input to the end of stage j. A stage ends at the block before
    each stride-2 block and at the last block (:func:`stage_ends`)."""

    end: int             # index of the block that closes the stage
    channels: Any        # its output width
    resolution: float    # its true output side
    se_before: bool      # an SE block at or before its end (the official code then reports r = 1)
    log_width_sum: Any   # cumulative from the input
    layers: Any          # cumulative main-path conv layers


@dataclass
class NetworkTerms:
    """Everything the objective, the constraints and the reported metrics are built from."""

    stages: list[Stage]
    macs: Any
    params: Any
    tinynas_flops: Any
    tinynas_params: Any
    layers: Any
    depths: list[Any]          # L of every super-block
    resnet_like: bool
    blocks_totals: list[BlockTotals] = field(repr=False, default_factory=list)


def stage_ends(strides: Sequence[int]) -> list[int]:
    """Indices of blocks that close a stage: the block before each stride-2 block (never before the
    stem) and the last block."""
    ends = [i - 1 for i in range(1, len(strides)) if strides[i] == 2]
    return ends + [len(strides) - 1]


def network_terms(blocks: Sequence[Any], resolution: float, num_classes: int,
                  log: Callable[[Any], Any] = default_log,
                  totals_of: Callable[[Any, float, Callable[[Any], Any]], BlockTotals] = block_totals) -> NetworkTerms:
    """Stages, costs and depths of a network; ``totals_of`` gives each block's totals (a relaxation may
    price the repeats its own way)."""
    r = float(resolution)
    totals, res = [], []
    for b in blocks:
        t = totals_of(b, r, log)
        totals.append(t)
        r = t.r_out
        res.append(r)
    ends = stage_ends([b.s for b in blocks])
    stages = []
    first_se = next((i for i, b in enumerate(blocks) if b.type in WITH_SE), len(blocks))
    for e in ends:
        stages.append(Stage(e, blocks[e].c_out, res[e], e >= first_se,
                            sum(t.log_width_sum for t in totals[:e + 1]), sum(t.layers for t in totals[:e + 1])))
    c_last = blocks[-1].c_out
    fc_macs, fc_params = c_last * num_classes, c_last * num_classes + num_classes
    convs_params = sum(t.params for t in totals)
    supers = [b for b in blocks if b.type != BlockType.CONV]
    return NetworkTerms(
        stages=stages,
        macs=sum(t.macs for t in totals) + fc_macs,
        params=convs_params + fc_params,
        tinynas_flops=sum(t.tinynas_flops for t in totals),
        tinynas_params=convs_params,
        layers=sum(t.layers for t in totals),
        depths=[b.L for b in supers],
        resnet_like=bool(supers) and all(b.type in RESNET_LIKE for b in supers),
        blocks_totals=totals,
    )


@dataclass(frozen=True)
class ObjectiveSettings:
    """``alpha`` per stage (``None``: 1 for every stage but 8 for the last, the paper's [1,1,1,1,8] for five
    stages), ``beta`` on the depth penalty, the effectiveness bound ``rho0``, the mode."""

    alpha: tuple[float, ...] | None = None
    beta: float = 10.0
    rho0: float = 0.3
    mode: Mode = Mode.PAPER

    def __post_init__(self) -> None:
        if self.mode not in MODES:
            raise DesignError("mode", f"unknown mode {self.mode!r}", " or ".join(MODES))
        object.__setattr__(self, "mode", Mode(self.mode))
        if self.alpha is not None:
            object.__setattr__(self, "alpha", tuple(float(a) for a in self.alpha))
        if self.rho0 <= 0:
            raise DesignError("rho0", f"must be positive, got {self.rho0}")


def stage_log_feature(stage: Stage, mode: Mode, log: Callable[[Any], Any] = default_log) -> Any:
    """``log(r^2 * c)`` of a stage's output; ``r = 1`` after an SE block in tinynas mode."""
    r = 1.0 if (mode == Mode.TINYNAS and stage.se_before) else stage.resolution
    return 2 * math.log(r) + log(stage.channels)


def stage_entropies(terms: NetworkTerms, settings: ObjectiveSettings,
                    log: Callable[[Any], Any] = default_log) -> list[Any]:
    """``alpha_j * H_j`` per stage, ``H_j = log(r_j^2 c_j) * coef * sum_i log(w_i)``."""
    alpha = stage_weights(settings, len(terms.stages))
    coef = ENTROPY_COEF[settings.mode]
    return [a * stage_log_feature(st, settings.mode, log) * coef * st.log_width_sum
            for a, st in zip(alpha, terms.stages)]


def stage_weights(settings: ObjectiveSettings, n_stages: int) -> tuple[float, ...]:
    """``alpha``, one weight per stage (default: 1 for each stage, 8 for the last)."""
    if settings.alpha is None:
        return (1.0,) * (n_stages - 1) + (8.0,)
    if len(settings.alpha) != n_stages:
        raise DesignError("alpha", f"{len(settings.alpha)} weights for {n_stages} stages",
                          f"a list of {n_stages} numbers")
    return settings.alpha


def penalised_depths(terms: NetworkTerms, mode: Mode) -> list[Any]:
    """The super-block depths the penalty is taken over: all of them, except in tinynas mode for
    ResNet-like nets, where the official code uses the last three."""
    if mode == Mode.TINYNAS and terms.resnet_like:
        return terms.depths[-3:]
    return list(terms.depths)


def depth_variance(depths: Sequence[Any]) -> Any:
    """Population variance ``mean(L^2) - mean(L)^2`` (numbers or a Pyomo expression)."""
    n = len(depths)
    if n == 0:
        return 0
    mean = sum(depths) / n
    return sum(d * d for d in depths) / n - mean * mean


def depth_penalty_value(depths: Sequence[float], settings: ObjectiveSettings) -> float:
    """``beta*exp(Var(L))`` (paper) or ``beta*exp(std(L))`` (tinynas), for numbers: ``inf`` where it is
    beyond a float (a variance above about 709 with depths that differ by 50 or more), never an error."""
    var = max(0.0, float(depth_variance(depths)))
    if settings.beta == 0:
        return 0.0
    exponent = math.sqrt(var) if settings.mode == Mode.TINYNAS else var
    return settings.beta * safe_exp(exponent)


def safe_exp(x: float) -> float:
    """``math.exp(x)``, ``inf`` where that overflows."""
    try:
        return math.exp(x)
    except OverflowError:
        return math.inf


def rho_terms(terms: NetworkTerms, mode: Mode) -> list[tuple[Any, Any]]:
    """``(layers, sum log w)`` pairs on which ``rho = layers / exp(sum log w / layers) <= rho0`` must
    hold: the whole network (paper) or every stage prefix (tinynas: the maximum is taken)."""
    if mode == Mode.TINYNAS:
        return [(st.layers, st.log_width_sum) for st in terms.stages]
    return [(terms.layers, terms.stages[-1].log_width_sum)]


@dataclass
class Metrics:
    """The numbers ``deepmad metrics`` reports. MACs are multiply-accumulates (conv + linear)."""

    mode: Mode
    objective: float
    score: float
    stage_entropy: list[float]
    depth_penalty: float
    rho: float
    macs: int
    params: int
    layers: int
    tinynas_flops: float
    tinynas_params: int
    resolution: int
    num_classes: int

    def to_dict(self) -> dict[str, Any]:
        """The metrics with the counting conventions spelled out (docs/counting.md)."""
        d = asdict(self)
        d["conventions"] = {"macs": "multiply-accumulates of conv and linear layers (1 MAC = 2 FLOPs)",
                            "params": "all learnable parameters incl. BN affine and classifier",
                            "tinynas_flops": "official count: MACs + BN (2/elem) + ReLU (1/elem) + avg-pool, "
                                             "no SE", "tinynas_params": "params without the classifier"}
        return d


def evaluate(arch: Any, settings: ObjectiveSettings | None = None, resolution: int | None = None) -> Metrics:
    """Every metric of a concrete :class:`~deepmad_pyomo.space.arch.Architecture`."""
    settings = settings or ObjectiveSettings()
    res = resolution or arch.resolution
    terms = network_terms(arch.blocks, res, arch.num_classes)
    stage = [float(h) for h in stage_entropies(terms, settings)]
    penalty = depth_penalty_value(penalised_depths(terms, settings.mode), settings)
    rho = max(math.exp(math.log(n) - s / n) for n, s in rho_terms(terms, settings.mode))
    score = sum(stage)
    return Metrics(mode=settings.mode, objective=score - penalty, score=score, stage_entropy=stage,
                   depth_penalty=penalty, rho=rho, macs=round(terms.macs), params=round(terms.params),
                   layers=int(terms.layers), tinynas_flops=float(terms.tinynas_flops),
                   tinynas_params=round(terms.tinynas_params), resolution=res, num_classes=arch.num_classes)
