"""Figures of ``deepmad compare`` and ``deepmad zoo`` (matplotlib, Agg backend), each written as PNG and
SVG, atomically (a reader never sees a half-written image), and reproducibly (no dates in the SVG).

- :func:`performance_profiles`: Dolan-More profiles of every solver configuration: (a) time to a
  *solved* run, solved meaning a verified architecture within ``tol`` of the best objective any
  configuration found for the problem; (b) the objective ratio ``best / objective``.
- :func:`gap_plot`: per problem, each configuration's gap to the best proven bound any configuration
  found (problems with no bound are left out and named), and its shortfall against the best known
  objective.
- :func:`time_vs_size`: solve time against the size of the problem's integer box.
- :func:`zoo_plot`: entropy objective against MACs and against params, one series per block family,
  with reference models marked.
- :func:`pareto_plot`: a certified front: objective against the swept budget, each point marked by the
  constraints that bind it, the proven bounds as a band, released structures where comparable.
"""
from __future__ import annotations

import io
import math
from pathlib import Path
from typing import Any, Iterable, Sequence

from ..fileio import atomic_write_bytes
from ..solve.registry import CERTIFY

FORMATS = ("png", "svg")
FAMILY_COLORS = {"k1kxk1": "tab:blue", "kxkx": "tab:cyan", "k1dwk1": "tab:green", "k1dwsek1": "tab:orange"}
RES_MARKERS = {224: "o", 288: "s", 32: "^"}


def _pyplot() -> Any:
    import matplotlib

    matplotlib.use("Agg", force=True)
    import matplotlib.pyplot as plt

    plt.rcParams["svg.hashsalt"] = "deepmad-pyomo"  # stable element ids: same data, same file
    return plt


def save(fig: Any, stem: str | Path) -> list[Path]:
    """Write ``fig`` as ``stem.png`` and ``stem.svg`` (atomically); close it; return the paths."""
    plt = _pyplot()
    out = []
    for fmt in FORMATS:
        buf = io.BytesIO()
        meta = {"Date": None} if fmt == "svg" else {}
        fig.savefig(buf, format=fmt, dpi=130, bbox_inches="tight", metadata=meta)
        path = Path(f"{stem}.{fmt}")
        atomic_write_bytes(path, buf.getvalue())
        out.append(path)
    plt.close(fig)
    return out


def _configs(rows: Sequence[dict[str, Any]]) -> list[str]:
    return sorted({r["config"] for r in rows})


def _best_objective(rows: Iterable[dict[str, Any]]) -> dict[str, float]:
    best: dict[str, float] = {}
    for r in rows:
        if r.get("objective") is not None:
            best[r["problem_id"]] = max(best.get(r["problem_id"], -math.inf), r["objective"])
    return best


def profile_ratios(rows: Sequence[dict[str, Any]], tol: float = 0.01) -> tuple[dict[str, list[float]],
                                                                                dict[str, list[float]]]:
    """Per configuration, its ratios over all problems: time ratio to the fastest solved run, and objective
    ratio ``best / objective``; ``inf`` where it did not solve the problem (or has no run of it)."""
    best = _best_objective(rows)
    problems = sorted({r["problem_id"] for r in rows})
    configs = _configs(rows)
    by = {(r["problem_id"], r["config"]): r for r in rows}

    def solved(r: dict[str, Any] | None) -> bool:
        if r is None or r.get("objective") is None or r["problem_id"] not in best:
            return False
        b = best[r["problem_id"]]
        return r["objective"] >= b - tol * abs(b)

    time_ratio: dict[str, list[float]] = {c: [] for c in configs}
    obj_ratio: dict[str, list[float]] = {c: [] for c in configs}
    for p in problems:
        times = [max(by[p, c]["time_s"], 1e-3) for c in configs if solved(by.get((p, c)))]
        t_min = min(times) if times else None
        for c in configs:
            r = by.get((p, c))
            time_ratio[c].append(max(r["time_s"], 1e-3) / t_min if solved(r) and t_min else math.inf)
            if r is not None and r.get("objective") is not None and r["objective"] > 0 and best.get(p, 0) > 0:
                obj_ratio[c].append(best[p] / r["objective"])
            else:
                obj_ratio[c].append(math.inf)
    return time_ratio, obj_ratio


