"""The design problem as a Pyomo ``ConcreteModel`` (a nonconvex MINLP), built from :mod:`metrics`.

Components a Pyomo user finds (``j`` runs over the template's blocks, stem first):

- ``width_units[j]`` (integer), ``width[j] = width_step * width_units[j]``;
- ``btn_units[j]``, ``btn[j]`` (super-blocks), ``depth[j]``, ``kernel[j, k]`` (one-hot choice of ``k``),
  ``k2[j]`` (kernel area), ``se_units[j]``/``se[j]`` (SE width, exact through its integer bounds);
- ``stage_entropy[m]``, ``depth_penalty``, ``objective`` (maximise);
- ``flops``, ``params`` (scaled to 1e9 and 1e6), ``layers`` and their ``*_budget`` constraints,
  ``rho_bound[p]`` (``sum log w >= L (log L - log rho0)``, the effectiveness bound multiplied
  through), ``monotone[j]``, ``width_ratio[j]``, ``btn_lower[j]``/``btn_upper[j]``.

Two formulations of the same problem: ``natural`` (logs of the width expressions) and ``log``
(continuous ``log_width``/``log_btn`` variables tied by ``exp(log_width) == width``, making the
entropy bilinear in depth and log-widths). A third, ``gp``, is a relaxation for bounds: widths and
bottlenecks are continuous and live only in log-space (``width = exp(log_width)``), so every cost
(FLOPs, params) is a sum of exponentials of linear forms, convex as in geometric programming, and the
only nonconvexity left is the objective's products of log-widths.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Sequence

import pyomo.environ as pyo

from ..errors import DesignError
from ..space import metrics
from ..space.arch import Architecture, Block
from ..space.problem import ConvSpec, DesignProblem, SuperBlockSpec

FORMULATIONS = ("natural", "log", "gp")
FLOPS_SCALE, PARAMS_SCALE = 1e9, 1e6


@dataclass
class FormulationOptions:
    """``formulation``: natural, log or gp; ``relax``: drop integrality; ``kernels``: fix each block's
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


@dataclass
class SymBlock:
    """A block whose fields are Pyomo expressions (or numbers), read by :mod:`metrics`."""

    type: str
    c_in: Any
    c_out: Any
    k2: Any
    s: int
    btn: Any = None
    L: Any = 1
    se: Any = None
    same_width: Any = 1


def _specs(problem: DesignProblem) -> list[ConvSpec | SuperBlockSpec]:
    return [problem.stem, *problem.stages] + ([problem.head] if problem.head else [])


def _units(rng: tuple[int, int], step: int, where: str) -> tuple[int, int]:
    lo, hi = math.ceil(rng[0] / step), rng[1] // step
    if lo > hi:
        raise DesignError(where, f"range {list(rng)} holds no multiple of {step}")
    return lo, hi


