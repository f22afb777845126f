"""Run a function in a forked child process under a hard wall-clock limit.

Solvers can neither be interrupted from Python nor always trusted with their own time limits (Bonmin
counts CPU seconds, some ignore theirs), and they print to the C-level stdout. :func:`supervise` runs
``call(send)`` in a forked child:

- the child's events (``send(event, payload)``) reach ``on_event`` in the parent as they are sent;
- past ``limit_s`` the child is killed (SIGKILL) and the run ends as :attr:`Ending.KILLED`;
- a :class:`DesignError` raised in the child is raised again in the parent; any other exception, or a
  child that dies, ends the run as :attr:`Ending.RAISED` or :attr:`Ending.DIED`: never a hang;
- the child dies with its parent (Linux ``PR_SET_PDEATHSIG``) and writes its stdout to ``/dev/null``;
- ``cpu_s`` is the child's CPU seconds, its own children's included: what it reports when it returns
  (so that other children of the parent do not count), else the parent's ``RUSAGE_CHILDREN`` delta.
"""
from __future__ import annotations

import enum
import multiprocessing as mp
import os
import resource
import signal
import sys
import threading
import time
import traceback
from dataclasses import dataclass
from multiprocessing.connection import Connection
from typing import Any, Callable, Generic, TypeVar

from ..enums import StrEnum
from ..errors import DesignError

T = TypeVar("T")
Send = Callable[[Any, Any], None]  # send(event, payload), in the child
POLL_S = 0.5       # the longest the parent waits on the child's pipe between checks
REAP_S = 2.0       # how long a child that has answered may take to exit before it is killed


class Ending(StrEnum):
    """How a supervised run ended. Members are their strings."""

    RETURNED = "returned"  # ``value`` holds what the function returned
    KILLED = "killed"      # killed at the time limit
    RAISED = "raised"      # the function raised; ``error`` holds the traceback
    DIED = "died"          # the process ended without an answer; ``error`` says how


class _Message(enum.Enum):
    EVENT = 1         # (event, payload)
    RETURNED = 2      # (value, CPU seconds)
    DESIGN_ERROR = 3  # the DesignError
    RAISED = 4        # the traceback text


@dataclass
class ChildRun(Generic[T]):
    """A supervised run: how it ended, the function's value (when it returned), the child's CPU and wall
    seconds, and what went wrong (the traceback when it raised; how it died)."""

    ending: Ending
    value: T | None = None
    cpu_s: float = 0.0
    wall_s: float = 0.0
    error: str = ""

    def error_line(self) -> str:
        """The last line of ``error`` (an exception's type and message)."""
        lines = self.error.strip().splitlines()
        return lines[-1] if lines else ""


def supervise(call: Callable[[Send], T], limit_s: float, on_event: Callable[[Any, Any], None] | None = None
              ) -> ChildRun[T]:
    """Run ``call(send)`` in a forked child for at most ``limit_s`` wall seconds (see the module)."""
    reader, writer = mp.Pipe(duplex=False)
    usage0 = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    sys.stdout.flush()
    sys.stderr.flush()
    pid = os.fork()
    if pid == 0:  # pragma: no cover - runs in the child
        reader.close()
        _child(call, writer)
    writer.close()
    child = _Process(pid)
    try:
        run, design_error = _watch(reader, child, t0 + limit_s, on_event or (lambda event, payload: None))
        child.stop(grace_s=REAP_S)
    finally:
        reader.close()
        child.stop(grace_s=0.0)
    run.wall_s = time.perf_counter() - t0
    if run.ending != Ending.RETURNED:
        usage = resource.getrusage(resource.RUSAGE_CHILDREN)
        run.cpu_s = (usage.ru_utime - usage0.ru_utime) + (usage.ru_stime - usage0.ru_stime)
    if design_error is not None:
        raise design_error
    return run


