"""Where node solves run: a local fork process pool (``workers``) or a Dask cluster (``scheduler``)."""
from __future__ import annotations

import contextlib
import multiprocessing as mp
import time
from collections.abc import Callable, Sequence
from typing import Any

from .tree import NodeRecord

Wait = Callable[[float | None], Any]  # waits up to a timeout (None: no limit) for a job's answer; raises TimeoutError
Job = tuple[list[NodeRecord], Wait]  # the records a job was given, and its wait


class Executor:
    """Runs node solves in ``workers`` forked processes, or as tasks on the Dask cluster at ``scheduler``.
    Close it to stop what still runs."""

    def __init__(self, workers: int = 1, scheduler: str | None = None):
        self.scheduler = scheduler
        if scheduler:
            from ..batch.cluster import cluster_client

            self._stack = contextlib.ExitStack()
            self.client = self._stack.enter_context(cluster_client(scheduler=scheduler))
            self.futures: list[Any] = []
        else:
            self.workers = max(1, workers)
            self._pool: Any = None

    @property
    def pool(self) -> Any:
        """The local process pool, forked at its first task: the workers inherit what this process holds by
        then (the compiled relaxation, the first incumbent's depth proxy)."""
        if self._pool is None:
            self._pool = mp.get_context("fork").Pool(self.workers)
        return self._pool

    def submit(self, fn: Callable[..., Any], *args: Any) -> Wait:
        """Start ``fn(*args)``; returns a function that waits up to a timeout for its answer."""
        if self.scheduler:
            fut = self.client.submit(fn, *args, pure=False)
            self.futures.append(fut)
            return lambda timeout: fut.result(timeout=timeout)  # raises TimeoutError
        job = self.pool.apply_async(fn, args)

        def get(timeout: float) -> Any:
            try:
                return job.get(timeout=timeout)
            except mp.TimeoutError:
                raise TimeoutError from None
        return get

    def tasks(self, fn: Callable[..., Any], tasks: Sequence[tuple[Any, ...]]) -> list[Any]:
        """``fn`` on each task's arguments, all started at once; their answers in order."""
        waits = [self.submit(fn, *args) for args in tasks]
        return [wait(None) for wait in waits]

    def close(self) -> None:
        """Stop what still runs: the pool is terminated (its solves with it); Dask tasks are cancelled
        (a node already running on a worker finishes its own time limit there)."""
        if self.scheduler:
            self.client.cancel(self.futures)
            self._stack.close()
        elif self._pool is not None:
            self._pool.terminate()


def collect(jobs: list[Job], deadline: float) -> tuple[list[NodeRecord], list[NodeRecord]]:
    """Wait for ``jobs`` in order until the deadline: the records they solved, and those they did not."""
    solved: list[NodeRecord] = []
    unsolved: list[NodeRecord] = []
    for recs, wait in jobs:
        try:
            answer = wait(max(0.0, deadline + 2.0 - time.perf_counter()))
        except TimeoutError:
            unsolved.extend(recs)
            continue
        answer = answer if isinstance(answer, list) else [answer]
        solved.extend(r for r in answer if r.termination)
        unsolved.extend(r for r in answer if not r.termination)
    return solved, unsolved
