"""Latency models: profiling writes a valid model, malformed files are refused, one formula for
numbers and Pyomo expressions, latency budgets in the MINLP, in DesignProblem.check and in the
evolutionary baseline, and the CLI functions."""
from __future__ import annotations

import argparse
import copy
import json
import math
from pathlib import Path
from dataclasses import replace

import pyomo.environ as pyo
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from deepmad_pyomo import latency as L
from deepmad_pyomo.cli.latency import (
    add_build_latency_arguments,
    add_latency_parser,
    build_latency,
    format_build_latency,
)
from deepmad_pyomo.errors import DesignError
from deepmad_pyomo.latency import ops
from deepmad_pyomo.latency.fit import nnls
from deepmad_pyomo.latency.grid import default_grid
from deepmad_pyomo.latency.ops import GROUPS, OPS, block_latency, is_pointwise
from deepmad_pyomo.mp.formulation import build_pyomo_model, load_architecture
from deepmad_pyomo.space.arch import Architecture, Block, save
from deepmad_pyomo.space.problem import DesignProblem

FAMILIES = ("k1kxk1", "kxkx", "k1dwk1", "k1dwsek1")


def synthetic_model() -> L.LatencyModel:
    """A deterministic model (every coefficient positive and distinct), no measuring needed."""
    coef = {op: {f: 0.01 * (i + 1) + 0.003 * j for j, f in enumerate(feats)}
            for i, (op, feats) in enumerate(OPS.items())}
    coef["scale"] = {f: 1.0 + 0.05 * i for i, f in enumerate(ops.FAMILIES)}
    coef["network"] = {"call": 0.02}
    return L.LatencyModel(coef, {"device": "cpu", "threads": 1, "batch": 1, "torch": "test", "clock": "thread_cpu",
                                 "malloc": "tuned"})


@pytest.fixture(scope="module")
def model_file(tmp_path_factory):
    path = tmp_path_factory.mktemp("latency") / "model.json"
    L.save(synthetic_model(), path)
    return str(path)


def problem(family: str, model_path: str | None = None, latency_ms: float | None = None,
            stem_k=(3,), **over) -> DesignProblem:
    budgets = {"flops": 6e6, "params": 0.2e6}
    if latency_ms is not None:
        budgets.update(latency_ms=latency_ms, latency_model=model_path)
    d = {"name": f"tiny-{family}", "resolution": 32, "num_classes": 10, "objective": {"mode": "tinynas", "rho0": 0.5},
         "budgets": budgets, "stem": {"out": [16, 24], "k": list(stem_k), "s": 1},
         "stages": [{"type": family, "s": 2, "out": [16, 40], "btn_ratio": [0.25, 1], "L": [1, 3], "k": [3, 5]},
                    {"type": family, "s": 2, "out": [32, 48], "btn_ratio": [0.25, 1], "L": [1, 3], "k": [3]}]}
    if family.startswith("k1dw"):
        for stage in d["stages"]:
            stage["btn_ratio"] = [1, 2]
    d.update(over)
    return DesignProblem.from_dict(d)


def arch(family: str, widths=(16, 16, 32), btns=(16, 32), depths=(2, 3), kernels=(3, 5, 3)) -> Architecture:
    w0, w1, w2 = widths
    return Architecture((Block("conv", 3, w0, kernels[0], 1), Block(family, w0, w1, kernels[1], 2, btns[0], depths[0]),
                         Block(family, w1, w2, kernels[2], 2, btns[1], depths[1])), resolution=32, num_classes=10)


# ------------------------------------------------------------------------------------ profiling
@pytest.fixture(scope="module")
def profiled(tmp_path_factory):
    path = tmp_path_factory.mktemp("profile") / "tiny.json"
    model = L.profile(grid="tiny", repeats=2, passes=1)
    L.save(model, path)
    return path, model


