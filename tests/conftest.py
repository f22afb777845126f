"""Shared by every test folder (which mirrors the package: space/, mp/, solve/, certify/, nn/, batch/, cli/,
latency/). This folder is on ``sys.path``, so tests import the problem builders of :mod:`spaces`.

Markers (``-m``): ``solver`` for tests that run a real solver (Ipopt, Bonmin, SCIP...), ``cluster`` for
tests that start a Dask cluster; ``pytest -m "not cluster"`` skips the slowest.
"""
from __future__ import annotations

from pathlib import Path

import pytest

SOLVER_FOLDERS = {"mp", "solve", "certify", "batch"}
CLUSTER_FOLDERS = {"batch"}


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark every test by the folder it is in (a test elsewhere marks itself)."""
    here = Path(__file__).parent
    for item in items:
        folder = Path(str(item.fspath)).relative_to(here).parts[0]
        if folder in SOLVER_FOLDERS:
            item.add_marker(pytest.mark.solver)
        if folder in CLUSTER_FOLDERS:
            item.add_marker(pytest.mark.cluster)
