"""Cost-model adapter and the simulator's reports (JSON dict and readable summary).

Costs come from mixpe.simulator.cost (estimate_gemm / estimate_vector / combine). Everything
here reads costs through their `to_dict()`, so the report does not depend on the cost classes'
attribute layout.
"""

from __future__ import annotations

from mixpe.hw.results import repeat
from mixpe.simulator import cost as cost_model


def provenance(hw) -> dict:
    """What produced a report: the mixpe version and a digest of every hardware figure (name,
    path and sources aside), so two reports of the same command can be told apart when the
    model or the hardware data changed between them."""
    import dataclasses
    import hashlib

    from mixpe import __version__
    from mixpe.hw.results import COST_MODEL_VERSION

    figures = repr(dataclasses.replace(hw, name="", description="", sources={}, path=""))
    return {"mixpe": __version__, "cost_model": COST_MODEL_VERSION,
            "hardware_sha256": hashlib.sha256(figures.encode()).hexdigest()}


def gemm_cost(hw, M: int, N: int, K: int, *, batch: int = 1, weight_bits=None, act_bits=None,
              group_size=None, tile=None, dataflow=None, mode: str = "default", order=None,
              objective=None):
    """One array GEMM (times `batch` independent GEMMs of the same shape)."""
    c = cost_model.estimate_gemm(hw, M, N, K, weight_bits=weight_bits, act_bits=act_bits,
                                 group_size=group_size, tile=tile, dataflow=dataflow, mode=mode,
                                 order=order, objective=objective)
    return c if batch == 1 else repeat(c, batch)


def vector_cost(hw, work: list[tuple[str, int]]):  # noqa: D103
    """Vector-unit work as (kind, elements) pairs; a kind the hardware file lacks is costed as
    the closest generic kind ('add'), so custom hardware files need not list every op."""
    parts = []
    for kind, elems in work:
        if kind not in hw.vector.ops:
            kind = "add" if "add" in hw.vector.ops else sorted(hw.vector.ops)[0]
        parts.append(cost_model.estimate_vector(hw, kind, int(elems)))
    return parts[0] if len(parts) == 1 else cost_model.combine(parts)


def combine_costs(costs: list, hw):
    if not costs:
        return None
    return cost_model.combine(costs)


def cost_dict(cost) -> dict | None:
    return None if cost is None else cost.to_dict()


# ---------------------------------------------------------------------------------------------
# reading the cost dicts


def _cycles(d: dict | None) -> dict[str, int]:
    c = (d or {}).get("cycles", {})
    return {k: c.get(k, 0) for k in ("compute", "fill_drain", "stall", "vector", "total")}


def _energy_total(d: dict | None) -> float:
    return float((d or {}).get("energy", {}).get("total_pj", 0.0))


def _energy_breakdown(d: dict | None) -> dict[str, float]:
    return dict((d or {}).get("energy", {}).get("by_category_pj", {}))


def _bound(d: dict | None) -> str | None:
    """'compute' or 'memory' for a GEMM: which side of the roofline it sits on."""
    if not d or "dram_cycles" not in d:
        return None
    return "memory" if d["dram_cycles"] > d["ideal_compute"] else "compute"


def result_to_dict(result) -> dict:
    """The --report JSON: totals, per-instruction rows, notes. Deterministic key order."""
    total = cost_dict(result.total)
    rows = []
    for r in result.records:
        d = cost_dict(r.cost)
        rows.append({
            "index": r.index, "op": r.op, "loc": r.loc, "unit": r.unit, "detail": r.detail,
            "cycles": _cycles(d), "energy_pj": _energy_total(d), "bound": _bound(d),
            "roofline_cycles": (d or {}).get("roofline_bound"), "counts": dict(r.counts),
            "fused_into": r.fused_into, "costed_in": r.costed_in, "cost": d,
        })
    hw = result.hw
    return {
        "program": result.program.function,
        "hardware": getattr(hw, "name", str(hw)),
        "provenance": provenance(hw),
        "mode": result.mode,
        "clock_mhz": getattr(hw, "clock_mhz", None),
        "functional": result.outputs is not None,
        "totals": {
            "cycles": _cycles(total),
            "energy_pj": _energy_breakdown(total),
            "utilisation": (total or {}).get("utilisation"),
            "roofline_cycles": _roofline(rows),
            "roofline_bound": _overall_bound(rows),
            "time_us": _time_us(_cycles(total)["total"], hw),
            "pe_counts": _sum_counts(result.records),
        },
        "instructions": rows,
        "notes": list(result.notes),
    }


def _roofline(rows) -> int:
    """Lower bound on cycles: per GEMM max(ideal compute, DRAM time), plus vector-only work."""
    return sum(r["roofline_cycles"] if r["roofline_cycles"] is not None else r["cycles"]["total"]
               for r in rows)


def _overall_bound(rows) -> str | None:
    """Which bound dominates the program's GEMM cycles, weighted by their roofline cycles."""
    weights = {"compute": 0, "memory": 0}
    for r in rows:
        if r["bound"]:
            weights[r["bound"]] += r["roofline_cycles"]
    if not any(weights.values()):
        return None
    return max(weights, key=lambda b: weights[b])


def _time_us(cycles: float, hw) -> float | None:
    mhz = getattr(hw, "clock_mhz", None)
    return None if not mhz else cycles / mhz


