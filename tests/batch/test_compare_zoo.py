"""Suites, ``deepmad compare`` and ``deepmad zoo`` on a real Dask ``LocalCluster`` (2 worker processes).

Fast: a tiny suite of two CIFAR problems, a few seconds per solve. One cluster (the embedded-cluster
path of :func:`cluster.cluster_client`) serves every check that needs one, inside a single test;
the CLI check reaches it through ``--scheduler`` (the external-cluster path).
"""
from __future__ import annotations

import argparse
import csv
import json
import multiprocessing as mp
import shutil
import threading
import time
from importlib import resources
from pathlib import Path

import pytest
import yaml

pytest.importorskip("distributed")
pytest.importorskip("matplotlib")

from spaces import TINY_SUITE as TINY

from deepmad_pyomo.batch import suites
from deepmad_pyomo.batch.cluster import Job, cluster_client, run_jobs
from deepmad_pyomo.batch.compare import COLUMNS, compare
from deepmad_pyomo.batch.engine import RunKind, is_failure, run_planned
from deepmad_pyomo.batch.paths import inside
from deepmad_pyomo.batch.zoo import build_zoo, references
from deepmad_pyomo.cli.batch import add_compare_parser, add_zoo_parser
from deepmad_pyomo.errors import DesignError
from deepmad_pyomo.nn import models as registry
from deepmad_pyomo.solve.registry import REGISTRY
from deepmad_pyomo.solve.results import Status

TIME_LIMIT = 12.0  # per run: auto on the tiny problems takes about 6 s alone (k1kxk1-60m, log: three
# neighbourhoods with kernels free before a design); 8 s was too little once the other test process loaded the machine

needs_auto = pytest.mark.skipif(not REGISTRY["auto"].available(), reason="casadi and pyscipopt are needed")


# ------------------------------------------------------------------------------------------ suites
def test_shipped_suites_are_the_generators_output() -> None:
    root = resources.files("deepmad_pyomo.batch").joinpath(suites.DATA)
    for name in suites.GENERATED:
        shipped = {e.name: yaml.safe_load(e.read_text()) for e in root.joinpath(name).iterdir()
                   if e.name.endswith(".yaml")}
        generated = {f"{p['name']}.yaml": p for p in suites.generate(name)}
        assert shipped == generated, f"suite_data/{name} is stale: run python -m deepmad_pyomo.batch.suites"


def test_suite_contents() -> None:
    paper = suites.load_suite("paper")
    assert sorted(p.name for p in paper) == sorted(suites.PRESETS)
    imagenet = suites.load_suite("imagenet")
    assert len(imagenet) >= 24
    fams = {suites.family(p) for p in imagenet}
    assert fams == {"k1kxk1", "k1dwk1", "k1dwsek1"}
    assert {p.resolution for p in imagenet} == {224, 288}
    flops = [p.budgets.flops for p in imagenet]
    assert min(flops) <= 0.5e9 and max(flops) >= 15e9
    # params budgets grow with the FLOPs budget within a family and resolution; rho0 by family
    for fam in fams:
        for res in (224, 288):
            sel = sorted((p for p in imagenet if suites.family(p) == fam and p.resolution == res),
                         key=lambda p: p.budgets.flops)
            assert all(a.budgets.params < b.budgets.params for a, b in zip(sel, sel[1:]))
            assert all(p.objective.rho0 == (0.3 if fam == "k1kxk1" else 0.5) for p in sel)
    cifar = suites.load_suite("cifar")
    for p in cifar:
        assert (p.resolution, p.num_classes, p.stem.s) == (32, 10, 1)
        assert [st.s for st in p.stages].count(2) == 3


def test_suite_errors(tmp_path: Path) -> None:
    with pytest.raises(DesignError, match="unknown suite"):
        suites.load_suite("nope")
    (tmp_path / "empty").mkdir()
    with pytest.raises(DesignError, match="no .yaml"):
        suites.load_suite(str(tmp_path / "empty"))