def test_profile_tiny_grid_writes_a_valid_model(profiled):
    path, _ = profiled
    loaded = L.load(path)
    data = json.loads(path.read_text())
    L.validate(data)
    w = loaded.measured_with
    assert w["device"] == "cpu" and w["threads"] == 1 and w["batch"] == 1 and w["clock"] == "thread_cpu"
    for key in ("torch", "numpy", "python", "device_name", "malloc", "allocator", "created"):
        assert w[key]
    assert set(loaded.coefficients) == set(GROUPS)
    assert all(v >= 0 for c in loaded.coefficients.values() for v in c.values())
    fit = loaded.fit
    assert fit["heldout_shapes"] > 0 and fit["heldout_median_abs_rel_err"] is not None
    assert set(fit["per_op"]) == set(OPS) and fit["networks"]["train_networks"] >= 1
    assert "median_iqr_over_median" in loaded.noise and loaded.noise["reference"]["median_ms"] > 0
    assert len(loaded.samples) == fit["grid"]["shapes"]
    text = loaded.describe()
    for part in ("cpu", "1 thread", "batch 1", "torch", "thread_cpu", str(path)):
        assert part in text
    # the raw medians it keeps re-fit to the same model
    a = arch("k1kxk1")
    assert L.predict_ms(loaded, a) > 0
    assert L.predict_ms(L.refit(loaded), a) == pytest.approx(L.predict_ms(loaded, a), rel=1e-3)


def test_grid_sizes_and_unknown_grid():
    assert len(default_grid("tiny")) < len(default_grid("small")) < len(default_grid("default"))
    assert {s.op for s in default_grid("tiny")} == set(OPS) | {"network"}
    with pytest.raises(DesignError, match="grid"):
        default_grid("huge")
    with pytest.raises(DesignError, match="device"):
        L.profile(device="tpu")
    with pytest.raises(DesignError, match="threads"):
        L.profile(threads=0, grid="tiny")


# ---------------------------------------------------------------------------------- model files
def _bad(mutate):
    d = synthetic_model().to_dict()
    mutate(d)
    return d


MALFORMED = [
    (lambda d: d.update(format="other"), "format"),
    (lambda d: d.update(format="deepmad-pyomo/latency-model-v1"), "format"),
    (lambda d: d.pop("measured_with"), "measured_with"),
    (lambda d: d["measured_with"].pop("device"), "measured_with.device"),
    (lambda d: d["measured_with"].update(device="tpu"), "measured_with.device"),
    (lambda d: d["measured_with"].update(threads=0), "measured_with.threads"),
    (lambda d: d["measured_with"].update(batch="1"), "measured_with.batch"),
    (lambda d: d["measured_with"].pop("torch"), "measured_with.torch"),
    (lambda d: d["measured_with"].update(clock="sundial"), "measured_with.clock"),
    (lambda d: d.update(coefficients=[1, 2]), "coefficients"),
    (lambda d: d["coefficients"].pop("conv"), "coefficients.conv"),
    (lambda d: d["coefficients"].update(gelu={"elems": 1.0}), "coefficients.gelu"),
    (lambda d: d["coefficients"]["conv"].update(flops=1.0), "coefficients.conv.flops"),
    (lambda d: d["coefficients"]["bn"].update(elems=-1.0), "coefficients.bn.elems"),
    (lambda d: d["coefficients"]["bn"].update(elems=float("nan")), "coefficients.bn.elems"),
    (lambda d: d["coefficients"]["se"].update(calls="fast"), "coefficients.se.calls"),
    (lambda d: d["coefficients"].update(scale=3), "coefficients.scale"),
    (lambda d: d["coefficients"].pop("network"), "coefficients.network"),
    (lambda d: d["coefficients"].update(block={"conv": 0.1}), "coefficients.block"),
    (lambda d: d.update(samples={}), "samples"),
]


@pytest.mark.parametrize("mutate,field", MALFORMED)
def test_malformed_model_files_are_refused(tmp_path, mutate, field):
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(_bad(mutate), allow_nan=True))
    with pytest.raises(DesignError) as err:
        L.load(path)
    assert field in err.value.field and str(path) in err.value.field
    assert err.value.valid  # says what is valid


