"""Faults a hostile or unlucky user meets in batch runs, without a cluster: names that would write outside
``--out`` are refused at plan time, one rule says which runs failed, and both commands share it."""
from __future__ import annotations

import argparse
from pathlib import Path

import pytest
import yaml
from spaces import TINY_SUITE as TINY

from deepmad_pyomo.batch import compare, suites, zoo
from deepmad_pyomo.batch.compare_report import summary_rows
from deepmad_pyomo.batch.engine import FAILURES, BatchStatus, is_failure
from deepmad_pyomo.batch.paths import check_plain_name, inside, is_plain_name
from deepmad_pyomo.cli.batch import (
    EXIT_HELP,
    add_compare_parser,
    add_zoo_parser,
    exit_status,
)
from deepmad_pyomo.errors import DesignError
from deepmad_pyomo.solve.results import Status


def write_suite(folder: Path, names: dict[str, str]) -> str:
    """A suite folder whose files (``file stem -> problem name``) hold tiny CIFAR problems."""
    folder.mkdir(parents=True)
    problems = [p for p in suites.generate("cifar") if p["name"] in TINY]
    for (stem, name), problem in zip(names.items(), problems):
        (folder / f"{stem}.yaml").write_text(yaml.safe_dump({**problem, "name": name}))
    return str(folder)


# ------------------------------------------------------------------------------------------- names
@pytest.mark.parametrize("name", ["../../x", "..", ".", "a/b", "a\\b", "", "a b", "x\n", "/etc/passwd", None, 3])
def test_names_that_are_not_plain_are_refused(name) -> None:
    assert not is_plain_name(name)
    with pytest.raises(DesignError, match="problem name: .* is not a plain name"):
        check_plain_name(name, "problem name")


@pytest.mark.parametrize("name", ["k1kxk1-60m", "a.b_c", ".hidden", "R50", "x..y"])
def test_plain_names_pass(name: str) -> None:
    assert check_plain_name(name, "name") == name


def test_a_hostile_suite_is_refused_before_any_run(tmp_path: Path) -> None:
    evil = write_suite(tmp_path / "evil", {"fine": "k1kxk1-60m", "escape": "../../x"})
    out = tmp_path / "deep" / "out"
    for run in (lambda: zoo.build_zoo(evil, out, progress=False),
                lambda: compare.compare(evil, ["auto"], out=out, progress=False)):
        with pytest.raises(DesignError) as err:
            run()
        line = str(err.value)
        assert "escape.yaml: name: '../../x' is not a plain name" in line and "\n" not in line
    assert not out.exists() and not (tmp_path / "x.json").exists() and sorted(tmp_path.iterdir()) == [tmp_path / "evil"]


def test_a_suite_folder_and_a_built_suite_need_plain_names(tmp_path: Path) -> None:
    spaced = write_suite(tmp_path / "my suite", {"a": "k1kxk1-60m"})
    with pytest.raises(DesignError, match="suite folder .*'my suite' is not a plain name"):
        suites.load_suite(spaced)
    problem = suites.load_suite(write_suite(tmp_path / "ok", {"a": "k1kxk1-60m"})).problems[0]
    built = suites.Suite("tiny", (problem.__class__.from_dict({**problem.to_dict(), "name": "../up"}),))
    with pytest.raises(DesignError, match="suite tiny: problem name: '../up'"):
        zoo.plan([built], "auto", 5.0)
    with pytest.raises(DesignError, match="suite name: '../x'"):
        compare.plan([suites.Suite("../x", (problem,))], ["auto"], ["natural"], 5.0)


def test_record_paths_stay_inside_out(tmp_path: Path) -> None:
    problem = suites.load_suite(write_suite(tmp_path / "tiny", {"a": "k1kxk1-60m"}))
    (payload,) = zoo.plan([problem], "auto", 5.0)
    assert zoo.record_path(tmp_path, payload) == tmp_path / "tiny" / "k1kxk1-60m.json"
    with pytest.raises(DesignError, match="outside the output folder"):  # a payload no plan makes
        zoo.record_path(tmp_path, {**payload, "problem": {"name": "../../x"}})
    with pytest.raises(DesignError, match="outside the output folder"):
        inside(tmp_path, "..", "x.json")
    (run, *_) = compare.plan([problem], ["bonmin:B-Hyb"], ["natural"], 5.0).payloads
    path = compare.record_path(tmp_path, {**run, "key": "../../" + run["key"]})
    assert path.parent == tmp_path / "runs" and path.resolve().is_relative_to(tmp_path.resolve())


# ---------------------------------------------------------------------------------------- failures
def test_one_rule_says_which_runs_failed() -> None:
    assert FAILURES == {BatchStatus.FAILED.value, BatchStatus.UNAVAILABLE.value, Status.ERROR.value}
    answered = [s.value for s in Status if s != Status.ERROR]
    assert not any(is_failure(s) for s in answered) and not is_failure(None)
    # compare keeps a run with a solver's answer, runs a failed one again (unless failures are kept)
    assert compare.FINAL == set(answered)
    rows = [{"config": "a", "status": s, "time_s": 1.0} for s in [*FAILURES, *answered]]
    assert summary_rows(rows)[0]["failed"] == len(FAILURES)


def test_zoo_reuses_designs_and_proofs_and_runs_failures_again(tmp_path: Path) -> None:
    (payload,) = zoo.plan([suites.load_suite(write_suite(tmp_path / "tiny", {"a": "k1kxk1-60m"}))], "auto", 5.0)
    record = zoo.failure_record(payload, RuntimeError("worker lost"))
    assert record["certificate"]["message"] == "task failed: RuntimeError: worker lost"
    assert zoo.MODELS.matches(record, payload) and zoo.MODELS.failed(record)
    assert not zoo.MODELS.reusable(record, payload) and zoo.MODELS.reusable(record, payload, keep_failed=True)
    infeasible = {**record, "certificate": {**record["certificate"], "status": Status.INFEASIBLE.value}}
    assert zoo.MODELS.reusable(infeasible, payload)
    other_limit = {**record, "certificate": {**record["certificate"], "time_limit": 99.0}}
    assert not zoo.MODELS.reusable(other_limit, payload, keep_failed=True)


# --------------------------------------------------------------------------------------------- CLI
def test_both_commands_keep_failed_and_document_their_exit_status() -> None:
    parser = argparse.ArgumentParser(prog="deepmad")
    sub = parser.add_subparsers(dest="command", required=True)
    add_compare_parser(sub)
    add_zoo_parser(sub)
    for argv in (["compare", "--suite", "cifar", "--solvers", "auto", "--out", "x", "--keep-failed"],
                 ["zoo", "--suite", "cifar", "--out", "x", "--keep-failed"]):
        assert parser.parse_args(argv).keep_failed
        assert EXIT_HELP in " ".join(sub.choices[argv[0]].format_help().split())
    assert (exit_status(0), exit_status(2)) == (0, 1)
