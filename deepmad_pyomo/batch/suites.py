"""Suites of design problems as data: ``paper``, ``imagenet``, ``ladder`` and ``cifar``.

The generated suites (:data:`GENERATED`) are folders of YAML design problems shipped in the package
(``suite_data/<suite>/``), one file per problem, the same schema as the presets
(:meth:`DesignProblem.from_dict`). The files are *generated* by the small functions below
(:func:`generate`) so that budgets scale in one consistent way; ``python -m deepmad_pyomo.batch.suites``
rewrites them, and a test checks that they are up to date.

- ``paper``: the seven presets of the paper, read from ``deepmad_pyomo/space/presets`` (no copy).
- ``imagenet``: 24 more ImageNet problems, 8 per family (bottleneck ``k1kxk1``, inverted residual
  ``k1dwk1``, inverted residual + SE ``k1dwsek1``), MAC budgets from 0.4 G to 16 G at 224 and 288.
- ``ladder``: the twelve RegNet MAC budgets (0.2 G to 32 G, :data:`LADDER_GMACS`) for each of the three
  families at 224x224: 36 rungs, each family's certified front. Same templates and params rule as
  ``imagenet`` (a rung at a budget ``imagenet`` also has is the same problem under another name).
- ``cifar``: 32x32 input, 10 classes, a stride-1 stem and three stride-2 stages; 9 problems.

How budgets scale (one rule for every suite): the params budget follows the MACs budget by a power
law fitted to the paper's own budgets, applied to the MACs the same network would take at the
reference resolution (params do not grow with resolution, MACs grow with its square):

- bottleneck: ``params = 25.55 M * (macs_ref / 4.13 G) ** 0.9`` (through R18 11.7 M at 1.82 G and
  R50 25.55 M at 4.13 G);
- inverted residual (with or without SE): ``params = 29 M * (macs_ref / 4.5 G) ** 0.8`` (29 M at 4.5 G,
  80 M at 16 G; 4.2 M at 0.4 G, close to EfficientNet-B0's 5.3 M at 0.39 G).

The templates are the presets' (five super-blocks; a 1x1 head on the inverted-residual families);
the upper ends of the width ranges are scaled by ``sqrt(macs_ref / reference macs)`` (MACs grow with
the square of width at fixed depth), clamped to [0.5, 2], and rounded to multiples of 8.
"""
from __future__ import annotations

import math
import sys
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any, Iterable

import yaml

from ..errors import DesignError
from ..fileio import plain, read_yaml
from ..space.families import BlockType, Mode, default_rho0
from ..space.problem import PRESETS, DesignProblem, load_problem, preset
from .paths import check_plain_name

SUITES = ("paper", "imagenet", "ladder", "cifar")
GENERATED = ("imagenet", "ladder", "cifar")  # the suites written to suite_data/ ("paper" is the presets)
DATA = "suite_data"
FAMILIES = (BlockType.K1KXK1, BlockType.K1DWK1, BlockType.K1DWSEK1)

# (family, MACs budget in G, resolution) of the imagenet suite: 6 budgets at 224 and 2 at 288 per family,
# none equal to a paper budget.
IMAGENET = [
    *(("k1kxk1", f, 224) for f in (0.6, 1.0, 2.5, 6.0, 9.0, 12.0)), ("k1kxk1", 3.0, 288), ("k1kxk1", 8.0, 288),
    *(("k1dwk1", f, 224) for f in (0.4, 0.6, 1.0, 2.0, 4.0, 8.0)), ("k1dwk1", 1.0, 288), ("k1dwk1", 3.0, 288),
    *(("k1dwsek1", f, 224) for f in (0.4, 0.6, 1.0, 2.0, 6.0, 16.0)), ("k1dwsek1", 1.5, 288),
    ("k1dwsek1", 10.0, 288),
]
# The ladder: RegNet's twelve MAC budgets (G), each family at 224x224.
LADDER = "ladder"
LADDER_GMACS = (0.2, 0.4, 0.6, 0.8, 1.6, 3.2, 4.0, 6.4, 8.0, 12.0, 16.0, 32.0)
# (family, MACs budget in M) of the cifar suite.
CIFAR = [("k1kxk1", m) for m in (60, 150, 500)] + [(f, m) for f in ("k1dwk1", "k1dwsek1") for m in (30, 100, 300)]


