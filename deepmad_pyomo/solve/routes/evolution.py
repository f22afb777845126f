"""The evolutionary baseline: the search the official DeepMAD code runs instead of a solver.

Our own implementation of its settings: a population of 256 architectures; each child
is a copy of a random member with two random block mutations; a mutation changes one field of one
block within the template's bounds - a super-block's output width, bottleneck width, depth or kernel
size, or the stem's/head's width or kernel - widths in ``width_step`` multiples; budgets and template
bounds are filters (a child that breaks any is discarded); the population keeps the best 256 by
objective. It starts from random feasible architectures (sampled in the template's box, filtered).

Every candidate is scored by :func:`metrics.evaluate` and filtered by :meth:`DesignProblem.check`
(no formula is written twice); candidates already seen are not evaluated again. The search runs until
``opts.time_limit`` or ``opts.extra['max_candidates']`` children, seeded by ``opts.seed``.

``Outcome.diagnostics``: ``candidates`` (children generated), ``evaluated`` (scored by metrics),
``valid`` (passed every filter), ``trace`` (``[candidates, cpu_s, best objective]`` each time the
best improved, and at the end), ``evaluate_us`` (mean microseconds per evaluation).
"""
from __future__ import annotations

import heapq
import math
import random
import time
from typing import Any

from ...space.arch import Architecture, Block
from ...space.blocks import btn_range
from ...space.metrics import evaluate
from ...space.problem import ConvSpec, DesignProblem, SuperBlockSpec
from ...version import __version__
from ..options import SolveOptions
from ..results import Status
from ..route import Outcome, Reporter, RouteKind, register

POPULATION = 256
MUTATIONS = 2
WIDTH_FACTORS = (0.5, 0.67, 0.8, 0.9, 1.1, 1.25, 1.5, 2.0)
DEPTH_STEPS = (-2, -1, 1, 2)
INIT_SAMPLES = 200_000   # random architectures tried at most for the initial population
REPORT_EVERY_S = 1.0
MARGIN_S = 1.0

Gene = tuple[int, int | None, int, int]  # (out, btn, L, k) of one block; btn None for plain convs
Genome = tuple[Gene, ...]


