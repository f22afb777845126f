"""The ``deepmad`` command line: in-process through ``main([...])`` and as the installed console script."""
from __future__ import annotations

import json
import shutil
import subprocess
import sys
from importlib import resources
from pathlib import Path

import pytest
import yaml

from deepmad_pyomo.cli.main import build_parser, main
from deepmad_pyomo.space import arch as A
from deepmad_pyomo.space import problem as P

RELEASED = Path(str(resources.files("deepmad_pyomo.space").joinpath("released")))
R18, R50, M29 = (str(RELEASED / f"{n}.txt") for n in ("deepmad-R18", "deepmad-R50", "deepmad-29M-224"))

# The released structures' figures in tinynas mode (the official code's counts), to the precision published.
FIGURES = {
    R18: dict(score=32120.20, penalty=34.81, rho=0.2991, layers=115, flops=1.837, params=11.153),
    R50: dict(score=48919.28, penalty=34.81, rho=0.2998, layers=157, flops=4.087, params=24.208, params_fc=25.441,
              stages=[21.26, 111.98, 1323.61, 4178.82, 43283.60]),
    M29: dict(score=11915.37, penalty=44.67, rho=0.4965, layers=71, flops=4.449, params=26.877, params_fc=28.670),
}

# A small net with five stages (so the default alpha fits) for fast builds.
SMALL = {"name": "small", "resolution": 64, "num_classes": 10, "blocks": [
    {"type": "conv", "in": 3, "out": 16, "k": 3, "s": 2},
    {"type": "k1kxk1", "in": 16, "out": 32, "btn": 8, "k": 3, "s": 2, "L": 1},
    {"type": "k1kxk1", "in": 32, "out": 48, "btn": 16, "k": 5, "s": 2, "L": 2},
    {"type": "k1dwk1", "in": 48, "out": 48, "btn": 96, "k": 3, "s": 2, "L": 2},
    {"type": "k1dwsek1", "in": 48, "out": 64, "btn": 128, "k": 5, "s": 2, "L": 1},
]}


def run(capsys, *argv):
    rc = main(list(argv))
    out, err = capsys.readouterr()
    return rc, out, err


def run_json(capsys, *argv):
    rc, out, err = run(capsys, *argv, "--json")
    assert rc == 0, err
    return json.loads(out)


def write(tmp_path, name, data):
    p = tmp_path / name
    p.write_text(data if isinstance(data, str) else json.dumps(data))
    return str(p)


def console_script() -> str:
    here = Path(sys.executable).with_name("deepmad")
    found = str(here) if here.exists() else shutil.which("deepmad")
    if not found:
        pytest.skip("the deepmad console script is not installed (pip install -e .)")
    return found


# ----------------------------------------------------------------------------------------- metrics
@pytest.mark.parametrize("path", sorted(FIGURES))
def test_metrics_json_reproduces_design_figures(capsys, path):
    f = FIGURES[path]
    d = run_json(capsys, "metrics", path, "--mode", "tinynas")
    assert d["mode"] == "tinynas"
    assert round(d["score"], 2) == f["score"]
    assert round(d["depth_penalty"], 2) == f["penalty"]
    assert round(d["rho"], 4) == f["rho"]
    assert d["layers"] == f["layers"]
    assert round(d["tinynas_flops"] / 1e9, 3) == f["flops"]
    assert round(d["tinynas_params"] / 1e6, 3) == f["params"]
    if "params_fc" in f:
        assert round(d["params"] / 1e6, 3) == f["params_fc"]
    if "stages" in f:
        assert [round(s, 2) for s in d["stage_entropy"]] == f["stages"]
    assert d["objective"] == pytest.approx(d["score"] - d["depth_penalty"])
    assert d["score"] == pytest.approx(sum(d["stage_entropy"]))
    assert d["macs"] == d["conv_macs"] + 1000 * A.load(path).blocks[-1].c_out
    assert {"macs", "params", "tinynas_flops", "tinynas_params"} <= set(d["conventions"])
    assert d["checked_against"] == P.RELEASED_PRESET[Path(path).stem]