def build_pyomo_model(problem: DesignProblem, options: FormulationOptions | None = None) -> pyo.ConcreteModel:
    """The MINLP of ``problem``: maximise ``sum_j alpha_j H_j - beta Q`` subject to the budgets, the
    effectiveness bound, monotone widths and the template's bounds."""
    opt = options or FormulationOptions()
    step = problem.width_step
    specs = _specs(problem)
    n = len(specs)
    sb = [j for j, sp in enumerate(specs) if isinstance(sp, SuperBlockSpec)]
    m = pyo.ConcreteModel(name=problem.name)
    m.problem = problem  # for decoding
    m.options = opt
    m.B = pyo.Set(initialize=range(n), doc="blocks of the template, stem first")
    m.SB = pyo.Set(initialize=sb, doc="super-blocks")
    dom = pyo.NonNegativeReals if opt.relax else pyo.NonNegativeIntegers
    binary = pyo.UnitInterval if opt.relax else pyo.Binary

    def width_bounds(mm: Any, j: int) -> tuple[int, int]:
        sp = specs[j]
        if isinstance(sp, ConvSpec) and sp.out[0] == sp.out[1] and sp.out[0] % step:
            raise DesignError(f"blocks[{j}].out", f"fixed width {sp.out[0]} is not a multiple of {step}")
        return _units(sp.out, step, "stem.out" if j == 0 else f"stages[{j - 1}].out")

    gp = opt.formulation == "gp"
    m.gp = gp

    def widths(name: str, index: Any, bounds: Any, what: str) -> None:
        """``name`` (an Expression) over ``index``: ``step * <name>_units`` (integer), or in ``gp``
        ``exp(log_<name>)`` with a continuous log-variable."""
        if gp:
            logs = pyo.Var(index, bounds=lambda mm, j: _log_range(bounds(mm, j), step),
                           doc=f"log of the {what} (continuous: a relaxation)")
            setattr(m, f"log_{name}", logs)
            setattr(m, name, pyo.Expression(index, rule=lambda mm, j: pyo.exp(logs[j]), doc=what))
        else:
            units = pyo.Var(index, domain=dom, bounds=bounds, doc=f"{what} / width_step")
            setattr(m, f"{name}_units", units)
            setattr(m, name, pyo.Expression(index, rule=lambda mm, j: step * units[j], doc=what))

    widths("width", m.B, width_bounds, "output width")

    def btn_bounds(mm: Any, j: int) -> tuple[int, int]:
        sp = specs[j]
        lo, hi = sp.btn or (1, 10 ** 9)
        if sp.btn_ratio:
            lo = max(lo, math.ceil(sp.btn_ratio[0] * sp.out[0]))
            hi = min(hi, math.floor(sp.btn_ratio[1] * sp.out[1]))
        return _units((max(lo, 1), hi), step, f"stages[{j - 1}].btn")

    widths("btn", m.SB, btn_bounds, "bottleneck width")
    m.unit_bounds = {("width", j): width_bounds(m, j) for j in range(n)}
    m.unit_bounds.update({("btn", j): btn_bounds(m, j) for j in sb})
    m.depth = pyo.Var(m.SB, domain=dom, bounds=lambda mm, j: specs[j].L, doc="blocks in the super-block")

    m.KC = pyo.Set(dimen=2, initialize=[(j, k) for j in range(n) for k in specs[j].k])
    m.kernel = pyo.Var(m.KC, domain=binary, doc="kernel size choice (one-hot)")
    m.one_kernel = pyo.Constraint(m.B, rule=lambda mm, j: sum(mm.kernel[j, k] for k in specs[j].k) == 1)
    m.k2 = pyo.Expression(m.B, rule=lambda mm, j: sum(k * k * mm.kernel[j, k] for k in specs[j].k),
                          doc="kernel area k^2")
    se_blocks = [j for j in sb if specs[j].type == "k1dwsek1"]
    if se_blocks and step % 4:
        raise DesignError("width_step", f"{step}: SE widths are exact only for multiples of 4", "8")
    m.SE = pyo.Set(initialize=se_blocks)
    # se = 8 * max(1, floor(btn / 32)) for btn a multiple of 4; these lower bounds make the least
    # feasible se_units exactly that, and larger se only costs budget.
    m.se_units = pyo.Var(m.SE, domain=pyo.NonNegativeReals if gp else dom, bounds=(1, None), doc="SE width / 8")
    m.se = pyo.Expression(m.SE, rule=lambda mm, j: 8 * mm.se_units[j])
    m.se_floor = pyo.Constraint(m.SE, rule=lambda mm, j: 32 * mm.se_units[j] >= mm.btn[j] - 31)
    # inverted residuals keep an identity shortcut (an avg-pool in the official FLOPs at stride 2, an add
    # in the latency model) only when the width does not change: same_width = 1 is forced when the widths
    # are equal, and costs only
    # (the gp relaxation drops this avg-pool cost: a relaxation stays valid when costs go down)
    same = [j for j in sb if specs[j].type in ("k1dwk1", "k1dwsek1") and not gp]
    m.SAME = pyo.Set(initialize=same)
    m.same_width = pyo.Var(m.SAME, domain=binary, doc="1 when the super-block keeps its input width")
    m.same_width_def = pyo.Constraint(
        m.SAME, rule=lambda mm, j: mm.width_units[j] - mm.width_units[j - 1] >= 1 - mm.same_width[j])
    _fix(m, specs, opt)

    def sym_blocks(depth_of: Any) -> list[SymBlock]:
        out = []
        for j, sp in enumerate(specs):
            c_in = problem.in_channels if j == 0 else m.width[j - 1]
            if isinstance(sp, ConvSpec):
                out.append(SymBlock("conv", c_in, m.width[j], m.k2[j], sp.s))
            else:
                out.append(SymBlock(sp.type, c_in, m.width[j], m.k2[j], sp.s, m.btn[j], depth_of(j),
                                    m.se[j] if j in se_blocks else None, m.same_width[j] if j in same else 0))
        return out

    blocks = sym_blocks(lambda j: m.depth[j])
    m.blocks = blocks

    # log(k^2) is linear in the one-hot kernel choice (exact at integers, tighter when relaxed)
    known = {id(m.k2[j]): sum(math.log(k * k) * m.kernel[j, k] for k in specs[j].k) for j in m.B} \
        if opt.linear_kernel_log else {}
    if opt.formulation == "log":
        known.update(_log_variables(m, sb))
    if gp:
        known.update({id(m.width[j]): m.log_width[j] for j in m.B})
        known.update({id(m.btn[j]): m.log_btn[j] for j in m.SB})

    def log(x: Any) -> Any:
        return known[id(x)] if id(x) in known else metrics.default_log(x)

    terms = metrics.network_terms(blocks, problem.resolution, problem.num_classes, log=log)
    m.terms = terms
    settings = problem.objective
    entropies = metrics.stage_entropies(terms, settings, log=log)
    m.M = pyo.Set(initialize=range(len(entropies)), doc="stages")
    m.stage_entropy = pyo.Expression(m.M, rule=lambda mm, i: entropies[i], doc="alpha_j * H_j")
    _depth_penalty(m, terms, problem, specs)
    m.objective = pyo.Objective(expr=sum(m.stage_entropy[i] for i in m.M) - m.depth_penalty, sense=pyo.maximize)
    if opt.cutoff is not None:
        m.cutoff = pyo.Constraint(expr=sum(m.stage_entropy[i] for i in m.M) - m.depth_penalty >= opt.cutoff)

    budgets = problem.budgets
    m.flops = pyo.Expression(expr=getattr(terms, problem.budget_metric("flops")) / FLOPS_SCALE,
                             doc=f"{problem.budget_metric('flops')} / 1e9")
    m.params = pyo.Expression(expr=getattr(terms, problem.budget_metric("params")) / PARAMS_SCALE,
                              doc=f"{problem.budget_metric('params')} / 1e6")
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

    rho_pairs = metrics.rho_terms(terms, problem.mode)
    log_rho0 = math.log(settings.rho0)
    m.P = pyo.Set(initialize=range(len(rho_pairs)))
    m.rho_bound = pyo.Constraint(m.P, rule=lambda mm, p: _rho_bound(*rho_pairs[p], log_rho0),
                                 doc="effectiveness rho <= rho0, multiplied through by the layer count")
    # linear in width units, or in log-widths (gp): a <= f * b  <=>  log a <= log f + log b
    w = (lambda j: m.log_width[j]) if gp else (lambda j: m.width_units[j])
    b = (lambda j: m.log_btn[j]) if gp else (lambda j: m.btn_units[j])
    times = (lambda f, x: math.log(f) + x) if gp else (lambda f, x: f * x)
    m.monotone = pyo.Constraint(pyo.Set(initialize=range(1, n)), rule=lambda mm, j: w(j) >= w(j - 1))
    ratio = problem.max_width_ratio
    m.width_ratio = pyo.Constraint(pyo.Set(initialize=[j for j in sb] if ratio else []),
                                   rule=lambda mm, j: w(j) <= times(ratio, w(j - 1)))
    m.btn_lower = pyo.Constraint(pyo.Set(initialize=[j for j in sb if specs[j].btn_ratio]),
                                 rule=lambda mm, j: b(j) >= times(specs[j].btn_ratio[0], w(j)))
    m.btn_upper = pyo.Constraint(pyo.Set(initialize=[j for j in sb if specs[j].btn_ratio]),
                                 rule=lambda mm, j: b(j) <= times(specs[j].btn_ratio[1], w(j)))
    _initialise(m, specs)
    return m


