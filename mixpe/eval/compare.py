"""`mixpe-eval --compare-paper`: from the MixPE authors' result to the faithful model, step by step.

Every step is an evaluation of the same models and workload (the authors' four models, their
layer list, 64 rows: `--preset paper`'s) on MixPE-W4A8, ANT (when the `ant` preset exists),
BitFusion, INT8, MixPE-W4A16 and FP16. ANT keeps the authors' per-layer mix of 4- and 8-bit
tags throughout (that mix is ANT's precision; the `ant` preset costs its 8-bit layers at 8
bits too). Step 1 is `--preset paper` itself (the `paper-*` presets, mode "paper", the
authors' precision tags): its numbers are exactly `mixpe-eval --preset paper`'s. Each further
step changes one thing, cumulatively, either

* the hardware: figures of a design's file replaced by the faithful (default) preset's, written
  to `DIR/hw/compare-<n>-<step>_<design>.toml`, each replaced figure's source saying which step
  replaced it, with what, and what it was; or
* the precision the layers are emitted at (the authors' per-layer tags -> the design's true
  `[workload]`); or
* the cost-model mode (paper -> default),

and the last step is the default presets themselves in default mode (the faithful model), whose
remaining differences from the step before are listed field by field. Every step's ratios
(geomean over models of baseline / design time and energy) are measured through the compiler
like any mixpe-eval number; the faithful ones also as nominal [low, high] over the hardware
files' assumption ranges (`mixpe.eval.assumptions`).
"""

from __future__ import annotations

import dataclasses
import os
from dataclasses import dataclass, field

from mixpe.eval import assumptions as A
from mixpe.eval import paper as P
from mixpe.eval.files import csv_bytes, md_table, write_json, write_text
from mixpe.eval.metrics import ratio_table
from mixpe.eval.models import Model
from mixpe.eval.runner import Design, Evaluation, evaluate, precision_of
from mixpe.eval.workload import LayerSpec, Precision, Preset, Workload
from mixpe.hw import list_presets, load_hardware, read_table

# the authors' columns that have a faithful (default) preset, and that preset (ANT when the
# `ant` preset exists)
_HAS_ANT = "ant" in list_presets()
FAITHFUL = {"MixPE-W4A8": "mixpe-w4a8", **({"ANT": "ant"} if _HAS_ANT else {}), "BitFusion": "bitfusion",
            "INT8": "int8", "MixPE-W4A16": "mixpe-w4a16", "FP16": "fp16"}
COLUMNS = tuple(FAITHFUL)
BASELINES = tuple(c for c in ("INT8", "ANT", "BitFusion", "FP16") if c in FAITHFUL)
# (design, baseline) pairs whose speedup and energy reduction the table follows
RATIOS = tuple((d, b) for d, b in (("MixPE-W4A8", "INT8"), ("MixPE-W4A8", "ANT"), ("MixPE-W4A8", "BitFusion"),
                                   ("MixPE-W4A8", "FP16"), ("MixPE-W4A16", "FP16")) if b in FAITHFUL)
# designs whose layers keep the authors' per-layer tags to the end (ANT's mix of 4- and 8-bit
# layers is its true precision; only the tags' dequantisation layer follows workload.group_size)
TAGGED = ("ANT",)
WORKLOAD = Workload("batch", P.PAPER_BATCH)

_PE_MODEL = ("pe.type", "pe.weight_bits", "pe.act_bits", "pe.act_format", "pe.pack_pmax", "pe.pack_pmin",
             "pe.op_energy_pj", "pe.dynamic_uw", "pe.leakage_uw", "pe.area_um2")
_MEMORY_ENERGY = ("dram.read_pj_per_bit", "dram.write_pj_per_bit", "dram.background_pj_per_cycle",
                  *(f"sram.{b}_{rw}_pj_per_bit" for b in ("weight", "act", "out") for rw in ("read", "write")))
_IGNORED = ("name", "description", "base", "paper.", "assumptions.")  # not part of a step's change