def test_metrics_violations_r18_and_r50(capsys):
    d = run_json(capsys, "metrics", R18, "--mode", "tinynas")
    assert len(d["violations"]) == 2
    assert d["violations"][0].startswith("budget flops: tinynas_flops") and "(+0.95%)" in d["violations"][0]
    assert d["violations"][1].startswith("blocks[5].out: 672 < blocks[4].out 1024")
    d = run_json(capsys, "metrics", R50, "--mode", "tinynas")
    assert d["violations"] == ["blocks[2].btn: 48 outside [0.1, 1] x out 512",
                               "blocks[5].btn: 120 outside [0.1, 1] x out 1232"]
    assert [b["measured_as"] for b in d["budgets"]] == ["tinynas_flops", "tinynas_params"]


def test_metrics_text_names_conventions_and_checks(capsys):
    rc, out, err = run(capsys, "metrics", R50, "--mode", "tinynas")
    assert rc == 0 and err == ""
    assert "multiply-accumulates" in out and "TinyNAS count" in out and "incl. BN affine and classifier" in out
    assert "4,042,761,408" in out and "4,087,263,656" in out and "24,208,144" in out
    assert "48919.28" in out and "43283.60" in out and "34.81" in out and "0.2998" in out and "rho0 0.3" in out
    assert "Checks against deepmad-r50 (tinynas mode)" in out
    assert "- blocks[2].btn: 48 outside [0.1, 1] x out 512" in out
    rc, out, _ = run(capsys, "metrics", M29, "--mode", "tinynas")
    assert "SE bug" in out and "rho0 0.5" in out and "0.4965" in out


def test_metrics_paper_mode_default_and_registry_name(capsys):
    d = run_json(capsys, "metrics", M29)
    assert d["mode"] == "paper" and d["rho0"] == 0.5
    assert round(d["score"] / 2, 2) == 19135.93
    assert run_json(capsys, "metrics", "deepmad-29M-224") == d


def test_metrics_meets_every_budget(capsys, tmp_path):
    spec = {"stem": {"out": [8, 64], "k": [3], "s": 2},
            "stages": [{"type": "k1kxk1", "s": 2, "out": [16, 64], "btn": [8, 64], "L": [1, 4], "k": [3, 5]},
                       {"type": "k1kxk1", "s": 2, "out": [16, 64], "btn": [8, 64], "L": [1, 4], "k": [3, 5]},
                       {"type": "k1dwk1", "s": 2, "out": [16, 64], "btn": [8, 128], "L": [1, 4], "k": [3, 5]},
                       {"type": "k1dwsek1", "s": 2, "out": [16, 64], "btn": [8, 128], "L": [1, 4], "k": [3, 5]}],
            "budgets": {"flops": 1e8, "params": 1e6}, "objective": {"rho0": 2}, "resolution": 64,
            "num_classes": 10}
    s, a = write(tmp_path, "loose.json", spec), write(tmp_path, "small.json", SMALL)
    rc, out, err = run(capsys, "metrics", a, "--spec", s)
    assert rc == 0, err
    assert "Checks against loose" in out and "meets every budget and bound" in out
    d = run_json(capsys, "metrics", a, "--spec", s, "--mode", "tinynas")
    assert d["violations"] == [] and d["checked_against"] == "loose" and d["mode"] == "tinynas"
    # no problem at all: the family's rho0 (0.5 with inverted residuals), checks of rho only
    d = run_json(capsys, "metrics", a)
    assert d["checked_against"] is None and d["rho0"] == 0.5 and d["alpha"] == [1, 1, 1, 1, 8]
    d = run_json(capsys, "metrics", a, "--preset", "deepmad-r50")
    assert d["checked_against"] == "deepmad-r50" and "template: 5 blocks, the template has 6" in d["violations"]


def test_metrics_resolution_override(capsys):
    d = run_json(capsys, "metrics", M29, "--resolution", "288", "--preset", "deepmad-29m-288")
    assert d["resolution"] == 288 and not any(v.startswith("resolution") for v in d["violations"])
    d = run_json(capsys, "metrics", M29, "--preset", "deepmad-29m-288")
    assert d["violations"][-1].startswith("resolution: the architecture is evaluated at 224")


# ------------------------------------------------------------------------------------------- build
def test_build_verify_json_match(capsys, tmp_path):
    d = run_json(capsys, "build", write(tmp_path, "small.json", SMALL), "--verify")
    assert d["match"] is True and d["macs_analytic"] == d["macs_counted"] > 0
    assert d["params_analytic"] == d["params_counted"] > 0
    d = run_json(capsys, "build", "deepmad-R18", "--verify", "--resolution", "256", "--num-classes", "10")
    assert d["match"] is True and d["resolution"] == 256 and d["num_classes"] == 10


