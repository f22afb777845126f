"""Unit tests of the foundation: architectures (blocks.py, arch.py), TinyNAS structure files (tinynas.py),
design problems (problem.py, schema.py) and the metrics (metrics.py), with the regression vectors of the
released structures (docs/counting.md)."""
from __future__ import annotations

import json
import math
from importlib import resources
from types import SimpleNamespace

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from deepmad_pyomo.errors import DesignError, InfeasibleError
from deepmad_pyomo.fileio import read_yaml
from deepmad_pyomo.space import arch as A
from deepmad_pyomo.space import metrics as M
from deepmad_pyomo.space import problem as P
from deepmad_pyomo.space import tinynas as tinynas_io

RELEASED = resources.files("deepmad_pyomo.space").joinpath("released")

# The released structures, one row per block (docs/architecture-format.md).
DESCRIBE = {
    "deepmad-R18": "conv 3->32 k3 s2 | k1kxk1 32->96 btn40 k5 s2 L1 | k1kxk1 96->384 btn40 k5 s2 L6 | "
                   "k1kxk1 384->384 btn64 k5 s2 L9 | k1kxk1 384->1024 btn104 k3 s1 L10 | "
                   "k1kxk1 1024->672 btn104 k5 s2 L12",
    "deepmad-R50": "conv 3->32 k3 s2 | k1kxk1 32->128 btn40 k5 s2 L1 | k1kxk1 128->512 btn48 k5 s2 L11 | "
                   "k1kxk1 512->872 btn88 k5 s2 L12 | k1kxk1 872->1024 btn104 k5 s1 L13 | "
                   "k1kxk1 1024->1232 btn120 k5 s2 L15",
    "deepmad-29M-224": "conv 3->40 k3 s2 | k1dwsek1 40->40 btn240 k5 s1 L2 | k1dwsek1 40->85 btn512 k5 s2 L4 | "
                       "k1dwsek1 85->134 btn800 k5 s2 L6 | k1dwsek1 134->201 btn1208 k5 s2 L6 | "
                       "k1dwsek1 201->312 btn1872 k5 s2 L5 | conv 312->1792 k1 s1",
}
# Their tinynas-mode figures, computed with the official code's own functions (docs/counting.md), at the
# precision given there.
VECTORS = {
    "deepmad-R18": dict(params_nofc=11.153e6, flops=1.837e9, conv_macs=1.811e9, layers=115, rho=0.2991,
                        score=32120.20, penalty=34.81, rho0=0.3),
    "deepmad-R50": dict(params_nofc=24.208e6, params_fc=25.441e6, flops=4.087e9, conv_macs=4.042e9, layers=157,
                        rho=0.2998, score=48919.28, penalty=34.81, rho0=0.3,
                        stages=[21.26, 111.98, 1323.61, 4178.82, 43283.60]),
    "deepmad-29M-224": dict(params_nofc=26.877e6, params_fc=28.670e6, flops=4.449e9, conv_macs=4.322e9,
                            layers=71, rho=0.4965, score=11915.37, penalty=44.67, rho0=0.5),
}


def released(name: str) -> A.Architecture:
    return A.load(str(RELEASED.joinpath(f"{name}.txt")))


def small_arch(**kw) -> A.Architecture:
    blocks = (A.Block("conv", 3, 16, 3, 2), A.Block("k1kxk1", 16, 32, 3, 2, btn=8, L=2),
              A.Block("k1kxk1", 32, 64, 5, 2, btn=16, L=3))
    return A.Architecture(blocks=kw.pop("blocks", blocks), **{"resolution": 32, **kw})


# ------------------------------------------------------------------------------------------- arch
def test_json_round_trip_in_memory_and_on_disk(tmp_path):
    a = released("deepmad-29M-224").with_(meta={"note": "x"})
    b = A.Architecture.from_dict(json.loads(a.to_json()))
    assert b == a and b.meta == {"note": "x"} and b.to_dict() == a.to_dict()
    path = tmp_path / "sub" / "a.json"
    A.save(a, path)
    assert A.load(path) == a
    assert A.load(path, resolution=256).resolution == 256


def test_describe_matches_design_notes():
    for name, line in DESCRIBE.items():
        assert released(name).describe() == line


