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
import math
from dataclasses import dataclass, field, replace
from typing import Any

from ..errors import DesignError
from .families import BLOCK_TYPES, BlockType
from .limits import (
    MAX_BLOCKS,
    MAX_CLASSES,
    MAX_DEPTH,
    MAX_KERNEL,
    MAX_RESOLUTION,
    MAX_WIDTH,
    Limit,
    key_name,
    quoted,
)

FORMAT = "deepmad-pyomo/architecture-v1"
ROW_KEYS = ("type", "in", "out", "btn", "k", "s", "L")
REQUIRED = ("in", "out", "k")  # besides type, and btn for a super-block
TOP_KEYS = ("format", "name", "resolution", "num_classes", "blocks", "meta")
# The integer fields of a block row: (attribute, key in files, limit; None: checked otherwise).
SIZES: tuple[tuple[str, str, Limit | None], ...] = (
    ("c_in", "in", MAX_WIDTH), ("c_out", "out", MAX_WIDTH), ("btn", "btn", MAX_WIDTH), ("k", "k", MAX_KERNEL),
    ("s", "s", None), ("L", "L", MAX_DEPTH))
STRIDES = (1, 2)


def btn_range(btn: tuple[int, int] | None, btn_ratio: tuple[float, float] | None, out_lo: float,
              out_hi: float) -> tuple[int, int]:
    """The bottleneck widths (channels) a super-block allows when its output width lies in ``[out_lo, out_hi]``:
    its ``btn`` range (default: any up to :data:`MAX_WIDTH`) within ``btn_ratio`` times the output width."""
    lo, hi = btn or (1, MAX_WIDTH.most)
    if btn_ratio:
        lo = max(lo, math.ceil(btn_ratio[0] * out_lo - 1e-9))
        hi = min(hi, math.floor(btn_ratio[1] * out_hi + 1e-9))
    return max(lo, 1), hi


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
        unknown = sorted(set(d) - set(ROW_KEYS), key=quoted)
        if unknown:
            raise DesignError(f"{where}.{key_name(unknown[0])}", "unknown key", ", ".join(ROW_KEYS))
        btype = d.get("type")
        if not isinstance(btype, str) or btype not in BLOCK_TYPES:
            raise DesignError(f"{where}.type", f"unknown block type {quoted(btype)}", ", ".join(BLOCK_TYPES))
        for key in REQUIRED:
            if key not in d:
                raise DesignError(f"{where}.{key}", "missing")
        if btype != BlockType.CONV and "btn" not in d:
            raise DesignError(f"{where}.btn", f"missing (required for {btype})")
        vals = {key: count(d[key], f"{where}.{key}", limit) for _, key, limit in SIZES
                if key in REQUIRED or d.get(key) is not None}
        return cls(type=btype, c_in=vals["in"], c_out=vals["out"], k=vals["k"], s=vals.get("s", 1),
                   btn=vals.get("btn"), L=vals.get("L", 1))


def _name(v: Any) -> str | None:
    """An architecture's name: a string (a number is read as one); none when empty."""
    if v is not None and (isinstance(v, bool) or not isinstance(v, (str, int, float))):
        raise DesignError("architecture.name", f"expected a string, got {quoted(v)}")
    return str(v) if v not in (None, "") else None


