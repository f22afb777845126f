"""The Pyomo MINLP: structure, one formula with the metrics, the box relaxation's validity."""
import statistics
import itertools

import pyomo.environ as pyo
import pytest
from hypothesis import given, settings, strategies as st

from deepmad_pyomo import evaluate
from deepmad_pyomo.errors import DesignError
from deepmad_pyomo.formulation import (FormulationOptions, build_pyomo_model, decode, least_variance,
                                       load_architecture)
from deepmad_pyomo.problem import preset
from deepmad_pyomo.registry import get_architecture
from deepmad_pyomo.solvers import scip

from spaces import optimum, tiny_problem


def test_structure_r50():
    m = build_pyomo_model(preset("deepmad-r50").with_mode("tinynas"))
    ints = [v for v in m.component_data_objects(pyo.Var) if v.is_integer() and not v.is_binary()]
    bins = [v for v in m.component_data_objects(pyo.Var) if v.is_binary()]
    assert len(ints) == 6 + 5 + 5  # widths, bottlenecks, depths
    assert len(bins) == 1 + 5 * 2  # stem k3 only; two kernel choices per super-block
    assert len(m.rho_bound) == 5    # one per stage prefix in tinynas mode
    assert len(m.monotone) == 5 and len(m.btn_lower) == 5
    for name in ("flops_budget", "params_budget", "objective", "depth_penalty"):
        assert hasattr(m, name)
    assert len(build_pyomo_model(preset("deepmad-r50")).rho_bound) == 1  # paper: the whole main path
    # degrees of freedom: every variable free; depths fixed remove five
    free = sum(1 for v in m.component_data_objects(pyo.Var) if not v.fixed)
    fixed = build_pyomo_model(preset("deepmad-r50"), FormulationOptions(depths=[1, 2, 3, 4, 5]))
    assert sum(1 for v in fixed.component_data_objects(pyo.Var) if not v.fixed) == free - 5


@pytest.mark.parametrize("formulation", ["natural", "log"])
@pytest.mark.parametrize("mode", ["paper", "tinynas"])
@pytest.mark.parametrize("name,preset_name", [("deepmad-R50", "deepmad-r50"), ("deepmad-29M-224", "deepmad-29m")])
def test_model_equals_metrics_at_released(name, preset_name, mode, formulation):
    a = get_architecture(name)
    p = preset(preset_name).with_mode(mode)
    m = build_pyomo_model(p, FormulationOptions(formulation=formulation))
    load_architecture(m, a)
    ev = evaluate(a, p.objective)
    assert pyo.value(m.flops) * 1e9 == pytest.approx(getattr(ev, p.budget_metric("flops")), rel=1e-12)
    assert pyo.value(m.params) * 1e6 == pytest.approx(getattr(ev, p.budget_metric("params")), rel=1e-12)
    assert [pyo.value(m.stage_entropy[i]) for i in m.M] == pytest.approx(ev.stage_entropy, rel=1e-12)
    if mode == "tinynas":  # paper-mode exp(Var) is capped in the model (a valid cut, see formulation)
        assert pyo.value(m.objective) == pytest.approx(ev.objective, rel=1e-12)


def test_decode_round_trip():
    p = preset("deepmad-r50")
    a = get_architecture("deepmad-R50")
    m = build_pyomo_model(p)
    load_architecture(m, a)
    assert decode(m).blocks == a.blocks


def test_bad_fixings():
    p = preset("deepmad-r50")
    with pytest.raises(DesignError, match=r"depths\[1\]"):
        build_pyomo_model(p, FormulationOptions(depths=[1, 99, 1, 1, 1]))
    with pytest.raises(DesignError, match="kernels"):
        build_pyomo_model(p, FormulationOptions(kernels=[3, 7, 3, 3, 3, 3]))
    with pytest.raises(DesignError, match="formulation"):
        FormulationOptions(formulation="polar")


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.integers(1, 8), st.integers(0, 4)), min_size=2, max_size=4))
def test_least_variance_is_a_lower_bound(spans):
    ranges = [(lo, lo + w) for lo, w in spans]
    brute = min(statistics.pvariance(x) for x in itertools.product(*[range(lo, hi + 1) for lo, hi in ranges]))
    assert least_variance(ranges) <= brute + 1e-9
    if all(lo == hi for lo, hi in ranges):
        assert least_variance(ranges) == pytest.approx(brute)


@pytest.mark.parametrize("mode", ["tinynas", "paper"])
def test_box_relaxation_bounds_every_architecture_in_the_box(mode):
    p = tiny_problem(mode)
    for box in ([(1, 3), (1, 3)], [(2, 3), (1, 2)], [(3, 3), (2, 2)]):
        best, _ = optimum(p, box)
        m = build_pyomo_model(p, FormulationOptions(depth_box=box))
        ans = scip.solve_model(m, 30, gap=1e-9)
        assert ans.termination == "optimal"
        assert ans.bound >= best - 1e-6 * abs(best)
        if all(lo == hi for lo, hi in box):  # a single depth vector: the relaxation is the exact problem
            assert ans.objective == pytest.approx(best, rel=1e-6)
