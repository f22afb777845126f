"""Design problems as data: a template (the super-block sequence with bounds), budgets, objective
settings and the input resolution; YAML or JSON files, and the paper's presets."""
from __future__ import annotations

import json
from dataclasses import asdict, dataclass, replace
from importlib import resources
from pathlib import Path
from typing import Any

import yaml

from ..errors import DesignError
from .arch import Architecture
from .families import SUPER_BLOCK_TYPES
from .metrics import MODES, Metrics, ObjectiveSettings

PRESETS = ("deepmad-r18", "deepmad-r34", "deepmad-r50", "deepmad-29m", "deepmad-29m-288", "deepmad-50m",
           "deepmad-89m")
# What each budget is measured in, per mode (DESIGN.md 3): MACs and all params (paper), the official
# counts (tinynas).
BUDGET_METRIC = {"paper": {"flops": "macs", "params": "params"},
                 "tinynas": {"flops": "tinynas_flops", "params": "tinynas_params"}}


def _range(v: Any, where: str, integer: bool = True) -> tuple[Any, Any]:
    if isinstance(v, (int, float)) and not isinstance(v, bool):
        v = [v, v]
    if not (isinstance(v, (list, tuple)) and len(v) == 2 and all(isinstance(x, (int, float)) for x in v)):
        raise DesignError(where, f"expected [min, max], got {v!r}")
    lo, hi = (int(x) for x in v) if integer else (float(x) for x in v)
    if lo > hi or lo <= 0:
        raise DesignError(where, f"empty or non-positive range {list(v)}", "0 < min <= max")
    return lo, hi


def _choices(v: Any, where: str) -> tuple[int, ...]:
    v = [v] if isinstance(v, int) else v
    if not isinstance(v, (list, tuple)) or not v or any(not isinstance(k, int) or k < 1 or k % 2 == 0 for k in v):
        raise DesignError(where, f"expected a list of odd kernel sizes, got {v!r}", "e.g. [3, 5]")
    return tuple(sorted(set(v)))


@dataclass(frozen=True)
class ConvSpec:
    """A plain conv of the template (stem or 1x1 head): its output width range, kernels, stride."""

    out: tuple[int, int]
    k: tuple[int, ...] = (3,)
    s: int = 1

    @classmethod
    def from_dict(cls, d: dict[str, Any], where: str) -> "ConvSpec":
        _no_unknown(d, {"out", "k", "s"}, where)
        return cls(out=_range(d.get("out"), f"{where}.out"), k=_choices(d.get("k", 3), f"{where}.k"),
                   s=_stride(d.get("s", 1), f"{where}.s"))


@dataclass(frozen=True)
class SuperBlockSpec:
    """One super-block of the template: its type and stride are fixed; the solver picks the output
    width, bottleneck width (absolute ``btn`` or ``btn_ratio`` times the output width), depth, kernel."""

    type: str
    s: int
    out: tuple[int, int]
    L: tuple[int, int]
    k: tuple[int, ...] = (3, 5)
    btn: tuple[int, int] | None = None
    btn_ratio: tuple[float, float] | None = None

    @classmethod
    def from_dict(cls, d: dict[str, Any], where: str) -> "SuperBlockSpec":
        _no_unknown(d, {"type", "s", "out", "L", "k", "btn", "btn_ratio"}, where)
        if d.get("type") not in SUPER_BLOCK_TYPES:
            raise DesignError(f"{where}.type", f"unknown super-block type {d.get('type')!r}",
                              ", ".join(SUPER_BLOCK_TYPES))
        btn = _range(d["btn"], f"{where}.btn") if d.get("btn") is not None else None
        ratio = _range(d["btn_ratio"], f"{where}.btn_ratio", integer=False) if d.get("btn_ratio") else None
        if btn is None and ratio is None:
            raise DesignError(f"{where}.btn", "give btn: [min, max] or btn_ratio: [min, max]")
        return cls(type=d["type"], s=_stride(d.get("s", 1), f"{where}.s"), out=_range(d.get("out"), f"{where}.out"),
                   L=_range(d.get("L"), f"{where}.L"), k=_choices(d.get("k", [3, 5]), f"{where}.k"),
                   btn=btn, btn_ratio=ratio)


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

    @property
    def latency_limit_ms(self) -> float | None:
        """The predicted latency a design may have: the budget less its margin."""
        return None if self.latency_ms is None else self.latency_ms * (1 - self.latency_margin)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> "Budgets":
        _no_unknown(d, {"flops", "params", "layers", "latency_ms", "latency_model", "latency_margin"}, "budgets")
        for key in ("flops", "params", "layers", "latency_ms"):
            v = d.get(key)
            if v is not None and (isinstance(v, bool) or not isinstance(v, (int, float)) or v <= 0):
                raise DesignError(f"budgets.{key}", f"must be a positive number, got {v!r}")
        if d.get("latency_ms") is not None and not d.get("latency_model"):
            raise DesignError("budgets.latency_model", "a latency budget needs a latency model file",
                              "the path written by 'deepmad latency profile --out'")
        margin = d.get("latency_margin", 0.0)
        if isinstance(margin, bool) or not isinstance(margin, (int, float)) or not 0 <= margin < 1:
            raise DesignError("budgets.latency_margin", f"must be a fraction in [0, 1), got {margin!r}",
                              "e.g. 0.1 to design to 90% of latency_ms")
        return cls(**{k: d.get(k) for k in ("flops", "params", "layers", "latency_ms", "latency_model")},
                   latency_margin=float(margin))