@dataclass(frozen=True)
class Step:
    key: str
    title: str  # the change, precisely
    why: str  # the mechanism by which it moves the ratios
    mode: str = "paper"
    copy: dict[str, tuple[str, ...]] = field(default_factory=dict)  # column -> figures from its default preset
    true_precision: tuple[str, ...] = ()  # columns whose linears switch from the tags to [workload]
    faithful: bool = False  # the default presets themselves


STEPS: tuple[Step, ...] = (
    Step("paper", "the MixPE authors' model: `--preset paper` (paper-* presets, mode paper, their precision tags)",
         "Their simulator as published: the reproduction of their table (docs/paper-reproduction.md)."),
    Step("act8", "MixPE-W4A8 activations at their true 8 bits (`workload.act_bits` 4 -> 8; linears emitted w4a8, "
                 "costed 4b weights x 8b activations), not the authors' 4-bit tag",
         "The 4-bit tag packs two activations per PE input (pf_a = 2), halving row folds and activation bits.",
         copy={"MixPE-W4A8": ("workload.act_bits", "workload.out_bits")}, true_precision=("MixPE-W4A8",)),
    Step("w4a16", "MixPE-W4A16 at its true W4 x A16 (`workload.weight_bits` 8 -> 4, `act_bits` 8 -> 16), "
                  "not the authors' 8b x 8b tag",
         "The 8x8 tag packs two activations per 16-bit PE input (pf_a = 2); fp16 activations cannot be packed.",
         copy={"MixPE-W4A16": ("workload.weight_bits", "workload.act_bits", "workload.out_bits")},
         true_precision=("MixPE-W4A16",)),
    Step("bitfusion-w4a8", "BitFusion at W4A8 on every linear (its default preset's workload: `workload.weight_bits` "
                           "8 -> 4), not the authors' 8-bit tags (4-bit O projection in half the blocks)",
         "BitFusion fuses 4-bit weights two per 8-bit unit (pf_w = 2), which the authors' 8-bit tags leave unused.",
         copy={"BitFusion": ("workload.weight_bits", "workload.act_bits", "workload.out_bits")},
         true_precision=("BitFusion",)),
    Step("no-dequant-layer", "INT8 (per-channel W8A8), ANT (per-channel) and FP16 (unquantised) without the authors' "
                             "dequantisation layer (`workload.group_size` 128 -> 0: no M x K x N/8 extra FC)",
         "The authors add +1/8 of every layer's MACs as a dequantisation FC to the baselines, FP16 included, "
         "which needs no dequantisation.",
         copy={"INT8": ("workload.weight_bits", "workload.group_size", "workload.out_bits"),
               "ANT": ("workload.group_size", "workload.out_bits"),
               "FP16": ("workload.weight_bits", "workload.group_size", "workload.out_bits")},
         true_precision=("INT8", "FP16")),
    Step("iso-area", "PE counts from component area (iso-area with the 32x32 INT8 array: `array.rows`, "
                     "`array.cols` of each default preset) instead of the authors' arrays (MixPE-W4A8 64x64, "
                     "BitFusion 32x40, FP16 32x28, the others 32x32)",
         "The authors give MixPE-W4A8 4x the PEs of INT8 and FP16 as many as INT8; at equal PE area a cheap "
         "shift-add PE buys more PEs and an FP16 MAC far fewer.",
         copy={c: ("array.rows", "array.cols") for c in COLUMNS}),
    Step("pe-model", "the default presets' PE model: operand packing only where the PE fuses operands "
                     "(`pe.pack_pmax`/`pack_pmin` removed from MixPE-W4A8, INT8, MixPE-W4A16 and FP16, BitFusion's "
                     "set to its BitBricks), and PE energy and leakage from component counts (`pe.op_energy_pj`, "
                     "`pe.leakage_uw`, `pe.area_um2`; `pe.dynamic_uw` of the authors' synthesis removed)",
         "The authors model MixPE's PEs as fusible 8/4-bit (16/8-bit) PEs that pack two 4-bit (8-bit) weights "
         "per cycle, on top of the PE count; the component-derived shift-add PE, whose area already set its "
         "count, takes one weight per cycle. And the authors charge every 8/4-bit PE the same synthesised power.",
         copy={c: _PE_MODEL for c in COLUMNS}),
    Step("memory-energy", "memory energy of the default presets: DRAM per bit (`dram.read/write_pj_per_bit`, the "
                          "authors' 0.63/0.77 pJ/bit), the DRAM background (`dram.background_pj_per_cycle`, the "
                          "authors' 0.97 nJ/cycle) and the SRAM per-bit energies (`sram.*_pj_per_bit`, the "
                          "authors' CACTI small-bank figures) replaced by the default presets' figures",
         "Cheap DRAM and a per-cycle background charge favour whichever design finishes first and hide "
         "traffic differences (weights at 4 vs 8 vs 16 bits).",
         copy={c: _MEMORY_ENERGY for c in COLUMNS}),
    Step("default-model", "the default cost model (mode paper -> default) on the same hardware: per-fold fill/drain, "
                          "per-step memory stalls, dequantisation on the vector unit instead of an extra FC, "
                          "bit-serial passes for weights wider than the PE's weight input, and tiles chosen by "
                          "mixpe-tile for the default objective (the two cannot be separated through the compiler: "
                          "paper mode ignores the compiler's tile)",
         "Fill/drain and stalls penalise small per-fold work; vector-unit dequantisation replaces the extra FC; "
         "8-bit weights (the unquantised ViT patch embedding) take two passes on a 4-bit weight input.",
         mode="default"),
    Step("faithful", "the default presets themselves (mode default): the faithful model; the remaining "
                     "differences of each file are listed below",
         "Whatever figures of the default presets' files the earlier steps did not copy (listed field by "
         "field).",
         mode="default", faithful=True),
)