def test_from_dict_accepts_bare_block_list():
    a = A.Architecture.from_dict([b.to_dict() for b in small_arch().blocks], resolution=32)
    assert a.blocks == small_arch().blocks


def _blocks_dict(changes):
    d = small_arch().to_dict()
    for (i, key), v in changes.items():
        if v is None:
            d["blocks"][i].pop(key)
        else:
            d["blocks"][i][key] = v
    return d


@pytest.mark.parametrize("changes,field,hint", [
    ({(1, "type"): "resnext"}, "blocks[1].type", "valid: conv, k1kxk1"),
    ({(2, "in"): 48}, "blocks[2].in", "does not chain"),
    ({(1, "out"): 0}, "blocks[1].out", "must be positive"),
    ({(1, "out"): -8}, "blocks[1].out", "must be positive"),
    ({(1, "k"): 2.5}, "blocks[1].k", "positive integer"),
    ({(1, "btn"): None}, "blocks[1].btn", "missing"),
    ({(1, "k"): 4}, "blocks[1].k", "must be odd"),
    ({(1, "s"): 3}, "blocks[1].s", "1 or 2"),
    ({(0, "type"): "k1kxk1", (0, "btn"): 8}, "blocks[0].type", "stem"),
    ({(0, "L"): 2}, "blocks[0].L", "no depth"),
    ({(1, "groups"): 2}, "blocks[1].groups", "unknown key"),
    ({(1, "in"): None}, "blocks[1].in", "missing"),
])
def test_validation_names_the_field(changes, field, hint):
    with pytest.raises(DesignError) as e:
        A.Architecture.from_dict(_blocks_dict(changes))
    assert str(e.value).startswith(field + ":") and hint in str(e.value)
    assert e.value.field == field and "\n" not in str(e.value)


@pytest.mark.parametrize("data,field", [
    ({"resolution": 4}, "resolution"),       # vanishes after 3 stride-2 blocks
    ({"resolution": 36}, "resolution"),      # does not halve evenly
    ({"resolution": 0}, "resolution"),
    ({"num_classes": -1}, "num_classes"),
    ({"format": "other/v9"}, "architecture.format"),
    ({"blocks": []}, "architecture.blocks"),
])
def test_architecture_level_errors(data, field):
    d = {**small_arch().to_dict(), **data}
    with pytest.raises(DesignError) as e:
        A.Architecture.from_dict(d)
    assert e.value.field == field


def test_load_errors_name_the_file(tmp_path):
    with pytest.raises(DesignError, match="cannot read file"):
        A.load(tmp_path / "missing.json")
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    with pytest.raises(DesignError, match="not valid JSON"):
        A.load(bad)


def test_design_error_and_infeasible_error_messages():
    e = DesignError("budgets.flops", "must be positive", "a number > 0")
    assert str(e) == "budgets.flops: must be positive (valid: a number > 0)"
    inf = InfeasibleError("budgets", "no feasible architecture", {"flops": 1.5e9})
    assert isinstance(inf, DesignError) and "flops >= 1.5e+09" in str(inf)


# ------------------------------------------------------------------------------------- tinynas_io
@pytest.mark.parametrize("name", sorted(DESCRIBE))
def test_loads_released_files(name):
    a = released(name)
    assert a.name == name and a.resolution == 224 and a.num_classes == 1000
    assert a.describe() == DESCRIBE[name]


@pytest.mark.parametrize("name", sorted(DESCRIBE))
def test_tinynas_dumps_round_trip(name):
    a = released(name)
    text = tinynas_io.dumps(a)
    assert tinynas_io.looks_like_tinynas(text)
    assert tinynas_io.loads(text, name=name) == a


