"""``deepmad instances``: every problem of one or more suites as solver-independent instance files.

For each problem, each mode (:class:`~deepmad_pyomo.space.families.Mode`) and each formulation of the Pyomo
MINLP (:data:`~deepmad_pyomo.mp.formulation.FORMULATIONS`: ``natural`` and ``log``; the convex node
relaxation of the certify route is a CasADi function, not a Pyomo model, and has no file), under ``out``:

- ``<suite>/<problem>.<mode>.<formulation>.nl`` (AMPL, with ``.row``/``.col`` name files) and ``.gms``
  (GAMS), written by Pyomo's writers (Pyomo 6 has no OSiL or Pyomo-script writer), and ``.py``: a
  Pyomo script that builds the model with this package (``from ... import model``). The SE widths
  ``se_units`` have no upper bound (a wider SE only costs budget); the GAMS writer gives such integer
  variables the bound 1e100 (the index lists them);
- ``<suite>/<problem>.<mode>.yaml``: the design problem in that mode (``deepmad design --spec``);
- ``index.json`` and ``README.md``: one row per instance (MINLPLib's columns: variables by type,
  constraints, nonzeros, nonlinear nonzeros; the best known primal value, the proven dual bound and the
  route and record that proved it: :mod:`.instance_bounds`); ``instances.solu``: the bounds as a
  PAVER/MINLPLib solution file (``=best=`` and ``=bestdual=`` lines; the maximisation's dual bound is an
  upper bound).

Every file is written atomically, only under ``out``, and the same suites give the same files; a rerun
reuses the certify runs already recorded (``bounds/``).
"""
from __future__ import annotations

import io
import logging
import os
import re
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Sequence

from ..fileio import atomic_write_json, atomic_write_text, plain
from ..mp.formulation import FORMULATIONS, FormulationOptions, build_pyomo_model
from ..mp.statistics import statistics
from ..space.families import Mode
from ..space.problem import DesignProblem
from . import instance_bounds
from .engine import check_time_limit, run_planned, selected
from .paths import inside
from .paver import instance_name
from .suites import load_suites

FORMAT = "deepmad-pyomo/instances-v1"
WRITERS = (("nl", "nl"), ("gms", "gams"))  # (file extension, Pyomo writer)
MODES = tuple(Mode)
DEFAULT_CERTIFY_TIME_LIMIT = 60.0


@dataclass(frozen=True)
class Options:
    """What a library holds and how its bounds are found: ``certify`` problems without a matching zoo
    record in ``records`` (time limit ``certify_time_limit``, relative ``gap``)."""

    certify: bool = True
    certify_time_limit: float = DEFAULT_CERTIFY_TIME_LIMIT
    gap: float = 1e-4
    records: Path | None = None


UNBOUNDED_INTEGER = re.compile(r"Upper bound for integer variable (\S+) set to")


def _write_model(model: Any, folder: Path, stem: str) -> tuple[list[Path], list[str]]:
    """Each :data:`WRITERS` file of ``model`` as ``folder/stem.<ext>`` (plus the .nl name files), written in
    a temporary folder beside them and renamed into place. Also returns the integer variables without an
    upper bound, which the GAMS writer gives the bound 1e100 (GAMS needs finite integer bounds)."""
    from pyomo.common.log import LoggingIntercept

    tmp = Path(tempfile.mkdtemp(prefix=".write-", dir=folder))
    log = io.StringIO()
    try:
        with LoggingIntercept(log, "pyomo.core", logging.WARNING):
            for ext, writer in WRITERS:
                model.write(str(tmp / f"{stem}.{ext}"), format=writer, io_options={"symbolic_solver_labels": True})
        written = []
        for f in sorted(tmp.iterdir()):
            os.replace(f, folder / f.name)
            written.append(folder / f.name)
        return written, UNBOUNDED_INTEGER.findall(log.getvalue())
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def _script(problem_file: str, formulation: str) -> str:
    return (f'"""A deepmad-pyomo instance as a Pyomo model: the {formulation} formulation of {problem_file}."""\n'
            "from pathlib import Path\n\n"
            "from deepmad_pyomo import load_problem\n"
            "from deepmad_pyomo.mp.formulation import FormulationOptions, build_pyomo_model\n\n"
            f'model = build_pyomo_model(load_problem(Path(__file__).with_name("{problem_file}")),\n'
            f'                          FormulationOptions(formulation="{formulation}"))\n')


