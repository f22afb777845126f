"""Bonmin (COIN-OR, bundled in the casadi wheel) on the MINLP, as a heuristic.

On this nonconvex problem Bonmin's "best possible" values are not bounds, so none is ever reported.
The route runs the chosen algorithm (``B-OA`` by default; ``B-BB``, ``B-Hyb``, ``B-QG``, ``B-iFP``)
in up to three stages, each a real Bonmin solve, and returns every design it found:

1. ``structure``: the MINLP with widths and bottleneck widths continuous (depths and kernel choices
   integer) - Bonmin picks the discrete structure in about a second;
2. ``fixed``: the MINLP with those depths and kernels fixed (widths integer), started from stage 1;
3. ``full``: the whole MINLP (from ``opts.warm_start`` when given), 10 s of CPU per attempt; with
   ``bonmin_full_attempts`` > 1, restarted with the next random seed while time is left and no design
   was found (B-OA's success here depends on the seed: 4 of 6 seeds found 51,986-52,037 in 5-8 s of
   CPU on tinynas deepmad-r50, seeds 0, 1 and 5 found nothing in 10 s).

What makes B-OA work here (measured on tinynas-mode deepmad-r50): ``num_resolve_at_root`` (random
restarts of the root NLP; without it B-OA's outer approximation of the nonconvex constraints cuts off
every good integer point and it finds nothing in 30 s), and dropping constant constraint rows (Bonmin
declares a problem with a row that has no variables infeasible). CasADi's Bonmin stopped by a limit
returns its incumbent (``LIMIT_EXCEEDED`` with a finite ``f``), which is kept; with no incumbent it
returns ``f = 1e50``.

Bonmin's ``time_limit`` counts CPU seconds; each stage gets the wall time left scaled by the CPU/wall
ratio last measured (a loaded machine gives less CPU per wall second). Each solve runs in a forked
process (:func:`~deepmad_pyomo.solve.supervise.supervise`) that is killed at the route's wall-clock
deadline (Bonmin cannot be interrupted otherwise), so the route ends within ``opts.time_limit``; designs
are streamed as soon as a stage ends. The solves' CPU seconds are in the diagnostics ``bonmin_cpu_s``
and ``stages`` (a forked process's CPU is not in this process's own ``process_time``).

Bonmin's options: the profile's (``opts.profile``, :mod:`..profiles`; the default makes 10 random
restarts of the root NLP), then ``opts.extra``: ``bonmin_options`` (a dict passed to Bonmin, overriding them),
``bonmin_stages`` (a subset of ``("structure", "fixed", "full")``, in that order),
``bonmin_attempt_cpu_s`` (CPU seconds per attempt of the ``full`` stage, default 10),
``bonmin_full_attempts`` (seeds tried in the ``full`` stage, default 1).
"""
from __future__ import annotations

import math
import os
import time
from dataclasses import dataclass, field
from typing import Any

import casadi as ca
import pyomo.environ as pyo

from ...enums import StrEnum
from ...mp.formulation import (
    FormulationOptions,
    build_pyomo_model,
    decode,
    load_architecture,
)
from ...space.arch import Architecture
from ...space.metrics import evaluate
from ...space.problem import DesignProblem
from .. import profiles
from ..backends.casadi import BONMIN_QUIET, NLP, translate
from ..backends.casadi import version as casadi_version
from ..options import SolveOptions
from ..results import Status
from ..route import Outcome, Reporter, RouteKind, register
from ..supervise import Ending, supervise


class Stage(StrEnum):
    """The route's stages, in the order they run. Members are their strings."""

    STRUCTURE = "structure"  # widths continuous: Bonmin picks depths and kernel sizes
    FIXED = "fixed"          # those depths and kernels fixed, widths integer
    FULL = "full"            # the whole MINLP


STAGES = tuple(Stage)
# Share of the remaining time each stage may use (the last stage run gets everything left).
STAGE_SHARE = {Stage.STRUCTURE: 0.25, Stage.FIXED: 0.7, Stage.FULL: 1.0}
FULL_ATTEMPT_CPU_S = 10.0  # CPU seconds per seed of the whole-MINLP stage
FULL_ATTEMPTS = 1          # seeds tried there (opts.extra['bonmin_full_attempts'])
MARGIN_S = 1.0  # wall seconds kept for decoding and reporting after the last stage
MIN_CPU_S = 0.3  # a stage with less CPU time than this is skipped
NO_SOLUTION = 1e49


