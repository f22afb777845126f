"""The design problem as a Pyomo ``ConcreteModel`` (a nonconvex MINLP), built from :mod:`metrics`.

Components a Pyomo user finds (``j`` runs over the template's blocks, stem first):

- ``width_units[j]`` (integer), ``width[j] = width_step * width_units[j]``;
- ``btn_units[j]``, ``btn[j]`` (super-blocks), ``depth[j]``, ``kernel[j, k]`` (one-hot choice of ``k``),
  ``k2[j]`` (kernel area), ``se_units[j]``/``se[j]`` (SE width, exact through its integer bounds),
  ``same_width[j]`` (inverted residuals that keep their input width);
- ``stage_entropy[m]``, ``depth_penalty``, ``objective`` (maximise);
- ``flops``, ``params`` (scaled to 1e9 and 1e6), ``layers`` and their ``*_budget`` constraints,
  ``rho_bound[p]`` (``sum log w >= L (log L - log rho0)``, the effectiveness bound multiplied
  through), ``monotone[j]``, ``width_ratio[j]``, ``btn_lower[j]``/``btn_upper[j]``.

What the model was built from is one :class:`ModelData` at ``m.data`` (read it with :func:`model_data`).

Two formulations of the same problem: ``natural`` (logs of the width expressions) and ``log``
(continuous ``log_width``/``log_btn`` variables tied by ``exp(log_width) == width``, making the
entropy bilinear in depth and log-widths).
"""
from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import pyomo.environ as pyo

from ..errors import DesignError
from ..space import metrics
from ..space.arch import Architecture, Block
from ..space.families import Mode
from ..space.problem import ConvSpec, DesignProblem
from .template import SymBlock, Template, variance_cap

FORMULATIONS = ("natural", "log")
FLOPS_SCALE, PARAMS_SCALE = 1e9, 1e6
Log = Callable[[Any], Any]


@dataclass
class FormulationOptions:
    """``formulation``: natural or log; ``relax``: drop integrality; ``kernels``: fix each block's
    kernel size (a list, ``None`` entries free); ``depths``: fix super-block depths (a list, ``None``
    entries free) or bound them (``depth_bounds``: list of (lo, hi)); ``cutoff``: require objective >=
    cutoff. ``linear_kernel_log``: ``log(k^2)`` as ``sum_k z_k log(k^2)`` over the one-hot choice (exact
    at integers, a tighter relaxation) rather than ``log(sum_k z_k k^2)``."""

    formulation: str = "natural"
    relax: bool = False
    kernels: Sequence[int | None] | None = None
    depths: Sequence[int | None] | None = None
    depth_bounds: Sequence[tuple[int, int]] | None = None
    cutoff: float | None = None
    linear_kernel_log: bool = True

    def __post_init__(self) -> None:
        if self.formulation not in FORMULATIONS:
            raise DesignError("formulation", f"unknown formulation {self.formulation!r}", ", ".join(FORMULATIONS))


@dataclass(frozen=True)
class ModelData:
    """What a model was built from (the template, the options) and the network its expressions were
    assembled from (``blocks`` over the model's components, and their ``terms``)."""

    template: Template
    options: FormulationOptions
    blocks: tuple[SymBlock, ...]
    terms: metrics.NetworkTerms

    @property
    def problem(self) -> DesignProblem:
        return self.template.problem

    @property
    def formulation(self) -> str:
        return self.options.formulation


def model_data(m: pyo.ConcreteModel) -> ModelData:
    """The data of a model made by :func:`build_pyomo_model`."""
    return m.data


def build_pyomo_model(problem: DesignProblem, options: FormulationOptions | None = None) -> pyo.ConcreteModel:
    """The MINLP of ``problem``: maximise ``sum_j alpha_j H_j - beta Q`` subject to the budgets, the
    effectiveness bound, monotone widths and the template's bounds."""
    opt = options or FormulationOptions()
    template = Template.of(problem)
    m = pyo.ConcreteModel(name=problem.name)
    _add_sizes(m, template, opt)
    _add_kernels(m, template, opt)
    _add_se_and_same_width(m, template, opt)
    _fix(m, template, opt)
    blocks = _network(m, template)
    if opt.formulation == "log":
        _add_log_variables(m, template)
    log = _log_of(m, template, opt)
    terms = metrics.network_terms(blocks, problem.resolution, problem.num_classes, log=log)
    _add_objective(m, template, opt, terms, log)
    _add_budgets(m, template, terms, blocks)
    _add_effectiveness(m, template, terms)
    _add_width_order(m, template)
    m.data = ModelData(template, opt, tuple(blocks), terms)
    _initialise(m)
    return m