@dataclass
class StepResult:
    index: int
    step: Step
    designs: list[Design]
    evaluation: Evaluation
    changes: list[dict]  # {design, field, was, now}
    ratios: dict[str, float]  # "<design> vs <baseline> speedup|energy_reduction" -> geomean
    files: list[str]


def ratio_name(design: str, baseline: str, metric: str) -> str:
    return f"{design} vs {baseline} {metric.replace('_', ' ')}"


def _get(table: dict, dotted: str):
    node = table
    for part in dotted.split("."):
        if not isinstance(node, dict) or part not in node:
            return None
        node = node[part]
    return node


def _set(table: dict, dotted: str, value) -> None:
    *parents, leaf = dotted.split(".")
    node = table
    for part in parents:
        node = node.setdefault(part, {})
    if value is None:
        node.pop(leaf, None)
    else:
        node[leaf] = value


def _value(node):
    return node.get("value") if isinstance(node, dict) and "value" in node else node


def _flat(table: dict, prefix: str = "") -> dict[str, object]:
    out: dict[str, object] = {}
    for k, v in table.items():
        path = f"{prefix}{k}"
        if isinstance(v, dict) and "value" not in v:
            out.update(_flat(v, path + "."))
        else:
            out[path] = _value(v)
    return out


def _faithful_figure(column: str, dotted: str):
    """The default preset's figure {value, source} (array size: as the loader derives it)."""
    if dotted in ("array.rows", "array.cols"):
        hw = load_hardware(FAITHFUL[column])
        value = hw.array.rows if dotted == "array.rows" else hw.array.cols
        return {"value": value, "source": hw.sources.get(dotted, f"{FAITHFUL[column]} (derived by load_hardware)")}
    return _get(read_table(FAITHFUL[column]), dotted)


def _apply(table: dict, column: str, fields: tuple[str, ...], n: int, step: Step) -> list[dict]:
    changes = []
    for dotted in fields:
        old, new = _get(table, dotted), _faithful_figure(column, dotted)
        if _value(old) == _value(new):
            continue
        if isinstance(new, dict):  # a sourced figure (plain choices such as pe.type are copied as they are)
            was = f"was {_value(old)}: {old.get('source')}" if isinstance(old, dict) else "was not set"
            new = {"value": _value(new), "source": f"mixpe-eval --compare-paper step {n} ({step.key}): "
                                                   f"{FAITHFUL[column]}'s figure ({was}); {FAITHFUL[column]}: "
                                                   f"{new.get('source', '') if isinstance(new, dict) else ''}"}
        _set(table, dotted, new)
        changes.append({"design": column, "field": dotted, "was": _value(old), "now": _value(new)})
    return changes


