"""A design problem's template as its mathematical programs see it: the blocks in order (stem, super-blocks,
head), the ranges of their widths in width steps, and the blocks :mod:`metrics` reads with symbolic fields.

Both the Pyomo MINLP (:mod:`.formulation`) and the convex node relaxation (:mod:`.relaxation`) start here.
"""
from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from ..errors import DesignError
from ..space import metrics
from ..space.blocks import btn_range
from ..space.families import DEPTHWISE, WITH_SE
from ..space.problem import ConvSpec, DesignProblem, SuperBlockSpec

Range = tuple[int, int]
Spec = ConvSpec | SuperBlockSpec


@dataclass
class SymBlock:
    """A block whose fields are expressions (Pyomo, CasADi) or numbers, read by :mod:`metrics`."""

    type: str
    c_in: Any
    c_out: Any
    k2: Any
    s: int
    btn: Any = None
    L: Any = 1
    se: Any = None
    same_width: Any = 1


@dataclass(frozen=True)
class Template:
    """The blocks of ``problem`` in order with their output widths (``width_units``, per block) and bottleneck
    widths (``btn_units``, per super-block by block index) as ranges of multiples of the width step."""

    problem: DesignProblem
    specs: tuple[Spec, ...]
    width_units: tuple[Range, ...]
    btn_units: Mapping[int, Range]

    @classmethod
    def of(cls, problem: DesignProblem) -> Template:
        """The template of ``problem``; :class:`DesignError` when a range holds no multiple of the width step
        or SE widths cannot be exact (a width step that is not a multiple of 4)."""
        specs = problem.specs
        step = problem.width_step
        widths = tuple(_width_units(j, sp, step) for j, sp in enumerate(specs))
        btns = {j: _btn_units(j, sp, step) for j, sp in enumerate(specs) if isinstance(sp, SuperBlockSpec)}
        if step % 4 and any(sp.type in WITH_SE for sp in specs if isinstance(sp, SuperBlockSpec)):
            raise DesignError("width_step", f"{step}: SE widths are exact only for multiples of 4", "8")
        return cls(problem, specs, widths, btns)

    @property
    def step(self) -> int:
        return self.problem.width_step

    @property
    def super_blocks(self) -> list[int]:
        """Indices of the super-blocks among the blocks."""
        return [j for j, sp in enumerate(self.specs) if isinstance(sp, SuperBlockSpec)]

    @property
    def se_blocks(self) -> list[int]:
        """Super-blocks with squeeze-and-excitation."""
        return [j for j in self.super_blocks if self.specs[j].type in WITH_SE]

    @property
    def inverted_residuals(self) -> list[int]:
        """Super-blocks whose identity shortcut depends on keeping the input width."""
        return [j for j in self.super_blocks if self.specs[j].type in DEPTHWISE]

    def max_width(self, j: int) -> int:
        """Block ``j``'s widest output (channels)."""
        return self.step * self.width_units[j][1]

    def max_btn(self, j: int) -> int:
        """Super-block ``j``'s widest bottleneck (channels)."""
        return self.step * self.btn_units[j][1]


def _units(rng: Range, step: int, where: str) -> Range:
    lo, hi = math.ceil(rng[0] / step), rng[1] // step
    if lo > hi:
        raise DesignError(where, f"range {list(rng)} holds no multiple of {step}")
    return lo, hi


def _width_units(j: int, sp: Spec, step: int) -> Range:
    if isinstance(sp, ConvSpec) and sp.out[0] == sp.out[1] and sp.out[0] % step:
        raise DesignError(f"blocks[{j}].out", f"fixed width {sp.out[0]} is not a multiple of {step}")
    return _units(sp.out, step, "stem.out" if j == 0 else f"stages[{j - 1}].out")


def _btn_units(j: int, sp: SuperBlockSpec, step: int) -> Range:
    """The bottleneck widths the spec allows over its output width's range, as units of ``step``."""
    return _units(btn_range(sp.btn, sp.btn_ratio, *sp.out), step, f"stages[{j - 1}].btn")


def score_upper_bound(template: Template) -> float:
    """The stage-entropy sum with every width, depth and kernel at its upper bound (all terms grow)."""
    problem = template.problem
    blocks = []
    for j, sp in enumerate(template.specs):
        c_in = problem.in_channels if j == 0 else template.max_width(j - 1)
        c_out = template.max_width(j)
        if isinstance(sp, ConvSpec):
            blocks.append(SymBlock("conv", c_in, c_out, max(sp.k) ** 2, sp.s))
        else:
            blocks.append(SymBlock(sp.type, max(c_in, c_out), c_out, max(sp.k) ** 2, sp.s,
                                   template.max_btn(j), sp.L[1], 8))
    terms = metrics.network_terms(blocks, problem.resolution, problem.num_classes)
    return float(sum(metrics.stage_entropies(terms, problem.objective)))


def variance_cap(template: Template) -> float:
    """The largest depth variance worth modelling in paper mode: ``exp(Var)`` overflows solvers over wide
    depth ranges, and a design whose penalty exceeds the largest possible score has a negative objective,
    so it loses to any uniform-depth design."""
    beta = template.problem.objective.beta
    return math.log(max(score_upper_bound(template), beta) / beta) + 1.0
