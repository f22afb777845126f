"""Decode an :class:`~deepmad_pyomo.space.arch.Architecture` into a ``torch.nn.Module``.

Every conv here is one ``Conv`` record of :func:`deepmad_pyomo.space.metrics.inner_block` (same weight shape),
has no bias and is followed by a BatchNorm2d, so the analytic MACs and params of
:func:`deepmad_pyomo.space.metrics.evaluate` are those of the module (checked by :mod:`deepmad_pyomo.nn.verify`).

Layout of a built model: ``stem`` (the first conv), ``stages`` (one ``nn.Sequential`` of blocks per
super-block, or a conv block in the middle of the net), ``head`` (a trailing conv, else identity), then
``pool``, ``flatten`` and the ``classifier`` (``nn.Identity`` when ``num_classes=0``).

The model follows timm's interface: ``forward_features``, ``forward_head(x, pre_logits=False)``,
``get_classifier``, ``reset_classifier``, ``feature_info``, ``pretrained_cfg``, and stochastic depth
(``drop_path_rate``) on the residual branches. :class:`DeepMADFeatures` is the ``features_only`` form.
"""
from __future__ import annotations

import contextlib
from dataclasses import replace
from typing import Any, Callable, Sequence

import torch
from torch import Tensor, nn

from ..errors import DesignError
from ..space.blocks import Architecture, Block
from ..space.families import WITH_SE, BlockType
from ..space.limits import MAX_LAYERS, MAX_MACS, MAX_PARAMS, number
from ..space.metrics import network_terms, stage_ends

Activation = Callable[[], nn.Module]


