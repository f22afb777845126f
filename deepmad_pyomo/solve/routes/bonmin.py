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
process that is killed at the route's wall-clock deadline (Bonmin cannot be interrupted otherwise), so
the route ends within ``opts.time_limit``; designs are streamed as soon as a stage ends. The solves'
CPU seconds are in ``details['bonmin_cpu_s']`` and ``details['stages']`` (a forked process's CPU is
not in this process's own ``process_time``).

``opts.extra``: ``bonmin_options`` (a dict passed to Bonmin, overriding the defaults below),
``bonmin_stages`` (a subset of ``("structure", "fixed", "full")``, in that order),
``bonmin_attempt_cpu_s`` (CPU seconds per attempt of the ``full`` stage, default 10),
``bonmin_full_attempts`` (seeds tried in the ``full`` stage, default 1).
"""
from __future__ import annotations

import math
import os
import pickle
import resource
import select
import signal
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import casadi as ca
import pyomo.environ as pyo

from ...mp.formulation import (
    FormulationOptions,
    build_pyomo_model,
    decode,
    load_architecture,
)
from ...space.arch import Architecture
from ...space.metrics import evaluate
from ...space.problem import DesignProblem
from ..backends.casadi import NLP, translate
from ..base import Outcome, Reporter, SolveOptions
from ..results import Status

STAGES = ("structure", "fixed", "full")
# Share of the remaining time each stage may use (the last stage run gets everything left).
STAGE_SHARE = {"structure": 0.25, "fixed": 0.7, "full": 1.0}
DEFAULT_OPTIONS: dict[str, Any] = {
    "num_resolve_at_root": 10,   # random restarts of the root NLP: the setting that makes B-OA find designs
    "sb": "yes",                 # no Ipopt banner
    "print_level": 0, "bb_log_level": 0, "oa_log_level": 0, "nlp_log_level": 0, "milp_log_level": 0,
    "fp_log_level": 0,
}
FULL_ATTEMPT_CPU_S = 10.0  # CPU seconds per seed of the whole-MINLP stage
FULL_ATTEMPTS = 1          # seeds tried there (opts.extra['bonmin_full_attempts'])
MARGIN_S = 1.0  # wall seconds kept for decoding and reporting after the last stage
NO_SOLUTION = 1e49


@dataclass
class StageResult:
    stage: str
    status: str                      # Bonmin's return status
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
        d = {"stage": self.stage, "status": self.status, "found": self.found,
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


def run_forked(call: Callable[[], Any], deadline: float) -> tuple[Any, float, float]:
    """``call()`` in a forked process killed at the wall ``deadline`` (``time.perf_counter`` time): its
    result (``None`` when it was killed or crashed), CPU seconds (from ``getrusage``, killed or not) and
    wall seconds. Bonmin cannot be interrupted from Python and its own limit is CPU time; this is the
    hard wall-clock stop."""
    r, w = os.pipe()
    t = time.perf_counter()
    usage0 = resource.getrusage(resource.RUSAGE_CHILDREN)
    pid = os.fork()
    if pid == 0:  # pragma: no cover - the child
        os.close(r)
        code = 0
        try:
            payload = pickle.dumps(call())
        except BaseException:  # noqa: BLE001
            payload, code = b"", 1
        try:
            with os.fdopen(w, "wb") as f:
                f.write(payload)
        finally:
            os._exit(code)
    os.close(w)
    chunks: list[bytes] = []
    killed = False
    with os.fdopen(r, "rb", buffering=0) as f:
        while True:
            wait = deadline - time.perf_counter()
            if wait <= 0:
                killed = True
                break
            ready, _, _ = select.select([f], [], [], min(wait, 0.5))
            if ready:
                chunk = f.read(1 << 20)
                if not chunk:
                    break
                chunks.append(chunk)
    if killed:
        os.kill(pid, signal.SIGKILL)
    os.waitpid(pid, 0)
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (usage.ru_utime - usage0.ru_utime) + (usage.ru_stime - usage0.ru_stime)
    out = pickle.loads(b"".join(chunks)) if chunks and not killed else None
    return out, cpu, time.perf_counter() - t


def compile_bonmin(nlp: NLP, algorithm: str, cpu_limit: float, options: dict[str, Any]) -> tuple[Any, list, list]:
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
            "bonmin": {**DEFAULT_OPTIONS, **options, "algorithm": algorithm, "time_limit": float(cpu_limit)}}
    fn = ca.nlpsol("deepmad_bonmin", "bonmin", {"x": nlp.x, "f": nlp.f, "g": ca.vertcat(*keep)}, opts)
    return fn, lbg, ubg


def _solve(m: pyo.ConcreteModel, stage: str, algorithm: str, cpu_limit: float, options: dict[str, Any],
           clock: _Clock) -> StageResult:
    """One Bonmin solve of ``m`` from its current values (in a forked process stopped at the route's
    deadline); loads the point into ``m`` when one is found."""
    nlp = translate(m)
    try:
        fn, lbg, ubg = compile_bonmin(nlp, algorithm, cpu_limit, options)
    except ValueError as e:
        return StageResult(stage, f"infeasible ({e})", False)
    x0 = nlp.x0()

    def call() -> tuple[float, list[float], str]:
        sol = fn(x0=x0, lbx=nlp.lbx, ubx=nlp.ubx, lbg=lbg, ubg=ubg)
        return float(sol["f"]), [float(z) for z in ca.DM(sol["x"]).full().ravel()], str(fn.stats()["return_status"])

    got, cpu, wall = run_forked(call, clock.deadline - 0.5 * MARGIN_S)
    clock.measured(cpu, wall)
    if got is None:
        return StageResult(stage, "killed at the wall-clock limit", False, cpu_limit_s=cpu_limit, cpu_s=cpu,
                           wall_s=wall)
    f, xs, status = got
    found = math.isfinite(f) and abs(f) < NO_SOLUTION
    if found:
        nlp.store(xs)
    return StageResult(stage, status, found, nlp.sense * f if found else None, cpu_limit, cpu, wall)


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


def run(problem: DesignProblem, opts: SolveOptions, rep: Reporter) -> Outcome:
    algorithm = opts.variant or "B-OA"
    clock = _Clock(opts.time_limit)
    options = {"random_generator_seed": int(opts.seed), **dict(opts.extra.get("bonmin_options") or {})}
    stages = [s for s in STAGES if s in (opts.extra.get("bonmin_stages") or STAGES)]
    form = opts.formulation
    results: list[StageResult] = []
    archs: list[Architecture] = []
    structure: tuple[list[int], list[int]] | None = None
    relaxed: pyo.ConcreteModel | None = None

    def finish(res: StageResult, m: pyo.ConcreteModel | None) -> None:
        results.append(res)
        if res.found and m is not None:
            arch = decode(m)
            met = evaluate(arch, problem.objective, problem.resolution)
            res.architecture, res.objective = arch, met.objective
            res.violations = problem.check(arch, met)
            if not res.violations:
                archs.append(arch)
                rep.incumbent(arch, met.objective, f"Bonmin {algorithm} ({res.stage})")
        rep.progress(f"Bonmin {algorithm} {res.stage}: {res.status}"
                     + (f", {res.objective:,.2f}" if res.objective is not None else "")
                     + (f" (relaxed widths {res.value:,.2f})" if res.stage == "structure" and res.value else "")
                     + f", {res.cpu_s:.1f} s CPU")

    for i, stage in enumerate(stages):
        share = 1.0 if i == len(stages) - 1 else STAGE_SHARE[stage]
        limit = clock.cpu_limit(share)
        if limit < 0.3:
            results.append(StageResult(stage, "skipped: no time left", False))
            continue
        if stage == "structure":
            relaxed = build_pyomo_model(problem, FormulationOptions(formulation=form))
            _relax_widths(relaxed)
            if opts.warm_start is not None:
                load_architecture(relaxed, opts.warm_start)
            res = _solve(relaxed, stage, algorithm, limit, options, clock)
            finish(res, None)
            if res.found:
                structure = _structure(relaxed)
        elif stage == "fixed":
            if structure is None:
                results.append(StageResult(stage, "skipped: no structure from stage 1", False))
                continue
            depths, kernels = structure
            m = build_pyomo_model(problem, FormulationOptions(formulation=form, depths=depths, kernels=kernels))
            if relaxed is not None:
                _copy_widths(relaxed, m)
            finish(_solve(m, stage, algorithm, limit, options, clock), m)
        else:
            # B-OA on the whole MINLP succeeds or not depending on the random restarts' seed: optionally
            # restart with the next seed while time is left.
            attempt_cpu = float(opts.extra.get("bonmin_attempt_cpu_s", FULL_ATTEMPT_CPU_S))
            attempts = int(opts.extra.get("bonmin_full_attempts", FULL_ATTEMPTS))
            seed = int(opts.seed)
            for attempt in range(attempts):
                limit = clock.cpu_limit(1.0)
                if limit < 0.3:
                    break
                m = build_pyomo_model(problem, FormulationOptions(formulation=form))
                if opts.warm_start is not None:  # B-OA did better from the model's start than from stage 2's
                    load_architecture(m, opts.warm_start)
                last = attempt == attempts - 1 or limit <= attempt_cpu * 1.5
                limit = limit if limit <= attempt_cpu * 1.5 else attempt_cpu
                rep.progress(f"Bonmin {algorithm} on the whole MINLP ({m.nvariables()} variables, "
                             f"{m.nconstraints()} constraints), seed {seed}, {limit:.1f} s CPU")
                res = _solve(m, stage, algorithm, limit, {**options, "random_generator_seed": seed}, clock)
                res.seed = seed
                finish(res, m)
                if res.found or last or "LIMIT" not in res.status.upper():
                    break
                seed += 1

    details = {"algorithm": algorithm, "stages": [r.to_dict() for r in results],
               "bonmin_cpu_s": round(sum(r.cpu_s for r in results), 2),
               "bonmin_options": {**DEFAULT_OPTIONS, **options},
               "note": "Bonmin is a heuristic on this nonconvex MINLP: no bound is reported"}
    if structure is not None:
        details["structure"] = {"depths": structure[0], "kernels": structure[1]}
    if archs:
        return Outcome(Status.FEASIBLE, archs, details=details)
    limited = any("LIMIT" in r.status.upper() or r.status.startswith("skipped") for r in results)
    summary = "; ".join(f"{r.stage}: {r.status}" for r in results)
    if limited:
        return Outcome(Status.TIME_LIMIT, message=f"Bonmin {algorithm} found no feasible design within "
                       f"{opts.time_limit:g} s ({summary})", details=details)
    return Outcome(Status.ERROR, message=f"Bonmin {algorithm} found no feasible design ({summary}); on this "
                   "nonconvex problem that is not a proof of infeasibility", details=details)
