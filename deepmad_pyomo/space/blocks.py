"""Architectures as plain data: a stem conv, super-blocks and an optional 1x1 head, with their JSON form.

A block is one row ``type in->out btn k s L`` (see docs/architecture-format.md). The block types
(:class:`~deepmad_pyomo.space.families.BlockType`) and the widths their layers enter the entropy with:

- ``conv``: plain conv + BN + ReLU (stem, 1x1 head); width ``c_in * k^2``.
- ``k1kxk1``: ResNet bottleneck; layer widths ``c_in, btn*k^2, btn``.
- ``kxkx``: ResNet-18/34 basic block (two kxk convs); widths ``c_in*k^2, btn*k^2``.
- ``k1dwk1``: MobileNetV2 inverted residual; widths ``c_in, k^2, btn``.
- ``k1dwsek1``: the same with squeeze-and-excitation after the depthwise conv.

Files (our JSON and the official TinyNAS structure files) are read and written by :mod:`.arch`.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field, replace
from typing import Any

from ..errors import DesignError
from .families import BLOCK_TYPES, BlockType

FORMAT = "deepmad-pyomo/architecture-v1"


def se_width(btn: int) -> int:
    """SE hidden width for a bottleneck of ``btn`` channels: ``max(1, round(0.25*btn)//8)*8`` as in the
    official code."""
    return max(1, round(0.25 * btn) // 8) * 8


@dataclass(frozen=True)
class Block:
    """One stem/head conv or one super-block of ``L`` identical blocks (stride on the first)."""

    type: str
    c_in: int
    c_out: int
    k: int
    s: int = 1
    btn: int | None = None
    L: int = 1

    @property
    def k2(self) -> int:
        """Kernel area ``k^2`` (the formulation supplies it as an expression of kernel choices)."""
        return self.k * self.k

    @property
    def se(self) -> int:
        """SE hidden width of a ``k1dwsek1`` block (:func:`se_width` of its bottleneck)."""
        return se_width(self.btn or 0)

    @property
    def same_width(self) -> int:
        """1 when the block keeps its width (inverted residuals then have an identity shortcut)."""
        return int(self.c_in == self.c_out)

    def to_dict(self) -> dict[str, Any]:
        """The block's JSON row: ``{"type", "in", "out", "btn", "k", "s", "L"}`` (no btn, L for a conv)."""
        d: dict[str, Any] = {"type": str(self.type), "in": self.c_in, "out": self.c_out}
        if self.btn is not None:
            d["btn"] = self.btn
        d.update(k=self.k, s=self.s)
        if self.type != BlockType.CONV:
            d["L"] = self.L
        return d

    @classmethod
    def from_dict(cls, d: dict[str, Any], where: str = "block") -> Block:
        """A block from its JSON row; errors name the field as ``<where>.<key>``."""
        if not isinstance(d, dict):
            raise DesignError(where, f"expected an object, got {type(d).__name__}")
        unknown = set(d) - {"type", "in", "out", "btn", "k", "s", "L"}
        if unknown:
            raise DesignError(f"{where}.{sorted(unknown)[0]}", "unknown key",
                              "type, in, out, btn, k, s, L")
        btype = d.get("type")
        if btype not in BLOCK_TYPES:
            raise DesignError(f"{where}.type", f"unknown block type {btype!r}", ", ".join(BLOCK_TYPES))
        for key in ("in", "out", "k"):
            if key not in d:
                raise DesignError(f"{where}.{key}", "missing")
        if btype != BlockType.CONV and "btn" not in d:
            raise DesignError(f"{where}.btn", f"missing (required for {btype})")
        vals = {key: _positive_int(d[key], f"{where}.{key}") for key in ("in", "out", "k", "s", "btn", "L")
                if d.get(key) is not None}
        return cls(type=btype, c_in=vals["in"], c_out=vals["out"], k=vals["k"], s=vals.get("s", 1),
                   btn=vals.get("btn"), L=vals.get("L", 1))


def _positive_int(v: Any, where: str) -> int:
    """``v`` as an int >= 1 (whole floats accepted), else a :class:`DesignError` naming ``where``."""
    if isinstance(v, bool) or not isinstance(v, (int, float)) or v != int(v):
        raise DesignError(where, f"expected a positive integer, got {v!r}")
    if v < 1:
        raise DesignError(where, f"must be positive, got {v!r}", "an integer >= 1")
    return int(v)


@dataclass(frozen=True)
class Architecture:
    """A whole backbone: ``blocks[0]`` is the stem; a trailing 1x1 ``conv`` is the head."""

    blocks: tuple[Block, ...]
    resolution: int = 224
    num_classes: int = 1000
    name: str | None = None
    meta: dict[str, Any] = field(default_factory=dict, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "blocks", tuple(self.blocks))
        validate(self)

    @property
    def super_blocks(self) -> list[Block]:
        """Every block but the plain convs (stem, head)."""
        return [b for b in self.blocks if b.type != BlockType.CONV]

    def with_(self, **changes: Any) -> Architecture:
        """A copy with some fields changed (validated again)."""
        return replace(self, **changes)

    def to_dict(self) -> dict[str, Any]:
        """Our JSON format (docs/architecture-format.md)."""
        d: dict[str, Any] = {"format": FORMAT}
        if self.name:
            d["name"] = self.name
        d.update(resolution=self.resolution, num_classes=self.num_classes,
                 blocks=[b.to_dict() for b in self.blocks])
        if self.meta:
            d["meta"] = self.meta
        return d

    def to_json(self) -> str:
        """:meth:`to_dict` as JSON text."""
        return json.dumps(self.to_dict(), indent=1)

    def describe(self) -> str:
        """The compact one-line form, one row per block: ``conv 3->32 k3 s2 | k1kxk1 32->128 btn40 k5 s2 L1 | ...``."""
        rows = []
        for b in self.blocks:
            btn = f" btn{b.btn}" if b.btn is not None else ""
            depth = f" L{b.L}" if b.type != BlockType.CONV else ""
            rows.append(f"{b.type} {b.c_in}->{b.c_out}{btn} k{b.k} s{b.s}{depth}")
        return " | ".join(rows)

    @classmethod
    def from_dict(cls, d: Any, **overrides: Any) -> Architecture:
        """An architecture from our JSON format, or a bare list of block rows; ``overrides`` replace
        ``resolution``, ``num_classes``, ``name`` or ``meta`` where not ``None``."""
        if isinstance(d, list):
            d = {"blocks": d}
        if not isinstance(d, dict) or "blocks" not in d:
            raise DesignError("architecture", "expected an object with a 'blocks' list")
        if d.get("format", FORMAT) != FORMAT:
            raise DesignError("architecture.format", f"unknown format {d['format']!r}", FORMAT)
        if not isinstance(d["blocks"], list) or not d["blocks"]:
            raise DesignError("architecture.blocks", "expected a non-empty list of blocks")
        blocks = [Block.from_dict(b, f"blocks[{i}]") for i, b in enumerate(d["blocks"])]
        kw = dict(resolution=_positive_int(d.get("resolution", 224), "resolution"),
                  num_classes=_positive_int(d.get("num_classes", 1000), "num_classes"),
                  name=d.get("name"), meta=d.get("meta") or {})
        kw.update({k: v for k, v in overrides.items() if v is not None})
        return cls(blocks=tuple(blocks), **kw)


def validate(arch: Architecture) -> None:
    """Raise :class:`DesignError` naming the first field that makes ``arch`` unbuildable."""
    blocks = arch.blocks
    if not blocks:
        raise DesignError("blocks", "empty architecture")
    if blocks[0].type != BlockType.CONV:
        raise DesignError("blocks[0].type", f"the first block must be the stem conv, got {str(blocks[0].type)!r}",
                          BlockType.CONV)
    for i, b in enumerate(blocks):
        where = f"blocks[{i}]"
        if b.type not in BLOCK_TYPES:
            raise DesignError(f"{where}.type", f"unknown block type {b.type!r}", ", ".join(BLOCK_TYPES))
        for name in ("c_in", "c_out", "k", "s", "L"):
            if not isinstance(getattr(b, name), int) or getattr(b, name) < 1:
                key = {"c_in": "in", "c_out": "out"}.get(name, name)
                raise DesignError(f"{where}.{key}", f"must be a positive integer, got {getattr(b, name)!r}")
        if b.s not in (1, 2):
            raise DesignError(f"{where}.s", f"stride {b.s} not supported", "1 or 2")
        if b.k % 2 == 0:
            raise DesignError(f"{where}.k", f"kernel size {b.k} must be odd", "1, 3, 5, 7, ...")
        if b.type == BlockType.CONV:
            if b.L != 1:
                raise DesignError(f"{where}.L", "a plain conv has no depth", "1")
        elif b.btn is None or not isinstance(b.btn, int) or b.btn < 1:
            raise DesignError(f"{where}.btn", f"must be a positive integer for {b.type}, got {b.btn!r}")
        if i and b.c_in != blocks[i - 1].c_out:
            raise DesignError(f"{where}.in", f"{b.c_in} does not chain with blocks[{i - 1}].out = "
                              f"{blocks[i - 1].c_out}", str(blocks[i - 1].c_out))
    n2 = sum(b.s == 2 for b in blocks)
    if arch.resolution % (2 ** n2):
        raise DesignError("resolution", f"{arch.resolution} does not halve evenly through {n2} stride-2 blocks",
                          f"a multiple of {2 ** n2}")
    if arch.resolution < 2 ** n2:
        raise DesignError("resolution", f"{arch.resolution} vanishes after {n2} stride-2 blocks",
                          f">= {2 ** n2}")
