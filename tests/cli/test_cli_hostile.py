"""Hostile input to the command line, in-process through ``main([...])``: every bad input is one line on
stderr and exit status 2 before any work starts (no solver, no cluster, no profiling), output paths are
checked first, and the reported defects stay fixed."""
from __future__ import annotations

import argparse
import contextlib
import json
import math
import os
import time
from importlib import resources
from pathlib import Path
from unittest import mock

import pytest
import yaml
from hostile import ARCHITECTURE, HOSTILE, PROBLEMS, architectures, json_texts, problems
from hypothesis import given, settings
from hypothesis import strategies as st

from deepmad_pyomo.cli.common import MAX_WORKERS
from deepmad_pyomo.cli.main import main
from deepmad_pyomo.space import metrics as M
from deepmad_pyomo.space.arch import Architecture

RELEASED = Path(str(resources.files("deepmad_pyomo.space").joinpath("released")))
R18_TEXT = (RELEASED / "deepmad-R18.txt").read_text()
# What a command starts once its input is accepted; each raises WorkStarted here.
WORK = ("deepmad_pyomo.solve.design.design", "deepmad_pyomo.certify.certify", "deepmad_pyomo.batch.compare.compare",
        "deepmad_pyomo.batch.zoo.build_zoo", "deepmad_pyomo.batch.pareto.pareto", "deepmad_pyomo.batch.grid.pareto_grid",
        "deepmad_pyomo.latency.profile")


class WorkStarted(Exception):
    """A command got past its checks and started work."""


@contextlib.contextmanager
def refuse_work():
    """Every solver, cluster and profiler entry point raises :class:`WorkStarted`."""
    with contextlib.ExitStack() as stack:
        for target in WORK:
            stack.enter_context(mock.patch(target, side_effect=WorkStarted(target)))
        yield


def run(capsys, *argv: str) -> tuple[int | None, str, str]:
    """``main(argv)``: its status (``None`` when work started), stdout and stderr."""
    capsys.readouterr()
    with refuse_work():
        try:
            rc = main([str(a) for a in argv])
        except WorkStarted:
            rc = None
    out, err = capsys.readouterr()
    return rc, out, err


def assert_refused(result, field: str = "", hint: str = "") -> str:
    """Exit status 2, nothing on stdout, one line on stderr naming ``field`` and ``hint``."""
    rc, out, err = result
    assert rc == 2, (rc, out, err)
    assert out == "" and err.count("\n") == 1 and err.startswith("deepmad"), err
    assert "Traceback" not in err and field in err and hint in err, err
    return err


def write(folder: Path, name: str, data) -> str:
    path = folder / name
    path.write_text(data if isinstance(data, str) else json.dumps(data))
    return str(path)


def problem(**changes) -> dict:
    """The first hostile test problem with top-level changes (a stage change as ``stages=...``)."""
    return {**json.loads(json.dumps(PROBLEMS[0])), **changes}


def with_stage(i: int, **changes) -> dict:
    d = problem()
    d["stages"][i].update(changes)
    return d


# ----------------------------------------------------------------------------------- properties
@HOSTILE
@given(problems(), st.booleans())
def test_design_refuses_bad_problem_files_before_any_solver(tmp_path_factory, capsys, data, certify):
    path = write(tmp_path_factory.mktemp("spec"), "p.yaml", yaml.safe_dump(data, allow_unicode=True))
    rc, out, err = run(capsys, "design", "--spec", path, "--time-limit", "5", *(["--certify"] if certify else []))
    if rc is not None:  # refused: otherwise the solver started on a valid problem
        assert_refused((rc, out, err))


@HOSTILE
@given(json_texts(architectures()), st.sampled_from([("metrics",), ("metrics", "--json"), ("export", "--format",
                                                                                            "tinynas")]))
def test_architecture_files(tmp_path_factory, capsys, text, command):
    path = write(tmp_path_factory.mktemp("arch"), "a.json", text)
    rc, out, err = run(capsys, command[0], path, *command[1:])
    if rc == 0:
        assert out and err == ""
        if "--json" in command:
            json.loads(out, parse_constant=lambda c: pytest.fail(f"{c} in --json output"))
    else:
        assert_refused((rc, out, err))


