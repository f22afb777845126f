"""The schema of design-problem files (YAML or JSON), as pydantic models.

:func:`validate_problem` checks a mapping read from a file and returns a :class:`ProblemFile`, from
which :meth:`deepmad_pyomo.space.problem.DesignProblem.from_dict` builds its frozen dataclasses. The
first thing wrong is raised as one :class:`~deepmad_pyomo.errors.DesignError` naming the field path
(``stages[2].L``, ``budgets.flops``), what is wrong and what is valid. :func:`problem_json_schema` is the
same schema as JSON Schema, published as ``docs/problem.schema.json`` (``docs/problems.md`` explains it);
``python -m deepmad_pyomo.space.schema [PATH]`` rewrites that file.
"""
from __future__ import annotations

import copy
import functools
import json
import math
import sys
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationError,
    ValidatorFunctionWrapHandler,
    WithJsonSchema,
    WrapValidator,
    model_validator,
)
from pydantic.json_schema import GenerateJsonSchema
from pydantic_core import PydanticCustomError

from ..errors import DesignError
from .blocks import Block, btn_range
from .families import SUPER_BLOCK_TYPES, BlockType, Mode
from .limits import (
    MAX_BLOCKS,
    MAX_BTN_RATIO,
    MAX_CLASSES,
    MAX_DEPTH,
    MAX_KERNEL,
    MAX_LAYERS,
    MAX_MACS,
    MAX_PARAMS,
    MAX_RESOLUTION,
    MAX_WEIGHT,
    MAX_WIDTH,
    Limit,
    key_name,
    number,
    quoted,
)
from .metrics import inner_block, stage_ends

SCHEMA_FILE = Path(__file__).resolve().parents[2] / "docs" / "problem.schema.json"
BUDGET_LIMITS = ("flops", "params", "layers", "latency_ms")
_PRESET_HINT = "see a preset: deepmad presets --show deepmad-r50"


def _invalid(problem: str, valid: str | None = None, key: str | None = None) -> PydanticCustomError:
    """An error in our words; ``key`` names the field, below the place being validated, that it is about."""
    return PydanticCustomError("design", "{problem}", {"problem": problem, "valid": valid, "key": key})


# ------------------------------------------------------------------------------------ value types
def _whole(v: Any) -> Any:
    """``64.0`` as ``64`` (JSON writers may add the ``.0``); anything else as given, for ``int`` to judge."""
    return int(v) if isinstance(v, float) and v.is_integer() else v


def _as_written(v: Any, check: ValidatorFunctionWrapHandler) -> Any:
    """``v`` checked as a finite float, but returned as written: ``beta: 10`` stays the int 10, so that a
    problem's digest (on which batch runs resume) does not change when it is read again."""
    checked = check(v)
    return v if type(v) is int else checked


def _is_number(v: Any) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def _range(v: Any, integer: bool, limit: Limit) -> tuple[Any, Any]:
    """``[min, max]`` (a single number means ``[v, v]``): positive, ordered, finite, at most ``limit``;
    whole numbers when ``integer``."""
    pair = [v, v] if _is_number(v) else v
    if not (isinstance(pair, (list, tuple)) and len(pair) == 2 and all(map(_is_number, pair))):
        raise _invalid(f"expected [min, max], got {quoted(v)}")
    if not all(map(_is_finite, pair)):
        raise _invalid(f"expected finite numbers, got {quoted(list(pair))}")
    if integer and not all(x == int(x) for x in pair):
        raise _invalid(f"expected whole numbers, got {quoted(list(pair))}")
    lo, hi = (int(x) for x in pair) if integer else (float(x) for x in pair)
    if lo > hi or lo <= 0:
        raise _invalid(f"empty or non-positive range {quoted(list(pair))}", "0 < min <= max")
    if hi > limit.most:
        raise _invalid(limit.exceeded(pair[1]), f"0 < min <= max <= {limit.most:,}")
    return lo, hi


