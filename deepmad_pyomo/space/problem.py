"""Design problems as data: a template (the super-block sequence with bounds), budgets, objective
settings and the input resolution; YAML or JSON files (docs/problems.md), and the paper's presets."""
from __future__ import annotations

import math
from dataclasses import asdict, dataclass, replace
from importlib import resources
from pathlib import Path
from typing import Any

from ..errors import DesignError
from ..fileio import read_data, read_yaml
from .blocks import Architecture
from .families import BlockType, Mode
from .limits import MAX_LAYERS, MAX_MACS, MAX_PARAMS, number, quoted
from .metrics import MODES, Metrics, ObjectiveSettings, evaluate
from .released import RELEASED
from .schema import validate_problem

PRESETS = ("deepmad-r18", "deepmad-r34", "deepmad-r50", "deepmad-29m", "deepmad-29m-288", "deepmad-50m",
           "deepmad-89m")
# What each budget is measured in, per mode (docs/counting.md): MACs and all params (paper), the official
# counts (tinynas).
BUDGET_METRIC = {Mode.PAPER: {"flops": "macs", "params": "params"},
                 Mode.TINYNAS: {"flops": "tinynas_flops", "params": "tinynas_params"}}
# Which preset a released structure was designed for (for ``deepmad metrics`` to check it against).
RELEASED_PRESET = {name: r.preset for name, r in RELEASED.items()}


@dataclass(frozen=True)
class ConvSpec:
    """A plain conv of the template (stem or 1x1 head): its output width range, kernels, stride."""

    out: tuple[int, int]
    k: tuple[int, ...] = (3,)
    s: int = 1


@dataclass(frozen=True)
class SuperBlockSpec:
    """One super-block of the template: its type and stride are fixed; the solver picks the output
    width, bottleneck width (absolute ``btn`` or ``btn_ratio`` times the output width), depth, kernel."""

    type: BlockType
    s: int
    out: tuple[int, int]
    L: tuple[int, int]
    k: tuple[int, ...] = (3, 5)
    btn: tuple[int, int] | None = None
    btn_ratio: tuple[float, float] | None = None


@dataclass(frozen=True)
class Budgets:
    """Upper bounds; ``flops``/``params`` are measured as :data:`BUDGET_METRIC` says for the mode.
    ``latency_ms`` needs ``latency_model`` (a file made by ``deepmad latency profile``); designs are held
    to a predicted ``latency_ms * (1 - latency_margin)``, a safety margin for the model's error (its
    file reports the error on held-out networks)."""

    flops: float | None = None
    params: float | None = None
    layers: int | None = None
    latency_ms: float | None = None
    latency_model: str | None = None
    latency_margin: float = 0.0

    def __post_init__(self) -> None:
        """The limits hold where budgets are made in Python too (``with_budgets``): finite, positive, within
        :data:`MAX_MACS`, :data:`MAX_PARAMS`, :data:`MAX_LAYERS`; ``None`` is no budget."""
        for name, limit in (("flops", MAX_MACS), ("params", MAX_PARAMS), ("layers", MAX_LAYERS), ("latency_ms", None)):
            value = getattr(self, name)
            if value is None:
                continue
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) or value <= 0:
                raise DesignError(f"budgets.{name}", f"{quoted(value)} is not a finite number > 0",
                                  "a finite number > 0, or none for no budget")
            if limit:
                limit.check(value, f"budgets.{name}", f"a number > 0 and <= {number(limit.most)}")

    @property
    def latency_limit_ms(self) -> float | None:
        """The predicted latency a design may have: the budget less its margin."""
        return None if self.latency_ms is None else self.latency_ms * (1 - self.latency_margin)