# ------------------------------------------------------------------------------------------ variables
def _integer_domain(opt: FormulationOptions) -> Any:
    return pyo.NonNegativeReals if opt.relax else pyo.NonNegativeIntegers


def _binary_domain(opt: FormulationOptions) -> Any:
    return pyo.UnitInterval if opt.relax else pyo.Binary


def _add_sizes(m: pyo.ConcreteModel, t: Template, opt: FormulationOptions) -> None:
    """The blocks, their widths and the super-blocks' bottlenecks (integer multiples of the width step)
    and depths."""
    step, dom = t.step, _integer_domain(opt)
    m.B = pyo.Set(initialize=range(len(t.specs)), doc="blocks of the template, stem first")
    m.SB = pyo.Set(initialize=t.super_blocks, doc="super-blocks")
    m.width_units = pyo.Var(m.B, domain=dom, bounds=lambda mm, j: t.width_units[j], doc="output width / width_step")
    m.width = pyo.Expression(m.B, rule=lambda mm, j: step * mm.width_units[j], doc="output width")
    m.btn_units = pyo.Var(m.SB, domain=dom, bounds=lambda mm, j: t.btn_units[j], doc="bottleneck width / width_step")
    m.btn = pyo.Expression(m.SB, rule=lambda mm, j: step * mm.btn_units[j], doc="bottleneck width")
    m.depth = pyo.Var(m.SB, domain=dom, bounds=lambda mm, j: t.specs[j].L, doc="blocks in the super-block")


def _add_kernels(m: pyo.ConcreteModel, t: Template, opt: FormulationOptions) -> None:
    """A one-hot kernel choice per block and the kernel area ``k2`` it gives."""
    specs = t.specs
    m.KC = pyo.Set(dimen=2, initialize=[(j, k) for j in range(len(specs)) for k in specs[j].k])
    m.kernel = pyo.Var(m.KC, domain=_binary_domain(opt), doc="kernel size choice (one-hot)")
    m.one_kernel = pyo.Constraint(m.B, rule=lambda mm, j: sum(mm.kernel[j, k] for k in specs[j].k) == 1)
    m.k2 = pyo.Expression(m.B, rule=lambda mm, j: sum(k * k * mm.kernel[j, k] for k in specs[j].k),
                          doc="kernel area k^2")


def _add_se_and_same_width(m: pyo.ConcreteModel, t: Template, opt: FormulationOptions) -> None:
    """SE widths and the inverted residuals' same-width indicators.

    ``se = 8 * max(1, floor(btn / 32))`` for ``btn`` a multiple of 4: the lower bounds make the least
    feasible ``se_units`` exactly that, and a larger ``se`` only costs budget. An inverted residual keeps
    its identity shortcut (an avg-pool in the official FLOPs at stride 2, an add in the latency model) only
    when the width does not change: ``same_width = 1`` is forced when the widths are equal, and costs only.
    """
    m.SE = pyo.Set(initialize=t.se_blocks)
    m.se_units = pyo.Var(m.SE, domain=_integer_domain(opt), bounds=(1, None), doc="SE width / 8")
    m.se = pyo.Expression(m.SE, rule=lambda mm, j: 8 * mm.se_units[j])
    m.se_floor = pyo.Constraint(m.SE, rule=lambda mm, j: 32 * mm.se_units[j] >= mm.btn[j] - 31)
    m.SAME = pyo.Set(initialize=t.inverted_residuals)
    m.same_width = pyo.Var(m.SAME, domain=_binary_domain(opt), doc="1 when the super-block keeps its input width")
    m.same_width_def = pyo.Constraint(
        m.SAME, rule=lambda mm, j: mm.width_units[j] - mm.width_units[j - 1] >= 1 - mm.same_width[j])


def _fix(m: pyo.ConcreteModel, t: Template, opt: FormulationOptions) -> None:
    """Fix the kernels and depths the options give, and narrow the depths to ``depth_bounds``."""
    specs, sb = t.specs, t.super_blocks
    for name, values, per in (("kernels", opt.kernels, "block"), ("depths", opt.depths, "super-block")):
        if values is not None and len(values) != (len(specs) if name == "kernels" else len(sb)):
            raise DesignError(name, f"{len(values)} values", f"one per {per}")
    for j, k in enumerate(opt.kernels or []):
        if k is None:
            continue
        if k not in specs[j].k:
            raise DesignError(f"kernels[{j}]", f"{k} not allowed by the template", str(list(specs[j].k)))
        for kk in specs[j].k:
            m.kernel[j, kk].fix(int(kk == k))
    for i, (j, d) in enumerate(zip(sb, opt.depths or [])):
        if d is not None:
            lo, hi = specs[j].L
            if not lo <= d <= hi:
                raise DesignError(f"depths[{i}]", f"{d} outside the template's range", f"[{lo}, {hi}]")
            m.depth[j].fix(d)
    for j, (lo, hi) in zip(sb, opt.depth_bounds or []):
        if not m.depth[j].fixed:
            m.depth[j].setlb(max(lo, m.depth[j].lb))
            m.depth[j].setub(min(hi, m.depth[j].ub))