class ConvBN(nn.Sequential):
    """``k x k`` conv (no bias, 'same' padding) + BatchNorm2d, with an optional activation."""

    def __init__(self, c_in: int, c_out: int, k: int = 1, s: int = 1, groups: int = 1,
                 act: Activation | None = None):
        layers: list[nn.Module] = [nn.Conv2d(c_in, c_out, k, s, padding=(k - 1) // 2, groups=groups, bias=False),
                                   nn.BatchNorm2d(c_out)]
        if act is not None:
            layers.append(act())
        super().__init__(*layers)


class DropPath(nn.Module):
    """Stochastic depth: in training, zero a sample's residual branch with probability ``p`` and scale
    the kept ones by ``1 / (1 - p)``; identity in eval mode or when ``p == 0``."""

    def __init__(self, p: float = 0.0):
        super().__init__()
        if not 0.0 <= p < 1.0:
            raise DesignError("drop_path_rate", f"drop probability {p} out of range", "0 <= p < 1")
        self.p = float(p)

    def forward(self, x: Tensor) -> Tensor:
        if not self.training or self.p == 0.0:
            return x
        keep = 1.0 - self.p
        mask = torch.empty((x.shape[0],) + (1,) * (x.dim() - 1), dtype=x.dtype, device=x.device).bernoulli_(keep)
        return x * mask / keep

    def extra_repr(self) -> str:
        return f"p={self.p}"


def _projection(c_in: int, c_out: int, s: int) -> nn.Sequential:
    """The first block's shortcut of a ResNet-like super-block: AvgPool2d(2) at stride 2, 1x1 conv + BN."""
    pool = [nn.AvgPool2d(2)] if s == 2 else []
    return nn.Sequential(*pool, ConvBN(c_in, c_out, 1))


class Bottleneck(nn.Module):
    """``k1kxk1``: 1x1 -> kxk (stride s) -> 1x1, ReLU; projected shortcut on a super-block's first block."""

    def __init__(self, c_in: int, c_out: int, btn: int, k: int, s: int, first: bool, drop_path: float = 0.0):
        super().__init__()
        self.conv1 = ConvBN(c_in, btn, 1, act=nn.ReLU)
        self.conv2 = ConvBN(btn, btn, k, s, act=nn.ReLU)
        self.conv3 = ConvBN(btn, c_out, 1)
        self.shortcut = _projection(c_in, c_out, s) if first else nn.Identity()
        self.drop_path = DropPath(drop_path) if drop_path > 0 else nn.Identity()
        self.act = nn.ReLU()

    def forward(self, x: Tensor) -> Tensor:
        return self.act(self.drop_path(self.conv3(self.conv2(self.conv1(x)))) + self.shortcut(x))


class BasicBlock(nn.Module):
    """``kxkx``: kxk (stride s) -> kxk, ReLU; projected shortcut on a super-block's first block."""

    def __init__(self, c_in: int, c_out: int, btn: int, k: int, s: int, first: bool, drop_path: float = 0.0):
        super().__init__()
        self.conv1 = ConvBN(c_in, btn, k, s, act=nn.ReLU)
        self.conv2 = ConvBN(btn, c_out, k)
        self.shortcut = _projection(c_in, c_out, s) if first else nn.Identity()
        self.drop_path = DropPath(drop_path) if drop_path > 0 else nn.Identity()
        self.act = nn.ReLU()

    def forward(self, x: Tensor) -> Tensor:
        return self.act(self.drop_path(self.conv2(self.conv1(x))) + self.shortcut(x))


class SqueezeExcite(nn.Module):
    """Channel gate: global pool -> 1x1 conv+BN -> SiLU -> 1x1 conv+BN -> sigmoid, times the input."""

    def __init__(self, channels: int, hidden: int):
        super().__init__()
        self.gate = nn.Sequential(nn.AdaptiveAvgPool2d(1), ConvBN(channels, hidden, 1, act=nn.SiLU),
                                  ConvBN(hidden, channels, 1), nn.Sigmoid())

    def forward(self, x: Tensor) -> Tensor:
        return x * self.gate(x)


class InvertedResidual(nn.Module):
    """``k1dwk1`` / ``k1dwsek1``: 1x1 -> depthwise kxk (stride s) [-> SE] -> 1x1, SiLU. Identity residual
    (avg-pooled at stride 2) only when the width does not change; no shortcut otherwise."""

    def __init__(self, c_in: int, c_out: int, btn: int, k: int, s: int, se: int | None = None,
                 drop_path: float = 0.0):
        super().__init__()
        self.conv1 = ConvBN(c_in, btn, 1, act=nn.SiLU)
        self.conv2 = ConvBN(btn, btn, k, s, groups=btn, act=nn.SiLU)
        self.se = SqueezeExcite(btn, se) if se else nn.Identity()
        self.conv3 = ConvBN(btn, c_out, 1)
        self.shortcut: nn.Module | None = None
        if c_in == c_out:
            self.shortcut = nn.AvgPool2d(2) if s == 2 else nn.Identity()
        self.drop_path = DropPath(drop_path) if drop_path > 0 and self.shortcut is not None else nn.Identity()
        self.act = nn.SiLU()

    def forward(self, x: Tensor) -> Tensor:
        out = self.conv3(self.se(self.conv2(self.conv1(x))))
        if self.shortcut is not None:
            out = self.drop_path(out) + self.shortcut(x)
        return self.act(out)


def _inner_block(b: Block, first: bool, drop_path: float = 0.0) -> nn.Module:
    """One block of super-block ``b``: the first (stride ``b.s``, ``c_in -> c_out``) or a repeat."""
    c_in, s = (b.c_in, b.s) if first else (b.c_out, 1)
    assert b.btn is not None  # guaranteed for super-blocks by arch.validate
    if b.type == BlockType.K1KXK1:
        return Bottleneck(c_in, b.c_out, b.btn, b.k, s, first, drop_path)
    if b.type == BlockType.KXKX:
        return BasicBlock(c_in, b.c_out, b.btn, b.k, s, first, drop_path)
    return InvertedResidual(c_in, b.c_out, b.btn, b.k, s, se=b.se if b.type in WITH_SE else None,
                            drop_path=drop_path)


def build_block(b: Block, drop_paths: Sequence[float] | None = None) -> nn.Module:
    """A plain ``conv`` (Conv-BN-ReLU) or a super-block: ``L`` blocks, stride on the first;
    ``drop_paths`` gives each of the ``L`` blocks its stochastic-depth rate (default none)."""
    if b.type == BlockType.CONV:
        return ConvBN(b.c_in, b.c_out, b.k, b.s, act=nn.ReLU)
    rates = list(drop_paths) if drop_paths is not None else [0.0] * b.L
    return nn.Sequential(*(_inner_block(b, i == 0, rates[i]) for i in range(b.L)))


IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)


class FeatureInfo(list):
    """timm-style feature description: a list of ``{"num_chs", "reduction", "module"}`` dicts with
    ``channels()``, ``reduction()`` and ``module_name()`` helpers."""

    def channels(self) -> list[int]:
        return [d["num_chs"] for d in self]

    def reduction(self) -> list[int]:
        return [d["reduction"] for d in self]

    def module_name(self) -> list[str]:
        return [d["module"] for d in self]


def _drop_path_rates(arch: Architecture, rate: float) -> list[list[float]]:
    """Per super-block, the stochastic-depth rate of each of its blocks: linear from 0 to ``rate`` over
    every residual block of the net (timm's schedule); empty lists for plain convs."""
    if not 0.0 <= rate < 1.0:
        raise DesignError("drop_path_rate", f"{rate} out of range", "0 <= drop_path_rate < 1")
    total = sum(b.L for b in arch.blocks if b.type != BlockType.CONV)
    step = rate / (total - 1) if total > 1 else 0.0
    out, i = [], 0
    for b in arch.blocks:
        n = 0 if b.type == BlockType.CONV else b.L
        out.append([step * (i + j) for j in range(n)])
        i += n
    return out


