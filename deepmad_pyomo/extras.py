"""Optional dependencies: the pip extra that installs each, and the one line that says so when one is missing.

The core (design, certify, build, verify, latency) needs only ``install_requires``. The rest:

| extra | packages | for |
|---|---|---|
| ``maingo`` | maingopy | the ``maingo`` solver route |
| ``mindtpy`` | highspy | the ``mindtpy`` solver route |
| ``cluster`` | dask[distributed] | ``deepmad compare``, ``deepmad zoo``, ``--scheduler`` |
| ``plots`` | matplotlib | the figures of ``compare`` and ``zoo`` |
| ``export`` | onnx, onnxruntime | ``deepmad export --format onnx``, ``--runtime onnxruntime`` |
| ``timm`` | timm | ``timm.create_model("deepmad_...")`` (:mod:`deepmad_pyomo.timm`) |
| ``all`` | all of the above but timm | |
"""
from __future__ import annotations

from .enums import StrEnum
from .errors import DesignError


class Extra(StrEnum):
    """The pip extras of ``deepmad-pyomo`` (``setup.cfg``)."""

    MAINGO = "maingo"
    MINDTPY = "mindtpy"
    CLUSTER = "cluster"
    PLOTS = "plots"
    EXPORT = "export"
    TIMM = "timm"
    ALL = "all"


def install_command(extra: Extra) -> str:
    """The command that installs ``extra``."""
    return f"pip install 'deepmad-pyomo[{extra}]'"


def missing(extra: Extra, what: str, err: ImportError) -> DesignError:
    """The error for ``what`` (a command or option) whose optional package (``err.name``) is not installed."""
    package = (err.name or "an optional package").split(".")[0]
    return DesignError(what, f"needs the {package} package, which is not installed: {install_command(extra)}")


__all__ = ["Extra", "install_command", "missing"]
