"""Hostile input for property-based tests: valid problem files, architectures and structure files, and
hypothesis strategies that break them in the ways a hostile user would (wrong types, missing and unknown keys,
NaN and infinities, huge and negative numbers, booleans, nested garbage), in data and as file text."""
from __future__ import annotations

import copy
import enum
import json
import math
import os
from typing import Any, Callable, Iterator

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st

from deepmad_pyomo.errors import DesignError
from deepmad_pyomo.space.arch import Architecture, Block
from deepmad_pyomo.space.problem import preset
from deepmad_pyomo.space.tinynas import to_structures

# Modest and repeatable: every property file runs in seconds on two shared cores, the same examples each run.
# DEEPMAD_HOSTILE_EXAMPLES=5000 runs a longer sweep of new random examples.
_SWEEP = int(os.environ.get("DEEPMAD_HOSTILE_EXAMPLES", "0"))
HOSTILE = settings(max_examples=_SWEEP or 120, deadline=None, database=None, derandomize=not _SWEEP,
                   suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much,
                                          HealthCheck.function_scoped_fixture])

# A small problem of each kind: bottlenecks with absolute btn ranges and a head, inverted residuals with btn_ratio.
PROBLEMS: list[dict[str, Any]] = [
    {"name": "tiny", "resolution": 32, "num_classes": 10, "width_step": 8,
     "objective": {"mode": "tinynas", "rho0": 0.5, "beta": 10},
     "budgets": {"flops": 6e6, "params": 2e5},
     "stem": {"out": [16, 24], "k": [3], "s": 1},
     "stages": [{"type": "k1kxk1", "s": 2, "out": [16, 40], "btn": [8, 16], "L": [1, 3], "k": [3, 5]},
                {"type": "kxkx", "s": 2, "out": [32, 48], "btn": [8, 32], "L": [1, 3], "k": [3]}],
     "head": {"out": [64, 64], "k": [1]}},
    json.loads(json.dumps(preset("deepmad-29m").to_dict())),
]

# A small architecture of every family (five stages, so the default alpha fits).
ARCHITECTURE: dict[str, Any] = {"name": "small", "resolution": 64, "num_classes": 10, "blocks": [
    {"type": "conv", "in": 3, "out": 16, "k": 3, "s": 2},
    {"type": "k1kxk1", "in": 16, "out": 32, "btn": 8, "k": 3, "s": 2, "L": 1},
    {"type": "kxkx", "in": 32, "out": 48, "btn": 16, "k": 5, "s": 2, "L": 2},
    {"type": "k1dwk1", "in": 48, "out": 48, "btn": 96, "k": 3, "s": 2, "L": 2},
    {"type": "k1dwsek1", "in": 48, "out": 64, "btn": 128, "k": 5, "s": 2, "L": 1},
    {"type": "conv", "in": 64, "out": 128, "k": 1, "s": 1},
]}

ODD_NUMBERS = (0, -1, 1, 2, 3, 7, 8, 31, 33, 255, 256, 257, 4096, 16384, 16385, 2 ** 31, 10 ** 12, 10 ** 400,
               0.5, 1e-300, 1e300, -0.0, math.nan, math.inf, -math.inf)
ODD_TEXT = ("", "NaN", "inf", "1.82e9", "3", "k1kxk1", "conv", "paper", "\x00", "é" * 3, "x" * 200)

scalars = st.one_of(st.none(), st.booleans(), st.sampled_from(ODD_NUMBERS), st.integers(-2 ** 70, 2 ** 70),
                    st.floats(allow_nan=True, allow_infinity=True), st.sampled_from(ODD_TEXT), st.text(max_size=6))
garbage = st.recursive(scalars, lambda kids: st.lists(kids, max_size=4)
                       | st.dictionaries(st.text(max_size=6), kids, max_size=4), max_leaves=12)


class Mutation(enum.Enum):
    """One way to break a value in a nested mapping."""

    REPLACE = "replace"      # by garbage
    DELETE = "delete"        # the key or item
    ADD_KEY = "add key"      # an unknown key next to it
    TWEAK = "tweak"          # a near miss: scaled, negated, a fraction, a string, a list, a flag, non-finite


TWEAKS: tuple[Callable[[Any], Any], ...] = (
    lambda v: v * 1000 if _number(v) else v, lambda v: -v if _number(v) else v, lambda v: v + 0.5 if _number(v) else v,
    str, lambda v: [v], lambda v: True, lambda v: None, lambda v: math.nan, lambda v: math.inf,
    lambda v: [v, v, v] if not isinstance(v, list) else v[:1] + v, lambda v: v * 10 ** 6 if _number(v) else v)