def write_problem(out: Path, suite: str, problem: DesignProblem) -> list[dict[str, Any]]:
    """The files of one problem in one mode (every formulation); the index rows, without bounds."""
    import yaml

    folder = inside(out, suite)
    folder.mkdir(parents=True, exist_ok=True)
    problem_file = f"{problem.name}.{problem.mode}.yaml"
    atomic_write_text(inside(out, suite, problem_file),
                      yaml.safe_dump(plain(problem.to_dict()), sort_keys=False, default_flow_style=None))
    rows = []
    for formulation in FORMULATIONS:
        name = instance_name(problem.name, str(problem.mode), formulation)
        model = build_pyomo_model(problem, FormulationOptions(formulation=formulation))
        files, unbounded = _write_model(model, folder, name)
        script = inside(out, suite, f"{name}.py")
        atomic_write_text(script, _script(problem_file, formulation))
        rows.append({"instance": name, "suite": suite, "problem": problem.name, "mode": str(problem.mode),
                     "formulation": formulation, "sense": "max",
                     "files": sorted(str(f.relative_to(out)) for f in [*files, script, folder / problem_file]),
                     **statistics(model).to_dict(), "gms_integer_upper_1e100": unbounded})
    return rows


@dataclass
class LibraryResult:
    out: Path
    instances: int
    certified_here: int
    from_records: int
    without_design: int
    without_bound: int
    failed: int
    files: list[str]
    rows: list[dict[str, Any]]

    def to_dict(self) -> dict[str, Any]:
        return {"out": str(self.out), "instances": self.instances, "certified_here": self.certified_here,
                "from_records": self.from_records, "without_design": self.without_design,
                "without_bound": self.without_bound, "failed": self.failed,
                "files": self.files}


def build_library(suites: str | Sequence[str], out: str | Path, options: Options = Options(), *,
                  workers: int | None = None, scheduler: str | None = None, only: str | None = None,
                  progress: bool = True, retries: int = 2, client: Any = None, command: str | None = None,
                  keep_failed: bool = False) -> LibraryResult:
    """Write the instance library of ``suites`` under ``out`` (see the module); return what it did. Cluster
    arguments as :func:`.engine.run_planned` (for the certify runs)."""
    loaded = load_suites(suites)
    chosen = selected(loaded, only)
    if options.certify:
        check_time_limit(options.certify_time_limit)
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    rows: list[dict[str, Any]] = []
    bounds: dict[str, dict[str, Any] | None] = {}
    todo = []
    for suite, base in chosen:
        for mode in MODES:
            problem = base.with_mode(mode)
            key = f"{suite.name}/{problem.name}.{mode}"
            rows += [r | {"key": key} for r in write_problem(out, suite.name, problem)]
            bounds[key] = instance_bounds.zoo_bound(options.records, suite.name, problem)
            if bounds[key] is None and options.certify:
                todo.append(instance_bounds.payload(suite.name, problem, options.certify_time_limit, options.gap))
    failed = 0
    if todo:
        outcome = run_planned(instance_bounds.BOUNDS, out, todo, workers=workers, scheduler=scheduler,
                              retries=retries, progress=progress, client=client, keep_failed=keep_failed)
        failed = outcome.failed
        for rec in outcome.records:
            bounds[rec["key"]] = instance_bounds.certified_bound(rec)
    for r in rows:
        r.update(_bound_fields(bounds.get(r.pop("key"))))
    cmd = command or f"deepmad instances --suite {','.join(s.name for s in loaded)} --out {out}"
    files = write_index(out, rows, [s.name for s in loaded], cmd)
    with_bound = [b for b in bounds.values() if b is not None]
    return LibraryResult(out=out, instances=len(rows), certified_here=sum(b["source"].startswith("certify")
                                                                          for b in with_bound),
                         from_records=sum(b["source"].startswith("zoo") for b in with_bound),
                         without_design=sum(r["best_primal"] is None for r in rows),
                         without_bound=sum(r["dual_bound"] is None for r in rows), failed=failed,
                         files=[str(f) for f in files], rows=rows)