@dataclass
class StageResult:
    """One Bonmin solve of the route (the JSON records of the diagnostics ``stages``)."""

    stage: Stage
    status: str                      # Bonmin's return status, or why the solve did not run or finish
    found: bool                      # Bonmin returned a point
    value: float | None = None       # Bonmin's objective at that point (model sense; not a bound)
    cpu_limit_s: float = 0.0
    cpu_s: float = 0.0
    wall_s: float = 0.0
    architecture: Architecture | None = None
    objective: float | None = None   # recomputed by metrics for integer stages
    violations: list[str] = field(default_factory=list)
    seed: int | None = None

    def to_dict(self) -> dict[str, Any]:
        d = {"stage": self.stage.value, "status": self.status, "found": self.found,
             "cpu_limit_s": round(self.cpu_limit_s, 2), "cpu_s": round(self.cpu_s, 2),
             "wall_s": round(self.wall_s, 2)}
        if self.seed is not None:
            d["seed"] = self.seed
        if self.value is not None:
            d["bonmin_value"] = self.value
        if self.architecture is not None:
            d.update(objective=self.objective, architecture=self.architecture.describe())
        if self.violations:
            d["violations"] = self.violations
        return d


class _Clock:
    """Wall deadline and the CPU/wall ratio last measured (Bonmin's time limit is CPU time, and a
    loaded machine gives less than one CPU second per wall second)."""

    def __init__(self, time_limit: float):
        self.wall0, self.cpu0 = time.perf_counter(), time.process_time()
        self.deadline = self.wall0 + time_limit
        self.ratio: float | None = None

    def left(self) -> float:
        return self.deadline - time.perf_counter() - MARGIN_S

    def measured(self, cpu: float, wall: float) -> None:
        if wall > 0.3:
            self.ratio = cpu / wall

    def cpu_limit(self, share: float) -> float:
        ratio = self.ratio
        if ratio is None:
            wall = time.perf_counter() - self.wall0
            ratio = (time.process_time() - self.cpu0) / wall if wall > 0.3 else 1.0
        return max(0.0, self.left() * share * 0.9 * min(1.0, max(0.2, ratio)))


def compile_bonmin(nlp: NLP, algorithm: str, cpu_limit: float, options: dict[str, Any],
                   tee: bool = False) -> tuple[Any, list, list]:
    """A CasADi Bonmin function for ``nlp`` without its constant rows (which Bonmin rejects);
    raises ``ValueError`` when a constant row is violated."""
    keep, lbg, ubg = [], [], []
    for i in range(nlp.g.shape[0]):
        gi = nlp.g[i]
        if gi.is_constant():
            v = float(ca.DM(gi))
            if v < nlp.lbg[i] - 1e-9 or v > nlp.ubg[i] + 1e-9:
                raise ValueError(f"constant constraint row {i} violated")
            continue
        keep.append(gi)
        lbg.append(nlp.lbg[i])
        ubg.append(nlp.ubg[i])
    opts = {"print_time": False, "discrete": nlp.discrete,
            "bonmin": {**({} if tee else BONMIN_QUIET), **options, "algorithm": algorithm,
                       "time_limit": float(cpu_limit)}}
    fn = ca.nlpsol("deepmad_bonmin", "bonmin", {"x": nlp.x, "f": nlp.f, "g": ca.vertcat(*keep)}, opts)
    return fn, lbg, ubg


