"""Small design problems and exhaustive enumeration of their whole discrete space (for tests)."""
from __future__ import annotations

import itertools
from typing import Iterator

from deepmad_pyomo.errors import DesignError
from deepmad_pyomo.space.arch import Architecture, Block
from deepmad_pyomo.space.metrics import evaluate
from deepmad_pyomo.space.problem import ConvSpec, DesignProblem


def tiny_problem(mode: str = "tinynas", family: str = "k1kxk1", flops: float = 6e6, **over) -> DesignProblem:
    d = {"name": f"tiny-{family}-{mode}", "resolution": 32, "num_classes": 10,
         "objective": {"mode": mode, "rho0": 0.5},
         "budgets": {"flops": flops, "params": 0.2e6},
         "stem": {"out": [16, 24], "k": [3], "s": 1},
         "stages": [{"type": family, "s": 2, "out": [16, 40], "btn_ratio": [0.25, 1], "L": [1, 3], "k": [3, 5]},
                    {"type": family, "s": 2, "out": [32, 48], "btn_ratio": [0.25, 1], "L": [1, 3], "k": [3]}]}
    if family.startswith("k1dw"):
        for st in d["stages"]:
            st["btn_ratio"] = [1, 2]
    d.update(over)
    return DesignProblem.from_dict(d)


def _values(lo: int, hi: int, step: int) -> range:
    return range(-(-lo // step) * step, hi + 1, step)


def architectures(p: DesignProblem) -> Iterator[Architecture]:
    """Every architecture of the template (bounds on sizes only; budgets and rho are checked later)."""
    specs = [p.stem, *p.stages] + ([p.head] if p.head else [])
    choices = []
    for sp in specs:
        widths = _values(*sp.out, p.width_step)
        if isinstance(sp, ConvSpec):
            choices.append([(w, None, 1, k) for w in widths for k in sp.k])
        else:
            btns = _values(1, sp.out[1] * 8, p.width_step)
            choices.append([(w, b, L, k) for w in widths for b in btns for L in range(sp.L[0], sp.L[1] + 1)
                            for k in sp.k
                            if (not sp.btn_ratio or sp.btn_ratio[0] * w <= b <= sp.btn_ratio[1] * w)])
    for combo in itertools.product(*choices):
        blocks, c_in = [], p.in_channels
        for sp, (w, b, L, k) in zip(specs, combo):
            blocks.append(Block("conv", c_in, w, k, sp.s) if isinstance(sp, ConvSpec)
                          else Block(sp.type, c_in, w, k, sp.s, b, L))
            c_in = w
        try:
            yield Architecture(tuple(blocks), resolution=p.resolution, num_classes=p.num_classes)
        except DesignError:
            continue


def optimum(p: DesignProblem, depths: list[tuple[int, int]] | None = None) -> tuple[float, Architecture | None]:
    """The best objective over every feasible architecture (optionally with depths in a box)."""
    best, arg = float("-inf"), None
    for a in architectures(p):
        if depths and not all(lo <= b.L <= hi for b, (lo, hi) in zip(a.super_blocks, depths)):
            continue
        m = evaluate(a, p.objective, p.resolution)
        if m.objective > best and not p.check(a, m):
            best, arg = m.objective, a
    return best, arg


TINY_SUITE = ("k1kxk1-60m", "k1dwsek1-30m")  # the two fastest CIFAR problems: the batch tests' suite