class Space:
    """The template's box: per block, the width range (in ``width_step`` units), kernels, depths, btn."""

    def __init__(self, problem: DesignProblem):
        self.problem = problem
        self.step = problem.width_step
        self.specs: list[Any] = list(problem.specs)

    def width_range(self, sp: Any) -> tuple[int, int]:
        lo, hi = sp.out
        if isinstance(sp, ConvSpec) and lo == hi:
            return lo, hi  # a fixed width need not be a multiple of width_step
        return self.step * math.ceil(lo / self.step), self.step * (hi // self.step)

    def btn_range(self, sp: SuperBlockSpec, out: int) -> tuple[int, int]:
        lo, hi = btn_range(sp.btn, sp.btn_ratio, out, out)
        lo = self.step * max(1, math.ceil(lo / self.step))
        return lo, max(lo, self.step * (hi // self.step))

    def _pick(self, rng: random.Random, lo: int, hi: int, scale: float) -> int:
        """A multiple of the width step in [lo, hi], drawn from the lower ``scale`` part of the range."""
        units = (hi - lo) // self.step
        return lo + self.step * int(rng.random() * scale * (units + 1) - 1e-12) if units > 0 else lo

    def sample(self, rng: random.Random) -> Genome:
        """A random point of the box: widths drawn from a random lower part of each range (so that
        small and large networks are both drawn) and made non-decreasing, then btn, depth, kernel."""
        scale = rng.random()
        genes: list[Gene] = []
        prev = 0
        for sp in self.specs:
            lo, hi = self.width_range(sp)
            out = max(self._pick(rng, lo, hi, scale), min(prev, hi))
            prev = out
            k = rng.choice(sp.k)
            if isinstance(sp, ConvSpec):
                genes.append((out, None, 1, k))
            else:
                blo, bhi = self.btn_range(sp, out)
                L = sp.L[0] + int(rng.random() * scale * (sp.L[1] - sp.L[0] + 1) - 1e-12)
                genes.append((out, self._pick(rng, blo, bhi, max(scale, rng.random())), L, k))
        return tuple(genes)

    def mutate(self, genome: Genome, rng: random.Random) -> Genome:
        """One random change of one block, within the template's bounds."""
        genes = list(genome)
        while True:
            i = rng.randrange(len(genes))
            sp = self.specs[i]
            out, btn, L, k = genes[i]
            fields = ["out"] + (["k"] if len(sp.k) > 1 else [])
            if isinstance(sp, SuperBlockSpec):
                fields += ["btn"] + (["L"] if sp.L[0] < sp.L[1] else [])
            lo, hi = self.width_range(sp)
            if lo == hi:
                fields.remove("out")
            if fields:
                break
        field = rng.choice(fields)
        if field == "out":
            out = self._scaled(out, lo, hi, rng)
        elif field == "btn":
            blo, bhi = self.btn_range(sp, out)
            btn = self._scaled(btn, blo, bhi, rng)
        elif field == "L":
            L = min(sp.L[1], max(sp.L[0], L + rng.choice(DEPTH_STEPS)))
        else:
            k = rng.choice([kk for kk in sp.k if kk != k])
        genes[i] = (out, btn, L, k)
        return tuple(genes)

    def _scaled(self, value: int, lo: int, hi: int, rng: random.Random) -> int:
        if lo >= hi:
            return lo
        new = self.step * round(value * rng.choice(WIDTH_FACTORS) / self.step)
        if new == value:
            new = value + self.step * rng.choice((-1, 1))
        return min(hi, max(lo, new))

    def architecture(self, genome: Genome) -> Architecture:
        blocks = []
        c_in = self.problem.in_channels
        for sp, (out, btn, L, k) in zip(self.specs, genome):
            if isinstance(sp, ConvSpec):
                blocks.append(Block("conv", c_in, out, k, sp.s))
            else:
                blocks.append(Block(sp.type, c_in, out, k, sp.s, btn, L))
            c_in = out
        return Architecture(tuple(blocks), resolution=self.problem.resolution,
                            num_classes=self.problem.num_classes, name=self.problem.name)


class Scorer:
    """``metrics.evaluate`` + ``problem.check`` with a memo of every genome already scored."""

    def __init__(self, space: Space):
        self.space = space
        self.problem = space.problem
        self.seen: dict[Genome, float | None] = {}
        self.evaluated = 0
        self.eval_s = 0.0

    def __call__(self, genome: Genome) -> float | None:
        """The objective of a valid genome, ``None`` for one that breaks a budget or bound."""
        if genome in self.seen:
            return self.seen[genome]
        t = time.perf_counter()
        arch = self.space.architecture(genome)
        m = evaluate(arch, self.problem.objective, self.problem.resolution)
        value = None if self.problem.check(arch, m) else m.objective
        self.eval_s += time.perf_counter() - t
        self.evaluated += 1
        if len(self.seen) < 2_000_000:
            self.seen[genome] = value
        return value


def builtin_version() -> str:
    return f"deepmad-pyomo {__version__}"


@register("evolution", RouteKind.BASELINE,
          "the official DeepMAD code's evolutionary search (population 256, two block mutations per child, budgets "
          "as filters), as the baseline", install="(built in)", probe=builtin_version)
def run(problem: DesignProblem, opts: SolveOptions, rep: Reporter) -> Outcome:
    t0, c0 = time.perf_counter(), time.process_time()
    deadline = t0 + opts.time_limit - MARGIN_S
    max_candidates = opts.extra.get("max_candidates")
    size = int(opts.extra.get("population", POPULATION))
    rng = random.Random(opts.seed)
    space = Space(problem)
    score = Scorer(space)

    population: list[tuple[float, int, Genome]] = []  # a min-heap on the objective
    members: set[Genome] = set()
    tie = 0
    sampled = 0
    if opts.warm_start is not None:
        g = tuple((b.c_out, b.btn, b.L, b.k) for b in opts.warm_start.blocks)
        v = score(g) if len(g) == len(space.specs) else None
        if v is not None:
            heapq.heappush(population, (v, tie, g))
            members.add(g)
    while len(population) < size and sampled < INIT_SAMPLES and time.perf_counter() < deadline:
        g = space.sample(rng)
        sampled += 1
        v = score(g)
        if v is not None and g not in members:
            tie += 1
            heapq.heappush(population, (v, tie, g))
            members.add(g)
    init_valid = len(population)
    rep.progress(f"evolution: {init_valid} random feasible architectures from {sampled} samples")
    if not population:
        return Outcome(Status.ERROR, message=f"no feasible architecture among {sampled} random samples",
                       diagnostics={"sampled": sampled, "evaluated": score.evaluated})

    best = max(population)
    trace: list[list[float]] = [[0, round(time.process_time() - c0, 4), best[0]]]
    rep.incumbent(space.architecture(best[2]), best[0], "evolution (initial population)")
    last_report = time.perf_counter()
    reported = best[0]
    candidates = valid = 0
    while time.perf_counter() < deadline and (max_candidates is None or candidates < max_candidates):
        parent = rng.choice(population)[2]
        child = parent
        for _ in range(MUTATIONS):
            child = space.mutate(child, rng)
        candidates += 1
        if child in members:
            continue
        v = score(child)
        if v is None:
            continue
        valid += 1
        if len(population) >= size:
            if v <= population[0][0]:
                continue
            _, _, out = heapq.heappop(population)
            members.discard(out)
        tie += 1
        heapq.heappush(population, (v, tie, child))
        members.add(child)
        if v > best[0]:
            best = (v, tie, child)
            trace.append([candidates, round(time.process_time() - c0, 4), v])
        now = time.perf_counter()
        if now - last_report >= REPORT_EVERY_S:
            last_report = now
            if best[0] > reported:
                reported = best[0]
                rep.incumbent(space.architecture(best[2]), best[0], f"evolution ({candidates:,} candidates)")
            rep.progress(f"evolution: {candidates:,} candidates, {valid:,} valid, best {best[0]:,.2f}")
    cpu = time.process_time() - c0
    trace.append([candidates, round(cpu, 4), best[0]])
    arch = space.architecture(best[2])
    if best[0] > reported:
        rep.incumbent(arch, best[0], f"evolution ({candidates:,} candidates)")
    diagnostics = {"candidates": candidates, "valid": valid, "evaluated": score.evaluated,
               "initial_samples": sampled, "initial_valid": init_valid, "population": size,
               "mutations_per_child": MUTATIONS, "seed": opts.seed, "cpu_s": round(cpu, 3),
               "evaluate_us": round(1e6 * score.eval_s / max(1, score.evaluated), 1), "trace": trace}
    stopped = "max_candidates" if max_candidates is not None and candidates >= max_candidates else "time_limit"
    diagnostics["stopped_by"] = stopped
    return Outcome(Status.FEASIBLE, [arch], message=f"evolution: {candidates:,} candidates (stopped by {stopped})",
                   diagnostics=diagnostics)