NUMBERS = ("0", "-1", "1", "2", "32", "64", "2.5", "1e999", "nan", "inf", "-inf", "abc", "", "1e300",
           "99999999999999999999", "0x10")
OPTIONS = {
    "metrics": ["ARCH", "--mode", "MODE", "--resolution", "NUM", "--preset", "PRESET", "--spec", "SPEC", "--json"],
    "build": ["ARCH", "--verify", "--resolution", "NUM", "--num-classes", "NUM", "--json"],
    "export": ["ARCH", "--format", "FORMAT", "--out", "OUT"],
    "design": ["--preset", "PRESET", "--spec", "SPEC", "--solver", "SOLVER", "--time-limit", "NUM", "--gap", "NUM",
               "--workers", "NUM", "--out", "OUT", "--result", "OUT", "--certify", "--warm-start", "ARCH",
               "--seed", "NUM", "--mode", "MODE", "--scheduler", "SOLVER", "--quiet", "--prices", "PRICES",
               "--front", "OUT"],
    "presets": ["--show", "PRESET", "--json"],
    "compare": ["--suite", "PRESET", "--solvers", "SOLVER", "--time-limit", "NUM", "--out", "OUT", "--workers", "NUM"],
    "zoo": ["--suite", "PRESET", "--out", "OUT", "--time-limit", "NUM", "--escalate", "NUM"],
    "pareto": ["--preset", "PRESET", "--spec", "SPEC", "--sweep", "SWEEP", "--out", "OUT", "--points", "POINTS",
               "--per-round", "NUM", "--time-limit", "NUM", "--workers", "NUM"],
    "latency": ["profile", "--out", "OUT", "--threads", "NUM", "--batch", "NUM"],
}
VALUES = {
    "NUM": NUMBERS, "MODE": ("paper", "tinynas", "fast"), "FORMAT": ("json", "tinynas", "xml"),
    "PRESET": ("deepmad-r18", "paper", "nope", ""), "SOLVER": ("evolution", "auto", "foo", "scip:XX", ""),
    "OUT": ("adir", "afile", "afile/x.json", "new/x.json", "/dev/null", "", "x" * 300),
    "ARCH": ("small.json", "bad.json", "deep.txt", "deepmad-R18", "missing.json", "", "adir"),
    "SPEC": ("tiny.yaml", "bad.yaml", "missing.yaml", "adir"),
    "SWEEP": ("flops=1e6:2e6", "params=1e4:2e4", "macs=2e6:1e6", "params=nan:1e7", "latency=1:2", "flops", "x=1:2",
              ""),
    "POINTS": (*NUMBERS, "2x2", "4X3", "1x3", "4y4", "x", "21x2"),
    "PRICES": ("binding", "all", "flops,rho", "nope", ""),
}


@st.composite
def command_lines(draw) -> list[str]:
    command = draw(st.sampled_from(sorted(OPTIONS)))
    argv = [command]
    for token in draw(st.lists(st.sampled_from(OPTIONS[command]), max_size=6)):
        argv.append(draw(st.sampled_from(VALUES[token])) if token in VALUES else token)
        if token.startswith("--") and OPTIONS[command].index(token) + 1 < len(OPTIONS[command]):
            following = OPTIONS[command][OPTIONS[command].index(token) + 1]
            if following in VALUES:
                argv.append(draw(st.sampled_from(VALUES[following])))
    return argv


@pytest.fixture(scope="module")
def sandbox(tmp_path_factory) -> Path:
    """A folder with every file the command lines name."""
    folder = tmp_path_factory.mktemp("sandbox")
    (folder / "adir").mkdir()
    write(folder, "afile", "a file")
    write(folder, "small.json", ARCHITECTURE)
    write(folder, "bad.json", '{"blocks": [{"type": "conv", "in": 3, "out": NaN, "k": 3}]}')
    write(folder, "deep.txt", R18_TEXT.replace("'L': 12", "'L': 100000", 1))
    write(folder, "tiny.yaml", yaml.safe_dump(PROBLEMS[0]))
    write(folder, "bad.yaml", yaml.safe_dump(with_stage(0, L=[1, math.inf])))
    return folder