def _log_range(units: tuple[int, int], step: int) -> tuple[float, float]:
    return math.log(units[0] * step), math.log(units[1] * step)


def width_units_value(m: pyo.ConcreteModel, j: int) -> float:
    """Block ``j``'s output width in width steps at the model's current values (any formulation)."""
    if m.gp:
        return math.exp(pyo.value(m.log_width[j])) / m.problem.width_step
    return pyo.value(m.width_units[j])


def btn_units_value(m: pyo.ConcreteModel, j: int) -> float:
    if m.gp:
        return math.exp(pyo.value(m.log_btn[j])) / m.problem.width_step
    return pyo.value(m.btn_units[j])


def _set_units(m: pyo.ConcreteModel, kind: str, j: int, units: float) -> None:
    step = m.problem.width_step
    if m.gp:
        (m.log_width if kind == "width" else m.log_btn)[j].set_value(math.log(units * step))
    else:
        var = (m.width_units if kind == "width" else m.btn_units)[j]
        if not var.fixed:
            var.set_value(units, skip_validation=True)


def _rho_bound(layers: Any, log_width_sum: Any, log_rho0: float) -> Any:
    """``layers / exp(log_width_sum / layers) <= rho0`` as ``log_width_sum >= layers (log layers - log rho0)``."""
    log_layers = math.log(layers) if isinstance(layers, (int, float)) else pyo.log(layers)
    return log_width_sum >= layers * (log_layers - log_rho0)


