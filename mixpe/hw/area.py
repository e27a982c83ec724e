"""Component figures behind the default presets' area and energy numbers, and the area table.

The presets hold the figures themselves (each with its source); this module recomputes the ones
derived from Horowitz, "Computing's Energy Problem (and what we can do about it)", ISSCC 2014
(45 nm, 0.9 V) so tests can check the presets against their stated arithmetic, and prints the
tables docs/hardware.md shows::

    python -m mixpe.hw.area            # derivations + every preset's area breakdown and PE count
"""

from __future__ import annotations

import math
import sys

from .hardware import Hardware, list_presets, load_hardware
from .precision import resolve_precision

# 28 nm first-order scaling of the 45 nm figures (mixpe/hw/presets/_base-28nm.toml header)
ENERGY_28NM = 28 / 45  # 0.6222
AREA_28NM = (28 / 45) ** 2  # 0.3872

# Horowitz ISSCC 2014, 45 nm: area in um^2 and energy in pJ per operation
H_AREA = {"add8": 36, "add32": 137, "mult8": 282, "mult32": 3495,
          "fadd16": 1360, "fmult16": 1640, "fadd32": 4184, "fmult32": 7700,
          # not Horowitz: a 4-bit integer subtract costed as half his 8-bit add (estimate)
          "sub4": 18}
H_ENERGY = {"add8": 0.03, "add16": 0.05, "add32": 0.1, "mult8": 0.2, "mult32": 3.1,
            "fadd16": 0.4, "fmult16": 1.1, "fadd32": 0.9, "fmult32": 3.7}
# Horowitz ISSCC 2014, 45 nm: SRAM read energy per 64-bit access by array size (bytes -> pJ)
H_SRAM_PJ_PER_64B = {8 * 1024: 10.0, 32 * 1024: 20.0, 1024 * 1024: 100.0}
# Horowitz ISSCC 2014: DRAM 640 pJ per 32-bit access (DDR3-era)
H_DRAM_PJ_PER_BIT = 640 / 32

# the components of each derived unit (45 nm area keys), see the presets' headers
UNITS = {
    "int8 MAC PE": ("mult8", "add32"),
    "fp16 MAC PE, fp32 accumulation": ("fmult16", "fadd32"),
    "fp16 MAC PE, fp16 accumulation": ("fmult16", "fadd16"),
    "fp32 FMA vector lane": ("fmult32", "fadd32"),
    "int4->int8 dequant lane": ("mult8", "add8"),
    # (q - z) is a 4-bit integer subtract, int4 -> fp16 a 16-entry lookup (not counted), then
    # one fp16 multiply by the scale
    "int4->fp16 dequant lane": ("fmult16", "sub4"),
}


def unit_area_um2(unit: str) -> float:
    """A unit's 28 nm area: the sum of its Horowitz 45 nm components x (28/45)^2."""
    return sum(H_AREA[c] for c in UNITS[unit]) * AREA_28NM


def sram_pj_per_bit(kib: float, *, node_28nm: bool = True) -> float:
    """Horowitz's SRAM access energy for an array of ``kib`` KiB, per bit: log-log interpolation
    between his 8 KB, 32 KB and 1 MB points (extrapolated beyond them), x 0.6222 at 28 nm."""
    size = kib * 1024
    pts = sorted(H_SRAM_PJ_PER_64B.items())
    (s0, e0), (s1, e1) = (pts[0], pts[1]) if size <= pts[1][0] else (pts[1], pts[2])
    t = math.log(size / s0) / math.log(s1 / s0)
    pj = math.exp(math.log(e0) + t * (math.log(e1) - math.log(e0))) / 64
    return pj * ENERGY_28NM if node_28nm else pj


def floor_cols(avail_um2: float, rows: int, pe_area_um2: float) -> int:
    """Columns of ``rows`` PEs that fit ``avail_um2``, exactly as the loader derives them
    (``mixpe/hw/hardware.py`` ``_derive_cols``: floor with a 1e-9 relative tolerance); 0 if none."""
    exact = avail_um2 / (rows * pe_area_um2)
    return math.floor(exact * (1 + 1e-9)) if exact > 0 else 0


