"""The largest sizes the package accepts, each stated once.

They sit far above any real network (the released DeepMAD-89M has depths <= 12 and widths about 2048; the
largest CNN backbones have about 1 G params and 1 T MACs) and low enough that no count overflows, no
command runs for minutes and no build fills the memory. Architectures (:mod:`.blocks`), problem files
(:mod:`.schema`) and the torch builder (:mod:`deepmad_pyomo.nn.network`) refuse a size beyond its limit
with a :class:`~deepmad_pyomo.errors.DesignError` that names it; docs/problems.md and
docs/architecture-format.md list them.
"""
from __future__ import annotations

import reprlib
from dataclasses import dataclass
from typing import Any

from ..errors import DesignError


@dataclass(frozen=True)
class Limit:
    """The most a size may be: ``name`` (as in this module), ``most`` and what it counts (``unit``)."""

    name: str
    most: int
    unit: str

    def __str__(self) -> str:
        return f"{self.name} = {number(self.most)} {self.unit}"

    def exceeded(self, value: Any) -> str:
        """What is wrong with ``value`` above the limit, in words: ``100000 exceeds MAX_DEPTH = 256 ...``."""
        return f"{quoted(value)} exceeds {self}"

    def valid(self, least: int = 1) -> str:
        """The valid values in words: ``an integer from 1 to 256``."""
        return f"an integer from {number(least)} to {number(self.most)}"

    def check(self, value: float, field: str, valid: str | None = None) -> None:
        """Raise a :class:`DesignError` naming ``field`` when ``value`` is above the limit (``valid``: what is,
        by default an integer from 1 to the limit)."""
        if value > self.most:
            raise DesignError(field, self.exceeded(value), valid or self.valid())


# ------------------------------------------------------------------------------- one architecture
MAX_DEPTH = Limit("MAX_DEPTH", 256, "blocks in one super-block")
MAX_WIDTH = Limit("MAX_WIDTH", 16_384, "channels (in, out, btn, width_step)")
MAX_KERNEL = Limit("MAX_KERNEL", 31, "kernel side")
MAX_RESOLUTION = Limit("MAX_RESOLUTION", 4096, "pixels of input side")
MAX_CLASSES = Limit("MAX_CLASSES", 1_000_000, "classes")
MAX_BLOCKS = Limit("MAX_BLOCKS", 64, "rows (stem, super-blocks, head)")
# ------------------------------------------------------------------------------ problem files only
MAX_BTN_RATIO = Limit("MAX_BTN_RATIO", 64, "x out (btn_ratio)")
MAX_WEIGHT = Limit("MAX_WEIGHT", 1_000_000, "(alpha, beta)")
# ------------------------------------------------------------------------------ a whole network
MAX_LAYERS = Limit("MAX_LAYERS", 2048, "main-path conv layers")
MAX_MACS = Limit("MAX_MACS", 10 ** 13, "multiply-accumulates")
MAX_PARAMS = Limit("MAX_PARAMS", 2 * 10 ** 9, "params")

LIMITS = (MAX_DEPTH, MAX_WIDTH, MAX_KERNEL, MAX_RESOLUTION, MAX_CLASSES, MAX_BLOCKS, MAX_BTN_RATIO, MAX_WEIGHT,
          MAX_LAYERS, MAX_MACS, MAX_PARAMS)

QUOTED_CHARS = 60  # the longest value an error message quotes


class _ShortRepr(reprlib.Repr):
    """``reprlib``'s bounded repr, which also names an int too long to print (over 4300 digits)."""

    def __init__(self) -> None:
        super().__init__()
        self.maxlevel, self.maxstring, self.maxother, self.maxlong = 3, QUOTED_CHARS, QUOTED_CHARS, 40

    def repr_int(self, x: int, level: int) -> str:
        return f"<a {x.bit_length()}-bit integer>" if x.bit_length() > 4096 else super().repr_int(x, level)


_SHORT_REPR = _ShortRepr()


def number(x: float) -> str:
    """``16,384``; large round numbers as powers: ``1e13``, ``2e9``."""
    if x >= 10 ** 7 and float(x).is_integer():
        mantissa, exponent = f"{float(x):e}".split("e")
        return f"{float(mantissa):g}e{int(exponent)}"
    return f"{x:,}" if isinstance(x, int) else f"{x:g}"


def quoted(value: Any) -> str:
    """``repr(value)``, cut to :data:`QUOTED_CHARS` characters; nested data is only walked as far as shown
    (hostile input can be megabytes, or YAML aliases that repeat a list a billion times)."""
    return clipped(_SHORT_REPR.repr(value))


def key_name(key: Any) -> str:
    """A mapping key as an error's field names it: as written when it is a plain word, else quoted."""
    plain = isinstance(key, str) and key.isprintable() and not any(ch.isspace() for ch in key) and key
    return clipped(key) if plain else quoted(key)


def clipped(text: str) -> str:
    """``text`` cut to :data:`QUOTED_CHARS` characters, ``...`` marking the cut."""
    return text if len(text) <= QUOTED_CHARS else text[:QUOTED_CHARS - 3] + "..."


__all__ = ["LIMITS", "MAX_BLOCKS", "MAX_BTN_RATIO", "MAX_CLASSES", "MAX_DEPTH", "MAX_KERNEL", "MAX_LAYERS", "MAX_MACS",
           "MAX_PARAMS", "MAX_RESOLUTION", "MAX_WEIGHT", "MAX_WIDTH", "Limit", "clipped", "key_name", "number", "quoted"]
