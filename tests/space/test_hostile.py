"""Hostile input to the design space: problem files, architectures and TinyNAS structure files, broken at
random (tests/hostile.py), give a valid answer or one :class:`DesignError` line, never another exception or
a hang; and the limits of space/limits.py, stated once, are what every check and the docs say."""
from __future__ import annotations

import json
import math
import pprint
import re
from importlib import resources
from pathlib import Path

import pytest
import yaml
from hostile import (
    ARCHITECTURE,
    HOSTILE,
    PROBLEMS,
    architectures,
    garbage,
    garbled,
    json_texts,
    one_line_error,
    problems,
    structures,
    valid_blocks,
)
from hypothesis import given
from hypothesis import strategies as st

from deepmad_pyomo.errors import DesignError
from deepmad_pyomo.fileio import parse_yaml
from deepmad_pyomo.space import arch as A
from deepmad_pyomo.space import limits, tinynas
from deepmad_pyomo.space import metrics as M
from deepmad_pyomo.space import problem as P

DOCS = Path(__file__).resolve().parents[2] / "docs"
SMALL = A.Architecture.from_dict(ARCHITECTURE)
R18 = P.preset("deepmad-r18")
R18_ARCH = A.load(Path(str(resources.files("deepmad_pyomo.space").joinpath("released", "deepmad-R18.txt"))))


def _problem_or_error(data: object) -> P.DesignProblem | None:
    try:
        return P.DesignProblem.from_dict(data)
    except DesignError as e:
        one_line_error(e)
        return None


def _architecture_or_error(load: object, *args: object) -> A.Architecture | None:
    try:
        return load(*args)  # type: ignore[operator]
    except DesignError as e:
        one_line_error(e)
        return None


def _sound(a: A.Architecture) -> None:
    """What a valid architecture must allow: metrics (an objective of -inf at worst), checks, a round trip."""
    m = M.evaluate(a)
    assert not math.isnan(m.objective) and m.objective < math.inf and m.macs > 0 and m.params > 0
    for problem in (R18, *map(P.DesignProblem.from_dict, PROBLEMS)):
        assert all(isinstance(v, str) for v in problem.check(a))
    assert A.Architecture.from_dict(a.to_dict()) == a


# ---------------------------------------------------------------------------------------- problems
@HOSTILE
@given(problems())
def test_problem_mappings(data):
    problem = _problem_or_error(data)
    if problem is not None:
        assert P.DesignProblem.from_dict(problem.to_dict()) == problem
        for a in (SMALL, R18_ARCH):
            assert all(isinstance(v, str) for v in problem.check(a))


@HOSTILE
@given(st.one_of(problems().map(lambda d: yaml.safe_dump(d, allow_unicode=True)), st.text(max_size=200),
                 st.sampled_from([yaml.safe_dump(p) for p in PROBLEMS]).flatmap(garbled)))
def test_problem_yaml_text(tmp_path_factory, text):
    path = tmp_path_factory.mktemp("p") / "problem.yaml"
    path.write_text(text)
    try:
        P.load_problem(path)
    except DesignError as e:
        one_line_error(e)


@HOSTILE
@given(garbage)
def test_problem_of_garbage(data):
    _problem_or_error(data)


