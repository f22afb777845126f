"""Figures of ``deepmad compare`` and ``deepmad zoo`` (matplotlib, Agg backend), each written as PNG and
SVG, atomically (a reader never sees a half-written image), and reproducibly (no dates in the SVG).

- :func:`performance_profiles`: Dolan-More profiles of every solver configuration, drawn as perprof-py
  draws them (the ratio to the best configuration of the problem on a log2 axis; a run that failed has
  ratio infinity, so its curve ends below 1; a legend on every panel): (a) time to a best-known design
  (within the gap tolerance of the best objective any configuration found), (b) time to a proof of
  optimality, (c) primal integral.
- :func:`gap_plot`: per problem, each configuration's gap to the best proven bound any configuration
  found (problems with no bound are left out) and its shortfall against the best known objective, on a
  symmetric log scale that holds every gap, zero included; runs without a verified design are marked in a
  strip of their own.
- :func:`time_vs_size`: solve time against the size of the problem (the integer box, the discrete
  variables), for the size measures that differ between the problems (no figure when none does).
- :func:`zoo_plot`: entropy objective against MACs and against params, one series per block family,
  with reference models marked.
- :func:`pareto_plot`: a certified front: objective against the swept budget, each point marked by the
  constraints that bind it, the proven bounds as a band, released structures where comparable.
"""
from __future__ import annotations

import io
import math
from pathlib import Path
from typing import Any, Callable, Iterable, Sequence

from ..fileio import atomic_write_bytes
from ..solve.registry import CERTIFY

FORMATS = ("png", "svg")
FAMILY_COLORS = {"k1kxk1": "tab:blue", "kxkx": "tab:cyan", "k1dwk1": "tab:green", "k1dwsek1": "tab:orange"}
RES_MARKERS = {224: "o", 288: "s", 32: "^"}


def require() -> None:
    """matplotlib can be imported: a :class:`DesignError` naming the extra to install otherwise."""
    from ..extras import Extra, missing

    try:
        import matplotlib  # noqa: F401
    except ImportError as e:
        raise missing(Extra.PLOTS, "figures (leave them out with --no-plots / --no-plot)", e) from None


def _pyplot() -> Any:
    require()
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


def _colors(configs: Sequence[str]) -> dict[str, Any]:
    """One colour per configuration, the same in every panel."""
    plt = _pyplot()
    cycle = plt.rcParams["axes.prop_cycle"].by_key()["color"]
    cmap = plt.get_cmap("tab20")
    return {c: cycle[i] if i < len(cycle) else cmap(i % 20) for i, c in enumerate(configs)}


LINE_STYLES = ("-", "--", "-.", ":")  # curves that coincide stay visible


TIME_FLOOR_S = 0.05  # times below this count as this in ratios (PAVER's resmin)
INTEGRAL_FLOOR_S = 1e-3


def ratios(rows: Sequence[dict[str, Any]], value: Callable[[dict[str, Any]], float | None],
           floor: float) -> dict[str, list[float]]:
    """Per configuration, over all problems: ``value(row) / min over configurations``, each value raised to
    ``floor``; ``inf`` where the value is ``None`` (the run failed by this measure) or there is no run."""
    problems = sorted({r["problem_id"] for r in rows})
    configs = _configs(rows)
    by = {(r["problem_id"], r["config"]): r for r in rows}
    out: dict[str, list[float]] = {c: [] for c in configs}
    for p in problems:
        vals = {}
        for c in configs:
            r = by.get((p, c))
            v = value(r) if r is not None else None
            vals[c] = None if v is None or not math.isfinite(v) else max(float(v), floor)
        least = min((v for v in vals.values() if v is not None), default=None)
        for c in configs:
            out[c].append(math.inf if vals[c] is None or least is None else vals[c] / least)
    return out