def _solve(m: pyo.ConcreteModel, stage: Stage, algorithm: str, cpu_limit: float, options: dict[str, Any],
           clock: _Clock, tee: bool = False) -> StageResult:
    """One Bonmin solve of ``m`` from its current values, in a forked process killed at the route's
    deadline (Bonmin cannot be interrupted from Python, and its own limit is CPU time); loads the point
    into ``m`` when one is found."""
    nlp = translate(m)
    try:
        fn, lbg, ubg = compile_bonmin(nlp, algorithm, cpu_limit, options, tee)
    except ValueError as e:
        return StageResult(stage, f"infeasible ({e})", False)
    x0 = nlp.x0()

    def call(send: Any) -> tuple[float, list[float], str]:
        if not tee:  # B-BB prints its NLP solves whatever the log levels say
            os.dup2(os.open(os.devnull, os.O_WRONLY), 1)
        sol = fn(x0=x0, lbx=nlp.lbx, ubx=nlp.ubx, lbg=lbg, ubg=ubg)
        return float(sol["f"]), [float(z) for z in ca.DM(sol["x"]).full().ravel()], str(fn.stats()["return_status"])

    run = supervise(call, clock.deadline - 0.5 * MARGIN_S - time.perf_counter())
    clock.measured(run.cpu_s, run.wall_s)
    if run.ending != Ending.RETURNED:
        why = "killed at the wall-clock limit" if run.ending == Ending.KILLED else f"crashed: {run.error_line()}"
        return StageResult(stage, why, False, cpu_limit_s=cpu_limit, cpu_s=run.cpu_s, wall_s=run.wall_s)
    f, xs, status = run.value
    found = math.isfinite(f) and abs(f) < NO_SOLUTION
    if found:
        nlp.store(xs)
    return StageResult(stage, status, found, nlp.sense * f if found else None, cpu_limit, run.cpu_s, run.wall_s)


def _relax_widths(m: pyo.ConcreteModel) -> None:
    for comp in (m.width_units, m.btn_units, m.se_units):
        for v in comp.values():
            v.domain = pyo.NonNegativeReals


def _structure(m: pyo.ConcreteModel) -> tuple[list[int], list[int]]:
    """Depths and kernel sizes at the model's current values."""
    depths = [round(pyo.value(m.depth[j])) for j in m.SB]
    kernels = []
    for j in m.B:
        ks = [k for (jj, k) in m.KC if jj == j]
        kernels.append(max(ks, key=lambda k: pyo.value(m.kernel[j, k])))
    return depths, kernels


def _copy_widths(src: pyo.ConcreteModel, dst: pyo.ConcreteModel) -> None:
    for name in ("width_units", "btn_units", "se_units"):
        for j, v in getattr(dst, name).items():
            val = getattr(src, name)[j].value
            if val is not None and not v.fixed:
                v.set_value(min(v.ub if v.ub is not None else val, max(v.lb or 0, val)), skip_validation=True)