@dataclass(frozen=True)
class DesignProblem:
    """A whole design problem. ``stem`` and ``head`` are plain convs; ``stages`` the super-blocks.
    Files hold it as docs/problems.md describes (schema: :mod:`.schema`)."""

    name: str
    stem: ConvSpec
    stages: tuple[SuperBlockSpec, ...]
    budgets: Budgets
    objective: ObjectiveSettings = ObjectiveSettings()
    head: ConvSpec | None = None
    resolution: int = 224
    num_classes: int = 1000
    in_channels: int = 3
    width_step: int = 8
    max_width_ratio: float | None = 4.0
    description: str = ""

    @property
    def mode(self) -> Mode:
        """How the objective and the budgets are counted (``objective.mode``)."""
        return self.objective.mode

    def with_mode(self, mode: Mode | str | None) -> DesignProblem:
        """The same problem in ``mode`` (unchanged when ``None``)."""
        return self if mode is None else replace(self, objective=replace(self.objective, mode=mode))

    def with_budgets(self, **changes: Any) -> DesignProblem:
        """The same problem with some budgets changed (``flops=2e9``)."""
        return replace(self, budgets=replace(self.budgets, **changes))

    @property
    def specs(self) -> tuple[Any, ...]:
        """The specs of its blocks in order: the stem, the super-blocks, then the head when there is one."""
        return (self.stem, *self.stages) + ((self.head,) if self.head else ())

    @property
    def strides(self) -> list[int]:
        """The template's strides, stem to head."""
        return [sp.s for sp in self.specs]

    def budget_metric(self, budget: str) -> str:
        """Name of the :class:`Metrics` field that ``budget`` ('flops' or 'params') is measured in."""
        return BUDGET_METRIC[self.mode][budget]

    def to_dict(self) -> dict[str, Any]:
        """The mapping a problem file holds (enums as their strings), for :meth:`from_dict` to read back."""
        d = asdict(self)
        alpha = list(self.objective.alpha or []) or None
        d["objective"] = {**d["objective"], "alpha": alpha, "mode": str(self.mode)}
        d["budgets"] = {k: v for k, v in d["budgets"].items() if v is not None and (k != "latency_margin" or v)}
        if self.head is None:
            d.pop("head")
        d["stages"] = [{k: str(v) if k == "type" else v for k, v in st.items() if v is not None}
                       for st in d["stages"]]
        return d

    @classmethod
    def from_dict(cls, d: Any, name: str | None = None) -> DesignProblem:
        """The problem a file's mapping describes (``name`` when it names none); a :class:`DesignError`
        naming the first field that is wrong."""
        f = validate_problem(d)
        return cls(name=f.name or name or "problem", description=f.description,
                   stem=ConvSpec(**dict(f.stem)), stages=tuple(SuperBlockSpec(**dict(st)) for st in f.stages),
                   head=ConvSpec(**dict(f.head)) if f.head else None,
                   budgets=Budgets(**dict(f.budgets)), objective=ObjectiveSettings(**dict(f.objective)),
                   resolution=f.resolution, num_classes=f.num_classes, in_channels=f.in_channels,
                   width_step=f.width_step, max_width_ratio=f.max_width_ratio)

    def check(self, arch: Architecture, metrics: Metrics | None = None) -> list[str]:
        """Every budget and template bound that ``arch`` breaks, one message each (empty: feasible)."""
        if metrics is None:
            try:
                metrics = evaluate(arch, self.objective, self.resolution)
            except DesignError:  # another stage count than the template's: report it, weigh stages by default
                metrics = evaluate(arch, replace(self.objective, alpha=None), self.resolution)
        return self._budget_faults(arch, metrics) + self._template_faults(arch)

    def _budget_faults(self, arch: Architecture, m: Metrics) -> list[str]:
        """The budgets and the effectiveness bound that ``arch``, of metrics ``m``, breaks."""
        out: list[str] = []
        for budget in ("flops", "params"):
            limit = getattr(self.budgets, budget)
            value = getattr(m, self.budget_metric(budget))
            if limit is not None and value > limit * (1 + 1e-12):
                out.append(f"budget {budget}: {self.budget_metric(budget)} {value:.6g} > {limit:.6g} "
                           f"(+{100 * (value / limit - 1):.2f}%)")
        if self.budgets.layers is not None and m.layers > self.budgets.layers:
            out.append(f"budget layers: {m.layers} > {self.budgets.layers}")
        if self.budgets.latency_ms is not None:
            from ..latency import load_cached, predict_ms

            model = load_cached(self.budgets.latency_model)  # type: ignore[arg-type]  # cached per file
            lat, limit = predict_ms(model, arch, resolution=self.resolution), self.budgets.latency_limit_ms
            if lat > limit * (1 + 1e-9):
                margin = f" ({self.budgets.latency_ms:.4g} ms less the {self.budgets.latency_margin:.0%} margin)" \
                    if self.budgets.latency_margin else ""
                out.append(f"budget latency_ms: predicted {lat:.4g} ms > {limit:.4g} ms{margin} "
                           f"(+{100 * (lat / limit - 1):.2f}%; {model.describe()})")
        if m.rho > self.objective.rho0 * (1 + 1e-9):
            out.append(f"effectiveness: rho {m.rho:.4f} > rho0 {self.objective.rho0}")
        return out

    def _template_faults(self, arch: Architecture) -> list[str]:
        """The template's bounds (types, strides, widths, depths, kernels) that ``arch`` breaks."""
        blocks = arch.blocks
        expected = 1 + len(self.stages) + (1 if self.head else 0)
        if len(blocks) != expected:
            return [f"template: {len(blocks)} blocks, the template has {expected}"]
        out: list[str] = []
        for i, (b, sp) in enumerate(zip(blocks, self.specs)):
            where = f"blocks[{i}]"
            want = BlockType.CONV if isinstance(sp, ConvSpec) else sp.type
            if b.type != want or b.s != sp.s:
                out.append(f"{where}: {b.type} s{b.s}, the template has {want} s{sp.s}")
                continue
            if not sp.out[0] <= b.c_out <= sp.out[1]:
                out.append(f"{where}.out: {b.c_out} outside [{sp.out[0]}, {sp.out[1]}]")
            if b.c_out % self.width_step and not (isinstance(sp, ConvSpec) and sp.out[0] == sp.out[1]):
                out.append(f"{where}.out: {b.c_out} is not a multiple of {self.width_step}")
            if b.k not in sp.k:
                out.append(f"{where}.k: {b.k} not in {list(sp.k)}")
            if isinstance(sp, SuperBlockSpec):
                if not sp.L[0] <= b.L <= sp.L[1]:
                    out.append(f"{where}.L: {b.L} outside [{sp.L[0]}, {sp.L[1]}]")
                if b.btn % self.width_step:
                    out.append(f"{where}.btn: {b.btn} is not a multiple of {self.width_step}")
                if sp.btn and not sp.btn[0] <= b.btn <= sp.btn[1]:
                    out.append(f"{where}.btn: {b.btn} outside [{sp.btn[0]}, {sp.btn[1]}]")
                if sp.btn_ratio and not sp.btn_ratio[0] * b.c_out - 1e-9 <= b.btn <= sp.btn_ratio[1] * b.c_out + 1e-9:
                    out.append(f"{where}.btn: {b.btn} outside [{sp.btn_ratio[0]:g}, {sp.btn_ratio[1]:g}] x out "
                               f"{b.c_out}")
            if i > 0 and b.c_out < blocks[i - 1].c_out:
                out.append(f"{where}.out: {b.c_out} < blocks[{i - 1}].out {blocks[i - 1].c_out} "
                           "(widths must be non-decreasing)")
            if (self.max_width_ratio and 0 < i <= len(self.stages)
                    and b.c_out > self.max_width_ratio * blocks[i - 1].c_out):
                out.append(f"{where}.out: {b.c_out} > {self.max_width_ratio:g} x blocks[{i - 1}].out")
        if blocks[0].c_in != self.in_channels:
            out.append(f"blocks[0].in: {blocks[0].c_in}, the problem has {self.in_channels} input channels")
        return out