@pytest.mark.parametrize("text,problem_text", [("{", "not valid JSON"), ("[1]", "expected a JSON object")])
def test_not_a_model_file(tmp_path, text, problem_text):
    path = tmp_path / "m.json"
    path.write_text(text)
    with pytest.raises(DesignError, match=problem_text):
        L.load(path)
    with pytest.raises(DesignError, match="cannot read"):
        L.load(tmp_path / "missing.json")


def test_save_load_round_trip_and_cache(tmp_path):
    path = tmp_path / "m.json"
    model = synthetic_model()
    L.save(model, path)
    again = L.load(path)
    assert again.coefficients == model.coefficients and again.measured_with == model.measured_with
    assert L.load_cached(path) is L.load_cached(path)


# --------------------------------------------------------------------------------- one formula
@pytest.mark.parametrize("family", FAMILIES)
@pytest.mark.parametrize("stem_k", [(3,), (1, 3)])
def test_predict_ms_equals_the_pyomo_expression(model_file, family, stem_k):
    p = problem(family, model_file, latency_ms=1e3, stem_k=stem_k)
    m = build_pyomo_model(p)
    assert m.latency_budget.upper == 1e3 and not m.latency.expr.is_constant()
    for a in (arch(family, kernels=(stem_k[-1], 5, 3)), arch(family, (24, 40, 48), (40, 48), (1, 2), (stem_k[0], 3, 3)),
              arch(family, (16, 24, 32), (24, 32), (3, 1), (stem_k[0], 5, 3))):
        load_architecture(m, a)
        assert pyo.value(m.latency) == pytest.approx(L.predict_ms(model_file, a), rel=1e-9)


def test_super_block_is_first_plus_repeats():
    model = synthetic_model()
    a = arch("k1kxk1", depths=(3, 1))
    per = L.predict_blocks_ms(model, a)
    b = a.blocks[1]
    first = block_latency(model.coefficients, b, 32, True)
    repeat = block_latency(model.coefficients, b, 16, False)
    assert per[1] == pytest.approx(first + 2 * repeat)
    assert sum(per) == pytest.approx(L.predict_ms(model, a))


def test_every_op_call_costs_the_network_call_cost():
    """conv stem (3 ops) + a k1kxk1 super-block of 2 (13 ops with the strided projection, 10) + one of 3
    (13 + 2 * 10) + the classifier (1): 60 op calls."""
    model = synthetic_model()
    a = arch("k1kxk1")
    without = L.LatencyModel({**model.coefficients, "network": {"call": 0.0}}, model.measured_with)
    assert L.predict_ms(model, a) - L.predict_ms(without, a) == pytest.approx(0.02 * 60)


def test_fit_recovers_a_planted_model():
    """Medians made by a known model (every family's scale 1, 0.03 ms per op call): the fit finds it again."""
    from deepmad_pyomo.latency.fit import fit

    planted = synthetic_model().coefficients
    planted = {**planted, "scale": {f: 1.0 for f in ops.FAMILIES}, "network": {"call": 0.03}}
    model = L.LatencyModel(planted, {"batch": 1})
    medians = {s: (L.predict_ms(model, s.arch()) if s.op == "network" else ops.cost(planted, s.terms(1)))
               for s in default_grid("small")}
    coef, report = fit(medians, 1)
    assert coef["network"]["call"] == pytest.approx(0.03, rel=1e-6)
    assert all(v == pytest.approx(1.0, rel=1e-6) for v in coef["scale"].values())
    assert report["networks"]["heldout_median_abs_rel_err"] < 1e-6


def test_pointwise_indicator_exact_on_the_kernel_choices():
    z1, z3, z5 = pyo.Var(), pyo.Var(), pyo.Var()
    m = pyo.ConcreteModel()
    m.z = pyo.Var([1, 3, 5], domain=pyo.Binary)
    k2 = sum(k * k * m.z[k] for k in (1, 3, 5))
    one = is_pointwise(k2, (1, 3, 5))
    for k in (1, 3, 5):
        for kk in (1, 3, 5):
            m.z[kk].set_value(int(kk == k))
        assert pyo.value(one) == pytest.approx(int(k == 1))
    assert is_pointwise(k2, (3, 5)) == 0 and is_pointwise(k2, (1,)) == 1
    assert is_pointwise(9) == 0 and is_pointwise(1) == 1
    del z1, z3, z5


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(family=st.sampled_from(FAMILIES), w=st.integers(1, 6), grow=st.integers(1, 3), btn=st.integers(1, 6),
       depth=st.integers(1, 3))