@dataclass(frozen=True)
class ScalingLaw:
    """``params = params_ref * (macs / macs_ref) ** exponent`` and the widths' reference MACs."""

    macs_ref: float
    params_ref: float
    exponent: float

    def params(self, macs: float) -> float:
        return self.params_ref * (macs / self.macs_ref) ** self.exponent

    def width_scale(self, macs: float, lo: float = 0.5, hi: float = 2.0) -> float:
        return min(hi, max(lo, math.sqrt(macs / self.macs_ref)))


LAWS = {"k1kxk1": ScalingLaw(4.13e9, 25.55e6, 0.9), "k1dwk1": ScalingLaw(4.5e9, 29e6, 0.8),
        "k1dwsek1": ScalingLaw(4.5e9, 29e6, 0.8)}
# CIFAR (32x32, stride-1 stem): ResNet-56 is 125 M MACs / 0.85 M params, a CIFAR ResNet-18 0.56 G / 11 M.
CIFAR_LAWS = {"k1kxk1": ScalingLaw(500e6, 5e6, 1.0), "k1dwk1": ScalingLaw(300e6, 4e6, 0.9),
              "k1dwsek1": ScalingLaw(300e6, 4e6, 0.9)}


def _r8(x: float) -> int:
    return max(8, int(round(x / 8)) * 8)


def _scaled(lo: int, hi: int, w: float) -> list[int]:
    """A width range whose upper end is scaled by ``w`` (the lower end kept, and below the upper)."""
    top = _r8(hi * w)
    return [min(lo, top), top]


# The presets' templates (deepmad_pyomo/space/presets): (stride, out range, depth range) per super-block.
_BOTTLENECK = [(2, (32, 256), (1, 3)), (2, (64, 1024), (1, 20)), (2, (128, 2048), (1, 20)),
               (1, (128, 2048), (1, 20)), (2, (256, 2048), (1, 20))]
_INVERTED = [(1, (16, 128), (1, 4)), (2, (32, 256), (1, 12)), (2, (48, 512), (1, 12)), (2, (64, 1024), (1, 12)),
             (2, (128, 2048), (1, 12))]
_CIFAR = [(1, (16, 128), (1, 6)), (2, (32, 256), (1, 12)), (2, (64, 512), (1, 12)), (2, (128, 1024), (1, 12))]


def _problem(name: str, description: str, family: str, macs: float, params: float, resolution: int,
             num_classes: int, stem_s: int, template: list[tuple[int, tuple[int, int], tuple[int, int]]],
             w: float) -> dict[str, Any]:
    bottleneck = family == "k1kxk1"
    n_stages = sum(s == 2 for s, _, _ in template)  # stages: one per stride-2 super-block, plus the last
    stages = [{"type": family, "s": s, "out": _scaled(*out, w),
               "btn_ratio": [0.1, 1.0] if bottleneck else [1, 6], "L": list(L), "k": [3, 5]}
              for s, out, L in template]
    d: dict[str, Any] = {
        "name": name, "description": description, "resolution": resolution, "num_classes": num_classes,
        "objective": {"alpha": [1] * n_stages + [8], "beta": 10, "rho0": default_rho0([family]), "mode": Mode.PAPER.value},
        "budgets": {"flops": float(round(macs, -6)), "params": float(round(params, -4))},
        "width_step": 8, "max_width_ratio": 4,
        "stem": {"out": [16, 64], "k": [3], "s": stem_s},
        "stages": stages,
    }
    if not bottleneck:  # a 1x1 head conv, as in the presets, its range scaled like the widths
        d["head"] = {"out": [_r8(1024 * min(w, 1.0)), _r8(2048 * w)], "k": [1], "s": 1}
    return d


