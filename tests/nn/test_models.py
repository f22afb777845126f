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


def test_every_ladder_rung_is_a_model_and_one_builds_and_verifies() -> None:
    import torch

    from deepmad_pyomo.batch import suites
    from deepmad_pyomo.nn.verify import verify

    rungs = {f"ladder-{p['name']}" for p in suites.generate(suites.LADDER)}
    assert len(rungs) == 36 and rungs <= set(models.list_models("ladder-*"))
    net = models.create_model("ladder-k1dwk1-0.2g", num_classes=10)
    with torch.no_grad():
        assert net.eval()(torch.zeros(1, 3, 64, 64)).shape == (1, 10)
    record = json.loads((REPO / "models" / "ladder" / "k1dwk1-0.2g.json").read_text())
    check = verify(models.get_architecture("ladder-k1dwk1-0.2g"))
    assert check.match and record["verification"]["match"]
    assert check.macs_counted == record["metrics"]["macs"] <= record["budgets"]["flops"]