@pytest.mark.parametrize("text,field,hint", [
    ("budgets: {flops: .nan}", "budgets.flops", "not a finite number"),
    ("budgets: {flops: .inf}", "budgets.flops", "not a finite number"),
    ("budgets: {flops: 1e300}", "budgets.flops", "MAX_MACS"),
    ("budgets: {params: 1e300}", "budgets.params", "MAX_PARAMS"),
    ("stages: [{type: k1kxk1, s: 2, out: [16, 64], btn: [8, 16], L: [1, 100000]}]", "stages[0].L", "MAX_DEPTH"),
    ("stages: [{type: k1kxk1, s: 2, out: [16, 99999], btn: [8, 16], L: [1, 2]}]", "stages[0].out", "MAX_WIDTH"),
    ("stages: [{type: k1kxk1, s: 2, out: [16, 64], btn: [8, .inf], L: [1, 2]}]", "stages[0].btn", "finite"),
    ("stages: [{type: k1kxk1, s: 2, out: [16, 64], btn: [9, 15], L: [1, 2]}]", "stages[0].btn",
     "range [9, 15] holds no multiple of 8"),
    ("stages: [{type: k1kxk1, s: 2, out: [16, 64], btn_ratio: [0.01, 0.05], L: [1, 2]}]", "stages[0].btn_ratio",
     "btn_ratio x out gives bottleneck widths [1, 3], none a multiple of 8"),
    ("stages: [{type: k1kxk1, s: 2, out: [16, 64], btn: [64, 64], btn_ratio: [0.1, 0.5], L: [1, 2]}]",
     "stages[0].btn_ratio", "no bottleneck width within btn [64, 64]"),
    ("stages: [{type: k1dwk1, s: 2, out: [16384, 16384], btn_ratio: [2, 6], L: [1, 2]}]", "stages[0].btn_ratio",
     "no bottleneck width within MAX_WIDTH"),
    ("stages: [{type: k1kxk1, s: 2, out: [16, 64], btn_ratio: [0.1, 1e9], L: [1, 2]}]", "stages[0].btn_ratio",
     "MAX_BTN_RATIO"),
    ("stages: [{type: k1kxk1, s: 2, out: [16, 64], btn: [8, 16], L: [1, 2], k: [33]}]", "stages[0].k", "MAX_KERNEL"),
    ("stages: [{type: k1kxk1, s: 1, out: [16, 64], btn: [8, 16], L: [1, 256]}, "
     "{type: k1kxk1, s: 1, out: [16, 64], btn: [8, 16], L: [1, 256]}, "
     "{type: k1kxk1, s: 1, out: [16, 64], btn: [8, 16], L: [1, 256]}]", "stages", "MAX_LAYERS"),
    ("stem: {out: [33, 39], s: 2}", "stem.out", "range [33, 39] holds no multiple of 8"),
    ("head: {out: [33, 39]}", "head.out", "range [33, 39] holds no multiple of 8"),
    ("resolution: 8192", "resolution", "MAX_RESOLUTION"),
    ("resolution: true", "resolution", "expected an integer"),
    ("num_classes: 10000000", "num_classes", "MAX_CLASSES"),
    ("width_step: 100000", "width_step", "MAX_WIDTH"),
    ("objective: {beta: 1e300}", "objective.beta", "MAX_WEIGHT"),
    ("objective: {alpha: [1, 1, 1e9]}", "objective.alpha[2]", "MAX_WEIGHT"),
])
def test_problem_sizes_and_numbers(text, field, hint):
    """Each size limit and non-finite number, refused naming the field and what is wrong."""
    data = {**PROBLEMS[0], **parse_yaml(text, "p.yaml")}
    data["objective"] = {**PROBLEMS[0]["objective"], **data["objective"]}
    with pytest.raises(DesignError) as e:
        P.DesignProblem.from_dict(data)
    assert e.value.field == field and hint in str(e.value), str(e.value)
    one_line_error(e.value)


def test_yaml_exponents_are_numbers_and_quoted_ones_are_not():
    data = parse_yaml("budgets: {flops: 1.82e9, params: 4e9}", "p.yaml")
    assert data["budgets"] == {"flops": 1.82e9, "params": 4e9}
    with pytest.raises(DesignError, match="expected a number"):
        P.DesignProblem.from_dict({**PROBLEMS[0], "budgets": {"flops": "1.82e9"}})


def test_recursive_and_deep_yaml():
    for text in ("a: &a [*a]", "stem: &s {out: *s}", "[" * 50_000, "budgets: " + "{a: " * 5000):
        try:
            P.DesignProblem.from_dict(parse_yaml(text, "p.yaml"))
        except DesignError as e:
            one_line_error(e)


# ----------------------------------------------------------------------------------- architectures
@HOSTILE
@given(architectures())
def test_architecture_mappings(data):
    a = _architecture_or_error(A.Architecture.from_dict, data)
    if a is not None:
        _sound(a)


@HOSTILE
@given(json_texts(architectures()))
def test_architecture_json_text(tmp_path_factory, text):
    path = tmp_path_factory.mktemp("a") / "arch.json"
    path.write_text(text)
    a = _architecture_or_error(A.load, path)
    if a is not None:
        _sound(a)


@HOSTILE
@given(st.one_of(structures().map(pprint.pformat), st.text(max_size=200),
                 st.sampled_from([tinynas.dumps(SMALL)]).flatmap(garbled)))
def test_structure_text(text):
    a = _architecture_or_error(tinynas.loads, text)
    if a is not None:
        _sound(a)


@HOSTILE
@given(valid_blocks())
def test_metrics_of_any_valid_architecture(a):
    """Depths up to MAX_DEPTH: the depth penalty may be beyond a float, the objective -inf, never an error."""
    for mode in M.MODES:
        m = M.evaluate(a, M.ObjectiveSettings(mode=mode))
        assert m.depth_penalty >= 0 and not math.isnan(m.objective)
        assert math.isfinite(m.score) and math.isfinite(m.rho)


@pytest.mark.parametrize("row,field,hint", [
    ({"out": math.nan}, "blocks[1].out", "not a finite number"),
    ({"out": math.inf}, "blocks[1].out", "not a finite number"),
    ({"out": True}, "blocks[1].out", "expected a positive integer, got True"),
    ({"out": 64.9}, "blocks[1].out", "expected a positive integer, got 64.9"),
    ({"out": "32"}, "blocks[1].out", "expected a positive integer"),
    ({"out": 10 ** 400}, "blocks[1].out", "MAX_WIDTH"),
    ({"btn": 99999}, "blocks[1].btn", "MAX_WIDTH"),
    ({"L": 100000}, "blocks[1].L", "MAX_DEPTH"),
    ({"k": 33}, "blocks[1].k", "MAX_KERNEL"),
    ({"s": 10 ** 100}, "blocks[1].s", "valid: 1 or 2"),
    ({"type": ["k1kxk1"]}, "blocks[1].type", "unknown block type"),
])
def test_architecture_fields(row, field, hint):
    data = json.loads(json.dumps(ARCHITECTURE))
    data["blocks"][1].update(row)
    with pytest.raises(DesignError) as e:
        A.Architecture.from_dict(data)
    assert e.value.field == field and hint in str(e.value), str(e.value)
    one_line_error(e.value)


