"""``deepmad zoo``: design, verify and export every problem of one or more suites, on a Dask cluster.

For each problem a worker runs :func:`~deepmad_pyomo.solve.design.design` and :func:`verify.verify`; the client
writes ``<out>/<suite>/<problem>.json`` (atomically) holding

- ``name``: ``<suite>-<problem>``, the name :func:`registry.create_model` knows the model by (the
  registry scans ``models/`` and the folders of ``DEEPMAD_MODELS`` for records with an ``architecture``);
- ``problem`` (the whole design problem) and ``budgets`` (with what each is measured in);
- ``architecture``, ``metrics`` (:func:`metrics.evaluate` of it);
- ``certificate``: solver, status, objective, proven bound and gap (``null``: no proof), time;
- ``verification``: MACs and params counted on the built torch module against the analytic ones.

Then ``<out>/README.md`` (a table of the zoo) and ``<out>/zoo.{png,svg}`` (entropy objective against
MACs and params, per family, with the released DeepMAD structures and ResNet-18/50 for reference).
A rerun skips every problem whose record is there with an architecture (or a proof of infeasibility)
for the same problem, solver and time limit.
"""
from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Sequence

from ..errors import DesignError
from ..space.families import Mode, default_rho0
from ..space.problem import DesignProblem
from .cluster import (
    Job,
    PeakMemory,
    allow_children,
    preload,
    read_json,
    run_jobs,
    worker_info,
)
from .suites import Suite, family, load_suites

FORMAT = "deepmad-pyomo/zoo-record-v1"
DEFAULT_TIME_LIMIT = 20.0
RELEASED = ("deepmad-R18", "deepmad-R50", "deepmad-29M-224")
# torchvision ResNets: MACs/params measured on hand-built equivalents (DESIGN.md 3); their entropy from a
# main-path-equivalent architecture (the max-pool folded into the first block's stride; shortcut
# projections and pooling do not enter the entropy, so only the main-path widths, depths and
# resolutions matter).
RESNETS = {
    "ResNet-18": (1_814_073_344, 11_689_512, "kxkx", [(64, 64, 2), (64, 128, 2), (128, 256, 2), (256, 512, 2)], 1),
    "ResNet-50": (4_089_184_256, 25_557_032, "k1kxk1",
                  [(64, 256, 3), (256, 512, 4), (512, 1024, 6), (1024, 2048, 3)], 4),
}
CAPTION = (
    "Entropy score (sum_j alpha_j H_j, alpha 1 per stage and 8 on the last: the design objective before its depth "
    "penalty) against MACs (multiply-accumulates of conv + linear layers) and params (all learnable, incl. BN "
    "and the classifier), log scale. The score is drawn rather than the objective because the paper-form "
    "penalty 10 exp(Var L) of the released DeepMAD-R18/R50 is 2.3e7 and 2.3e11 (they were designed under the "
    "official code's 10 exp(std L)), which no common axis holds; the zoo models' penalties are listed in the "
    "table. Zoo models: colour = block family, circle = 224x224, square = 288x288 input (at equal MACs a 288 "
    "model has less width and depth to spend than a 224 one). Stars: the released DeepMAD structures, evaluated "
    "by the same metrics at 224. Diamonds: torchvision ResNet-18/50 at their measured MACs/params (DESIGN.md "
    "3); their score is computed by the same metrics on a main-path-equivalent kxkx/k1kxk1 architecture "
    "(max-pool folded into the first block's stride; shortcuts do not enter the entropy). The entropy is the "
    "design objective, not an accuracy.")


def model_name(suite: str, problem: str) -> str:
    return f"{suite}-{problem}"


def _budgets(problem: DesignProblem) -> dict[str, Any]:
    b = problem.budgets
    out: dict[str, Any] = {k: getattr(b, k) for k in ("flops", "params", "layers", "latency_ms")
                           if getattr(b, k) is not None}
    if b.latency_ms is not None and b.latency_margin:
        out["latency_margin"] = b.latency_margin
    out["flops_measured_as"] = problem.budget_metric("flops")
    out["params_measured_as"] = problem.budget_metric("params")
    return out


