"""The vocabulary of the design space: block types with their facts, and the two objective modes.

To add a block family, add a :class:`BlockType` member and its :class:`Family` entry in :data:`FAMILIES`;
then give it its convs in :func:`deepmad_pyomo.space.metrics.inner_block` (which every count, the MINLP,
the relaxation and the latency model read) and its torch module in :mod:`deepmad_pyomo.nn.network`.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable

from ..enums import StrEnum


class Mode(StrEnum):
    """How the objective and budgets are counted: the paper's formulas, or the official TinyNAS code's."""

    PAPER = "paper"
    TINYNAS = "tinynas"


class BlockType(StrEnum):
    """A block family (:data:`FAMILIES` has its facts); ``conv`` is the plain stem/head conv."""

    CONV = "conv"
    K1KXK1 = "k1kxk1"
    KXKX = "kxkx"
    K1DWK1 = "k1dwk1"
    K1DWSEK1 = "k1dwsek1"


@dataclass(frozen=True)
class Family:
    """What the rest of the package needs to know of a block type."""

    type: BlockType
    description: str
    tinynas_class: str            # the class name of its super-block in official structure files
    inner_class: str | None       # the class name of one of its blocks there (None: a plain conv)
    resnet_like: bool = False     # plain convs with ReLU (the tinynas depth penalty takes the last 3 depths)
    depthwise: bool = False       # inverted residual: depthwise kxk between two 1x1 convs, SiLU
    se: bool = False              # squeeze-and-excitation after the depthwise conv
    default_rho0: float = 0.3     # the effectiveness bound the paper uses for the family


FAMILIES: dict[BlockType, Family] = {f.type: f for f in (
    Family(BlockType.CONV, "plain conv + BN + ReLU (stem, 1x1 head)", "ConvKXBNRELU", None),
    Family(BlockType.K1KXK1, "ResNet bottleneck: 1x1 -> kxk -> 1x1", "SuperResK1KXK1", "ResK1KXK1",
           resnet_like=True),
    Family(BlockType.KXKX, "ResNet-18/34 basic block: kxk -> kxk", "SuperResKXKX", "ResKXKX", resnet_like=True),
    Family(BlockType.K1DWK1, "MobileNetV2 inverted residual: 1x1 -> depthwise kxk -> 1x1", "SuperResK1DWK1",
           "ResK1DWK1", depthwise=True, default_rho0=0.5),
    Family(BlockType.K1DWSEK1, "inverted residual with squeeze-and-excitation", "SuperResK1DWSEK1",
           "ResK1DWSEK1", depthwise=True, se=True, default_rho0=0.5),
)}

BLOCK_TYPES: tuple[str, ...] = BlockType.values()
SUPER_BLOCK_TYPES: tuple[str, ...] = tuple(t for t in BLOCK_TYPES if t != BlockType.CONV)
RESNET_LIKE = frozenset(t for t, f in FAMILIES.items() if f.resnet_like)
DEPTHWISE = frozenset(t for t, f in FAMILIES.items() if f.depthwise)
WITH_SE = frozenset(t for t, f in FAMILIES.items() if f.se)


def family(block_type: str) -> Family:
    """The facts of a block type, given as a :class:`BlockType` or its string."""
    return FAMILIES[BlockType(block_type)]


def default_rho0(block_types: Iterable[str]) -> float:
    """The effectiveness bound for a network of these super-block types: the largest of their families'
    (0.5 when any is an inverted residual, else 0.3)."""
    return max((family(t).default_rho0 for t in block_types), default=FAMILIES[BlockType.K1KXK1].default_rho0)