def _watch(reader: Connection, child: _Process, deadline: float, on_event: Callable[[Any, Any], None]
           ) -> tuple[ChildRun, DesignError | None]:
    """Pass the child's events on until its answer, its death or the deadline."""
    while True:
        left = deadline - time.perf_counter()
        if left <= 0:
            child.kill()
            return ChildRun(Ending.KILLED), None
        if not reader.poll(min(left, POLL_S)):
            if child.exited():  # and nothing is left in the pipe
                return ChildRun(Ending.DIED, error=child.exit_status or ""), None
            continue
        try:
            kind, payload = reader.recv()
        except EOFError:  # the child ended without an answer
            child.stop(grace_s=REAP_S)
            return ChildRun(Ending.DIED, error=child.exit_status or ""), None
        except Exception as e:  # noqa: BLE001 - an answer that does not unpickle is a failed run
            return ChildRun(Ending.RAISED, error=f"unreadable answer: {type(e).__name__}: {e}"), None
        if kind == _Message.EVENT:
            on_event(*payload)
        elif kind == _Message.RETURNED:
            value, cpu = payload
            return ChildRun(Ending.RETURNED, value, cpu_s=cpu), None
        elif kind == _Message.DESIGN_ERROR:
            return ChildRun(Ending.RAISED, error=str(payload)), payload
        else:
            return ChildRun(Ending.RAISED, error=payload), None


class _Process:
    """The forked child, seen from the parent: collected (waited for) exactly once."""

    def __init__(self, pid: int):
        self.pid = pid
        self.exit_status: str | None = None  # set once collected: "exit code N" or "killed by signal N"

    def exited(self, block: bool = False) -> bool:
        """Whether the child has ended (collecting it if so)."""
        if self.exit_status is None:
            done, status = os.waitpid(self.pid, 0 if block else os.WNOHANG)
            if done:
                self.exit_status = (f"killed by signal {os.WTERMSIG(status)}" if os.WIFSIGNALED(status)
                                    else f"exit code {os.waitstatus_to_exitcode(status)}")
        return self.exit_status is not None

    def kill(self) -> None:
        if self.exit_status is None:
            os.kill(self.pid, signal.SIGKILL)

    def stop(self, grace_s: float) -> None:
        """Give the child ``grace_s`` seconds to exit, then kill it; returns once it is collected."""
        end = time.perf_counter() + grace_s
        while not self.exited() and time.perf_counter() < end:
            time.sleep(0.01)
        self.kill()
        self.exited(block=True)


def _child(call: Callable[[Send], Any], writer: Connection) -> None:  # pragma: no cover - runs in the child
    """The child's whole life: run ``call``, send its answer, exit without running the parent's cleanup."""
    code = 0
    try:
        _die_with_parent()
        _quiet_stdio()
        lock = threading.Lock()

        def send(event: Any, payload: Any) -> None:
            with lock:
                writer.send((_Message.EVENT, (event, payload)))

        try:
            value = call(send)
            writer.send((_Message.RETURNED, (value, _own_cpu_seconds())))
        except DesignError as e:
            writer.send((_Message.DESIGN_ERROR, e))
        except BaseException:  # noqa: BLE001 - report any failure as an answer, never a hang
            writer.send((_Message.RAISED, traceback.format_exc(limit=8)))
    except BaseException:  # noqa: BLE001 - the answer itself could not be sent
        code = 1
    finally:
        os._exit(code)


def _own_cpu_seconds() -> float:
    """This process's CPU seconds and those of the children it has waited for (e.g. a forked solve)."""
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    return time.process_time() + kids.ru_utime + kids.ru_stime


def _die_with_parent() -> None:
    """Linux: this process is killed when its parent dies (e.g. a Dask worker killed mid-run)."""
    parent = os.getppid()
    try:
        import ctypes

        PR_SET_PDEATHSIG = 1
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
    except (OSError, AttributeError):
        return
    if os.getppid() != parent:  # the parent died before the request took effect
        os._exit(1)


def _quiet_stdio() -> None:
    """Solver libraries print banners and logs at the C level: the child's stdout goes to /dev/null (and
    it reads nothing from the parent's stdin)."""
    devnull = os.open(os.devnull, os.O_RDWR)
    os.dup2(devnull, 0)
    os.dup2(devnull, 1)
    os.close(devnull)
