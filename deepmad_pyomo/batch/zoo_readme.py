"""The files of ``deepmad zoo`` besides the model records: ``README.md`` (a table of the zoo) and
``zoo.{png,svg}`` (entropy score against MACs and params, per family, with the released DeepMAD structures
and ResNet-18/50 for reference); with the ``ladder`` suite, ``ladder.{png,svg}``: its three certified fronts
alone, with the same references.

When the zoo folder holds a latency model (:data:`LATENCY_FILE`, written by ``deepmad latency profile``), the
table gets a column of each model's latency predicted by it, labelled with the device it was measured on.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any, Sequence

from ..fileio import atomic_write_text
from ..solve.results import Status
from ..space.families import Mode, default_rho0
from .suites import LADDER

LATENCY_FILE = "latency-cpu.json"

# torchvision ResNets: MACs/params measured on hand-built equivalents; their entropy from a
# main-path-equivalent architecture (the max-pool folded into the first block's stride; shortcut
# projections and pooling do not enter the entropy, so only the main-path widths, depths and
# resolutions matter).
RESNETS = {
    "ResNet-18": (1_814_073_344, 11_689_512, "kxkx", [(64, 64, 2), (64, 128, 2), (128, 256, 2), (256, 512, 2)], 1),
    "ResNet-50": (4_089_184_256, 25_557_032, "k1kxk1",
                  [(64, 256, 3), (256, 512, 4), (512, 1024, 6), (1024, 2048, 3)], 4),
}
CAPTION = (
    "Entropy score (sum_j alpha_j H_j, alpha 1 per stage and 8 on the last: the design objective before its depth "
    "penalty) against MACs (multiply-accumulates of conv + linear layers) and params (all learnable, incl. BN "
    "and the classifier), log scale. The score is drawn rather than the objective because the paper-form "
    "penalty 10 exp(Var L) of the released DeepMAD-R18/R50 is 2.3e7 and 2.3e11 (they were designed under the "
    "official code's 10 exp(std L)), which no common axis holds; the zoo models' penalties are listed in the "
    "table. Zoo models: colour = block family, circle = 224x224, square = 288x288 input (at equal MACs a 288 "
    "model has less width and depth to spend than a 224 one). Stars: the released DeepMAD structures, evaluated "
    "by the same metrics at 224. Diamonds: torchvision ResNet-18/50 at their measured MACs/params; their "
    "score is computed by the same metrics on a main-path-equivalent kxkx/k1kxk1 architecture "
    "(max-pool folded into the first block's stride; shortcuts do not enter the entropy). The entropy is the "
    "design objective, not an accuracy.")


# ------------------------------------------------------------------------------------ references
def resnet_architecture(name: str) -> Any:
    """The main-path-equivalent architecture of a torchvision ResNet (for its entropy only)."""
    from ..space.arch import Architecture, Block

    _, _, btype, stages, expansion = RESNETS[name]
    blocks = [Block("conv", 3, 64, 7, 2)]
    for c_in, c_out, depth in stages:
        blocks.append(Block(btype, c_in, c_out, 3, 2, btn=c_out // expansion, L=depth))
    return Architecture(tuple(blocks), 224, 1000, name=name)


def references() -> list[dict[str, Any]]:
    """Reference points for the zoo picture: the released DeepMAD structures (entropy, MACs, params by
    :mod:`metrics`) and ResNet-18/50 (measured MACs/params; entropy of the main-path equivalent)."""
    from ..space.metrics import ObjectiveSettings, evaluate
    from ..space.released import RELEASED

    out = []
    for name, released in RELEASED.items():
        arch = released.load()
        rho0 = default_rho0(b.type for b in arch.super_blocks)
        m = evaluate(arch, ObjectiveSettings(alpha=None, beta=10.0, rho0=rho0, mode=Mode.PAPER))
        out.append({"name": name, "kind": "released", "macs": m.macs, "params": m.params, "objective": m.objective,
                    "score": m.score, "depth_penalty": m.depth_penalty, "rho": m.rho, "resolution": arch.resolution})
    for name, (macs, params, *_rest) in RESNETS.items():
        m = evaluate(resnet_architecture(name), ObjectiveSettings(alpha=None, beta=10.0, rho0=0.3, mode=Mode.PAPER))
        out.append({"name": name, "kind": "classic", "macs": macs, "params": params, "objective": m.objective,
                    "score": m.score, "depth_penalty": m.depth_penalty, "rho": m.rho, "resolution": 224,
                    "note": "MACs/params: measured on a hand-built equivalent of torchvision's model; objective: "
                            "main-path-equivalent architecture"})
    return out


# ---------------------------------------------------------------------------------------- README
def _fmt(v: Any, spec: str) -> str:
    return "-" if v is None else format(v, spec)


def summary_row(rec: dict[str, Any]) -> dict[str, Any]:
    m, c, v, b = rec.get("metrics") or {}, rec.get("certificate") or {}, rec.get("verification") or {}, rec["budgets"]
    return {"name": rec["name"], "suite": rec["suite"], "family": rec["family"], "resolution": rec["resolution"],
            "flops_budget": b.get("flops"), "params_budget": b.get("params"), "macs": m.get("macs"),
            "params": m.get("params"), "objective": m.get("objective"), "score": m.get("score"),
            "depth_penalty": m.get("depth_penalty"), "rho": m.get("rho"),
            "layers": m.get("layers"), "status": c.get("status"), "solver": c.get("solver"),
            "bound": c.get("bound"), "gap": c.get("gap"), "time_s": c.get("time_s"),
            "verified": v.get("match") if v else None, "architecture": (rec.get("architecture") or {}).get("blocks")}


Latency = tuple[str, dict[str, float]]  # (what the latency model was measured with, predicted ms by model name)


def predicted_latency(out: Path, records: Sequence[dict[str, Any]]) -> Latency | None:
    """Each record's latency predicted by the latency model in ``out`` (:data:`LATENCY_FILE`); ``None`` without
    one."""
    from .. import latency as L
    from ..space.arch import Architecture

    path = Path(out) / LATENCY_FILE
    if not path.is_file():
        return None
    model = L.load(path)
    return model.describe(), {r["name"]: L.predict_ms(model, Architecture.from_dict(r["architecture"]))
                              for r in records if r.get("architecture")}


def readme(records: Sequence[dict[str, Any]], suites: Sequence[str], command: str, figure: bool,
           latency: Latency | None = None) -> str:
    """``README.md``: how the zoo was made, what its files hold, the picture, a table per suite (with the
    predicted latency, given ``latency``)."""
    rows = [summary_row(r) for r in records]
    n_ok = sum(r["objective"] is not None for r in rows)
    n_ver = sum(bool(r["verified"]) for r in rows)
    solvers = sorted({str(r["solver"]) for r in rows})
    limits = sorted({(r.get("certificate") or {}).get("time_limit") for r in records} - {None})
    lines = [
        "# Model zoo", "",
        f"{len(rows)} design problems ({', '.join(suites)}), {n_ok} designed, {n_ver} verified. Generated by",
        "", "```", command, "```", "",
        f"(solver {', '.join(solvers)}; time limit {', '.join(f'{t:g}' for t in limits)} s per model). Do not edit "
        "by hand: rerun the command (finished models are kept; delete a record to redo it).", "",
        "Each `<suite>/<problem>.json` holds the design problem (budgets), the architecture, its metrics, the "
        "solver's certificate (status, proven bound and gap: `null` means no optimality proof) and the "
        "verification (MACs and params counted on the built torch module against the analytic counts). Build "
        "one with `deepmad_pyomo.nn.models.create_model(name)` or `deepmad build NAME --verify`.", "",
        "MACs: multiply-accumulates of conv and linear layers (what papers call FLOPs; 1 MAC = 2 FLOPs). Params: "
        "every learnable parameter incl. BN affine and the classifier. Objective: the entropy objective, paper "
        "form: score (sum_j alpha_j H_j) minus the depth penalty 10 exp(Var L). rho: effectiveness L / w_bar (bound "
        "0.3 for bottleneck, 0.5 for inverted-residual families). Time: wall seconds of the solve (all attempts: a "
        "problem with no design in the time limit is tried again with twice the time).", ""]
    if latency:
        lines += [f"Latency: predicted (not measured) by the latency model `{LATENCY_FILE}` in this folder, batch 1, "
                  f"from `deepmad latency profile --out {LATENCY_FILE}` on one machine: {latency[0].split(' [')[0]}. "
                  "On other hardware, profile it and predict with `deepmad latency predict MODEL.json NAME`.", ""]
    if figure:
        lines += ["![objective against MACs and params](zoo.png)", "", f"*{CAPTION} Hollow: not proven optimal "
                  "(stopped at the time limit with the proven gap in the table).*", ""]
    if figure and LADDER in suites and any(r.get("suite") == LADDER and r.get("metrics") for r in records):
        lines += [f"The `{LADDER}` suite alone: each family certified at RegNet's twelve MAC budgets (0.2 G to 32 G) "
                  "at 224x224, its front, with the same references:", "",
                  "![the ladder's three fronts](ladder.png)", ""]
    for suite in suites:
        sel = [r for r in rows if r["suite"] == suite]
        if sel:
            lines += _suite_section(suite, sel, [x for x in records if x["suite"] == suite],
                                    latency[1] if latency else None)
    return "\n".join(lines)


def _table_line(r: dict[str, Any], latency: dict[str, float] | None = None) -> str:
    ver = {True: "yes", False: "MISMATCH", None: "-"}[r["verified"]]
    fb = None if r["flops_budget"] is None else r["flops_budget"] / 1e9
    pb = None if r["params_budget"] is None else r["params_budget"] / 1e6
    return (f"| `{r['name']}` | {r['family']} | {r['resolution']} | {_fmt(fb, '.2f')} "
            f"| {_fmt(None if r['macs'] is None else r['macs'] / 1e9, '.3f')} | {_fmt(pb, '.2f')} "
            f"| {_fmt(None if r['params'] is None else r['params'] / 1e6, '.2f')} | {_fmt(r['objective'], ',.1f')} "
            f"| {_fmt(r['score'], ',.1f')} | {_fmt(r['depth_penalty'], ',.1f')} "
            f"| {_fmt(r['rho'], '.3f')} | {_fmt(r['layers'], 'd')} | {r['status']} | {_fmt(r['bound'], ',.1f')} "
            f"| {_fmt(r['time_s'], '.1f')} | {ver} |"
            + ("" if latency is None else f" {_fmt(latency.get(r['name']), '.1f')} |"))


def _suite_section(suite: str, rows: Sequence[dict[str, Any]], records: Sequence[dict[str, Any]],
                   latency: dict[str, float] | None = None) -> list[str]:
    """A suite's table of models (with their predicted latency, given) and (folded) their architectures."""
    from ..space.arch import Architecture

    lines = [f"## {suite}", "",
             "| model | family | res | MACs budget (G) | MACs (G) | params budget (M) | params (M) | objective "
             "| score | penalty | rho | layers | status | bound | time (s) | verified |"
             + ("" if latency is None else " latency (ms) |"),
             "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|---:|---:|---|"
             + ("" if latency is None else "---:|")]
    lines += [_table_line(r, latency) for r in rows]
    lines += ["", "<details><summary>architectures</summary>", ""]
    for rec in (x for x in records if x.get("architecture")):
        lines.append(f"- `{rec['name']}`: `{Architecture.from_dict(rec['architecture']).describe()}`")
    return lines + ["", "</details>", ""]