def _step_profile(ax: Any, ratios: dict[str, list[float]], log2: bool) -> None:
    finite = [x for v in ratios.values() for x in v if math.isfinite(x)]
    top = max(finite + [1.0])
    x_max = (math.log2(top) if log2 else top) * 1.05 + (0.1 if log2 else 0.01)
    for c, vals in ratios.items():
        n = len(vals)
        xs = sorted((math.log2(v) if log2 else v) for v in vals if math.isfinite(v))
        steps_x = [0.0 if log2 else 1.0] + xs + [x_max]
        steps_y = [0.0] + [(i + 1) / n for i in range(len(xs))] + [len(xs) / n]
        ax.step(steps_x, steps_y, where="post", label=c)
    ax.set_ylim(-0.02, 1.02)
    ax.set_xlim(0.0 if log2 else 1.0, x_max)
    ax.grid(alpha=0.3)


def performance_profiles(rows: Sequence[dict[str, Any]], stem: str | Path, tol: float = 0.01) -> list[Path]:
    """Dolan-More profiles (time, objective) of every configuration, as ``stem.png``/``stem.svg``."""
    plt = _pyplot()
    time_ratio, obj_ratio = profile_ratios(rows, tol)
    fig, (a, b) = plt.subplots(1, 2, figsize=(11, 4.2))
    _step_profile(a, time_ratio, log2=True)
    a.set_xlabel("log2(time / fastest solved time)  [tau]")
    a.set_ylabel("fraction of problems solved within tau")
    a.set_title(f"(a) time; solved = verified design within {100 * tol:g}% of the best known objective",
                fontsize=9)
    _step_profile(b, obj_ratio, log2=False)
    b.set_xlabel("best known objective / objective  [tau]")
    b.set_ylabel("fraction of problems with ratio <= tau")
    b.set_title("(b) objective of the verified architecture", fontsize=9)
    b.legend(fontsize=8, loc="lower right")
    fig.suptitle(f"Dolan-More performance profiles ({len({r['problem_id'] for r in rows})} problems)")
    return save(fig, stem)


