"""Writes an evaluation to a folder: CSV and JSON per layer and per model, a Markdown summary
with speedup / energy-reduction tables and geomeans we compute ourselves, and the plots.

Every file is written atomically (`mixpe.eval.files`), so an interrupted run never leaves a
half-written report next to a complete one.
"""

from __future__ import annotations

import os
from typing import Mapping, Sequence

from mixpe.eval import assumptions as A
from mixpe.eval.files import csv_bytes, md_table, write_json, write_text
from mixpe.eval.metrics import geomean, index_totals, ratio_table  # noqa: F401 (re-exported)
from mixpe.eval.runner import Evaluation

# the published results of a preset: model -> design -> (time, energy), as Preset.reference
PublishedTable = Mapping[str, Mapping[str, tuple[float, float]]]
# assumption ranges: (the side evaluations, assumptions.ratio_ranges rows)
RangeResult = tuple[A.Ranges, list[dict]]

GEOMEAN_NOTE = ("Geomeans are geometric means over models, exp(mean(ln x)). The MixPE authors' "
                "'Geomean' column is an arithmetic mean (docs/design.md §4), so do not compare it digit for digit.")


def meta(ev: Evaluation, command: str) -> dict:
    return {
        "command": command, "preset": ev.preset, "mode": ev.mode, "attention": ev.attention,
        "workloads": [vars(w) | {"name": w.name} for w in ev.workloads],
        "models": [m.key for m in ev.models],
        "designs": [{"label": d.label, "hardware": d.hw,
                     "base": d.base, "precision": vars(d.precision), "point": dict(d.point), "act": d.act}
                    for d in ev.designs],
        "distinct_compiled": ev.distinct, "gemm_occurrences": ev.occurrences,
        "layer_rows": ev.instances, "seconds": ev.seconds,
    }


def write_tables(ev: Evaluation, out: str, baselines: list[str], command: str,
                 ranges: RangeResult | None = None) -> dict[str, str]:
    """CSV/JSON files; returns {kind: path}."""
    m = meta(ev, command)
    paths = {k: os.path.join(out, f) for k, f in (
        ("layers_csv", "layers.csv"), ("layers_json", "layers.json"),
        ("models_csv", "models.csv"), ("models_json", "models.json"))}
    write_text(paths["layers_csv"], csv_bytes(ev.layers))
    write_json(paths["layers_json"], {"meta": m, "rows": ev.layers})
    write_text(paths["models_csv"], csv_bytes(ev.totals))
    ratios = {wl.name: {b: {"speedup": ratio_table(ev, wl.name, b, "time_us"),
                            "energy_reduction": ratio_table(ev, wl.name, b, "energy_pj")}
                        for b in baselines} for wl in ev.workloads}
    doc = {"meta": m, "rows": ev.totals, "ratios": ratios, "notes": ev.notes}
    if ranges is not None:
        doc["ranges"] = A.json_obj(*ranges)
        paths["ranges_csv"] = os.path.join(out, "ranges.csv")
        write_text(paths["ranges_csv"], csv_bytes(A.csv_rows(ranges[1])))
    write_json(paths["models_json"], doc)
    return paths


# ------------------------------------------------------------------------------- markdown


def _fmt_time(us: float) -> str:
    return f"{us / 1e3:,.2f} ms" if us >= 1e3 else f"{us:,.1f} us"


def _fmt_energy(pj: float) -> str:
    for unit, scale in (("J", 1e12), ("mJ", 1e9), ("uJ", 1e6)):
        if pj >= scale:
            return f"{pj / scale:,.2f} {unit}"
    return f"{pj / 1e3:,.2f} nJ"


def _ratio_md(ev: Evaluation, workload: str, baseline: str, metric: str) -> list[str]:
    table = ratio_table(ev, workload, baseline, metric)
    designs = [d.label for d in ev.designs if d.label != baseline and d.label in table]
    rows = [[m.name] + [f"{table[d][m.key]:.2f}x" if m.key in table[d] else "-" for d in designs]
            for m in ev.models if any(m.key in table[d] for d in designs)]
    rows.append(["**geomean**"] + [f"**{table[d]['geomean']:.2f}x**" for d in designs])
    return md_table(["model", *designs], rows)