def plot_records(records: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    return [{"name": r["name"], "family": r["family"], "resolution": r["resolution"], "macs": r["metrics"]["macs"],
             "params": r["metrics"]["params"], "objective": r["metrics"]["objective"], "score": r["metrics"]["score"],
             "proven": (r.get("certificate") or {}).get("status") == Status.OPTIMAL.value}
            for r in records if r.get("metrics")]


def write_outputs(out: Path, records: Sequence[dict[str, Any]], suites: Sequence[str], command: str,
                  figure: bool = True) -> list[Path]:
    """``README.md`` and (``figure``) ``zoo.png``/``zoo.svg`` under ``out``."""
    files: list[Path] = []
    pts = plot_records(records)
    figure = figure and bool(pts)
    if figure:
        from . import plots

        imagenet = any(p["resolution"] >= 160 for p in pts)
        refs = references() if imagenet else []
        files += plots.zoo_plot(pts, refs, out / "zoo", caption="")
        ladder = plot_records([r for r in records if r.get("suite") == LADDER])
        if ladder and LADDER in suites:
            files += plots.zoo_plot(ladder, refs, out / LADDER, caption="", title="The ladder (certified fronts)")
    atomic_write_text(out / "README.md", readme(records, suites, command, figure, predicted_latency(out, records)))
    return [out / "README.md"] + files


__all__ = ["CAPTION", "LATENCY_FILE", "predicted_latency", "references", "readme", "resnet_architecture", "summary_row", "write_outputs"]