def test_latency_grows_with_width_and_depth(family, w, grow, btn, depth):
    model = synthetic_model()
    base = arch(family, (8 * w, 8 * w, 8 * w + 8), (8 * btn, 8 * btn), (depth, depth))
    wider = arch(family, (8 * w, 8 * (w + grow), 8 * (w + grow) + 8), (8 * btn, 8 * btn), (depth, depth))
    deeper = arch(family, (8 * w, 8 * w, 8 * w + 8), (8 * btn, 8 * btn), (depth + 1, depth))
    assert L.predict_ms(model, deeper) > L.predict_ms(model, base)
    if family in ("k1kxk1", "kxkx"):  # inverted residuals lose their residual add when the width changes
        assert L.predict_ms(model, wider) > L.predict_ms(model, base)


# ------------------------------------------------------------------------------------- budgets
def test_check_reports_a_latency_violation(model_file):
    a = arch("k1kxk1")
    lat = L.predict_ms(model_file, a)
    tight = problem("k1kxk1", model_file, latency_ms=0.5 * lat)
    loose = problem("k1kxk1", model_file, latency_ms=2 * lat)
    broken = [v for v in tight.check(a) if v.startswith("budget latency_ms")]
    assert len(broken) == 1 and "cpu" in broken[0] and "batch 1" in broken[0]
    assert not [v for v in loose.check(a) if "latency" in v]
    assert not [v for v in problem("k1kxk1").check(a) if "latency" in v]


def test_latency_margin_holds_designs_below_the_budget(model_file):
    a = arch("k1kxk1")
    lat = L.predict_ms(model_file, a)
    within = problem("k1kxk1", model_file, latency_ms=1.05 * lat)
    assert not [v for v in within.check(a) if "latency" in v]
    margin = replace(within, budgets=replace(within.budgets, latency_margin=0.1))
    broken = [v for v in margin.check(a) if v.startswith("budget latency_ms")]
    assert len(broken) == 1 and "10% margin" in broken[0]
    assert margin.budgets.latency_limit_ms == pytest.approx(0.9 * 1.05 * lat)
    m = build_pyomo_model(margin)
    assert pyo.value(m.latency_budget.upper) == pytest.approx(0.9 * 1.05 * lat)
    d = margin.to_dict()
    assert d["budgets"]["latency_margin"] == 0.1 and "latency_margin" not in within.to_dict()["budgets"]
    assert DesignProblem.from_dict(d).budgets == margin.budgets
    for bad in (1.0, -0.1, "10%"):
        d["budgets"]["latency_margin"] = bad
        with pytest.raises(DesignError, match="latency_margin"):
            DesignProblem.from_dict(d)


def test_missing_model_file_is_a_design_error(tmp_path):
    p = problem("k1kxk1", str(tmp_path / "none.json"), latency_ms=1.0)
    with pytest.raises(DesignError, match="cannot read latency model"):
        p.check(arch("k1kxk1"))
    with pytest.raises(DesignError, match="cannot read latency model"):
        build_pyomo_model(p)


def _budgeted(model_file):
    """A latency budget well under what the unconstrained design needs: latency binds."""
    from deepmad_pyomo.solve.design import design
    from deepmad_pyomo.solve.options import SolveOptions

    free = design(problem("k1kxk1"), "auto", SolveOptions(time_limit=20))
    assert free.architecture is not None
    budget = 0.8 * L.predict_ms(model_file, free.architecture)
    return problem("k1kxk1", model_file, latency_ms=round(budget, 4)), free


def test_design_auto_meets_the_latency_budget(model_file):
    from deepmad_pyomo.solve.design import design
    from deepmad_pyomo.solve.options import SolveOptions

    p, free = _budgeted(model_file)
    res = design(p, "auto", SolveOptions(time_limit=20))
    assert res.architecture is not None, res.message
    assert L.predict_ms(model_file, res.architecture) <= p.budgets.latency_ms * (1 + 1e-9)
    assert p.check(res.architecture) == []
    assert res.objective <= free.objective + 1e-6