def test_build_verify_text_and_mismatch_exit_1(capsys, tmp_path, monkeypatch):
    a = write(tmp_path, "small.json", SMALL)
    rc, out, _ = run(capsys, "build", a, "--verify")
    assert rc == 0 and "analytic" in out and "counted" in out and "multiply-accumulates" in out
    from deepmad_pyomo.nn import verify as V

    real = V.verify

    def off_by_one(*args, **kw):
        v = real(*args, **kw)
        return V.Verification(v.macs_analytic, v.macs_counted + 1, v.params_analytic, v.params_counted, False)

    monkeypatch.setattr(V, "verify", off_by_one)
    rc, out, _ = run(capsys, "build", a, "--verify")
    assert rc == 1 and "MISMATCH" in out
    rc, out, _ = run(capsys, "build", a, "--verify", "--json")
    assert rc == 1 and json.loads(out)["match"] is False


def test_build_verify_any_number_of_stages(capsys, tmp_path):
    two = {"resolution": 32, "blocks": SMALL["blocks"][:2]}
    assert run_json(capsys, "build", write(tmp_path, "two.json", two), "--verify")["match"] is True


def test_build_summary(capsys, tmp_path):
    a = write(tmp_path, "small.json", SMALL)
    d = run_json(capsys, "build", a)
    assert d["params"] == run_json(capsys, "metrics", a)["params"]
    assert run_json(capsys, "build", a, "--num-classes", "3")["params"] < d["params"]
    rc, out, _ = run(capsys, "build", a)
    assert rc == 0 and f"{d['params']:,}" in out


# ------------------------------------------------------------------------------------------ export
def test_export_round_trip(capsys, tmp_path):
    original = A.load(R50)
    j1, tn = tmp_path / "a.json", tmp_path / "deepmad-R50.txt"
    assert run(capsys, "export", R50, "--format", "json", "--out", str(j1))[0] == 0
    assert run(capsys, "export", str(j1), "--format", "tinynas", "--out", str(tn))[0] == 0
    rc, out, _ = run(capsys, "export", str(tn), "--format", "json")
    assert rc == 0
    back = A.Architecture.from_dict(json.loads(out))
    assert back == original and back.to_dict() == original.to_dict()
    assert A.load(j1) == original
    rc, out, _ = run(capsys, "export", str(j1), "--format", "tinynas")
    assert out == tn.read_text() and "best_structures" in out
    assert not list(tmp_path.glob("*.tmp"))


# ----------------------------------------------------------------------------------------- presets
def test_presets_list_and_show(capsys):
    rc, out, _ = run(capsys, "presets")
    assert rc == 0 and all(n in out for n in P.PRESETS) and "k1dwsek1" in out and "MACs" in out
    rows = run_json(capsys, "presets")
    assert [r["name"] for r in rows] == list(P.PRESETS)
    r50 = rows[P.PRESETS.index("deepmad-r50")]
    assert (r50["flops"], r50["params"], r50["rho0"], r50["family"], r50["mode"]) == (
        4.13e9, 25.55e6, 0.3, "k1kxk1", "paper")
    for name in ("deepmad-r50", "deepmad-29m-288"):
        rc, out, _ = run(capsys, "presets", "--show", name)
        assert rc == 0 and P.DesignProblem.from_dict(yaml.safe_load(out)) == P.preset(name)
        assert P.DesignProblem.from_dict(run_json(capsys, "presets", "--show", name)) == P.preset(name)


# --------------------------------------------------------------------------------------- bad input
def _bad_block(**changes):
    d = json.loads(json.dumps(SMALL))
    d["blocks"][2].update(changes)
    return d


BAD_FILES = {
    "malformed.json": ("{not json", "malformed.json", "not valid JSON"),
    "malformed.txt": ("{'best_structures': [[{'class': ", "structure file", "valid:"),
    "evil.txt": ("{'class': __import__('os').system('touch pwned')}", "structure file", "not a Python literal"),
    "type.json": (_bad_block(type="resnext"), "blocks[2].type", "valid: conv, k1kxk1"),
    "chain.json": (_bad_block(**{"in": 40}), "blocks[2].in", "valid: 32"),
    "zero.json": (_bad_block(out=0), "blocks[2].out", "valid: an integer from 1 to 16,384"),
    "negative.json": (_bad_block(btn=-8), "blocks[2].btn", "valid: an integer from 1 to 16,384"),
    "even.json": (_bad_block(k=4), "blocks[2].k", "must be odd"),
    "stride.json": (_bad_block(s=3), "blocks[2].s", "valid: 1 or 2"),
    "vanish.json": ({**SMALL, "resolution": 16}, "resolution", "valid: a multiple of 32"),
    "notarch.json": ({"hello": 1}, "architecture", "blocks"),
}