@settings(HOSTILE, max_examples=60)
@given(command_lines())
def test_command_lines(sandbox, capsys, argv):
    """Random command lines of hostile values: a result, a refusal on one line, or work started on valid input."""
    with contextlib.chdir(sandbox):
        rc, out, err = run(capsys, *argv)
    assert rc in (None, 0, 1, 2), (argv, rc, err)
    assert "Traceback" not in err, (argv, err)
    if rc == 2:
        assert out == "" and err.count("\n") == 1, (argv, err)


# ------------------------------------------------------------------------ the reported defects
@pytest.mark.parametrize("data,field,hint", [
    (problem(budgets={"flops": math.nan}), "budgets.flops", "not a finite number"),
    (problem(budgets={"flops": math.inf}), "budgets.flops", "not a finite number"),
    (problem(budgets=None), "budgets", "no budget given"),
    (problem(budgets={}), "budgets", "no budget given"),
    (with_stage(0, L=[1.5, 10.7]), "stages[0].L", "expected whole numbers, got [1.5, 10.7]"),
    (with_stage(0, out=[64.9, 128]), "stages[0].out", "expected whole numbers"),
    (with_stage(1, s=True), "stages[1].s", "stride True not supported"),
    (with_stage(0, k=[True]), "stages[0].k", "odd kernel sizes"),
    (problem(budgets={"flops": "1.82e9"}), "budgets.flops", "expected a number"),
    (problem(stem={"out": [33, 39]}), "stem.out", "range [33, 39] holds no multiple of 8"),
    (with_stage(0, L=[1, 100000]), "stages[0].L", "MAX_DEPTH"),
    (problem(resolution=2 ** 20), "resolution", "MAX_RESOLUTION"),
])
@pytest.mark.parametrize("certify", [False, True])
def test_bad_problem_files_are_refused_before_any_solver(capsys, tmp_path, data, field, hint, certify):
    path = write(tmp_path, "p.json", data)
    t = time.perf_counter()
    assert_refused(run(capsys, "design", "--spec", path, *(["--certify"] if certify else [])), field, hint)
    assert time.perf_counter() - t < 5


def test_yaml_exponent_budgets_are_numbers(capsys, tmp_path):
    path = write(tmp_path, "p.yaml", yaml.safe_dump(problem()).replace("6000000.0", "6e6").replace("200000.0", "2e5"))
    assert "6e6" in Path(path).read_text()
    rc, _, err = run(capsys, "design", "--spec", path)
    assert rc is None, err  # accepted: the solver started


def test_stem_range_without_a_multiple_of_the_width_step(capsys, tmp_path):
    path = write(tmp_path, "p.yaml", yaml.safe_dump(problem(stem={"out": [33, 39], "s": 1})))
    for extra in ([], ["--certify"]):
        err = assert_refused(run(capsys, "design", "--spec", path, *extra))
        assert err.startswith("deepmad: error: stem.out: range [33, 39] holds no multiple of 8"), err


def test_metrics_of_a_deep_structure_file(capsys, tmp_path):
    """``L: 80``: the depth penalty is beyond a float; the objective is -inf (null in JSON), no traceback."""
    path = write(tmp_path, "deep.txt", R18_TEXT.replace("'L': 12", "'L': 80", 1))
    rc, out, err = run(capsys, "metrics", path)
    assert rc == 0 and err == "" and "-inf" in out
    rc, out, err = run(capsys, "metrics", path, "--json")
    d = json.loads(out, parse_constant=lambda c: pytest.fail(f"{c} in --json output"))
    assert rc == 0 and d["objective"] is None and d["depth_penalty"] is None and d["score"] > 0


