"""The zoo ships: records load by path wherever an architecture is taken, and a wheel carries every record."""
from __future__ import annotations

import configparser
import json
from pathlib import Path

from deepmad_pyomo.nn import models
from deepmad_pyomo.space import arch as A

REPO = Path(__file__).parents[2]
RECORD = REPO / "models" / "paper" / "deepmad-r50.json"


def test_a_zoo_record_or_a_design_result_loads_by_path(tmp_path: Path) -> None:
    record = json.loads(RECORD.read_text())
    loaded = A.load(RECORD)
    assert loaded.to_dict()["blocks"] == record["architecture"]["blocks"]
    assert loaded == models.get_architecture("paper-deepmad-r50")
    result = tmp_path / "result.json"  # what 'deepmad design --result' writes holds it the same way
    result.write_text(json.dumps({"status": "optimal", "architecture": record["architecture"]}))
    assert A.load(result) == loaded


def test_every_zoo_folder_is_installed_with_the_package() -> None:
    cfg = configparser.ConfigParser()
    cfg.read(REPO / "setup.cfg")
    installed = {src.strip() for src in cfg["options.data_files"].values()}
    folders = {f"models/{d.name}/*.json" for d in (REPO / "models").iterdir() if d.is_dir() and any(d.glob("*.json"))}
    assert folders and folders <= installed
    assert models.zoo_folders()[-1].parts[-3:] == ("share", "deepmad-pyomo", "models")