def execute(payload: dict[str, Any]) -> dict[str, Any]:
    """One model, on a worker: design it, verify it; returns its record (plain data)."""
    from .. import __version__
    from ..solve import registry as solvers
    from ..solve.base import SolveOptions
    from ..solve.design import design

    switched = allow_children()
    preload()
    problem = DesignProblem.from_dict(payload["problem"])
    info, variant = solvers.parse(payload["solver"])
    rec: dict[str, Any] = {
        "format": FORMAT, "name": payload["name"], "suite": payload["suite"], "problem_name": problem.name,
        "family": family(problem), "resolution": problem.resolution, "num_classes": problem.num_classes,
        "description": problem.description, "budgets": _budgets(problem), "problem": payload["problem"],
        "problem_hash": payload["problem_hash"], "architecture": None, "metrics": None, "verification": None,
    }
    cert: dict[str, Any] = {"solver": payload["solver"], "requested_solver": payload["solver"],
                            "solver_version": info.version(),
                            "time_limit": payload["time_limit"], "gap_tolerance": payload["gap"],
                            "status": None, "objective": None, "bound": None, "gap": None,
                            "bound_note": "bound: a proven upper bound on the objective; null: no optimality proof"}
    rec["certificate"] = cert
    rec["generated_by"] = {"command": "deepmad zoo", "package": f"deepmad-pyomo {__version__}",
                           "worker": worker_info() | ({"note": "daemonic worker switched"} if switched else {})}
    if cert["solver_version"] is None:
        cert.update(status="unavailable", message=f"{info.name} is not available on the worker: {info.install}")
        return rec
    limit, attempts = payload["time_limit"], []
    for attempt in range(1 + payload.get("escalate", 0)):
        opts = SolveOptions(time_limit=limit, gap=payload["gap"], variant=variant)
        t0 = time.perf_counter()
        with PeakMemory() as mem:
            try:
                res = design(problem, payload["solver"], opts)
            except DesignError as e:
                cert.update(status="error", message=str(e), time_s=round(time.perf_counter() - t0, 3))
                return rec
        attempts.append({"time_limit": limit, "status": res.status.value, "time_s": round(res.time_s, 3),
                         "wall_s": round(time.perf_counter() - t0, 3), "designed": res.architecture is not None})
        if res.architecture is not None or res.status.value == "infeasible":
            break
        limit *= 2  # no design in the time limit: try once more with twice the time
    cert.update(solver=res.solver, status=res.status.value, objective=res.objective, bound=res.bound, gap=res.gap,
                time_limit_used=limit, attempts=attempts, time_s=round(sum(a["time_s"] for a in attempts), 3),
                cpu_s=round(res.cpu_s, 3), peak_rss_mb=round(mem.children_peak_mb, 1),
                peak_private_mb=round(mem.children_private_mb, 1), message=res.message)
    if res.architecture is not None:
        from ..nn.verify import verify

        arch = res.architecture.with_(name=payload["name"])
        v = verify(arch)
        rec.update(architecture=arch.to_dict(), metrics=res.metrics,
                   verification=v.to_dict() | {"counter": "torch.utils.flop_counter.FlopCounterMode on the meta "
                                                          "device"})
    return rec


def failure_record(payload: dict[str, Any], exc: BaseException) -> dict[str, Any]:
    prob = DesignProblem.from_dict(payload["problem"])
    return {"format": FORMAT, "name": payload["name"], "suite": payload["suite"], "problem_name": prob.name,
            "family": family(prob), "resolution": prob.resolution, "num_classes": prob.num_classes,
            "description": prob.description, "budgets": _budgets(prob), "problem": payload["problem"],
            "problem_hash": payload["problem_hash"], "architecture": None, "metrics": None, "verification": None,
            "certificate": {"solver": payload["solver"], "requested_solver": payload["solver"],
                            "time_limit": payload["time_limit"],
                            "gap_tolerance": payload["gap"], "status": "failed",
                            "message": f"task failed: {type(exc).__name__}: {exc}"}}