def test_build_of_a_runaway_depth_is_refused_at_once(capsys, tmp_path):
    path = write(tmp_path, "deep.txt", R18_TEXT.replace("'L': 12", "'L': 100000", 1))
    t = time.perf_counter()
    assert_refused(run(capsys, "build", path, "--verify"), "block 5.L", "MAX_DEPTH = 256")
    assert time.perf_counter() - t < 30  # building the 100,000 blocks would take minutes; a loaded machine ~9 s


def test_build_of_a_network_too_large_to_build(capsys, tmp_path):
    wide = {"resolution": 4096, "blocks": [{"type": "conv", "in": 3, "out": 16384, "k": 31, "s": 1},
                                           {"type": "conv", "in": 16384, "out": 16384, "k": 31, "s": 1}]}
    path = write(tmp_path, "wide.json", wide)
    assert_refused(run(capsys, "build", path, "--verify"), "architecture.macs", "MAX_MACS")
    assert run(capsys, "metrics", path)[0] == 0  # metrics need no module


@pytest.mark.parametrize("text", ['{"blocks": [{"type": "conv", "in": 3, "out": NaN, "k": 3}]}',
                                  '{"blocks": [{"type": "conv", "in": 3, "out": Infinity, "k": 3}]}',
                                  '{"blocks": [{"type": "conv", "in": 3, "out": 1e999, "k": 3}]}',
                                  '{"blocks": [{"type": "conv", "in": 3, "out": 16, "k": 3}], "resolution": -Infinity}'])
def test_non_finite_json_numbers(capsys, tmp_path, text):
    assert_refused(run(capsys, "metrics", write(tmp_path, "a.json", text)), "", "not a finite number")


def test_evolution_with_depths_up_to_100(capsys, tmp_path):
    """exp(Var L) overflows for most of this space: the evolution route still designs (no crash)."""
    data = problem()
    for st_ in data["stages"]:
        st_["L"] = [1, 100]
    path = write(tmp_path, "p.json", data)
    capsys.readouterr()
    rc = main(["design", "--spec", path, "--solver", "evolution", "--time-limit", "3", "--quiet", "--json"])
    out, err = capsys.readouterr()
    result = json.loads(out)
    assert rc == 0 and result["status"] == "feasible" and result["objective"] is not None, err
    assert math.isfinite(M.evaluate(Architecture.from_dict(result["architecture"]),
                                    M.ObjectiveSettings(mode="tinynas", rho0=0.5)).objective)


@pytest.mark.parametrize("argv,field,hint", [
    (["design", "--preset", "deepmad-r18", "--time-limit", "inf"], "--time-limit", "finite"),
    (["design", "--preset", "deepmad-r18", "--time-limit", "nan"], "--time-limit", "finite"),
    (["design", "--preset", "deepmad-r18", "--certify", "--time-limit", "1e300"], "--time-limit", "30 days"),
    (["design", "--preset", "deepmad-r18", "--gap", "nan"], "--gap", "0 <= gap < 1"),
    (["design", "--preset", "deepmad-r18", "--certify", "--workers", str(10 ** 6)], "--workers",
     f"{MAX_WORKERS} allowed"),
    (["compare", "--suite", "paper", "--solvers", "auto", "--out", "c", "--time-limit", "inf"], "--time-limit",
     "finite"),
    (["zoo", "--suite", "paper", "--out", "z", "--workers", "0"], "--workers", "must be positive"),
    (["metrics", "deepmad-R18", "--resolution", str(10 ** 9)], "resolution", "MAX_RESOLUTION"),
    (["build", "deepmad-R18", "--num-classes", str(10 ** 9)], "num_classes", "MAX_CLASSES"),
])
def test_bad_numbers_on_the_command_line(capsys, tmp_path, argv, field, hint):
    with contextlib.chdir(tmp_path):
        assert_refused(run(capsys, *argv), field, hint)
    assert list(tmp_path.iterdir()) == []