def _add_log_variables(m: pyo.ConcreteModel, t: Template) -> None:
    """The ``log`` formulation's continuous log-widths, tied by ``exp(log_width) == width``."""
    step = t.step
    m.log_width = pyo.Var(m.B, bounds=lambda mm, j: _log_range(t.width_units[j], step), doc="log of the output width")
    m.log_btn = pyo.Var(m.SB, bounds=lambda mm, j: _log_range(t.btn_units[j], step), doc="log of the bottleneck width")
    m.log_width_link = pyo.Constraint(m.B, rule=lambda mm, j: pyo.exp(mm.log_width[j]) == mm.width[j])
    m.log_btn_link = pyo.Constraint(m.SB, rule=lambda mm, j: pyo.exp(mm.log_btn[j]) == mm.btn[j])


def _log_range(units: tuple[int, int], step: int) -> tuple[float, float]:
    return math.log(units[0] * step), math.log(units[1] * step)


# ------------------------------------------------------------------------------------------ the network
def _network(m: pyo.ConcreteModel, t: Template) -> list[SymBlock]:
    """The network over the model's components, as :mod:`metrics` reads it."""
    blocks = []
    for j, sp in enumerate(t.specs):
        c_in = t.problem.in_channels if j == 0 else m.width[j - 1]
        if isinstance(sp, ConvSpec):
            blocks.append(SymBlock("conv", c_in, m.width[j], m.k2[j], sp.s))
        else:
            blocks.append(SymBlock(sp.type, c_in, m.width[j], m.k2[j], sp.s, m.btn[j], m.depth[j],
                                   m.se[j] if j in m.SE else None, m.same_width[j] if j in m.SAME else 0))
    return blocks


def _log_of(m: pyo.ConcreteModel, t: Template, opt: FormulationOptions) -> Log:
    """The log of a model expression: linear in the one-hot kernel choice for ``k2`` (exact at integers,
    tighter when relaxed), the log-variables for widths in the ``log`` formulation, else
    :func:`metrics.default_log`."""
    known: dict[int, Any] = {}
    if opt.linear_kernel_log:
        known.update({id(m.k2[j]): sum(math.log(k * k) * m.kernel[j, k] for k in t.specs[j].k) for j in m.B})
    if opt.formulation == "log":
        known.update({id(m.width[j]): m.log_width[j] for j in m.B})
        known.update({id(m.btn[j]): m.log_btn[j] for j in m.SB})

    def log(x: Any) -> Any:
        return known[id(x)] if id(x) in known else metrics.default_log(x)

    return log


# ------------------------------------------------------------------------------------------ objective
def _add_objective(m: pyo.ConcreteModel, t: Template, opt: FormulationOptions, terms: metrics.NetworkTerms,
                   log: Log) -> None:
    """The stage entropies less the depth penalty (maximised), and the ``cutoff`` on it."""
    entropies = metrics.stage_entropies(terms, t.problem.objective, log=log)
    m.M = pyo.Set(initialize=range(len(entropies)), doc="stages")
    m.stage_entropy = pyo.Expression(m.M, rule=lambda mm, i: entropies[i], doc="alpha_j * H_j")
    _add_depth_penalty(m, t, terms)
    if opt.cutoff is None:
        m.objective = pyo.Objective(expr=_score(m), sense=pyo.maximize)
        return
    # the score as a variable the cutoff bounds: a solver is handed the long expression once, not twice
    m.score = pyo.Var(bounds=(opt.cutoff, None), doc="the objective, at least the cutoff")
    m.score_def = pyo.Constraint(expr=m.score <= _score(m))
    m.objective = pyo.Objective(expr=m.score, sense=pyo.maximize)


def _score(m: pyo.ConcreteModel) -> Any:
    return sum(m.stage_entropy[i] for i in m.M) - m.depth_penalty


