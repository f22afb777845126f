"""The Dask runner shared by ``deepmad compare`` and ``deepmad zoo``.

:func:`run_jobs` sends every job to a Dask cluster and hands each answer, in the client process, to a
callback as soon as it arrives (the callers write their files there, atomically, so a reader never
sees a partial file and workers need no shared file system). The cluster is either

- embedded (the default): a ``LocalCluster`` of ``workers`` worker *processes* with one thread each,
  started for the run and closed after it; or
- an existing one: ``scheduler`` is its address (``tcp://host:8786``).

Every solve runs :func:`deepmad_pyomo.solve.design.design`, which forks a child process per solve under a
hard time limit. Dask's worker processes are daemonic by default, and a daemonic process may not have
children, so the embedded cluster is started with ``distributed.worker.daemon: False`` (kept for its
whole life: the nanny reads it again when it restarts a worker). Workers of an external cluster that
were started daemonic are switched by :func:`allow_children` inside the task; start them with
``DASK_DISTRIBUTED__WORKER__DAEMON=False`` to avoid that.

Worker processes are started with ``spawn``: a script that calls :func:`run_jobs` (or ``compare``/
``build_zoo``) must guard its entry point with ``if __name__ == "__main__":``. Workers of an external
cluster need ``deepmad-pyomo`` (and its solvers) installed: jobs are shipped by reference to its functions.

Failures cost only their job: an exception in a job is retried ``retries`` times (Dask ``retries=``);
a worker process that dies mid-job is restarted by its nanny and the scheduler reruns the job on a live
worker (up to ``allowed_failures`` deaths, then it is reported as failed, never as a result).
"""
from __future__ import annotations

import contextlib
import logging
import multiprocessing as mp
import os
import sys
import threading
import time
import uuid
from dataclasses import dataclass, field
from typing import Any, Callable, Iterator, Sequence

DEFAULT_RETRIES = 2
DEFAULT_ALLOWED_FAILURES = 2


def default_workers() -> int:
    """One worker per CPU core this process may use."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not Linux
        return max(1, os.cpu_count() or 1)


def require() -> None:
    """Dask's ``distributed`` can be imported: a :class:`DesignError` naming the extra to install otherwise."""
    from ..extras import Extra, missing

    try:
        import dask  # noqa: F401
        import distributed  # noqa: F401
    except ImportError as e:
        raise missing(Extra.CLUSTER, "a Dask cluster (compare, zoo, --scheduler)", e) from None


@contextlib.contextmanager
def cluster_client(workers: int | None = None, scheduler: str | None = None,
                   allowed_failures: int = DEFAULT_ALLOWED_FAILURES, quiet: bool = True) -> Iterator[Any]:
    """A ``distributed.Client``: on ``scheduler``, or on an embedded ``LocalCluster`` of ``workers``
    non-daemonic worker processes (1 thread each) that lives as long as the ``with`` block."""
    require()
    import dask
    from distributed import Client, LocalCluster

    from ..errors import DesignError

    if scheduler and workers:
        raise DesignError("workers", "give --workers (an embedded cluster) or --scheduler, not both")
    if scheduler:
        try:
            client = Client(scheduler, timeout="20s")
        except (OSError, TimeoutError) as e:
            raise DesignError("scheduler", f"cannot reach the Dask scheduler at {scheduler!r}: {e}",
                              "the address 'dask scheduler' prints, e.g. tcp://127.0.0.1:8786") from None
        try:
            yield client
        finally:
            client.close()
        return
    n = workers or default_workers()
    if n < 1:
        raise DesignError("workers", f"must be positive, got {n}", "an integer >= 1")
    settings = {"distributed.worker.daemon": False,
                "distributed.scheduler.allowed-failures": allowed_failures,
                # the solver children's memory is not the worker's: never pause or kill for it
                "distributed.worker.memory.pause": False, "distributed.worker.memory.terminate": False,
                "distributed.worker.memory.spill": False, "distributed.worker.memory.target": False}
    with dask.config.set(settings):
        cluster = LocalCluster(n_workers=n, threads_per_worker=1, processes=True, dashboard_address=":0",
                               silence_logs=logging.CRITICAL if quiet else logging.WARNING)
        try:
            with Client(cluster) as client:
                yield client
        finally:
            cluster.close()


def allow_children() -> bool:
    """Make the current process able to start children (``design()`` forks one per solve).

    Returns ``True`` if it was daemonic (an external Dask worker started with the default
    ``distributed.worker.daemon: True``) and had to be switched."""
    proc = mp.current_process()
    if proc.daemon:
        proc._config["daemon"] = False  # what multiprocessing checks before starting a child
        return True
    return False


def preload() -> None:
    """Import what the solves need in the worker, before ``design()`` forks its child, so that the child
    does not spend its time limit importing (a fork inherits the modules). Missing ones are skipped."""
    with contextlib.suppress(ImportError):
        import pyomo.environ  # noqa: F401
    with contextlib.suppress(ImportError):
        import casadi  # noqa: F401
    with contextlib.suppress(ImportError):
        import pyscipopt  # noqa: F401
    with contextlib.suppress(ImportError):
        import torch  # noqa: F401
    with contextlib.suppress(ImportError):
        from ..mp import formulation  # noqa: F401
    with contextlib.suppress(ImportError):
        from ..solve.routes import auto  # noqa: F401
    with contextlib.suppress(ImportError):
        from ..solve.backends import scip  # noqa: F401
    with contextlib.suppress(ImportError):
        from ..nn import verify  # noqa: F401