def imagenet_problem(family: str, gmacs: float, resolution: int = 224) -> dict[str, Any]:
    """An ImageNet design problem of ``family`` with a budget of ``gmacs`` G MACs at ``resolution``."""
    law = LAWS[family]
    macs = gmacs * 1e9
    macs_ref = macs * (224 / resolution) ** 2  # what the same network takes at 224
    name = f"{family}-{gmacs:g}g-{resolution}"
    kind = {"k1kxk1": "bottleneck (ResNet-like)", "k1dwk1": "inverted residual (MobileNetV2-like)",
            "k1dwsek1": "inverted residual + SE"}[family]
    desc = f"ImageNet {resolution}x{resolution}, {kind}, {gmacs:g} G MACs"
    return _problem(name, desc, family, macs, law.params(macs_ref), resolution, 1000, 2,
                    _BOTTLENECK if family == "k1kxk1" else _INVERTED, law.width_scale(macs_ref))


def ladder_problem(family: str, gmacs: float) -> dict[str, Any]:
    """A rung of the ladder: :func:`imagenet_problem` at 224, named ``<family>-<gmacs>g``."""
    d = imagenet_problem(family, gmacs, 224)
    d["name"] = f"{family}-{gmacs:g}g"
    d["description"] = d["description"].replace("ImageNet", "RegNet-budget ladder, ImageNet")
    return d


def cifar_problem(family: str, mmacs: float) -> dict[str, Any]:
    """A CIFAR (32x32, 10 classes) problem: stride-1 stem, a stride-1 stage and three stride-2 stages."""
    law = CIFAR_LAWS[family]
    macs = mmacs * 1e6
    w = law.width_scale(macs, lo=0.25, hi=1.0)
    d = _problem(f"{family}-{mmacs:g}m", f"CIFAR 32x32, 10 classes, {family}, {mmacs:g} M MACs", family, macs,
                 law.params(macs), 32, 10, 1, _CIFAR, w)
    if "head" in d:
        d["head"]["out"] = [_r8(256 * max(w, 0.5)), _r8(1280 * w)]
    return d


def generate(suite: str) -> list[dict[str, Any]]:
    """The problems of ``suite`` as plain dicts (what the YAML files hold), in a stable order."""
    if suite == "paper":
        return [plain(preset(n).to_dict()) for n in PRESETS]
    if suite == "imagenet":
        return [imagenet_problem(*row) for row in IMAGENET]
    if suite == LADDER:
        return [ladder_problem(str(fam), g) for fam in FAMILIES for g in LADDER_GMACS]
    if suite == "cifar":
        return [cifar_problem(*row) for row in CIFAR]
    raise DesignError("suite", f"unknown suite {suite!r}", ", ".join(SUITES))


def dump(problem: dict[str, Any], suite: str) -> str:
    head = (f"# {problem['description']}\n# Suite '{suite}', generated by deepmad_pyomo.batch.suites "
            "(python -m deepmad_pyomo.batch.suites): edit the generator, not this file.\n"
            "# FLOPs budgets are MACs of conv + linear layers (paper mode).\n")
    return head + yaml.safe_dump(problem, sort_keys=False, default_flow_style=None)


def write(suite: str, root: str | Path | None = None) -> list[Path]:
    """(Re)write the YAML files of ``suite`` under ``root`` (default: the package's data folder)."""
    from ..fileio import atomic_write_text

    if suite not in GENERATED:
        raise DesignError("suite", f"suite {suite!r} is not written to files", ", ".join(GENERATED))
    folder = Path(root or Path(__file__).resolve().parent / DATA) / suite
    folder.mkdir(parents=True, exist_ok=True)
    problems = generate(suite)
    wanted = {f"{p['name']}.yaml" for p in problems}
    for stale in folder.glob("*.yaml"):
        if stale.name not in wanted:
            stale.unlink()
    paths = []
    for p in problems:
        DesignProblem.from_dict(p)  # every generated problem must be valid
        path = folder / f"{p['name']}.yaml"
        atomic_write_text(path, dump(p, suite))
        paths.append(path)
    return paths


