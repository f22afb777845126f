"""The metrics report of an architecture: :class:`~.metrics.Metrics` with the stages, the objective's
settings, the conventions of every count, and the checks against a design problem (what ``deepmad metrics``
prints)."""
from __future__ import annotations

from dataclasses import replace
from typing import Any

from . import metrics as M
from .families import Mode, default_rho0


def default_settings(a: Any, mode: str | None = None) -> M.ObjectiveSettings:
    """Objective settings for an architecture with no design problem: the default alpha (1 per stage, 8 on
    the last), beta 10, the effectiveness bound rho0 of its family (0.5 MobileNet-like, else 0.3)."""
    return M.ObjectiveSettings(alpha=None, beta=10.0, rho0=default_rho0(b.type for b in a.super_blocks),
                               mode=mode or Mode.PAPER)


def released_preset(a: Any) -> str | None:
    """The preset a released DeepMAD structure was designed for (by the architecture's name), if any."""
    from .problem import RELEASED_PRESET

    if not a.name:
        return None
    lowered = {k.lower(): v for k, v in RELEASED_PRESET.items()}
    return lowered.get(str(a.name).lower())


def _settings_for(a: Any, problem: Any) -> tuple[M.ObjectiveSettings, list[str]]:
    """The problem's objective settings; its default alpha (and a note) when its alpha weights another
    number of stages than the architecture has."""
    settings = problem.objective
    n_stages = len(M.stage_ends([b.s for b in a.blocks]))
    if settings.alpha is None or len(settings.alpha) == n_stages:
        return settings, []
    settings = replace(settings, alpha=None)  # not this problem's template: keep its beta, rho0 and mode
    return settings, [f"objective.alpha: {problem.name} weights {len(problem.objective.alpha)} stages, the "
                      f"architecture has {n_stages} (evaluated with alpha "
                      f"{list(M.stage_weights(settings, n_stages))})"]


def _violations(a: Any, problem: Any, m: M.Metrics, settings: M.ObjectiveSettings, notes: list[str]) -> list[str]:
    if problem is None:
        if m.rho > settings.rho0 * (1 + 1e-9):
            return [f"effectiveness: rho {m.rho:.4f} > rho0 {settings.rho0}"]
        return []
    violations = notes + problem.check(a, m)
    if problem.resolution != a.resolution:
        violations.append(f"resolution: the architecture is evaluated at {a.resolution}, the problem is "
                          f"posed at {problem.resolution} (use --resolution {problem.resolution})")
    return violations


def budget_rows(problem: Any, values: dict[str, Any]) -> list[dict[str, Any]]:
    """Each budget of ``problem``: its limit, the metric it is measured as, and that metric's value."""
    rows = []
    for budget in ("flops", "params", "layers"):
        limit = getattr(problem.budgets, budget)
        if limit is not None:
            metric = problem.budget_metric(budget) if budget != "layers" else "layers"
            rows.append({"budget": budget, "limit": limit, "measured_as": metric, "value": values[metric]})
    return rows


def _conventions(settings: M.ObjectiveSettings) -> dict[str, str]:
    tinynas = settings.mode == Mode.TINYNAS
    return {
        "conv_macs": "multiply-accumulates of conv layers only (macs minus the classifier)",
        "layers": "conv layers of the main path (no shortcut projections, no SE convs)",
        "score": "sum over stages of alpha_j * H_j",
        "objective": "score minus depth_penalty",
        "depth_penalty": ("beta * exp(std(L)) over penalised_depths" if tinynas
                          else "beta * exp(Var(L)) over penalised_depths"),
        "rho": ("max over stage prefixes of layers / exp(mean log w)" if tinynas
                else "layers / exp(mean log w) over the whole main path"),
    }


def metrics_report(a: Any, problem: Any = None, mode: str | None = None) -> dict[str, Any]:
    """:class:`~.metrics.Metrics` of ``a`` as a dict, with its stages, the objective's settings, the conventions
    of every field, and the checks against ``problem`` (in ``mode``; without a problem, the family's rho0)."""
    notes: list[str] = []
    if problem is not None:
        problem = problem.with_mode(mode)
        settings, notes = _settings_for(a, problem)
    else:
        settings = default_settings(a, mode)
    m = M.evaluate(a, settings)
    terms = M.network_terms(a.blocks, a.resolution, a.num_classes)
    d = m.to_dict()
    tinynas = settings.mode == Mode.TINYNAS
    d.update(
        name=a.name, architecture=a.describe(), conv_macs=m.macs - a.blocks[-1].c_out * a.num_classes,
        rho0=settings.rho0, alpha=list(M.stage_weights(settings, len(terms.stages))), beta=settings.beta,
        penalised_depths=[int(x) for x in M.penalised_depths(terms, settings.mode)],
        stages=[{"end_block": st.end, "channels": int(st.channels), "resolution": st.resolution,
                 "resolution_used": 1.0 if (tinynas and st.se_before) else st.resolution,
                 "layers": int(st.layers)} for st in terms.stages],
        checked_against=problem.name if problem is not None else None,
        budgets=budget_rows(problem, d) if problem is not None else [],
        violations=_violations(a, problem, m, settings, notes),
    )
    d["conventions"] = {**d["conventions"], **_conventions(settings)}
    return d


__all__ = ["budget_rows", "default_settings", "metrics_report", "released_preset"]
