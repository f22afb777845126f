"""Timing: clocks, threads, allocator tuning, warm-up and repeats; whole networks measured."""
from __future__ import annotations

import contextlib
import statistics
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Callable, Iterator

from ..errors import DesignError
from .ops import CLOCKS, DEVICES, MALLOC_MODES, RUNTIMES

if TYPE_CHECKING:
    from .model import LatencyModel


LOW_QUANTILE = 0.1  # see Measurement.low


@dataclass
class Measurement:
    """Per-call latencies (ms) of one op or network: their median and spread."""

    samples: list[float]

    @property
    def median(self) -> float:
        return statistics.median(self.samples)

    @property
    def low(self) -> float:
        """The :data:`LOW_QUANTILE` quantile (the least sample when there are under 10): the statistic a
        latency model is fitted on and networks are measured by. Other work on the machine only adds time
        (cache, memory bandwidth and a shared core's cycles), so a low quantile estimates the latency of an
        unloaded machine far more steadily than the median does; the median is kept as the spread's centre."""
        if len(self.samples) < 10:
            return min(self.samples)
        return statistics.quantiles(self.samples, n=round(1 / LOW_QUANTILE), method="inclusive")[0]

    @property
    def iqr_rel(self) -> float:
        """Inter-quartile range / median: how noisy the measurement was."""
        if len(self.samples) < 4 or self.median <= 0:
            return 0.0
        q = statistics.quantiles(self.samples, n=4)
        return (q[2] - q[0]) / self.median

    def to_dict(self) -> dict[str, Any]:
        return {"median_ms": round(self.median, 4), "low_ms": round(self.low, 4),
                "iqr_over_median": round(self.iqr_rel, 4),
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


def check_runtime(runtime: str, device: str = "cpu") -> str:
    """``runtime`` is one of :data:`RUNTIMES` that can run here: ONNX Runtime needs the ``export`` extra
    (and runs on the CPU); a :class:`DesignError` naming what is wrong otherwise."""
    if runtime not in RUNTIMES:
        raise DesignError("runtime", f"unknown runtime {runtime!r}", ", ".join(RUNTIMES))
    if runtime == "onnxruntime":
        if device != "cpu":
            raise DesignError("runtime", f"onnxruntime is profiled on the CPU here, not on {device!r}", "--device cpu")
        from ..extras import Extra, missing

        try:
            import onnx  # noqa: F401
            import onnxruntime  # noqa: F401
        except ImportError as e:
            raise missing(Extra.EXPORT, "the onnxruntime runtime", e) from None
    return runtime


class OrtModule:
    """A torch module exported to ONNX (opset 17, in memory) and run by an ONNX Runtime CPU session with
    ``threads`` intra-op threads (1: on the calling thread, so the thread's CPU time is the op's) and every
    graph optimisation on. Called like the module, on torch tensors; returns ONNX Runtime's outputs."""

    def __init__(self, module: Any, *example: Any, threads: int = 1):
        import io
        import warnings

        import onnxruntime as ort
        import torch

        buf = io.BytesIO()
        with torch.no_grad(), warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)  # the TorchScript-based exporter, chosen here
            torch.onnx.export(module.eval(), example, buf, dynamo=False, opset_version=17,
                              input_names=[f"x{i}" for i in range(len(example))])
        opts = ort.SessionOptions()
        opts.intra_op_num_threads = threads
        opts.inter_op_num_threads = 1
        opts.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
        opts.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        opts.add_session_config_entry("session.intra_op.allow_spinning", "0")
        self.session = ort.InferenceSession(buf.getvalue(), opts, providers=["CPUExecutionProvider"])
        self.names = [i.name for i in self.session.get_inputs()]

    def __call__(self, *xs: Any) -> Any:
        return self.session.run(None, {n: x.numpy() for n, x in zip(self.names, xs)})


def on_runtime(module: Any, *example: Any, runtime: str = "torch", threads: int = 1) -> Callable[..., Any]:
    """``module`` itself (torch) or an :class:`OrtModule` of it (``example``: its inputs, for the export)."""
    return module if runtime == "torch" else OrtModule(module, *example, threads=threads)


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


def build_network(arch: Any, device: str = "cpu", batch: int = 1, runtime: str = "torch",
                  threads: int = 1) -> tuple[Any, Any]:
    """The eval-mode module of ``arch`` on ``device`` (on ``runtime``, see :func:`on_runtime`) and a random
    input batch."""
    import torch

    from ..nn.network import build_model

    torch.manual_seed(0)
    model = build_model(arch).eval().to(device)
    x = torch.randn(batch, arch.blocks[0].c_in, arch.resolution, arch.resolution, device=device)
    return on_runtime(model, x, runtime=runtime, threads=threads), x


def check_device(device: str) -> str:
    import torch

    if not isinstance(device, str) or device.split(":")[0] not in DEVICES:
        raise DesignError("device", f"unknown device {device!r}", ", ".join(DEVICES))
    if device.startswith("cuda") and not torch.cuda.is_available():
        raise DesignError("device", "CUDA is not available to this torch build or machine", "cpu")
    return device


def measure_network(arch: Any, device: str = "cpu", threads: int = 1, batch: int = 1, repeats: int = 15,
                    warmup: int = 3, built: tuple[Any, Any] | None = None, malloc: str = "tuned",
                    clock: str | None = None, runtime: str = "torch") -> Measurement:
    """Per-pass latencies of ``arch`` (eval mode, inference mode, batch ``batch``, on ``runtime``) on ``clock``
    (default :func:`default_clock`)."""
    check_device(device)
    if device == "cpu":
        tune_malloc(malloc)
    clock = clock or default_clock(device, threads)
    with torch_threads(threads if device == "cpu" else None):
        model, x = built or build_network(arch, device, batch, runtime, threads)
        return Measurement(time_calls(lambda: model(x), device, repeats, warmup, clock=clock))


def measure_like(model: LatencyModel, arch: Any, repeats: int = 15, warmup: int = 3,
                 built: tuple[Any, Any] | None = None, clock: str | None = None) -> Measurement:
    """Measure ``arch`` the way ``model`` was measured (device, threads, batch, allocator, clock, runtime)."""
    check_device(model.device)
    malloc = model.measured_with.get("malloc", "system")
    return measure_network(arch, model.device, model.threads, model.batch, repeats, warmup, built,
                           malloc=malloc if malloc in MALLOC_MODES else "system", clock=clock or model.clock,
                           runtime=check_runtime(model.runtime, model.device))