def _geomean_md(ev: Evaluation, workload: str, baselines: list[str], metric: str,
                ranged: dict | None = None) -> list[str]:
    tables = {b: ratio_table(ev, workload, b, metric) for b in baselines}
    name = "speedup" if metric == "time_us" else "energy_reduction"

    def cell(d: str, b: str) -> str:
        if d == b or d not in tables[b]:
            return "-"
        r = (ranged or {}).get((workload, d, b, name))
        return A.fmt(r["nominal"], r["low"], r["high"]) if r else f"{tables[b][d]['geomean']:.2f}x"

    rows = [[d.label] + [cell(d.label, b) for b in baselines] for d in ev.designs]
    return md_table(["design \\ vs", *baselines], rows)


def _ranges_md(ev: Evaluation, ranges: RangeResult, baselines: list[str],
               pairs: Sequence[tuple[str, str]] | None = None) -> list[str]:
    """The assumptions, and per workload the sensitivity of each MixPE-style (non-baseline)
    design's ratios: every assumption's low-side / high-side value, the one moving it most first."""
    rng, rows = ranges
    lines = ["## Assumption ranges", "",
             "Every design-vs-baseline geomean above is `nominal [low, high]`: the envelope over the nominal "
             "hardware and each declared assumption's low and high side, one assumption at a time (all designs "
             "at the same side; a design that does not declare it keeps its nominal figures). The variant "
             "hardware files are in `hw/` (each overridden figure's source names the side and what it replaced); "
             "every ratio's values are in `ranges.csv` and `models.json` (`ranges`). "
             f"{len(rng.sides)} side evaluations ran {sum(e.compiled for e in rng.sides.values())} further "
             "compile+simulate tasks (tasks whose hardware a side does not change are reused).", "",
             *md_table(["assumption", "what", "low", "high"],
                       [[a.name, a.what, a.low_source, a.high_source] for a in rng.assumptions.values()])]
    if rng.empty:
        return lines[:2] + ["No evaluated design declares an assumption (`[assumptions.*]` in its hardware "
                            "file), so every ratio is its nominal value.", ""]
    shown = [d.label for d in ev.designs if d.label not in baselines] or [d.label for d in ev.designs]
    n = len(rng.assumptions)
    for wl in ev.workloads:
        sel = [r for r in rows if r["workload"] == wl.name and (
            (r["design"], r["baseline"]) in pairs if pairs is not None else r["design"] in shown)]
        if not sel:
            continue
        lines += [f"### {wl.name}: sensitivity (assumption: low-side / high-side ratio, largest effect first)", ""]
        lines += md_table(["ratio", "nominal [low, high]", *(f"#{i}" for i in range(1, n + 1))], [
            [f"{r['design']} vs {r['baseline']} {r['metric'].replace('_', ' ')}",
             A.fmt(r["nominal"], r["low"], r["high"])]
            + [f"{s['assumption']}: {s['low']:.2f} / {s['high']:.2f}" for s in r["sensitivity"]]
            for r in sel])
    return lines