def _is_finite(x: int | float) -> bool:
    return not isinstance(x, float) or math.isfinite(x)  # an int is finite, however large


def _range_type(integer: bool, limit: Limit) -> Any:
    """The type of a ``[min, max]`` field up to ``limit``, and its JSON Schema."""
    item = {"type": "integer" if integer else "number", "exclusiveMinimum": 0, "maximum": limit.most}
    schema = {"anyOf": [item, {"type": "array", "prefixItems": [item, item], "items": False, "minItems": 2}],
              "description": "[min, max], or one number for min = max"}
    return Annotated[tuple[int, int] if integer else tuple[float, float],
                     BeforeValidator(lambda v: _range(v, integer, limit)), WithJsonSchema(schema)]


def _kernels(v: Any) -> tuple[int, ...]:
    """Odd kernel sizes up to :data:`MAX_KERNEL`, sorted, without repeats (a single number is a list of one)."""
    ks = [v] if _is_number(v) else v
    if (not isinstance(ks, (list, tuple)) or not ks
            or any(isinstance(k, bool) or not isinstance(k, int) or k < 1 or k % 2 == 0 for k in ks)):
        raise _invalid(f"expected a list of odd kernel sizes, got {quoted(v)}", "e.g. [3, 5]")
    if max(ks) > MAX_KERNEL.most:
        raise _invalid(MAX_KERNEL.exceeded(max(ks)), f"odd sizes from 1 to {MAX_KERNEL.most}")
    return tuple(sorted(set(ks)))


def _stride(v: Any) -> int:
    if isinstance(v, bool) or not _is_number(v) or v not in (1, 2):  # True == 1, but a flag is no stride
        raise _invalid(f"stride {quoted(v)} not supported", "1 or 2")
    return int(v)


def _super_block_type(v: Any) -> BlockType:
    if not isinstance(v, str) or v not in SUPER_BLOCK_TYPES:
        raise _invalid(f"unknown super-block type {quoted(v)}", ", ".join(SUPER_BLOCK_TYPES))
    return BlockType(v)


def _mode(v: Any) -> Mode:
    if not isinstance(v, str) or v not in Mode.values():
        raise _invalid(f"unknown mode {quoted(v)}", " or ".join(Mode.values()))
    return Mode(v)


def _at_most(limit: Limit, valid: str) -> Any:
    """A check that a value is at most ``limit``, with the limit named in its error."""
    def check(v: Any) -> Any:
        if v > limit.most:
            raise _invalid(limit.exceeded(v), valid)
        return v
    return AfterValidator(check)


def _few_enough(stages: list[Any]) -> list[Any]:
    """At most :data:`MAX_BLOCKS` rows with a stem and a head."""
    most = MAX_BLOCKS.most - 2
    if len(stages) > most:
        raise _invalid(f"{len(stages)} super-blocks: with a stem and a head, more than {MAX_BLOCKS}",
                       f"1 to {most} super-blocks")
    return stages


def _count(limit: Limit) -> Any:
    """The type of a whole number from 1 to ``limit``."""
    return Annotated[int, Field(gt=0, json_schema_extra={"maximum": limit.most}), BeforeValidator(_whole),
                     _at_most(limit, limit.valid())]


def _positive(limit: Limit) -> Any:
    """The type of a finite number > 0 and at most ``limit``."""
    return Annotated[float, Field(gt=0, json_schema_extra={"maximum": limit.most}), WrapValidator(_as_written),
                     _at_most(limit, f"a number > 0 and <= {number(limit.most)}")]


# The field types: a check (pydantic's own where it has one) and what the JSON Schema says of it.
Positive = Annotated[float, Field(gt=0), WrapValidator(_as_written)]
NonNegative = Annotated[float, Field(ge=0), WrapValidator(_as_written)]
Weight = Annotated[float, Field(ge=0, json_schema_extra={"maximum": MAX_WEIGHT.most}), WrapValidator(_as_written),
                   _at_most(MAX_WEIGHT, f"a number >= 0 and <= {number(MAX_WEIGHT.most)}")]