def gaps(rows: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """Rows with ``best_bound``, ``best_objective``, ``gap_to_best_bound``, ``certified_bound``,
    ``gap_to_certified`` and ``shortfall`` added. The best bound is the least proven upper bound over all
    configurations of the problem; the certified bound is the one the ``certify`` route proved for it."""
    best_obj = _best_objective(rows)
    best_bound: dict[str, float] = {}
    certified: dict[str, float] = {}
    for r in rows:
        if r.get("bound") is not None and r.get("status") not in ("error", "unavailable"):
            best_bound[r["problem_id"]] = min(best_bound.get(r["problem_id"], math.inf), r["bound"])
            if str(r.get("solver", "")).partition(":")[0] == CERTIFY:
                certified[r["problem_id"]] = min(certified.get(r["problem_id"], math.inf), r["bound"])
    out = []
    for r in rows:
        p, obj = r["problem_id"], r.get("objective")
        bb, bo, cb = best_bound.get(p), best_obj.get(p), certified.get(p)
        out.append({**r, "best_bound": bb, "best_objective": bo, "gap_to_best_bound": _gap(bb, obj),
                    "certified_bound": cb, "gap_to_certified": _gap(cb, obj),
                    "shortfall": None if bo is None or obj is None else max(0.0, bo - obj) / max(abs(bo), 1e-9)})
    return out


def _gap(bound: float | None, objective: float | None) -> float | None:
    """How far ``objective`` may be from the optimum that ``bound`` bounds, relative to it."""
    return None if bound is None or objective is None else max(0.0, bound - objective) / max(abs(objective), 1e-9)


def gap_plot(rows: Sequence[dict[str, Any]], stem: str | Path) -> list[Path]:
    """Per problem: gap to the best known bound (left) and shortfall against the best known objective
    (right), in percent, one series per configuration; failed runs drawn at the top as 'x'."""
    plt = _pyplot()
    g = gaps(rows)
    problems = sorted({r["problem_id"] for r in g})
    with_bound = [p for p in problems if any(r["problem_id"] == p and r["best_bound"] is not None for r in g)]
    configs = _configs(g)
    fig, axes = plt.subplots(1, 2, figsize=(max(9.0, 0.35 * len(problems) + 5), 4.6))
    for ax, key, plist, title in (
            (axes[0], "gap_to_best_bound", with_bound, "(a) gap to the best proven bound of the problem"),
            (axes[1], "shortfall", problems, "(b) shortfall against the best known objective")):
        idx = {p: i for i, p in enumerate(plist)}
        top = 100.0
        for j, c in enumerate(configs):
            xs, ys, fx = [], [], []
            for r in g:
                if r["config"] != c or r["problem_id"] not in idx:
                    continue
                x = idx[r["problem_id"]] + (j - (len(configs) - 1) / 2) * 0.12
                if r[key] is None:
                    fx.append(x)
                else:
                    xs.append(x)
                    ys.append(max(100 * r[key], 1e-4))
            line = ax.scatter(xs, ys, s=18, label=c)
            if fx:
                ax.scatter(fx, [top * 3] * len(fx), marker="x", s=22, color=line.get_facecolor()[0] if xs else None)
        ax.set_yscale("log")
        ax.set_ylim(5e-5, top * 10)
        ax.axhline(top * 3, color="grey", lw=0.5, ls=":")
        ax.set_xticks(range(len(plist)))
        ax.set_xticklabels(plist, rotation=75, fontsize=6)
        ax.set_ylabel("percent (log scale)")
        ax.set_title(title, fontsize=9)
        ax.grid(alpha=0.3, axis="y")
        if not plist:
            ax.text(0.5, 0.5, "no configuration proved a bound", ha="center", va="center", transform=ax.transAxes)
    axes[1].legend(fontsize=7, loc="upper right")
    fig.suptitle("Gaps per problem (zero drawn at 1e-4 %; x on the dotted line: no verified design)", fontsize=10)
    return save(fig, stem)


def time_vs_size(rows: Sequence[dict[str, Any]], stem: str | Path) -> list[Path]:
    """Solve time against problem size (log10 of the number of points of the integer box, and the
    number of variables of the Pyomo model), one series per configuration."""
    plt = _pyplot()
    fig, axes = plt.subplots(1, 2, figsize=(11, 4.2))
    for c in _configs(rows):
        sel = [r for r in rows if r["config"] == c and r.get("log10_points") is not None]
        for ax, key in zip(axes, ("log10_points", "n_vars")):
            ax.scatter([r[key] for r in sel], [max(r["time_s"], 1e-2) for r in sel], s=16, label=c)
    axes[0].set_xlabel("log10(points of the integer box)")
    axes[1].set_xlabel("variables of the Pyomo model")
    for ax in axes:
        ax.set_yscale("log")
        ax.set_ylabel("wall time (s)")
        ax.grid(alpha=0.3)
    axes[1].legend(fontsize=8)
    fig.suptitle("Solve time against problem size")
    return save(fig, stem)


def zoo_plot(records: Sequence[dict[str, Any]], references: Sequence[dict[str, Any]], stem: str | Path,
             caption: str = "", y: str = "score", ylabel: str = "entropy score sum_j alpha_j H_j (paper form)",
             title: str = "Model zoo") -> list[Path]:
    """``y`` (the entropy ``score`` by default, or ``objective``) against MACs (left) and params (right):
    zoo models by family (colour) and resolution (marker; hollow: ``proven`` False, not proven optimal); ``references`` (dicts with name, macs, params,
    ``y`` (or None), kind) marked in black; a reference without ``y`` is drawn as a vertical line."""
    plt = _pyplot()
    fig, axes = plt.subplots(1, 2, figsize=(12, 5))
    fams = sorted({r["family"] for r in records})
    for ax, key, unit, scale in ((axes[0], "macs", "G MACs", 1e9), (axes[1], "params", "M params", 1e6)):
        for fam in fams:
            for res in sorted({r["resolution"] for r in records if r["family"] == fam}):
                sel = sorted((r for r in records if r["family"] == fam and r["resolution"] == res),
                             key=lambda r: r[key])
                if sel:
                    ax.plot([r[key] / scale for r in sel], [r[y] for r in sel], ls="-", lw=0.6,
                            marker=RES_MARKERS.get(res, "D"), ms=5, color=FAMILY_COLORS.get(fam),
                            label=f"{fam} @{res}")
                    open_ = [r for r in sel if r.get("proven") is False]  # not proven optimal: hollow
                    ax.scatter([r[key] / scale for r in open_], [r[y] for r in open_], s=25, zorder=4,
                               marker=RES_MARKERS.get(res, "D"), facecolors="white",
                               edgecolors=FAMILY_COLORS.get(fam))
        for ref in references:
            x = ref[key] / scale
            if ref.get(y) is None:
                ax.axvline(x, color="k", lw=0.6, ls=":")
                ax.annotate(ref["name"], (x, 0.02), xycoords=("data", "axes fraction"), rotation=90, fontsize=7)
            else:
                ax.scatter([x], [ref[y]], marker="*" if ref.get("kind") == "released" else "D", s=70,
                           color="k", zorder=5)
                ax.annotate(ref["name"], (x, ref[y]), textcoords="offset points", xytext=(5, -3), fontsize=7)
        ax.set_xscale("log")
        ax.set_xlabel(unit + " (log)")
        ax.set_ylabel(ylabel)
        ax.grid(alpha=0.3)
    axes[0].legend(fontsize=7, loc="upper left")
    fig.suptitle(f"{title}: {'entropy score' if y == 'score' else y} against MACs and params")
    if caption:
        fig.text(0.01, -0.02, caption, fontsize=7, ha="left", va="top", wrap=True)
    return save(fig, stem)


SCALES = {"flops": (1e9, "G"), "params": (1e6, "M"), "latency_ms": (1.0, "ms")}
BIND_MARKERS = ("o", "s", "^", "D", "v", "P", "X", "h", "<", ">")


def pareto_plot(rows: Sequence[dict[str, Any]], released: Sequence[dict[str, Any]], budget: str, measured_as: str,
                title: str, stem: str | Path) -> list[Path]:
    """The front of ``rows`` (:meth:`FrontRow.to_dict`): each point's objective (marker: the set of constraints
    that bind it; hollow: not proven optimal), the best design at a budget <= x as steps, and the region the
    optimum is proven to lie in (between a point's design and the next point's bound) as a band; ``released`` structures as stars (below the axis: a triangle on its edge with
    their objective written)."""
    plt = _pyplot()
    scale, unit = SCALES.get(budget, (1.0, ""))
    fig, ax = plt.subplots(figsize=(9, 5))
    pts = [r for r in rows if r.get("objective") is not None and r.get("architecture")]
    xs = [r["value"] / scale for r in pts]
    ax.step(xs, [r["front_objective"] for r in pts], where="post", color="tab:blue", lw=1,
            label="best design at a budget <= x")
    for a, b in zip(pts, pts[1:]):  # between two points the optimum lies between a's design and b's bound
        if b.get("front_bound") is not None:
            ax.fill_between([a["value"] / scale, b["value"] / scale], a["front_objective"], b["front_bound"],
                            color="tab:blue", alpha=0.15, lw=0, label="proven region of the optimum" if a is pts[0]
                            else None)
    combos = sorted({"+".join(r["binds"]) or "none" for r in pts})
    for i, combo in enumerate(combos):
        sel = [r for r in pts if ("+".join(r["binds"]) or "none") == combo]
        for proven in (True, False):
            part = [r for r in sel if (r["status"] == "optimal") == proven]
            if part:
                ax.scatter([r["value"] / scale for r in part], [r["objective"] for r in part], s=36, zorder=4,
                           marker=BIND_MARKERS[i % len(BIND_MARKERS)], facecolors=None if proven else "none",
                           color=f"C{i + 1}", label=f"binds: {combo}" + ("" if proven else " (not proven)"))
    lo = min(r["objective"] for r in pts) if pts else 0.0
    hi = max((r.get("front_bound") or r["objective"]) for r in pts) if pts else 1.0
    pad = 0.08 * (hi - lo or abs(hi) or 1.0)
    ax.set_ylim(lo - pad, hi + pad)
    for ref in released:
        x = ref["value"] / scale
        note = f" (breaks {', '.join(ref['breaks'])})" if ref["breaks"] else ""
        if ref["objective"] < lo - pad:
            ax.scatter([x], [lo - pad], marker="v", s=60, color="k", zorder=5, clip_on=False)
            ax.annotate(f"{ref['name']}: {ref['objective']:.3g}{note}", (x, lo - pad), textcoords="offset points",
                        xytext=(-3, 8), fontsize=7, rotation=90, va="bottom", ha="center")
        else:
            ax.scatter([x], [ref["objective"]], marker="*", s=90, color="k", zorder=5)
            ax.annotate(ref["name"] + note, (x, ref["objective"]), textcoords="offset points", xytext=(5, -3),
                        fontsize=7)
    from matplotlib.ticker import FuncFormatter

    ax.set_xscale("log")
    plain = FuncFormatter(lambda v, _: f"{v:g}")
    ax.xaxis.set_major_formatter(plain)
    ax.xaxis.set_minor_formatter(plain)
    ax.tick_params(axis="x", which="minor", labelsize=7)
    ax.set_xlabel(f"{budget} budget ({unit}, measured as {measured_as}; log)")
    ax.set_ylabel("objective (certified)")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.01, 1.0))
    ax.set_title(f"Certified front of {title} over {budget}", fontsize=10)
    return save(fig, stem)


__all__ = ["FORMATS", "gap_plot", "gaps", "pareto_plot", "performance_profiles", "profile_ratios", "save",
           "time_vs_size", "zoo_plot"]