def _classes(arch: Architecture, num_classes: int | None) -> int:
    """``num_classes`` (0: no classifier), defaulting to the architecture's."""
    if num_classes is None:
        return arch.num_classes
    if isinstance(num_classes, bool) or not isinstance(num_classes, int) or num_classes < 0:
        raise DesignError("num_classes", f"must be a non-negative integer, got {num_classes!r}",
                          "0 (no classifier) or a positive integer")
    return num_classes


class DeepMADNet(nn.Module):
    """A backbone built from an architecture, with a global-pool + linear classifier (none when
    ``num_classes=0``: ``forward`` then returns the pooled features, as timm models do)."""

    def __init__(self, arch: Architecture, num_classes: int | None = None, drop_path_rate: float = 0.0):
        num_classes = _classes(arch, num_classes)
        check_buildable(arch, num_classes)
        super().__init__()
        self.arch = arch
        blocks = list(arch.blocks)
        rates = _drop_path_rates(arch, drop_path_rate)
        head = blocks.pop() if len(blocks) > 1 and blocks[-1].type == BlockType.CONV else None
        self.stem = build_block(blocks[0])
        self.stages = nn.Sequential(*(build_block(b, rates[i + 1]) for i, b in enumerate(blocks[1:])))
        self.head = build_block(head) if head is not None else nn.Identity()
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.flatten = nn.Flatten(1)
        self.num_features = arch.blocks[-1].c_out
        self.num_classes = num_classes
        self.drop_path_rate = float(drop_path_rate)
        self.classifier: nn.Module = self._classifier(num_classes)
        self.pretrained_cfg = default_cfg(arch, num_classes)

    def _classifier(self, num_classes: int) -> nn.Module:
        return nn.Linear(self.num_features, num_classes) if num_classes > 0 else nn.Identity()

    # -- timm interface ------------------------------------------------------------------------
    @property
    def default_cfg(self) -> dict[str, Any]:
        """Alias of :attr:`pretrained_cfg` (timm's older name)."""
        return self.pretrained_cfg

    @property
    def feature_info(self) -> FeatureInfo:
        """One ``{"num_chs", "reduction", "module"}`` per stage (every stage end: the block before each
        stride-2 block, and the last block)."""
        return stage_feature_info(self.arch)

    def block_modules(self) -> list[tuple[str, nn.Module]]:
        """``(name, module)`` of every block of the architecture, in order (stem, stages.i, head)."""
        mods = [("stem", self.stem)] + [(f"stages.{i}", m) for i, m in enumerate(self.stages)]
        if not isinstance(self.head, nn.Identity):
            mods.append(("head", self.head))
        return mods

    def get_classifier(self) -> nn.Module:
        return self.classifier

    def reset_classifier(self, num_classes: int, global_pool: str | None = None) -> None:
        """A fresh classifier of ``num_classes`` outputs (0: none), on the model's device and dtype."""
        if global_pool not in (None, "avg"):
            raise DesignError("global_pool", f"unsupported pooling {global_pool!r}", "avg")
        num_classes = _classes(self.arch, num_classes)
        ref = next(self.parameters(), None)
        factory = {"device": ref.device, "dtype": ref.dtype} if ref is not None else {}
        with torch.device(factory["device"]) if factory else contextlib.nullcontext():
            clf = self._classifier(num_classes)
        self.classifier = clf.to(dtype=factory["dtype"]) if factory else clf
        self.num_classes = num_classes
        self.pretrained_cfg = {**self.pretrained_cfg, "num_classes": num_classes}

    def forward_features(self, x: Tensor) -> Tensor:
        """The last feature map (before pooling)."""
        return self.head(self.stages(self.stem(x)))

    def forward_head(self, x: Tensor, pre_logits: bool = False) -> Tensor:
        """Global average pool + flatten, then the classifier unless ``pre_logits``."""
        x = self.flatten(self.pool(x))
        return x if pre_logits else self.classifier(x)

    def forward(self, x: Tensor) -> Tensor:
        return self.forward_head(self.forward_features(x))


def stage_feature_info(arch: Architecture) -> FeatureInfo:
    """The ``feature_info`` of ``arch`` built as :class:`DeepMADNet`: channels, reduction (input side /
    map side) and module name of every stage end."""
    has_head = len(arch.blocks) > 1 and arch.blocks[-1].type == BlockType.CONV
    names = ["stem"] + [f"stages.{i}" for i in range(len(arch.blocks) - 1)]
    if has_head:
        names[-1] = "head"
    info, red = FeatureInfo(), 1
    reductions = []
    for b in arch.blocks:
        red *= b.s
        reductions.append(red)
    for e in stage_ends([b.s for b in arch.blocks]):
        info.append({"num_chs": arch.blocks[e].c_out, "reduction": reductions[e], "module": names[e]})
    return info