Fraction = Annotated[float, Field(ge=0, lt=1), WrapValidator(_as_written)]
Ratio = Annotated[float, Field(ge=1), WrapValidator(_as_written)]
Macs = _positive(MAX_MACS)
Params = _positive(MAX_PARAMS)
Layers = _count(MAX_LAYERS)
Resolution = _count(MAX_RESOLUTION)
Classes = _count(MAX_CLASSES)
Channels = _count(MAX_WIDTH)
WidthRange = _range_type(True, MAX_WIDTH)
DepthRange = _range_type(True, MAX_DEPTH)
RatioRange = _range_type(False, MAX_BTN_RATIO)
_ODD = {"type": "integer", "minimum": 1, "maximum": MAX_KERNEL.most, "not": {"multipleOf": 2}}
Kernels = Annotated[tuple[int, ...], BeforeValidator(_kernels),
                    WithJsonSchema({"anyOf": [_ODD, {"type": "array", "items": _ODD, "minItems": 1}]})]
Stride = Annotated[Literal[1, 2], BeforeValidator(_stride)]
SuperBlockType = Annotated[BlockType, BeforeValidator(_super_block_type),
                           WithJsonSchema({"enum": list(SUPER_BLOCK_TYPES)})]
ModeName = Annotated[Mode, BeforeValidator(_mode), WithJsonSchema({"enum": list(Mode.values())})]


# ---------------------------------------------------------------------------------------- sections
class _Section(BaseModel):
    """A mapping of known keys: ints are ints, numbers finite, no key unknown."""

    model_config = ConfigDict(extra="forbid", strict=True, allow_inf_nan=False, frozen=True)

    @model_validator(mode="before")
    @classmethod
    def _known_keys(cls, data: Any) -> Any:
        """Refuse the first unknown key, listing the known ones (pydantic's own error lists none)."""
        if isinstance(data, dict):
            unknown = sorted(set(data) - set(cls.model_fields), key=quoted)
            if unknown:
                raise PydanticCustomError("unknown_key", "unknown key",
                                          {"key": key_name(unknown[0]),
                                           "valid": ", ".join(sorted(cls.model_fields))})
        return data


class ConvFile(_Section):
    """A plain conv of the template: the stem, or a 1x1 head."""

    model_config = ConfigDict(title="Conv")
    out: WidthRange = Field(description="output width range")
    k: Kernels = Field((3,), description="kernel sizes to choose from")
    s: Stride = Field(1, description="stride")


class SuperBlockFile(_Section):
    """A super-block of the template: type and stride fixed; out, btn, L and k chosen within the bounds."""

    model_config = ConfigDict(title="Super-block")
    type: SuperBlockType = Field(description="block family")
    s: Stride = Field(1, description="stride of its first block")
    out: WidthRange = Field(description="output width range")
    L: DepthRange = Field(description="depth range: the number of blocks")
    k: Kernels = Field((3, 5), description="kernel sizes to choose from")
    btn: WidthRange | None = Field(None, description="bottleneck width range (give btn or btn_ratio)")
    btn_ratio: RatioRange | None = Field(None, description="bottleneck width range as multiples of out")

    @model_validator(mode="after")
    def _bottleneck_bounded(self) -> SuperBlockFile:
        if self.btn is None and self.btn_ratio is None:
            raise _invalid("give btn: [min, max] or btn_ratio: [min, max]", key="btn")
        return self