@pytest.mark.parametrize("command", [("metrics",), ("build", "--verify"), ("export", "--format", "json")])
@pytest.mark.parametrize("fname", sorted(BAD_FILES))
def test_bad_architecture_files(capsys, tmp_path, monkeypatch, fname, command):
    monkeypatch.chdir(tmp_path)
    text, field, hint = BAD_FILES[fname]
    path = write(tmp_path, fname, text)
    rc, out, err = run(capsys, command[0], path, *command[1:])
    assert_one_line_error(rc, out, err, field, hint)
    assert not (tmp_path / "pwned").exists()


@pytest.mark.parametrize("option", ["arch", "spec"])
def test_binary_file(capsys, tmp_path, option):
    path = tmp_path / "binary.json"
    path.write_bytes(b"\xff\xfe\x00\x01")
    argv = ["metrics", str(path)] if option == "arch" else ["metrics", R50, "--spec", str(path)]
    assert_one_line_error(*run(capsys, *argv), "binary.json", "not a text file")


def assert_one_line_error(rc, out, err, field, hint=""):
    assert rc == 2
    assert out == ""
    assert err.endswith("\n") and err.count("\n") == 1, err
    assert err.startswith("deepmad: error: ") and field in err and hint in err, err
    assert "Traceback" not in err


@pytest.mark.parametrize("argv,field,hint", [
    (["metrics", "missing.json"], "missing.json", "cannot read file"),
    (["build", "missing.txt", "--verify"], "missing.txt", "cannot read file"),
    (["metrics", "no-such-model"], "model", "valid: deepmad-29M-224"),
    (["metrics", R50, "--preset", "deepmad-r101"], "preset", "valid: deepmad-r18"),
    (["presets", "--show", "resnet"], "preset", "valid: deepmad-r18"),
    (["metrics", R50, "--spec", "missing.yaml"], "missing.yaml", "cannot read file"),
    (["metrics", R50, "--resolution", "0"], "resolution", "valid: an integer >= 1"),
    (["metrics", R50, "--resolution", "-32"], "resolution", "valid: an integer >= 1"),
    (["metrics", R50, "--resolution", "48"], "resolution", "valid: a multiple of 32"),
    (["build", R50, "--num-classes", "0"], "num_classes", "valid: an integer >= 1"),
    (["export", R50, "--format", "json", "--out", "afile/x.json"], "afile", ""),
    (["design", "--preset", "deepmad-r18", "--solver", "auto", "--scheduler", "tcp://h:1"], "--scheduler",
     "drop --solver"),
    (["design", "--preset", "deepmad-r18", "--warm-start", "deepmad-R50"], "--warm-start", "within every budget"),
    (["design", "--preset", "deepmad-r18", "--certify", "--workers", "2", "--scheduler", "tcp://h:1"], "--workers",
     "not both"),
])
def test_bad_arguments(capsys, tmp_path, monkeypatch, argv, field, hint):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "afile").write_text("a file, not a folder")
    assert_one_line_error(*run(capsys, *argv), field, hint)


@pytest.mark.parametrize("spec,field", [
    ("stem: [unclosed", "not valid YAML"),
    ("stem: {out: [16, 64], s: 2}\nbudgets: {}\n", "stages"),
    ("stem: {out: [16, 64], s: 2}\nstages: [{type: k1kxk1, s: 2, out: [32, 64], L: [1, 2], btn: [8, 16]}]\n"
     "budgets: {flops: -5}\n", "budgets.flops"),
    ("stem: {out: [16, 64], s: 2}\nstages: [{type: foo, s: 2, out: [32, 64], L: [1, 2], btn: [8, 16]}]\n"
     "budgets: {}\n", "stages[0].type"),
])
def test_bad_spec_files(capsys, tmp_path, spec, field):
    path = write(tmp_path, "p.yaml", spec)
    assert_one_line_error(*run(capsys, "metrics", R50, "--spec", path), field)