def _fix(m: pyo.ConcreteModel, specs: list[Any], opt: FormulationOptions) -> None:
    sb = list(m.SB)
    for name, values in (("kernels", opt.kernels), ("depths", opt.depths)):
        if values is not None and len(values) != (len(specs) if name == "kernels" else len(sb)):
            raise DesignError(name, f"{len(values)} values", f"one per {'block' if name == 'kernels' else 'super-block'}")
    for j, k in enumerate(opt.kernels or []):
        if k is None:
            continue
        if k not in specs[j].k:
            raise DesignError(f"kernels[{j}]", f"{k} not allowed by the template", str(list(specs[j].k)))
        for kk in specs[j].k:
            m.kernel[j, kk].fix(int(kk == k))
    for j, d in zip(sb, opt.depths or []):
        if d is not None:
            lo, hi = specs[j].L
            if not lo <= d <= hi:
                raise DesignError(f"depths[{sb.index(j)}]", f"{d} outside the template's range", f"[{lo}, {hi}]")
            m.depth[j].fix(d)
    for j, (lo, hi) in zip(sb, opt.depth_bounds or []):
        if not m.depth[j].fixed:
            m.depth[j].setlb(max(lo, m.depth[j].lb))
            m.depth[j].setub(min(hi, m.depth[j].ub))


def _log_variables(m: pyo.ConcreteModel, sb: list[int]) -> dict[int, Any]:
    """Continuous log-variables for widths and bottlenecks, tied by ``exp(log_width) == width``."""
    step = m.problem.width_step

    def bounds(var: Any) -> Any:
        return lambda mm, j: (math.log(var[j].lb * step), math.log(var[j].ub * step))

    m.log_width = pyo.Var(m.B, bounds=bounds(m.width_units), doc="log of the output width")
    m.log_btn = pyo.Var(m.SB, bounds=bounds(m.btn_units), doc="log of the bottleneck width")
    m.log_width_link = pyo.Constraint(m.B, rule=lambda mm, j: pyo.exp(mm.log_width[j]) == mm.width[j])
    m.log_btn_link = pyo.Constraint(m.SB, rule=lambda mm, j: pyo.exp(mm.log_btn[j]) == mm.btn[j])
    known = {id(m.width[j]): m.log_width[j] for j in m.B}
    known.update({id(m.btn[j]): m.log_btn[j] for j in m.SB})
    return known


def _depth_penalty(m: pyo.ConcreteModel, terms: metrics.NetworkTerms, problem: DesignProblem,
                   specs: list[Any]) -> None:
    """``beta*exp(sd)`` with ``sd^2 >= Var(L)`` (tinynas) or ``beta*exp(v)`` with ``v >= Var(L)`` (paper)."""
    settings = problem.objective
    depths = metrics.penalised_depths(terms, problem.mode)
    ranges = [(d.lb, d.ub) for d in depths]
    var_max = _max_variance(ranges)
    if problem.mode == "tinynas":
        m.depth_spread = pyo.Var(bounds=(0, math.sqrt(var_max)), initialize=0, doc="std of the penalised depths")
        m.depth_spread_def = pyo.Constraint(expr=m.depth_spread ** 2 >= metrics.depth_variance(depths))
    else:
        # exp(Var) overflows solvers over wide depth ranges: a design whose penalty exceeds the largest
        # possible score has a negative objective and loses to any uniform-depth design, so cap Var there.
        cap = math.log(max(_score_upper_bound(m, problem, specs), settings.beta) / settings.beta) + 1.0
        m.depth_spread = pyo.Var(bounds=(0, min(var_max, cap)), initialize=0, doc="variance of the depths")
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


