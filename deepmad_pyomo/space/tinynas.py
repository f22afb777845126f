"""Import and export of the official DeepMAD/TinyNAS structure files.

A structure file holds ``{'best_structures': [[block, ...]], 'space_arch': 'CnnNet'}`` or a bare list of
block dicts (Python literal syntax, single quotes). It is parsed with :func:`ast.literal_eval`: never
``eval``.
"""
from __future__ import annotations

import ast
import pprint
from typing import Any

from ..errors import DesignError
from .blocks import Architecture, Block
from .families import FAMILIES, BlockType
from .limits import MAX_BLOCKS, clipped, quoted

CLASS_TO_TYPE: dict[str, BlockType] = {f.tinynas_class: t for t, f in FAMILIES.items()}
TYPE_TO_CLASS: dict[BlockType, str] = {t: c for c, t in CLASS_TO_TYPE.items()}
INNER_CLASS: dict[BlockType, str] = {t: f.inner_class for t, f in FAMILIES.items() if f.inner_class}
_DEFAULT_ACT = {t: "relu" for t, f in FAMILIES.items() if not f.depthwise}


def looks_like_tinynas(text: str) -> bool:
    """Whether ``text`` looks like a structure file (rather than our JSON): it names block classes."""
    head = text.lstrip()[:4000]
    return "'class'" in head or "best_structures" in head or '"class"' in head


def loads(text: str, name: str | None = None, **overrides: Any) -> Architecture:
    """The architecture of a structure file's text; ``overrides`` set ``resolution``/``num_classes``."""
    data = _literal(text)
    if isinstance(data, dict):
        if data.get("space_arch", "CnnNet") != "CnnNet":
            raise DesignError("space_arch", f"unsupported {quoted(data['space_arch'])}", "CnnNet")
        structures = data.get("best_structures")
        if not isinstance(structures, list) or not structures:
            raise DesignError("best_structures", "missing or empty")
        data = structures[0]
    if not isinstance(data, list) or not data:
        raise DesignError("structure file", "expected a non-empty list of block dicts")
    MAX_BLOCKS.check(len(data), "structure file")
    blocks = [_block(d, i) for i, d in enumerate(data)]
    return Architecture(blocks=tuple(blocks), name=name, **{k: v for k, v in overrides.items() if v is not None})


def _literal(text: str) -> Any:
    """The Python literal ``text`` holds (data only: :func:`ast.literal_eval`, never ``eval``)."""
    try:
        return ast.literal_eval(text.strip())
    except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError) as e:
        detail = clipped(" ".join(str(e).split())) or "nested too deeply"
        raise DesignError("structure file", f"not a Python literal ({type(e).__name__}: {detail})",
                          "{'best_structures': [[{...}, ...]], 'space_arch': 'CnnNet'} or a list of block dicts"
                          ) from None


def _block(d: Any, i: int) -> Block:
    """Block ``i`` of a structure file, refusing what the official code can express but we cannot build."""
    where = f"block {i}"
    if not isinstance(d, dict):
        raise DesignError(where, f"expected a dict, got {type(d).__name__}")
    cls = d.get("class")
    if not isinstance(cls, str) or cls not in CLASS_TO_TYPE:
        raise DesignError(f"{where}.class", f"unknown class {quoted(cls)}", ", ".join(CLASS_TO_TYPE))
    btype = CLASS_TO_TYPE[cls]
    for key in ("nbitsA", "nbitsW"):
        if key in d:
            raise DesignError(f"{where}.{key}", "quantized structures are not supported")
    if d.get("g", 1) != 1:
        raise DesignError(f"{where}.g", f"grouped convs (g={quoted(d['g'])}) are not supported", "1")
    k = d.get("k")
    if "p" in d and isinstance(k, int) and d["p"] != (k - 1) // 2:
        raise DesignError(f"{where}.p", f"padding {quoted(d['p'])} is not 'same'", str((k - 1) // 2))
    if "act" in d and d["act"] != _DEFAULT_ACT.get(btype, d["act"]):
        raise DesignError(f"{where}.act", f"activation {quoted(d['act'])} is not supported for {cls}",
                          _DEFAULT_ACT[btype])
    if "inner_class" in d and d["inner_class"] != INNER_CLASS.get(btype):
        raise DesignError(f"{where}.inner_class", f"{quoted(d['inner_class'])} does not match {cls}",
                          INNER_CLASS.get(btype))
    fields = {"type": btype, **{key: d[key] for key in ("in", "out", "btn", "k", "s", "L") if key in d}}
    if btype == BlockType.CONV:
        fields.pop("btn", None)
        fields.pop("L", None)
    elif "L" not in fields:
        raise DesignError(f"{where}.L", "missing")
    return Block.from_dict(fields, where)


def to_structures(arch: Architecture) -> list[dict[str, Any]]:
    """The block dicts of ``arch`` as the official code writes them."""
    out = []
    for b in arch.blocks:
        d: dict[str, Any] = {"class": TYPE_TO_CLASS[b.type], "in": b.c_in, "out": b.c_out, "k": b.k, "s": b.s}
        if b.type != BlockType.CONV:
            d.update(btn=b.btn, L=b.L, inner_class=INNER_CLASS[b.type])
        out.append(d)
    return out


def dumps(arch: Architecture) -> str:
    """The official file format, loadable by the TinyNAS code and by :func:`loads`."""
    body = pprint.pformat({"best_structures": [to_structures(arch)], "space_arch": "CnnNet"},
                          width=120, sort_dicts=False)
    return body + "\n"