def prepare_worker() -> bool:
    """Ready this worker for solves: able to fork the solver child (:func:`allow_children`), the solver
    libraries imported (:func:`preload`). Returns ``True`` if the worker was daemonic and had to be switched."""
    switched = allow_children()
    preload()
    return switched


def worker_info() -> dict[str, Any]:
    """Where a job ran: host, process id, whether the process is daemonic."""
    import socket

    return {"host": socket.gethostname(), "pid": os.getpid(), "daemonic": bool(mp.current_process().daemon)}


MB = 2 ** 20


class PeakMemory:
    """Peak memory of this process's children while the ``with`` block runs (the solver processes that
    ``design()`` forks), in megabytes (2^20 bytes), sampled with psutil every ``interval`` s:

    - ``children_peak_mb``: the largest resident set size (``rss``) of a child seen in a sample; it
      includes the pages the child shares with this process after the fork (imported libraries). A
      sample misses a peak shorter than ``interval`` that the kernel's high-water mark (``VmHWM``) would
      have caught;
    - ``children_private_mb``: the largest private memory (psutil's ``uss``: ``Private_Clean +
      Private_Dirty + Private_Hugetlb`` of ``/proc/PID/smaps_rollup`` on Linux) seen in a sample: what
      the solver itself allocated.

    ``self_rss_mb``: this process's resident memory at the end."""

    def __init__(self, interval: float = 0.1):
        self.interval = interval
        self.children_peak_mb = 0.0
        self.children_private_mb = 0.0
        self.self_rss_mb = 0.0
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def _sample(self, child: Any) -> None:
        import psutil

        try:
            mem = child.memory_full_info()
        except psutil.Error:  # the child ended, or its memory map is not ours to read
            return
        self.children_peak_mb = max(self.children_peak_mb, mem.rss / MB)
        self.children_private_mb = max(self.children_private_mb, mem.uss / MB)

    def _poll(self) -> None:
        import psutil

        me = psutil.Process()
        while not self._stop.is_set():
            try:
                kids = me.children(recursive=True)
            except psutil.Error:
                kids = []
            for k in kids:
                self._sample(k)
            self._stop.wait(self.interval)

    def __enter__(self) -> "PeakMemory":
        self._thread = threading.Thread(target=self._poll, name="deepmad-peak-memory", daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        import psutil

        self._stop.set()
        if self._thread is not None:
            self._thread.join(2)
        self.self_rss_mb = psutil.Process().memory_info().rss / MB


@dataclass
class Job:
    """One unit of work: ``key`` is unique within a run; ``payload`` is what the task function gets."""

    key: str
    payload: Any


@dataclass
class RunReport:
    """What :func:`run_jobs` did: jobs finished with an answer, jobs that failed (exception after the
    retries, or their worker kept dying), wall seconds, and where it ran."""

    finished: list[str] = field(default_factory=list)
    failed: dict[str, str] = field(default_factory=dict)
    wall_s: float = 0.0
    workers: int = 0
    scheduler: str = ""


def run_jobs(fn: Callable[[Any], Any], jobs: Sequence[Job], on_result: Callable[[Job, Any], None],
             on_failure: Callable[[Job, BaseException], None] | None = None, *, workers: int | None = None,
             scheduler: str | None = None, retries: int = DEFAULT_RETRIES, progress: bool = True,
             desc: str = "runs", client: Any = None) -> RunReport:
    """Run ``fn(job.payload)`` for every job on a Dask cluster; call ``on_result(job, answer)`` (or
    ``on_failure(job, exception)``) in this process as each one finishes, in completion order.

    ``client``: an existing ``distributed.Client`` to use (``workers``/``scheduler`` are then ignored).
    A progress bar goes to stderr when ``progress``. ``KeyboardInterrupt`` stops the run; every job
    already handed to ``on_result`` stays done."""
    report = RunReport()
    t0 = time.perf_counter()
    if not jobs:
        return report
    ctx = contextlib.nullcontext(client) if client is not None else cluster_client(workers, scheduler)
    from tqdm import tqdm

    with ctx as c, tqdm(total=len(jobs), desc=desc, unit="run", file=sys.stderr, disable=not progress,
                        dynamic_ncols=True, leave=True) as bar:
        from distributed import as_completed

        info = c.scheduler_info() if hasattr(c, "scheduler_info") else {}
        report.workers = len(info.get("workers", {}))
        report.scheduler = str(info.get("address", ""))
        token = uuid.uuid4().hex[:8]
        futures = {}
        for job in jobs:
            fut = c.submit(fn, job.payload, key=f"{desc}-{job.key}-{token}", retries=retries, pure=False)
            futures[fut] = job
        try:
            for fut in as_completed(list(futures)):
                job = futures.pop(fut)
                if fut.status == "finished":
                    on_result(job, fut.result())
                    report.finished.append(job.key)
                    bar.set_postfix_str(job.key[-40:], refresh=False)
                else:
                    try:
                        exc = fut.exception()
                    except BaseException as e:  # noqa: BLE001 - cancelled futures raise here
                        exc = e
                    report.failed[job.key] = f"{type(exc).__name__}: {exc}"
                    if on_failure is not None:
                        on_failure(job, exc)
                bar.update(1)
        finally:
            for fut in futures:
                fut.cancel()
    report.wall_s = time.perf_counter() - t0
    return report


__all__ = ["Job", "PeakMemory", "RunReport", "allow_children", "cluster_client", "default_workers", "prepare_worker",
           "preload", "require", "run_jobs", "worker_info"]