def dequant_sizing(avail_um2: float, rows: int, pe_area_um2: float, lane_area_um2: float,
                   cap: int) -> tuple[int, int]:
    """(lanes, cols) of an in-loop dequantiser and the array it feeds, sharing ``avail_um2``
    (the budget less the vector unit): maximise the weights per cycle the pair can take in the
    array's widest mapping, ``min(rows x cols, lanes)`` (``cap``: the most weights per cycle that
    can arrive at all, the DRAM rate / weight bits for weights streamed once), then the PEs, then
    use the fewest lanes.  Columns are
    derived from the lanes exactly as the loader derives them (floor, same tolerance).
    This is sizing *for decode* (the nominal of ``assumptions.dequant_sizing``)."""
    best: tuple[tuple[int, int, int], int, int] | None = None
    for lanes in range(1, cap + 1):
        cols = floor_cols(avail_um2 - lanes * lane_area_um2, rows, pe_area_um2)
        if cols < 1:
            break
        key = (min(rows * cols, lanes), rows * cols, -lanes)
        if best is None or key > best[0]:
            best = (key, lanes, cols)
    if best is None:
        raise ValueError("no dequantiser and array fit the area")
    return best[1], best[2]


def prefill_dequant_sizing(avail_um2: float, rows: int, pe_area_um2: float,
                           lane_area_um2: float) -> tuple[int, int]:
    """(lanes, cols) of an in-loop dequantiser sized *for prefill* (the low side of
    ``assumptions.dequant_sizing``): an output-stationary array takes one weight per column per
    cycle, so ``cols`` lanes keep it fed; the columns are derived from what the lanes leave of
    ``avail_um2``.  The fewest lanes with ``lanes >= cols(lanes)`` (the loader's floor), i.e.
    the largest array whose columns the dequantiser keeps up with.  At decode the array's
    widest mapping (rows regrouped, ``mixpe/hw/dataflow/nfold.py``) takes up to rows x cols
    weights per cycle, and this dequantiser stalls it."""
    lanes = 1
    while True:
        cols = floor_cols(avail_um2 - lanes * lane_area_um2, rows, pe_area_um2)
        if cols < 1:
            raise ValueError("no dequantiser and array fit the area")
        if lanes >= cols:
            return lanes, cols
        lanes += 1


# ---- vector lanes the GEMMs need (the low side of assumptions.vector_unit) ----

def vector_lane_cycles_per_group(hw: Hardware) -> int:
    """Vector lane-cycles one (m, n, group) of ``hw``'s GEMMs costs on the vector unit, as
    ``mixpe.hw.tiling.vector_work`` charges them: the per-group epilogue ``Y += S * (P - Z * A)``
    is 2 fma, plus 1 cast (int32 -> fp32 of P) on int-activation PEs, each
    ``vector.ops.<kind>.cycles`` lane-cycles.  0 when the GEMMs do no vector work: unquantised or
    per-channel (``workload.group_size = 0``: int8, fp16, ant, olive) or in-loop dequantisation on
    a dequantiser of its own (``dequant.lanes``).  The epilogue's group sums (``M x K`` adds, ``g /
    (3 N)`` of the per-group work: 1% at N = 4096) are not counted.  In-loop dequantisation on the
    vector unit itself is not sized here (ValueError): size it as a dequantiser."""
    if not hw.defaults.group_size:
        return 0
    if hw.dequant.placement == "in_loop":
        if hw.dequant.lanes is not None:
            return 0
        raise ValueError(f"{hw.name}: in-loop dequantisation on the vector unit; give it a dequantiser "
                         "(dequant.lanes) and size that with dequant_sizing")
    ops = {"fma": 2} | ({"cast": 1} if hw.pe.act_format == "int" else {})
    return sum(n * hw.vector.ops[k].cycles for k, n in ops.items())


