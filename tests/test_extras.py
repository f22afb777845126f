"""Optional packages: setup.cfg's extras match :mod:`deepmad_pyomo.extras`, and a command whose package is
missing stops before any work with one line naming the extra to install."""
from __future__ import annotations

import configparser
import re
import sys
from pathlib import Path

import pytest

from deepmad_pyomo.batch import cluster, plots
from deepmad_pyomo.cli.main import main
from deepmad_pyomo.errors import DesignError
from deepmad_pyomo.extras import Extra

ROOT = Path(__file__).resolve().parents[1]


def _extras() -> dict[str, set[str]]:
    cfg = configparser.ConfigParser()
    cfg.read(ROOT / "setup.cfg")
    section = cfg["options.extras_require"]
    return {k: {re.split(r"[<>=\[]", r)[0] for r in section[k].split()} for k in section}


def test_setup_cfg_has_every_extra_and_the_test_extra_holds_all() -> None:
    extras = _extras()
    assert set(Extra.values()) <= set(extras)
    assert extras["all"] == set().union(*(extras[e] for e in Extra.values() if e not in ("all", "timm")))
    assert extras["all"] <= extras["test"]
    core = configparser.ConfigParser()
    core.read(ROOT / "setup.cfg")
    required = {re.split(r"[<>=\[]", r)[0] for r in core["options"]["install_requires"].split()}
    assert not required & extras["all"]  # optional means not installed by the core


@pytest.mark.parametrize("module,require,extra", [("matplotlib", plots.require, "plots"),
                                                  ("distributed", cluster.require, "cluster")])
def test_a_missing_package_names_its_extra(monkeypatch: pytest.MonkeyPatch, module: str, require, extra: str) -> None:
    monkeypatch.setitem(sys.modules, module, None)  # import raises ImportError, as when not installed
    with pytest.raises(DesignError) as e:
        require()
    msg = str(e.value)
    assert f"needs the {module} package, which is not installed: pip install 'deepmad-pyomo[{extra}]'" in msg
    assert "\n" not in msg


@pytest.mark.parametrize("argv,module,extra", [
    (["zoo", "--suite", "cifar"], "matplotlib", "plots"),
    (["compare", "--suite", "cifar", "--solvers", "auto"], "distributed", "cluster"),
    (["design", "--preset", "deepmad-r18", "--scheduler", "tcp://127.0.0.1:1"], "distributed", "cluster"),
])
def test_commands_stop_before_any_work(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
                                       tmp_path: Path, argv: list[str], module: str, extra: str) -> None:
    monkeypatch.setitem(sys.modules, module, None)
    out = tmp_path / "out"
    if argv[0] != "design":
        argv = argv + ["--out", str(out)]
    assert main(argv) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and f"pip install 'deepmad-pyomo[{extra}]'" in err[0]
    assert not any(out.rglob("*.json")) if out.exists() else True