def _reusable(rec: Any, payload: dict[str, Any]) -> bool:
    if not isinstance(rec, dict) or rec.get("format") != FORMAT:
        return False
    cert = rec.get("certificate") or {}
    done = rec.get("architecture") is not None or cert.get("status") == "infeasible"
    return (done and cert.get("requested_solver") == payload["solver"] and rec.get("name") == payload["name"]
            and rec.get("problem_hash") == payload["problem_hash"] and cert.get("time_limit") == payload["time_limit"])


# ------------------------------------------------------------------------------------ references
def resnet_architecture(name: str) -> Any:
    """The main-path-equivalent architecture of a torchvision ResNet (for its entropy only)."""
    from ..space.arch import Architecture, Block

    _, _, btype, stages, expansion = RESNETS[name]
    blocks = [Block("conv", 3, 64, 7, 2)]
    for c_in, c_out, depth in stages:
        blocks.append(Block(btype, c_in, c_out, 3, 2, btn=c_out // expansion, L=depth))
    return Architecture(tuple(blocks), 224, 1000, name=name)


def references() -> list[dict[str, Any]]:
    """Reference points for the zoo picture: the released DeepMAD structures (entropy, MACs, params by
    :mod:`metrics`) and ResNet-18/50 (measured MACs/params; entropy of the main-path equivalent)."""
    from ..nn import models as registry
    from ..space.metrics import ObjectiveSettings, evaluate

    out = []
    for name in RELEASED:
        arch = registry.get_architecture(name)
        rho0 = default_rho0(b.type for b in arch.super_blocks)
        m = evaluate(arch, ObjectiveSettings(alpha=None, beta=10.0, rho0=rho0, mode=Mode.PAPER))
        out.append({"name": name, "kind": "released", "macs": m.macs, "params": m.params, "objective": m.objective,
                    "score": m.score, "depth_penalty": m.depth_penalty, "rho": m.rho, "resolution": arch.resolution})
    for name, (macs, params, *_rest) in RESNETS.items():
        m = evaluate(resnet_architecture(name), ObjectiveSettings(alpha=None, beta=10.0, rho0=0.3, mode="paper"))
        out.append({"name": name, "kind": "classic", "macs": macs, "params": params, "objective": m.objective,
                    "score": m.score, "depth_penalty": m.depth_penalty, "rho": m.rho, "resolution": 224,
                    "note": "MACs/params: torchvision (DESIGN.md 3); objective: main-path-equivalent architecture"})
    return out


# ---------------------------------------------------------------------------------------- README
def _fmt(v: Any, spec: str) -> str:
    return "-" if v is None else format(v, spec)


def summary_row(rec: dict[str, Any]) -> dict[str, Any]:
    m, c, v, b = rec.get("metrics") or {}, rec.get("certificate") or {}, rec.get("verification") or {}, rec["budgets"]
    return {"name": rec["name"], "suite": rec["suite"], "family": rec["family"], "resolution": rec["resolution"],
            "flops_budget": b.get("flops"), "params_budget": b.get("params"), "macs": m.get("macs"),
            "params": m.get("params"), "objective": m.get("objective"), "score": m.get("score"),
            "depth_penalty": m.get("depth_penalty"), "rho": m.get("rho"),
            "layers": m.get("layers"), "status": c.get("status"), "solver": c.get("solver"),
            "bound": c.get("bound"), "gap": c.get("gap"), "time_s": c.get("time_s"),
            "verified": v.get("match") if v else None, "architecture": (rec.get("architecture") or {}).get("blocks")}


def readme(records: Sequence[dict[str, Any]], suites: Sequence[str], command: str, figure: bool) -> str:
    from ..space.arch import Architecture

    rows = [summary_row(r) for r in records]
    n_ok = sum(r["objective"] is not None for r in rows)
    n_ver = sum(bool(r["verified"]) for r in rows)
    solvers = sorted({str(r["solver"]) for r in rows})
    limits = sorted({(r.get("certificate") or {}).get("time_limit") for r in records} - {None})
    lines = [
        "# Model zoo", "",
        f"{len(rows)} design problems ({', '.join(suites)}), {n_ok} designed, {n_ver} verified. Generated by",
        "", "```", command, "```", "",
        f"(solver {', '.join(solvers)}; time limit {', '.join(f'{t:g}' for t in limits)} s per model). Do not edit "
        "by hand: rerun the command (finished models are kept; delete a record to redo it).", "",
        "Each `<suite>/<problem>.json` holds the design problem (budgets), the architecture, its metrics, the "
        "solver's certificate (status, proven bound and gap: `null` means no optimality proof) and the "
        "verification (MACs and params counted on the built torch module against the analytic counts). Build "
        "one with `deepmad_pyomo.nn.models.create_model(name)` or `deepmad build NAME --verify`.", "",
        "MACs: multiply-accumulates of conv and linear layers (what papers call FLOPs; 1 MAC = 2 FLOPs). Params: "
        "every learnable parameter incl. BN affine and the classifier. Objective: the entropy objective, paper "
        "form: score (sum_j alpha_j H_j) minus the depth penalty 10 exp(Var L). rho: effectiveness L / w_bar (bound "
        "0.3 for bottleneck, 0.5 for inverted-residual families). Time: wall seconds of the solve (all attempts: a "
        "problem with no design in the time limit is tried again with twice the time).", ""]
    if figure:
        lines += ["![objective against MACs and params](zoo.png)", "", f"*{CAPTION}*", ""]
    for suite in suites:
        sel = [r for r in rows if r["suite"] == suite]
        if not sel:
            continue
        lines += [f"## {suite}", "",
                  "| model | family | res | MACs budget (G) | MACs (G) | params budget (M) | params (M) | objective "
                  "| score | penalty | rho | layers | status | bound | time (s) | verified |",
                  "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|---:|---:|---|"]
        for r in sel:
            ver = {True: "yes", False: "MISMATCH", None: "-"}[r["verified"]]
            fb = None if r["flops_budget"] is None else r["flops_budget"] / 1e9
            pb = None if r["params_budget"] is None else r["params_budget"] / 1e6
            lines.append(
                f"| `{r['name']}` | {r['family']} | {r['resolution']} | {_fmt(fb, '.2f')} "
                f"| {_fmt(None if r['macs'] is None else r['macs'] / 1e9, '.3f')} | {_fmt(pb, '.2f')} "
                f"| {_fmt(None if r['params'] is None else r['params'] / 1e6, '.2f')} | {_fmt(r['objective'], ',.1f')} "
                f"| {_fmt(r['score'], ',.1f')} | {_fmt(r['depth_penalty'], ',.1f')} "
                f"| {_fmt(r['rho'], '.3f')} | {_fmt(r['layers'], 'd')} | {r['status']} | {_fmt(r['bound'], ',.1f')} "
                f"| {_fmt(r['time_s'], '.1f')} | {ver} |")
        lines.append("")
        lines += ["<details><summary>architectures</summary>", ""]
        for rec in (x for x in records if x["suite"] == suite and x.get("architecture")):
            lines.append(f"- `{rec['name']}`: `{Architecture.from_dict(rec['architecture']).describe()}`")
        lines += ["", "</details>", ""]
    return "\n".join(lines)


def plot_records(records: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    return [{"name": r["name"], "family": r["family"], "resolution": r["resolution"], "macs": r["metrics"]["macs"],
             "params": r["metrics"]["params"], "objective": r["metrics"]["objective"], "score": r["metrics"]["score"]}
            for r in records if r.get("metrics")]


def write_outputs(out: Path, records: Sequence[dict[str, Any]], suites: Sequence[str], command: str,
                  figure: bool = True) -> list[Path]:
    """``README.md`` and (``figure``) ``zoo.png``/``zoo.svg`` under ``out``."""
    from ..fileio import atomic_write_text

    files: list[Path] = []
    pts = plot_records(records)
    figure = figure and bool(pts)
    if figure:
        from . import plots

        imagenet = any(p["resolution"] >= 160 for p in pts)
        files += plots.zoo_plot(pts, references() if imagenet else [], out / "zoo", caption="")
    atomic_write_text(out / "README.md", readme(records, suites, command, figure))
    return [out / "README.md"] + files


@dataclass
class ZooResult:
    out: Path
    models: int
    reused: int
    designed: int
    failed: int
    wall_s: float
    workers: int
    files: list[str]
    records: list[dict[str, Any]]

    @property
    def models_per_minute(self) -> float | None:
        return 60 * self.designed / self.wall_s if self.designed and self.wall_s > 0 else None

    def to_dict(self) -> dict[str, Any]:
        return {"out": str(self.out), "models": self.models, "reused": self.reused, "designed": self.designed,
                "failed": self.failed, "wall_s": round(self.wall_s, 2), "workers": self.workers,
                "models_per_minute": None if self.models_per_minute is None else round(self.models_per_minute, 2),
                "files": self.files,
                "records": [{k: v for k, v in summary_row(r).items() if k != "architecture"} for r in self.records]}


def plan(suites: Sequence[Suite], solver: str, time_limit: float, gap: float = 1e-4,
         only: str | None = None, escalate: int = 1) -> list[dict[str, Any]]:
    import fnmatch

    from ..solve import registry as solvers
    from .compare import plain_problem, problem_hash

    solvers.parse(solver)
    if not time_limit > 0:
        raise DesignError("time_limit", f"must be positive, got {time_limit}")
    payloads = []
    for suite in suites:
        for prob in suite:
            if only and not fnmatch.fnmatch(prob.name, only):
                continue
            name = model_name(suite.name, prob.name)
            payloads.append({"key": f"{suite.name}/{prob.name}", "name": name, "suite": suite.name,
                             "problem": plain_problem(prob), "problem_hash": problem_hash(prob), "solver": solver,
                             "time_limit": float(time_limit), "gap": float(gap), "escalate": int(escalate)})
    if not payloads:
        raise DesignError("problems", f"no problem of the suite matches {only!r}")
    return payloads


def build_zoo(suites: str | Sequence[str], out: str | Path = "models", solver: str = "auto",
              time_limit: float = DEFAULT_TIME_LIMIT, *, workers: int | None = None, scheduler: str | None = None,
              gap: float = 1e-4, only: str | None = None, progress: bool = True, retries: int = 2,
              figure: bool = True, command: str | None = None, client: Any = None, escalate: int = 1) -> ZooResult:
    """Design, verify and export every problem of ``suites`` under ``out`` (resuming a previous run).

    ``escalate``: a problem with no design in ``time_limit`` is tried again with twice the time, this many
    times (the certificate lists every attempt)."""
    from ..fileio import atomic_write_json

    loaded = load_suites(suites)
    if escalate < 0:
        raise DesignError("escalate", f"must be >= 0, got {escalate}")
    payloads = plan(loaded, solver, time_limit, gap, only, escalate)
    out = Path(out)
    records: dict[str, dict[str, Any]] = {}
    todo: list[Job] = []
    for payload in payloads:
        rec = read_json(out / payload["suite"] / f"{payload['problem']['name']}.json")
        if _reusable(rec, payload):
            records[payload["key"]] = rec
        else:
            todo.append(Job(payload["key"], payload))
    reused = len(records)

    def finish(job: Job, rec: dict[str, Any]) -> None:
        atomic_write_json(out / job.payload["suite"] / f"{job.payload['problem']['name']}.json", rec)
        records[job.key] = rec

    def fail(job: Job, exc: BaseException) -> None:
        finish(job, failure_record(job.payload, exc))

    t0 = time.perf_counter()
    report = run_jobs(execute, todo, finish, fail, workers=workers, scheduler=scheduler, retries=retries,
                      progress=progress, desc="zoo", client=client)
    wall = time.perf_counter() - t0
    ordered = [records[p["key"]] for p in payloads if p["key"] in records]
    cmd = command or (f"deepmad zoo --suite {','.join(s.name for s in loaded)} --solver {solver} "
                      f"--time-limit {time_limit:g} --out {out}")
    files = write_outputs(out, ordered, [s.name for s in loaded], cmd, figure)
    from ..nn import models as registry

    registry.refresh()  # new records are visible to create_model in this process
    return ZooResult(out=out, models=len(payloads), reused=reused, designed=len(report.finished),
                     failed=sum(r.get("architecture") is None for r in ordered), wall_s=wall,
                     workers=report.workers, files=[str(f) for f in files], records=ordered)


__all__ = ["CAPTION", "FORMAT", "ZooResult", "build_zoo", "execute", "model_name", "references",
           "resnet_architecture"]
