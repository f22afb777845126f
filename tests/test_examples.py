"""Every script in examples/ runs and does what its docstring says (in this process, on tiny inputs)."""
from __future__ import annotations

import importlib.util
import os
from pathlib import Path
from types import ModuleType

import pytest
from spaces import TINY_SUITE

import deepmad_pyomo as dm

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"
TINY = TINY_SUITE[0]  # the fastest CIFAR problem
TINY_SPEC = Path(dm.__file__).parent / "batch" / "suite_data" / "cifar" / f"{TINY}.yaml"


def example(name: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(f"example_{name}", EXAMPLES / f"{name}.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_every_example_has_a_test() -> None:
    tested = {"design", "compare", "zoo", "train_timm"}
    assert {p.stem for p in EXAMPLES.glob("*.py")} == tested
    assert (EXAMPLES / "my_problem.yaml").is_file()


def test_the_problem_file_example_loads() -> None:
    p = dm.load_problem(EXAMPLES / "my_problem.yaml")
    assert p.budgets.flops == 6e8 and p.resolution == 224


@pytest.mark.solver
def test_design_example(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "tiny.json"
    assert example("design").main(["--spec", str(TINY_SPEC), "--solver", "auto", "--time-limit", "30",
                                   "--out", str(out)]) == 0
    text = capsys.readouterr().out
    assert ": exact" in text and "forward pass: (1, 10)" in text
    assert dm.verify(dm.load(out)).match


@pytest.mark.solver
@pytest.mark.cluster
def test_zoo_example(tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    pytest.importorskip("distributed")
    monkeypatch.setenv("DEEPMAD_MODELS", "")  # the example sets it; restored after the test
    assert example("zoo").main(["--out", str(tmp_path), "--only", TINY, "--solver", "auto", "--time-limit", "20",
                                "--workers", "1", "--no-plot"]) == 0
    text = capsys.readouterr().out
    assert "1 models (1 designed now" in text and f"cifar-{TINY}:" in text and "output (1, 10)" in text
    assert (tmp_path / "cifar" / f"{TINY}.json").is_file()


@pytest.mark.solver
@pytest.mark.cluster
def test_compare_example(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    pytest.importorskip("distributed")
    assert example("compare").main(["--out", str(tmp_path), "--only", TINY, "--solvers", "auto", "--time-limit",
                                    "10", "--workers", "2", "--no-plots"]) == 0
    text = capsys.readouterr().out
    assert "2 runs, 0 failed" in text and "auto" in text and "certify" in text
    assert (tmp_path / "results.md").is_file()


def test_train_timm_example(capsys: pytest.CaptureFixture[str]) -> None:
    try:
        module = example("train_timm")
    except Exception as e:  # noqa: BLE001 - timm missing, or a torchvision that does not match torch
        if os.environ.get("DEEPMAD_REQUIRE_TIMM"):
            raise
        pytest.skip(f"timm does not import here ({type(e).__name__}: {e})")
    import torch

    threads = torch.get_num_threads()
    try:
        assert module.main(["--steps", "8"]) == 0  # the loss fell
    finally:
        torch.set_num_threads(threads)
    assert "step 8: loss" in capsys.readouterr().out
