"""Export the torch module of an architecture as ONNX, TorchScript or a ``torch.export`` program (``.pt2``),
and check the written file against the torch module.

The module is built in eval mode with deterministic random weights (``torch.manual_seed(0)``): no trained
weights exist. Each export has a dynamic batch dimension; the check runs the exported file and the torch
module on the same random input at batch sizes 1 and 3 and compares the outputs (max absolute difference
<= ``RTOL`` times the largest absolute torch output, plus ``ATOL``).

ONNX needs the ``onnx`` and ``onnxruntime`` packages (``pip install 'deepmad-pyomo[export]'``);
:func:`require` checks them before any work.
"""
from __future__ import annotations

import io
import warnings
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from ..errors import DesignError
from ..fileio import atomic_write_bytes

FORMATS = ("onnx", "torchscript", "pt2")
INSTALL_HINT = "pip install 'deepmad-pyomo[export]'"
CHECK_BATCHES = (1, 3)
RTOL = 1e-4   # relative to the largest absolute torch output
ATOL = 1e-6   # floor, for outputs near zero
SEED = 0
MAX_BATCH = 1 << 16  # upper bound of the dynamic batch dimension (torch.export)


@dataclass
class ExportCheck:
    """The result of checking an exported file against the torch module."""

    format: str
    path: str
    batches: tuple[int, ...]
    max_abs_diff: float
    output_scale: float
    tolerance: float
    ok: bool
    rtol: float = RTOL
    atol: float = ATOL
    checker: str | None = None  # "onnx.checker.check_model passed" for ONNX

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["batches"] = list(self.batches)
        return d


def require(fmt: str) -> None:
    """The packages ``fmt`` needs can be imported: a :class:`DesignError` naming the install command otherwise."""
    if fmt not in FORMATS:
        raise DesignError("--format", f"unknown export format {fmt!r}", ", ".join(FORMATS))
    if fmt != "onnx":
        return
    try:
        import onnx  # noqa: F401
        import onnxruntime  # noqa: F401
    except ImportError as e:
        raise DesignError("--format", f"{fmt} export needs the {e.name} package: {INSTALL_HINT}") from None


def seeded_model(arch: Any, num_classes: int | None = None) -> Any:
    """The eval-mode torch module of ``arch`` with deterministic random weights (seed :data:`SEED`)."""
    import torch

    from .network import build_model

    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(SEED)
        model = build_model(arch, num_classes=arch.num_classes if num_classes is None else num_classes)
    return model.eval()


def _inputs(arch: Any, batch: int) -> Any:
    import torch

    g = torch.Generator().manual_seed(SEED + batch)
    return torch.randn(batch, arch.blocks[0].c_in, arch.resolution, arch.resolution, generator=g)


def _to_bytes(model: Any, fmt: str, example: Any) -> bytes:
    import torch

    buf = io.BytesIO()
    with torch.no_grad(), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if fmt == "onnx":
            # the TorchScript-based exporter: the torch.export-based one (dynamo=True) needs onnxscript
            torch.onnx.export(model, (example,), buf, dynamo=False, input_names=["input"],
                              output_names=["logits"], dynamic_axes={"input": {0: "batch"}, "logits": {0: "batch"}},
                              opset_version=17)
        elif fmt == "torchscript":
            traced = torch.jit.trace(model, example, check_trace=False)
            torch.jit.save(traced, buf)
        else:
            batch = torch.export.Dim("batch", min=1, max=MAX_BATCH)
            ep = torch.export.export(model, (example,), dynamic_shapes=({0: batch},))
            torch.export.save(ep, buf)
    return buf.getvalue()


def _runner(fmt: str, path: Path) -> tuple[Any, str | None]:
    """A function running the exported file on a torch tensor (returning a numpy array), and the checker note."""
    import torch

    if fmt == "onnx":
        import onnx
        import onnxruntime as ort

        onnx.checker.check_model(onnx.load(str(path)))
        sess = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
        name = sess.get_inputs()[0].name
        return (lambda x: sess.run(None, {name: x.numpy()})[0]), "onnx.checker.check_model passed"
    if fmt == "torchscript":
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)  # torch.jit.load is deprecated in favour of pt2
            loaded = torch.jit.load(str(path))
    else:
        loaded = torch.export.load(str(path)).module()

    def run(x: Any) -> Any:
        with torch.no_grad():
            return loaded(x).numpy()
    return run, None


def check_export(model: Any, arch: Any, fmt: str, path: str | Path, batches: tuple[int, ...] = CHECK_BATCHES,
                 rtol: float | None = None, atol: float | None = None) -> ExportCheck:
    """Load the exported file at ``path`` and compare it with ``model`` on random input at each batch size
    (``rtol`` and ``atol`` default to :data:`RTOL` and :data:`ATOL`)."""
    import numpy as np
    import torch

    rtol = RTOL if rtol is None else rtol
    atol = ATOL if atol is None else atol

    run, note = _runner(fmt, Path(path))
    diff, scale = 0.0, 0.0
    for b in batches:
        x = _inputs(arch, b)
        with torch.no_grad():
            ref = model(x).numpy()
        got = np.asarray(run(x))
        if got.shape != ref.shape:
            diff = float("inf")
            continue
        diff = max(diff, float(np.max(np.abs(got.astype(np.float64) - ref.astype(np.float64)), initial=0.0)))
        scale = max(scale, float(np.max(np.abs(ref), initial=0.0)))
    tol = rtol * scale + atol
    ok = bool(np.isfinite(diff) and np.isfinite(scale) and diff <= tol)
    return ExportCheck(fmt, str(path), tuple(batches), diff, scale, tol, ok, rtol, atol, note)


def export_model(arch: Any, fmt: str, out: str | Path, batch: int = 2, num_classes: int | None = None) -> ExportCheck:
    """Export the seeded eval-mode module of ``arch`` as ``fmt`` to ``out`` (written atomically), traced with
    an example input of ``batch`` images (the batch dimension stays dynamic), then check the written file."""
    require(fmt)
    if batch < 1:
        raise DesignError("--batch", f"must be positive, got {batch}")
    model = seeded_model(arch, num_classes)
    data = _to_bytes(model, fmt, _inputs(arch, batch))
    atomic_write_bytes(out, data)
    return check_export(model, arch, fmt, out)


__all__ = ["ATOL", "CHECK_BATCHES", "FORMATS", "INSTALL_HINT", "RTOL", "SEED", "ExportCheck", "check_export",
           "export_model", "require", "seeded_model"]