def test_design_with_a_latency_margin_reports_it(model_file):
    from deepmad_pyomo.cli.design import format_result
    from deepmad_pyomo.solve.design import design
    from deepmad_pyomo.solve.options import SolveOptions

    p, _ = _budgeted(model_file)
    p = replace(p, budgets=replace(p.budgets, latency_margin=0.2))
    res = design(p, "auto", SolveOptions(time_limit=20))
    assert res.architecture is not None, res.message
    assert L.predict_ms(model_file, res.architecture) <= 0.8 * p.budgets.latency_ms * (1 + 1e-9)
    text = format_result(res, p)
    assert "ms predicted of" in text and "(20% margin)" in text


def test_evolution_filters_by_latency(model_file):
    pytest.importorskip("deepmad_pyomo.solve.routes.evolution")
    from deepmad_pyomo.solve.design import design
    from deepmad_pyomo.solve.options import SolveOptions

    p, _ = _budgeted(model_file)
    res = design(p, "evolution", SolveOptions(time_limit=8, seed=0))
    assert res.architecture is not None, res.message
    assert L.predict_ms(model_file, res.architecture) <= p.budgets.latency_ms * (1 + 1e-9)
    for rejected in res.details.get("rejected", []):
        assert rejected["violations"]


# ------------------------------------------------------------------------------------------ CLI
def _parser():
    parser = argparse.ArgumentParser(prog="deepmad")
    sub = parser.add_subparsers(dest="command", required=True)
    add_latency_parser(sub)
    b = sub.add_parser("build")
    b.add_argument("arch")
    add_build_latency_arguments(b)
    return parser


def test_cli_profile_show_and_build_latency(tmp_path, capsys, profiled):
    out = tmp_path / "cli.json"
    args = _parser().parse_args(["latency", "profile", "--grid", "tiny", "--passes", "1", "--repeats", "2",
                                 "--out", str(out), "--json"])
    assert args.func(args) == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["measured_with"]["threads"] == 1 and "heldout_median_abs_rel_err" in summary
    L.load(out)
    args = _parser().parse_args(["latency", "show", str(out)])
    assert args.func(args) == 0
    assert "held-out" in capsys.readouterr().out

    a = arch("k1dwsek1")
    args = _parser().parse_args(["build", "x", "--latency", str(profiled[0]), "--latency-repeats", "3"])
    d = build_latency(args, a)
    assert d["latency_predicted_ms"] == pytest.approx(L.predict_ms(profiled[1], a), rel=1e-3)
    assert d["latency_measured_ms"] > 0 and d["latency_measured_passes"] == 3
    assert d["latency_model"]["measured_with"]["device"] == "cpu" and "machine_speed" in d
    text = format_build_latency(d)
    assert "latency predicted" in text and "latency measured" in text and "batch 1" in text
    assert build_latency(_parser().parse_args(["build", "x"]), a) is None


def test_cli_build_latency_refuses_a_malformed_model(tmp_path):
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps(_bad(lambda d: d["coefficients"]["conv"].update(macs=-1))))
    args = _parser().parse_args(["build", "x", "--latency", str(bad)])
    with pytest.raises(DesignError, match=r"coefficients\.conv\.macs.*valid"):
        build_latency(args, arch("k1kxk1"))
    with pytest.raises(SystemExit):
        _parser().parse_args(["latency", "profile"])  # --out is required
    args = _parser().parse_args(["latency", "profile", "--threads", "0", "--out", str(tmp_path / "x.json")])
    with pytest.raises(DesignError, match="threads"):
        args.func(args)


def test_measurement_statistics():
    m = L.Measurement([1.0, 2.0, 3.0, 4.0, 100.0])
    assert m.median == 3.0 and m.iqr_rel > 0
    assert L.Measurement([2.0]).iqr_rel == 0.0
    assert L.default_clock("cpu", 1) == "thread_cpu" and L.default_clock("cpu", 2) == "wall"
    assert L.default_clock("cuda", 1) == "wall"
    assert math.isclose(nnls([[1, 0], [0, 1], [1, 1]], [1, -1, 0])[1], 0.0)
    assert copy.deepcopy(synthetic_model()).coefficients