def _time_to_best_known(r: dict[str, Any]) -> float | None:
    """When the run had a best-known design; a run with one but no trace counts its whole time."""
    if r.get("time_to_best_known") is not None:
        return r["time_to_best_known"]
    best, obj, tol = r.get("best_objective"), r.get("objective"), r.get("gap_tolerance") or 1e-4
    if not r.get("incumbents") and best is not None and obj is not None and obj >= best - tol * abs(best):
        return r.get("time_s")
    return None


PROFILES = (  # (measure, panel title, what a failure is, value of a row, floor)
    ("time_to_best_known", "(a) time to a best-known design", "no run found a best-known design",
     _time_to_best_known, TIME_FLOOR_S),
    ("time_to_proof", "(b) time to proven optimality (within the gap)", "no run proved optimality",
     lambda r: r.get("time_s") if r.get("status") == "optimal" else None, TIME_FLOOR_S),
    ("primal_integral", "(c) primal integral (Berthold)", "no run has a primal integral",
     lambda r: r.get("primal_integral"), INTEGRAL_FLOOR_S),
)


def profile_ratios(rows: Sequence[dict[str, Any]]) -> dict[str, dict[str, list[float]]]:
    """The performance ratios of every measure of :data:`PROFILES`, per configuration."""
    return {name: ratios(rows, value, floor) for name, _, _, value, floor in PROFILES}