# ----------------------------------------------------------------------------------- output paths
OUTPUTS = [
    (["design", "--preset", "deepmad-r18", "--out", "{dir}"], "--out", "is a folder"),
    (["design", "--preset", "deepmad-r18", "--result", "{dir}"], "--result", "is a folder"),
    (["design", "--preset", "deepmad-r18", "--certify", "--out", "{file}/x.json"], "--out", "is a file"),
    (["design", "--preset", "deepmad-r18", "--out", "/dev/null"], "--out", "not a regular file"),
    (["design", "--preset", "deepmad-r18", "--out", ""], "--out", "not a path"),
    (["design", "--preset", "deepmad-r18", "--out", "x" * 300], "--out", "too long"),
    (["export", "deepmad-R18", "--format", "json", "--out", "{dir}"], "--out", "is a folder"),
    (["compare", "--suite", "paper", "--solvers", "auto", "--out", "{file}"], "--out", "is a file"),
    (["zoo", "--suite", "paper", "--out", "{file}/sub"], "--out", "is a file"),
    (["latency", "profile", "--out", "{dir}"], "--out", "is a folder"),
]


@pytest.mark.parametrize("argv,field,hint", OUTPUTS)
def test_output_paths_are_checked_before_any_work(capsys, tmp_path, argv, field, hint):
    (tmp_path / "dir").mkdir()
    (tmp_path / "file").write_text("a file")
    before = sorted(tmp_path.rglob("*"))
    argv = [a.format(dir=tmp_path / "dir", file=tmp_path / "file") for a in argv]
    assert_refused(run(capsys, *argv), field, hint)
    assert sorted(tmp_path.rglob("*")) == before  # nothing written


def test_unwritable_output_folder(capsys, tmp_path):
    locked = tmp_path / "locked"
    locked.mkdir()
    real_access = os.access
    with mock.patch("os.access", lambda p, mode: False if Path(p) == locked else real_access(p, mode)):
        assert_refused(run(capsys, "design", "--preset", "deepmad-r18", "--out", locked / "new" / "a.json"),
                       "--out", "permission denied")
        assert_refused(run(capsys, "zoo", "--suite", "paper", "--out", locked / "zoo"), "--out", "permission denied")


def test_outputs_are_written_where_named_only(capsys, tmp_path):
    target = tmp_path / "new" / "sub" / "r18.txt"
    rc, _, err = run(capsys, "export", "deepmad-R18", "--format", "tinynas", "--out", target)
    assert rc == 0, err
    assert sorted(p.relative_to(tmp_path).as_posix() for p in tmp_path.rglob("*")) == \
        ["new", "new/sub", "new/sub/r18.txt"]


# ------------------------------------------------------------------------------ exits and usage
def test_help_lists_the_exit_statuses(capsys):
    assert main(["--help"]) == 0
    text = " ".join(capsys.readouterr().out.split())
    assert "exit status: 0 done; 1 the run failed" in text and "2 bad input" in text and "infeasible" in text


@pytest.mark.parametrize("argv", [[], ["frobnicate"], ["design"], ["design", "--preset", "nope"],
                                  ["metrics", "deepmad-R18", "--resolution", "abc"]])
def test_usage_errors_are_one_line(capsys, argv):
    assert_refused(run(capsys, *argv), "error:")


def test_every_output_option_is_checked():
    """Every option that names a place to write is declared with add_output (and so checked first)."""
    from deepmad_pyomo.cli.main import build_parser

    def parsers(p):
        yield p
        for action in p._actions:
            if isinstance(action, argparse._SubParsersAction):
                for sub in action.choices.values():
                    yield from parsers(sub)

    for p in parsers(build_parser()):
        declared = {dest for dest, _, _ in p.get_default("outputs") or ()}
        for action in p._actions:
            if "--out" in action.option_strings or "--result" in action.option_strings:
                assert action.dest in declared, (p.prog, action.option_strings)


@pytest.mark.parametrize("argv", [["metrics", "/dev/zero"], ["metrics", "deepmad-R18", "--spec", "/dev/zero"],
                                  ["design", "--spec", "/dev/zero"]])
def test_endless_input_files(capsys, argv):
    if not Path("/dev/zero").exists():
        pytest.skip("no /dev/zero here")
    t = time.perf_counter()
    assert_refused(run(capsys, *argv), "/dev/zero", "longer than 64 Mi characters")
    assert time.perf_counter() - t < 10