@pytest.mark.parametrize("change,field", [
    ({"resolution": "abc"}, "resolution"),
    ({"num_classes": [1]}, "num_classes"),
    ({"objective": {"alpha": "x"}}, "objective.alpha"),
    ({"objective": {"rho0": "a"}}, "objective.rho0"),
    ({"objective": {"beta": "x"}}, "objective.beta"),
    ({"max_width_ratio": "abc"}, "max_width_ratio"),
])
def test_bad_spec_values_not_yet_validated(capsys, tmp_path, change, field):
    d = {**json.loads(json.dumps(P.preset("deepmad-r50").to_dict())), **change}
    path = write(tmp_path, "p.json", d)
    assert_one_line_error(*run(capsys, "metrics", R50, "--spec", path), field)


def test_architecture_name_of_any_type(capsys, tmp_path):
    d = run_json(capsys, "metrics", write(tmp_path, "n.json", {**SMALL, "name": 5}))
    assert d["checked_against"] is None


@pytest.mark.parametrize("argv", [
    [], ["frobnicate"], ["metrics"], ["metrics", R50, "--mode", "fast"], ["metrics", R50, "--resolution", "abc"],
    ["export", R50], ["export", R50, "--format", "xml"], ["metrics", R50, "--preset", "deepmad-r50", "--spec", "x"],
])
def test_usage_errors_exit_2(capsys, argv):
    rc, out, err = run(capsys, *argv)
    assert rc == 2 and out == "" and "deepmad" in err and "error:" in err and "Traceback" not in err


def test_help_exits_0(capsys):
    assert main(["--help"]) == 0
    assert "metrics" in capsys.readouterr().out
    sub = build_parser()._subparsers._group_actions[0].choices  # every subcommand has its own function
    assert {"metrics", "build", "export", "presets"} <= set(sub)
    assert all(p.get_default("func").__name__ == f"cmd_{n}" for n, p in sub.items())


# ----------------------------------------------------------------------------------- console script
def test_console_script_subprocess(tmp_path):
    exe = console_script()
    p = subprocess.run([exe, "metrics", R50, "--mode", "tinynas", "--json"], capture_output=True, text=True,
                       timeout=60)
    assert p.returncode == 0, p.stderr
    d = json.loads(p.stdout)
    assert round(d["score"], 2) == 48919.28 and round(d["rho"], 4) == 0.2998
    bad = write(tmp_path, "chain.json", _bad_block(**{"in": 40}))
    p = subprocess.run([exe, "metrics", bad], capture_output=True, text=True, timeout=60)
    assert_one_line_error(p.returncode, p.stdout, p.stderr, "blocks[2].in", "valid: 32")


# ------------------------------------------------------------------------------ layers and readers
def test_command_modules_do_not_import_main():
    """``cli.main`` imports the command modules, never the other way round."""
    import ast

    folder = Path(__file__).parents[2] / "deepmad_pyomo" / "cli"
    for path in folder.glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and node.level == 1:
                assert node.module != "main" and "main" not in [a.name for a in node.names], path.name


def test_file_readers(tmp_path):
    from deepmad_pyomo.errors import DesignError
    from deepmad_pyomo.fileio import (
        read_data,
        read_json,
        read_json_or_none,
        read_text,
        safe_name,
    )

    missing = tmp_path / "missing.json"
    with pytest.raises(DesignError, match=r"missing\.json: cannot read latency model: .*\(valid: a model\)"):
        read_text(missing, "latency model", "a model")
    binary = tmp_path / "binary.json"
    binary.write_bytes(b"\xff\xfe\x00")
    with pytest.raises(DesignError, match=r"binary\.json: not a text file \(invalid start byte at byte 0\)"):
        read_json(binary)
    broken = write(tmp_path, "broken.json", "{not json")
    with pytest.raises(DesignError, match=r"broken\.json: not valid JSON \(line 1: "):
        read_json(broken)
    with pytest.raises(DesignError, match=r"bad\.yaml: not valid YAML"):
        read_data(write(tmp_path, "bad.yaml", "a: [unclosed"))
    assert read_data(write(tmp_path, "ok.yaml", "a: [1, 2]")) == {"a": [1, 2]}
    assert read_data(write(tmp_path, "ok.json", {"a": 1})) == {"a": 1}
    assert read_json_or_none(missing) is None and read_json_or_none(broken) is None
    assert read_json_or_none(binary) is None and read_json_or_none(tmp_path / "ok.json") == {"a": 1}
    assert safe_name("cifar/k1kxk1-60m/bonmin:B-Hyb/log") == "cifar_k1kxk1-60m_bonmin_B-Hyb_log"