def count(v: Any, where: str, limit: Limit | None = None) -> int:
    """``v`` as an int from 1 to ``limit`` (whole floats accepted), else a :class:`DesignError` naming
    ``where``: booleans, strings, NaN, infinities and fractions are refused."""
    valid = limit.valid() if limit else "an integer >= 1"
    if isinstance(v, bool) or not isinstance(v, (int, float)):
        raise DesignError(where, f"expected a positive integer, got {quoted(v)}", valid)
    if isinstance(v, float) and not math.isfinite(v):
        raise DesignError(where, f"{quoted(v)} is not a finite number", valid)
    if v != int(v):
        raise DesignError(where, f"expected a positive integer, got {quoted(v)}", valid)
    if v < 1:
        raise DesignError(where, f"must be positive, got {quoted(v)}", valid)
    if limit:
        limit.check(v, where)
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
        unknown = sorted(set(d) - set(TOP_KEYS), key=quoted)
        if unknown:
            raise DesignError(f"architecture.{key_name(unknown[0])}", "unknown key", ", ".join(TOP_KEYS))
        if d.get("format", FORMAT) != FORMAT:
            raise DesignError("architecture.format", f"unknown format {quoted(d['format'])}", FORMAT)
        rows = d["blocks"]
        if not isinstance(rows, list) or not rows:
            raise DesignError("architecture.blocks", "expected a non-empty list of blocks")
        MAX_BLOCKS.check(len(rows), "architecture.blocks")
        if not isinstance(d.get("meta") or {}, dict):
            raise DesignError("architecture.meta", f"expected an object, got {type(d['meta']).__name__}")
        blocks = [Block.from_dict(b, f"blocks[{i}]") for i, b in enumerate(rows)]
        kw = dict(resolution=count(d.get("resolution", 224), "resolution", MAX_RESOLUTION),
                  num_classes=count(d.get("num_classes", 1000), "num_classes", MAX_CLASSES),
                  name=_name(d.get("name")), meta=d.get("meta") or {})
        kw.update({k: v for k, v in overrides.items() if v is not None})
        return cls(blocks=tuple(blocks), **kw)


def validate(arch: Architecture) -> None:
    """Raise :class:`DesignError` naming the first field that makes ``arch`` unbuildable."""
    blocks = arch.blocks
    if not blocks:
        raise DesignError("blocks", "empty architecture")
    MAX_BLOCKS.check(len(blocks), "blocks")
    if blocks[0].type != BlockType.CONV:
        raise DesignError("blocks[0].type", f"the first block must be the stem conv, got {quoted(str(blocks[0].type))}",
                          BlockType.CONV)
    for i, b in enumerate(blocks):
        _validate_block(b, f"blocks[{i}]")
        if i and b.c_in != blocks[i - 1].c_out:
            raise DesignError(f"blocks[{i}].in", f"{b.c_in} does not chain with blocks[{i - 1}].out = "
                              f"{blocks[i - 1].c_out}", str(blocks[i - 1].c_out))
    _validate_sizes(arch)


def _validate_block(b: Block, where: str) -> None:
    """The fields of one block: type, positive integers within their limits, stride, odd kernel, depth, btn."""
    if b.type not in BLOCK_TYPES:
        raise DesignError(f"{where}.type", f"unknown block type {quoted(b.type)}", ", ".join(BLOCK_TYPES))
    for name, key, limit in SIZES:
        value = getattr(b, name)
        if name == "btn" and (value is None or b.type == BlockType.CONV):
            continue
        if not _is_count(value):
            raise DesignError(f"{where}.{key}", f"must be a positive integer, got {quoted(value)}",
                              limit.valid() if limit else None)
        if limit:
            limit.check(value, f"{where}.{key}")
    if b.s not in STRIDES:
        raise DesignError(f"{where}.s", f"stride {quoted(b.s)} not supported", "1 or 2")
    if b.k % 2 == 0:
        raise DesignError(f"{where}.k", f"kernel size {b.k} must be odd", "1, 3, 5, 7, ...")
    if b.type == BlockType.CONV:
        if b.L != 1:
            raise DesignError(f"{where}.L", "a plain conv has no depth", "1")
    elif b.btn is None:
        raise DesignError(f"{where}.btn", f"must be a positive integer for {b.type}, got None", MAX_WIDTH.valid())


def _is_count(v: Any) -> bool:
    return isinstance(v, int) and not isinstance(v, bool) and v >= 1


def _validate_sizes(arch: Architecture) -> None:
    """Resolution and classes: positive integers within their limits; the input side halves evenly."""
    for name, limit in (("resolution", MAX_RESOLUTION), ("num_classes", MAX_CLASSES)):
        value = getattr(arch, name)
        if not _is_count(value):
            raise DesignError(name, f"must be a positive integer, got {quoted(value)}", limit.valid())
        limit.check(value, name)
    n2 = sum(b.s == 2 for b in arch.blocks)
    if arch.resolution % (2 ** n2):
        raise DesignError("resolution", f"{arch.resolution} does not halve evenly through {n2} stride-2 blocks",
                          f"a multiple of {2 ** n2}")
    if arch.resolution < 2 ** n2:
        raise DesignError("resolution", f"{arch.resolution} vanishes after {n2} stride-2 blocks",
                          f">= {2 ** n2}")