def test_gaps_arithmetic() -> None:
    from deepmad_pyomo.batch.plots import gaps

    rows = [  # problem p: a proves a bound and is best; b is slower and 10% worse; q: only b designs
        {"problem_id": "p", "config": "a", "objective": 100.0, "bound": 110.0, "time_s": 2.0, "status": "time_limit"},
        {"problem_id": "p", "config": "b", "objective": 90.0, "bound": None, "time_s": 4.0, "status": "feasible"},
        {"problem_id": "q", "config": "a", "objective": None, "bound": None, "time_s": 5.0, "status": "error"},
        {"problem_id": "q", "config": "b", "objective": 50.0, "bound": None, "time_s": 1.0, "status": "feasible"},
    ]
    g = {(r["problem_id"], r["config"]): r for r in gaps(rows)}
    assert g["p", "a"]["gap_to_best_bound"] == pytest.approx(0.1)
    assert g["p", "b"]["gap_to_best_bound"] == pytest.approx(20 / 90)
    assert g["p", "b"]["shortfall"] == pytest.approx(0.1)
    assert g["q", "b"]["best_bound"] is None and g["q", "b"]["gap_to_best_bound"] is None


class AtomicityWatcher:
    """Reads every JSON/CSV file under a folder in a loop; records any that is not complete."""

    def __init__(self, folder: Path):
        self.folder, self.bad, self.reads = folder, [], 0
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self.run, daemon=True)

    def run(self) -> None:
        while not self.stop.is_set():
            for path in list(self.folder.rglob("*")):
                try:
                    if path.suffix == ".json":
                        json.loads(path.read_text())
                    elif path.suffix == ".csv":
                        text = path.read_text()
                        if not text.startswith(",".join(COLUMNS)) or not text.endswith("\n"):
                            self.bad.append((path.name, "partial csv"))
                    else:
                        continue
                    self.reads += 1
                except FileNotFoundError:
                    continue
                except ValueError as e:
                    self.bad.append((path.name, str(e)))
            time.sleep(0.005)

    def __enter__(self) -> "AtomicityWatcher":
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.stop.set()
        self.thread.join()


# ------------------------------------------------------------------------------------ the cluster
def _daemonic() -> bool:
    return mp.current_process().daemon


def check_workers_are_processes_that_may_fork(client) -> None:
    daemon = client.run(_daemonic)
    assert len(daemon) == 2 and not any(daemon.values())

    def fork_a_child() -> int:  # what design() does on every solve
        import multiprocessing as mp

        p = mp.get_context("fork").Process(target=lambda: None, daemon=True)
        p.start()
        p.join()
        return p.exitcode

    assert client.submit(fork_a_child, pure=False).result(timeout=60) == 0


# ---------------------------------------------------------------------------------------- compare
def check_compare_resume_atomic_and_plots(client, tiny_suite: str, tmp_path: Path) -> None:
    out = tmp_path / "cmp"
    out.mkdir()
    with AtomicityWatcher(out) as watch:
        res = compare(tiny_suite, ["auto"], ["natural", "log"], TIME_LIMIT, out, client=client, progress=False)
    assert not watch.bad and watch.reads > 0
    assert (res.runs, res.reused, res.done) == (6, 0, 6)  # and the certified reference, once per problem
    assert not list(out.rglob("*.tmp"))
    rows = list(csv.DictReader((out / "results.csv").open()))
    assert len(rows) == 6 and set(rows[0]) == set(COLUMNS)
    assert {(r["problem"], r["formulation"]) for r in rows if r["solver"] == "auto"} == \
        {(p, f) for p in TINY for f in ("natural", "log")}
    assert {(r["problem"], r["formulation"]) for r in rows if r["solver"] == "certify"} == {(p, "natural") for p in TINY}
    data = json.loads((out / "results.json").read_text())
    assert len(data["rows"]) == 6
    for r in data["rows"]:  # every route's gap to the problem's certified bound, where certify proved one
        certified = [c for c in data["rows"] if c["problem"] == r["problem"] and c["solver"] == "certify"]
        if certified[0]["bound"] is not None and r["objective"] is not None:
            assert r["gap_to_certified"] is not None and r["certified_bound"] == certified[0]["bound"]
    for r in data["rows"]:
        assert r["status"] in ("feasible", "optimal", "time_limit", "error")
        assert r["time_s"] > 0 and r["n_vars"] > 0 and r["log10_points"] > 0
        if r["objective"] is not None:
            assert r["verified"] is True and r["macs"] <= r["flops_budget"] and r["params"] <= r["params_budget"]
    assert any(r["objective"] is not None for r in data["rows"])
    md = (out / "results.md").read_text()
    assert "| auto/natural |" in md and "| auto/log |" in md
    for stem in ("profiles", "gaps", "time_vs_size"):
        for fmt in ("png", "svg"):
            assert (out / f"{stem}.{fmt}").stat().st_size > 1000

    # interrupted run: one record lost mid-write (truncated), another finished (marked to see it is kept)
    records = sorted((out / "runs").glob("*.json"))
    assert len(records) == 6
    kept = json.loads(records[0].read_text())
    kept["message"] = "finished before the interruption"
    records[0].write_text(json.dumps(kept))
    records[1].write_text(records[1].read_text()[:40])
    again = compare(tiny_suite, ["auto"], ["natural", "log"], TIME_LIMIT, out, client=client, progress=False,
                    figures=False)
    assert (again.runs, again.reused, again.done) == (6, 5, 1)
    assert json.loads(records[0].read_text())["message"] == "finished before the interruption"
    assert json.loads(records[1].read_text())["status"] != "failed"
    with pytest.raises(DesignError, match="formulation"):
        compare(tiny_suite, ["auto"], ["nope"], TIME_LIMIT, out, client=client, progress=False)