def _diff(table: dict, column: str) -> list[dict]:
    """Field-by-field differences between a step table and the design's default preset."""
    a, b = _flat(table), _flat(read_table(FAITHFUL[column]))
    hw = load_hardware(FAITHFUL[column])
    b.setdefault("array.cols", hw.array.cols)
    b.setdefault("array.rows", hw.array.rows)
    keys = sorted(set(a) | set(b))
    return [{"design": column, "field": k, "was": a.get(k), "now": b.get(k)} for k in keys
            if a.get(k) != b.get(k) and not any(k == i or k.startswith(i) for i in _IGNORED if i.endswith("."))
            and k not in _IGNORED]


def _tag(lay: P.PaperLayer, group: int) -> Precision:
    """A layer at the authors' tag, as `--preset paper` emits it (paper_preset._precision), with
    the design's current group size for the tag's dequantisation layer."""
    g = group if lay.dequant else 0
    if lay.bits > 8:
        return Precision(8, "f16", g) if g else Precision(16, "f16", 0)
    return Precision(lay.bits, "i4" if lay.bits <= 4 else "i8", g)


def _layers_of(precise: dict[str, Precision | None], groups: dict[str, int]):
    """The authors' layer list; a column in `precise` has its linears at that precision
    (None: the authors' tags, their dequantisation layer following `groups`)."""

    def layers_of(model: Model, wl: Workload, attention: bool, design: str) -> list[LayerSpec]:
        out = []
        for lay in P.paper_workload(model.key, design):
            p = precise.get(design)
            if p is None or lay.conv:  # the patch embedding keeps its tag: unquantised, at the activation width
                p = _tag(lay, groups[design])
            out.append(LayerSpec(lay.name, "linear", lay.M, lay.K, lay.N, lay.count, p))
        return out

    return layers_of


def run_compare(models: list[Model], executor, out: str, *, ranges: bool = True, progress_factory=None,
                cache: dict | None = None, steps: int | None = None) -> tuple[list[StepResult], tuple | None]:
    """Every step's evaluation (sharing one result cache), and the faithful step's ranges;
    `steps` stops after that many steps (tests)."""
    from mixpe.eval.sweep import _safe, to_toml

    cache = {} if cache is None else cache
    tables = {c: read_table(P.PAPER_DESIGNS[c]) for c in COLUMNS}
    current = {c: Design(label=c, hw=P.PAPER_DESIGNS[c], precision=Precision(0, "i8", 0)) for c in COLUMNS}
    precise: dict[str, Precision | None] = {c: None for c in COLUMNS}
    results: list[StepResult] = []
    rng = None
    for n, step in enumerate(STEPS[:steps], 1):
        changes: list[dict] = []
        files: list[str] = []
        if step.faithful:
            for c in COLUMNS:
                changes += _diff(tables[c], c)
            designs = [Design(label=c, hw=FAITHFUL[c], precision=precision_of(load_hardware(FAITHFUL[c])))
                       for c in COLUMNS]
            precise = {c: None if c in TAGGED else d.precision for c, d in zip(COLUMNS, designs)}
        else:
            for c in COLUMNS:
                got = _apply(tables[c], c, step.copy.get(c, ()), n, step)
                changes += got
                if got:
                    data = dict(tables[c], name=f"compare-{n}-{step.key}_{FAITHFUL[c]}",
                                description=f"{tables[c].get('description', c)}; mixpe-eval --compare-paper step "
                                            f"{n} ({step.key})")
                    text = to_toml(data)
                    path = os.path.join(out, "hw", _safe(f"compare-{n}-{step.key}_{P.PAPER_DESIGNS[c]}") + ".toml")
                    os.makedirs(os.path.dirname(path), exist_ok=True)
                    write_text(path, text)
                    files.append(path)
                    current[c] = dataclasses.replace(current[c], hw=path, toml=text)
                if c in step.true_precision:
                    p = precise[c] = precision_of(load_hardware(current[c].hw))
                    changes.append({"design": c, "field": "layer precision", "was": "the authors' tags",
                                    "now": p.label})
            designs = [dataclasses.replace(current[c], precision=precise[c] or Precision(0, "i8", 0), note=step.key)
                       for c in COLUMNS]
        groups = {c: load_hardware(d.hw).defaults.group_size for c, d in zip(COLUMNS, designs)}
        if step.mode != (results[-1].step.mode if results else "paper"):
            changes.append({"design": "all", "field": "mode", "was": results[-1].step.mode, "now": step.mode})
        preset = Preset(name=f"compare-{step.key}", designs=COLUMNS, baselines=BASELINES,
                        models=tuple(m.key for m in models), layers_of=_layers_of(dict(precise), groups),
                        mode=step.mode, workloads=(WORKLOAD,))
        ev = evaluate(preset, models, designs, [WORKLOAD], False, executor, progress_factory, cache=cache)
        ratios = {}
        for d, b in RATIOS:
            for metric, fld in A.METRICS.items():
                ratios[ratio_name(d, b, metric)] = ratio_table(ev, WORKLOAD.name, b, fld)[d]["geomean"]
        results.append(StepResult(n, step, designs, ev, changes, ratios, files))
        if step.faithful and ranges:
            r = A.evaluate_ranges(preset, models, designs, [WORKLOAD], False, executor, out, cache,
                                  progress_factory)
            rng = (r, A.ratio_ranges(ev, r, list(BASELINES)))
    return results, rng


