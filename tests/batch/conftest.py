"""Fixtures of the batch tests: a tiny suite of the two fastest CIFAR problems."""
from __future__ import annotations

from pathlib import Path

import pytest
from spaces import TINY_SUITE as TINY

from deepmad_pyomo.batch import suites


@pytest.fixture(scope="module")
def tiny_suite(tmp_path_factory: pytest.TempPathFactory) -> str:
    """A suite folder named ``tiny`` holding the :data:`TINY` problems."""
    folder: Path = tmp_path_factory.mktemp("suites") / "tiny"
    folder.mkdir()
    for p in suites.generate("cifar"):
        if p["name"] in TINY:
            (folder / f"{p['name']}.yaml").write_text(suites.dump(p, "tiny"))
    return str(folder)