# -------------------------------------------------------------------------------------------- zoo
def check_zoo_records_registry_and_picture(client, tiny_suite: str, tmp_path: Path, monkeypatch) -> None:
    out = tmp_path / "zoo"
    res = build_zoo(tiny_suite, out, "auto", TIME_LIMIT, client=client, progress=False)
    assert (res.models, res.reused, res.designed) == (2, 0, 2)
    recs = {r["name"]: r for r in res.records}
    assert set(recs) == {f"tiny-{n}" for n in TINY}
    for name, rec in recs.items():
        path = out / "tiny" / f"{rec['problem_name']}.json"
        assert json.loads(path.read_text()) == rec
        assert rec["budgets"]["flops_measured_as"] == "macs" and rec["problem"]["name"] == rec["problem_name"]
        assert {"solver", "status", "bound", "gap", "objective"} <= set(rec["certificate"])
    built = [r for r in recs.values() if r["architecture"] is not None]
    assert built, "no tiny problem was designed in the time limit"
    for rec in built:
        v = rec["verification"]
        assert v["match"] and v["macs_counted"] == rec["metrics"]["macs"] <= rec["budgets"]["flops"]
        assert v["params_counted"] == rec["metrics"]["params"] <= rec["budgets"]["params"]
    readme = (out / "README.md").read_text()
    assert all(f"`{n}`" in readme for n in recs)
    assert (out / "zoo.png").stat().st_size > 1000 and (out / "zoo.svg").stat().st_size > 1000

    # every record is a registered model: create_model builds it
    monkeypatch.setenv(registry.ENV_VAR, str(out))
    registry.refresh()
    try:
        for rec in built:
            assert rec["name"] in registry.list_models()
            model = registry.create_model(rec["name"], device="meta")
            assert sum(p.numel() for p in model.parameters()) == rec["verification"]["params_counted"]
    finally:
        monkeypatch.delenv(registry.ENV_VAR)
        registry.refresh()

    again = build_zoo(tiny_suite, out, "auto", TIME_LIMIT, client=client, progress=False, figure=False)
    assert again.reused == len(built) and again.designed == 2 - len(built)


def test_zoo_references() -> None:
    refs = {r["name"]: r for r in references()}
    assert refs["ResNet-18"]["macs"] == 1_814_073_344 and refs["ResNet-50"]["params"] == 25_557_032
    assert refs["deepmad-R50"]["score"] > refs["ResNet-50"]["score"] > 0
    assert refs["deepmad-R50"]["depth_penalty"] > 1e10  # paper form exp(Var L) of depths [1, 11, 12, 13, 15]
    assert abs(refs["deepmad-R50"]["rho"] - 0.3) < 0.01


# -------------------------------------------------------------------------------------------- CLI
def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="deepmad")
    sub = p.add_subparsers(dest="command", required=True)
    add_compare_parser(sub)
    add_zoo_parser(sub)
    return p


def check_cli_on_an_existing_scheduler(client, tiny_suite: str, tmp_path: Path, capsys) -> None:
    capsys.readouterr()
    address = client.scheduler.address
    args = _parser().parse_args(["compare", "--suite", tiny_suite, "--solvers", "auto", "--time-limit", "8",
                                 "--out", str(tmp_path / "c"), "--scheduler", address, "--only", "k1kxk1-*",
                                 "--no-plots", "--no-progress", "--json"])
    args.func(args)
    summary = json.loads(capsys.readouterr().out)
    assert (summary["runs"], summary["done"], summary["workers"]) == (2, 2, 2)  # auto, and certify for the certified bound
    assert summary["summary"][0]["config"] == "auto/natural"


