"""Decode an :class:`~deepmad_pyomo.space.arch.Architecture` into a ``torch.nn.Module``.

Every conv here is one ``Conv`` record of :func:`deepmad_pyomo.space.metrics.inner_block` (same weight shape),
has no bias and is followed by a BatchNorm2d, so the analytic MACs and params of
:func:`deepmad_pyomo.space.metrics.evaluate` are those of the module (checked by :mod:`deepmad_pyomo.nn.verify`).

Layout of a built model: ``stem`` (the first conv), ``stages`` (one ``nn.Sequential`` of blocks per
super-block, or a conv block in the middle of the net), ``head`` (a trailing conv, else identity), then
``pool``, ``flatten`` and the ``classifier``.
"""
from __future__ import annotations

from typing import Callable

from torch import Tensor, nn

from ..errors import DesignError
from ..space.blocks import Architecture, Block
from ..space.families import WITH_SE, BlockType
from ..space.limits import MAX_LAYERS, MAX_MACS, MAX_PARAMS, number
from ..space.metrics import network_terms

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


def _projection(c_in: int, c_out: int, s: int) -> nn.Sequential:
    """The first block's shortcut of a ResNet-like super-block: AvgPool2d(2) at stride 2, 1x1 conv + BN."""
    pool = [nn.AvgPool2d(2)] if s == 2 else []
    return nn.Sequential(*pool, ConvBN(c_in, c_out, 1))


class Bottleneck(nn.Module):
    """``k1kxk1``: 1x1 -> kxk (stride s) -> 1x1, ReLU; projected shortcut on a super-block's first block."""

    def __init__(self, c_in: int, c_out: int, btn: int, k: int, s: int, first: bool):
        super().__init__()
        self.conv1 = ConvBN(c_in, btn, 1, act=nn.ReLU)
        self.conv2 = ConvBN(btn, btn, k, s, act=nn.ReLU)
        self.conv3 = ConvBN(btn, c_out, 1)
        self.shortcut = _projection(c_in, c_out, s) if first else nn.Identity()
        self.act = nn.ReLU()

    def forward(self, x: Tensor) -> Tensor:
        return self.act(self.conv3(self.conv2(self.conv1(x))) + self.shortcut(x))


class BasicBlock(nn.Module):
    """``kxkx``: kxk (stride s) -> kxk, ReLU; projected shortcut on a super-block's first block."""

    def __init__(self, c_in: int, c_out: int, btn: int, k: int, s: int, first: bool):
        super().__init__()
        self.conv1 = ConvBN(c_in, btn, k, s, act=nn.ReLU)
        self.conv2 = ConvBN(btn, c_out, k)
        self.shortcut = _projection(c_in, c_out, s) if first else nn.Identity()
        self.act = nn.ReLU()

    def forward(self, x: Tensor) -> Tensor:
        return self.act(self.conv2(self.conv1(x)) + self.shortcut(x))


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

    def __init__(self, c_in: int, c_out: int, btn: int, k: int, s: int, se: int | None = None):
        super().__init__()
        self.conv1 = ConvBN(c_in, btn, 1, act=nn.SiLU)
        self.conv2 = ConvBN(btn, btn, k, s, groups=btn, act=nn.SiLU)
        self.se = SqueezeExcite(btn, se) if se else nn.Identity()
        self.conv3 = ConvBN(btn, c_out, 1)
        self.shortcut: nn.Module | None = None
        if c_in == c_out:
            self.shortcut = nn.AvgPool2d(2) if s == 2 else nn.Identity()
        self.act = nn.SiLU()

    def forward(self, x: Tensor) -> Tensor:
        out = self.conv3(self.se(self.conv2(self.conv1(x))))
        if self.shortcut is not None:
            out = out + self.shortcut(x)
        return self.act(out)


def _inner_block(b: Block, first: bool) -> nn.Module:
    """One block of super-block ``b``: the first (stride ``b.s``, ``c_in -> c_out``) or a repeat."""
    c_in, s = (b.c_in, b.s) if first else (b.c_out, 1)
    assert b.btn is not None  # guaranteed for super-blocks by arch.validate
    if b.type == BlockType.K1KXK1:
        return Bottleneck(c_in, b.c_out, b.btn, b.k, s, first)
    if b.type == BlockType.KXKX:
        return BasicBlock(c_in, b.c_out, b.btn, b.k, s, first)
    return InvertedResidual(c_in, b.c_out, b.btn, b.k, s, se=b.se if b.type in WITH_SE else None)


def build_block(b: Block) -> nn.Module:
    """A plain ``conv`` (Conv-BN-ReLU) or a super-block: ``L`` blocks, stride on the first."""
    if b.type == BlockType.CONV:
        return ConvBN(b.c_in, b.c_out, b.k, b.s, act=nn.ReLU)
    return nn.Sequential(*(_inner_block(b, i == 0) for i in range(b.L)))


class DeepMADNet(nn.Module):
    """A backbone built from an architecture, with a global-pool + linear classifier."""

    def __init__(self, arch: Architecture, num_classes: int | None = None):
        check_buildable(arch, num_classes)
        super().__init__()
        blocks = list(arch.blocks)
        head = blocks.pop() if len(blocks) > 1 and blocks[-1].type == BlockType.CONV else None
        self.stem = build_block(blocks[0])
        self.stages = nn.Sequential(*(build_block(b) for b in blocks[1:]))
        self.head = build_block(head) if head is not None else nn.Identity()
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.flatten = nn.Flatten(1)
        self.classifier = nn.Linear(arch.blocks[-1].c_out, num_classes or arch.num_classes)

    def forward_features(self, x: Tensor) -> Tensor:
        """The last feature map (before pooling)."""
        return self.head(self.stages(self.stem(x)))

    def forward(self, x: Tensor) -> Tensor:
        return self.classifier(self.flatten(self.pool(self.forward_features(x))))


def check_buildable(arch: Architecture, num_classes: int | None = None) -> None:
    """Refuse, before anything is built, a network beyond :data:`MAX_LAYERS`, :data:`MAX_MACS` or
    :data:`MAX_PARAMS` (a :class:`DesignError` naming the limit)."""
    terms = network_terms(arch.blocks, arch.resolution, num_classes or arch.num_classes)
    for name, value, limit in (("layers", terms.layers, MAX_LAYERS), ("macs", terms.macs, MAX_MACS),
                               ("params", terms.params, MAX_PARAMS)):
        if value > limit.most:
            raise DesignError(f"architecture.{name}", f"{limit.exceeded(round(value))}: too large to build",
                              f"at most {number(limit.most)}")


def build_model(arch: Architecture, num_classes: int | None = None) -> nn.Module:
    """The ``torch.nn.Module`` of ``arch`` (``num_classes`` defaults to ``arch.num_classes``).

    Weights are created on torch's current default device: build under ``with torch.device('meta'):``
    to count without allocating.
    """
    return DeepMADNet(arch, num_classes)


__all__ = ["BasicBlock", "Bottleneck", "ConvBN", "DeepMADNet", "InvertedResidual", "SqueezeExcite",
           "build_block", "build_model", "check_buildable"]