def _fmt_changes(changes: list[dict], limit: int = 6) -> str:
    if not changes:
        return "-"
    parts = [f"{c['design']} `{c['field']}` {c['was']} -> {c['now']}" for c in changes[:limit]]
    if len(changes) > limit:
        parts.append(f"... ({len(changes) - limit} more, see compare_paper.json)")
    return "; ".join(parts)


def table_rows(results: list[StepResult], rng) -> list[dict]:
    """compare_paper.csv: one row per step, every ratio (faithful: with low/high)."""
    idx = A.index(rng[1]) if rng else {}
    rows = []
    for r in results:
        row = {"step": r.index, "key": r.step.key, "mode": r.step.mode, "change": r.step.title,
               "fields": _fmt_changes(r.changes, limit=10**6)}
        for d, b in RATIOS:
            for metric in A.METRICS:
                name = ratio_name(d, b, metric)
                row[name] = r.ratios[name]
                if r.step.faithful and idx:
                    x = idx.get((WORKLOAD.name, d, b, metric))
                    row[f"{name} low"], row[f"{name} high"] = (x["low"], x["high"]) if x else ("", "")
        rows.append(row)
    return rows


def _step_cells(r: StepResult, idx) -> list[tuple]:
    """(speedup, energy reduction, speedup range, energy range) per ratio of one step; the ranges
    only on the faithful step and only when the run evaluated the assumptions."""
    cells = []
    for d, b in RATIOS:
        sp, er = (r.ratios[ratio_name(d, b, m)] for m in A.METRICS)
        s, e = ((idx.get((WORKLOAD.name, d, b, m)) for m in A.METRICS) if r.step.faithful and idx
                else (None, None))
        cells.append((sp, er, s, e))
    return cells