@pytest.mark.parametrize("change,field,hint", [
    ({"resolution": 8192}, "resolution", "MAX_RESOLUTION"),
    ({"resolution": math.nan}, "resolution", "not a finite number"),
    ({"num_classes": 10 ** 7}, "num_classes", "MAX_CLASSES"),
    ({"blocks": ARCHITECTURE["blocks"][:1] * 65}, "architecture.blocks", "MAX_BLOCKS"),
    ({"meta": [1]}, "architecture.meta", "expected an object"),
    ({"colour": "red"}, "architecture.colour", "unknown key"),
])
def test_architecture_top_level(change, field, hint):
    with pytest.raises(DesignError) as e:
        A.Architecture.from_dict({**ARCHITECTURE, **change})
    assert e.value.field == field and hint in str(e.value), str(e.value)


def test_architectures_made_in_python_are_checked_too():
    b = SMALL.blocks
    for changes, field in (({"L": 10 ** 6}, "blocks[1].L"), ({"c_out": True}, "blocks[1].out"),
                           ({"k": 99}, "blocks[1].k")):
        with pytest.raises(DesignError) as e:
            A.Architecture((b[0], A.Block(**{**b[1].__dict__, **changes}), *b[2:]))
        assert e.value.field == field
    with pytest.raises(DesignError, match="resolution"):
        SMALL.with_(resolution=math.inf)


@pytest.mark.parametrize("text,field", [
    ("[" * 100_000, "structure file"),
    ("9" * 5000, "structure file"),
    ("[{'class': ['ConvKXBNRELU']}]", "block 0.class"),
    ("[{'class': 'ConvKXBNRELU', 'in': 3, 'out': 1e999, 'k': 3, 's': 2}]", "block 0.out"),
    ("[{'class': 'ConvKXBNRELU', 'in': 3, 'out': float('nan'), 'k': 3, 's': 2}]", "structure file"),
    ("[{'class': 'ConvKXBNRELU', 'in': 3, 'out': 16, 'k': 3, 's': 2}, {'class': 'SuperResK1KXK1', 'in': 16, "
     "'out': 16, 'btn': 8, 'k': 3, 's': 1, 'L': 100000}]", "block 1.L"),
    ("[" + "{'class': 'ConvKXBNRELU', 'in': 8, 'out': 8, 'k': 3, 's': 1}, " * 65 + "]", "structure file"),
])
def test_structure_files(text, field):
    with pytest.raises(DesignError) as e:
        tinynas.loads(text)
    assert e.value.field == field, str(e.value)
    one_line_error(e.value)


# ---------------------------------------------------------------------------------------- overflow
def test_depth_penalty_beyond_a_float_is_inf():
    settings = M.ObjectiveSettings()
    assert M.depth_penalty_value([1, 100], settings) == math.inf
    assert M.depth_penalty_value([1, 100], M.ObjectiveSettings(beta=0)) == 0
    assert math.isfinite(M.depth_penalty_value([1, 256], M.ObjectiveSettings(mode="tinynas")))
    deep = SMALL.with_(blocks=(*SMALL.blocks[:2], A.Block("kxkx", 32, 48, 5, 2, 16, 200), *SMALL.blocks[3:]))
    m = M.evaluate(deep)
    assert m.objective == -math.inf and m.depth_penalty == math.inf and math.isfinite(m.score)


# ------------------------------------------------------------------------------------------ limits
def test_limits_are_stated_in_the_docs():
    """Every limit of space/limits.py, with its value, in docs/problems.md or docs/architecture-format.md."""
    docs = (DOCS / "problems.md").read_text() + (DOCS / "architecture-format.md").read_text()
    for limit in limits.LIMITS:
        row = re.search(rf"`{limit.name}`\s*\|\s*([^|]+)\|", docs)
        assert row, f"{limit.name} is not in the docs' table of limits"
        assert row.group(1).strip().replace(",", "") in (str(limit.most), limits.number(limit.most)), row.group(0)


def test_messages_quote_little():
    assert len(limits.quoted("x" * 10 ** 6)) <= limits.QUOTED_CHARS
    assert limits.quoted(10 ** 5000).startswith("<a ")
    nested: list = []
    for _ in range(9):
        nested = [nested] * 9  # 9^9 leaves by reference
    assert len(limits.quoted(nested)) <= limits.QUOTED_CHARS


@pytest.mark.parametrize("value,hint", [(math.inf, "not a finite number"), (math.nan, "not a finite number"),
                                        (True, "not a finite number"), (1e300, "MAX_MACS")])
def test_budgets_made_in_python_are_checked(value, hint):
    """``with_budgets(flops=inf)`` is no 'no budget': refused like the same value in a file."""
    with pytest.raises(DesignError) as e:
        R18.with_budgets(flops=value)
    assert e.value.field == "budgets.flops" and hint in str(e.value)
    assert R18.with_budgets(flops=None).budgets.flops is None