def test_nnls_optimality_and_duplicate_columns():
    """The KKT conditions hold on random problems; identical columns give their weight to the first."""
    import numpy as np

    rng = np.random.default_rng(0)
    for _ in range(50):
        A, y = rng.random((12, 5)), rng.normal(size=12)
        x = np.array(nnls(A, y))
        grad = A.T @ (A @ x - y)
        assert np.all(x >= 0) and np.all(grad >= -1e-9) and np.allclose(grad[x > 0], 0, atol=1e-9)
    A = np.array([[1.0, 2.0, 2.0], [2.0, 1.0, 1.0], [1.0, 3.0, 3.0]])  # columns 1 and 2 are the same
    x = nnls(A, A @ [0.5, 1.0, 0.0])
    assert x == pytest.approx([0.5, 1.0, 0.0]) and x[2] == 0.0



def test_low_quantile_statistic():
    m = L.Measurement([10.0] * 9 + [50.0] * 11)  # 20 samples, load inflating most of them
    assert m.low == 10.0 and m.median == 50.0
    assert L.Measurement([3.0, 1.0, 2.0]).low == 1.0  # under 10 samples: the least
    assert L.Measurement([float(i) for i in range(1, 101)]).low == pytest.approx(10.9)


def test_onnxruntime_runtime_profiles_predicts_and_measures(tmp_path, capsys):
    pytest.importorskip("onnxruntime")
    out = tmp_path / "ort.json"
    args = _parser().parse_args(["latency", "profile", "--runtime", "onnxruntime", "--grid", "tiny", "--passes", "1",
                                 "--repeats", "2", "--out", str(out), "--quiet"])
    assert args.func(args) == 0
    capsys.readouterr()
    model = L.load(out)
    assert model.runtime == "onnxruntime" and model.measured_with["onnxruntime"]
    assert "onnxruntime" in model.describe()
    a = arch("k1kxk1")
    ort_net, x = L.build_network(a, runtime="onnxruntime")
    torch_net, _ = L.build_network(a)
    import torch

    with torch.inference_mode():
        assert torch.allclose(torch.from_numpy(ort_net(x)[0]), torch_net(x), rtol=1e-3, atol=1e-4)
    arch_file = tmp_path / "a.json"
    save(a, arch_file)
    args = _parser().parse_args(["latency", "predict", str(out), str(arch_file), "--measure", "--repeats", "3",
                                 "--json"])
    assert args.func(args) == 0
    row = json.loads(capsys.readouterr().out)["rows"][0]
    assert row["predicted_ms"] == pytest.approx(L.predict_ms(model, a), rel=1e-3) and row["measured_ms"] > 0
    with pytest.raises(DesignError, match="runtime"):
        L.profile(runtime="tvm", grid="tiny")


def test_zoo_readme_gets_a_predicted_latency_column(tmp_path, model_file):
    from deepmad_pyomo.batch import zoo_readme

    a = arch("k1dwk1")
    rec = {"name": "cifar-x", "suite": "cifar", "family": "k1dwk1", "resolution": 32, "budgets": {"flops": 6e6},
           "metrics": {"macs": 1, "params": 1}, "architecture": a.to_dict()}
    assert zoo_readme.predicted_latency(tmp_path, [rec]) is None
    (tmp_path / zoo_readme.LATENCY_FILE).write_text(Path(model_file).read_text())
    described, ms = zoo_readme.predicted_latency(tmp_path, [rec])
    assert ms == {"cifar-x": pytest.approx(L.predict_ms(L.load(model_file), a))} and "cpu" in described
    text = zoo_readme.readme([rec], ["cifar"], "deepmad zoo ...", False, (described, ms))
    assert "latency (ms) |" in text and f"| {ms['cifar-x']:.1f} |" in text and "predicted (not measured)" in text
