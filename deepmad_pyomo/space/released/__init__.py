"""The released DeepMAD structures shipped here (official TinyNAS structure files): the one table of
their names, files and the presets they were designed for."""
from __future__ import annotations

from dataclasses import dataclass
from importlib import resources

from .. import tinynas
from ..blocks import Architecture


@dataclass(frozen=True)
class Released:
    """A released structure: ``<name>.txt`` in this folder, designed for the budgets of ``preset``."""

    name: str
    preset: str

    @property
    def file(self) -> str:
        return f"{self.name}.txt"

    def load(self) -> Architecture:
        """The architecture, named ``name``."""
        return tinynas.loads(resources.files(__package__).joinpath(self.file).read_text(), name=self.name)


RELEASED: dict[str, Released] = {r.name: r for r in (
    Released("deepmad-R18", preset="deepmad-r18"),
    Released("deepmad-R50", preset="deepmad-r50"),
    Released("deepmad-29M-224", preset="deepmad-29m"),
)}

__all__ = ["RELEASED", "Released"]
