"""What to profile: the op shapes and the calibration networks of a grid; the device description."""
from __future__ import annotations

import contextlib
import itertools
import math
import os
import platform
import random
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Sequence

from ..errors import DesignError
from ..space import metrics
from ..space.arch import se_width
from .measure import build_network, on_runtime
from .ops import (
    _M,
    DW_TYPES,
    FAMILIES,
    OPS,
    Term,
    avgpool_features,
    classifier_features,
    conv_features,
    dwconv_features,
    elem_features,
    network_latency,
    se_features,
)

BlockTuple = tuple[str, int, int, int, int, int, int]  # type, in, out, k, s, btn (0: none), L


@dataclass(frozen=True)
class OpShape:
    """One profiled op instance: ``op`` and its shape (channels ``cin``/``cout``, kernel ``k``, stride ``s``,
    output side ``r``, SE width ``se``, classes ``n``); for a calibration ``network``: its ``blocks`` and its
    input side ``r``."""

    op: str
    cin: int = 0
    cout: int = 0
    k: int = 1
    s: int = 1
    r: int = 1
    se: int = 0
    n: int = 0
    blocks: tuple[BlockTuple, ...] = ()

    def arch(self) -> Any:
        """The :class:`~deepmad_pyomo.space.arch.Architecture` of a ``network`` sample."""
        from ..space.arch import Architecture, Block

        return Architecture(tuple(Block(t, ci, co, k, s, btn or None, L) for t, ci, co, k, s, btn, L in self.blocks),
                            resolution=self.r, num_classes=self.n or 1000, name="latency-calibration")

    def terms(self, batch: int) -> list[Term]:
        """The op's terms, from the same feature functions :func:`inner_block_terms` uses (a ``network``:
        see :func:`network_features`)."""
        o = self.op
        if o in ("conv", "conv1x1"):
            return [(o, conv_features(self.cin, self.cout, self.k * self.k, self.r, self.s, batch))]
        if o == "dwconv":
            return [(o, dwconv_features(self.cout, self.k * self.k, self.r, self.s, batch))]
        if o in ("bn", "relu", "silu", "add"):
            return [(o, elem_features(self.cout, self.r, batch))]
        if o == "avgpool":
            return [(o, avgpool_features(self.cout, 2 * self.r, batch))]
        if o == "se":
            return [(o, se_features(self.cout, self.se, self.r, batch))]
        if o == "classifier":
            return [(o, classifier_features(self.cin, self.r, self.n, batch))]
        raise DesignError("op", f"unknown op {o!r}", ", ".join(OPS))

    def to_dict(self) -> dict[str, Any]:
        d = {k: v for k, v in self.__dict__.items() if v or k == "op"}
        if self.blocks:
            d["blocks"] = [list(b) for b in self.blocks]
        return d

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> "OpShape":
        d = dict(d)
        d["blocks"] = tuple(tuple(b) for b in d.get("blocks", ()))
        return cls(**d)

    def label(self) -> str:
        if self.op == "network":
            return f"network r={self.r} " + self.arch().describe()
        return self.op + " " + " ".join(f"{k}={v}" for k, v in self.to_dict().items() if k != "op")


def network_features(arch: Any, coef: dict[str, dict[str, float]], batch: int
                     ) -> tuple[dict[str, float], float, float]:
    """What a calibration network is fitted on: per block family, the latency its ops predict; how many op
    calls the network makes (its classifier's included); and the classifier's predicted latency."""
    ops_only = {op: c for op, c in coef.items() if op in OPS}
    ops = {f: 0.0 for f in FAMILIES}
    _, per = network_latency(ops_only, arch.blocks, arch.resolution, arch.num_classes, batch)
    for b, v in zip(arch.blocks, per):
        ops[b.type] += float(v)
    n_calls = network_latency({**{op: {} for op in OPS}, "network": {"call": 1.0}}, arch.blocks, arch.resolution,
                              arch.num_classes, batch)[0]
    return ops, float(n_calls), float(per[-1])