class BudgetsFile(_Section):
    """Upper bounds on the design; at least one of flops, params, layers, latency_ms."""

    model_config = ConfigDict(title="Budgets")
    flops: Macs | None = Field(None, description="MACs (paper mode) or the official count (tinynas mode)")
    params: Params | None = Field(None, description="all params (paper mode) or without the classifier "
                                                    "(tinynas mode)")
    layers: Layers | None = Field(None, description="main-path conv layers")
    latency_ms: Positive | None = Field(None, description="predicted latency; needs latency_model")
    latency_model: str | None = Field(None, description="file written by 'deepmad latency profile --out', "
                                                        "relative to the problem file")
    latency_margin: Fraction = Field(0.0, description="design to latency_ms * (1 - margin)")

    @model_validator(mode="before")
    @classmethod
    def _null_is_empty(cls, data: Any) -> Any:
        return {} if data is None else data

    @model_validator(mode="after")
    def _something_bounded(self) -> BudgetsFile:
        if all(getattr(self, key) is None for key in BUDGET_LIMITS):
            raise _invalid("no budget given", f"at least one of {', '.join(BUDGET_LIMITS)}")
        if self.latency_ms is not None and not self.latency_model:
            raise _invalid("a latency budget needs a latency model file",
                           "the path written by 'deepmad latency profile --out'", key="latency_model")
        return self


class ObjectiveFile(_Section):
    """The entropy objective's weights, the effectiveness bound and the mode (docs/mathematics.md)."""

    model_config = ConfigDict(title="Objective")
    alpha: list[Weight] | None = Field(None, min_length=1,
                                       description="weight per stage (default: 1 for each, 8 for the last)")
    beta: Weight = Field(10.0, description="weight of the depth penalty")
    rho0: Positive = Field(0.3, description="effectiveness bound (0.3 ResNet-like, 0.5 MobileNet-like)")
    mode: ModeName = Field(Mode.PAPER, description="paper formulas or the official TinyNAS code's")


class ProblemFile(_Section):
    """A design problem: a template (stem, super-blocks, optional head) with bounds, budgets, objective."""

    model_config = ConfigDict(title="deepmad-pyomo design problem")
    name: str | None = Field(None, description="default: the file name without its suffix")
    description: str = ""
    stem: ConvFile
    stages: Annotated[list[SuperBlockFile], AfterValidator(_few_enough)] = Field(
        min_length=1, json_schema_extra={"maxItems": MAX_BLOCKS.most - 2}, description="the super-blocks, input to output")
    head: ConvFile | None = Field(None, description="a 1x1 conv after the last super-block")
    budgets: BudgetsFile
    objective: ObjectiveFile = ObjectiveFile()
    resolution: Resolution = Field(224, description="input side in pixels")
    num_classes: Classes = 1000
    in_channels: Channels = 3
    width_step: Channels = Field(8, description="every width and bottleneck width is a multiple of this")
    max_width_ratio: Ratio | None = Field(4.0, description="a super-block widens by at most this factor; "
                                                           "null: no limit")

    @property
    def strides(self) -> list[int]:
        return [self.stem.s] + [st.s for st in self.stages] + ([self.head.s] if self.head else [])

    @model_validator(mode="after")
    def _fits_together(self) -> ProblemFile:
        n2 = sum(s == 2 for s in self.strides)
        if self.resolution % 2 ** n2:
            raise _invalid(f"{self.resolution} does not halve evenly through {n2} stride-2 layers",
                           f"a multiple of {2 ** n2}", key="resolution")
        n_stages = len(stage_ends(self.strides))
        alpha = self.objective.alpha
        if alpha is not None and len(alpha) != n_stages:
            raise _invalid(f"{len(alpha)} weights for {n_stages} stages", f"a list of {n_stages} numbers",
                           key="objective.alpha")
        self._widths_hold_steps()
        self._deepest_buildable()
        return self

    def _convs(self) -> list[tuple[str, ConvFile | SuperBlockFile]]:
        """Every conv and super-block of the template with its field path."""
        return ([("stem", self.stem)] + [(f"stages[{i}]", st) for i, st in enumerate(self.stages)]
                + ([("head", self.head)] if self.head else []))

    def _widths_hold_steps(self) -> None:
        """Every width and bottleneck range holds a multiple of ``width_step`` (a fixed conv width need not)."""
        step = self.width_step
        for where, sp in self._convs():
            fixed_conv = isinstance(sp, ConvFile) and sp.out[0] == sp.out[1]
            if not fixed_conv and not _holds_step(sp.out, step):
                raise _invalid(f"range {list(sp.out)} holds no multiple of {step}", key=f"{where}.out")
            if isinstance(sp, SuperBlockFile):
                _bottlenecks_hold_steps(sp, step, where)

    def _deepest_buildable(self) -> None:
        """The template's deepest design has at most :data:`MAX_LAYERS` main-path conv layers."""
        layers = 1 + bool(self.head) + sum(st.L[1] * _layers_per_block(st.type) for st in self.stages)
        if layers > MAX_LAYERS.most:
            raise _invalid(f"the deepest design has {layers:,} main-path conv layers, over {MAX_LAYERS}",
                           "L ranges with smaller maxima", key="stages")