def _number(v: Any) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def paths(obj: Any, prefix: tuple = ()) -> Iterator[tuple]:
    """Every path into nested dicts and lists, the root's ``()`` first."""
    yield prefix
    if isinstance(obj, dict):
        for k, v in obj.items():
            yield from paths(v, prefix + (k,))
    elif isinstance(obj, list):
        for i, v in enumerate(obj):
            yield from paths(v, prefix + (i,))


def _at(obj: Any, path: tuple) -> Any:
    for key in path:
        obj = obj[key]
    return obj


@st.composite
def mutated(draw: st.DrawFn, base: Any, most: int = 3) -> Any:
    """``base`` with one to ``most`` random mutations at random places."""
    data = copy.deepcopy(base)
    for _ in range(draw(st.integers(1, most))):
        inner = [p for p in paths(data) if p]
        if not inner:
            return draw(garbage)
        path = draw(st.sampled_from(inner))
        parent, key = _at(data, path[:-1]), path[-1]
        how = draw(st.sampled_from(Mutation))
        if how == Mutation.REPLACE:
            parent[key] = draw(garbage)
        elif how == Mutation.DELETE:
            del parent[key]
        elif how == Mutation.ADD_KEY and isinstance(parent, dict):
            parent[draw(st.text(min_size=1, max_size=8))] = draw(garbage)
        else:
            parent[key] = draw(st.sampled_from(TWEAKS))(parent[key])
    return data


def problems() -> st.SearchStrategy[Any]:
    """Problem-file mappings, most of them broken."""
    return st.sampled_from(PROBLEMS).flatmap(mutated)


def architectures() -> st.SearchStrategy[Any]:
    """Architecture mappings (our JSON), most of them broken."""
    return mutated(ARCHITECTURE)


def structures() -> st.SearchStrategy[Any]:
    """TinyNAS structure-file data (the block dicts), most of them broken."""
    base = {"best_structures": [to_structures(Architecture.from_dict(ARCHITECTURE))], "space_arch": "CnnNet"}
    return mutated(base)


NON_JSON_NUMBERS = ("NaN", "Infinity", "-Infinity", "1e999", "-1e999", "1" * 5000, "1e-999", "0.0", "-0")


@st.composite
def json_texts(draw: st.DrawFn, data: st.SearchStrategy[Any]) -> str:
    """JSON text of ``data`` with some numbers written as Python's json reads but JSON does not allow."""
    text = json.dumps(draw(data))
    for token in draw(st.lists(st.sampled_from(NON_JSON_NUMBERS), max_size=2)):
        digits = [i for i, ch in enumerate(text) if ch.isdigit() and not text[i - 1].isalnum()]
        if digits:
            i = draw(st.sampled_from(digits))
            j = i
            while j < len(text) and (text[j].isdigit() or text[j] in ".e-+"):
                j += 1
            text = text[:i] + token + text[j:]
    return text


@st.composite
def garbled(draw: st.DrawFn, text: str) -> str:
    """``text`` with a few characters cut, doubled or replaced."""
    for _ in range(draw(st.integers(0, 3))):
        if not text:
            break
        i = draw(st.integers(0, len(text) - 1))
        text = text[:i] + draw(st.sampled_from(["", text[i] * 2, "[", "{", ":", "'", "\n", "- ", "&a ", "*a"])) \
            + text[i + 1:]
    return text


def one_line_error(e: DesignError) -> None:
    """What every refusal must be: one short line naming a field."""
    msg = str(e)
    assert "\n" not in msg and e.field and len(msg) < 1000, msg


def valid_blocks() -> st.SearchStrategy[Architecture]:
    """Valid architectures anywhere within the limits (large depths, wide layers, big kernels): metrics must
    never fail on them."""
    families = st.sampled_from(["k1kxk1", "kxkx", "k1dwk1", "k1dwsek1"])

    @st.composite
    def build(draw: st.DrawFn) -> Architecture:
        width = st.integers(1, 2048)
        c = draw(width)
        blocks = [Block("conv", 3, c, draw(st.sampled_from([1, 3, 31])), draw(st.sampled_from([1, 2])))]
        for _ in range(draw(st.integers(1, 6))):
            out = draw(width)
            blocks.append(Block(draw(families), c, out, draw(st.sampled_from([1, 3, 5, 31])),
                                draw(st.sampled_from([1, 2])), draw(width), draw(st.integers(1, 256))))
            c = out
        n2 = sum(b.s == 2 for b in blocks)
        return Architecture(tuple(blocks), resolution=2 ** n2 * draw(st.integers(1, 4)),
                            num_classes=draw(st.integers(1, 1000)))

    return build()