@pytest.mark.parametrize("text", [
    "__import__('os').system('x')",
    "{'best_structures': [[__import__('os').system('touch pwned')]], 'space_arch': 'CnnNet'}",
    "[{'class': 'ConvKXBNRELU', 'in': 3, 'out': eval('8'), 'k': 3, 's': 2}]",
    "exec('import os')",
])
def test_rejects_code(text, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(DesignError, match="not a Python literal"):
        tinynas_io.loads(text)
    f = tmp_path / "evil.txt"
    f.write_text(text if "class" in text else "{'class': 1}\n" + text)
    with pytest.raises(DesignError):
        A.load(f)
    assert not (tmp_path / "pwned").exists()


def test_accepts_bare_list_of_block_dicts():
    text = repr(tinynas_io.to_structures(small_arch()))
    a = tinynas_io.loads(text, resolution=32)
    assert a.blocks == small_arch().blocks


@pytest.mark.parametrize("text,field", [
    ("[{'class': 'ConvKXBNRELU', 'in': 3, 'out': 8, 'k': 3, 's': 2}, {'class': 'Foo'}]", "block 1.class"),
    ("[{'class': 'ConvKXBNRELU', 'in': 3, 'out': 8, 'k': 3, 's': 2, 'nbitsA': 8}]", "block 0.nbitsA"),
    ("[{'class': 'ConvKXBNRELU', 'in': 3, 'out': 8, 'k': 3, 's': 2, 'g': 2}]", "block 0.g"),
    ("[{'class': 'ConvKXBNRELU', 'in': 3, 'out': 8, 'k': 3, 's': 2, 'p': 0}]", "block 0.p"),
    ("[{'class': 'ConvKXBNRELU', 'in': 3, 'out': 8, 'k': 3, 's': 2}, {'class': 'SuperResK1KXK1', 'in': 8, "
     "'out': 16, 'btn': 8, 'k': 3, 's': 2}]", "block 1.L"),
    ("{'best_structures': [], 'space_arch': 'CnnNet'}", "best_structures"),
    ("{'best_structures': [[]], 'space_arch': 'Other'}", "space_arch"),
    ("[]", "structure file"),
])
def test_tinynas_errors_name_the_field(text, field):
    with pytest.raises(DesignError) as e:
        tinynas_io.loads(text)
    assert e.value.field == field


# ---------------------------------------------------------------------------------------- problem
@pytest.mark.parametrize("name", P.PRESETS)
def test_presets_load_and_round_trip(name):
    prob = P.preset(name)
    assert prob.name == name and prob.budgets.flops > 0 and prob.budgets.params > 0
    family = {st.type for st in prob.stages}
    assert prob.objective.rho0 == (0.3 if family == {"k1kxk1"} else 0.5)
    assert P.DesignProblem.from_dict(prob.to_dict()) == prob
    assert P.DesignProblem.from_dict(yaml.safe_load(yaml.safe_dump(json.loads(json.dumps(prob.to_dict()))))) == prob
    assert P.preset(name.upper()) == prob


def test_preset_budgets_match_the_paper():
    want = {"deepmad-r18": (1.82e9, 11.69e6, 224), "deepmad-r34": (3.68e9, 21.80e6, 224),
            "deepmad-r50": (4.13e9, 25.55e6, 224), "deepmad-29m": (4.5e9, 29e6, 224),
            "deepmad-29m-288": (4.5e9, 29e6, 288), "deepmad-50m": (8.7e9, 50e6, 224),
            "deepmad-89m": (15.4e9, 89e6, 224)}
    for name, (flops, params, res) in want.items():
        prob = P.preset(name)
        assert (prob.budgets.flops, prob.budgets.params, prob.resolution) == pytest.approx((flops, params, res))


def test_unknown_preset():
    with pytest.raises(DesignError) as e:
        P.preset("deepmad-r101")
    assert e.value.field == "preset" and "deepmad-r50" in str(e.value)


def _r50_dict():
    return P.preset("deepmad-r50").to_dict()


@pytest.mark.parametrize("mutate,field", [
    (lambda d: d.pop("stem"), "stem"),
    (lambda d: d.update(colour="red"), "problem.colour"),
    (lambda d: d["stages"][1].update(type="resnext"), "stages[1].type"),
    (lambda d: d["stages"][1].update(s=3), "stages[1].s"),
    (lambda d: d["stages"][1].update(out=[512, 64]), "stages[1].out"),
    (lambda d: d["stages"][1].update(L=[0, 3]), "stages[1].L"),
    (lambda d: d["stages"][1].update(k=[4]), "stages[1].k"),
    (lambda d: (d["stages"][1].pop("btn_ratio"), d["stages"][1].pop("btn", None)), "stages[1].btn"),
    (lambda d: d["budgets"].update(flops=-1), "budgets.flops"),
    (lambda d: d["budgets"].update(latency_ms=5), "budgets.latency_model"),
    (lambda d: d["objective"].update(alpha=[1, 1, 8]), "objective.alpha"),
    (lambda d: d["objective"].update(mode="fast"), "objective.mode"),
    (lambda d: d["objective"].update(rho0=0), "objective.rho0"),
    (lambda d: d.update(resolution=100), "resolution"),
    (lambda d: d.update(stages=[]), "stages"),
])
def test_problem_from_dict_errors(mutate, field):
    d = _r50_dict()
    mutate(d)
    with pytest.raises(DesignError) as e:
        P.DesignProblem.from_dict(d)
    assert e.value.field == field


@pytest.mark.parametrize("mutate,field,hint", [
    (lambda d: d["budgets"].update(flops=float("nan")), "budgets.flops", "finite"),
    (lambda d: d["budgets"].update(params=float("inf")), "budgets.params", "finite"),
    (lambda d: d["stages"][0].update(out=[32, float("inf")]), "stages[0].out", "finite"),
    (lambda d: d["stages"][0].update(btn_ratio=[float("nan"), 1]), "stages[0].btn_ratio", "finite"),
    (lambda d: d["stages"][2].update(L=[1.5, 10.7]), "stages[2].L", "whole numbers"),
    (lambda d: d["stages"][1].update(out=[64.9, 128]), "stages[1].out", "whole numbers"),
    (lambda d: d["stages"][0].update(s=True), "stages[0].s", "valid: 1 or 2"),
    (lambda d: d["stages"][0].update(k=[True]), "stages[0].k", "odd kernel sizes"),
    (lambda d: d["stem"].update(k=True), "stem.k", "odd kernel sizes"),
    (lambda d: d.update(budgets=None), "budgets", "valid: at least one of flops, params, layers, latency_ms"),
    (lambda d: d.update(budgets={}), "budgets", "valid: at least one of flops, params, layers, latency_ms"),
    (lambda d: d["budgets"].update(flops="1.82e9"), "budgets.flops", "expected a number"),
    (lambda d: d["budgets"].update(layers=True), "budgets.layers", "valid: an integer > 0"),
    (lambda d: d["budgets"].update(latency_margin=1.0, latency_ms=5, latency_model="m.json"),
     "budgets.latency_margin", "valid: a number >= 0 and < 1"),
    (lambda d: d["objective"].update(alpha=[1, 1, -1, 1, 8]), "objective.alpha[2]", "valid: a number >= 0"),
    (lambda d: d["stages"][3].update(colour="red"), "stages[3].colour", "valid: L, btn, btn_ratio, k, out, s, type"),
    (lambda d: d["stages"].__setitem__(1, 5), "stages[1]", "expected a mapping, got int"),
    (lambda d: d["stages"][4].pop("out"), "stages[4].out", "missing"),
    (lambda d: d.update(max_width_ratio=0.5), "max_width_ratio", "valid: a number >= 1 or null"),
    (lambda d: d.update(name=5), "name", "expected a string"),
])
def test_problem_schema_is_strict(mutate, field, hint):
    d = _r50_dict()
    mutate(d)
    with pytest.raises(DesignError) as e:
        P.DesignProblem.from_dict(d)
    assert e.value.field == field and hint in str(e.value), str(e.value)
    assert "\n" not in str(e.value)


def test_problem_accepts_whole_floats_and_single_values():
    d = _r50_dict()
    d["stages"][0].update(out=64.0, L=[1.0, 3], k=5)
    d["resolution"] = 224.0
    prob = P.DesignProblem.from_dict(d)
    assert (prob.stages[0].out, prob.stages[0].L, prob.stages[0].k, prob.resolution) == ((64, 64), (1, 3), (5,), 224)
    assert isinstance(prob.resolution, int) and prob.stages[0].type == "k1kxk1" and prob.mode == "paper"


def test_numbers_keep_the_type_they_were_written_in():
    """``beta: 10`` reads back as 10, not 10.0: batch runs resume on a digest of ``to_dict``'s JSON."""
    d = P.preset("deepmad-r50").to_dict()
    assert type(d["objective"]["beta"]) is int and type(d["max_width_ratio"]) is int
    assert type(d["budgets"]["flops"]) is float and type(d["objective"]["rho0"]) is float
    assert json.dumps(P.DesignProblem.from_dict(d).to_dict()) == json.dumps(d)


def test_yaml_numbers_in_exponent_form(tmp_path):
    """YAML 1.1 reads 1.82e9 and 4e9 as strings; problem files read them as the numbers they are."""
    text = yaml.safe_dump(json.loads(json.dumps(_r50_dict())), sort_keys=False)
    text = text.replace("flops: 4130000000.0", "flops: 4.13e9").replace("params: 25550000.0", "params: 2555e4")
    assert "4.13e9" in text and "2555e4" in text and yaml.safe_load(text)["budgets"]["flops"] == "4.13e9"
    f = tmp_path / "p.yaml"
    f.write_text(text)
    assert P.load_problem(f) == P.preset("deepmad-r50")
    assert read_yaml("[1e9, 1.5E-3, -2e+2, 1.0, e9, 1e, '3e4']") == [1e9, 1.5e-3, -200.0, 1.0, "e9", "1e", "3e4"]


def test_json_schema_file_is_the_generators_output():
    from deepmad_pyomo.space import schema

    committed = json.loads(schema.SCHEMA_FILE.read_text())
    assert committed == schema.problem_json_schema(), "stale: python -m deepmad_pyomo.space.schema"
    assert committed["required"] == ["stem", "stages", "budgets"]
    assert committed["additionalProperties"] is False


def test_example_problem_file_loads():
    from deepmad_pyomo.space import schema

    path = schema.SCHEMA_FILE.parents[1] / "examples" / "my_problem.yaml"
    prob = P.load_problem(path)
    assert prob.name == "my-problem" and prob.budgets.flops == 6e8 and prob.head is not None
    assert P.DesignProblem.from_dict(prob.to_dict()) == prob


def test_load_problem_and_resolve(tmp_path):
    f = tmp_path / "p.yaml"
    f.write_text(yaml.safe_dump(json.loads(json.dumps(_r50_dict()))))
    assert P.load_problem(f) == P.preset("deepmad-r50")
    assert P.resolve_problem(spec=f, mode="tinynas").mode == "tinynas"
    assert P.resolve_problem("deepmad-r18").name == "deepmad-r18"
    with pytest.raises(DesignError, match="exactly one"):
        P.resolve_problem()
    bad = tmp_path / "bad.yaml"
    bad.write_text("stem: [unclosed")
    with pytest.raises(DesignError, match="not valid YAML"):
        P.load_problem(bad)
    with pytest.raises(DesignError, match="cannot read"):
        P.load_problem(tmp_path / "none.yaml")


def test_check_r18_tinynas():
    prob = P.preset("deepmad-r18").with_mode("tinynas")
    v = prob.check(released("deepmad-R18"))
    assert len(v) == 2
    assert v[0].startswith("budget flops: tinynas_flops") and "+0.95%" in v[0]
    assert v[1].startswith("blocks[5].out: 672 < blocks[4].out 1024") and "non-decreasing" in v[1]


def test_check_r50_bottleneck_below_tenth():
    for mode in ("paper", "tinynas"):
        v = P.preset("deepmad-r50").with_mode(mode).check(released("deepmad-R50"))
        assert v == ["blocks[2].btn: 48 outside [0.1, 1] x out 512", "blocks[5].btn: 120 outside [0.1, 1] x out 1232"]


def test_check_feasible_and_template_mismatch():
    spec = {"stem": {"out": [8, 32], "k": [3], "s": 2},
            "stages": [{"type": "k1kxk1", "s": 2, "out": [16, 64], "btn_ratio": [0.25, 1], "L": [1, 4], "k": [3, 5]},
                       {"type": "k1kxk1", "s": 2, "out": [32, 128], "btn_ratio": [0.25, 1], "L": [1, 4],
                        "k": [3, 5]}],
            "budgets": {"flops": 1e8, "params": 1e6}, "objective": {"alpha": [1, 1, 8], "rho0": 5},
            "resolution": 32}
    prob = P.DesignProblem.from_dict(spec)
    assert prob.check(small_arch()) == []
    tight = prob.with_budgets(flops=1000.0, params=10.0, layers=2)
    msgs = tight.check(small_arch())
    assert [m.split(":")[0] for m in msgs] == ["budget flops", "budget params", "budget layers"]
    assert P.DesignProblem.from_dict({**spec, "objective": {"alpha": [1, 1, 8], "rho0": 0.01}}).check(
        small_arch())[0].startswith("effectiveness: rho")
    with_head = small_arch(blocks=small_arch().blocks + (A.Block("conv", 64, 128, 1, 1),))
    assert prob.check(with_head)[-1] == "template: 4 blocks, the template has 3"


def test_check_reports_template_mismatch_with_other_stage_count():
    prob = P.preset("deepmad-r50")
    assert prob.check(small_arch())[-1].startswith("template:")


# ---------------------------------------------------------------------------------------- metrics
@pytest.mark.parametrize("name", sorted(VECTORS))
def test_design_vectors_tinynas_mode(name):
    v = VECTORS[name]
    a = released(name)
    m = M.evaluate(a, M.ObjectiveSettings(mode="tinynas", rho0=v["rho0"]))
    fc = a.blocks[-1].c_out * a.num_classes
    assert round(m.score, 2) == v["score"]
    assert round(m.depth_penalty, 2) == v["penalty"]
    assert round(m.rho, 4) == v["rho"]
    assert m.layers == v["layers"]
    assert round((m.macs - fc) / 1e9, 3) == v["conv_macs"] / 1e9
    assert round(m.tinynas_flops / 1e9, 3) == v["flops"] / 1e9
    assert round(m.tinynas_params / 1e6, 3) == v["params_nofc"] / 1e6
    assert m.params == m.tinynas_params + fc + a.num_classes
    if "params_fc" in v:
        assert round(m.params / 1e6, 3) == v["params_fc"] / 1e6
    if "stages" in v:
        assert [round(s, 2) for s in m.stage_entropy] == v["stages"]
    assert m.objective == pytest.approx(m.score - m.depth_penalty)
    assert m.score == pytest.approx(sum(m.stage_entropy))


def test_29m_score_without_se_bug():
    a = released("deepmad-29M-224")
    paper = M.evaluate(a, M.ObjectiveSettings(mode="paper", rho0=0.5))
    assert round(paper.score / 2, 2) == 19135.93


def test_paper_mode_is_twice_the_entropy_without_se():
    a = released("deepmad-R50")
    paper = M.evaluate(a, M.ObjectiveSettings(mode="paper"))
    compat = M.evaluate(a, M.ObjectiveSettings(mode="tinynas"))
    assert paper.score == pytest.approx(2 * compat.score)
    depths = [b.L for b in a.super_blocks]
    mean = sum(depths) / len(depths)
    assert paper.depth_penalty == pytest.approx(10 * math.exp(sum((d - mean) ** 2 for d in depths) / len(depths)))
    assert (paper.macs, paper.params, paper.layers) == (compat.macs, compat.params, compat.layers)


def test_counting_anchors_resnet50_like_bottleneck():
    """Hand-computed counts of one bottleneck super-block (MACs of each conv: cin*k^2*cout*r^2)."""
    blocks = (A.Block("conv", 3, 8, 3, 2), A.Block("k1kxk1", 8, 16, 3, 2, btn=8, L=2))
    a = A.Architecture(blocks=blocks, resolution=16, num_classes=10)
    stem = 3 * 9 * 8 * 8 ** 2
    first = 8 * 8 * 8 ** 2 + 8 * 9 * 8 * 4 ** 2 + 8 * 16 * 4 ** 2 + 8 * 16 * 4 ** 2
    rep = 16 * 8 * 4 ** 2 + 8 * 9 * 8 * 4 ** 2 + 8 * 16 * 4 ** 2
    m = M.evaluate(a, M.ObjectiveSettings(alpha=(1, 8)))
    assert m.macs == stem + first + rep + 16 * 10
    w = 3 * 9 * 8 + 8 * 8 + 8 * 9 * 8 + 8 * 16 + 8 * 16 + 16 * 8 + 8 * 9 * 8 + 8 * 16
    bn = 2 * (8 + 8 + 8 + 16 + 16 + 8 + 8 + 16)
    assert m.params == w + bn + 16 * 10 + 10
    assert m.layers == 1 + 3 * 2


def test_alpha_length_must_match_stages():
    with pytest.raises(DesignError) as e:
        M.evaluate(small_arch(), M.ObjectiveSettings(alpha=(1, 1, 1, 1, 8)))
    assert e.value.field == "alpha"
    default = M.evaluate(small_arch(), M.ObjectiveSettings())  # alpha None: 1 per stage, 8 on the last
    assert default.stage_entropy == M.evaluate(small_arch(), M.ObjectiveSettings(alpha=(1, 1, 8))).stage_entropy


def test_stage_ends():
    assert M.stage_ends([2, 2, 2, 2, 1, 2]) == [0, 1, 2, 4, 5]
    assert M.stage_ends([2, 1, 2, 2, 2, 2, 1]) == [1, 2, 3, 4, 6]


# ---------------------------------------------- one formula for numbers and for Pyomo expressions
_TYPES = ("k1kxk1", "kxkx", "k1dwk1", "k1dwsek1")


@st.composite
def architectures(draw):
    c = draw(st.integers(1, 6)) * 8
    blocks = [A.Block("conv", 3, c, draw(st.sampled_from([3, 5])), 2)]
    for _ in range(draw(st.integers(1, 4))):
        t = draw(st.sampled_from(_TYPES))
        out = draw(st.integers(1, 12)) * 8
        blocks.append(A.Block(t, c, out, draw(st.sampled_from([1, 3, 5, 7])), draw(st.sampled_from([1, 2])),
                              btn=draw(st.integers(1, 24)) * 8, L=draw(st.integers(1, 5))))
        c = out
    if draw(st.booleans()):
        blocks.append(A.Block("conv", c, draw(st.integers(1, 32)) * 8, 1, 1))
    n2 = sum(b.s == 2 for b in blocks)
    return A.Architecture(blocks=tuple(blocks), resolution=2 ** n2 * draw(st.integers(1, 7)),
                          num_classes=draw(st.integers(1, 1000)))


def _pyomo_blocks(a, use_vars):
    """Blocks whose numeric fields are Pyomo Params (mutable) or fixed Vars."""
    import pyomo.environ as pyo

    m = pyo.ConcreteModel()
    out = []
    for i, b in enumerate(a.blocks):
        def comp(name, value):
            c = (pyo.Var(initialize=value, domain=pyo.Reals) if use_vars
                 else pyo.Param(initialize=value, mutable=True))
            m.add_component(f"{name}_{i}", c)
            if use_vars:
                c.fix(value)
            return c
        out.append(SimpleNamespace(type=b.type, s=b.s, c_in=comp("cin", b.c_in), c_out=comp("cout", b.c_out),
                                   btn=comp("btn", b.btn) if b.btn else None, k2=comp("k2", b.k2),
                                   L=comp("L", b.L), se=comp("se", b.se),
                                   same_width=comp("same", b.same_width)))
    return m, out


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(a=architectures(), use_vars=st.booleans(), mode=st.sampled_from(M.MODES))
def test_network_terms_same_for_numbers_and_pyomo_expressions(a, use_vars, mode):
    from pyomo.environ import value

    num = M.network_terms(a.blocks, a.resolution, a.num_classes)
    _, pblocks = _pyomo_blocks(a, use_vars)
    expr = M.network_terms(pblocks, a.resolution, a.num_classes)
    close = dict(rel=1e-12, abs=1e-9)
    for key in ("macs", "params", "tinynas_params", "layers"):
        assert value(getattr(expr, key)) == pytest.approx(getattr(num, key), **close), key
    assert value(expr.tinynas_flops) == pytest.approx(num.tinynas_flops, **close)
    assert [value(d) for d in expr.depths] == num.depths
    assert len(expr.stages) == len(num.stages)
    for se, sn in zip(expr.stages, num.stages):
        assert (se.end, se.resolution, se.se_before) == (sn.end, sn.resolution, sn.se_before)
        assert value(se.channels) == sn.channels
        assert value(se.layers) == sn.layers
        assert value(se.log_width_sum) == pytest.approx(sn.log_width_sum, **close)
    obj = M.ObjectiveSettings(alpha=(1.0,) * (len(num.stages) - 1) + (8.0,), mode=mode)
    h_num = M.stage_entropies(num, obj)
    h_expr = M.stage_entropies(expr, obj)
    assert [value(h) for h in h_expr] == pytest.approx(h_num, **close)
    var_expr = M.depth_variance(M.penalised_depths(expr, mode))
    assert value(var_expr) == pytest.approx(M.depth_variance(M.penalised_depths(num, mode)), **close)
    for (ln, sn), (le, se) in zip(M.rho_terms(num, mode), M.rho_terms(expr, mode)):
        assert (value(le), value(se)) == pytest.approx((ln, sn), **close)
