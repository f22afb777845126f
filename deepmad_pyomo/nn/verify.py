"""Independent check of the analytic counts: count the built module with torch's own FLOP counter.

``torch.utils.flop_counter.FlopCounterMode`` records 2 FLOPs per multiply-accumulate of every conv and
matmul it sees (BN, activations, pooling and the SE product count 0), so its total / 2 is the MACs of
conv and linear layers that :func:`deepmad_pyomo.space.metrics.evaluate` reports (docs/counting.md).
Models are built on the ``meta`` device: shapes only, no weights allocated.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any, NamedTuple, Sequence

import torch
from torch import nn
from torch.utils.flop_counter import FlopCounterMode

from ..space.arch import Architecture
from ..space.metrics import network_terms
from .network import build_model, with_in_chans

CONVENTION = ("MACs = multiply-accumulates of conv and linear layers; "
              "counted by torch FlopCounterMode (2 FLOPs per MAC) / 2")


class Counted(NamedTuple):
    """What the counter measured on a module."""

    macs: int
    params: int


def count_module(module: nn.Module, input_size: Sequence[int], require_conv: bool = True) -> Counted:
    """MACs of one forward pass of ``module`` on an input of shape ``input_size`` (e.g.
    ``(1, 3, 224, 224)``) created on the module's device (``meta`` allocates nothing), and its params.

    The module runs in eval mode (restored afterwards). Raises ``RuntimeError`` when ``require_conv``
    and the counter saw no convolution: it counts 0 for ops it has no formula for, so an empty count
    would pass silently otherwise.
    """
    device = next(module.parameters(), torch.empty(0)).device
    x = torch.empty(*input_size, device=device)
    was_training = module.training
    counter = FlopCounterMode(display=False, depth=0)
    try:
        module.eval()
        with counter, torch.no_grad():
            module(x)
    finally:
        module.train(was_training)
    ops = counter.get_flop_counts().get("Global", {})
    if require_conv and not any("convolution" in str(op) and n > 0 for op, n in ops.items()):
        raise RuntimeError(f"FlopCounterMode saw no convolution in {type(module).__name__} "
                           f"(ops counted: {sorted(map(str, ops)) or 'none'})")
    flops = counter.get_total_flops()
    return Counted(macs=flops // 2, params=sum(p.numel() for p in module.parameters()))


def analytic_counts(arch: Architecture, num_classes: int | None = None) -> Counted:
    """MACs and params of ``arch`` at its resolution, from the formulas of :mod:`deepmad_pyomo.space.metrics`
    (the values ``metrics.evaluate`` reports, without the objective, which needs one alpha per stage).

    ``num_classes`` (default ``arch.num_classes``) sizes the classifier; ``0`` (no classifier, which an
    architecture cannot hold) counts the backbone alone: ``network_terms`` prices a classifier of 0
    outputs as 0 MACs and 0 params."""
    terms = network_terms(arch.blocks, arch.resolution, arch.num_classes if num_classes is None else num_classes)
    return Counted(macs=round(terms.macs), params=round(terms.params))


@dataclass(frozen=True)
class Verification:
    """Analytic (metrics.py) against counted (FlopCounterMode) MACs and params of the built module."""

    macs_analytic: int
    macs_counted: int
    params_analytic: int
    params_counted: int
    match: bool
    resolution: int | None = None
    num_classes: int | None = None

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "convention": CONVENTION}


def verify(arch: Architecture, resolution: int | None = None, num_classes: int | None = None,
           model: nn.Module | None = None, in_chans: int | None = None) -> Verification:
    """Build ``arch`` on the meta device (or take ``model``: a module claimed to be ``arch``), count it
    at ``resolution`` (default ``arch.resolution``) and compare exactly with the analytic metrics.

    ``num_classes`` (default ``arch.num_classes``; ``0``: no classifier) and ``in_chans`` (input
    channels of the stem; default the architecture's) verify the network ``create_model`` builds with
    those options: the analytic count is that of the modified architecture."""
    if in_chans is not None:
        arch = with_in_chans(arch, in_chans)
    arch = arch.with_(resolution=resolution or arch.resolution)
    classes = arch.num_classes if num_classes is None else num_classes
    if classes > 0:
        arch = arch.with_(num_classes=classes)
    res = arch.resolution
    if model is None:
        with torch.device("meta"):
            model = build_model(arch, classes)
    counted = count_module(model, (1, arch.blocks[0].c_in, res, res))
    analytic = analytic_counts(arch, classes)
    return Verification(macs_analytic=analytic.macs, macs_counted=counted.macs,
                        params_analytic=analytic.params, params_counted=counted.params,
                        match=analytic == counted, resolution=res, num_classes=classes)


__all__ = ["CONVENTION", "Counted", "Verification", "analytic_counts", "count_module", "verify"]