def _add_depth_penalty(m: pyo.ConcreteModel, t: Template, terms: metrics.NetworkTerms) -> None:
    """``beta*exp(sd)`` with ``sd^2 >= Var(L)`` (tinynas) or ``beta*exp(v)`` with ``v >= Var(L)`` (paper)."""
    problem = t.problem
    settings = problem.objective
    depths = metrics.penalised_depths(terms, problem.mode)
    var_max = _max_variance([(d.lb, d.ub) for d in depths])
    if problem.mode == Mode.TINYNAS:
        m.depth_spread = pyo.Var(bounds=(0, math.sqrt(var_max)), initialize=0, doc="std of the penalised depths")
        m.depth_spread_def = pyo.Constraint(expr=m.depth_spread ** 2 >= metrics.depth_variance(depths))
    else:
        m.depth_spread = pyo.Var(bounds=(0, min(var_max, variance_cap(t))), initialize=0, doc="variance of the depths")
        m.depth_spread_def = pyo.Constraint(expr=m.depth_spread >= metrics.depth_variance(depths))
    m.depth_penalty = pyo.Expression(expr=settings.beta * pyo.exp(m.depth_spread), doc="beta * exp(spread)")


def _max_variance(ranges: list[tuple[float, float]]) -> float:
    """Largest population variance of values in boxes (attained at box corners; few super-blocks)."""
    if not ranges:
        return 0.0
    best = 0.0
    for mask in range(2 ** len(ranges)):
        vals = [hi if mask >> i & 1 else lo for i, (lo, hi) in enumerate(ranges)]
        best = max(best, float(metrics.depth_variance(vals)))
    return best


# ------------------------------------------------------------------------------------------ constraints
def _add_budgets(m: pyo.ConcreteModel, t: Template, terms: metrics.NetworkTerms, blocks: list[SymBlock]) -> None:
    """FLOPs, params and layers (counted as the mode says) with their budgets, and latency when budgeted."""
    problem = t.problem
    budgets = problem.budgets
    flops, params = problem.budget_metric("flops"), problem.budget_metric("params")
    m.flops = pyo.Expression(expr=getattr(terms, flops) / FLOPS_SCALE, doc=f"{flops} / 1e9")
    m.params = pyo.Expression(expr=getattr(terms, params) / PARAMS_SCALE, doc=f"{params} / 1e6")
    m.layers = pyo.Expression(expr=terms.layers, doc="main-path conv layers")
    if budgets.flops is not None:
        m.flops_budget = pyo.Constraint(expr=m.flops <= budgets.flops / FLOPS_SCALE)
    if budgets.params is not None:
        m.params_budget = pyo.Constraint(expr=m.params <= budgets.params / PARAMS_SCALE)
    if budgets.layers is not None:
        m.layers_budget = pyo.Constraint(expr=m.layers <= budgets.layers)
    if budgets.latency_ms is not None:
        from ..latency import latency_expression

        m.latency = pyo.Expression(expr=latency_expression(budgets.latency_model, blocks, problem))
        m.latency_budget = pyo.Constraint(expr=m.latency <= budgets.latency_limit_ms)


def _add_effectiveness(m: pyo.ConcreteModel, t: Template, terms: metrics.NetworkTerms) -> None:
    """``rho <= rho0`` on every pair :func:`metrics.rho_terms` gives, multiplied through by the layer count."""
    pairs = metrics.rho_terms(terms, t.problem.mode)
    log_rho0 = math.log(t.problem.objective.rho0)
    m.P = pyo.Set(initialize=range(len(pairs)))
    m.rho_bound = pyo.Constraint(m.P, rule=lambda mm, p: _rho_bound(*pairs[p], log_rho0),
                                 doc="effectiveness rho <= rho0, multiplied through by the layer count")


def _rho_bound(layers: Any, log_width_sum: Any, log_rho0: float) -> Any:
    """``layers / exp(log_width_sum / layers) <= rho0`` as ``log_width_sum >= layers (log layers - log rho0)``."""
    log_layers = math.log(layers) if isinstance(layers, (int, float)) else pyo.log(layers)
    return log_width_sum >= layers * (log_layers - log_rho0)


def _add_width_order(m: pyo.ConcreteModel, t: Template) -> None:
    """Linear in width units: monotone widths, the widening ratio of a super-block, bottleneck ratios."""
    specs, w, b = t.specs, m.width_units, m.btn_units
    ratio = t.problem.max_width_ratio
    with_btn_ratio = [j for j in t.super_blocks if specs[j].btn_ratio]
    m.monotone = pyo.Constraint(pyo.Set(initialize=range(1, len(specs))), rule=lambda mm, j: w[j] >= w[j - 1])
    m.width_ratio = pyo.Constraint(pyo.Set(initialize=t.super_blocks if ratio else []),
                                   rule=lambda mm, j: w[j] <= ratio * w[j - 1])
    m.btn_lower = pyo.Constraint(pyo.Set(initialize=with_btn_ratio),
                                 rule=lambda mm, j: b[j] >= specs[j].btn_ratio[0] * w[j])
    m.btn_upper = pyo.Constraint(pyo.Set(initialize=with_btn_ratio),
                                 rule=lambda mm, j: b[j] <= specs[j].btn_ratio[1] * w[j])