def test_cli_arguments() -> None:
    p = _parser()
    with pytest.raises(SystemExit):
        p.parse_args(["zoo", "--suite", "cifar", "--out", "x", "--workers", "2", "--scheduler", "tcp://h:1"])
    with pytest.raises(SystemExit):
        p.parse_args(["zoo", "--suite", "cifar", "--out", "x", "--time-limit", "0"])
    args = p.parse_args(["compare", "--suite", "cifar", "--solvers", "nope", "--out", "x"])
    with pytest.raises(DesignError, match="unknown solver"):
        args.func(args)
    args = p.parse_args(["zoo", "--suite", "cifar", "--out", "x", "--only", "zzz*"])
    with pytest.raises(DesignError, match="no problem"):
        args.func(args)


# ------------------------------------------------------------------------------ failure handling
def check_a_dying_worker_costs_only_its_task(client, tmp_path: Path) -> None:
    def job(payload: dict) -> dict:  # a local function: Dask ships it by value
        import os
        import time
        from pathlib import Path

        marker = Path(payload["marker"])
        if payload["mode"] != "ok" and not marker.exists():
            marker.write_text(str(os.getpid()))
            if payload["mode"] == "die":
                os._exit(1)  # the worker process dies mid-task
            raise RuntimeError("transient failure")
        if payload["mode"] == "always":
            raise RuntimeError("permanent failure")
        time.sleep(0.3)
        return {"key": payload["key"], "pid": os.getpid()}

    modes = {"a": "ok", "b": "die", "c": "raise", "d": "ok", "e": "always"}
    jobs = [Job(k, {"key": k, "mode": m, "marker": str(tmp_path / f"{k}.marker")}) for k, m in modes.items()]
    done, failed = {}, {}
    report = run_jobs(job, jobs, lambda j, r: done.__setitem__(j.key, r),
                      lambda j, e: failed.__setitem__(j.key, e), client=client, retries=1, progress=False)
    assert set(done) == {"a", "b", "c", "d"} and set(failed) == {"e"}
    assert sorted(report.finished) == ["a", "b", "c", "d"] and "permanent failure" in report.failed["e"]
    # b's first worker died; it was rerun in another (or the restarted) worker process
    assert done["b"]["pid"] != int((tmp_path / "b.marker").read_text())
    deadline = time.time() + 60
    while len(client.scheduler_info()["workers"]) < 2 and time.time() < deadline:
        time.sleep(0.5)
    assert len(client.scheduler_info()["workers"]) == 2  # the nanny restarted the dead worker


def check_failed_runs_are_counted_and_run_again(client, tmp_path: Path) -> None:
    """Every failure (task raised, solver error, solver missing) is counted; a rerun runs the failed runs
    again, their new record saying why they failed before; ``keep_failed`` keeps them."""
    def execute(payload: dict) -> dict:  # a local function: Dask ships it by value
        if payload["status"] == "raise":
            raise RuntimeError("boom")
        return {"key": payload["key"], "status": payload["status"], "message": f"{payload['status']} now"}

    kind = RunKind(name="t", execute=execute, record_path=lambda out, p: inside(out, f"{p['key']}.json"),
                   matches=lambda r, p: isinstance(r, dict) and r.get("key") == p["key"],
                   finished=lambda r: not is_failure(r["status"]), status=lambda r: r["status"],
                   message=lambda r: r["message"],
                   failure=lambda p, e: {"key": p["key"], "status": "failed", "message": f"task failed: {e}"})
    payloads = [{"key": k, "status": k} for k in ("feasible", "error", "unavailable", "raise")]
    def run(keep_failed: bool = False):
        return run_planned(kind, tmp_path, payloads, client=client, retries=0, progress=False, keep_failed=keep_failed)

    first = run()
    assert (first.reused, first.done, first.failed) == (0, 1, 3)
    again = run()
    assert (again.reused, again.done, again.failed) == (1, 0, 3)
    raised = json.loads((tmp_path / "raise.json").read_text())
    assert raised["previous_failure"] == {"status": "failed", "message": "task failed: boom"}
    assert json.loads((tmp_path / "error.json").read_text())["previous_failure"]["message"] == "error now"
    kept = run(keep_failed=True)
    assert (kept.reused, kept.done, kept.failed) == (4, 0, 3)