def _bottlenecks_hold_steps(sp: SuperBlockFile, step: int, where: str) -> None:
    """The bottleneck widths of super-block ``sp`` (at ``where``) hold a multiple of ``step``."""
    lo, hi = btn_range(sp.btn, sp.btn_ratio, *sp.out)
    if not sp.btn_ratio:
        if not _holds_step((lo, hi), step):
            raise _invalid(f"range [{lo}, {hi}] holds no multiple of {step}", key=f"{where}.btn")
        return
    if lo > hi:
        within = f"btn {list(sp.btn)}" if sp.btn else str(MAX_WIDTH)
        raise _invalid(f"btn_ratio x out gives no bottleneck width within {within}",
                       "btn and btn_ratio x out ranges that overlap", key=f"{where}.btn_ratio")
    if not _holds_step((lo, hi), step):
        raise _invalid(f"btn_ratio x out gives bottleneck widths [{lo}, {hi}], none a multiple of {step}",
                       f"a btn_ratio that reaches a width of {step * math.ceil(lo / step)}", key=f"{where}.btn_ratio")


def _holds_step(rng: tuple[int, int], step: int) -> bool:
    """Whether ``rng`` holds a multiple of ``step``."""
    return math.ceil(rng[0] / step) <= rng[1] // step


def _layers_per_block(block_type: BlockType) -> int:
    """Main-path conv layers in one block of a super-block of ``block_type`` (read from :mod:`.metrics`)."""
    probe = Block(block_type, c_in=8, c_out=8, k=3, btn=8)
    return len(inner_block(probe, 8.0, first=False).widths)


# ------------------------------------------------------------------------------------------ errors
def _path(loc: tuple[int | str, ...]) -> str:
    """``('stages', 2, 'L')`` -> ``'stages[2].L'``."""
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else f".{part}" if out else str(part)
    return out


def _schema_at(loc: tuple[int | str, ...]) -> dict[str, Any]:
    """The JSON Schema of the value at ``loc`` (``$ref`` and ``X or null`` resolved)."""
    root = _json_schema()
    node = _resolved(root, root)
    for part in loc:
        node = node.get("items", {}) if isinstance(part, int) else node.get("properties", {}).get(part, {})
        node = _resolved(node, root)
    return node


def _resolved(node: dict[str, Any], root: dict[str, Any]) -> dict[str, Any]:
    """``node`` with references followed and ``anyOf: [X, null]`` read as X, marked ``nullable``."""
    while True:
        if "$ref" in node:
            node = root["$defs"][node["$ref"].rsplit("/", 1)[-1]]
            continue
        options = [o for o in node.get("anyOf", ()) if o.get("type") != "null"]
        if len(options) != 1:
            return node
        node = {**options[0], "nullable": True}


_KINDS = {"number": ("a number", "numbers"), "integer": ("an integer", "integers"), "string": ("a string", "strings"),
          "object": ("a mapping", "mappings")}
_BOUNDS = (("exclusiveMinimum", ">"), ("minimum", ">="), ("exclusiveMaximum", "<"), ("maximum", "<="))