def markdown(results: list[StepResult], rng, command: str) -> list[str]:
    idx = A.index(rng[1]) if rng else {}
    header = ["#", "step", *(f"{d} vs {b}" for d, b in RATIOS)]
    rows = []
    for r in results:
        cells = [f"{A.fmt(sp, s['low'], s['high']) if s else f'{sp:.2f}x'} / "
                 f"{A.fmt(er, e['low'], e['high']) if e else f'{er:.2f}x'}"
                 for sp, er, s, e in _step_cells(r, idx)]
        rows.append([str(r.index), f"**{r.step.key}**: {r.step.title}", *cells])
    ev = results[0].evaluation
    lines = ["## Paper vs faithful", "",
             f"Command: `{command}`", "",
             f"Models {', '.join(m.name for m in ev.models)}; workload `{WORKLOAD.name}` with the authors' layer "
             "list (QKV, O, FFN1, FFN2 with FFN = 4·d; ViT patch embedding as its im2col GEMM; no attention, no LM "
             "head) in every step. Cells: geomean over models of speedup / energy reduction (baseline / design, "
             ">1: the design is better). Step 1 is exactly `mixpe-eval --preset paper`; each later step adds "
             "one change to the one before" + ("; the faithful row is nominal [low, high] over the hardware "
                                               "files' assumption ranges." if idx else "."), "",
             *md_table(header, rows),
             "What each step changed (hardware files in `hw/compare-*.toml`; every replaced figure's source "
             "names the step, the new figure's origin and what it replaced):", ""]
    for r in results:
        lines.append(f"{r.index}. **{r.step.key}** ({r.step.mode} mode): {_fmt_changes(r.changes, limit=12)}. "
                     f"*Why it moves the ratios:* {r.step.why}")
    compiled = sum(r.evaluation.compiled for r in results)
    lines += ["", f"{len(results)} steps, {compiled} compile+simulate tasks in all (tasks whose hardware, "
                  "precision and mode a step leaves unchanged are reused).", ""]
    return lines


def write(results: list[StepResult], rng, out: str, command: str) -> dict[str, str]:
    rows = table_rows(results, rng)
    paths = {"compare_csv": os.path.join(out, "compare_paper.csv"),
             "compare_json": os.path.join(out, "compare_paper.json"),
             "summary": os.path.join(out, "summary.md")}
    write_text(paths["compare_csv"], csv_bytes(rows))
    doc = {"command": command, "workload": WORKLOAD.name, "ratios": [list(x) for x in RATIOS],
           "steps": [{"step": r.index, "key": r.step.key, "mode": r.step.mode, "change": r.step.title,
                      "why": r.step.why, "changes": r.changes, "hardware_files": r.files,
                      "designs": {d.label: {"hardware": d.hw, "precision": d.precision.label
                                            if d.precision.weight_bits else "the authors' tags"} for d in r.designs},
                      "ratios": r.ratios,
                      "per_model": {ratio_name(d, b, m): {k: v for k, v in ratio_table(
                          r.evaluation, WORKLOAD.name, b, f)[d].items()} for d, b in RATIOS
                                    for m, f in A.METRICS.items()},
                      "totals": r.evaluation.totals, "compiled": r.evaluation.compiled}
                     for r in results]}
    if rng:
        doc["faithful_ranges"] = A.json_obj(*rng)
        paths["ranges_csv"] = os.path.join(out, "ranges.csv")
        write_text(paths["ranges_csv"], csv_bytes(A.csv_rows(rng[1])))
    write_json(paths["compare_json"], doc)
    lines = ["# mixpe-eval --compare-paper", "", *markdown(results, rng, command)]
    if rng:
        lines += _ranges_section(results[-1].evaluation, rng)
    write_text(paths["summary"], "\n".join(lines) + "\n")
    return paths


def _ranges_section(ev: Evaluation, rng) -> list[str]:
    from mixpe.eval.report import _ranges_md

    return _ranges_md(ev, rng, list(BASELINES), pairs=RATIOS)


def printed(results: list[StepResult], rng) -> str:
    """The table as plain text for stdout."""
    idx = A.index(rng[1]) if rng else {}
    names = [f"{d} vs {b}" for d, b in RATIOS]
    lines = ["paper vs faithful: geomean speedup / energy reduction (batch-64, the authors' layers)",
             f"  {'step':<20}" + "".join(f"{n:>34}" for n in names)]
    for r in results:
        cells = [f"{sp:.2f}[{s['low']:.2f},{s['high']:.2f}]/{er:.2f}[{e['low']:.2f},{e['high']:.2f}]"
                 if s and e else f"{sp:.2f}x / {er:.2f}x" for sp, er, s, e in _step_cells(r, idx)]
        lines.append(f"  {f'{r.index}. {r.step.key}':<20}" + "".join(f"{c:>34}" for c in cells))
    return "\n".join(lines)