def check_cli_counts_failures_as_the_records_do(client, tiny_suite: str, tmp_path: Path, capsys) -> None:
    """A solver missing on the workers: both commands count the failed runs as their records and
    results.md do, exit 1, and run them again on rerun unless --keep-failed."""
    if shutil.which("couenne"):
        return
    address = client.scheduler.address
    common = ["--suite", tiny_suite, "--time-limit", "4", "--scheduler", address, "--no-progress"]
    compare_argv = ["compare", *common, "--solvers", "nl:couenne", "--out", str(tmp_path / "c"), "--no-plots", "--no-certified"]
    zoo_argv = ["zoo", *common, "--solver", "nl:couenne", "--out", str(tmp_path / "z"), "--no-plot"]
    for argv, line in ((compare_argv, "0 done now, 2 failed"), (zoo_argv, "0 designed now, 2 failed")):
        capsys.readouterr()
        args = _parser().parse_args(argv)
        assert args.func(args) == 1 and line in capsys.readouterr().out
        args = _parser().parse_args([*argv, "--json", "--keep-failed"])
        assert args.func(args) == 1
        summary = json.loads(capsys.readouterr().out)
        assert (summary["reused"], summary["failed"]) == (2, 2)
        args = _parser().parse_args([*argv, "--json"])
        assert args.func(args) == 1 and json.loads(capsys.readouterr().out)["reused"] == 0
    assert "| nl:couenne/natural | 2 | 0 | 0 | 0 | 0 | - | - |" in (tmp_path / "c" / "results.md").read_text()
    for record in (tmp_path / "c" / "runs").glob("*.json"):
        data = json.loads(record.read_text())
        assert data["status"] == "unavailable" and data["message"] and data["previous_failure"]["message"]


def check_certify_boxes_on_the_cluster(client) -> None:
    """``certify(scheduler=...)`` solves its boxes as Dask tasks: the same tree and answer as local processes."""
    from spaces import tiny_problem

    from deepmad_pyomo.certify import certify

    p = tiny_problem("tinynas", flops=4e6)
    local = certify(p, time_limit=90, workers=1)
    dask = certify(p, time_limit=90, incumbent=local.architecture, scheduler=client.scheduler.address)
    assert local.status == dask.status == Status.OPTIMAL
    assert "Dask at" in dask.solver
    assert dask.objective == pytest.approx(local.objective, rel=1e-12)
    assert dask.bound == pytest.approx(local.bound, rel=1e-9)
    assert [b["id"] for b in dask.details["box_tree"]] == [b["id"] for b in local.details["box_tree"]]


# ------------------------------------------------------------------------- all on one real cluster
@needs_auto
def test_on_a_two_process_local_cluster(tiny_suite: str, tmp_path: Path, monkeypatch, capsys) -> None:
    """One embedded LocalCluster (2 worker processes) for every check that needs one: a single test, so
    that ``pytest -n 2`` runs it in one xdist process instead of starting a cluster in each."""
    with cluster_client(workers=2) as client:
        for name, check, args in [
            ("fork", check_workers_are_processes_that_may_fork, ()),
            ("compare", check_compare_resume_atomic_and_plots, (tiny_suite, tmp_path / "compare")),
            ("zoo", check_zoo_records_registry_and_picture, (tiny_suite, tmp_path / "zoo", monkeypatch)),
            ("cli", check_cli_on_an_existing_scheduler, (tiny_suite, tmp_path / "cli", capsys)),
            ("failures", check_failed_runs_are_counted_and_run_again, (tmp_path / "failures",)),
            ("cli failures", check_cli_counts_failures_as_the_records_do, (tiny_suite, tmp_path / "cli-f", capsys)),
            ("certify", check_certify_boxes_on_the_cluster, ()),
            ("worker death", check_a_dying_worker_costs_only_its_task, (tmp_path / "death",)),
        ]:
            for a in args:
                if isinstance(a, Path):
                    a.mkdir(parents=True, exist_ok=True)
            t0 = time.perf_counter()
            check(client, *args)
            print(f"{name}: {time.perf_counter() - t0:.1f} s")
