"""Model export (ONNX, TorchScript, torch.export) through the CLI, with real torch and ONNX Runtime."""
from __future__ import annotations

import builtins
import json
import warnings

import numpy as np
import pytest
import torch

from deepmad_pyomo.cli.common import resolve_arch
from deepmad_pyomo.cli.main import main
from deepmad_pyomo.nn import export as ex

RES = 64
NAME = "deepmad-R18"


@pytest.fixture(scope="module")
def reference():
    a = resolve_arch(NAME, resolution=RES, num_classes=10)
    model = ex.seeded_model(a)
    return a, model


def _load(fmt, path):
    if fmt == "onnx":
        import onnx
        import onnxruntime as ort

        onnx.checker.check_model(onnx.load(str(path)))
        sess = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
        return lambda x: sess.run(None, {sess.get_inputs()[0].name: x.numpy()})[0]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)  # torch.jit.load is deprecated
        loaded = torch.jit.load(str(path)) if fmt == "torchscript" else torch.export.load(str(path)).module()
    return lambda x: loaded(x).detach().numpy()


@pytest.mark.parametrize("fmt", ex.FORMATS)
def test_export_cli_round_trip(fmt, tmp_path, capsys, reference):
    a, model = reference
    out = tmp_path / "sub" / f"model.{fmt}"
    rc = main(["export", NAME, "--format", fmt, "--out", str(out), "--resolution", str(RES),
               "--num-classes", "10", "--json"])
    d = json.loads(capsys.readouterr().out)
    assert rc == 0 and d["ok"] is True and d["max_abs_diff"] <= d["tolerance"]
    assert d["batches"] == [1, 3] and d["num_classes"] == 10 and d["format"] == fmt
    assert out.is_file() and not [p for p in out.parent.iterdir() if p.name.endswith(".tmp")]
    run = _load(fmt, out)
    torch.manual_seed(1)
    with torch.no_grad():
        for b in (1, 3):
            x = torch.randn(b, 3, RES, RES)
            ref = model(x).numpy()
            got = run(x)
            assert got.shape == (b, 10)
            assert np.max(np.abs(got - ref)) <= 1e-4 * np.max(np.abs(ref)) + 1e-6


def test_export_text_output(tmp_path, capsys):
    out = tmp_path / "m.ts"
    assert main(["export", NAME, "--format", "torchscript", "--out", str(out), "--resolution", "32",
                 "--batch", "3"]) == 0
    text = capsys.readouterr().out
    assert "max |diff|" in text and "tolerance" in text and ": ok" in text


def test_export_deterministic_weights():
    a = resolve_arch(NAME, resolution=32)
    m1, m2 = ex.seeded_model(a), ex.seeded_model(a)
    assert not m1.training
    for p1, p2 in zip(m1.state_dict().values(), m2.state_dict().values()):
        assert torch.equal(p1, p2)


def test_export_check_failure_exits_1(tmp_path, capsys, monkeypatch):
    monkeypatch.setattr(ex, "RTOL", -1.0)
    monkeypatch.setattr(ex, "ATOL", -1.0)
    out = tmp_path / "m.ts"
    assert main(["export", NAME, "--format", "torchscript", "--out", str(out), "--resolution", "32"]) == 1
    assert "FAILED" in capsys.readouterr().out


@pytest.mark.parametrize("missing", ["onnx", "onnxruntime"])
def test_export_missing_dependency(missing, tmp_path, capsys, monkeypatch):
    real_import = builtins.__import__

    def fake_import(name, *args, **kwargs):
        if name == missing or name.startswith(missing + "."):
            raise ImportError(f"No module named {name!r}", name=name)  # as a missing module does
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", fake_import)
    out = tmp_path / "m.onnx"
    assert main(["export", NAME, "--format", "onnx", "--out", str(out)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "pip install 'deepmad-pyomo[export]'" in err[0] and missing in err[0]
    assert not out.exists()


def test_export_model_needs_out(capsys):
    assert main(["export", NAME, "--format", "pt2"]) == 2
    assert "--out" in capsys.readouterr().err


def test_export_bad_out_checked_first(tmp_path, capsys):
    assert main(["export", NAME, "--format", "onnx", "--out", str(tmp_path)]) == 2  # a folder
    assert "--out" in capsys.readouterr().err


def test_export_batch_refused_for_json(capsys):
    assert main(["export", NAME, "--format", "json", "--batch", "2"]) == 2
    assert "--batch" in capsys.readouterr().err


def test_export_json_format_still_works(capsys):
    assert main(["export", NAME, "--format", "json"]) == 0
    assert json.loads(capsys.readouterr().out)