@dataclass(frozen=True)
class DesignProblem:
    """A whole design problem. ``stem`` and ``head`` are plain convs; ``stages`` the super-blocks."""

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
    def mode(self) -> str:
        return self.objective.mode

    def with_mode(self, mode: str | None) -> "DesignProblem":
        return self if mode is None else replace(self, objective=replace(self.objective, mode=mode))

    def with_budgets(self, **changes: Any) -> "DesignProblem":
        return replace(self, budgets=replace(self.budgets, **changes))

    @property
    def strides(self) -> list[int]:
        return [self.stem.s] + [st.s for st in self.stages] + ([self.head.s] if self.head else [])

    def budget_metric(self, budget: str) -> str:
        """Name of the :class:`Metrics` field that ``budget`` ('flops' or 'params') is measured in."""
        return BUDGET_METRIC[self.mode][budget]

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["objective"] = {**d["objective"], "alpha": list(self.objective.alpha or []) or None}
        d["budgets"] = {k: v for k, v in d["budgets"].items() if v is not None and (k != "latency_margin" or v)}
        if self.head is None:
            d.pop("head")
        d["stages"] = [{k: v for k, v in st.items() if v is not None} for st in d["stages"]]
        return d

    @classmethod
    def from_dict(cls, d: Any, name: str | None = None) -> "DesignProblem":
        if not isinstance(d, dict):
            raise DesignError("problem", "expected a mapping with stem, stages, budgets")
        allowed = {"name", "stem", "stages", "budgets", "objective", "head", "resolution", "num_classes",
                   "in_channels", "width_step", "max_width_ratio", "description"}
        _no_unknown(d, allowed, "problem")
        for key in ("stem", "stages", "budgets"):
            if key not in d:
                raise DesignError(key, "missing", "see a preset: deepmad presets --show deepmad-r50")
        if not isinstance(d["stages"], list) or not d["stages"]:
            raise DesignError("stages", "expected a non-empty list of super-blocks")
        obj = d.get("objective") or {}
        _no_unknown(obj, {"alpha", "beta", "rho0", "mode"}, "objective")
        alpha = obj.get("alpha")
        if alpha is not None and (not isinstance(alpha, list) or not alpha
                                  or not all(_is_number(a) and a >= 0 for a in alpha)):
            raise DesignError("objective.alpha", f"expected a list of non-negative numbers, got {alpha!r}")
        for key in ("beta", "rho0"):
            if key in obj and not (_is_number(obj[key]) and obj[key] >= 0):
                raise DesignError(f"objective.{key}", f"expected a non-negative number, got {obj[key]!r}")
        ratio = d.get("max_width_ratio", 4.0)
        if ratio is not None and not (_is_number(ratio) and ratio >= 1):
            raise DesignError("max_width_ratio", f"expected a number >= 1 or null, got {ratio!r}")
        prob = cls(
            name=str(d.get("name") or name or "problem"),
            stem=ConvSpec.from_dict(d["stem"], "stem"),
            stages=tuple(SuperBlockSpec.from_dict(st, f"stages[{i}]") for i, st in enumerate(d["stages"])),
            budgets=Budgets.from_dict(d["budgets"] or {}),
            objective=ObjectiveSettings(**obj),
            head=ConvSpec.from_dict(d["head"], "head") if d.get("head") else None,
            resolution=_int(d.get("resolution", 224), "resolution"),
            num_classes=_int(d.get("num_classes", 1000), "num_classes"),
            in_channels=_int(d.get("in_channels", 3), "in_channels"),
            width_step=_int(d.get("width_step", 8), "width_step"),
            max_width_ratio=ratio, description=str(d.get("description", "")),
        )
        prob.validate()
        return prob

    def validate(self) -> None:
        n2 = sum(s == 2 for s in self.strides)
        if self.resolution % 2 ** n2 or self.resolution < 2 ** n2:
            raise DesignError("resolution", f"{self.resolution} does not halve evenly through {n2} stride-2 "
                              "layers", f"a multiple of {2 ** n2}")
        n_stages = sum(s == 2 for s in self.strides[1:]) + 1
        if self.objective.alpha is not None and len(self.objective.alpha) != n_stages:
            raise DesignError("objective.alpha", f"{len(self.objective.alpha)} weights for {n_stages} stages",
                              f"a list of {n_stages} numbers")
        if self.width_step < 1:
            raise DesignError("width_step", f"must be >= 1, got {self.width_step}")

    def check(self, arch: Architecture, metrics: Metrics | None = None) -> list[str]:
        """Every budget and template bound that ``arch`` breaks, one message each (empty: feasible)."""
        from .metrics import evaluate

        out: list[str] = []
        if metrics is None:
            try:
                metrics = evaluate(arch, self.objective, self.resolution)
            except DesignError:  # another stage count than the template's: report it, weigh stages by default
                metrics = evaluate(arch, replace(self.objective, alpha=None), self.resolution)
        m = metrics
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
        blocks = arch.blocks
        expected = 1 + len(self.stages) + (1 if self.head else 0)
        if len(blocks) != expected:
            return out + [f"template: {len(blocks)} blocks, the template has {expected}"]
        specs: list[Any] = [self.stem, *self.stages] + ([self.head] if self.head else [])
        for i, (b, sp) in enumerate(zip(blocks, specs)):
            where = f"blocks[{i}]"
            want = "conv" if isinstance(sp, ConvSpec) else sp.type
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