def summary_md(ev: Evaluation, baselines: list[str], command: str, plots: dict[str, str],
               reference: PublishedTable | None = None, reference_baseline: str | None = None,
               extra: Sequence[str] = (), ranges: RangeResult | None = None) -> str:
    ranged = A.index(ranges[1]) if ranges is not None else None
    wl_desc = ", ".join(f"`{w.name}`" + (f" (KV context {w.context})" if w.phase == "decode" else "")
                        for w in ev.workloads)
    lines = [
        f"# mixpe-eval: {ev.preset} preset", "",
        f"Command: `{command}`", "",
        f"Cost-model mode `{ev.mode}`; workloads {wl_desc}; attention matmuls "
        f"{'included (QK^T, PV; shown separately below)' if ev.attention else 'not included (--attention adds them)'}.",
        "",
        f"Every GEMM went through the compiler (`linalg_emit` -> `mixpe-pipeline` -> `-t mixpe-sim` -> "
        f"`run_program`). Compiled **{ev.distinct} distinct layers** (design, shape, precision) for "
        f"**{ev.occurrences:,} GEMM occurrences** ({ev.instances} layer rows); each repeated layer was "
        f"compiled once and counted once per occurrence. Run time {ev.seconds:.1f} s.", "",
        "## Designs", "",
        *md_table(["design", "hardware", "linear precision", "attention operands"],
                [[d.label, f"`{d.hw}`", d.precision.label,
                  f"{d.precision.act} x {d.precision.act}"] for d in ev.designs]),
    ]
    for wl in ev.workloads:
        lines += [f"## {wl.name}", "",
                  "Geomean over models of the speedup (time) of each design over each baseline"
                  + (" (nominal [low, high] over the assumption ranges, see below)" if ranged else "") + ":", "",
                  *_geomean_md(ev, wl.name, baselines, "time_us", ranged),
                  "Geomean over models of the energy reduction:", "",
                  *_geomean_md(ev, wl.name, baselines, "energy_pj", ranged)]
        idx = index_totals(ev)
        lines += [f"### {wl.name}: time / energy per forward pass", ""]
        rows = []
        for m in ev.models:
            cells = [idx.get((wl.name, m.key, d.label)) for d in ev.designs]
            if any(cells):
                rows.append([m.name] + [f"{_fmt_time(c['time_us'])} / {_fmt_energy(c['energy_pj'])}" if c else "-"
                                        for c in cells])
        lines += md_table(["model", *(d.label for d in ev.designs)], rows)
        if ev.attention:
            lines += [f"### {wl.name}: attention share of time (QK^T + PV)", ""]
            lines += md_table(["model", *(d.label for d in ev.designs)], [
                [m.name] + [f"{100 * c['attention_time_us'] / c['time_us']:.1f}%" if c and c["time_us"] else "-"
                            for c in (idx.get((wl.name, m.key, d.label)) for d in ev.designs)]
                for m in ev.models if any(idx.get((wl.name, m.key, d.label)) for d in ev.designs)])
        for b in baselines:
            lines += [f"### {wl.name}: speedup vs {b}", "", *_ratio_md(ev, wl.name, b, "time_us"),
                      f"### {wl.name}: energy reduction vs {b}", "", *_ratio_md(ev, wl.name, b, "energy_pj")]
    if reference and reference_baseline:
        lines += _reference_md(ev, reference, reference_baseline)
    if ranges is not None:
        lines += _ranges_md(ev, ranges, baselines)
    lines += [*extra]
    if plots:
        lines += ["## Plots", ""] + [f"![{k}]({os.path.basename(p)})" for k, p in plots.items()] + [""]
    lines += ["## Notes", "", f"- {GEOMEAN_NOTE}"]
    lines += [f"- {n}" for n in ev.notes]
    unraised = sorted({(r["design"], r["layer"]) for r in ev.layers if r["quantized"] and not r["raised"]})
    lines += [f"- warning: {d} {layer}: the quantized matmul was not raised; it was costed as "
              f"dequantize + plain matmul" for d, layer in unraised]
    return "\n".join(lines) + "\n"


def _reference_md(ev: Evaluation, reference: PublishedTable, base: str) -> list[str]:
    """Ours next to the published table, both normalised to the same baseline."""
    idx = index_totals(ev)
    wl = ev.workloads[0].name
    rows = []
    for m in ev.models:
        for d in ev.designs:
            pub = reference.get(m.key, {}).get(d.base or d.label)
            ours, b = idx.get((wl, m.key, d.label)), idx.get((wl, m.key, base))
            if pub is None or not ours or not b:
                continue
            t, e = ours["time_us"] / b["time_us"], ours["energy_pj"] / b["energy_pj"]
            rows.append([m.name, d.label, f"{t:.2f} / {e:.2f}", f"{pub[0]:.2f} / {pub[1]:.2f}"])
    return [f"## Published results (normalised to {base}, lower is better)", "",
            *md_table(["model", "design", "ours time / energy", "published time / energy"], rows)]


def write_report(ev: Evaluation, out: str, baselines: list[str], command: str, *, plots: bool = True,
                 reference: PublishedTable | None = None, reference_baseline: str | None = None,
                 ranges: RangeResult | None = None, extra: Sequence[str] = ()) -> dict[str, str]:
    paths = write_tables(ev, out, baselines, command, ranges)
    made = {}
    if plots:
        from mixpe.eval import plots as P  # matplotlib (~0.4 s): only when plots are made

        made = P.write_plots(ev, out, baselines)
        paths.update(made)
    paths["summary"] = os.path.join(out, "summary.md")
    write_text(paths["summary"], summary_md(ev, baselines, command, made, reference, reference_baseline,
                                            extra, ranges))
    return paths