@dataclass(frozen=True)
class Suite:
    """A named, ordered list of design problems."""

    name: str
    problems: tuple[DesignProblem, ...]

    def __iter__(self) -> Any:
        return iter(self.problems)

    def __len__(self) -> int:
        return len(self.problems)


def family(problem: DesignProblem) -> str:
    """The block family of a problem (its super-block types joined by '+')."""
    return "+".join(sorted({st.type for st in problem.stages}))


def _sort_key(p: DesignProblem) -> tuple[Any, ...]:
    return (family(p), p.resolution, p.budgets.flops or 0, p.name)


def load_suite(spec: str) -> Suite:
    """A shipped suite by name (:data:`SUITES`), or a folder of YAML/JSON problem files (named after the
    folder). Problems are ordered by family, resolution and FLOPs budget. The folder's name and the
    problems' names must be plain names (:func:`~.paths.check_plain_name`): they become file names."""
    if spec == "paper":
        return Suite(spec, tuple(sorted((preset(n) for n in PRESETS), key=_sort_key)))
    if spec in SUITES:
        folder = resources.files(__package__).joinpath(DATA, spec)
        problems = []
        for entry in sorted(folder.iterdir(), key=lambda e: e.name):
            if entry.name.endswith(".yaml"):
                problems.append(DesignProblem.from_dict(read_yaml(entry.read_text()),
                                                        name=entry.name[:-5]))
        if not problems:
            raise DesignError("suite", f"the package holds no problems for suite {spec!r}",
                              "reinstall the package (suite_data/*/*.yaml)")
        return Suite(spec, tuple(sorted(problems, key=_sort_key)))
    path = Path(spec)
    if path.is_dir():
        files = sorted(f for f in path.iterdir() if f.suffix in (".yaml", ".yml", ".json"))
        if not files:
            raise DesignError("suite", f"folder {spec!r} holds no .yaml/.json design problems")
        problems = [load_problem(f) for f in files]
        for f, prob in zip(files, problems):  # the names become file names: refused before any run
            check_plain_name(prob.name, f"{f}: name")
        names = [p.name for p in problems]
        dup = sorted({n for n in names if names.count(n) > 1})
        if dup:
            raise DesignError("suite", f"folder {spec!r}: problem name {dup[0]!r} used twice")
        name = check_plain_name(path.resolve().name, f"suite folder {spec}")
        return Suite(name, tuple(sorted(problems, key=_sort_key)))
    raise DesignError("suite", f"unknown suite {spec!r} (and no such folder)", ", ".join(SUITES))


def load_suites(specs: Iterable[str]) -> list[Suite]:
    """Several suites (a comma-separated string or a list); suite names must be distinct."""
    if isinstance(specs, str):
        specs = [s for s in specs.split(",") if s.strip()]
    out = [load_suite(s.strip()) for s in specs]
    names = [s.name for s in out]
    if len(set(names)) != len(names):
        raise DesignError("suite", f"suite names must be distinct, got {names}")
    if not out:
        raise DesignError("suite", "no suite given", ", ".join(SUITES))
    return out


def main(argv: list[str] | None = None) -> int:
    """``python -m deepmad_pyomo.batch.suites [SUITE ...]``: regenerate the shipped YAML files."""
    names = (argv if argv is not None else sys.argv[1:]) or list(GENERATED)
    for name in names:
        paths = write(name)
        print(f"{name}: {len(paths)} problems in {paths[0].parent}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