def _described(node: dict[str, Any], plural: bool = False) -> str | None:
    """What the schema ``node`` accepts, in words: ``a number >= 0 and < 1``, ``a list of numbers >= 0``."""
    kind = node.get("type", "")
    if kind == "array":
        items = _resolved(node.get("items", {}), _json_schema())
        said = f"a {'non-empty ' if node.get('minItems') else ''}list of {_described(items, plural=True)}"
    elif kind in _KINDS:
        said = _KINDS[kind][plural]
        if kind == "object":
            said = f"{node.get('title', '').lower()} {said}".strip()
    else:
        return node.get("description")
    bounds = " and ".join(f"{sign} {number(node[key])}" for key, sign in _BOUNDS if key in node)
    return " ".join(filter(None, (said, bounds))) + (" or null" if node.get("nullable") else "")


_SAID = {"too_short": "must not be empty", "int_type": "expected an integer", "float_type": "expected a number",
         "string_type": "expected a string", "list_type": "expected a list"}


def _wording(err: Any) -> tuple[str, str | None]:
    """``(problem, valid)`` of one of pydantic's own errors, what is valid read from the JSON Schema."""
    kind, got, loc = err["type"], err.get("input"), err["loc"]
    valid = _described(_schema_at(loc))
    if kind == "missing":
        return "missing", _PRESET_HINT if len(loc) == 1 else valid
    if kind == "model_type":
        return f"expected a mapping, got {type(got).__name__}", None
    if kind == "finite_number":
        return f"{quoted(got)} is not a finite number", valid
    if kind in ("greater_than", "greater_than_equal", "less_than", "less_than_equal"):
        return f"{quoted(got)} is out of range", valid
    return f"{_SAID.get(kind, err['msg'])}, got {quoted(got)}", valid


def design_error(error: ValidationError) -> DesignError:
    """The first error of a failed validation as a one-line :class:`DesignError`."""
    err = error.errors(include_url=False)[0]
    where, ctx = _path(err["loc"]), err.get("ctx") or {}
    if err["type"] == "unknown_key":  # at the top level: problem.<key>
        return DesignError(f"{where or 'problem'}.{ctx['key']}", "unknown key", ctx["valid"])
    if err["type"] == "design":
        where = ".".join(filter(None, (where, ctx.get("key"))))
        return DesignError(where or "problem", ctx["problem"], ctx.get("valid"))
    return DesignError(where or "problem", *_wording(err))


def validate_problem(data: Any) -> ProblemFile:
    """``data`` (a mapping read from a problem file) validated, or the :class:`DesignError` of its first fault."""
    if not isinstance(data, dict):
        raise DesignError("problem", "expected a mapping with stem, stages, budgets")
    try:
        return ProblemFile.model_validate(data)
    except ValidationError as e:
        raise design_error(e) from None


# ------------------------------------------------------------------------------------- JSON Schema
class _Untitled(GenerateJsonSchema):
    """Pydantic's JSON Schema without the titles it makes up from field names ("Latency Ms")."""

    def field_title_should_be_set(self, schema: Any) -> bool:
        return False


@functools.cache
def _json_schema() -> dict[str, Any]:
    return ProblemFile.model_json_schema(schema_generator=_Untitled)


def problem_json_schema() -> dict[str, Any]:
    """The JSON Schema of a problem file (what ``docs/problem.schema.json`` holds)."""
    return {"$schema": "https://json-schema.org/draft/2020-12/schema", **copy.deepcopy(_json_schema())}


def write_json_schema(path: str | Path = SCHEMA_FILE) -> Path:
    """Write :func:`problem_json_schema` to ``path`` (default: the repository's docs/problem.schema.json)."""
    path = Path(path)
    path.write_text(json.dumps(problem_json_schema(), indent=2) + "\n")
    return path


if __name__ == "__main__":
    print(write_json_schema(*sys.argv[1:2]))
