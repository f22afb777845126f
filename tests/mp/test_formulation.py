"""The Pyomo MINLP: structure and one formula with the metrics."""

import pyomo.environ as pyo
import pytest
from spaces import architectures, tiny_problem

from deepmad_pyomo import evaluate
from deepmad_pyomo.errors import DesignError
from deepmad_pyomo.mp.formulation import (
    FormulationOptions,
    build_pyomo_model,
    decode,
    load_architecture,
    model_data,
)
from deepmad_pyomo.mp.template import Template, score_upper_bound
from deepmad_pyomo.nn.models import get_architecture
from deepmad_pyomo.space.problem import preset


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


def test_model_data_holds_the_template_and_the_network():
    p = preset("deepmad-r50")
    m = build_pyomo_model(p, FormulationOptions(formulation="log"))
    data = model_data(m)
    assert data.problem is p and data.formulation == "log"
    assert [m.width_units[j].bounds for j in m.B] == list(data.template.width_units)
    assert {j: m.btn_units[j].bounds for j in m.SB} == dict(data.template.btn_units)
    assert len(data.blocks) == len(m.B) and len(data.terms.stages) == len(m.M)


def test_template_refuses_ranges_without_a_width():
    with pytest.raises(DesignError, match="stem.out"):
        Template.of(tiny_problem(stem={"out": [17, 23], "k": [3], "s": 1}))
    with pytest.raises(DesignError, match="SE widths"):
        Template.of(tiny_problem("paper", "k1dwsek1", width_step=2))


@pytest.mark.parametrize("family", ["k1kxk1", "k1dwsek1"])
def test_score_upper_bound_holds_every_design(family):
    p = tiny_problem("paper", family)
    best = max(sum(evaluate(a, p.objective, p.resolution).stage_entropy) for a in architectures(p))
    assert best <= score_upper_bound(Template.of(p))
