"""Named option profiles (deepmad_pyomo/solve/profiles.yaml): each one reaches its solver in a real
solve of a small problem; bad names and bad files are one clear line; ``tee`` shows the solver's log."""
from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml
from test_solvers import small_problem

from deepmad_pyomo.cli.main import main
from deepmad_pyomo.errors import DesignError
from deepmad_pyomo.solve import profiles
from deepmad_pyomo.solve.backends import scip
from deepmad_pyomo.solve.design import design
from deepmad_pyomo.solve.options import SolveOptions
from deepmad_pyomo.solve.results import Status

ALL = [(route, name) for route, named in profiles.load().items() for name in named]


def test_the_file_names_the_routes_profiles() -> None:
    assert profiles.PROFILE_FILE.is_file()
    assert {"scip", "ipopt", "bonmin"} <= set(profiles.load())
    assert profiles.names("scip")[0] == "default" and {"aggressive", "exact"} <= set(profiles.names("scip"))
    assert profiles.names("auto") == ["default"] and profiles.settings("auto") == {}
    assert profiles.settings("ipopt", "precise") == {**profiles.settings("ipopt"), "tol": 1e-10, "constr_viol_tol": 1e-10}


@pytest.mark.parametrize(("route", "name"), ALL)
def test_each_profile_reaches_its_solver(route: str, name: str, capfd: pytest.CaptureFixture[str]) -> None:
    """A real solve of the small problem with the profile: the options are in the record and, where the
    solver can say, it held them (SCIP's parameters read back after the solve, Ipopt's list of the
    options it was given in its log)."""
    spec = route if name == "default" else f"{route}@{name}"
    extra = {"bonmin_stages": ["structure", "fixed"]} if route == "bonmin" else {}
    res = design(small_problem(), spec, SolveOptions(time_limit=20, tee=route == "ipopt", extra=extra))
    assert res.solver.endswith("" if name == "default" else f"@{name}") and res.diagnostics["profile"] == name
    assert res.status in (Status.OPTIMAL, Status.FEASIBLE) and res.architecture is not None
    wanted = profiles.settings(route, name)
    if route == "scip":
        held = res.diagnostics["solver_options"]
        assert held == scip.parameters(wanted) and (held or name == "default")
    elif route == "ipopt":
        assert res.diagnostics["solver_options"]["ipopt"] == wanted
        log = capfd.readouterr().err
        assert "List of user-set options" in log
        for key, value in wanted.items():
            assert any(line.split()[:3] == [key, "=", f"{value:g}"] and line.split()[-1] == "yes"
                       for line in log.splitlines()), key
    else:
        assert wanted.items() <= res.diagnostics["bonmin_options"].items()


def test_scip_meta_settings_expand_to_scip_parameters() -> None:
    params = scip.parameters({"heuristics": "aggressive", "heuristics/rins/freq": 3})
    assert params["heuristics/rins/freq"] == 3  # a parameter given wins over the meta setting
    assert len(params) > 20 and all("/" in k for k in params)
    assert scip.parameters({"limits/nodes": 5}) == {"limits/nodes": 5}


def test_unknown_profile_is_one_line() -> None:
    with pytest.raises(DesignError, match=r"^solver: scip has no profile 'fast' \(valid: default, aggressive, exact\)$"):
        design(small_problem(), "scip@fast")
    with pytest.raises(DesignError, match=r"^profile: auto has no profile 'precise' \(valid: default\)$"):
        design(small_problem(), "auto", SolveOptions(profile="precise"))
    with pytest.raises(DesignError, match="^profile: "):
        SolveOptions(profile="")


@pytest.mark.parametrize(("text", "message"), [
    ("scip: {fast: {}}", "scip: no 'default' profile"),
    ("scpi: {default: {}}", "scpi: no route reads profiles by that name"),
    ("scip: {default: {limits/time: 3}}", "scip.default.limits/time: set by --time-limit, not by a profile"),
    ("bonmin: {default: {algorithm: B-BB}}", "bonmin.default.algorithm: set by the variant"),
    ("scip: {default: {heuristics: loud}}", "scip.default.heuristics: 'loud' is not a SCIP parameter"),
    ("ipopt: {default: {tol: [1]}}", "ipopt.default.tol: [1] is not a number, string or boolean"),
])
def test_bad_profile_files_are_refused(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "profiles.yaml"
    path.write_text(text)
    with pytest.raises(DesignError, match=f"^profiles.yaml: {message}".replace("[", r"\[").replace("]", r"\]")):
        profiles.load(path)


def test_cli_profile_and_tee(tmp_path: Path, capfd: pytest.CaptureFixture[str]) -> None:
    spec = tmp_path / "small.yaml"
    spec.write_text(yaml.safe_dump(small_problem().to_dict()))
    assert main(["design", "--spec", str(spec), "--solver", "scip", "--profile", "exact", "--tee", "--json",
                 "--time-limit", "20"]) == 0
    out, err = capfd.readouterr()
    result = json.loads(out)  # the SCIP log went to stderr: stdout is the JSON alone
    assert result["solver"] == "scip@exact" and result["status"] == "optimal"
    assert "SCIP Status" in err and "Solving Nodes" in err
    assert main(["design", "--spec", str(spec), "--solver", "scip", "--profile", "loud"]) == 2
    assert "--profile: scip has no profile 'loud' (valid: default, aggressive, exact)" in capfd.readouterr().err