def _draw_profile(ax: Any, per_config: dict[str, list[float]], colors: dict[str, Any], empty: str) -> None:
    """Dolan-More curves: the fraction of problems with ratio <= tau, tau on a log2 axis starting at 1;
    a curve that ends below 1 at the right edge has that fraction of problems failed (ratio infinity)."""
    finite = [x for v in per_config.values() for x in v if math.isfinite(x)]
    x_max = max(1.0, math.log2(max(finite, default=1.0)) * 1.1)
    for j, (c, vals) in enumerate(per_config.items()):
        n = len(vals)
        xs = sorted(math.log2(v) for v in vals if math.isfinite(v))
        steps_x = [0.0] + xs + [x_max]
        steps_y = [0.0] + [(i + 1) / n for i in range(len(xs))] + [len(xs) / n]
        ax.step(steps_x, steps_y, where="post", label=c, color=colors[c], lw=1.6,
                ls=LINE_STYLES[j % len(LINE_STYLES)])
    ticks = list(range(0, int(math.floor(x_max)) + 1, max(1, int(x_max) // 6 + 1)))
    ax.set_xticks(ticks)
    ax.set_xticklabels([f"{2 ** k:g}" for k in ticks])
    ax.set_xlim(0.0, x_max)
    ax.set_ylim(-0.02, 1.02)
    ax.set_xlabel("tau: ratio to the best configuration (log2 scale)", fontsize=8)
    ax.set_ylabel("fraction of problems with ratio <= tau", fontsize=8)
    ax.grid(alpha=0.3)
    if not finite:
        ax.text(0.5, 0.55, empty, ha="center", va="center", transform=ax.transAxes, fontsize=8,
                bbox={"facecolor": "white", "alpha": 0.8, "lw": 0})
    ax.legend(fontsize=7, loc="lower right")


def performance_profiles(rows: Sequence[dict[str, Any]], stem: str | Path) -> list[Path]:
    """Dolan-More profiles (:data:`PROFILES`) of every configuration, as ``stem.png``/``stem.svg``."""
    plt = _pyplot()
    per_measure = profile_ratios(rows)
    colors = _colors(_configs(rows))
    fig, axes = plt.subplots(1, len(PROFILES), figsize=(5.2 * len(PROFILES), 4.4))
    for ax, (name, title, empty, _, _) in zip(axes, PROFILES):
        _draw_profile(ax, per_measure[name], colors, empty)
        ax.set_title(title, fontsize=9)
    n = len({r["problem_id"] for r in rows})
    fig.suptitle(f"Dolan-More performance profiles ({n} problems; a curve ending below 1 failed on the rest: "
                 "ratio infinity)", fontsize=10)
    fig.tight_layout()
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
    """Per problem: gap to the best proven bound (left; problems with a bound) and shortfall against the
    best known objective (right), in percent on a symmetric log scale (linear below 1e-3 %, so zero is
    drawn as zero), one colour per configuration; a run without a verified design is an 'x' in the strip
    above its panel."""
    plt = _pyplot()
    g = gaps(rows)
    problems = sorted({r["problem_id"] for r in g})
    with_bound = [p for p in problems if any(r["problem_id"] == p and r["best_bound"] is not None for r in g)]
    configs = _configs(g)
    colors = _colors(configs)
    fig = plt.figure(figsize=(max(10.0, 0.4 * len(problems) + 6), 5.4))
    grid = fig.add_gridspec(2, 2, height_ratios=[1, 7], hspace=0.05, wspace=0.18, top=0.84)
    for col, (key, plist, title) in enumerate((
            ("gap_to_best_bound", with_bound, "(a) gap to the best proven bound of the problem"),
            ("shortfall", problems, "(b) shortfall against the best known objective"))):
        strip = fig.add_subplot(grid[0, col])
        ax = fig.add_subplot(grid[1, col], sharex=strip)
        idx = {p: i for i, p in enumerate(plist)}
        top = 1e-3
        for j, c in enumerate(configs):
            xs, ys, fx = [], [], []
            for r in g:
                if r["config"] != c or r["problem_id"] not in idx:
                    continue
                x = idx[r["problem_id"]] + (j - (len(configs) - 1) / 2) * min(0.12, 0.8 / max(1, len(configs)))
                if r.get("objective") is None:
                    fx.append(x)
                elif r[key] is not None:
                    xs.append(x)
                    ys.append(100 * r[key])
            top = max([top, *ys])
            ax.scatter(xs, ys, s=18, color=colors[c], label=c)
            strip.scatter(fx, [0.0] * len(fx), marker="x", s=26, color=colors[c])
        ax.set_yscale("symlog", linthresh=1e-3, linscale=0.5)
        ax.set_ylim(-1e-4, top * 3)
        ax.set_xticks(range(len(plist)))
        ax.set_xticklabels(plist, rotation=75, fontsize=6)
        ax.set_xlim(-0.6, max(len(plist) - 0.4, 0.6))
        ax.set_ylabel("percent (symmetric log scale; zero at the bottom)", fontsize=8)
        ax.grid(alpha=0.3, axis="y")
        strip.set_title(title, fontsize=9)
        strip.set_yticks([0.0])
        strip.set_yticklabels(["no verified\ndesign"], fontsize=7)
        strip.set_ylim(-1, 1)
        strip.tick_params(axis="x", labelbottom=False)
        strip.grid(alpha=0.3, axis="x")
        if not plist:
            ax.text(0.5, 0.5, "no configuration proved a bound", ha="center", va="center", transform=ax.transAxes)
    handles, labels = ax.get_legend_handles_labels()
    fig.legend(handles, labels, loc="lower center", bbox_to_anchor=(0.5, 0.89), ncol=min(len(labels), 5) or 1,
               fontsize=8)
    fig.suptitle("Gaps per problem", fontsize=10, y=1.03)
    return save(fig, stem)


SIZES = (("log10_points", "log10(points of the integer box): search space size"),
         ("n_int_vars", "integer and binary variables of the Pyomo model"))


def varying_sizes(rows: Sequence[dict[str, Any]]) -> list[tuple[str, str]]:
    """The size measures of :data:`SIZES` that take at least two values over the rows' problems."""
    return [(k, label) for k, label in SIZES if len({r.get(k) for r in rows if r.get(k) is not None}) >= 2]


def sizes_vary(rows: Sequence[dict[str, Any]]) -> bool:
    return bool(varying_sizes(rows))


def time_vs_size(rows: Sequence[dict[str, Any]], stem: str | Path) -> list[Path]:
    """Wall time against each size measure that varies between the problems (:func:`varying_sizes`), one
    colour per configuration; no figure (``[]``) when no size varies."""
    sizes = varying_sizes(rows)
    if not sizes:
        return []
    plt = _pyplot()
    colors = _colors(_configs(rows))
    fig, axes = plt.subplots(1, len(sizes), figsize=(5.5 * len(sizes), 4.2), squeeze=False)
    for ax, (key, label) in zip(axes[0], sizes):
        for c in _configs(rows):
            sel = [r for r in rows if r["config"] == c and r.get(key) is not None and r.get("time_s") is not None]
            ax.scatter([r[key] for r in sel], [max(r["time_s"], 1e-2) for r in sel], s=16, color=colors[c], label=c)
        ax.set_xlabel(label, fontsize=8)
        ax.set_yscale("log")
        ax.set_ylabel("wall time (s, log scale)", fontsize=8)
        ax.grid(alpha=0.3)
        ax.legend(fontsize=7)
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


BIND_TAGS = {"flops": "F", "params": "P", "layers": "L", "latency_ms": "T", "rho": "R", "width_caps": "W",
             "depth_caps": "D"}


def _tick(value: float, budget: str) -> str:
    scale, unit = SCALES.get(budget, (1.0, ""))
    return f"{value / scale:.4g}{unit}"


def grid_plot(cells: Sequence[dict[str, Any]], sweeps: Sequence[dict[str, Any]], measured_as: dict[str, str],
              title: str, stem: str | Path) -> list[Path]:
    """The grid of ``cells`` (:meth:`Cell.to_dict`) over the two ``sweeps`` (each with its ``values``): the
    grid's objective (the best design at budgets <= the cell's) as a heatmap, each cell labelled with its own
    objective and the constraints that bind its design (:data:`BIND_TAGS`), hatched when not proven optimal,
    blank where there is no design."""
    import numpy as np

    plt = _pyplot()
    (bx, xs), (by, ys) = ((s["budget"], s["values"]) for s in sweeps)
    z = np.full((len(ys), len(xs)), np.nan)
    for c in cells:
        if c.get("grid_objective") is not None:
            z[c["index"][1], c["index"][0]] = c["grid_objective"]
    fig, ax = plt.subplots(figsize=(1.3 * len(xs) + 3, 1.0 * len(ys) + 2))
    im = ax.imshow(np.ma.masked_invalid(z), origin="lower", cmap="viridis", aspect="auto")
    fig.colorbar(im, ax=ax, label="objective (certified; best design at budgets <= the cell's)")
    for c in cells:
        i, j = c["index"]
        if c.get("objective") is None or not c.get("architecture"):
            ax.text(i, j, c.get("status") or "-", ha="center", va="center", fontsize=7)
            continue
        tags = "+".join(BIND_TAGS.get(b, b) for b in c["binds"]) or "none"
        ax.text(i, j, f"{c['objective']:.5g}\n{tags}", ha="center", va="center", fontsize=7, color="w",
                bbox={"facecolor": "k", "alpha": 0.35, "lw": 0, "pad": 1.5})
        if c.get("status") != "optimal":
            ax.add_patch(plt.Rectangle((i - 0.5, j - 0.5), 1, 1, fill=False, hatch="//", ec="w", lw=0))
    ax.set_xticks(range(len(xs)), [_tick(v, bx) for v in xs])
    ax.set_yticks(range(len(ys)), [_tick(v, by) for v in ys])
    ax.set_xlabel(f"{bx} budget (measured as {measured_as[bx]})")
    ax.set_ylabel(f"{by} budget (measured as {measured_as[by]})")
    ax.set_title(f"Certified grid of {title} over {bx} x {by}", fontsize=10)
    legend = ", ".join(f"{t} {name}" for name, t in BIND_TAGS.items())
    fig.text(0.01, -0.02, f"In each cell: its certified objective and the constraints that bind its design ({legend}); "
             "hatched: not proven optimal.", fontsize=7, ha="left", va="top", wrap=True)
    return save(fig, stem)


__all__ = ["FORMATS", "PROFILES", "SIZES", "gap_plot", "gaps", "grid_plot", "pareto_plot", "performance_profiles", "profile_ratios",
           "ratios", "require", "save", "sizes_vary", "time_vs_size", "varying_sizes", "zoo_plot"]
