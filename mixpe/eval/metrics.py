"""Ratios of an evaluation: per-model speedup / energy reduction against a baseline and their
geometric mean (computed by us, not taken from the authors' tables)."""

from __future__ import annotations

import math
from typing import Iterable

from mixpe.eval.runner import Evaluation


def geomean(values: Iterable[float]) -> float:
    vals = [float(v) for v in values]
    if not vals:
        return float("nan")
    if any(v <= 0 for v in vals):
        raise ValueError(f"geomean of non-positive values {vals}")
    return math.exp(math.fsum(math.log(v) for v in vals) / len(vals))


def index_totals(ev: Evaluation) -> dict[tuple[str, str, str], dict]:
    return {(t["workload"], t["model"], t["design"]): t for t in ev.totals}


def ratio_table(ev: Evaluation, workload: str, baseline: str, metric: str) -> dict[str, dict[str, float]]:
    """{design: {model: baseline metric / design metric, ..., 'geomean': ...}} (>1: better)."""
    idx = index_totals(ev)
    out: dict[str, dict[str, float]] = {}
    for d in ev.designs:
        row = {}
        for m in ev.models:
            base, ours = idx.get((workload, m.key, baseline)), idx.get((workload, m.key, d.label))
            if base and ours and ours[metric] > 0:
                row[m.key] = base[metric] / ours[metric]
        if row:
            row["geomean"] = geomean(row.values())
            out[d.label] = row
    return out