class StagedBonmin:
    """One run of the route: the stages chosen in ``opts.extra['bonmin_stages']``, each handing the next
    what it found (the structure, the relaxed widths), every solve recorded."""

    def __init__(self, problem: DesignProblem, opts: SolveOptions, rep: Reporter):
        self.problem, self.opts, self.rep = problem, opts, rep
        self.algorithm = opts.variant or "B-OA"
        self.clock = _Clock(opts.time_limit)
        self.options = {"random_generator_seed": int(opts.seed), **profiles.settings("bonmin", opts.profile),
                        **dict(opts.extra.get("bonmin_options") or {})}
        self.stages = [s for s in STAGES if s in (opts.extra.get("bonmin_stages") or STAGES)]
        self.results: list[StageResult] = []
        self.archs: list[Architecture] = []
        self.structure: tuple[list[int], list[int]] | None = None  # depths and kernels from stage 1
        self.relaxed: pyo.ConcreteModel | None = None              # stage 1's model, with its widths

    def run(self) -> Outcome:
        for i, stage in enumerate(self.stages):
            limit = self.clock.cpu_limit(1.0 if i == len(self.stages) - 1 else STAGE_SHARE[stage])
            if limit < MIN_CPU_S:
                self.results.append(StageResult(stage, "skipped: no time left", False))
            elif stage == Stage.STRUCTURE:
                self.structure_stage(limit)
            elif stage == Stage.FIXED:
                self.fixed_stage(limit)
            else:
                self.full_stage()
        return self.outcome()

    def model(self, **fix: Any) -> pyo.ConcreteModel:
        return build_pyomo_model(self.problem, FormulationOptions(formulation=self.opts.formulation, **fix))

    def solve(self, m: pyo.ConcreteModel, stage: Stage, limit: float, **options: Any) -> StageResult:
        return _solve(m, stage, self.algorithm, limit, {**self.options, **options}, self.clock, self.opts.tee)

    def structure_stage(self, limit: float) -> None:
        self.relaxed = m = self.model()
        _relax_widths(m)
        if self.opts.warm_start is not None:
            load_architecture(m, self.opts.warm_start)
        res = self.solve(m, Stage.STRUCTURE, limit)
        self.finish(res, None)
        if res.found:
            self.structure = _structure(m)

    def fixed_stage(self, limit: float) -> None:
        if self.structure is None:
            self.results.append(StageResult(Stage.FIXED, "skipped: no structure from stage 1", False))
            return
        depths, kernels = self.structure
        m = self.model(depths=depths, kernels=kernels)
        if self.relaxed is not None:
            _copy_widths(self.relaxed, m)
        self.finish(self.solve(m, Stage.FIXED, limit), m)

    def full_stage(self) -> None:
        """B-OA on the whole MINLP succeeds or not depending on the random restarts' seed: optionally
        restart with the next seed while time is left."""
        attempt_cpu = float(self.opts.extra.get("bonmin_attempt_cpu_s", FULL_ATTEMPT_CPU_S))
        attempts = int(self.opts.extra.get("bonmin_full_attempts", FULL_ATTEMPTS))
        seed = int(self.opts.seed)
        for attempt in range(attempts):
            limit = self.clock.cpu_limit(1.0)
            if limit < MIN_CPU_S:
                break
            m = self.model()
            if self.opts.warm_start is not None:  # B-OA did better from the model's start than from stage 2's
                load_architecture(m, self.opts.warm_start)
            last = attempt == attempts - 1 or limit <= attempt_cpu * 1.5
            limit = limit if limit <= attempt_cpu * 1.5 else attempt_cpu
            self.rep.progress(f"Bonmin {self.algorithm} on the whole MINLP ({m.nvariables()} variables, "
                              f"{m.nconstraints()} constraints), seed {seed}, {limit:.1f} s CPU")
            res = self.solve(m, Stage.FULL, limit, random_generator_seed=seed)
            res.seed = seed
            self.finish(res, m)
            if res.found or last or "LIMIT" not in res.status.upper():
                break
            seed += 1

    def finish(self, res: StageResult, m: pyo.ConcreteModel | None) -> None:
        """Record a solve; decode, verify and stream its design (integer stages: ``m`` is given)."""
        self.results.append(res)
        if res.found and m is not None:
            arch = decode(m)
            met = evaluate(arch, self.problem.objective, self.problem.resolution)
            res.architecture, res.objective = arch, met.objective
            res.violations = self.problem.check(arch, met)
            if not res.violations:
                self.archs.append(arch)
                self.rep.incumbent(arch, met.objective, f"Bonmin {self.algorithm} ({res.stage})")
        self.rep.progress(f"Bonmin {self.algorithm} {res.stage}: {res.status}"
                          + (f", {res.objective:,.2f}" if res.objective is not None else "")
                          + (f" (relaxed widths {res.value:,.2f})" if res.stage == Stage.STRUCTURE and res.value
                             else "")
                          + f", {res.cpu_s:.1f} s CPU")

    def outcome(self) -> Outcome:
        diagnostics: dict[str, Any] = {
            "algorithm": self.algorithm, "stages": [r.to_dict() for r in self.results],
            "bonmin_cpu_s": round(sum(r.cpu_s for r in self.results), 2),
            "profile": self.opts.profile, "bonmin_options": self.options,
            "note": "Bonmin is a heuristic on this nonconvex MINLP: no bound is reported"}
        if self.structure is not None:
            diagnostics["structure"] = {"depths": self.structure[0], "kernels": self.structure[1]}
        if self.archs:
            return Outcome(Status.FEASIBLE, self.archs, diagnostics=diagnostics)
        limited = any("LIMIT" in r.status.upper() or r.status.startswith("skipped") for r in self.results)
        summary = "; ".join(f"{r.stage}: {r.status}" for r in self.results)
        if limited:
            return Outcome(Status.TIME_LIMIT, message=f"Bonmin {self.algorithm} found no feasible design within "
                           f"{self.opts.time_limit:g} s ({summary})", diagnostics=diagnostics)
        return Outcome(Status.ERROR, message=f"Bonmin {self.algorithm} found no feasible design ({summary}); on "
                       "this nonconvex problem that is not a proof of infeasibility", diagnostics=diagnostics)


@register("bonmin", RouteKind.HEURISTIC,
          "Bonmin (casadi wheel) on the MINLP; on this nonconvex problem its bounds are not bounds",
          install="pip install casadi", probe=casadi_version, variants=("B-OA", "B-BB", "B-Hyb", "B-QG", "B-iFP"),
          default_variant="B-OA")
def run(problem: DesignProblem, opts: SolveOptions, rep: Reporter) -> Outcome:
    return StagedBonmin(problem, opts, rep).run()