def _score_upper_bound(m: pyo.ConcreteModel, problem: DesignProblem, specs: list[Any]) -> float:
    """The stage-entropy sum with every width, depth and kernel at its upper bound (all terms grow)."""
    step = problem.width_step
    blocks = []
    for j, sp in enumerate(specs):
        c_in = problem.in_channels if j == 0 else step * m.unit_bounds["width", j - 1][1]
        c_out = step * m.unit_bounds["width", j][1]
        if isinstance(sp, ConvSpec):
            blocks.append(SymBlock("conv", c_in, c_out, max(sp.k) ** 2, sp.s))
        else:
            blocks.append(SymBlock(sp.type, max(c_in, c_out), c_out, max(sp.k) ** 2, sp.s,
                                   step * m.unit_bounds["btn", j][1], sp.L[1], 8))
    terms = metrics.network_terms(blocks, problem.resolution, problem.num_classes)
    return float(sum(metrics.stage_entropies(terms, problem.objective)))


def _initialise(m: pyo.ConcreteModel, specs: list[Any]) -> None:
    """A starting point for local solvers: mid widths, uniform mid depths, largest kernels."""
    widths = []
    for j in m.B:
        lo, hi = m.unit_bounds["width", j]
        units = max(lo, min(hi, round((lo + hi) / 4)))
        if widths and units < widths[-1]:
            units = min(hi, widths[-1])
        widths.append(units)
        _set_units(m, "width", j, units)
    for j in m.SB:
        lo, hi = m.unit_bounds["btn", j]
        btn = max(lo, min(hi, round(0.5 * widths[j])))
        _set_units(m, "btn", j, btn)
        if not m.depth[j].fixed:
            m.depth[j].set_value(round((m.depth[j].lb + m.depth[j].ub) / 2))
        if j in m.SE:
            m.se_units[j].set_value(max(1, math.floor(8 * btn / 32)))
        if j in m.SAME:
            m.same_width[j].set_value(int(widths[j] == widths[j - 1]))
    for (j, k) in m.KC:
        if not m.kernel[j, k].fixed:
            m.kernel[j, k].set_value(int(k == max(specs[j].k)))
    _sync_log_variables(m)


def _sync_log_variables(m: pyo.ConcreteModel) -> None:
    """The ``log`` formulation's log-variables follow the widths."""
    if m.options.formulation == "log":
        for j in m.B:
            m.log_width[j].set_value(math.log(pyo.value(m.width[j])))
        for j in m.SB:
            m.log_btn[j].set_value(math.log(pyo.value(m.btn[j])))


def decode(m: pyo.ConcreteModel) -> Architecture:
    """The architecture at the model's current variable values (widths rounded to the width step:
    exact for the integer formulations, an approximation of the ``gp`` relaxation's point)."""
    problem: DesignProblem = m.problem
    specs = _specs(problem)
    step = problem.width_step
    blocks = []
    c_in = problem.in_channels
    for j, sp in enumerate(specs):
        width = step * int(round(width_units_value(m, j)))
        k = max(sp.k, key=lambda kk: pyo.value(m.kernel[j, kk]))
        if isinstance(sp, ConvSpec):
            blocks.append(Block("conv", c_in, width, k, sp.s))
        else:
            blocks.append(Block(sp.type, c_in, width, k, sp.s, step * int(round(btn_units_value(m, j))),
                                int(round(pyo.value(m.depth[j])))))
        c_in = width
    return Architecture(tuple(blocks), resolution=problem.resolution, num_classes=problem.num_classes,
                        name=problem.name)


def load_architecture(m: pyo.ConcreteModel, arch: Architecture) -> None:
    """Set the model's variables to ``arch`` (a warm start, or to evaluate constraints at it)."""
    step = m.problem.width_step
    for j, b in enumerate(arch.blocks):
        _set_units(m, "width", j, b.c_out / step)
        for (jj, k) in m.KC:
            if jj == j and not m.kernel[jj, k].fixed:
                m.kernel[jj, k].set_value(int(k == b.k))
        if j in m.SB:
            _set_units(m, "btn", j, b.btn / step)
            if not m.depth[j].fixed:
                m.depth[j].set_value(b.L)
            if j in m.SE:
                m.se_units[j].set_value(b.se // 8)
            if j in m.SAME:
                m.same_width[j].set_value(b.same_width)
    _sync_log_variables(m)
    if hasattr(m, "depth_spread"):
        depths = metrics.penalised_depths(m.terms, m.problem.mode)
        var = max(0.0, float(metrics.depth_variance([pyo.value(d) for d in depths])))
        m.depth_spread.set_value(math.sqrt(var) if m.problem.mode == "tinynas" else min(var, m.depth_spread.ub))