COLD_BYTES = 64 << 20  # twice a large last-level cache
COLD_COPIES_MAX = 16
COLD_MIN_BYTES = 256 << 10  # smaller weights load fast from anywhere
_POOL: list[Any] = []


def _random(shape: Sequence[int]) -> Any:
    """A standard-normal tensor of ``shape`` cut from one pool drawn once (seeded): drawing fresh numbers
    for every shape cost more than timing it."""
    import torch

    if not _POOL:
        _POOL.append(torch.randn(1 << 22, generator=torch.Generator().manual_seed(0)))
    pool = _POOL[0]
    n = math.prod(shape)
    reps = -(-n // pool.numel())
    flat = pool if reps == 1 else pool.repeat(reps)
    return flat[:n].clone().view(*shape)


def _make_op(shape: OpShape, device: str, batch: int, runtime: str = "torch", threads: int = 1) -> Callable[[], Any]:
    """A zero-argument callable running the op once on ``runtime`` (modules and inputs built here, weights
    random)."""
    import torch
    from torch import nn
    from torch.nn.utils import skip_init

    from ..nn.network import SqueezeExcite

    o, r = shape.op, shape.r

    def run(m: nn.Module, *xs: Any) -> Callable[[], Any]:
        f = on_runtime(m, *xs, runtime=runtime, threads=threads)
        return lambda: f(*xs)

    def rand(*size: int) -> Any:
        return _random(size).to(device)

    def init(m: nn.Module) -> nn.Module:
        with torch.no_grad():
            for p in m.parameters():
                p.copy_(_random(p.shape) * 0.1)
            for b in m.buffers():
                if b.is_floating_point():
                    b.copy_(_random(b.shape).abs() + 0.5)
        return m.eval().to(device)

    if o in ("conv", "conv1x1", "dwconv"):
        groups = shape.cout if o == "dwconv" else 1
        cin = shape.cout if o == "dwconv" else shape.cin
        x = rand(batch, cin, r * shape.s, r * shape.s)
        # In a network each weight is read once per pass, from memory rather than from cache: cycle
        # through enough copies of the layer that its weights are cold here too.
        wbytes = 4 * (cin // groups) * shape.k ** 2 * shape.cout
        copies = 1
        if device == "cpu" and wbytes >= COLD_MIN_BYTES:
            copies = max(1, min(COLD_COPIES_MAX, math.ceil(COLD_BYTES / wbytes)))
        def conv() -> nn.Module:
            return skip_init(nn.Conv2d, cin, shape.cout, shape.k, shape.s, (shape.k - 1) // 2, groups=groups,
                             bias=False)

        mods = [init(conv())]
        for _ in range(copies - 1):
            mods.append(conv().eval().to(device))
            with torch.no_grad():
                mods[-1].weight.copy_(mods[0].weight)
        it = itertools.cycle([run(m, x) for m in mods])
        return lambda: next(it)()
    if o in ("bn", "relu", "silu"):
        m = init({"bn": lambda: nn.BatchNorm2d(shape.cout), "relu": nn.ReLU, "silu": nn.SiLU}[o]())
        return run(m, rand(batch, shape.cout, r, r))
    if o == "add":
        class Add(nn.Module):  # the residual add as a module (what the ONNX export takes)
            def forward(self, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
                return x + y

        return run(Add(), rand(batch, shape.cout, r, r), rand(batch, shape.cout, r, r))
    if o == "avgpool":
        return run(nn.AvgPool2d(2), rand(batch, shape.cout, 2 * r, 2 * r))
    if o == "se":
        return run(init(SqueezeExcite(shape.cout, shape.se)), rand(batch, shape.cout, r, r))
    if o == "classifier":
        m = init(nn.Sequential(nn.AdaptiveAvgPool2d(1), nn.Flatten(1), nn.Linear(shape.cin, shape.n)))
        return run(m, rand(batch, shape.cin, r, r))
    if o == "network":
        net, x = build_network(shape.arch(), device, batch, runtime, threads)
        return lambda: net(x)
    raise DesignError("op", f"unknown op {o!r}", ", ".join(OPS))


GRIDS = ("default", "small", "tiny")
GRID_COUNTS = {"conv": 110, "conv1x1": 100, "dwconv": 60, "bn": 30, "relu": 25, "silu": 25, "add": 25,
               "avgpool": 20, "se": 25, "classifier": 12, "network": 48}
_SIDES = (112, 56, 28, 14, 7)


def _width(rng: random.Random, lo: int, hi: int, step: int = 8) -> int:
    """Log-uniform in [lo, hi]; mostly a multiple of ``step`` (designed widths), sometimes not (some
    released structures have widths like 85 or 201)."""
    v = math.exp(rng.uniform(math.log(lo), math.log(hi)))
    if rng.random() < 0.75:
        return max(step, int(round(v / step)) * step)
    return max(1, int(round(v)))


def _draw_network(rng: random.Random, tiny: bool = False) -> OpShape:
    """A random network of one family (stem, super-blocks, maybe a 1x1 head), for calibration: 224-160 pixels,
    widths, bottleneck ratios, depths and kernels across the ranges of DeepMAD's and the classic designs
    (``tiny``: the smallest, for tests). None is small: at 32-64 pixels most ops run on maps smaller than any
    profiled shape, and what the op table predicts there is no guide to what a block costs beyond its ops
    (docs/latency.md)."""
    fam = rng.choice(SUPER_FAMILIES)
    res = 32 if tiny else rng.choice((224, 224, 192, 160))
    n_sb = 2 if tiny else rng.randint(3, 5)
    w = _width(rng, 8, 24) if tiny else _width(rng, 16, 80)
    blocks: list[BlockTuple] = [("conv", 3, w, 3 if tiny else rng.choice((3, 3, 5, 7)), 2, 0, 1)]
    strides = [2] * min(n_sb, 4) + [1] * (n_sb - min(n_sb, 4))
    if rng.random() < 0.5:
        rng.shuffle(strides)
    for i in range(n_sb):
        out = max(8, int(round(w * rng.uniform(1.0, 2.6) / 8)) * 8)
        lo, hi = {"k1kxk1": (0.08, 0.5), "kxkx": (0.25, 1.25)}.get(fam, (1.5, 6.0))
        btn = max(8, int(round((out if fam in ("k1kxk1", "kxkx") else w) * rng.uniform(lo, hi) / 8)) * 8)
        depth = 1 if tiny else rng.randint(1, 4)
        blocks.append((fam, w, out, rng.choice((3, 5, 7)) if not tiny else 3, strides[i], btn, depth))
        w = out
    if fam in DW_TYPES and rng.random() < 0.6:
        blocks.append(("conv", w, max(8, int(round(w * rng.uniform(2, 5) / 8)) * 8), 1, 1, 0, 1))
    return OpShape("network", r=res, n=1000, blocks=tuple(blocks))


SUPER_FAMILIES = FAMILIES[1:]


def _draw(op: str, rng: random.Random) -> OpShape:
    r = rng.choice(_SIDES)
    if op == "conv":
        cin = 3 if rng.random() < 0.05 else _width(rng, 8, 1024)
        return OpShape(op, cin=cin, cout=_width(rng, 8, 1024), k=rng.choices((3, 5, 7), (0.45, 0.4, 0.15))[0],
                       s=rng.choice((1, 2)), r=r)
    if op == "conv1x1":
        return OpShape(op, cin=_width(rng, 8, 2048), cout=_width(rng, 8, 2048), r=r)
    if op == "dwconv":
        return OpShape(op, cout=_width(rng, 16, 3072), k=rng.choice((3, 5, 7)), s=rng.choice((1, 2)), r=r)
    if op == "se":
        c = _width(rng, 16, 3072)
        return OpShape(op, cout=c, se=se_width(c), r=rng.choice(_SIDES[1:]))
    if op == "classifier":
        return OpShape(op, cin=_width(rng, 32, 2560), n=rng.choice((1000, 1000, 10, 100)), r=rng.choice((7, 7, 14)))
    if op == "network":
        return _draw_network(rng)
    return OpShape(op, cout=_width(rng, 8, 3072), r=r)


def default_grid(size: str = "default", seed: int = 0) -> list[OpShape]:
    """Shapes to profile, drawn (seeded) from the ranges the block families use at 224x224 and below, and
    calibration networks: ``default`` (~480), ``small`` (~30% of them) or ``tiny`` (a few small ones per op,
    for tests)."""
    if size not in GRIDS:
        raise DesignError("grid", f"unknown grid {size!r}", ", ".join(GRIDS))
    scale = {"default": 1.0, "small": 0.3, "tiny": 0.0}[size]
    max_macs = 2e7 if size == "tiny" else 4e8
    rng = random.Random(seed)
    out: list[OpShape] = []
    for op, n in GRID_COUNTS.items():
        n = max(4, int(round(n * scale)))
        shapes: set[OpShape] = set()
        tries = 0
        while len(shapes) < n and tries < 200 * n:
            tries += 1
            if op == "network":
                sh = _draw_network(rng, tiny=size == "tiny")
                try:
                    macs = metrics.network_terms(sh.arch().blocks, sh.r, 1000).macs
                except DesignError:  # too many stride-2 blocks for the resolution
                    continue
                if size != "tiny" and not 5e7 <= macs <= 2.5e9:
                    continue
                shapes.add(sh)
                continue
            sh = _draw(op, rng)
            f = sh.terms(1)[0][1]
            if f.get("macs", 0) / _M > max_macs or f.get("weights", 0) / _M > 2e7:
                continue
            if f.get("elems", f.get("in", 0)) / _M > 1.6e7:
                continue
            shapes.add(sh)
        out.extend(sorted(shapes, key=lambda s: tuple(map(str, s.__dict__.values()))))
    return out


def reference_arch() -> Any:
    """A small fixed network timed all through a profile and again wherever a model is checked: how much
    faster or slower the machine is now than when the model was measured."""
    from ..space.arch import Architecture, Block

    return Architecture((Block("conv", 3, 16, 3, 2), Block("k1kxk1", 16, 64, 3, 2, btn=16, L=2),
                         Block("k1dwsek1", 64, 64, 5, 2, btn=128, L=2)), resolution=64, num_classes=10,
                        name="latency-reference")


def device_info(device: str, runtime: str = "torch") -> dict[str, Any]:
    """What a model file records about the machine and libraries."""
    import numpy
    import torch

    from ..version import __version__

    name = platform.processor() or platform.machine()
    if device.startswith("cuda"):
        name = torch.cuda.get_device_name(torch.device(device))
    else:
        with contextlib.suppress(OSError):
            for line in Path("/proc/cpuinfo").read_text().splitlines():
                if line.startswith("model name"):
                    name = line.split(":", 1)[1].strip()
                    break
    info: dict[str, Any] = {"device_name": name, "cpu_count": os.cpu_count(), "torch": torch.__version__,
                            "numpy": numpy.__version__, "python": platform.python_version(),
                            "platform": platform.platform(), "deepmad_pyomo": __version__,
                            "mkldnn": bool(torch.backends.mkldnn.is_available())}
    if runtime == "onnxruntime":
        import onnxruntime

        info["onnxruntime"] = onnxruntime.__version__
    if device.startswith("cuda"):
        info["cuda"] = torch.version.cuda
        info["cudnn"] = torch.backends.cudnn.version()
    return info