def _is_number(v: Any) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def _int(v: Any, where: str) -> int:
    if not (_is_number(v) and v == int(v) and v >= 1):
        raise DesignError(where, f"expected a positive integer, got {v!r}")
    return int(v)


def _stride(v: Any, where: str) -> int:
    if v not in (1, 2):
        raise DesignError(where, f"stride {v!r} not supported", "1 or 2")
    return int(v)


def _no_unknown(d: Any, allowed: set[str], where: str) -> None:
    if not isinstance(d, dict):
        raise DesignError(where, f"expected a mapping, got {type(d).__name__}")
    unknown = sorted(set(d) - allowed)
    if unknown:
        raise DesignError(f"{where}.{unknown[0]}", "unknown key", ", ".join(sorted(allowed)))


def preset(name: str) -> DesignProblem:
    """One of the paper's seven budgets (:data:`PRESETS`)."""
    key = name.lower()
    if key not in PRESETS:
        raise DesignError("preset", f"unknown preset {name!r}", ", ".join(PRESETS))
    text = resources.files(__package__).joinpath("presets", f"{key}.yaml").read_text()
    return DesignProblem.from_dict(yaml.safe_load(text), name=key)


def load_problem(path: str | Path) -> DesignProblem:
    """A design problem from a YAML or JSON file."""
    path = Path(path)
    try:
        text = path.read_text()
    except OSError as e:
        raise DesignError(str(path), f"cannot read file: {e.strerror}") from None
    try:
        data = json.loads(text) if path.suffix == ".json" else yaml.safe_load(text)
    except (json.JSONDecodeError, yaml.YAMLError) as e:
        raise DesignError(str(path), f"not valid {'JSON' if path.suffix == '.json' else 'YAML'}: "
                          f"{str(e).splitlines()[0]}") from None
    prob = DesignProblem.from_dict(data, name=path.stem)
    model = prob.budgets.latency_model
    if model and not Path(model).is_absolute() and not Path(model).exists():
        prob = prob.with_budgets(latency_model=str(path.parent / model))  # relative to the spec file
    return prob


def resolve_problem(preset_name: str | None = None, spec: str | Path | None = None,
                    mode: str | None = None) -> DesignProblem:
    if (preset_name is None) == (spec is None):
        raise DesignError("problem", "give exactly one of --preset or --spec", ", ".join(PRESETS))
    prob = preset(preset_name) if preset_name else load_problem(spec)  # type: ignore[arg-type]
    if mode is not None and mode not in MODES:
        raise DesignError("mode", f"unknown mode {mode!r}", " or ".join(MODES))
    return prob.with_mode(mode)


# Which preset a released structure was designed for (for ``deepmad metrics`` to check it against).
RELEASED_PRESET = {"deepmad-R18": "deepmad-r18", "deepmad-R50": "deepmad-r50", "deepmad-29M-224": "deepmad-29m"}
