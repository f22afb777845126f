"""Latency budgets measured on the user's own hardware.

Four parts:

1. **Profiling** (:func:`profile`; shapes in :mod:`.grid`, timing in :mod:`.measure`): torch runs the
   operations the block families of :mod:`deepmad_pyomo.nn.network` are made of (dense and depthwise convs,
   BatchNorm, ReLU, SiLU, the residual add, the shortcut's 2x2 average pool, the squeeze-excite gate, the
   classifier) over a grid of shapes on this device, with warm-up, many repeats in several interleaved
   passes, and keeps the median.
   It also runs random whole networks of every family, to calibrate what the ops cost inside a network
   rather than alone.
2. **Fitting** (:func:`fit`, :mod:`.fit`): per op type a linear model in algebraic features of the shape,
   ``ms = sum_f coef[op][f] * feature_f``, by non-negative least squares on relative errors (non-negative
   coefficients keep the latency monotone in every width and depth); then, on the calibration networks, per block
   family a ``scale`` of its ops, and ``network.call``, what every op call costs in a network beyond what it
   cost alone (docs/latency.md: the terms and why). A quarter of the shapes of every op and of the calibration
   networks is held out; the model file reports the fit's error on them, and how noisy the measurements were.
3. **Prediction** (:mod:`.ops`, :mod:`.model`): :func:`inner_block_terms` lists the ops of one block and
   their features. It iterates the ``Conv`` records of :func:`deepmad_pyomo.space.metrics.inner_block`, and :func:`network_latency` sums
   blocks as :func:`deepmad_pyomo.space.metrics.block_totals` does (a super-block costs its first block plus
   ``L - 1`` repeats), so the same code gives numbers (:func:`predict_ms`) and Pyomo expressions
   (:func:`latency_expression`, which :mod:`deepmad_pyomo.mp.formulation` uses for ``budgets.latency_ms``).
4. **Reports** (:mod:`.report`): what a model file holds (:func:`model_summary`), and an architecture's
   latency predicted and measured the way the model was measured (:func:`latency_report`).

Features are in millions and are products of the conv fields only, so they stay polynomial in the
MINLP's variables: ``macs = B cin k2 cout r^2``, ``in = B cin (s r)^2`` (input activations), ``out = B cout
r^2`` (output activations), ``weights = cin k2 cout``, ``elems`` (activations an element-wise op touches),
``calls = 1`` (the fixed cost of one call), with ``B`` the batch the model was measured at.

How it is measured matters as much as what: a latency model file records the device, threads, batch,
clock, allocator and library versions it was measured with (:meth:`LatencyModel.describe`), and every
prediction should say so. On the CPU with one thread the clock is the thread's CPU time (see
:func:`default_clock`) and the allocator is tuned (see :func:`tune_malloc`). A malformed file is refused
with a :class:`~deepmad_pyomo.errors.DesignError` naming the field and what is valid.

This package exports what users call; the op tables, features and grids are in :mod:`.ops` and :mod:`.grid`,
the fitting helpers in :mod:`.fit`.
"""
from __future__ import annotations

from .fit import fit, profile, refit
from .grid import GRIDS
from .measure import (
    Measurement,
    build_network,
    check_device,
    check_runtime,
    default_clock,
    measure_like,
    measure_network,
    tune_malloc,
)
from .model import (
    LatencyModel,
    latency_expression,
    load,
    load_cached,
    predict_blocks_ms,
    predict_ms,
    save,
    validate,
)
from .ops import CLOCKS, DEVICES, MALLOC_MODES, RUNTIMES
from .report import latency_report, model_summary

__all__ = [
    "CLOCKS", "DEVICES", "GRIDS", "MALLOC_MODES", "RUNTIMES",
    "LatencyModel", "Measurement",
    "build_network", "check_device", "check_runtime", "default_clock", "fit", "latency_expression", "latency_report", "load",
    "load_cached", "measure_like", "measure_network", "model_summary", "predict_blocks_ms", "predict_ms",
    "profile", "refit", "save", "tune_malloc", "validate",
]