def default_cfg(arch: Architecture, num_classes: int) -> dict[str, Any]:
    """timm-style ``pretrained_cfg`` of a model: preprocessing defaults; no weights are published."""
    r = arch.resolution
    return {
        "architecture": arch.name,
        "weights": None,
        "notes": "no pretrained weights are published for deepmad-pyomo models: train from scratch",
        "input_size": (arch.blocks[0].c_in, r, r),
        "pool_size": (r // stage_feature_info(arch)[-1]["reduction"],) * 2,
        "mean": IMAGENET_MEAN,
        "std": IMAGENET_STD,
        "crop_pct": 0.875,
        "interpolation": "bicubic",
        "num_classes": num_classes,
        "first_conv": "stem.0",
        "classifier": "classifier",
        "license": "Apache-2.0",
    }


class DeepMADFeatures(nn.Module):
    """``features_only`` form of a :class:`DeepMADNet`: ``forward`` returns the feature maps of the
    selected stages (``out_indices`` into :attr:`DeepMADNet.feature_info`, default all), no pool or
    classifier. Blocks after the last selected stage are dropped."""

    def __init__(self, net: DeepMADNet, out_indices: Sequence[int] | None = None):
        super().__init__()
        full = net.feature_info
        n = len(full)
        idx = list(range(n)) if out_indices is None else [int(i) for i in out_indices]
        norm = []
        for i in idx:
            if not -n <= i < n:
                raise DesignError("out_indices", f"index {i} out of range for {n} stages", f"-{n}..{n - 1}")
            norm.append(i % n)
        if len(set(norm)) != len(norm) or norm != sorted(norm):
            raise DesignError("out_indices", f"{list(idx)} must be increasing and distinct", f"0..{n - 1}")
        self.out_indices = tuple(norm)
        self.feature_info = FeatureInfo(full[i] for i in norm)
        self.pretrained_cfg = {**net.pretrained_cfg, "num_classes": 0}
        mods = net.block_modules()
        last = [name for name, _ in mods].index(full[norm[-1]]["module"])
        self.blocks = nn.ModuleDict((name.replace(".", "_"), m) for name, m in mods[:last + 1])
        self._names = [name for name, _ in mods[:last + 1]]
        self._outputs = {full[i]["module"] for i in norm}

    def forward(self, x: Tensor) -> list[Tensor]:
        out = []
        for name, m in zip(self._names, self.blocks.values()):
            x = m(x)
            if name in self._outputs:
                out.append(x)
        return out


def check_buildable(arch: Architecture, num_classes: int | None = None) -> None:
    """Refuse, before anything is built, a network beyond :data:`MAX_LAYERS`, :data:`MAX_MACS` or
    :data:`MAX_PARAMS` (a :class:`DesignError` naming the limit)."""
    terms = network_terms(arch.blocks, arch.resolution, _classes(arch, num_classes))
    for name, value, limit in (("layers", terms.layers, MAX_LAYERS), ("macs", terms.macs, MAX_MACS),
                               ("params", terms.params, MAX_PARAMS)):
        if value > limit.most:
            raise DesignError(f"architecture.{name}", f"{limit.exceeded(round(value))}: too large to build",
                              f"at most {number(limit.most)}")


def with_in_chans(arch: Architecture, in_chans: int) -> Architecture:
    """A copy of ``arch`` whose stem takes ``in_chans`` input channels (validated again)."""
    if isinstance(in_chans, bool) or not isinstance(in_chans, int) or in_chans < 1:
        raise DesignError("in_chans", f"must be a positive integer, got {in_chans!r}", "1, 2, 3, ...")
    if in_chans == arch.blocks[0].c_in:
        return arch
    return arch.with_(blocks=(replace(arch.blocks[0], c_in=in_chans),) + tuple(arch.blocks[1:]))


def build_model(arch: Architecture, num_classes: int | None = None, drop_path_rate: float = 0.0) -> nn.Module:
    """The ``torch.nn.Module`` of ``arch`` (``num_classes`` defaults to ``arch.num_classes``; 0 gives no
    classifier).

    Weights are created on torch's current default device: build under ``with torch.device('meta'):``
    to count without allocating.
    """
    return DeepMADNet(arch, num_classes, drop_path_rate)


__all__ = [
    "IMAGENET_MEAN",
    "IMAGENET_STD",
    "BasicBlock",
    "Bottleneck",
    "ConvBN",
    "DeepMADFeatures",
    "DeepMADNet",
    "DropPath",
    "FeatureInfo",
    "InvertedResidual",
    "SqueezeExcite",
    "build_block",
    "build_model",
    "check_buildable",
    "default_cfg",
    "stage_feature_info",
    "with_in_chans",
]
