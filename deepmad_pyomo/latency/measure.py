"""Timing: clocks, threads, allocator tuning, warm-up and repeats; whole networks measured."""
from __future__ import annotations

import contextlib
import statistics
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Callable, Iterator

from ..errors import DesignError
from .ops import CLOCKS, DEVICES, MALLOC_MODES

if TYPE_CHECKING:
    from .model import LatencyModel


@dataclass
class Measurement:
    """Per-call latencies (ms) of one op or network: their median and spread."""

    samples: list[float]

    @property
    def median(self) -> float:
        return statistics.median(self.samples)

    @property
    def iqr_rel(self) -> float:
        """Inter-quartile range / median: how noisy the measurement was."""
        if len(self.samples) < 4 or self.median <= 0:
            return 0.0
        q = statistics.quantiles(self.samples, n=4)
        return (q[2] - q[0]) / self.median

    def to_dict(self) -> dict[str, Any]:
        return {"median_ms": round(self.median, 4), "iqr_over_median": round(self.iqr_rel, 4),
                "n": len(self.samples), "min_ms": round(min(self.samples), 4), "max_ms": round(max(self.samples), 4)}


_MALLOC_TUNED = False


def tune_malloc(mode: str = "tuned") -> str:
    """Make CPU allocations cheap and repeatable in this process (``mode`` 'tuned'), and describe the
    allocator. With glibc's defaults, tensors above its adaptive mmap threshold (at most 32 MiB) and heap
    memory trimmed back to the system are page-faulted in again on every forward pass: measured here, that
    doubled DeepMAD-29M's latency (17,000-40,000 page faults a pass, 2x run-to-run swings) while the ResNet-like
    nets had none. 'tuned' sets ``M_MMAP_MAX=0`` and ``M_TRIM_THRESHOLD=2^31-1`` with ``mallopt`` (what
    a jemalloc/tcmalloc deployment gets anyway); it stays on for the rest of the process. 'system' leaves the
    allocator alone."""
    global _MALLOC_TUNED
    if mode not in MALLOC_MODES:
        raise DesignError("malloc", f"unknown allocator mode {mode!r}", ", ".join(MALLOC_MODES))
    if mode == "system":
        return "system default" + (" (but tuned earlier in this process)" if _MALLOC_TUNED else "")
    if not _MALLOC_TUNED:
        try:
            import ctypes

            libc = ctypes.CDLL("libc.so.6")
            ok = libc.mallopt(-4, 0) == 1 and libc.mallopt(-1, 2 ** 31 - 1) == 1  # M_MMAP_MAX, M_TRIM_THRESHOLD
        except (OSError, AttributeError):
            ok = False
        if not ok:
            return "system default (glibc mallopt not available here)"
        _MALLOC_TUNED = True
    return "glibc malloc with M_MMAP_MAX=0, M_TRIM_THRESHOLD=2^31-1"


def default_clock(device: str, threads: int) -> str:
    """``thread_cpu`` (CPU time of the calling thread) for one thread on the CPU, else ``wall``.

    On an idle core the two agree. On a shared machine wall time also counts the time other processes held
    the core, which inflates a long run (a whole network) far more than a short one (one op): measured here
    with two solvers running, DeepMAD-R50's wall time per pass ranged 153-446 ms within a minute while its
    thread CPU time ranged 136-217 ms. With several threads or on a GPU, wall time is the latency."""
    return "thread_cpu" if device == "cpu" and threads == 1 else "wall"


def _now(clock: str) -> Callable[[], float]:
    if clock not in CLOCKS:
        raise DesignError("clock", f"unknown clock {clock!r}", ", ".join(CLOCKS))
    return time.thread_time if clock == "thread_cpu" else time.perf_counter


@contextlib.contextmanager
def torch_threads(threads: int | None) -> Iterator[None]:
    """Run with ``threads`` intra-op threads, restoring the previous setting."""
    import torch

    old = torch.get_num_threads()
    if threads:
        torch.set_num_threads(int(threads))
    try:
        yield
    finally:
        torch.set_num_threads(old)


def _sync(device: str) -> Callable[[], None]:
    if device.startswith("cuda"):
        import torch

        return torch.cuda.synchronize
    return lambda: None


def time_calls(fn: Callable[[], Any], device: str, repeats: int, warmup: int = 2,
               min_sample_s: float = 0.0, clock: str = "wall") -> list[float]:
    """``repeats`` per-call latencies (ms) of ``fn`` after ``warmup`` calls, on ``clock``; a sample
    averages enough back-to-back calls to last ``min_sample_s`` (very short ops)."""
    import torch

    sync = _sync(device)
    now = _now(clock)
    with torch.inference_mode():
        for _ in range(max(1, warmup)):
            fn()
        sync()
        n = 1
        if min_sample_s:
            t = time.perf_counter()
            fn()
            sync()
            n = max(1, min(1000, int(min_sample_s / max(time.perf_counter() - t, 1e-7))))
        out = []
        for _ in range(repeats):
            t = now()
            for _ in range(n):
                fn()
            sync()
            out.append((now() - t) * 1e3 / n)
    return out


def build_network(arch: Any, device: str = "cpu", batch: int = 1) -> tuple[Any, Any]:
    """The eval-mode module of ``arch`` on ``device`` and a random input batch."""
    import torch

    from ..nn.network import build_model

    torch.manual_seed(0)
    model = build_model(arch).eval().to(device)
    x = torch.randn(batch, arch.blocks[0].c_in, arch.resolution, arch.resolution, device=device)
    return model, x


def check_device(device: str) -> str:
    import torch

    if not isinstance(device, str) or device.split(":")[0] not in DEVICES:
        raise DesignError("device", f"unknown device {device!r}", ", ".join(DEVICES))
    if device.startswith("cuda") and not torch.cuda.is_available():
        raise DesignError("device", "CUDA is not available to this torch build or machine", "cpu")
    return device


def measure_network(arch: Any, device: str = "cpu", threads: int = 1, batch: int = 1, repeats: int = 15,
                    warmup: int = 3, built: tuple[Any, Any] | None = None, malloc: str = "tuned",
                    clock: str | None = None) -> Measurement:
    """Per-pass latencies of ``arch`` (eval mode, inference mode, batch ``batch``) on ``clock`` (default
    :func:`default_clock`)."""
    check_device(device)
    if device == "cpu":
        tune_malloc(malloc)
    clock = clock or default_clock(device, threads)
    with torch_threads(threads if device == "cpu" else None):
        model, x = built or build_network(arch, device, batch)
        return Measurement(time_calls(lambda: model(x), device, repeats, warmup, clock=clock))


def measure_like(model: LatencyModel, arch: Any, repeats: int = 15, warmup: int = 3,
                 built: tuple[Any, Any] | None = None, clock: str | None = None) -> Measurement:
    """Measure ``arch`` the way ``model`` was measured (device, threads, batch, allocator, clock)."""
    check_device(model.device)
    malloc = model.measured_with.get("malloc", "system")
    return measure_network(arch, model.device, model.threads, model.batch, repeats, warmup, built,
                           malloc=malloc if malloc in MALLOC_MODES else "system", clock=clock or model.clock)


