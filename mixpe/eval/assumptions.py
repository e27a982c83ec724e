"""Ranges and sensitivity of an evaluation's ratios to the hardware files' assumptions.

A hardware file declares its decisive assumptions with a low and a high alternative
(`[assumptions.<name>]`, `mixpe.hw.ranges`). For every assumption declared by any evaluated
design, every design is evaluated again at that assumption's low side and at its high side (one
assumption at a time, all designs together: a design that does not declare it keeps its nominal
hardware). Each side is an ordinary evaluation with the same design labels, so every ratio table
of the nominal evaluation exists at every side; the shared result cache (`runner.evaluate`,
keyed by the hardware's figures) runs only the tasks whose hardware changed.

Each design-vs-baseline geomean ratio is then reported as `nominal [low, high]`, the envelope over
the nominal case and every assumption's two sides, and per assumption as its low-side and
high-side values, ordered by how far the assumption moves the ratio (largest |ln(side/nominal)|
first).
"""

from __future__ import annotations

import dataclasses
import math
import os
from dataclasses import dataclass

from mixpe.eval.files import write_text
from mixpe.eval.metrics import ratio_table
from mixpe.eval.runner import Design, Evaluation, evaluate, hw_digest
from mixpe.eval.workload import Preset, Workload

METRICS = {"speedup": "time_us", "energy_reduction": "energy_pj"}


def _hw_ranges():
    from mixpe.hw import ranges  # the hardware layer's assumption variants

    return ranges


@dataclass
class Ranges:
    """The assumptions (name -> mixpe.hw.ranges.Assumption) and the evaluation at each side."""

    assumptions: dict
    sides: dict[tuple[str, str], Evaluation]
    variants: list[str]  # hardware files written for the sides

    @property
    def empty(self) -> bool:
        return not self.assumptions


def declared(designs: list[Design]) -> dict:
    """Every assumption any of `designs` declares (first declaration's text wins)."""
    R = _hw_ranges()
    out: dict = {}
    for d in designs:
        for a in R.assumptions(d.hw):
            out.setdefault(a.name, a)
    return dict(sorted(out.items()))


def side_designs(designs: list[Design], assumption: str, side: str, out: str | None) -> tuple[list[Design], list[str]]:
    """`designs` at one side of `assumption`: the ones it changes become variants whose TOML is
    written to `out/hw/<label>@<assumption>-<side>.toml` (sources say what each side replaced);
    the others are the nominal designs themselves."""
    from mixpe.eval.sweep import _safe, to_toml

    R = _hw_ranges()
    result, written = [], []
    for d in designs:
        text = to_toml(R.variant_table(d.hw, assumption, side))
        if hw_digest("variant", text) == hw_digest(d.hw, d.toml):
            result.append(d)
            continue
        path = f"{d.label}@{assumption}-{side}.toml"
        if out is not None:
            os.makedirs(os.path.join(out, "hw"), exist_ok=True)
            path = os.path.join(out, "hw", f"{_safe(d.label)}@{assumption}-{side}.toml")
            write_text(path, text)
            written.append(path)
        result.append(dataclasses.replace(d, hw=path, toml=text, base=d.base or d.label,
                                          note=f"{assumption}={side}"))
    return result, written


def evaluate_ranges(preset: Preset, models, designs: list[Design], workloads: list[Workload],
                    attention: bool, executor, out: str | None, cache: dict,
                    progress_factory=None) -> Ranges:
    """Every declared assumption's two sides, each one evaluation of all designs."""
    found = declared(designs)
    sides: dict[tuple[str, str], Evaluation] = {}
    written: list[str] = []
    R = _hw_ranges()
    for name in found:
        for side in R.SIDES:
            ds, files = side_designs(designs, name, side, out)
            written += files
            sides[(name, side)] = evaluate(preset, models, ds, workloads, attention, executor,
                                           progress_factory, cache=cache)
    return Ranges(found, sides, written)


def _ratios(ev: Evaluation, baselines: list[str]) -> dict[tuple[str, str, str, str], float]:
    """(workload, design, baseline, metric) -> geomean ratio."""
    out = {}
    for wl in ev.workloads:
        for b in baselines:
            for metric, field in METRICS.items():
                for d, row in ratio_table(ev, wl.name, b, field).items():
                    if d != b:
                        out[(wl.name, d, b, metric)] = row["geomean"]
    return out


def ratio_ranges(nominal: Evaluation, ranges: Ranges, baselines: list[str]) -> list[dict]:
    """One row per (workload, design, baseline, metric): nominal, the envelope [low, high] and
    the sensitivity list (per assumption: its low-side and high-side ratio, the assumption
    that moves the ratio most first)."""
    nom = _ratios(nominal, baselines)
    at = {key: _ratios(ev, baselines) for key, ev in ranges.sides.items()}
    rows = []
    for key, value in nom.items():
        sens = []
        for name in ranges.assumptions:
            lo, hi = at[(name, "low")].get(key, value), at[(name, "high")].get(key, value)
            swing = max(abs(math.log(lo / value)), abs(math.log(hi / value))) if value > 0 else 0.0
            sens.append({"assumption": name, "low": lo, "high": hi, "swing": swing})
        sens.sort(key=lambda s: -s["swing"])
        values = [value] + [x for s in sens for x in (s["low"], s["high"])]
        wl, d, b, metric = key
        rows.append({"workload": wl, "design": d, "baseline": b, "metric": metric, "nominal": value,
                     "low": min(values), "high": max(values), "sensitivity": sens})
    return rows


def csv_rows(rows: list[dict]) -> list[dict]:
    """ranges.csv: one row per (ratio, assumption), in sensitivity order (rank 1 moves it most)."""
    out = []
    for r in rows:
        base = {k: r[k] for k in ("workload", "design", "baseline", "metric", "nominal", "low", "high")}
        if not r["sensitivity"]:
            out.append(base | {"rank": "", "assumption": "", "assumption_low": "", "assumption_high": ""})
        for i, s in enumerate(r["sensitivity"], 1):
            out.append(base | {"rank": i, "assumption": s["assumption"],
                               "assumption_low": s["low"], "assumption_high": s["high"]})
    return out


def json_obj(ranges: Ranges, rows: list[dict]) -> dict:
    """models.json's "ranges": the assumptions and every ratio's nominal, envelope, sensitivity."""
    tree: dict = {}
    for r in rows:
        tree.setdefault(r["workload"], {}).setdefault(r["baseline"], {}).setdefault(r["metric"], {})[r["design"]] = {
            "nominal": r["nominal"], "low": r["low"], "high": r["high"], "sensitivity": r["sensitivity"]}
    return {"assumptions": [dataclasses.asdict(a) for a in ranges.assumptions.values()],
            "variants": ranges.variants, "ratios": tree,
            "note": "low/high: the envelope over the nominal case and each assumption's low and high side, "
                    "one assumption at a time (all designs at the same side)"}


def fmt(nominal: float, low: float, high: float) -> str:
    return f"{nominal:.2f}x [{low:.2f}, {high:.2f}]"


def index(rows: list[dict]) -> dict[tuple[str, str, str, str], dict]:
    return {(r["workload"], r["design"], r["baseline"], r["metric"]): r for r in rows}
