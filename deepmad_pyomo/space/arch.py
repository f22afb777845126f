"""Architectures and their files: our JSON format and the official TinyNAS structure files.

The data types are defined in :mod:`.blocks` and the TinyNAS format in :mod:`.tinynas`; this module is
where the rest of the package takes them from, and the one reader that tells the two formats apart
(docs/architecture-format.md describes both).
"""
from __future__ import annotations

from pathlib import Path
from typing import Any

from ..fileio import parse_json, read_text
from . import tinynas
from .blocks import FORMAT, Architecture, Block, se_width, validate

KINDS = "our architecture JSON (or a zoo record or design result holding one) or a TinyNAS structure file"


def load(path: str | Path, **overrides: Any) -> Architecture:
    """Our JSON (an architecture, or a file that holds one under ``architecture``: a zoo record, a design
    result) or an official TinyNAS structure file (told apart by content); ``overrides`` replace the
    file's ``resolution``, ``num_classes`` or ``name`` where not ``None``."""
    path = Path(path)
    text = read_text(path, valid=KINDS)
    if tinynas.looks_like_tinynas(text):
        return tinynas.loads(text, name=path.stem, **overrides)
    data = parse_json(text, path, KINDS)
    if isinstance(data, dict) and "blocks" not in data and isinstance(data.get("architecture"), dict):
        data = data["architecture"]  # a zoo record or a design result
    return Architecture.from_dict(data, **overrides)


def save(arch: Architecture, path: str | Path) -> None:
    """Write ``arch`` as our JSON, atomically."""
    from ..fileio import atomic_write_text

    atomic_write_text(path, arch.to_json() + "\n")


__all__ = ["FORMAT", "Architecture", "Block", "load", "save", "se_width", "validate"]