def vector_lanes_needed(hw: Hardware, cols: int | None = None) -> int:
    """The fewest vector lanes with which ``hw``'s GEMM epilogue never stalls the array at full
    rate, with ``cols`` columns (default: the file's)::

        (m, n, group) finished per cycle = rows x cols x pf_w x pf_a / (passes x group_size)
        lanes = ceil(lane-cycles per (m, n, group) x that)      (at least 1)

    (``pf_w x pf_a``: BitFusion packing; ``passes``: bit-serial passes, both of the preset's
    workload).  1 for designs whose GEMMs do no vector work (``vector_lane_cycles_per_group``)."""
    per_group = vector_lane_cycles_per_group(hw)
    if not per_group:
        return 1
    prec = resolve_precision(hw, None, None)
    cols = hw.array.cols if cols is None else cols
    num = per_group * hw.array.rows * cols * prec.pf_w * prec.pf_a
    den = prec.passes * hw.defaults.group_size
    return max(1, -(-num // den))


def vector_sizing(hw: Hardware) -> tuple[int, int]:
    """(lanes, cols): a vector unit of only the lanes ``hw``'s GEMMs need, and the array the
    rest of the iso-area budget buys.  The PE count depends on the lanes (every lane is area
    the PEs do not get), so this is a fixed point: the fewest lanes ``L`` such that
    ``vector_lanes_needed(hw, cols(L)) <= L``, where ``cols(L)`` is the loader's derivation
    ``floor((budget - L x lane area - dequantiser) / (rows x PE area))``.  ``cols(L)`` falls and
    the lanes needed with it, so the first such ``L`` gives the largest array the epilogue keeps
    up with; one more column would need more lanes than the area leaves.  That last guarantee,
    and a solution whenever one column and the lanes it needs fit, hold when a column of PEs is
    at least a lane's area (lanes then trade for columns one for at most one); with smaller
    columns the loader's floor can skip a (lanes, cols) pair.  The dequantiser (if any) is kept
    as the file gives it."""
    budget, lane_area, pe_area = hw.area_budget_um2, hw.vector.lane_area_um2, hw.pe.area_um2
    if budget is None or lane_area is None or pe_area is None:
        raise ValueError(f"{hw.name}: vector_sizing needs area.budget_um2, vector.lane_area_um2 and pe.area_um2")
    avail = budget - (hw.area["dequant"] or 0.0)
    lanes = 1
    while True:
        cols = floor_cols(avail - lanes * lane_area, hw.array.rows, pe_area)
        if cols < 1:
            raise ValueError(f"{hw.name}: no vector unit and array fit the area (no lane count L whose "
                             "derived columns need at most L lanes)")
        if vector_lanes_needed(hw, cols) <= lanes:
            return lanes, cols
        lanes += 1


def vector_sizing_note(hw: Hardware) -> str:
    """``vector_sizing``'s arithmetic for ``hw``, as written into the presets' sources."""
    lanes, cols = vector_sizing(hw)
    rows, lane_area, pe_area = hw.array.rows, hw.vector.lane_area_um2, hw.pe.area_um2
    assert lane_area is not None and pe_area is not None and hw.area_budget_um2 is not None
    deq = hw.area["dequant"] or 0.0
    dq = f" - dequant {hw.dequant.lanes} x {hw.dequant.lane_area_um2:,.2f}" if deq else ""
    derive = (f"cols = floor(({hw.area_budget_um2:,.2f} - {lanes} x {lane_area:,.2f}{dq}) / ({rows} x "
              f"{pe_area:,.2f})) = {cols}")
    per_group = vector_lane_cycles_per_group(hw)
    if not per_group:
        why = ("the GEMMs do no vector work (per-channel / unquantised)" if not hw.defaults.group_size
               else "the GEMMs' dequantisation runs on the dequantiser")
        return f"{why}: 1 lane (the schema's minimum); {derive}"
    prec = resolve_precision(hw, None, None)
    pack = prec.pf_w * prec.pf_a
    what = "2 fma + 1 cast" if hw.pe.act_format == "int" else "2 fma"
    rate = per_group * rows * cols * pack / (prec.passes * hw.defaults.group_size)
    more = vector_lanes_needed(hw, cols + 1)
    left = math.floor((hw.area_budget_um2 - deq - rows * (cols + 1) * pe_area) / lane_area * (1 + 1e-9))
    return (f"per-group epilogue {what} = {per_group} lane-cycles per (m, n, group); at full rate "
            f"{rows} x {cols} PEs x packing {pack} / (g {hw.defaults.group_size}"
            + (f" x {prec.passes} passes" if prec.passes > 1 else "")
            + f") = {rate / per_group:g} (m, n, group) per cycle -> ceil({rate:g}) = {lanes} lanes; "
            f"{derive}; {cols + 1} cols would need {more} lanes, the area leaves {max(left, 0)}")


def _fmt(x: float | None, nd: int = 0) -> str:
    return "-" if x is None else f"{x:,.{nd}f}"


def area_row(label: str, hw: Hardware) -> str:
    a = hw.area
    dq = f"{hw.dequant.lanes} x {hw.dequant.lane_area_um2:,.2f}" if hw.dequant.lanes else "-"
    share = "-" if a["total"] is None or not a["budget"] else f"{a['total'] / a['budget']:.4f}"
    return (f"| {label} | {hw.array.rows}x{hw.array.cols} | {hw.num_pes} | {_fmt(hw.pe.area_um2, 2)} | "
            f"{_fmt(a['pe_array'])} | {_fmt(a['vector'])} | {dq} | {_fmt(a['dequant'])} | "
            f"{_fmt(a['total'])} | {_fmt(a['budget'])} | {share} |")


AREA_HEADER = ("| preset | array | PEs | PE um^2 | PE array | vector | dequant lanes | dequant | total | "
               "budget | total/budget |\n|---|---|---|---|---|---|---|---|---|---|---|")


def main(argv: list[str] | None = None) -> int:
    del argv
    print("Derived units (Horowitz ISSCC 2014, 45 nm areas x (28/45)^2):\n")
    print("| unit | components (45 nm um^2) | 28 nm um^2 |\n|---|---|---|")
    for unit, parts in UNITS.items():
        comp = " + ".join(f"{p} {H_AREA[p]}" for p in parts)
        print(f"| {unit} | {comp} = {sum(H_AREA[p] for p in parts)} | {unit_area_um2(unit):,.2f} |")
    print("\nSRAM energy, Horowitz 8 KB / 32 KB / 1 MB = 10 / 20 / 100 pJ per 64 bit, log-log interpolated:\n")
    print("| buffer size | 45 nm pJ/bit | 28 nm pJ/bit (x 0.6222) |\n|---|---|---|")
    for kib in (128, 256):
        print(f"| {kib} KiB | {sram_pj_per_bit(kib, node_28nm=False):.4f} | {sram_pj_per_bit(kib):.4f} |")
    print("\nArea breakdown (um^2; `hw.area`), nominal figures:\n")
    print(AREA_HEADER)
    from .ranges import SIDES, assumptions, load_variant

    variants = []
    for name in list_presets():
        hw = load_hardware(name)
        if hw.area["total"] is None:
            continue
        print(area_row(f"`{name}`", hw))
        for a in assumptions(name):
            for side in SIDES:
                v = load_variant(name, a.name, side)
                if dict(v.area) != dict(hw.area):
                    variants.append(area_row(f"`{name}` {a.name} {side}", v))
    print("\nVector lanes the GEMMs need (`vector_lanes_needed` at the nominal array; `vector_sizing`: "
          "the fewest lanes at the largest array they keep up with, the low side of `vector_unit`, where an "
          "in-loop dequantiser is re-sized too):\n")
    print("| preset | lane-cycles per (m, n, group) | nominal array | lanes needed there | vector_unit low: lanes | "
          "array | PEs |\n|---|---|---|---|---|---|---|")
    for name in list_presets():
        hw = load_hardware(name)
        if hw.area["total"] is None:
            continue
        low = load_variant(name, "vector_unit", "low")
        print(f"| `{name}` | {vector_lane_cycles_per_group(hw)} | {hw.array.rows}x{hw.array.cols} | "
              f"{vector_lanes_needed(hw)} | {low.vector.lanes} | {low.array.rows}x{low.array.cols} | {low.num_pes} |")
    if variants:
        print("\nVariants whose area changes (`mixpe.hw.ranges.load_variant`):\n")
        print(AREA_HEADER)
        print("\n".join(variants))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