def _sum_counts(records) -> dict[str, int]:
    out: dict[str, int] = {}
    for r in records:
        for k, v in r.counts.items():
            out[k] = out.get(k, 0) + int(v)
    return dict(sorted(out.items()))


def _fmt_int(v) -> str:
    if v is None:
        return "-"
    if isinstance(v, float) and not v.is_integer():
        return f"{v:,.1f}"
    return f"{int(v):,}"


def _fmt_energy(pj: float) -> str:
    for unit, scale in (("mJ", 1e9), ("uJ", 1e6), ("nJ", 1e3)):
        if abs(pj) >= scale:
            return f"{pj / scale:.3f} {unit}"
    return f"{pj:.1f} pJ"


def format_summary(result) -> str:
    """Readable summary: totals, energy breakdown, per-instruction table, notes."""
    d = result_to_dict(result)
    t = d["totals"]
    c = t["cycles"]
    lines = [
        f"program {d['program']} on {d['hardware']} (mode {d['mode']}, "
        f"{'functional + cost' if d['functional'] else 'cost only'})",
        f"cycles  total {_fmt_int(c['total'])}  = compute {_fmt_int(c['compute'])}"
        f" + fill/drain {_fmt_int(c['fill_drain'])} + stall {_fmt_int(c['stall'])}"
        f" + vector {_fmt_int(c['vector'])}",
    ]
    if t["time_us"] is not None:
        lines.append(f"time    {t['time_us']:,.2f} us at {d['clock_mhz']:g} MHz")
    if t["utilisation"] is not None:
        lines.append(f"array utilisation {100 * float(t['utilisation']):.1f}%; roofline "
                     f"{_fmt_int(t['roofline_cycles'])} cycles"
                     + (f", {t['roofline_bound']}-bound" if t["roofline_bound"] else ""))
    e = t["energy_pj"]
    if e:
        parts = ", ".join(f"{k} {_fmt_energy(v)}" for k, v in e.items() if v)
        lines.append(f"energy  {_fmt_energy(_energy_total(cost_dict(result.total)))}"
                     + (f"  ({parts})" if parts else ""))
    if t["pe_counts"]:
        lines.append("PE ops  " + ", ".join(f"{k} {_fmt_int(v)}" for k, v in t["pe_counts"].items()))
    lines.append("")
    header = f"{'#':>3} {'op':<17} {'unit':<6} {'cycles':>14} {'energy':>12}  detail"
    lines.append(header)
    lines.append("-" * len(header))
    for r in d["instructions"]:
        fused = f" [computed in #{r['fused_into']}]" if r["fused_into"] is not None else ""
        if r["costed_in"] is not None:
            fused += f" [costed in #{r['costed_in']}]"
        if r["bound"]:
            fused += f" [{r['bound']}-bound]"
        loc = f" @ {r['loc']}" if r["loc"] else ""
        lines.append(
            f"{r['index']:>3} {r['op']:<17} {r['unit']:<6} {_fmt_int(r['cycles']['total']):>14} "
            f"{_fmt_energy(r['energy_pj']) if r['cost'] else '-':>12}  "
            f"{r['detail']}{fused}{loc}"
        )
    for n in d["notes"]:
        lines.append(f"note: {n}")
    return "\n".join(lines)


def gemm_summary(cost, hw, M: int, N: int, K: int, mode: str) -> str:
    """Readable summary of a single --gemm estimate."""
    d = cost.to_dict()
    c = _cycles(d)
    lines = [
        f"GEMM M={M} N={N} K={K} on {hw.name} ({hw.array.rows}x{hw.array.cols}, mode {mode})",
        f"cycles  total {_fmt_int(c['total'])}  = compute {_fmt_int(c['compute'])}"
        f" + fill/drain {_fmt_int(c['fill_drain'])} + stall {_fmt_int(c['stall'])}"
        f" + vector {_fmt_int(c['vector'])}",
    ]
    if getattr(hw, "clock_mhz", None):
        lines.append(f"time    {c['total'] / hw.clock_mhz:,.2f} us at {hw.clock_mhz:g} MHz")
    if d.get("utilisation") is not None:
        lines.append(f"array utilisation {100 * float(d['utilisation']):.1f}%; roofline "
                     f"{_fmt_int(d.get('roofline_bound'))} cycles ({_bound(d)}-bound)")
    if d.get("tile"):
        lines.append(f"tile    {'x'.join(map(str, d['tile']))} (order {d.get('order')}, "
                     f"dataflow {d.get('dataflow')}, {d.get('passes', 1)} pass(es))")
    if d.get("dram_compulsory_bits"):
        moved = d["counts"]["dram_read_bits"] + d["counts"]["dram_write_bits"]
        lines.append(f"DRAM    {moved / 8e6:,.3f} MB moved, {float(d['dram_traffic_ratio']):.2f}x the "
                     f"compulsory {d['dram_compulsory_bits'] / 8e6:,.3f} MB")
    e = _energy_breakdown(d)
    if e:
        lines.append(f"energy  {_fmt_energy(_energy_total(d))}  (" + ", ".join(
            f"{k} {_fmt_energy(v)}" for k, v in e.items() if v) + ")")
    return "\n".join(lines)