def preset(name: str) -> DesignProblem:
    """One of the paper's seven budgets (:data:`PRESETS`)."""
    key = name.lower()
    if key not in PRESETS:
        raise DesignError("preset", f"unknown preset {name!r}", ", ".join(PRESETS))
    text = resources.files(__package__).joinpath("presets", f"{key}.yaml").read_text()
    return DesignProblem.from_dict(read_yaml(text), name=key)


def load_problem(path: str | Path) -> DesignProblem:
    """A design problem from a YAML or JSON file."""
    path = Path(path)
    prob = DesignProblem.from_dict(read_data(path), name=path.stem)
    model = prob.budgets.latency_model
    if model and not Path(model).is_absolute() and not Path(model).exists():
        prob = prob.with_budgets(latency_model=str(path.parent / model))  # relative to the spec file
    return prob


def resolve_problem(preset_name: str | None = None, spec: str | Path | None = None,
                    mode: Mode | str | None = None) -> DesignProblem:
    """The problem of ``--preset`` or ``--spec`` (exactly one), in ``mode`` when given."""
    if (preset_name is None) == (spec is None):
        raise DesignError("problem", "give exactly one of --preset or --spec", ", ".join(PRESETS))
    prob = preset(preset_name) if preset_name else load_problem(spec)  # type: ignore[arg-type]
    if mode is not None and mode not in MODES:
        raise DesignError("mode", f"unknown mode {mode!r}", " or ".join(MODES))
    return prob.with_mode(mode)