BOUND_FIELDS = ("best_primal", "dual_bound", "gap", "status", "route", "source", "solver_version")


def _bound_fields(b: dict[str, Any] | None) -> dict[str, Any]:
    return {k: (b or {}).get(k) for k in BOUND_FIELDS}


def _fmt(v: Any, spec: str = ",.4f") -> str:
    return "-" if v is None else format(v, spec)


def markdown(rows: Sequence[dict[str, Any]], suites: Sequence[str], command: str) -> str:
    """``README.md``: what the library holds and one row per instance."""
    lines = [f"# Instance library: {', '.join(suites)}", "",
             f"Generated by `{command}`. Every problem of the suites in both modes (`paper`, `tinynas`) and both "
             "formulations of the Pyomo MINLP (`natural`: logs of the width expressions; `log`: continuous "
             "log-width variables tied by `exp(log_width) == width`), as AMPL `.nl` (with `.row`/`.col` names), "
             "GAMS `.gms` and a Pyomo script `.py` (it builds the model with deepmad-pyomo from the "
             "`<problem>.<mode>.yaml` beside it). All are maximisation problems. Counts are those the "
             "writers see: variables (continuous, binary, integer), constraints (nonlinear ones), Jacobian "
             "nonzeros (nonlinear ones), and the size of the integer box. Best known: the best verified design; "
             "dual bound: a proven upper bound on the optimum, by the route and record named. "
             "`instances.solu` holds the same bounds for PAVER.", "",
             "| instance | vars | cont | bin | int | cons | nl cons | nz | nl nz | log10 box | best known "
             "| dual bound | gap | status | proved by |",
             "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|---|"]
    for r in rows:
        gap = "-" if r["gap"] is None else f"{r['gap']:.1e}"
        lines.append(f"| {r['suite']}/{r['instance']} | {r['variables']} | {r['continuous']} | {r['binary']} "
                     f"| {r['integer']} | {r['constraints']} | {r['nonlinear_constraints']} | {r['nonzeros']} "
                     f"| {r['nonlinear_nonzeros']} | {r['log10_points']:.1f} | {_fmt(r['best_primal'])} "
                     f"| {_fmt(r['dual_bound'])} | {gap} | {r['status'] or '-'} | {r['source'] or '-'} |")
    return "\n".join(lines) + "\n"


def solu(rows: Sequence[dict[str, Any]]) -> str:
    """The bounds as a ``.solu`` file: ``=best= <instance> <value>`` and ``=bestdual= <instance> <value>``."""
    lines = []
    for r in rows:
        if r["best_primal"] is not None:
            lines.append(f"=best=     {r['instance']:<40} {r['best_primal']!r}")
        if r["dual_bound"] is not None:
            lines.append(f"=bestdual= {r['instance']:<40} {r['dual_bound']!r}")
    return "\n".join(lines) + "\n"


def write_index(out: Path, rows: Sequence[dict[str, Any]], suites: Sequence[str], command: str) -> list[Path]:
    """``index.json``, ``README.md`` and ``instances.solu`` (atomically)."""
    paths = [inside(out, n) for n in ("index.json", "README.md", "instances.solu")]
    atomic_write_json(paths[0], {"format": FORMAT, "command": command, "suites": list(suites),
                                 "modes": [str(m) for m in MODES], "formulations": list(FORMULATIONS),
                                 "formats": [ext for ext, _ in WRITERS] + ["py", "yaml"], "instances": list(rows)})
    atomic_write_text(paths[1], markdown(rows, suites, command))
    atomic_write_text(paths[2], solu(rows))
    return paths


__all__ = ["DEFAULT_CERTIFY_TIME_LIMIT", "FORMAT", "LibraryResult", "MODES", "Options", "WRITERS", "build_library",
           "markdown", "solu", "write_problem"]