# ------------------------------------------------------------------------------------------ values
def _initialise(m: pyo.ConcreteModel) -> None:
    """A starting point for local solvers: mid widths, uniform mid depths, largest kernels."""
    t = model_data(m).template
    widths: list[int] = []
    for j in m.B:
        lo, hi = t.width_units[j]
        units = max(lo, min(hi, round((lo + hi) / 4)))
        if widths and units < widths[-1]:
            units = min(hi, widths[-1])
        widths.append(units)
        _set_units(m.width_units[j], units)
    for j in m.SB:
        lo, hi = t.btn_units[j]
        btn = max(lo, min(hi, round(0.5 * widths[j])))
        _set_units(m.btn_units[j], btn)
        if not m.depth[j].fixed:
            m.depth[j].set_value(round((m.depth[j].lb + m.depth[j].ub) / 2))
        if j in m.SE:
            m.se_units[j].set_value(max(1, math.floor(8 * btn / 32)))
        if j in m.SAME:
            m.same_width[j].set_value(int(widths[j] == widths[j - 1]))
    for (j, k) in m.KC:
        if not m.kernel[j, k].fixed:
            m.kernel[j, k].set_value(int(k == max(t.specs[j].k)))
    _sync_log_variables(m)


def _set_units(var: Any, units: float) -> None:
    if not var.fixed:
        var.set_value(units, skip_validation=True)


def _sync_log_variables(m: pyo.ConcreteModel) -> None:
    """The ``log`` formulation's log-variables follow the widths."""
    if model_data(m).formulation == "log":
        for j in m.B:
            m.log_width[j].set_value(math.log(pyo.value(m.width[j])))
        for j in m.SB:
            m.log_btn[j].set_value(math.log(pyo.value(m.btn[j])))


def decode(m: pyo.ConcreteModel) -> Architecture:
    """The architecture at the model's current variable values (sizes rounded to integers)."""
    problem = model_data(m).problem
    step = problem.width_step
    blocks = []
    c_in = problem.in_channels
    for j, sp in enumerate(model_data(m).template.specs):
        width = step * int(round(pyo.value(m.width_units[j])))
        k = max(sp.k, key=lambda kk: pyo.value(m.kernel[j, kk]))
        if isinstance(sp, ConvSpec):
            blocks.append(Block("conv", c_in, width, k, sp.s))
        else:
            blocks.append(Block(sp.type, c_in, width, k, sp.s, step * int(round(pyo.value(m.btn_units[j]))),
                                int(round(pyo.value(m.depth[j])))))
        c_in = width
    return Architecture(tuple(blocks), resolution=problem.resolution, num_classes=problem.num_classes,
                        name=problem.name)


def load_architecture(m: pyo.ConcreteModel, arch: Architecture) -> None:
    """Set the model's variables to ``arch`` (a warm start, or to evaluate constraints at it)."""
    data = model_data(m)
    step = data.problem.width_step
    for j, b in enumerate(arch.blocks):
        _set_units(m.width_units[j], b.c_out / step)
        for (jj, k) in m.KC:
            if jj == j and not m.kernel[jj, k].fixed:
                m.kernel[jj, k].set_value(int(k == b.k))
        if j in m.SB:
            _set_units(m.btn_units[j], b.btn / step)
            if not m.depth[j].fixed:
                m.depth[j].set_value(b.L)
            if j in m.SE:
                m.se_units[j].set_value(b.se // 8)
            if j in m.SAME:
                m.same_width[j].set_value(b.same_width)
    _sync_log_variables(m)
    _set_depth_spread(m, data)


def _set_depth_spread(m: pyo.ConcreteModel, data: ModelData) -> None:
    """The depth spread at the loaded depths (the variance capped at its bound in paper mode)."""
    depths = metrics.penalised_depths(data.terms, data.problem.mode)
    var = max(0.0, float(metrics.depth_variance([pyo.value(d) for d in depths])))
    m.depth_spread.set_value(math.sqrt(var) if data.problem.mode == Mode.TINYNAS else min(var, m.depth_spread.ub))
