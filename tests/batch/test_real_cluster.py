"""An existing Dask cluster made of real ``dask scheduler`` and ``dask worker`` processes on loopback.

``deepmad zoo --scheduler`` and ``deepmad design --certify --scheduler`` run on it while one worker
process is killed mid-run; every record must be complete and the same as a local run's.
"""
from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml

pytest.importorskip("distributed")

from spaces import TINY_SUITE as TINY  # noqa: E402
from spaces import tiny_problem  # noqa: E402

DASK = shutil.which("dask", path=str(Path(sys.executable).parent)) or shutil.which("dask")
DEEPMAD = shutil.which("deepmad", path=str(Path(sys.executable).parent)) or shutil.which("deepmad")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _start(*argv: str, log: Path) -> subprocess.Popen:
    env = {**os.environ, "DASK_DISTRIBUTED__WORKER__DAEMON": "False"}
    return subprocess.Popen(list(argv), stdout=log.open("w"), stderr=subprocess.STDOUT, env=env,
                            start_new_session=True)  # its own process group: killed with its children


def _kill(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(10)


class Cluster:
    """A scheduler and two single-process workers, each worker in its own process group."""

    def __init__(self, folder: Path):
        self.port = _free_port()
        self.address = f"tcp://127.0.0.1:{self.port}"
        self.scheduler = _start(DASK, "scheduler", "--host", "127.0.0.1", "--port", str(self.port),
                                "--no-dashboard", log=folder / "scheduler.log")
        self.workers = [_start(DASK, "worker", self.address, "--nworkers", "1", "--nthreads", "1",
                               "--no-dashboard", "--name", f"w{i}", log=folder / f"worker{i}.log")
                        for i in range(2)]
        self._wait_for_workers(2)

    def _wait_for_workers(self, n: int, timeout: float = 90) -> None:
        from distributed import Client

        with Client(self.address, timeout="30s") as c:
            c.wait_for_workers(n, timeout=timeout)

    def close(self) -> None:
        for p in [*self.workers, self.scheduler]:
            _kill(p)


@pytest.fixture
def cluster(tmp_path: Path):
    if DASK is None or DEEPMAD is None:
        pytest.skip("the dask and deepmad commands are needed")
    c = Cluster(tmp_path)
    try:
        yield c
    finally:
        c.close()


def _deepmad(*argv: str, timeout: float = 300) -> subprocess.CompletedProcess:
    return subprocess.run([DEEPMAD, *argv], capture_output=True, text=True, timeout=timeout)


def _records(out: Path) -> dict[str, dict]:
    return {p.stem: json.loads(p.read_text()) for p in sorted((out / "tiny").glob("*.json"))}


def _kill_when_busy(cluster: Cluster, run: subprocess.Popen, timeout: float = 120) -> bool:
    """Kill the first worker once it runs a task (mid-run); False if the run ended first."""
    from distributed import Client

    with Client(cluster.address, timeout="30s") as c:
        deadline = time.time() + timeout
        while time.time() < deadline and run.poll() is None:
            busy = [w for w, tasks in c.processing().items() if tasks]
            names = {a: info.get("name") for a, info in c.scheduler_info()["workers"].items()}
            if any(names.get(w) == "w0" for w in busy):
                _kill(cluster.workers[0])
                return True
            time.sleep(0.2)
    return False


def test_zoo_and_certify_survive_a_worker_killed_mid_run(cluster: Cluster, tiny_suite: Path, tmp_path: Path):
    common = ["zoo", "--suite", str(tiny_suite), "--no-progress", "--json"]  # certified, the default
    local = _deepmad(*common, "--out", str(tmp_path / "local"), "--workers", "1")
    assert local.returncode == 0, local.stderr
    run = subprocess.Popen([DEEPMAD, *common, "--out", str(tmp_path / "remote"), "--scheduler", cluster.address],
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    killed = _kill_when_busy(cluster, run)
    out, err = run.communicate(timeout=300)
    assert run.returncode == 0, err
    assert killed, "the run ended before a worker could be killed mid-task"
    here, there = _records(tmp_path / "local"), _records(tmp_path / "remote")
    assert set(here) == set(there) == set(TINY)
    for name in TINY:
        assert there[name]["architecture"] is not None and there[name]["verification"]["match"]
        assert there[name]["architecture"] == here[name]["architecture"], name  # work limits decide: same design
        assert there[name]["certificate"]["status"] == here[name]["certificate"]["status"] == "optimal", name

    # certify on the surviving worker (and a fresh one, started the same way) gives the local tree
    cluster.workers[0] = _start(DASK, "worker", cluster.address, "--nworkers", "1", "--nthreads", "1",
                                "--no-dashboard", "--name", "w2", log=tmp_path / "worker2.log")
    spec = tmp_path / "tiny.yaml"
    spec.write_text(yaml.safe_dump(json.loads(json.dumps(tiny_problem("tinynas", flops=4e6).to_dict()))))
    certify = ["design", "--spec", str(spec), "--certify", "--time-limit", "90", "--json"]
    mine = _deepmad(*certify)
    theirs = _deepmad(*certify, "--scheduler", cluster.address)
    assert mine.returncode == 0 and theirs.returncode == 0, mine.stderr + theirs.stderr
    a, b = json.loads(mine.stdout), json.loads(theirs.stdout)
    assert a["status"] == b["status"] == "optimal"
    assert a["architecture"] == b["architecture"] and a["bound"] == pytest.approx(b["bound"], rel=1e-9)
    assert [n["id"] for n in a["details"]["box_tree"]] == [n["id"] for n in b["details"]["box_tree"]]
